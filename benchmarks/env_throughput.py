"""Leg-exo env throughput: control steps/s (40 physics substeps each) vs batch size, per physics backend.

Rows (``mjx``, ``warp``, ``cpu`` backends x batch sizes): a jitted scan of auto-resetting env steps with
random actions, the stepping a training rollout does.  Each row runs in a fresh process, so its compile
time (``jit`` of the scan, with or without JAX's persistent cache: ``--cold-compile``) and its memory
(peak RSS; peak bytes of JAX's allocator on a GPU) are its own; the timed scan is run ``--repeats``
times after a warm-up call and the median, min and max are kept.

Baselines on the same workload (``--workload-envs`` envs from the env's reset states, a fixed random
action sequence), measured in the same run:

* ``single_thread_c``: one MjData stepped by MuJoCo C in a Python loop (one core);
* ``myoassist_style``: one env per process, a pipe round trip per step, like Stable-Baselines3's
  ``SubprocVecEnv`` in MyoAssist (physics only: cheaper than MyoAssist's Python env);
* ours, ``cpu`` backend: training-style (auto-reset, the headline ratio) and plain ``env.step``.

With ``--device cpu`` and MJX rows, a GPU projection scales MuJoCo Playground's published A100 humanoid
training speed by the leg/humanoid MJX cost per physics step measured here (a projection, not a
measurement).  ``--device gpu`` measures instead.

Usage: ``python -m benchmarks.env_throughput [--device cpu|gpu] [--backends cpu mjx warp]
[--cpu-batches ...] [--mjx-batches ...] [--warp-batches ...] [--steps 30] [--repeats 3] [--out F]``.
Writes ``benchmarks/results/env_throughput_<device>.json`` unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import (
    RESULTS,
    TUTORIAL_STEPS,
    device_peak_mb,
    header,
    make_parser,
    module_command,
    peak_rss_mb,
    repeat_seconds,
    run_child,
    spread,
    write_json,
)

SUBSTEPS = 40
CONFIG = "test"  # packaged preset (load_config resolves names): the leg-exo tutorial env, small PPO settings
HUMANOID_CONFIG = "humanoid_stand"
HUMANOID_SUBSTEPS = 3  # frame_skip of the humanoid preset
BACKENDS = ("cpu", "mjx", "warp")
DEFAULT_BATCHES = {
    "cpu": {"cpu": [1, 4, 16, 64, 256], "mjx": [16, 64], "warp": [4, 16]},  # Warp's CPU device is slow
    # 1k-16k envs in three rows, so that a GPU run fits a short device lease (pass more batches to fill in)
    "gpu": {"cpu": [256], "mjx": [1024, 4096, 16384], "warp": [1024, 4096, 16384]},
}
# Published: MuJoCo Playground trains the MJX humanoid for 30M control steps in ~6 min on one A100, at 5
# physics steps per control step (sim_dt 0.005 s, ctrl_dt 0.025 s).  MyoAssist: 20M steps in 3.6 h on
# 32 CPU processes.
PLAYGROUND_HUMANOID = {"control_steps": 30e6, "seconds": 6 * 60, "substeps": 5, "gpu": "A100"}
MYOASSIST_PUBLISHED = {"steps": 20e6, "hours": 3.6, "processes": 32}


def _overrides(backend: str, batch: int) -> list[str]:
    return ["--config.env_params.num_envs", str(batch), "--config.ppo_params.batch_size", str(batch),
            "--config.env_params.physics_backend", backend]  # fmt: skip


# ----------------------------------------------------------------------------- one row (own process)


def bench_env(backend: str, batch: int, steps: int, repeats: int, config: str = CONFIG) -> dict[str, Any]:
    """Compile time, control steps/s (repeats) and memory of a jitted scan of auto-resetting env steps."""
    import jax

    from mjx_myoassist.config import load_config
    from mjx_myoassist.envs import make, step_with_auto_reset
    from mjx_myoassist.envs.base import prepare_auto_reset

    env = make(load_config(config, _overrides(backend, batch)))

    def rollout(state, key):
        def one(s, k):
            action = jax.random.uniform(k, (batch, env.action_size), minval=-1, maxval=1)
            return jax.vmap(lambda st, a: step_with_auto_reset(env, st, a))(s, action), None

        return jax.lax.scan(one, state, jax.random.split(key, steps))[0]

    reset = jax.jit(jax.vmap(lambda k: prepare_auto_reset(env.reset(k))))
    t0 = time.perf_counter()
    state = jax.block_until_ready(reset(jax.random.split(jax.random.PRNGKey(0), batch)))
    reset_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    compiled = jax.jit(rollout).lower(state, jax.random.PRNGKey(1)).compile()
    compile_s = time.perf_counter() - t0
    state = jax.block_until_ready(compiled(state, jax.random.PRNGKey(2)))  # warm-up, not timed

    def timed(i: int) -> None:
        nonlocal state
        state = jax.block_until_ready(compiled(state, jax.random.PRNGKey(3 + i)))

    rate = spread([batch * steps / s for s in repeat_seconds(timed, repeats)])
    return {
        "backend": backend,
        "batch": batch,
        "config": config,
        "compile_s": compile_s,
        "reset_compile_and_run_s": reset_s,
        "steps_per_s": rate["median"],
        "steps_per_s_spread": rate,
        "peak_rss_mb": peak_rss_mb(),
        "device_peak_mb": device_peak_mb(),
    }


def run_row(backend: str, batch: int, args: argparse.Namespace, config: str | None = None) -> dict[str, Any]:
    """``bench_env`` in a fresh process (own compile, own memory peak); a failed row keeps its error.

    ``config`` defaults to ``--config`` (the leg-exo test preset unless given)."""
    config = config or args.config
    cold = ["--cold-compile"] if args.cold_compile else []
    cmd = module_command("env_throughput", "--row", backend, str(batch), "--config", config, "--steps",
                         str(args.steps), "--repeats", str(args.repeats), *cold)  # fmt: skip
    return run_child(cmd, args.row_timeout, {"backend": backend, "batch": batch, "config": config})


# ----------------------------------------------------------------------------- same workload, all methods


def workload(batch: int, steps: int) -> dict[str, Any]:
    """The same stepping job for every method: reset states of the env and a fixed action sequence."""
    import jax

    from mjx_myoassist.config import load_config
    from mjx_myoassist.envs import make
    from mjx_myoassist.envs.base import action_to_ctrl

    env = make(load_config(CONFIG, _overrides("cpu", batch)))
    state = jax.vmap(env.reset)(jax.random.split(jax.random.PRNGKey(0), batch))
    actions = np.random.default_rng(0).uniform(-1, 1, (steps, batch, env.action_size)).astype(np.float32)
    ctrl = np.asarray(jax.vmap(jax.vmap(lambda a: action_to_ctrl(a, env.ctrl_range)))(actions), np.float64)
    job = env.backend.host_state(state.data)
    return {**job, "ctrl": ctrl, "actions": actions, "state": state, "env": env, "model": env.model}


def _set(data, job, i) -> None:
    data.qpos[:], data.qvel[:], data.act[:] = job["qpos"][i], job["qvel"][i], job["act"][i]
    data.qacc_warmstart[:] = 0.0


def single_thread_c(job) -> float:
    """The workload on one core: a Python loop over envs and steps, MuJoCo C underneath."""
    import mujoco

    model = job["model"]
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

    model = job["model"]
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


def myoassist_style(job, processes: int, repeats: int) -> list[float]:
    """SubprocVecEnv-like: one env per process, a pipe round trip per step; the workload's envs are run
    ``processes`` at a time.  Process start and model build are not timed."""
    ctx = mp.get_context("spawn")
    light = {k: job[k] for k in ("qpos", "qvel", "act", "model")}
    pipes = [ctx.Pipe() for _ in range(processes)]
    workers = [ctx.Process(target=_worker, args=(child, light), daemon=True) for _, child in pipes]
    for w in workers:
        w.start()
    for parent, _ in pipes:  # warm-up
        parent.send(("reset", 0, None))
        parent.recv()
    steps, batch = job["ctrl"].shape[:2]
    rates = []
    for _ in range(repeats):
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
        rates.append(steps * batch / (time.perf_counter() - t0))
    for parent, _ in pipes:
        parent.send(None)
    for w in workers:
        w.join()
    return rates


def cpu_backend_on_workload(job, auto_reset: bool, repeats: int) -> list[float]:
    """The workload through the jitted env (cpu backend), as a scan over the fixed actions: with auto-reset
    (``step_with_auto_reset``, what training runs) or plain ``env.step``.  Compile and a warm-up call are
    not timed."""
    import jax

    from mjx_myoassist.envs import step_with_auto_reset
    from mjx_myoassist.envs.base import prepare_auto_reset

    env, actions = job["env"], job["actions"]
    state = jax.vmap(prepare_auto_reset)(job["state"]) if auto_reset else job["state"]
    step = (lambda s, a: step_with_auto_reset(env, s, a)) if auto_reset else env.step
    run = lambda s, acts: jax.lax.scan(lambda c, a: (jax.vmap(step)(c, a), None), s, acts)[0]  # noqa: E731
    compiled = jax.jit(run).lower(state, actions).compile()
    jax.block_until_ready(compiled(state, actions))
    seconds = repeat_seconds(lambda _: jax.block_until_ready(compiled(state, actions)), repeats)
    return [actions.shape[0] * actions.shape[1] / s for s in seconds]


def same_workload(envs: int, steps: int, repeats: int, cores: int) -> dict[str, Any]:
    """Every method on one workload; the headline ratio is training-style stepping vs MyoAssist-style."""
    job = workload(envs, steps)
    single = spread([single_thread_c(job) for _ in range(repeats)])
    myo = spread(myoassist_style(job, cores, repeats))
    training = spread(cpu_backend_on_workload(job, True, repeats))
    plain = spread(cpu_backend_on_workload(job, False, repeats))
    return {
        "envs": envs,
        "control_steps": steps,
        "repeats": repeats,
        "single_thread_c": single,
        "myoassist_style": myo,
        "myoassist_style_processes": cores,
        "cpu_backend_training_style": training,
        "cpu_backend_no_auto_reset": plain,
        "cpu_backend_threads": cores,
        "ratio_training_style_vs_myoassist_style": training["median"] / myo["median"],
        "ratio_no_auto_reset_vs_myoassist_style": plain["median"] / myo["median"],
    }


# ----------------------------------------------------------------------------- GPU projection (CPU runs)


def gpu_projection(leg_mjx: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Expected time of the 30M-step leg-exo run on an A100-class GPU, scaled from Playground's humanoid.

    Assumes the leg/humanoid cost ratio per physics step measured here under MJX (same batch, same machine)
    carries over to the GPU, and that training adds the same overhead to both (Playground's number is
    end-to-end training).  A projection from CPU-side measurements, not a GPU measurement.
    """
    humanoid = run_row("mjx", leg_mjx["batch"], args, HUMANOID_CONFIG)
    if "error" in humanoid:
        return {"error": humanoid["error"]}
    cost_ratio = humanoid["steps_per_s"] * HUMANOID_SUBSTEPS / (leg_mjx["steps_per_s"] * SUBSTEPS)
    pg = PLAYGROUND_HUMANOID
    gpu_humanoid_physics = pg["control_steps"] * pg["substeps"] / pg["seconds"]
    gpu_leg_control = gpu_humanoid_physics / cost_ratio / SUBSTEPS
    return {
        "kind": "projection from CPU-measured MJX cost ratio, not a GPU measurement",
        "batch": leg_mjx["batch"],
        "humanoid_mjx_cpu_control_steps_per_s": humanoid["steps_per_s"],
        "humanoid_substeps": HUMANOID_SUBSTEPS,
        "leg_vs_humanoid_cost_per_physics_step": cost_ratio,
        "playground_humanoid": pg,
        "assumed_gpu_humanoid_physics_steps_per_s": gpu_humanoid_physics,
        "projected_gpu_leg_control_steps_per_s": gpu_leg_control,
        "projected_minutes_for_30M_steps": TUTORIAL_STEPS / gpu_leg_control / 60,
        "myoassist_published": MYOASSIST_PUBLISHED,
        "myoassist_published_hours_for_20M_steps": MYOASSIST_PUBLISHED["hours"],
    }


