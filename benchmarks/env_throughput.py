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


def bench_env(backend: str, batch: int, steps: int, config: str = CONFIG) -> dict:
    """Compile time and control steps/s of a jitted scan of auto-resetting env steps."""
    import jax

    from mjx_myoassist.config import load_config
    from mjx_myoassist.envs import make, step_with_auto_reset
    from mjx_myoassist.envs.base import prepare_auto_reset

    overrides = ["--config.env_params.num_envs", str(batch), "--config.ppo_params.batch_size", str(batch),
                 "--config.env_params.physics_backend", backend]  # fmt: skip
    env = make(load_config(config, overrides))

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


def workload(batch: int, steps: int) -> dict[str, np.ndarray]:
    """The same stepping job for every method: reset states of the env and a fixed action sequence."""
    import jax

    from mjx_myoassist.config import load_config
    from mjx_myoassist.envs import make
    from mjx_myoassist.envs.base import action_to_ctrl
    from mjx_myoassist.envs.cpu_backend import join64

    overrides = ["--config.env_params.num_envs", str(batch), "--config.ppo_params.batch_size", str(batch),
                 "--config.env_params.physics_backend", "cpu"]  # fmt: skip
    env = make(load_config(CONFIG, overrides))
    state = jax.vmap(env.reset)(jax.random.split(jax.random.PRNGKey(0), batch))
    hi, lo = jax.device_get((state.data.hi, state.data.lo))
    actions = np.random.default_rng(0).uniform(-1, 1, (steps, batch, env.action_size)).astype(np.float32)
    ctrl = np.asarray(jax.vmap(jax.vmap(lambda a: action_to_ctrl(a, env.ctrl_range)))(actions), np.float64)
    job = {k: join64(hi[k], lo[k]) for k in ("qpos", "qvel", "act")}
    return {**job, "ctrl": ctrl, "actions": actions, "state": state, "env": env}


def _set(data, job, i) -> None:
    data.qpos[:], data.qvel[:], data.act[:] = job["qpos"][i], job["qvel"][i], job["act"][i]
    data.qacc_warmstart[:] = 0.0


def single_thread_c(job) -> float:
    """The workload on one core: a Python loop over envs and steps, MuJoCo C underneath."""
    import mujoco

    from mjx_myoassist.models import load_model

    model = load_model("myolegs22_tutorial")
    data = mujoco.MjData(model)
    steps, batch = job["ctrl"].shape[:2]
    t0 = time.perf_counter()
    for i in range(batch):
        _set(data, job, i)
        for t in range(steps):
            data.ctrl[:] = job["ctrl"][t, i]
            mujoco.mj_step(model, data, SUBSTEPS)
            _ = np.concatenate([data.qpos, data.qvel, data.act])
    return steps * batch / (time.perf_counter() - t0)


def _worker(conn, job) -> None:
    """One process, one env at a time: receives an action, steps, sends the observation back."""
    import mujoco

    from mjx_myoassist.models import load_model

    model = load_model("myolegs22_tutorial")
    data = mujoco.MjData(model)
    while True:
        msg = conn.recv()
        if msg is None:
            return
        kind, i, ctrl = msg
        if kind == "reset":
            _set(data, job, i)
        else:
            data.ctrl[:] = ctrl
            mujoco.mj_step(model, data, SUBSTEPS)
        conn.send(np.concatenate([data.qpos, data.qvel, data.act]))


def myoassist_style(job, processes: int) -> float:
    """SubprocVecEnv-like: one env per process, a pipe round trip per step; the workload's envs
    are run ``processes`` at a time."""
    ctx = mp.get_context("spawn")
    light = {k: job[k] for k in ("qpos", "qvel", "act")}
    pipes = [ctx.Pipe() for _ in range(processes)]
    workers = [ctx.Process(target=_worker, args=(child, light), daemon=True) for _, child in pipes]
    for w in workers:
        w.start()
    for parent, _ in pipes:  # warm-up: process start and model build are not timed
        parent.send(("reset", 0, None))
        parent.recv()
    steps, batch = job["ctrl"].shape[:2]
    t0 = time.perf_counter()
    for group in range(0, batch, processes):
        envs = list(range(group, min(group + processes, batch)))
        for (parent, _), i in zip(pipes, envs, strict=False):
            parent.send(("reset", i, None))
        for (parent, _), _i in zip(pipes, envs, strict=False):
            parent.recv()
        for t in range(steps):
            for (parent, _), i in zip(pipes, envs, strict=False):
                parent.send(("step", i, job["ctrl"][t, i]))
            for (parent, _), _i in zip(pipes, envs, strict=False):
                parent.recv()
    rate = steps * batch / (time.perf_counter() - t0)
    for parent, _ in pipes:
        parent.send(None)
    for w in workers:
        w.join()
    return rate


