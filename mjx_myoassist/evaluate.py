"""Jitted evaluation batches over ``evaluate_param_list``.

Each entry (num_timesteps, target velocity range/period/mode, num_envs) runs many
envs at once with the deterministic policy, without auto-reset: an env's episode
ends at its first termination or truncation.  All entries share one compiled
rollout (the longest entry and the largest batch, masked), because the velocity
schedule is part of the env state rather than of the compiled code.
"""

from __future__ import annotations

from typing import Any, Optional

import jax
import jax.numpy as jnp

from mjx_myoassist.config import EvaluateParams, TrainSessionConfigBase
from mjx_myoassist.envs import Env, make, velocity
from mjx_myoassist.ppo import networks
from mjx_myoassist.ppo.normalizer import RunningStats, normalize


def deterministic_policy(layout: networks.NetworkLayout, params: Any, stats: RunningStats, enabled: bool = True):
    """obs -> mean action clipped to [-1, 1]."""
    net = networks.ActorCritic(layout)

    def policy(obs):
        return jnp.clip(net.apply(params, normalize(stats, obs, enabled))[0], -1.0, 1.0)

    return policy


class Evaluator:
    """Compiles one masked rollout and runs every evaluation entry through it."""

    def __init__(self, config: TrainSessionConfigBase, layout: networks.NetworkLayout, env: Optional[Env] = None):
        self.config = config
        self.layout = layout
        self.env = env or make(config)
        self.entries = list(config.evaluate_param_list) or [EvaluateParams()]
        self.num_envs = max(e.num_envs for e in self.entries)
        self.num_steps = max(e.num_timesteps for e in self.entries)
        self._rollout = jax.jit(self._rollout_impl)

    def _rollout_impl(self, params, stats, rng, schedule_override, num_envs, num_steps):
        policy = deterministic_policy(self.layout, params, stats, self.config.ppo_params.normalize_observation)
        state = jax.vmap(self.env.reset)(jax.random.split(rng, self.num_envs))
        if "schedule" in state.info:
            schedule = {
                **state.info["schedule"],
                **{k: jnp.broadcast_to(v, (self.num_envs,)) for k, v in schedule_override.items()},
            }
            v0 = jax.vmap(lambda s: velocity.target_velocity(jnp.float32(0.0), s))(schedule)
            state = state.replace(info={**state.info, "schedule": schedule}, obs=state.obs.at[:, -1].set(v0))
        in_batch = jnp.arange(self.num_envs) < num_envs

        def one(carry, t):
            state, alive = carry
            nxt = jax.vmap(self.env.step)(state, jax.vmap(policy)(state.obs))
            live = (alive & (t < num_steps)).astype(jnp.float32)
            out = {
                "return": nxt.reward * live,
                "length": live,
                "terminated": (nxt.terminated.astype(jnp.float32)) * live,
                **{k: v * live for k, v in nxt.metrics.items()},
            }
            return (nxt, alive & ~nxt.done), out

        _, out = jax.lax.scan(one, (state, in_batch), jnp.arange(self.num_steps))
        totals = jax.tree.map(lambda x: jnp.sum(x, axis=0), out)  # per env
        lengths = jnp.maximum(totals["length"], 1.0)
        count = jnp.maximum(jnp.sum(in_batch), 1)
        summary = {
            "return": jnp.sum(totals["return"]) / count,
            "episode_length": jnp.sum(totals["length"]) / count,
            "falls": jnp.sum(totals["terminated"]) / count,
        }
        for key in out:
            if key not in ("return", "length", "terminated"):
                summary[key] = jnp.sum(jnp.where(in_batch, totals[key] / lengths, 0.0)) / count
        return summary

    def _override(self, entry: EvaluateParams) -> dict[str, jax.Array]:
        return {
            "mode": jnp.int32(velocity.mode_index(entry.velocity_mode)),
            "vmin": jnp.float32(entry.min_target_velocity),
            "vmax": jnp.float32(entry.max_target_velocity),
            "period": jnp.float32(entry.target_velocity_period),
        }

    def run(self, params: Any, stats: RunningStats, seed: int = 0) -> list[dict[str, float]]:
        """Summary per entry: return, episode_length, falls (fraction), mean speed/target, reward terms."""
        results = []
        for i, entry in enumerate(self.entries):
            summary = self._rollout(
                params, stats, jax.random.PRNGKey(seed + i), self._override(entry), entry.num_envs, entry.num_timesteps
            )
            row = {k: float(v) for k, v in jax.device_get(summary).items()}
            row.update(
                entry=i, velocity_mode=entry.velocity_mode, num_envs=entry.num_envs, num_timesteps=entry.num_timesteps
            )
            results.append(row)
        return results
