"""Same policy, same start, two physics: MJX rollout vs CPU MuJoCo replay.

``python -m mjx_myoassist.cpu.compare [--config F] [--steps 30] [--x64]`` resets the
leg env on both backends from the same RNG, drives each with the same deterministic
policy (random-initialised network unless ``--checkpoint``), and prints the largest
observation and joint-position differences over the episode as JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

import jax
import jax.numpy as jnp
import numpy as np

from mjx_myoassist.config import TrainSessionConfigBase, load_config
from mjx_myoassist.envs import make
from mjx_myoassist.envs.base import keep_dtypes
from mjx_myoassist.evaluate import deterministic_policy
from mjx_myoassist.ppo import checkpoint, networks
from mjx_myoassist.ppo.normalizer import RunningStats


def rollout(env, policy, steps: int, seed: int) -> dict[str, np.ndarray]:
    """obs, qpos and done of one env over ``steps`` control steps (no auto-reset)."""

    def run(rng):
        state = env.reset(rng)

        def one(s, _):
            nxt = keep_dtypes(env.step(s, policy(s.obs)), s)
            view = env.backend.view(nxt.data)
            return nxt, (nxt.obs, view.qpos, nxt.done)

        return jax.lax.scan(one, state, None, length=steps)[1]

    obs, qpos, done = jax.device_get(jax.jit(run)(jax.random.PRNGKey(seed)))
    return {"obs": np.asarray(obs), "qpos": np.asarray(qpos), "done": np.asarray(done)}


def compare(config: TrainSessionConfigBase, steps: int = 30, seed: int = 0, ckpt=None) -> dict[str, float]:
    """Max (and median over steps) |MJX - CPU| of observations and qpos while neither episode has ended."""
    envs = {
        name: make(dataclasses.replace(config, env_params=dataclasses.replace(config.env_params, physics_backend=name)))
        for name in ("mjx", "cpu")
    }
    env = envs["mjx"]
    if ckpt is not None:
        layout, params, stats, _ = checkpoint.restore_policy(checkpoint.resolve_checkpoint(ckpt))
    else:
        layout = networks.make_layout(config.policy_params.custom_policy_params, env.observation_size, env.action_size)
        params, stats = (
            networks.init_params(layout, jax.random.PRNGKey(seed)),
            RunningStats.create(layout.observation_size),
        )
    policy = deterministic_policy(layout, params, stats, config.ppo_params.normalize_observation)
    out = {name: rollout(e, policy, steps, seed) for name, e in envs.items()}
    alive = ~np.cumsum(out["mjx"]["done"] | out["cpu"]["done"]).astype(bool)
    alive[np.argmax(~alive) if (~alive).any() else -1] = True  # include the step that ended the episode
    diff = {k: np.abs(out["mjx"][k] - out["cpu"][k])[alive] for k in ("obs", "qpos")}
    return {
        "steps_compared": int(alive.sum()),
        "max_obs_diff": float(diff["obs"].max()),
        "max_qpos_diff": float(diff["qpos"].max()),
        "median_qpos_diff": float(np.median(diff["qpos"].max(axis=1))),
        "dtype": str(jnp.zeros(()).dtype),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="configs/test.json")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--x64", action="store_true", help="run MJX in float64")
    args, overrides = parser.parse_known_args(argv)
    jax.config.update("jax_enable_x64", args.x64)
    from mjx_myoassist import enable_compilation_cache

    enable_compilation_cache()
    print(json.dumps(compare(load_config(args.config, overrides), args.steps, ckpt=args.checkpoint)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