def cpu_backend_on_workload(job) -> float:
    """The workload through the jitted env (CPU backend): one pure_callback per batched control step."""
    import jax

    env, state, actions = job["env"], job["state"], job["actions"]
    run = jax.jit(lambda s, acts: jax.lax.scan(lambda c, a: (jax.vmap(env.step)(c, a), None), s, acts)[0])
    jax.block_until_ready(run(state, actions[:1]))
    compiled = jax.jit(run).lower(state, actions).compile()
    t0 = time.perf_counter()
    jax.block_until_ready(compiled(state, actions))
    return actions.shape[0] * actions.shape[1] / (time.perf_counter() - t0)


# Published: MuJoCo Playground trains the MJX humanoid for 30M control steps in ~6 min on one
# A100, at 5 physics steps per control step (sim_dt 0.005 s, ctrl_dt 0.025 s).
PLAYGROUND_HUMANOID = {"control_steps": 30e6, "seconds": 6 * 60, "substeps": 5}
TUTORIAL_STEPS = 30e6


def gpu_projection(leg_mjx: dict, steps: int) -> dict:
    """Expected time of the 30M-step leg-exo run on an A100-class GPU, scaled from Playground's humanoid.

    Assumes the leg/humanoid cost ratio per physics step measured here under MJX (same
    batch, same machine) carries over to the GPU, and that training adds the same overhead
    to both (Playground's number is end-to-end training).
    """
    humanoid = bench_env("mjx", leg_mjx["batch"], steps, "configs/humanoid_stand.json")
    humanoid_physics = humanoid["steps_per_s"] * 3  # frame_skip 3
    leg_physics = leg_mjx["steps_per_s"] * SUBSTEPS
    cost_ratio = humanoid_physics / leg_physics  # > 1: a leg physics step costs this many humanoid steps
    pg = PLAYGROUND_HUMANOID
    gpu_humanoid_physics = pg["control_steps"] * pg["substeps"] / pg["seconds"]
    gpu_leg_control = gpu_humanoid_physics / cost_ratio / SUBSTEPS
    return {
        "humanoid_mjx_cpu_control_steps_per_s": humanoid["steps_per_s"],
        "leg_vs_humanoid_cost_per_physics_step": cost_ratio,
        "assumed_gpu_humanoid_physics_steps_per_s": gpu_humanoid_physics,
        "projected_gpu_leg_control_steps_per_s": gpu_leg_control,
        "projected_minutes_for_30M_steps": TUTORIAL_STEPS / gpu_leg_control / 60,
        "myoassist_published_hours_for_20M_steps": 3.6,
    }


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

    job = workload(batch=64, steps=args.steps)
    base_single = single_thread_c(job)
    base_myoassist = myoassist_style(job, cores)
    ours_on_job = cpu_backend_on_workload(job)
    print(f"same workload (64 envs x {args.steps} control steps from the env's reset states, fixed actions):")
    per_core = lambda rate: f"{rate:7.0f} control steps/s ({rate / cores:.0f} per core)"  # noqa: E731
    print(f"  single-thread C:                {base_single:7.0f} control steps/s")
    print(f"  MyoAssist-style ({cores} processes): {per_core(base_myoassist)}")
    print(f"  cpu backend ({cores} threads):       {per_core(ours_on_job)}")
    print(f"  ratio cpu backend / MyoAssist-style: {ours_on_job / base_myoassist:.2f} (per core, same cores)")
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
    projection = (
        gpu_projection(rows[len(mjx_batches) - 1], args.steps) if args.device == "cpu" and mjx_batches else None
    )
    if projection:
        ratio, minutes = (
            projection["leg_vs_humanoid_cost_per_physics_step"],
            projection["projected_minutes_for_30M_steps"],
        )
        print(
            f"GPU projection: a leg physics step costs {ratio:.1f} humanoid steps -> ~{minutes:.0f} min for 30M steps"
        )
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "gpu_projection": projection,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": cores,
            "jax_backend": jax.default_backend(),
            "device": str(jax.devices()[0]),
        },  # fmt: skip
        "versions": versions(),
        "substeps_per_control_step": SUBSTEPS,
        "same_workload": {
            "envs": 64,
            "control_steps": args.steps,
            "single_thread_c_steps_per_s": base_single,
            "myoassist_style_steps_per_s": base_myoassist,
            "myoassist_style_processes": cores,
            "cpu_backend_steps_per_s": ours_on_job,
            "cpu_backend_threads": cores,
            "ratio_cpu_backend_vs_myoassist_style": ours_on_job / base_myoassist,
        },
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"env_throughput_{args.device}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
