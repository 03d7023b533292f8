"""MyoAssist leg imitation envs (human only and with exo), pure JAX over a physics backend.

Observation (MyoAssist order): qpos[observation_joint_pos_keys],
qvel[observation_joint_vel_keys], muscle activations (actuator order), foot forces of
observation_joint_sensor_keys divided by body weight, target velocity.
Action in [-1, 1] per actuator -> ctrl = mid + a * half-range.
The model comes from :mod:`mjx_myoassist.models.leg`, the reference gait from
:func:`.reference.env_reference`, the reward terms from :mod:`.rewards`.
"""

from __future__ import annotations

import difflib
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import mujoco
import numpy as np

import mjx_myoassist.envs.rewards as rewards
import mjx_myoassist.envs.terrain as terrain
import mjx_myoassist.envs.velocity as velocity
from mjx_myoassist.config import ConfigError, ImitationTrainSessionConfig, RewardWeights
from mjx_myoassist.envs.backends import backend_class, make_backend
from mjx_myoassist.envs.base import Env, State, action_to_ctrl, finish_step, physics_step
from mjx_myoassist.envs.physics import PhysicsView
from mjx_myoassist.envs.reference import ReferenceGait, env_reference, reference_speed
from mjx_myoassist.models.leg import build_leg_model, warn_float32_via_points

PELVIS_BODY = "pelvis"
FOOT_SENSORS = (("r_foot", "r_toes"), ("l_foot", "l_toes"))  # MyoAssist's foot force: foot + toes, per side
MYOASSIST_CONSTRUCTOR_STEPS = 32  # zero-action control steps MyoAssist's env runs when it is built
GRAVITY = 9.81
FRESH_START_STREAM = 2  # fold_in stream of an auto-reset key that draws fresh starts (the reset splits the key)
REWARD_TERMS = tuple(rewards.TERMS)


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


def _qpos_adr(model: mujoco.MjModel, names: list[str], what: str = "joints") -> np.ndarray:
    """qpos addresses of the named joints (ConfigError naming ``what`` for an unknown one)."""
    return np.asarray(model.jnt_qposadr[_named(model, names, what)], dtype=np.int32)


def _dof_adr(model: mujoco.MjModel, names: list[str], what: str = "joints") -> np.ndarray:
    """qvel addresses of the named joints (ConfigError naming ``what`` for an unknown one)."""
    return np.asarray(model.jnt_dofadr[_named(model, names, what)], dtype=np.int32)


def _sensor_index(names: list[str], keys: list[str]) -> np.ndarray:
    """Indices of the touch sensors ``keys`` among ``names``."""
    for k in keys:
        if k not in names:
            raise ConfigError(f"observation_joint_sensor_keys: '{k}' is not a foot sensor; available: {names}.")
    return np.array([names.index(k) for k in keys], dtype=np.int32)


def _per_joint(weights: RewardWeights, term: str, joints: tuple[str, ...]) -> tuple[np.ndarray, jax.Array]:
    """(reference columns, weights) of a per-joint imitation term."""
    table: dict[str, float] = getattr(weights, term)
    missing = [j for j in table if j not in joints]
    if missing:
        raise ConfigError(
            f"reward_keys_and_weights.{term}: joints {missing} are not in reference_data_keys "
            f"{list(joints)}; add them there or remove them here."
        )
    cols = np.array([joints.index(j) for j in table], dtype=np.int32)
    return cols, jnp.asarray(list(table.values()), dtype=jnp.float32)


