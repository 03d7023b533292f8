"""Build an env and apply 150 random control steps (5 s at 30 Hz) in one jitted ``lax.scan``.

``python sim_minimal.py [--model MODEL_ID] [--num-envs N] [--steps N] [--backend mjx|warp|cpu]`` prints compile
time and steps/s separately.
"""

from __future__ import annotations

import sys
import time

from mjx_myoassist import cli
from mjx_myoassist.config import PHYSICS_BACKENDS

MODEL_PRESETS = {  # model id -> the packaged preset (configs/) whose env it builds
    "myolegs22_tutorial": "imitation_tutorial_22_separated_net_partial_obs",
    "myolegs22_baseline": "imitation_22_baseline_no_exo",
    "humanoid": "humanoid_stand",
    "pointmass": "pointmass",
}


def build_parser() -> cli.Parser:
    parser = cli.parser("sim_minimal.py", __doc__)
    parser.add_argument("--model", default="myolegs22_tutorial", choices=sorted(MODEL_PRESETS),
                        help="model id whose env to build, with its packaged preset (default %(default)s)")  # fmt: skip
    parser.add_argument("--num-envs", type=int, default=1, help="envs stepped at once (default 1)")
    parser.add_argument(
        "--steps", type=int, default=150, help="random control steps per env (default 150: 5 s at 30 Hz)"
    )
    parser.add_argument(
        "--backend", choices=PHYSICS_BACKENDS, help="env_params.physics_backend (default: the config's)"
    )
    return parser


def parse_args(argv: list[str]):
    """(arguments, ``--config.<key> VALUE`` overrides) of the command line."""
    args, overrides = cli.parse(build_parser(), argv)
    n = str(args.num_envs)
    sizes = ["--config.env_params.num_envs", n, "--config.ppo_params.batch_size", n]
    backend = ["--config.env_params.physics_backend", args.backend] if args.backend else []
    return args, sizes + backend + overrides


def main(argv: list[str] | None = None) -> int:
    return cli.run(lambda: run(*parse_args(sys.argv[1:] if argv is None else list(argv))))


def run(args, overrides: list[str]) -> int:
    """Builds the env, compiles the rollout, runs it, prints the timings."""
    import jax

    from mjx_myoassist import enable_compilation_cache
    from mjx_myoassist.config import load_config
    from mjx_myoassist.envs import make, resolve_backend, set_precision, step_with_auto_reset
    from mjx_myoassist.envs.base import prepare_auto_reset

    enable_compilation_cache()
    config = load_config(MODEL_PRESETS[args.model], overrides)
    set_precision(config)
    env = make(config)

    def rollout(rng):
        keys = jax.random.split(rng, args.num_envs)
        state = jax.vmap(lambda k: prepare_auto_reset(env.reset(k)))(keys)

        def one(state, key):
            action = jax.random.uniform(key, (args.num_envs, env.action_size), minval=-1, maxval=1)
            state = jax.vmap(lambda s, a: step_with_auto_reset(env, s, a))(state, action)
            return state, (state.reward, state.done)

        return jax.lax.scan(one, state, jax.random.split(rng, args.steps))

    t0 = time.perf_counter()
    compiled = jax.jit(rollout).lower(jax.random.PRNGKey(0)).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, (rewards, dones) = jax.block_until_ready(compiled(jax.random.PRNGKey(1)))
    run_s = time.perf_counter() - t0
    steps = args.steps * args.num_envs
    backend = resolve_backend(config.env_params.physics_backend)
    print(f"model {args.model}: obs {env.observation_size}, action {env.action_size}, envs {args.num_envs}, {backend}")
    print(f"compile: {compile_s:.1f} s")
    print(f"run: {steps} control steps in {run_s:.2f} s = {steps / run_s:.1f} control steps/s")
    print(f"mean reward {float(rewards.mean()):.4f}, episodes ended {int(dones.sum())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
