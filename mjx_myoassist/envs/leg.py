"""MyoAssist leg imitation envs (human only and with exo), pure JAX over a physics backend.

Observation (MyoAssist order): qpos[observation_joint_pos_keys],
qvel[observation_joint_vel_keys], muscle activations (actuator order), foot forces of
observation_joint_sensor_keys divided by body weight, target velocity.
Action in [-1, 1] per actuator -> ctrl = mid + a * half-range.
"""

from __future__ import annotations

import difflib
import warnings
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import mujoco
import numpy as np

from mjx_myoassist.config import (
    MYOASSIST_DEFAULT_REFERENCE,
    ConfigError,
    ImitationTrainSessionConfig,
    RewardWeights,
    find_path,
    model_search_dirs,
    resolve_path,
)
from mjx_myoassist.envs import rewards, terrain, velocity
from mjx_myoassist.envs.base import Env, State, action_to_ctrl
from mjx_myoassist.envs.physics import MjxBackend, PhysicsView
from mjx_myoassist.envs.reference import (
    SEGMENT_SAMPLES,
    ReferenceGait,
    load_reference,
    resample,
    select,
    tile_cycles,
)
from mjx_myoassist.envs.reference import ReferenceError as ReferenceFileError
from mjx_myoassist.models import EMBEDDED_DIFFERENCES, load_spec, model_id_from_path
from mjx_myoassist.models.edits import FLOOR_NAME, set_via_point_armature, via_point_joints
from mjx_myoassist.models.myoassist import (
    MYOASSIST_MODEL_IDS,
    is_myoassist_model_path,
    model_file_for_id,
    myoassist_spec,
)

PELVIS_BODY = "pelvis"
FOOT_SENSORS = (("r_foot", "r_toes"), ("l_foot", "l_toes"))  # MyoAssist's foot force: foot + toes, per side
SINGLE_CYCLE_TILES = 10
MYOASSIST_CONSTRUCTOR_STEPS = 32  # zero-action control steps MyoAssist's env runs when it is built
END_EFFECTOR_DIFF = np.zeros(1)  # MyoAssist's end-effector comparison is a constant [0]
GRAVITY = 9.81
DEFAULT_REFERENCE_SPEED = 1.25  # m/s, for references without pelvis_tx
MIN_REFERENCE_SPEED = 0.01  # m/s
TRUNK_BODIES = ("lumbar5", "torso")  # the embedded model's first lumbar body (its trunk chain); MyoAssist's rigid torso
REWARD_TERMS = (
    "qpos_imitation_rewards",
    "qvel_imitation_rewards",
    "end_effector_imitation_reward",
    "forward_reward",
    "muscle_activation_penalty",
    "muscle_activation_diff_penalty",
    "footstep_delta_time",
    "average_velocity_per_step",
    "muscle_activation_penalty_per_step",
    "joint_constraint_force_penalty",
    "foot_force_penalty",
)
DEFAULT_MODEL_BY_ENV = {
    "myoAssistLegImitation-v0": "myolegs22_baseline",
    "myoAssistLegImitationExo-v0": "myolegs22_tutorial",
}


def trunk_quaternion(angle: float) -> np.ndarray:
    """MyoAssist's trunk lean: the quaternion [1, 0, 0, angle] normalised (2 atan(angle) about the lateral axis).

    MyoAssist sets the torso body quaternion to [1, 0, 0, lumbar_joint_fixed_angle] on models
    without a lumbar joint, so -0.13 leans the trunk 14.8 degrees forward about the torso origin.
    """
    quat = np.array([1.0, 0.0, 0.0, angle])
    return quat / np.linalg.norm(quat)