# ----------------------------------------------------------------------------- main


def _print_workload(w: dict[str, Any]) -> None:
    med = {k: w[k]["median"] for k in ("single_thread_c", "myoassist_style", "cpu_backend_training_style",
                                       "cpu_backend_no_auto_reset")}  # fmt: skip
    print(f"same workload ({w['envs']} envs x {w['control_steps']} control steps, fixed actions), median of "
          f"{w['repeats']}: 1-thread C {med['single_thread_c']:.0f}, MyoAssist-style "
          f"({w['myoassist_style_processes']} processes) {med['myoassist_style']:.0f}, cpu backend training-style "
          f"{med['cpu_backend_training_style']:.0f} (x{w['ratio_training_style_vs_myoassist_style']:.2f}), "
          f"without auto-reset {med['cpu_backend_no_auto_reset']:.0f} "
          f"(x{w['ratio_no_auto_reset_vs_myoassist_style']:.2f})")  # fmt: skip


def _print_header() -> None:
    names = ("backend", "batch", "compile s", "steps/s", "min-max", "x MyoAssist", "peak RSS MB", "device peak MB")
    print("{:8s} {:>6s} {:>10s} {:>10s} {:>17s} {:>12s} {:>12s} {:>14s}".format(*names))


def _print_rows(rows: list[dict[str, Any]], workload: dict[str, Any] | None) -> None:
    base = workload["myoassist_style"]["median"] if workload else None
    for r in rows:
        if "error" in r:
            print(f"{r['backend']:8s} {r['batch']:6d}  error: {r['error']}")
            continue
        s = r["steps_per_s_spread"]
        ratio = f"{r['steps_per_s'] / base:12.2f}" if base else f"{'-':>12s}"
        device = f"{r['device_peak_mb']:14.0f}" if r["device_peak_mb"] is not None else f"{'-':>14s}"
        print(f"{r['backend']:8s} {r['batch']:6d} {r['compile_s']:10.1f} {r['steps_per_s']:10.0f} "
              f"{s['min']:8.0f}-{s['max']:<8.0f} {ratio} {r['peak_rss_mb']:12.0f} {device}")  # fmt: skip


