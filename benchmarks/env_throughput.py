"""Leg-exo env throughput: control steps/s (40 physics substeps each) vs batch size, per backend.

Baselines measured in the same run on the same model and frame skip:
* ``single_thread_c``: one MjData stepped by MuJoCo C in a Python loop (one core);
* ``myoassist_style``: one env per process, actions and observations sent through
  pipes every step, like Stable-Baselines3's ``SubprocVecEnv`` in MyoAssist.

Usage: ``python benchmarks/env_throughput.py [--device cpu|gpu] [--mjx-batches 16 64]
[--cpu-batches 1 4 16 64 256] [--steps 30]``.  Prints a table with ratios against the
baselines and writes ``benchmarks/results/env_throughput_<device>.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

SUBSTEPS = 40
RESULTS = Path(__file__).resolve().parent / "results"
CONFIG = "configs/test.json"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def device_peak_mb() -> float | None:
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    return stats["peak_bytes_in_use"] / 2**20 if "peak_bytes_in_use" in stats else None


def bench_env(backend: str, batch: int, steps: int) -> dict:
    """Compile time and control steps/s of a jitted scan of auto-resetting env steps."""
    import jax

    from mjx_myoassist.config import load_config
    from mjx_myoassist.envs import make, step_with_auto_reset
    from mjx_myoassist.envs.base import prepare_auto_reset

    overrides = ["--config.env_params.num_envs", str(batch), "--config.ppo_params.batch_size", str(batch),
                 "--config.env_params.physics_backend", backend]  # fmt: skip
    env = make(load_config(CONFIG, overrides))

    def rollout(state, key):
        def one(s, k):
            action = jax.random.uniform(k, (batch, env.action_size), minval=-1, maxval=1)
            return jax.vmap(lambda st, a: step_with_auto_reset(env, st, a))(s, action), None

        return jax.lax.scan(one, state, jax.random.split(key, steps))[0]

    reset = jax.jit(jax.vmap(lambda k: prepare_auto_reset(env.reset(k))))
    state = jax.block_until_ready(reset(jax.random.split(jax.random.PRNGKey(0), batch)))
    t0 = time.perf_counter()
    compiled = jax.jit(rollout).lower(state, jax.random.PRNGKey(1)).compile()
    compile_s = time.perf_counter() - t0
    state = jax.block_until_ready(compiled(state, jax.random.PRNGKey(2)))  # warm-up
    t0 = time.perf_counter()
    jax.block_until_ready(compiled(state, jax.random.PRNGKey(3)))
    run_s = time.perf_counter() - t0
    return {
        "backend": backend,
        "batch": batch,
        "compile_s": compile_s,
        "steps_per_s": batch * steps / run_s,
        "peak_rss_mb": peak_rss_mb(),
        "device_peak_mb": device_peak_mb(),
    }


def single_thread_c(steps: int) -> float:
    import mujoco

    from mjx_myoassist.models import load_model

    model = load_model("myolegs22_tutorial")
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, 0)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for _ in range(steps):
        data.ctrl[:] = rng.uniform(0, 1, model.nu) * (model.actuator_ctrlrange[:, 1] - model.actuator_ctrlrange[:, 0])
        mujoco.mj_step(model, data, SUBSTEPS)
        _ = np.concatenate([data.qpos, data.qvel, data.act])
        if not np.isfinite(data.qpos).all() or data.qpos[1] < 0.5:
            mujoco.mj_resetDataKeyframe(model, data, 0)
    return steps / (time.perf_counter() - t0)


def _worker(conn) -> None:
    import mujoco

    from mjx_myoassist.models import load_model

    model = load_model("myolegs22_tutorial")
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, 0)
    while True:
        action = conn.recv()
        if action is None:
            return
        data.ctrl[:] = action
        mujoco.mj_step(model, data, SUBSTEPS)
        if not np.isfinite(data.qpos).all() or data.qpos[1] < 0.5:
            mujoco.mj_resetDataKeyframe(model, data, 0)
        conn.send(np.concatenate([data.qpos, data.qvel, data.act]))


def myoassist_style(processes: int, steps: int) -> float:
    """One env per process; every step sends actions and receives observations (SubprocVecEnv)."""
    ctx = mp.get_context("spawn")
    pipes = [ctx.Pipe() for _ in range(processes)]
    workers = [ctx.Process(target=_worker, args=(child,), daemon=True) for _, child in pipes]
    for w in workers:
        w.start()
    rng = np.random.default_rng(0)
    for parent, _ in pipes:  # warm-up (process start, model build)
        parent.send(np.zeros(24))
    for parent, _ in pipes:
        parent.recv()
    t0 = time.perf_counter()
    for _ in range(steps):
        for parent, _ in pipes:
            parent.send(rng.uniform(0, 1, 24) * np.r_[np.ones(22), -np.ones(2)])
        for parent, _ in pipes:
            parent.recv()
    rate = processes * steps / (time.perf_counter() - t0)
    for parent, _ in pipes:
        parent.send(None)
    for w in workers:
        w.join()
    return rate


def versions() -> dict:
    import jax
    import mujoco

    return {"python": platform.python_version(), "jax": jax.__version__, "mujoco": mujoco.__version__}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--mjx-batches", type=int, nargs="*", default=None)
    parser.add_argument("--cpu-batches", type=int, nargs="*", default=None)
    parser.add_argument("--steps", type=int, default=30, help="control steps per timed rollout")
    args = parser.parse_args(argv)
    import jax

    from mjx_myoassist import enable_compilation_cache

    enable_compilation_cache()
    if args.device == "gpu" and jax.default_backend() != "gpu":
        print("error: --device gpu but JAX sees no GPU (install jax[cuda12] and check nvidia-smi).", file=sys.stderr)
        return 2
    mjx_batches = args.mjx_batches or ([16, 64] if args.device == "cpu" else [256, 1024, 4096, 8192])
    cpu_batches = (
        args.cpu_batches if args.cpu_batches is not None else ([1, 4, 16, 64, 256] if args.device == "cpu" else [])
    )
    cores = os.cpu_count() or 1

    base_single = single_thread_c(steps=200)
    base_myoassist = myoassist_style(cores, steps=100)
    print(f"baseline single-thread C: {base_single:.0f} control steps/s")
    print(f"baseline MyoAssist-style ({cores} processes): {base_myoassist:.0f} control steps/s")
    rows = [bench_env("mjx", b, args.steps) for b in mjx_batches] + [
        bench_env("cpu", b, args.steps) for b in cpu_batches
    ]
    header = ("backend", "batch", "compile s", "steps/s", "x 1-thread C", "x MyoAssist", "peak RSS MB")
    print("{:8s} {:>6s} {:>10s} {:>10s} {:>13s} {:>12s} {:>12s}".format(*header))
    for r in rows:
        r["ratio_vs_single_thread_c"] = r["steps_per_s"] / base_single
        r["ratio_vs_myoassist_style"] = r["steps_per_s"] / base_myoassist
        cells = (r["backend"], r["batch"], r["compile_s"], r["steps_per_s"], r["ratio_vs_single_thread_c"],
                 r["ratio_vs_myoassist_style"], r["peak_rss_mb"])  # fmt: skip
        print("{:8s} {:6d} {:10.1f} {:10.0f} {:13.2f} {:12.2f} {:12.0f}".format(*cells))
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": cores,
            "jax_backend": jax.default_backend(),
            "device": str(jax.devices()[0]),
        },  # fmt: skip
        "versions": versions(),
        "substeps_per_control_step": SUBSTEPS,
        "baselines": {
            "single_thread_c_steps_per_s": base_single,
            "myoassist_style_steps_per_s": base_myoassist,
            "myoassist_style_processes": cores,
        },  # fmt: skip
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"env_throughput_{args.device}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
