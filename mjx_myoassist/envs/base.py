"""Env state and the pieces every env shares (MuJoCo Playground ``MjxEnv`` style)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import mujoco
from flax import struct

from mjx_myoassist.envs.physics import PhysicsBackend, PhysicsView
from mjx_myoassist.envs.reference import ReferenceGait


@struct.dataclass
class State:
    """One env's state; under ``vmap`` every field gains a leading batch axis.

    ``terminated`` (the task failed: fall, off-trajectory, numerical fault) and
    ``truncated`` (time limit, end of reference) are kept separate so value
    targets can bootstrap on truncation only.
    """

    data: Any
    obs: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    metrics: dict[str, jax.Array]
    info: dict[str, Any]

    @property
    def done(self) -> jax.Array:
        return self.terminated | self.truncated


class Env:
    """Base class: pure ``reset(rng)`` and ``step(state, action)``; holds only static data.

    Besides reset/step, what evaluation, replay and rendering read: ``root_x`` (walked distance),
    ``pose_metrics`` (metrics reported per evaluated episode, e.g. the humanoid's torso height),
    ``with_velocity_schedule`` (an evaluation entry's target speed) and ``reference`` (the gait
    imitated, if any).
    """

    action_size: int
    model: mujoco.MjModel
    backend: PhysicsBackend
    reference: ReferenceGait | None = None  # the reference gait the env imitates (None: it imitates none)
    root_x_qpos: int | None = None  # qpos index of the root's x, where a walked distance is measured (None: none)
    pose_metrics: tuple[str, ...] = ()  # metrics evaluation reports per episode as a mean and a last value

    def reset(self, rng: jax.Array) -> State:
        raise NotImplementedError

    def step(self, state: State, action: jax.Array) -> State:
        raise NotImplementedError

    def reset_like(self, state: State, rng: jax.Array) -> State:
        """The auto-reset of an ended episode (envs with a curriculum carry its level over)."""
        return self.reset(rng)

    def with_training_progress(self, state: State, env_steps: jax.Array) -> State:
        """Hook for curricula driven by training progress; the default changes nothing."""
        return state

    def root_x(self, state: State) -> jax.Array:
        """x (m) of the root of one env's state; only for envs with a ``root_x_qpos``."""
        return self.backend.view(state.data).qpos[self.root_x_qpos]

    def reference_index(self, state: State) -> jax.Array:
        """The ``reference`` sample one env's state is at (0 for envs without a reference)."""
        return jnp.int32(0)

    def with_velocity_schedule(self, state: State, schedule: dict[str, jax.Array]) -> State:
        """The state with its target-velocity schedule replaced (fields of ``velocity.draw_schedule``) from the
        first step on; envs without a target velocity return it unchanged."""
        return state

    @property
    def observation_size(self) -> int:
        """Observation length, from ``jax.eval_shape`` (no physics is run)."""
        shape = jax.eval_shape(self.reset, jax.ShapeDtypeStruct((2,), jnp.uint32))
        return int(shape.obs.shape[-1])

    @property
    def dt(self) -> float:
        """Control period (s)."""
        raise NotImplementedError


def free_root_x(model: mujoco.MjModel) -> int | None:
    """qpos index of the x of a free root joint (the model's first joint), None when the root is not free."""
    if model.njnt and model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE:
        return int(model.jnt_qposadr[0])
    return None


def action_to_ctrl(action: jax.Array, ctrl_range: jax.Array) -> jax.Array:
    """Maps actions in [-1, 1] to ctrl = mid + a * half-range (clipped to the range)."""
    low, high = ctrl_range[:, 0], ctrl_range[:, 1]
    mid, half = (low + high) / 2, (high - low) / 2
    return mid + jnp.clip(action, -1.0, 1.0) * half


def physics_step(backend: PhysicsBackend, data: Any, ctrl: jax.Array) -> tuple[Any, PhysicsView, jax.Array]:
    """The shared start of a step: (new physics state, its view with NaN/inf read as 0, whether it is finite)."""
    data = backend.step(data, ctrl)
    view = jax.tree.map(lambda x: jnp.nan_to_num(x, posinf=0.0, neginf=0.0), backend.view(data))
    return data, view, backend.is_finite(data)


def finish_step(state: State, data: Any, finite: jax.Array, *, obs, reward, terms, terminated, truncated, metrics,
                info) -> State:  # fmt: skip
    """The shared end of a step.  Where physics broke (``~finite``) the observation, reward and reward terms
    read 0 and the episode terminates (``numerical_fault``) rather than truncates.  ``terms`` become the
    ``reward/<name>`` metrics, next to ``metrics``."""
    terminated = ~finite | terminated
    term_metrics = {f"reward/{k}": jnp.where(finite, v, 0.0) for k, v in terms.items()}
    return state.replace(
        data=data,
        obs=jnp.where(finite, obs, 0.0),
        reward=jnp.where(finite, reward, 0.0),
        terminated=terminated,
        truncated=truncated & ~terminated,
        metrics={**term_metrics, "numerical_fault": (~finite).astype(jnp.float32), **metrics},
        info=info,
    )


def keep_dtypes(new: Any, old: Any) -> Any:
    """``new`` cast leaf-wise to the dtypes of ``old`` (a stable scan carry, also under jax_enable_x64)."""
    return jax.tree.map(lambda n, o: jnp.asarray(n).astype(jnp.asarray(o).dtype), new, old)


def step_with_auto_reset(env: Env, state: State, action: jax.Array) -> State:
    """Steps one env; where the episode ends, starts a fresh one from its own RNG.

    The observation before the reset is kept in ``info['final_obs']`` so that a
    truncated episode can be bootstrapped from where it stopped.  Metrics keep the
    finished episode's values for that step.
    """
    nxt = env.step(state, action)
    rng, reset_rng = jax.random.split(nxt.info["rng"])
    fresh = env.reset_like(nxt, reset_rng)
    done = nxt.done
    pick = lambda a, b: jax.tree.map(lambda x, y: jnp.where(done, x, y), a, b)  # noqa: E731
    kept = {k: v for k, v in nxt.info.items() if k != "final_obs"}
    info = pick(fresh.info, {**kept, "rng": rng})
    info["final_obs"] = nxt.obs
    out = nxt.replace(data=pick(fresh.data, nxt.data), obs=pick(fresh.obs, nxt.obs), info=info)
    return keep_dtypes(out, state)


def prepare_auto_reset(state: State) -> State:
    """Adds the ``final_obs`` slot that :func:`step_with_auto_reset` fills."""
    return state.replace(info={**state.info, "final_obs": state.obs})
