"""Replay a checkpoint's deterministic policy on CPU MuJoCo with the env's own maps.

The env is built with the CPU physics backend (MuJoCo C, float64 state), so the
observation, action and reward code is exactly the training code while the physics
is the C library researchers inspect with their usual tools: every recorded step
can be turned back into an ``MjData`` (:meth:`Trajectory.mj_data`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import mujoco
import numpy as np

from mjx_myoassist.config import TrainSessionConfigBase
from mjx_myoassist.envs import Env
from mjx_myoassist.envs.base import action_to_ctrl


@dataclasses.dataclass
class Trajectory:
    """One replayed episode; arrays are [T, ...] over control steps (T + 1 for states)."""

    model: mujoco.MjModel
    dt: float
    qpos: np.ndarray  # [T + 1, nq] float64, first row is the reset state
    qvel: np.ndarray
    act: np.ndarray
    ctrl: np.ndarray  # [T, nu]
    obs: np.ndarray  # [T + 1, obs]
    reward: np.ndarray  # [T]
    foot_forces: np.ndarray  # [T + 1, n_touch] (N)
    metrics: dict[str, np.ndarray]  # [T] each
    terminated: bool
    truncated: bool
    touch_names: list[str]
    reference: dict[str, np.ndarray] | None = None  # joint -> reference q aligned with qpos rows

    @property
    def steps(self) -> int:
        return len(self.reward)

    def mj_data(self, t: int) -> mujoco.MjData:
        """The CPU MuJoCo state after ``t`` control steps (kinematics computed)."""
        d = mujoco.MjData(self.model)
        d.qpos[:], d.qvel[:], d.act[:] = self.qpos[t], self.qvel[t], self.act[t]
        if t > 0:
            d.ctrl[:] = self.ctrl[t - 1]
        mujoco.mj_forward(self.model, d)
        return d


def replay_config(config: TrainSessionConfigBase, max_steps: int | None = None) -> TrainSessionConfigBase:
    """The config with the CPU backend and, optionally, a step limit."""
    env = dataclasses.replace(config.env_params, physics_backend="cpu", num_envs=1)
    if max_steps is not None:
        env = dataclasses.replace(env, custom_max_episode_steps=max_steps)
    return dataclasses.replace(config, env_params=env, ppo_params=dataclasses.replace(config.ppo_params, batch_size=1))


def run_episode(env: Env, policy: Callable, seed: int, max_steps: int, schedule: dict | None = None) -> Trajectory:
    """Steps one env with ``policy`` until it ends or ``max_steps``; records everything.  ``schedule``: a
    target-speed schedule set after the reset (an evaluation entry's, ``evaluator.entry_schedule``)."""
    reset, step = jax.jit(env.reset), jax.jit(env.step)
    act_fn = jax.jit(policy)
    state = reset(jax.random.PRNGKey(seed))
    if schedule:
        state = jax.jit(env.with_velocity_schedule)(state, schedule)
    states, ctrls, rewards, metrics = [state], [], [], []
    for _ in range(max_steps):
        action = act_fn(state.obs)
        ctrls.append(np.asarray(action_to_ctrl(action, env.ctrl_range)))
        state = step(state, action)
        states.append(state)
        rewards.append(float(state.reward))
        metrics.append(jax.device_get(state.metrics))
        if bool(state.done):
            break
    host = [env.backend.host_state(s.data) for s in states]
    field = lambda name: np.stack([h[name] for h in host])  # noqa: E731
    return Trajectory(
        model=env.model,
        dt=env.dt,
        qpos=field("qpos"),
        qvel=field("qvel"),
        act=field("act"),
        ctrl=np.stack(ctrls),
        obs=np.stack([np.asarray(s.obs) for s in states]),
        reward=np.array(rewards),
        foot_forces=np.stack([np.asarray(env.backend.view(s.data).foot_forces) for s in states]),
        metrics={k: np.array([float(m[k]) for m in metrics]) for k in metrics[0]},
        terminated=bool(states[-1].terminated),
        truncated=bool(states[-1].truncated),
        touch_names=list(env.backend.touch_names),
        reference=_aligned_reference(env, int(env.reference_index(states[0])), len(states)),
    )


def _aligned_reference(env: Env, start: int, length: int) -> dict[str, np.ndarray] | None:
    """Reference joint positions at the replayed steps (None for envs without a reference)."""
    ref = env.reference
    if ref is None:
        return None
    idx = np.minimum(start + np.arange(length), ref.length - 1)
    return {joint: ref.q[idx, j] for j, joint in enumerate(ref.joints)}
