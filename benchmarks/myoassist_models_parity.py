"""Every MyoAssist model of a checkout through the MJX-ready edits: MJX vs CPU MuJoCo over 1 s.

For each model id whose files load (``mjx_myoassist.models.myoassist.MYOASSIST_MODEL_IDS``),
runs ``python -m mjx_myoassist.models.parity --model ID --myoassist-root ROOT --x64 --json``
(four cases: standing, walking keyframe, airborne with random excitation, standing with
excitation and exo torque; 30 control steps of 40 substeps) in its own process, and times
the compile of one jitted ``mjx.step`` of the TUTORIAL model (float32, the training precision).

Usage: ``python benchmarks/myoassist_models_parity.py [--root ../shared/myoassist_fixtures/myoassist]
[--models ID ...] [--no-compile-time]``; writes ``benchmarks/results/myoassist_models_parity.json`` (models
not run again, and the compile time when not timed again, keep their earlier results; ``--models`` with no
id times the compile only).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
COMPILE_MODEL = "myoleg22_2d_tutorial"


def parity(model_id: str, root: Path) -> dict:
    cmd = [sys.executable, "-m", "mjx_myoassist.models.parity", "--model", model_id, "--myoassist-root", str(root)]
    start = time.perf_counter()
    out = subprocess.run([*cmd, "--x64", "--json"], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode:
        return {"model": model_id, "error": (out.stderr.strip().splitlines() or ["?"])[-1], "wall_s": wall}
    report = json.loads(out.stdout.strip().splitlines()[-1])
    worst = {k: max(max(case[k]) for case in report.values()) for k in ("qpos", "qvel", "act", "grf")}
    return {"model": model_id, "cases": report, "worst_over_cases": worst, "wall_s": wall}


def step_compile_seconds(model_id: str, root: Path) -> float:
    """Seconds to compile jit(mjx.step) of one world (float32), measured in a fresh process without a cache."""
    code = (
        "import time, jax; from mujoco import mjx; from mjx_myoassist.models import load_model;"
        f"m = load_model({model_id!r}, {str(root)!r}); mx = mjx.put_model(m); dx = mjx.make_data(mx);"
        "t = time.perf_counter(); jax.jit(mjx.step).lower(mx, dx).compile(); print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    from mjx_myoassist.models.myoassist import MYOASSIST_MODEL_IDS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_root = Path(__file__).resolve().parents[2] / "shared/myoassist_fixtures/myoassist"
    parser.add_argument("--root", type=Path, default=default_root)
    parser.add_argument("--models", nargs="*", choices=MYOASSIST_MODEL_IDS, default=list(MYOASSIST_MODEL_IDS))
    parser.add_argument("--no-compile-time", action="store_true", help="skip the jit(mjx.step) compile timing")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    out_file = RESULTS / "myoassist_models_parity.json"
    earlier = json.loads(out_file.read_text()) if out_file.is_file() else {}
    results: dict = {**earlier, "root": str(root), "models": earlier.get("models", {})}
    RESULTS.mkdir(exist_ok=True)
    if not args.no_compile_time:
        load = os.getloadavg()[0]
        compile_s = step_compile_seconds(COMPILE_MODEL, root)
        results["step_compile_s"] = {COMPILE_MODEL: compile_s}
        results["step_compile_measured"] = {"date": date.today().isoformat(), "load_average_1min_before": load}
        print(f"jit(mjx.step) compile, {COMPILE_MODEL}: {compile_s:.1f} s", flush=True)
        out_file.write_text(json.dumps(results, indent=1))
    for model_id in args.models:
        row = {**parity(model_id, root), "date": date.today().isoformat()}
        results["models"][model_id] = row
        text = row.get("error") or " ".join(f"{k} {v:.1e}" for k, v in row["worst_over_cases"].items())
        print(f"{model_id:22s} {text}", flush=True)
        out_file.write_text(json.dumps(results, indent=1))  # after every model: a partial run keeps its rows
    return 0


if __name__ == "__main__":
    sys.exit(main())