class LegImitationEnv(Env):
    """Reference-gait imitation on the 22-muscle leg, with or without the exo."""

    def __init__(self, config: ImitationTrainSessionConfig):
        p = config.env_params
        self.params = p
        self.curriculum_steps = p.terrain_curriculum_steps
        heights = terrain.height_field(
            p.terrain_type, p.terrain_params, self.curriculum_steps > 0, p.seed, p.terrain_fields
        )
        leg = build_leg_model(p, heights)
        self.model, self.model_id, self.model_file, self.terrain = leg.model, leg.model_id, leg.model_file, leg.terrain
        cls = backend_class(p)
        if not p.mjx_ready_edits and not cls.mesh_contacts:
            raise ConfigError(
                f"env_params.mjx_ready_edits is false (MyoAssist's original mesh contacts), which the "
                f"'{cls.name}' backend cannot run: set env_params.physics_backend to 'cpu', or mjx_ready_edits to true."
            )
        self.backend = make_backend(p, self.model, config.substeps, (PELVIS_BODY,))
        warn_float32_via_points(leg, self.backend.light_bodies, p.via_point_armature)
        if self.terrain and cls.name == "warp":
            warnings.warn(
                f"terrain_type '{p.terrain_type}' on the warp backend: MuJoCo Warp's height-field contacts differ from "
                "C MuJoCo's and MyoAssist's rough policy falls there (docs/models.md, Rough terrain); use "
                "physics_backend 'mjx' or 'cpu' for rough ground.",
                stacklevel=2,
            )
        self._dt = 1.0 / p.control_framerate
        self._setup_layout(self.model, self.backend.touch_names, p)
        joints = [self.model.joint(i).name for i in range(self.model.njnt)]
        standing = float(self.model.key_qpos[0][_qpos_adr(self.model, ["pelvis_ty"])[0]])
        ref = env_reference(p.reference_data_path, p.reference_data_keys, joints, standing, p.control_framerate)
        self._setup_reference(self.model, ref)
        self._setup_weights(self.model, p.reward_keys_and_weights, ref)

    # ------------------------------------------------------------------ setup (each reads only its arguments)

    def _setup_layout(self, model: mujoco.MjModel, touch_names: list[str], p) -> None:
        """Observation and action maps, body weight, start state, root joints."""
        self.obs_qpos = _qpos_adr(model, p.observation_joint_pos_keys, "observation_joint_pos_keys")
        self.obs_qvel = _dof_adr(model, p.observation_joint_vel_keys, "observation_joint_vel_keys")
        muscles = np.nonzero(model.actuator_dyntype == mujoco.mjtDyn.mjDYN_MUSCLE)[0]
        self.muscle_act = np.asarray(model.actuator_actadr[muscles], dtype=np.int32)
        self.obs_sensors = _sensor_index(touch_names, p.observation_joint_sensor_keys)
        self.foot_sensors = np.stack([_sensor_index(touch_names, list(pair)) for pair in FOOT_SENSORS])
        self.ctrl_range = jnp.asarray(model.actuator_ctrlrange, dtype=jnp.float32)
        self.action_size = model.nu
        self.body_weight = float(model.body_subtreemass[0] * GRAVITY)
        self.default_qpos, self.default_qvel = np.array(model.key_qpos[0]), np.array(model.key_qvel[0])
        # MyoAssist builds its env with zero-action steps, so the first episode's previous activations are
        # the zero-action muscle excitations they settle at
        self.zero_action_act = np.asarray(action_to_ctrl(jnp.zeros(model.nu), self.ctrl_range))[muscles]
        self.pelvis_tx_dof = int(_dof_adr(model, ["pelvis_tx"])[0])
        self.pelvis_tx_qpos, self.pelvis_ty_qpos = (int(i) for i in _qpos_adr(model, ["pelvis_tx", "pelvis_ty"]))
        self.root_x_qpos = self.pelvis_tx_qpos

    def _setup_reference(self, model: mujoco.MjModel, ref: ReferenceGait) -> None:
        """The reference and where its joints are in qpos/qvel."""
        self.reference = ref
        self.ref_qpos_adr = _qpos_adr(model, list(ref.joints), "reference_data_keys")
        self.ref_dof_adr = _dof_adr(model, list(ref.joints), "reference_data_keys")
        self.ref_q = jnp.asarray(ref.q, dtype=jnp.float32)
        self.ref_dq = jnp.asarray(ref.dq, dtype=jnp.float32)
        self.ref_speed = jnp.asarray(reference_speed(ref), dtype=jnp.float32)

    def _setup_weights(self, model: mujoco.MjModel, weights: RewardWeights, ref: ReferenceGait) -> None:
        """Term weights, and the reference columns, weights and qpos/qvel entries of the per-joint terms."""
        self.weights = rewards.term_weights(weights)
        self.qpos_cols, self.qpos_w = _per_joint(weights, "qpos_imitation_rewards", ref.joints)
        self.qvel_cols, self.qvel_w = _per_joint(weights, "qvel_imitation_rewards", ref.joints)
        self.imitation_qpos_adr = _qpos_adr(model, [ref.joints[c] for c in self.qpos_cols])
        self.imitation_dof_adr = _dof_adr(model, [ref.joints[c] for c in self.qvel_cols])

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
        The terrain level carries over. A broken state is not carried, nor, with
        ``fresh_start_fraction``, that fraction of episodes: those start as :meth:`reset` does.
        """
        view = self.backend.view(state.data)
        first = self._first_episode_carry()
        carried = {
            "qpos": view.qpos,
            "qvel": view.qvel,
            "prev_act": view.act[self.muscle_act],
            "strike_step": state.info["step"],
        }
        keep = self.backend.is_finite(state.data)
        if self.params.fresh_start_fraction > 0.0:
            fresh = jax.random.bernoulli(jax.random.fold_in(rng, FRESH_START_STREAM), self.params.fresh_start_fraction)
            keep = keep & ~fresh
        carry = {k: jnp.where(keep, carried[k], first[k]).astype(first[k].dtype) for k in first}
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

    def _start_x(self, rng: jax.Array, level: jax.Array) -> jax.Array:
        """Pelvis x at MyoAssist's start of a field drawn among the first 1 + level * (terrain_fields - 1)."""
        highest = jnp.floor(jnp.clip(level, 0.0, 1.0) * (self.params.terrain_fields - 1)).astype(jnp.int32)
        segment = jax.random.randint(rng, (), 0, highest + 1)
        return terrain.segment_start(segment)

    def with_training_progress(self, state: State, env_steps: jax.Array) -> State:
        """Raises the terrain level with training (curriculum over ``terrain_curriculum_steps``)."""
        if not self.curriculum_steps:
            return state
        level = jnp.clip(env_steps.astype(jnp.float32) / self.curriculum_steps, 0.0, 1.0)
        info = {**state.info, "terrain_level": jnp.full_like(state.info["terrain_level"], level)}
        return state.replace(info=info)

    def reference_index(self, state: State) -> jax.Array:
        """The reference sample the state is at (its episode's start plus its step, before the end clip)."""
        return state.info["ref_start"] + state.info["step"]

    def with_velocity_schedule(self, state: State, schedule: dict[str, jax.Array]) -> State:
        """A freshly reset ``state`` as the reset makes it under ``schedule`` (its fields replaced), as MyoAssist's
        evaluator sets the target before its reset: the reference joints start at velocities scaled to the new
        first target, which the observation's last entry (MyoAssist's order) carries."""
        new = {**state.info["schedule"], **schedule}
        v0 = velocity.target_velocity(jnp.float32(0.0), new, self.dt)
        start = state.info["ref_start"]
        view = self.backend.view(state.data)
        qvel = view.qvel.at[self.ref_dof_adr].set(self.ref_dq[start] * v0 / self.ref_speed[start])
        data = self._at_pose(view.qpos, qvel)
        info = {**state.info, "schedule": new, "target_velocity": v0}
        metrics = {**state.metrics, "target_velocity": v0}
        return state.replace(data=data, obs=self._obs(self.backend.view(data), v0), info=info, metrics=metrics)

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
        data, view, finite = physics_step(self.backend, state.data, action_to_ctrl(action, self.ctrl_range))
        step = info["step"] + 1
        past_end = info["ref_start"] + step >= self.reference_length
        idx = jnp.minimum(info["ref_start"] + step, self.reference_length - 1)
        v = velocity.target_velocity(info["step"] * self.dt, info["schedule"], self.dt)
        inputs = self._reward_inputs(view, info, idx, v, step)
        terms = rewards.reward_terms(inputs)
        reward = jnp.where(past_end, 0.0, sum(self.weights[k] * value for k, value in terms.items()))

        q_err = jnp.abs(view.qpos[self.imitation_qpos_adr] - self.ref_q[idx, self.qpos_cols])
        fell = view.qpos[self.pelvis_ty_qpos] < p.safe_height
        off_track = (q_err > p.out_of_trajectory_threshold).any() & ~past_end
        metrics = {
            "fell": fell.astype(jnp.float32),
            "off_trajectory": off_track.astype(jnp.float32),
            "reference_end": past_end.astype(jnp.float32),
            "pelvis_height": view.qpos[self.pelvis_ty_qpos],
            "speed": view.qvel[self.pelvis_tx_dof],
            "target_velocity": v,
        }
        info = {**info, "step": step, "target_velocity": v, "prev_act": inputs.act, "steps": inputs.held}
        return finish_step(
            state, data, finite, obs=self._obs(view, v), reward=reward, terms=terms, terminated=fell | off_track,
            truncated=(step >= p.custom_max_episode_steps) | past_end, metrics=metrics, info=info,
        )  # fmt: skip

    def foot_forces(self, view: PhysicsView) -> jax.Array:
        """[right, left] foot force (N): MyoAssist's foot + toes touch sensors of each side."""
        return jnp.sum(view.foot_forces[self.foot_sensors], axis=1)

    def _reward_inputs(self, view: PhysicsView, info: dict[str, Any], idx, v, step) -> rewards.RewardInputs:
        """What the terms read at reference index ``idx`` and target ``v``, with the heel-strike tracker after
        the step (``held``)."""
        act = view.act[self.muscle_act]
        vx = view.qvel[self.pelvis_tx_dof]
        feet = self.foot_forces(view)
        return rewards.RewardInputs(
            q=view.qpos[self.imitation_qpos_adr], q_ref=self.ref_q[idx, self.qpos_cols], q_weights=self.qpos_w,
            dq=view.qvel[self.imitation_dof_adr], dq_ref=self.ref_dq[idx, self.qvel_cols],
            speed_ratio=v / self.ref_speed[idx], dq_weights=self.qvel_w, vx=vx, v_target=v, act=act,
            prev_act=info["prev_act"], foot_forces=feet, limit_forces=view.joint_limit_forces,
            body_weight=self.body_weight, dt=self.dt,
            held=rewards.track_steps(info["steps"], feet, vx, v, act, step, self.dt),
        )  # fmt: skip
