"""MyoAssist's published tutorial policy walking in this project's env, row by row.

The policy (partial obs, 20M steps, SB3 zip) runs deterministically for 10 s from 5 random
reference starts, target 1.25 m/s, reference ``recorded/surrogate_short_reference_gait.npz``,
off-trajectory termination off (as MyoAssist's evaluator).  The target is MyoAssist's own
env: 5 of 5 walk the whole 10 s, 11.63-11.74 m (``recorded/results_partial_obs_eval.json``).

Rows (each in its own process, so float64 can be switched on per row):
* ``original_contacts_cpu``: MyoAssist's TUTORIAL XML with its mesh contacts and solver, cpu backend;
* ``mjx_ready_cpu``: the same XML through the MJX-ready edits, cpu backend;
* ``mjx_ready_cpu_solver_100``: the same with MyoAssist's 100/50 solver iterations instead of 4/8;
* ``mjx_ready_mjx_f32`` / ``mjx_ready_mjx_x64``: the edited model on MJX in float32 / float64;
* ``mjx_ready_mjx_f32_via_armature``: float32 MJX with armature 0.01 on the via-point slide joints
  (``env_params.via_point_armature``, docs/models.md, Precision);
* ``mjx_ready_warp_f32``: the edited model on MuJoCo Warp (float32, no armature; slow on a CPU);
* ``embedded_cpu``: the embedded assist-sim model (no MyoAssist checkout), cpu backend.

Usage: ``python -m benchmarks.myoassist_policy_walk [--fixtures ../shared/myoassist_fixtures]
[--rows ...] [--episodes 5] [--no-cost]``; writes ``benchmarks/results/myoassist_policy_walk.json``
(rows not run again keep their earlier results; each row records its ``measured_at``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.harness import (
    RESULTS,
    ROOT,
    header,
    measured_at,
    module_command,
    rows_parser,
    start_rows,
    write_json,
)

RESULT_FILE = RESULTS / "myoassist_policy_walk.json"
SESSION = "myoassist/docs/assets/tutorial_rl_models/train_session_20250728-161129_tutorial_partial_obs"
ROWS = {
    "original_contacts_cpu": {"backend": "cpu", "edits": False, "x64": False, "myoassist_model": True},
    "mjx_ready_cpu": {"backend": "cpu", "edits": True, "x64": False, "myoassist_model": True},
    "mjx_ready_cpu_solver_100": {"backend": "cpu", "edits": True, "x64": False, "myoassist_model": True, "solver": 100},
    "mjx_ready_mjx_f32": {"backend": "mjx", "edits": True, "x64": False, "myoassist_model": True},
    "mjx_ready_mjx_x64": {"backend": "mjx", "edits": True, "x64": True, "myoassist_model": True},
    "mjx_ready_mjx_f32_via_armature": {
        "backend": "mjx",
        "edits": True,
        "x64": False,
        "myoassist_model": True,
        "via_point_armature": 0.01,
    },
    "mjx_ready_warp_f32": {"backend": "warp", "edits": True, "x64": False, "myoassist_model": True},
    "embedded_cpu": {"backend": "cpu", "edits": True, "x64": False, "myoassist_model": False},
}
SECONDS = 10.0
COST_REPEATS = 3
WALKED_DISTANCE = 11.0  # m, the bar of the acceptance test (MyoAssist: 11.63-11.74 m)


def overrides(fixtures: Path, row: dict) -> list[str]:
    out = [
        "--config.env_params.reference_data_path", str(fixtures / "recorded/surrogate_short_reference_gait.npz"),
        "--config.env_params.mjx_ready_edits", "true" if row["edits"] else "false",
        "--config.env_params.min_target_velocity", "1.25",
        "--config.env_params.max_target_velocity", "1.25",
        "--config.env_params.physics_precision", "float64" if row["x64"] else "float32",
    ]  # fmt: skip
    if row["myoassist_model"]:
        out += ["--config.env_params.myoassist_root", str(fixtures / "myoassist")]
    if row.get("via_point_armature"):
        out += ["--config.env_params.via_point_armature", str(row["via_point_armature"])]
    if row.get("solver"):
        out += ["--config.env_params.solver_iterations", str(row["solver"])]
        out += ["--config.env_params.solver_ls_iterations", str(row["solver"] // 2)]
    return out


def physics_cost(fixtures: Path, name: str) -> dict:
    """C MuJoCo, one thread: ms per control step (40 substeps) from every state of MyoAssist's recorded gait.

    The best of ``COST_REPEATS`` passes is reported (all passes are kept): other processes on
    the machine only ever slow a pass down.
    """
    import mujoco
    import numpy as np

    from mjx_myoassist.config import load_config
    from mjx_myoassist.envs import make

    row = ROWS[name]
    preset = fixtures / "imitation_tutorial_22_separated_net_partial_obs.json"
    args = overrides(fixtures, row) + ["--config.env_params.physics_backend", "cpu"]
    model = make(load_config(preset, args)).model
    rollout = np.load(fixtures / "recorded/rollout_partial_obs_seed0.npz")
    data = mujoco.MjData(model)
    repeats = []
    for _ in range(COST_REPEATS):
        start = time.perf_counter()
        for t in range(len(rollout["qpos"]) - 1):
            data.qpos, data.qvel, data.act, data.ctrl = (rollout[k][t] for k in ("qpos", "qvel", "act", "ctrl"))
            mujoco.mj_step(model, data, 40)
        repeats.append(1e3 * (time.perf_counter() - start) / (len(rollout["qpos"]) - 1))
    return {
        "ms_per_control_step": min(repeats),
        "ms_per_control_step_repeats": repeats,
        "iterations": int(model.opt.iterations),
    }


def run_row(name: str, fixtures: Path, episodes: int) -> dict:
    """One row in this process: per-episode results and a summary."""
    row = ROWS[name]
    from mjx_myoassist import enable_compilation_cache
    from mjx_myoassist.evaluate import evaluate_policy

    enable_compilation_cache()
    start = time.perf_counter()
    episodes_out = evaluate_policy(
        fixtures / SESSION, overrides=overrides(fixtures, row), episodes=episodes, seconds=SECONDS,
        backend=row["backend"],
    )  # fmt: skip
    wall = time.perf_counter() - start
    distances = [e["distance"] for e in episodes_out]
    full = [e["steps"] == round(SECONDS * 30) and not e["terminated"] for e in episodes_out]
    return {
        "row": name,
        **row,
        "episodes": episodes_out,
        "walked_full_10s": int(sum(full)),
        "walked_11m": int(sum(f and d >= WALKED_DISTANCE for f, d in zip(full, distances, strict=True))),
        "distance_min": min(distances),
        "distance_max": max(distances),
        "wall_s_including_compile": wall,
    }


def myoassist_reference(fixtures: Path) -> dict:
    runs = json.loads((fixtures / "recorded/results_partial_obs_eval.json").read_text())
    distances = [r["pelvis_tx_distance_m"] for r in runs]
    return {
        "walked_full_10s": sum(r["steps"] == 300 for r in runs),
        "distance_min": min(distances),
        "distance_max": max(distances),
        "source": "recorded/results_partial_obs_eval.json (MyoAssist's own env, mujoco 3.3.3)",
    }


def main(argv: list[str] | None = None) -> int:
    parser = rows_parser(__doc__, RESULT_FILE, list(ROWS), episodes=5)
    parser.add_argument("--no-cost", action="store_true", help="skip the C physics cost passes")
    started = start_rows(parser, argv, run_row)
    if started is None:
        return 0
    args, fixtures, earlier = started
    settings = {"rows": args.rows, "episodes": args.episodes, "seconds": SECONDS, "cost": not args.no_cost}
    results = {
        **header(settings),
        "myoassist": myoassist_reference(fixtures),
        "rows": earlier.get("rows", {}),  # rows not run again keep their results and measured_at
        "physics_cost_c_one_thread": {} if not args.no_cost else earlier.get("physics_cost_c_one_thread", {}),
        "physics_cost_measured_at": measured_at() if not args.no_cost else earlier.get("physics_cost_measured_at"),
    }
    for name in () if args.no_cost else ("original_contacts_cpu", "mjx_ready_cpu", "mjx_ready_cpu_solver_100"):
        results["physics_cost_c_one_thread"][name] = physics_cost(fixtures, name)
        print(f"{name:24s} C cost {results['physics_cost_c_one_thread'][name]['ms_per_control_step']:.1f} ms/step")
    for name in args.rows:
        cmd = module_command(
            "myoassist_policy_walk", "--fixtures", str(fixtures), "--episodes", str(args.episodes), "--one-row", name
        )
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        if out.returncode:
            results["rows"][name] = {"row": name, "error": out.stderr.strip().splitlines()[-6:]}
        else:
            results["rows"][name] = {**json.loads(out.stdout.strip().splitlines()[-1]), "measured_at": measured_at()}
        r = results["rows"][name]
        summary = (
            r.get("error")
            or f"{r['walked_full_10s']}/{args.episodes} walked 10 s, {r['distance_min']:.2f}-{r['distance_max']:.2f} m"
        )
        print(f"{name:24s} {summary}", flush=True)
    ref = results["myoassist"]
    span = f"{ref['distance_min']:.2f}-{ref['distance_max']:.2f} m"
    print(f"{'myoassist (recorded)':24s} {ref['walked_full_10s']}/5 walked 10 s, {span}")
    write_json(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