def parse_args(argv=None) -> argparse.Namespace:
    parser = make_parser(__doc__)
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=None, help="default: all three")
    for name in BACKENDS:
        parser.add_argument(f"--{name}-batches", type=int, nargs="*", default=None, help=f"{name} backend batches")
    parser.add_argument("--steps", type=int, default=30, help="control steps per timed rollout")
    parser.add_argument("--repeats", type=int, default=3, help="timed rollouts per row (median, min, max kept)")
    parser.add_argument("--workload-envs", type=int, default=64, help="envs of the same-workload comparison")
    parser.add_argument("--no-workload", action="store_true", help="skip the same-workload baselines")
    parser.add_argument("--no-projection", action="store_true", help="skip the GPU projection (CPU runs)")
    parser.add_argument("--cold-compile", action="store_true", help="rows compile without JAX's persistent cache")
    parser.add_argument("--row-timeout", type=float, default=3600.0, help="seconds before a row is given up")
    parser.add_argument("--out", type=Path, help="results file (default: results/env_throughput_<device>.json)")
    parser.add_argument("--row", nargs=2, metavar=("BACKEND", "BATCH"), help=argparse.SUPPRESS)
    parser.add_argument("--config", default=CONFIG, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import jax

    from mjx_myoassist import enable_compilation_cache

    if not args.cold_compile:
        enable_compilation_cache()
    if args.row:  # child process: one row, printed as the last line
        print(json.dumps(bench_env(args.row[0], int(args.row[1]), args.steps, args.repeats, args.config)))
        return 0
    if args.device == "gpu" and jax.default_backend() != "gpu":
        print("error: --device gpu but JAX sees no GPU (install jax[cuda12] and check nvidia-smi).", file=sys.stderr)
        return 2
    backends = args.backends or list(BACKENDS)
    given = {b: getattr(args, f"{b}_batches") for b in backends}
    batches = {b: given[b] if given[b] is not None else DEFAULT_BATCHES[args.device][b] for b in backends}
    cores = os.cpu_count() or 1
    workload = None if args.no_workload else same_workload(args.workload_envs, args.steps, args.repeats, cores)
    if workload:
        _print_workload(workload)
    rows = []
    _print_header()
    for backend in backends:
        for batch in batches[backend]:
            rows.append(run_row(backend, batch, args))
            _print_rows(rows[-1:], workload)
    for r in rows:
        if workload and "error" not in r:
            r["ratio_vs_single_thread_c"] = r["steps_per_s"] / workload["single_thread_c"]["median"]
            r["ratio_vs_myoassist_style"] = r["steps_per_s"] / workload["myoassist_style"]["median"]
    mjx_ok = [r for r in rows if r["backend"] == "mjx" and "error" not in r]
    projection = None
    if args.device == "cpu" and mjx_ok and not args.no_projection:
        projection = gpu_projection(mjx_ok[-1], args)
        if "error" not in projection:
            print(f"GPU projection (from CPU-measured ratios): a leg physics step costs "
                  f"{projection['leg_vs_humanoid_cost_per_physics_step']:.1f} humanoid steps -> "
                  f"~{projection['projected_minutes_for_30M_steps']:.0f} min for 30M steps")  # fmt: skip
    settings = {
        "config": CONFIG,
        "substeps_per_control_step": SUBSTEPS,
        "steps_per_rollout": args.steps,
        "repeats": args.repeats,
        "batches": batches,
        "compile_cache": "off" if args.cold_compile else "persistent",
        "actions": "uniform random in [-1, 1]",
        "stepping": "jit(scan(vmap(step_with_auto_reset)))",
    }
    result = {**header(settings), "substeps_per_control_step": SUBSTEPS, "same_workload": workload, "rows": rows,
              "gpu_projection": projection}  # fmt: skip
    write_json(args.out or RESULTS / f"env_throughput_{args.device}.json", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
