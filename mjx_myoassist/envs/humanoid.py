"""MuJoCo humanoid with selectable rewards (seeds/004): ``stand``, ``kneel``, ``walk``.

Observation: joint positions (without the global x, y) and velocities.  Action in
[-1, 1] per motor, unclipped beyond the control range.  Each reset perturbs the
initial qpos and qvel uniformly by ``reset_noise_scale``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from mjx_myoassist.config import ConfigError, HumanoidTrainSessionConfig
from mjx_myoassist.envs.backends import make_backend
from mjx_myoassist.envs.base import Env, State, action_to_ctrl, finish_step, free_root_x, physics_step
from mjx_myoassist.envs.physics import PhysicsView
from mjx_myoassist.models import load_model

TRACKED = ("torso", "head", "pelvis", "foot_right", "foot_left", "shin_right", "shin_left", "hand_right", "hand_left")
TORSO, HEAD, PELVIS, FOOT_R, FOOT_L, SHIN_R, SHIN_L, HAND_R, HAND_L = range(len(TRACKED))
KNEEL_HEIGHT = 0.75  # torso height (m) kneeling, sitting back on the heels (knees at -150 deg; upright on the
# knees with the shins flat: about 0.9 m)
# body parts on the floor: a pair of bodies and the height (m) of the body origin below which one touches it
# (feet: capsule axis, radius 0.027; knees: the shin's top end, radius 0.049; hands: sphere, radius 0.04)
ON_FLOOR = {"feet_contact": ((FOOT_R, FOOT_L), 0.04), "knees_contact": ((SHIN_R, SHIN_L), 0.08),
            "hands_contact": ((HAND_R, HAND_L), 0.07)}  # fmt: skip


def height_term(z: jax.Array, target: float, width: float = 0.1) -> jax.Array:
    """exp(-((z - target) / width)^2): 1 at the target height."""
    return jnp.exp(-(((z - target) / width) ** 2))


def upright_term(body_pos: jax.Array) -> jax.Array:
    """Cosine between head-over-pelvis and vertical, clipped at 0."""
    axis = body_pos[HEAD] - body_pos[PELVIS]
    return jnp.clip(axis[2] / (jnp.linalg.norm(axis) + 1e-6), 0.0, 1.0)


def upright_angle(body_pos: jax.Array) -> jax.Array:
    """Angle (deg) between head-over-pelvis and vertical."""
    axis = body_pos[HEAD] - body_pos[PELVIS]
    return jnp.degrees(jnp.arccos(jnp.clip(axis[2] / (jnp.linalg.norm(axis) + 1e-6), -1.0, 1.0)))


def on_floor(body_pos: jax.Array, part: str) -> jax.Array:
    """How many of a pair of body parts (``ON_FLOOR``: feet, knees, hands) touch the floor (0-2)."""
    bodies, height = ON_FLOOR[part]
    return jnp.sum(body_pos[jnp.array(bodies), 2] < height).astype(jnp.float32)


def balance_term(body_pos: jax.Array) -> jax.Array:
    """exp(-10 d^2), d = horizontal distance of the torso from the midpoint of the feet."""
    mid = (body_pos[FOOT_R, :2] + body_pos[FOOT_L, :2]) / 2
    return jnp.exp(-10.0 * jnp.sum((body_pos[TORSO, :2] - mid) ** 2))


def knees_down_term(body_pos: jax.Array, scale: float = 0.15) -> jax.Array:
    """Mean over both knees of exp(-(z / scale)^2), z = height (m) of the shin's top end: about 1 with the knees on
    the floor, 0 standing."""
    return jnp.mean(jnp.exp(-((body_pos[jnp.array([SHIN_R, SHIN_L]), 2] / scale) ** 2)))


def stillness_term(qvel: jax.Array, scale: float = 0.2) -> jax.Array:
    """exp(-(v / scale)^2), v = horizontal speed (m/s) of the root (torso): 1 holding still, 0.06 shuffling at
    0.33 m/s."""
    return jnp.exp(-jnp.sum(qvel[:2] ** 2) / scale**2)


def energy_term(ctrl: jax.Array) -> jax.Array:
    """Mean squared control (cost)."""
    return jnp.mean(ctrl**2)


def forward_velocity_term(vx: jax.Array, target: float) -> jax.Array:
    """exp(-(vx - target)^2)."""
    return jnp.exp(-((vx - target) ** 2))


# weight per term, the height term's width (m) and the torso height below which the episode terminates.  Kneel's
# height term is wide (with 0.1 m a policy standing at 1.27 m gets no height reward and no gradient towards the
# kneel: training settled on standing for the 3 s), it pays for the knees on the floor (with the height terms
# alone training settled on a deep squat at 0.9 m, feet down) and for holding still (without, the kneel that
# training found shuffled on its knees, up to 1 m in 3 s): benchmarks/README.md, humanoid.
REWARD_FUNCTIONS: dict[str, dict] = {
    "stand": {"weights": {"height": 1.0, "upright": 0.5, "balance": 0.5, "energy": -0.1}, "height_width": 0.1,
              "min_height": 0.8},
    "kneel": {"weights": {"height": 1.0, "upright": 0.5, "balance": 0.3, "knees": 0.5, "still": 0.3,
                          "energy": -0.1}, "height_width": 0.3, "min_height": 0.4},
    "walk": {"weights": {"forward": 1.25, "height": 0.5, "upright": 0.5, "balance": 0.1, "energy": -0.1},
             "height_width": 0.1, "min_height": 0.8},
}  # fmt: skip


class HumanoidEnv(Env):
    pose_metrics = ("torso_height", "upright_angle", *ON_FLOOR)

    def __init__(self, config: HumanoidTrainSessionConfig):
        p = config.env_params
        if p.reward_function not in REWARD_FUNCTIONS:
            raise ConfigError(
                f"env_params.reward_function '{p.reward_function}' is unknown; use one of {list(REWARD_FUNCTIONS)}."
            )
        self.params = p
        self.model = load_model(p.model_id or "humanoid")
        self.backend = make_backend(p, self.model, p.frame_skip, TRACKED)
        self.root_x_qpos = free_root_x(self.model)
        self.ctrl_range = jnp.asarray(self.model.actuator_ctrlrange, dtype=jnp.float32)
        self.action_size = self.model.nu
        self.spec = REWARD_FUNCTIONS[p.reward_function]
        self.target_height = KNEEL_HEIGHT if p.reward_function == "kneel" else p.target_height

    @property
    def dt(self) -> float:
        return float(self.model.opt.timestep * self.params.frame_skip)

    def reset(self, rng: jax.Array) -> State:
        k_pos, k_vel, k_next = jax.random.split(rng, 3)
        s = self.params.reset_noise_scale
        qpos = jnp.asarray(self.model.qpos0, jnp.float32) + jax.random.uniform(
            k_pos, (self.model.nq,), minval=-s, maxval=s
        )
        qvel = jax.random.uniform(k_vel, (self.model.nv,), minval=-s, maxval=s)
        data = self.backend.init(qpos, qvel, jnp.zeros(self.model.na))
        view = self.backend.view(data)
        zero = jnp.float32(0.0)
        metrics = {f"reward/{k}": zero for k in self.spec["weights"]}
        metrics.update(numerical_fault=zero, fell=zero, **self._pose(view))
        info = {"rng": k_next, "step": jnp.int32(0)}
        return State(data, self._obs(view), zero, jnp.bool_(False), jnp.bool_(False), metrics, info)

    @staticmethod
    def _pose(view: PhysicsView) -> dict[str, jax.Array]:
        return {"torso_height": view.body_pos[TORSO, 2], "upright_angle": upright_angle(view.body_pos),
                **{part: on_floor(view.body_pos, part) for part in ON_FLOOR}}  # fmt: skip

    @staticmethod
    def _obs(view: PhysicsView) -> jax.Array:
        return jnp.concatenate([view.qpos[2:], view.qvel]).astype(jnp.float32)

    def _terms(self, view: PhysicsView, ctrl: jax.Array) -> dict[str, jax.Array]:
        all_terms = {
            "height": height_term(view.body_pos[TORSO, 2], self.target_height, self.spec["height_width"]),
            "upright": upright_term(view.body_pos),
            "balance": balance_term(view.body_pos),
            "knees": knees_down_term(view.body_pos),
            "still": stillness_term(view.qvel),
            "energy": energy_term(ctrl),
            "forward": forward_velocity_term(view.qvel[0], self.params.target_velocity),
        }
        return {k: all_terms[k] for k in self.spec["weights"]}

    def step(self, state: State, action: jax.Array) -> State:
        ctrl = action_to_ctrl(action, self.ctrl_range)
        data, view, finite = physics_step(self.backend, state.data, ctrl)
        weighted = {k: self.spec["weights"][k] * v for k, v in self._terms(view, ctrl).items()}
        step = state.info["step"] + 1
        fell = view.body_pos[TORSO, 2] < self.spec["min_height"]
        return finish_step(
            state, data, finite, obs=self._obs(view), reward=sum(weighted.values()), terms=weighted,
            terminated=fell, truncated=step >= self.params.custom_max_episode_steps,
            metrics={"fell": fell.astype(jnp.float32), **self._pose(view)}, info={**state.info, "step": step},
        )  # fmt: skip
