"""A planar point mass that must reach the origin: a task cheap enough to test PPO on CPU.

Observation: position and velocity (4).  Reward per step: -distance - 0.01 |ctrl|^2.
Terminates when the mass leaves the 1 m arena; truncates at the step limit.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from mjx_myoassist.config import PointMassTrainSessionConfig
from mjx_myoassist.envs.backends import make_backend
from mjx_myoassist.envs.base import Env, State, action_to_ctrl
from mjx_myoassist.models import load_model

ARENA = 1.0


class PointMassEnv(Env):
    def __init__(self, config: PointMassTrainSessionConfig):
        self.params = config.env_params
        self.model = load_model("pointmass")
        self.backend = make_backend(self.params, self.model, self.params.frame_skip, ("mass",))
        self.ctrl_range = jnp.asarray(self.model.actuator_ctrlrange, dtype=jnp.float32)
        self.action_size = self.model.nu

    @property
    def dt(self) -> float:
        return float(self.model.opt.timestep * self.params.frame_skip)

    def reset(self, rng: jax.Array) -> State:
        k_pos, k_next = jax.random.split(rng)
        r = self.params.start_range
        qpos = jax.random.uniform(k_pos, (2,), minval=-r, maxval=r)
        data = self.backend.init(qpos, jnp.zeros(2), jnp.zeros(self.model.na))
        zero = jnp.float32(0.0)
        metrics = {"reward/distance": zero, "reward/control": zero, "numerical_fault": zero}
        obs = jnp.concatenate([qpos, jnp.zeros(2)]).astype(jnp.float32)
        return State(
            data, obs, zero, jnp.bool_(False), jnp.bool_(False), metrics, {"rng": k_next, "step": jnp.int32(0)}
        )

    def step(self, state: State, action: jax.Array) -> State:
        ctrl = action_to_ctrl(action, self.ctrl_range)
        data = self.backend.step(state.data, ctrl)
        finite = self.backend.is_finite(data)
        view = self.backend.view(data)
        distance = jnp.linalg.norm(view.qpos)
        terms = {"reward/distance": -distance, "reward/control": -0.01 * jnp.sum(ctrl**2)}
        step = state.info["step"] + 1
        terminated = ~finite | (jnp.abs(view.qpos) > ARENA).any()
        truncated = (step >= self.params.custom_max_episode_steps) & ~terminated
        obs = jnp.where(finite, jnp.concatenate([view.qpos, view.qvel]), 0.0).astype(jnp.float32)
        return state.replace(
            data=data,
            obs=obs,
            reward=jnp.where(finite, sum(terms.values()), 0.0),
            terminated=terminated,
            truncated=truncated,
            metrics={**terms, "numerical_fault": (~finite).astype(jnp.float32)},
            info={**state.info, "step": step},
        )
