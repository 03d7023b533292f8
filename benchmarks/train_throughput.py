"""End-to-end training throughput of our trainer per physics backend, and the time of MyoAssist's 30M-step run.

Each row (backend x ``--num-envs``) runs in a fresh process: MyoAssist's tutorial preset
(``imitation_tutorial_22_separated_net_partial_obs``: PPO settings, networks, env) with ``num_envs``,
``n_steps`` and the minibatch count set here.  The compiled update (rollout + GAE + SGD, one ``jit``) is
compiled once ahead of time (``compile_s``); then for every seed one untimed warm-up update, and updates
until ``--budget`` seconds have passed.  Reported: env steps/s per seed with mean, min and max over the
seeds, and the projected time of the 30M-step tutorial run at that rate (30e6 / rate: compile excluded).
Memory: peak RSS of the row's process; on a GPU also the peak bytes of JAX's allocator.

With ``--device cpu`` and an ``mjx`` row, a GPU projection scales MuJoCo Playground's published A100
humanoid training speed by the leg/humanoid training cost per physics step measured here under MJX
(a projection from CPU-side ratios, not a GPU measurement).

Usage: ``python -m benchmarks.train_throughput [--device cpu|gpu] [--backends cpu mjx warp]
[--num-envs 32] [--n-steps 64] [--budget 120] [--seeds 0 1 2] [--out F]``.
Writes ``benchmarks/results/train_throughput_<device>.json`` unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.env_throughput import HUMANOID_CONFIG, HUMANOID_SUBSTEPS, PLAYGROUND_HUMANOID, SUBSTEPS
from benchmarks.harness import (
    RESULTS,
    TUTORIAL_STEPS,
    device_peak_mb,
    header,
    make_parser,
    module_command,
    peak_rss_mb,
    run_child,
    spread,
    write_json,
)

CONFIG = "imitation_tutorial_22_separated_net_partial_obs"
BACKENDS = ("cpu", "mjx", "warp")
DEFAULTS = {
    # warp on Warp's CPU device steps ~5 envs/s: add it with --backends warp --num-envs 4 when wanted
    "cpu": {"backends": ["cpu", "mjx"], "num_envs": [32], "n_steps": 64, "budget": 120.0},
    "gpu": {"backends": ["warp", "mjx"], "num_envs": [4096], "n_steps": 64, "budget": 30.0},
}


def overrides(backend: str, num_envs: int, n_steps: int, minibatches: int) -> list[str]:
    """Config overrides of a row: backend, envs, rollout length and minibatch size; the rest is the preset's."""
    rollout = num_envs * n_steps
    if rollout % minibatches:
        raise SystemExit(f"error: num_envs x n_steps = {rollout} is not a multiple of --minibatches {minibatches}")
    return ["--config.env_params.physics_backend", backend, "--config.env_params.num_envs", str(num_envs),
            "--config.ppo_params.n_steps", str(n_steps), "--config.ppo_params.batch_size",
            str(rollout // minibatches)]  # fmt: skip


# ----------------------------------------------------------------------------- one row (own process)


def bench_training(config_name: str, extra: list[str], seeds: list[int], budget: float) -> dict[str, Any]:
    """Compile once, then per seed: one untimed warm-up update and timed updates until ``budget`` seconds."""
    import jax

    from mjx_myoassist.config import load_config
    from mjx_myoassist.ppo.train import Trainer

    config = load_config(config_name, extra)
    trainer = Trainer(config)
    state = trainer.init(seed=seeds[0])
    t0 = time.perf_counter()
    epoch = trainer.train_epoch.lower(state).compile()
    compile_s = time.perf_counter() - t0
    runs = []
    for seed in seeds:
        state = trainer.init(seed=seed)
        t0 = time.perf_counter()
        state, metrics = epoch(state)
        jax.block_until_ready(metrics)
        warm_up_s = time.perf_counter() - t0
        updates, start = 0, time.perf_counter()
        while time.perf_counter() - start < budget or updates < 2:
            state, metrics = epoch(state)
            jax.device_get(metrics)
            updates += 1
        seconds = time.perf_counter() - start
        steps = updates * config.rollout_size
        runs.append({"seed": seed, "warm_up_update_s": warm_up_s, "updates": updates, "steps": steps,
                     "seconds": seconds, "steps_per_s": steps / seconds})  # fmt: skip
    rate = spread([r["steps_per_s"] for r in runs])
    hp = config.ppo_params
    return {
        "config": config_name,
        "backend": config.env_params.physics_backend,
        "num_envs": config.env_params.num_envs,
        "ppo": {
            "n_steps": hp.n_steps,
            "batch_size": hp.batch_size,
            "n_epochs": hp.n_epochs,
            "target_kl": hp.target_kl,
            "normalize_observation": hp.normalize_observation,
        },  # fmt: skip
        "rollout_size": config.rollout_size,
        "compile_s": compile_s,
        "runs": runs,
        "steps_per_s": rate,
        "projected_hours_for_30M_steps": {
            "at_mean_rate": TUTORIAL_STEPS / rate["mean"] / 3600,
            "shortest": TUTORIAL_STEPS / rate["max"] / 3600,
            "longest": TUTORIAL_STEPS / rate["min"] / 3600,
        },
        "peak_rss_mb": peak_rss_mb(),
        "device_peak_mb": device_peak_mb(),
    }


def run_row(config_name: str, backend: str, num_envs: int, args: argparse.Namespace) -> dict[str, Any]:
    cold = ["--cold-compile"] if args.cold_compile else []
    cmd = module_command("train_throughput", "--row", config_name, backend, str(num_envs), "--n-steps",
                         str(args.n_steps), "--minibatches", str(args.minibatches), "--budget", str(args.budget),
                         "--seeds", *map(str, args.seeds), *cold)  # fmt: skip
    return run_child(cmd, args.row_timeout, {"config": config_name, "backend": backend, "num_envs": num_envs})


# ----------------------------------------------------------------------------- GPU projection (CPU runs)


def gpu_projection(leg_mjx: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Leg-exo training on an A100-class GPU, scaled from Playground's humanoid by the leg/humanoid training
    cost per physics step measured here under MJX (same envs and rollout length).  Not a GPU measurement."""
    humanoid = run_row(HUMANOID_CONFIG, "mjx", leg_mjx["num_envs"], args)
    if "error" in humanoid:
        return {"error": humanoid["error"]}
    leg_rate, humanoid_rate = leg_mjx["steps_per_s"]["mean"], humanoid["steps_per_s"]["mean"]
    cost_ratio = humanoid_rate * HUMANOID_SUBSTEPS / (leg_rate * SUBSTEPS)
    pg = PLAYGROUND_HUMANOID
    gpu_humanoid_physics = pg["control_steps"] * pg["substeps"] / pg["seconds"]
    gpu_leg = gpu_humanoid_physics / cost_ratio / SUBSTEPS
    return {
        "kind": "projection from CPU-measured MJX training cost ratio, not a GPU measurement",
        "num_envs": leg_mjx["num_envs"],
        "humanoid_mjx_cpu_training_steps_per_s": humanoid["steps_per_s"],
        "humanoid_row": humanoid,
        "leg_vs_humanoid_training_cost_per_physics_step": cost_ratio,
        "playground_humanoid": pg,
        "projected_gpu_leg_training_steps_per_s": gpu_leg,
        "projected_hours_for_30M_steps": TUTORIAL_STEPS / gpu_leg / 3600,
    }


# ----------------------------------------------------------------------------- main


def _print_row(r: dict[str, Any]) -> None:
    if "error" in r:
        print(f"{r['backend']:5s} {r['num_envs']:6d}  error: {r['error']}")
        return
    s, h = r["steps_per_s"], r["projected_hours_for_30M_steps"]
    print(f"{r['backend']:5s} {r['num_envs']:6d} compile {r['compile_s']:7.1f} s  env steps/s {s['mean']:9.0f} "
          f"({s['min']:.0f}-{s['max']:.0f}, {s['n']} seeds)  30M steps: {h['at_mean_rate']:.1f} h")  # fmt: skip


def parse_args(argv=None) -> argparse.Namespace:
    parser = make_parser(__doc__)
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, help="cpu default: cpu mjx; gpu: warp mjx")
    parser.add_argument("--num-envs", type=int, nargs="+", help="cpu default: 32; gpu: 4096")
    parser.add_argument("--n-steps", type=int, help="rollout length per env and update (default 64)")
    parser.add_argument("--minibatches", type=int, default=2, help="minibatches per epoch (the preset's: 2)")
    parser.add_argument("--budget", type=float, help="timed seconds per seed (cpu default 120, gpu 30)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-projection", action="store_true", help="skip the GPU projection (CPU runs)")
    parser.add_argument("--cold-compile", action="store_true", help="compile without JAX's persistent cache")
    parser.add_argument("--row-timeout", type=float, default=7200.0, help="seconds before a row is given up")
    parser.add_argument("--out", type=Path, help="results file (default: results/train_throughput_<device>.json)")
    parser.add_argument("--row", nargs=3, metavar=("CONFIG", "BACKEND", "NUM_ENVS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    defaults = DEFAULTS[args.device]
    args.backends = args.backends or defaults["backends"]
    args.num_envs = args.num_envs or defaults["num_envs"]
    args.n_steps = args.n_steps or defaults["n_steps"]
    args.budget = args.budget if args.budget is not None else defaults["budget"]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    import jax

    from mjx_myoassist import enable_compilation_cache

    if not args.cold_compile:
        enable_compilation_cache()
    if args.row:  # child process: one row, printed as the last line
        name, backend, num_envs = args.row[0], args.row[1], int(args.row[2])
        extra = overrides(backend, num_envs, args.n_steps, args.minibatches)
        print(json.dumps(bench_training(name, extra, args.seeds, args.budget)))
        return 0
    if args.device == "gpu" and jax.default_backend() != "gpu":
        print("error: --device gpu but JAX sees no GPU (install jax[cuda12] and check nvidia-smi).", file=sys.stderr)
        return 2
    rows = []
    for backend in args.backends:
        for num_envs in args.num_envs:
            rows.append(run_row(CONFIG, backend, num_envs, args))
            _print_row(rows[-1])
    mjx_ok = [r for r in rows if r["backend"] == "mjx" and "error" not in r]
    projection = None
    if args.device == "cpu" and mjx_ok and not args.no_projection:
        projection = gpu_projection(mjx_ok[-1], args)
        if "error" not in projection:
            print(f"GPU projection from CPU-measured ratios (not a measurement): "
                  f"~{projection['projected_hours_for_30M_steps']:.1f} h for 30M steps")  # fmt: skip
    settings = {
        "config": CONFIG,
        "backends": args.backends,
        "num_envs": args.num_envs,
        "n_steps": args.n_steps,
        "minibatches": args.minibatches,
        "budget_s_per_seed": args.budget,
        "seeds": args.seeds,
        "compile_cache": "off" if args.cold_compile else "persistent",
        "timed": "updates after the ahead-of-time compile and one warm-up update per seed",
        "tutorial_steps": TUTORIAL_STEPS,
    }
    write_json(args.out or RESULTS / f"train_throughput_{args.device}.json",
               {**header(settings), "rows": rows, "gpu_projection": projection})  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
