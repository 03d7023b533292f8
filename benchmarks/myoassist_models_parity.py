"""Every MyoAssist model of a checkout through the MJX-ready edits: MJX vs CPU MuJoCo over 1 s.

A thin caller of the parity tool (``mjx_myoassist.analysis.parity``): for each model id whose files load
(``mjx_myoassist.models.myoassist.MYOASSIST_MODEL_IDS``) it runs
``python -m mjx_myoassist.analysis.parity model --model ID --myoassist-root ROOT --x64 --json`` (four cases:
standing, walking keyframe, airborne with random excitation, standing with excitation and exo torque; 30
control steps of 40 substeps) in its own process, and times the compile of one jitted ``mjx.step`` of the
TUTORIAL model (float32, the training precision).

Usage: ``python -m benchmarks.myoassist_models_parity [--root ../shared/myoassist_fixtures/myoassist]
[--models ID ...] [--no-compile-time]``; writes ``benchmarks/results/myoassist_models_parity.json`` (models
not run again, and the compile time when not timed again, keep their earlier results; ``--models`` with no
id times the compile only).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path

from benchmarks.harness import FIXTURES, RESULTS, header, make_parser, write_json
from mjx_myoassist.analysis.parity import model_row, step_compile_seconds

COMPILE_MODEL = "myoleg22_2d_tutorial"


def main(argv: list[str] | None = None) -> int:
    from mjx_myoassist.models.myoassist import MYOASSIST_MODEL_IDS

    parser = make_parser(__doc__, out=RESULTS / "myoassist_models_parity.json")
    parser.add_argument("--root", type=Path, default=FIXTURES / "myoassist", help="MyoAssist checkout")
    parser.add_argument("--models", nargs="*", choices=MYOASSIST_MODEL_IDS, default=list(MYOASSIST_MODEL_IDS))
    parser.add_argument("--no-compile-time", action="store_true", help="skip the jit(mjx.step) compile timing")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    earlier = json.loads(args.out.read_text()) if args.out.is_file() else {}
    settings = {"models": args.models, "precision": "float64", "compile_model": COMPILE_MODEL}
    results: dict = {**earlier, **header(settings), "root": str(root), "models": earlier.get("models", {})}
    if not args.no_compile_time:
        load = os.getloadavg()[0]
        compile_s = step_compile_seconds(COMPILE_MODEL, root)
        results["step_compile_s"] = {COMPILE_MODEL: compile_s}
        results["step_compile_measured"] = {"date": date.today().isoformat(), "load_average_1min_before": load}
        print(f"jit(mjx.step) compile, {COMPILE_MODEL}: {compile_s:.1f} s", flush=True)
        write_json(args.out, results, quiet=True)
    for model_id in args.models:
        row = {**model_row(model_id, root), "date": date.today().isoformat()}
        results["models"][model_id] = row
        text = row.get("error") or " ".join(f"{k} {v:.1e}" for k, v in row["worst_over_cases"].items())
        print(f"{model_id:22s} {text}", flush=True)
        write_json(args.out, results, quiet=True)  # after every model: a partial run keeps its rows
    return 0


if __name__ == "__main__":
    sys.exit(main())