def set_trunk_angle(spec: mujoco.MjSpec, angle: float, trunk_body: str) -> None:
    """Welds the trunk leaned as MyoAssist's ``lumbar_joint_fixed_angle`` does (:func:`trunk_quaternion`).

    ``trunk_body`` is MyoAssist's ``torso``, or the first lumbar body of the embedded
    composition (whose trunk chain hangs from the sacrum; z is its lateral axis too).
    """
    body = spec.body(trunk_body)
    out = np.zeros(4)
    mujoco.mju_mulQuat(out, np.asarray(body.quat, dtype=float), trunk_quaternion(angle))
    body.quat = out


def _named(model: mujoco.MjModel, names: list[str], what: str) -> list[int]:
    """Joint ids by name; unknown names are a ConfigError with a suggestion."""
    all_names = [model.joint(i).name for i in range(model.njnt)]
    out = []
    for name in names:
        if name not in all_names:
            close = difflib.get_close_matches(name, all_names, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"{what}: joint '{name}' is not in the model.{hint}")
        out.append(all_names.index(name))
    return out


class LegImitationEnv(Env):
    """Reference-gait imitation on the 22-muscle leg, with or without the exo."""

    def __init__(self, config: ImitationTrainSessionConfig, backend_factory=MjxBackend, base_dir=None):
        p = config.env_params
        self.config = config
        self.params = p
        self.model_file, self.model_id = self._model_source(p, base_dir)
        self.curriculum_steps = p.terrain_curriculum_steps
        model = self._build_model(p)
        self.model = model
        self._dt = 1.0 / p.control_framerate
        if not p.mjx_ready_edits and issubclass(getattr(backend_factory, "func", backend_factory), MjxBackend):
            raise ConfigError(
                "env_params.mjx_ready_edits is false (MyoAssist's original mesh contacts), which MJX cannot run: "
                "set env_params.physics_backend to 'cpu', or mjx_ready_edits to true."
            )
        self._warn_float32_via_points(model, backend_factory)
        self.backend = backend_factory(model, config.substeps, (PELVIS_BODY,))

        jnt_qpos = lambda ids: np.asarray(model.jnt_qposadr[ids], dtype=np.int32)  # noqa: E731
        jnt_dof = lambda ids: np.asarray(model.jnt_dofadr[ids], dtype=np.int32)  # noqa: E731
        self.obs_qpos = jnt_qpos(_named(model, p.observation_joint_pos_keys, "observation_joint_pos_keys"))
        self.obs_qvel = jnt_dof(_named(model, p.observation_joint_vel_keys, "observation_joint_vel_keys"))
        muscles = np.nonzero(model.actuator_dyntype == mujoco.mjtDyn.mjDYN_MUSCLE)[0]
        self.muscle_act = np.asarray(model.actuator_actadr[muscles], dtype=np.int32)
        self.obs_sensors = self._sensor_index(p.observation_joint_sensor_keys)
        self.foot_sensors = np.stack([self._sensor_index(list(pair)) for pair in FOOT_SENSORS])
        self.ctrl_range = jnp.asarray(model.actuator_ctrlrange, dtype=jnp.float32)
        self.action_size = model.nu
        self.body_weight = float(model.body_subtreemass[0] * GRAVITY)
        self.default_qpos, self.default_qvel = np.array(model.key_qpos[0]), np.array(model.key_qvel[0])
        # MyoAssist builds its env with zero-action steps, so the first episode's previous activations are
        # the zero-action muscle excitations they settle at
        self.zero_action_act = np.asarray(action_to_ctrl(jnp.zeros(model.nu), self.ctrl_range))[muscles]
        self.pelvis_tx_dof = int(model.jnt_dofadr[model.joint("pelvis_tx").id])
        self.pelvis_tx_qpos = int(model.jnt_qposadr[model.joint("pelvis_tx").id])
        self.pelvis_ty_qpos = int(model.jnt_qposadr[model.joint("pelvis_ty").id])
        self._setup_reference(config, base_dir)
        self._setup_weights(p.reward_keys_and_weights)

    # ------------------------------------------------------------------ setup

    @staticmethod
    def _model_source(p, base_dir) -> tuple[Path | None, str]:
        """(MyoAssist XML file or None for an embedded model, model id), by the rule of :mod:`models.myoassist`."""
        if p.model_id in MYOASSIST_MODEL_IDS:
            return model_file_for_id(p.model_id, p.myoassist_root or None), p.model_id
        if p.model_id:
            return None, p.model_id
        if not p.model_path:
            return None, DEFAULT_MODEL_BY_ENV[p.env_id]
        folders = model_search_dirs(p, [base_dir] if base_dir else [])
        found = find_path(p.model_path, folders) if is_myoassist_model_path(p.model_path) else None
        if found is not None and found.is_file():
            return found, found.stem.lower()
        model_id = model_id_from_path(p.model_path)
        if is_myoassist_model_path(p.model_path):
            looked = [str(f) for f in [*folders, Path.cwd()]]
            warnings.warn(
                f"model_path '{p.model_path}' is not under {looked}: running the embedded "
                f"assist-sim model '{model_id}' ({EMBEDDED_DIFFERENCES}); give --myoassist-root for MyoAssist's own.",
                stacklevel=3,
            )
        return None, model_id

    def _model_spec(self, p) -> mujoco.MjSpec:
        timestep = 1.0 / p.physics_sim_framerate
        if self.model_file is not None:
            spec = myoassist_spec(self.model_file, timestep, mjx_ready=p.mjx_ready_edits)
        elif not p.mjx_ready_edits:
            raise ConfigError(
                "env_params.mjx_ready_edits false needs MyoAssist's own model file (the embedded model has no "
                "original contacts to keep): give model_path and --myoassist-root, or set it to true."
            )
        else:
            spec = load_spec(self.model_id)
            spec.option.timestep = timestep
        if p.solver_iterations:
            spec.option.iterations = p.solver_iterations
        if p.solver_ls_iterations:
            spec.option.ls_iterations = p.solver_ls_iterations
        if p.integrator:
            spec.option.integrator = getattr(mujoco.mjtIntegrator, f"mjINT_{p.integrator.upper()}")
        return spec

    def _warn_float32_via_points(self, model: mujoco.MjModel, backend_factory) -> None:
        """MyoAssist's 1 g via points lose their dynamics in float32 MJX (docs/models.md, Precision)."""
        on_mjx_jax = getattr(backend_factory, "func", backend_factory) is MjxBackend
        float32 = not jax.config.jax_enable_x64
        measured = self.model_file is not None  # MyoAssist's own model file (the embedded one was not measured)
        if not (measured and on_mjx_jax and float32 and not self.params.via_point_armature):
            return
        joints = via_point_joints(model)
        if joints:
            warnings.warn(
                f"{len(joints)} via-point bodies of 1 g in this MyoAssist model lose their dynamics "
                "in float32 MJX (its published policy falls there): set env_params.via_point_armature 0.01, or "
                "physics_precision float64, or physics_backend warp (docs/models.md, Precision).",
                stacklevel=3,
            )

    def _build_model(self, p) -> mujoco.MjModel:
        """The model with this config's trunk angle and, unless flat, the terrain strip."""
        self.terrain = p.terrain_type not in terrain.FLAT_TYPES
        if p.enable_lumbar_joint:
            raise ConfigError(
                f"env_params.enable_lumbar_joint is true but model '{self.model_id}' has no lumbar joint "
                "(MyoAssist's 22-muscle leg and the embedded leg weld the trunk to the pelvis). Set it to false; "
                "lumbar_joint_fixed_angle sets the trunk angle."
            )
        spec = self._model_spec(p)
        trunk = next(b for b in TRUNK_BODIES if spec.body(b) is not None)
        set_trunk_angle(spec, p.lumbar_joint_fixed_angle, trunk)
        if not self.terrain:
            terrain.parse_params(p.terrain_type, p.terrain_params)  # numbers, as MyoAssist requires (ConfigError)
        else:
            if not p.mjx_ready_edits:
                raise ConfigError("terrain_type other than 'flat' or 'dev' needs env_params.mjx_ready_edits true.")
            heights = terrain.strip(p.terrain_type, p.terrain_params, self.curriculum_steps > 0, p.seed)
            floor = next(g for g in spec.geoms if g.name == FLOOR_NAME)
            floor.pos = [0, 0, terrain.floor_height(heights)]  # under the strip; catches walkers beyond its ends
            terrain.add_height_field(spec, heights)
        model = spec.compile()
        if p.via_point_armature:
            set_via_point_armature(model, p.via_point_armature)
        return model

    def _sensor_index(self, keys: list[str]) -> np.ndarray:
        names = self.backend.touch_names
        for k in keys:
            if k not in names:
                raise ConfigError(f"observation_joint_sensor_keys: '{k}' is not a foot sensor; available: {names}.")
        return np.array([names.index(k) for k in keys], dtype=np.int32)

    def _setup_reference(self, config: ImitationTrainSessionConfig, base_dir) -> None:
        p = config.env_params
        key = "env_params.reference_data_path"
        path = (
            None
            if p.reference_data_path in ("", MYOASSIST_DEFAULT_REFERENCE)
            else resolve_path(p.reference_data_path, [base_dir] if base_dir else [], key)
        )
        standing = float(self.default_qpos[self.model.jnt_qposadr[self.model.joint("pelvis_ty").id]])
        try:
            ref = load_reference(path, standing)
        except ReferenceFileError as err:
            raise ConfigError(f"{key}: {err}") from err
        if ref.length == SEGMENT_SAMPLES:
            ref = tile_cycles(ref, SINGLE_CYCLE_TILES)
        keys = p.reference_data_keys or [j for j in ref.joints if j in self._joint_names()]
        try:
            ref = select(resample(ref, p.control_framerate), keys)
        except ReferenceFileError as err:
            raise ConfigError(f"env_params.reference_data_keys: {err}") from err
        self.reference: ReferenceGait = ref
        ids = _named(self.model, list(ref.joints), "reference_data_keys")
        self.ref_qpos_adr = np.asarray(self.model.jnt_qposadr[ids], dtype=np.int32)
        self.ref_dof_adr = np.asarray(self.model.jnt_dofadr[ids], dtype=np.int32)
        self.ref_q = jnp.asarray(ref.q, dtype=jnp.float32)
        self.ref_dq = jnp.asarray(ref.dq, dtype=jnp.float32)
        self.ref_speed = jnp.asarray(self._reference_speed(ref), dtype=jnp.float32)

    @staticmethod
    def _reference_speed(ref: ReferenceGait) -> np.ndarray:
        """Per-sample forward speed of the reference (dq_pelvis_tx), which MyoAssist scales velocities by.

        Samples slower than 1 cm/s are raised to it, so a reference that stops never divides by zero.
        """
        if "pelvis_tx" not in ref.joints:
            return np.full(ref.length, DEFAULT_REFERENCE_SPEED)
        speed = ref.dq[:, ref.joints.index("pelvis_tx")]
        return np.where(np.abs(speed) < MIN_REFERENCE_SPEED, MIN_REFERENCE_SPEED, speed)

    def _joint_names(self) -> list[str]:
        return [self.model.joint(i).name for i in range(self.model.njnt)]

    def _per_joint_weights(self, weights: RewardWeights, term: str) -> tuple[np.ndarray, jax.Array]:
        """(reference columns, weights) of a per-joint imitation term."""
        table: dict[str, float] = getattr(weights, term)
        missing = [j for j in table if j not in self.reference.joints]
        if missing:
            raise ConfigError(
                f"reward_keys_and_weights.{term}: joints {missing} are not in reference_data_keys "
                f"{list(self.reference.joints)}; add them there or remove them here."
            )
        cols = np.array([self.reference.joints.index(j) for j in table], dtype=np.int32)
        return cols, jnp.asarray(list(table.values()), dtype=jnp.float32)

    def _setup_weights(self, weights: RewardWeights) -> None:
        """Weight of each term in the reward; a per-joint term's is the sum of its joint weights, as in MyoAssist."""
        table = {k: getattr(weights, k) for k in REWARD_TERMS}
        self.weights = {k: float(sum(v.values())) if isinstance(v, dict) else float(v) for k, v in table.items()}
        self.qpos_cols, self.qpos_w = self._per_joint_weights(weights, "qpos_imitation_rewards")
        self.qvel_cols, self.qvel_w = self._per_joint_weights(weights, "qvel_imitation_rewards")
        self.imitation_qpos_adr = self.ref_qpos_adr[self.qpos_cols]
        self.imitation_dof_adr = self.ref_dof_adr[self.qvel_cols]

    # ------------------------------------------------------------------ API

    @property
    def dt(self) -> float:
        return self._dt

    @property
    def reference_length(self) -> int:
        return self.reference.length

    def reset(self, rng: jax.Array, terrain_level: jax.Array | float | None = None) -> State:
        """A new episode; ``terrain_level`` in [0, 1] limits how rough a segment it may start on.

        Joints outside the reference start at the model's key 0, as in MyoAssist's first episode.
        """
        if terrain_level is None:
            terrain_level = 0.0 if self.curriculum_steps else 1.0
        return self._new_episode(rng, jnp.asarray(terrain_level, jnp.float32), self._first_episode_carry())

    def reset_like(self, state: State, rng: jax.Array) -> State:
        """Auto-reset as MyoAssist's reset: the next episode continues from the finished one's last state.

        Reference joints restart from the reference; the other joints (MTP, arms, knee
        translations, ...) keep their positions and velocities; activations restart at zero.
        The activation-change term compares with the last activations, and heel strikes pay
        only once the new episode outlasts the finished one (:func:`rewards.track_steps`).
        The terrain level carries over.
        """
        view = self.backend.view(state.data)
        first = self._first_episode_carry()
        carried = {
            "qpos": view.qpos,
            "qvel": view.qvel,
            "prev_act": view.act[self.muscle_act],
            "strike_step": state.info["step"],
        }
        finite = self.backend.is_finite(state.data)  # a broken state is not carried: key 0 instead
        carry = {k: jnp.where(finite, carried[k], first[k]).astype(first[k].dtype) for k in first}
        return self._new_episode(rng, state.info["terrain_level"], carry)

    def _first_episode_carry(self) -> dict[str, jax.Array]:
        """What the first episode inherits in MyoAssist: key 0, the built env's activations and step count."""
        return {
            "qpos": jnp.asarray(self.default_qpos, jnp.float32),
            "qvel": jnp.asarray(self.default_qvel, jnp.float32),
            "prev_act": jnp.asarray(self.zero_action_act, jnp.float32),
            "strike_step": jnp.int32(MYOASSIST_CONSTRUCTOR_STEPS),
        }

    def _new_episode(self, rng: jax.Array, level: jax.Array, carry: dict[str, jax.Array]) -> State:
        """MyoAssist's reset: reference index in [0, 0.8 L), reference joints at that sample, pelvis_tx 0."""
        p = self.params
        k_ref, k_sched, k_next = jax.random.split(rng, 3)
        length = self.reference_length
        start = jax.random.randint(k_ref, (), 0, max(1, int(0.8 * length))) if p.flag_random_ref_index else 0
        start = jnp.asarray(start, dtype=jnp.int32)
        schedule = velocity.draw_schedule(
            k_sched,
            p.velocity_mode,
            p.min_target_velocity,
            p.max_target_velocity,
            p.min_target_velocity_period,
            p.max_target_velocity_period,
        )
        v = velocity.target_velocity(jnp.float32(0.0), schedule, self.dt)
        qpos = carry["qpos"].at[self.ref_qpos_adr].set(self.ref_q[start])
        qvel = carry["qvel"].at[self.ref_dof_adr].set(self.ref_dq[start] * v / self.ref_speed[start])
        start_x = self._start_x(jax.random.fold_in(k_ref, 1), level) if self.terrain else 0.0
        qpos = qpos.at[self.pelvis_tx_qpos].set(start_x)  # MyoAssist starts every episode at x = 0
        data = self._grounded(qpos, qvel) if self.model_file is None else self._at_pose(qpos, qvel)
        view = self.backend.view(data)
        info = {
            "rng": k_next,
            "step": jnp.int32(0),
            "ref_start": start,
            "target_velocity": v,
            "schedule": schedule,
            "prev_act": carry["prev_act"],
            "steps": rewards.step_tracker(carry["strike_step"]),
            "terrain_level": level,
        }
        zero = jnp.float32(0.0)
        metrics = {f"reward/{k}": zero for k in REWARD_TERMS}
        metrics.update(
            numerical_fault=zero,
            fell=zero,
            off_trajectory=zero,
            reference_end=zero,
            pelvis_height=view.qpos[self.pelvis_ty_qpos],
            speed=zero,
            target_velocity=v,
        )
        return State(data, self._obs(view, v), zero, jnp.bool_(False), jnp.bool_(False), metrics, info)

    @staticmethod
    def _start_x(rng: jax.Array, level: jax.Array) -> jax.Array:
        """Pelvis x at MyoAssist's start of a segment drawn among the first 1 + level * (SEGMENTS - 1)."""
        highest = jnp.floor(jnp.clip(level, 0.0, 1.0) * (terrain.SEGMENTS - 1)).astype(jnp.int32)
        segment = jax.random.randint(rng, (), 0, highest + 1)
        return terrain.segment_start(segment)

    def with_training_progress(self, state: State, env_steps: jax.Array) -> State:
        """Raises the terrain level with training (curriculum over ``terrain_curriculum_steps``)."""
        if not self.curriculum_steps:
            return state
        level = jnp.clip(env_steps.astype(jnp.float32) / self.curriculum_steps, 0.0, 1.0)
        info = {**state.info, "terrain_level": jnp.full_like(state.info["terrain_level"], level)}
        return state.replace(info=info)

    def _at_pose(self, qpos: jax.Array, qvel: jax.Array):
        """Physics state at the reference pose as MyoAssist starts it (activations zero)."""
        return self.backend.init(qpos, qvel, jnp.zeros(self.model.na))

    def _grounded(self, qpos: jax.Array, qvel: jax.Array):
        """The embedded model's start: pelvis height shifted so the lowest foot touches the floor.

        A reference recorded on MyoAssist's body does not match the embedded model's leg
        lengths; starting with a foot inside the floor would eject it on the first step.
        MyoAssist's own models start at the reference pose unchanged (:meth:`_at_pose`).
        """
        clearance = self.backend.view(self._at_pose(qpos, qvel)).contact_clearance
        return self._at_pose(qpos.at[self.pelvis_ty_qpos].add(-clearance), qvel)

    def _obs(self, view: PhysicsView, v: jax.Array) -> jax.Array:
        return jnp.concatenate(
            [
                view.qpos[self.obs_qpos],
                view.qvel[self.obs_qvel],
                view.act[self.muscle_act],
                view.foot_forces[self.obs_sensors] / self.body_weight,
                jnp.reshape(v, (1,)),
            ]
        ).astype(jnp.float32)

    def step(self, state: State, action: jax.Array) -> State:
        """One control step as MyoAssist's: the reference index advances, then physics, reward and ends.

        Past the reference's last sample the step is MyoAssist's final one: reward 0, truncated,
        no off-trajectory check.  ``reward/<term>`` metrics are MyoAssist's ``rwd_dict`` terms
        (dt and sign included, before the config weight), computed on that final step too.
        """
        p, info = self.params, state.info
        data = self.backend.step(state.data, action_to_ctrl(action, self.ctrl_range))
        finite = self.backend.is_finite(data)
        view = jax.tree.map(lambda x: jnp.nan_to_num(x, posinf=0.0, neginf=0.0), self.backend.view(data))
        step = info["step"] + 1
        past_end = info["ref_start"] + step >= self.reference_length
        idx = jnp.minimum(info["ref_start"] + step, self.reference_length - 1)
        v = velocity.target_velocity(info["step"] * self.dt, info["schedule"], self.dt)
        terms, tracker = self._reward_terms(view, info, idx, v, step)
        reward = sum(self.weights[k] * value for k, value in terms.items())
        reward = jnp.where(finite & ~past_end, reward, 0.0)

        q_err = jnp.abs(view.qpos[self.imitation_qpos_adr] - self.ref_q[idx, self.qpos_cols])
        fell = view.qpos[self.pelvis_ty_qpos] < p.safe_height
        off_track = (q_err > p.out_of_trajectory_threshold).any() & ~past_end
        terminated = ~finite | fell | off_track
        truncated = ((step >= p.custom_max_episode_steps) | past_end) & ~terminated

        metrics = {f"reward/{k}": jnp.where(finite, value, 0.0) for k, value in terms.items()}
        metrics.update(
            numerical_fault=(~finite).astype(jnp.float32),
            fell=fell.astype(jnp.float32),
            off_trajectory=off_track.astype(jnp.float32),
            reference_end=past_end.astype(jnp.float32),
            pelvis_height=view.qpos[self.pelvis_ty_qpos],
            speed=view.qvel[self.pelvis_tx_dof],
            target_velocity=v,
        )
        info = {**info, "step": step, "target_velocity": v, "prev_act": view.act[self.muscle_act], "steps": tracker}
        obs = jnp.where(finite, self._obs(view, v), 0.0)
        return state.replace(
            data=data, obs=obs, reward=reward, terminated=terminated, truncated=truncated, metrics=metrics, info=info
        )

    def foot_forces(self, view: PhysicsView) -> jax.Array:
        """[right, left] foot force (N): MyoAssist's foot + toes touch sensors of each side."""
        return jnp.sum(view.foot_forces[self.foot_sensors], axis=1)

    def _reward_terms(self, view: PhysicsView, info: dict[str, Any], idx, v, step) -> tuple[dict, dict]:
        """MyoAssist's terms at reference index ``idx`` and target ``v``, and the heel-strike tracker after the step."""
        dt = self.dt
        act = view.act[self.muscle_act]
        vx = view.qvel[self.pelvis_tx_dof]
        feet = self.foot_forces(view)
        tracker = rewards.track_steps(info["steps"], feet, vx, v, act, step, dt)
        terms = {
            "qpos_imitation_rewards": rewards.qpos_imitation_rewards(
                view.qpos[self.imitation_qpos_adr], self.ref_q[idx, self.qpos_cols], self.qpos_w, dt
            ),
            "qvel_imitation_rewards": rewards.qvel_imitation_rewards(
                view.qvel[self.imitation_dof_adr],
                self.ref_dq[idx, self.qvel_cols],
                v / self.ref_speed[idx],
                self.qvel_w,
                dt,
            ),
            "end_effector_imitation_reward": rewards.end_effector_imitation_reward(END_EFFECTOR_DIFF, dt),
            "forward_reward": rewards.forward_reward(vx, v, dt),
            "muscle_activation_penalty": rewards.muscle_activation_penalty(act, dt),
            "muscle_activation_diff_penalty": rewards.muscle_activation_diff_penalty(act, info["prev_act"], dt),
            "joint_constraint_force_penalty": rewards.joint_constraint_force_penalty(
                view.joint_limit_forces, self.body_weight, dt
            ),
            "foot_force_penalty": rewards.foot_force_penalty(feet, self.body_weight, dt),
            **{k: tracker[k] for k in rewards.STEP_TERMS},
        }
        return terms, tracker
