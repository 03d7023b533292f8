"""Env stepping cost per backend at MyoAssist's 1200 Hz physics and at 600 Hz (the physics-rate option).

Runs ``benchmarks.env_throughput`` rows (cpu and mjx backends, 64 envs, training-style stepping, median of 3)
on the test preset at each physics rate, one after the other in this run, and writes
``benchmarks/results/physics_rate_backend_cost.json`` with the 600 Hz / 1200 Hz speed-up per backend.

Usage: ``python -m benchmarks.physics_rate_cost [--batch 64] [--backends cpu mjx]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.harness import RESULTS, ROOT, header, make_parser, module_command, write_json

RATES = (1200, 600)


def preset_at(rate: int, folder: Path) -> Path:
    from mjx_myoassist.config import find_config

    data = json.loads(find_config("test").read_text())
    data["env_params"]["physics_sim_framerate"] = rate
    path = folder / f"test_{rate}hz.json"
    path.write_text(json.dumps(data))
    return path


def rows_at(rate: int, args: argparse.Namespace, folder: Path) -> list[dict]:
    out = folder / f"env_{rate}hz.json"
    batches = [item for b in args.backends for item in (f"--{b}-batches", str(args.batch))]
    flags = ["--no-workload", "--no-projection", "--config", str(preset_at(rate, folder)), "--out", str(out)]
    cmd = module_command("env_throughput", "--backends", *args.backends, *batches, *flags)
    subprocess.run(cmd, check=True, cwd=ROOT)
    return json.loads(out.read_text())["rows"]


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__, out=RESULTS / "physics_rate_backend_cost.json")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--backends", nargs="+", default=["cpu", "mjx"], choices=["cpu", "mjx", "warp"])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        rows = {str(rate): rows_at(rate, args, Path(tmp)) for rate in RATES}
    speedup = {
        r["backend"]: r["steps_per_s"] / next(b["steps_per_s"] for b in rows["1200"] if b["backend"] == r["backend"])
        for r in rows["600"]
        if "error" not in r
    }
    settings = {"batch": args.batch, "backends": args.backends, "physics_hz": list(RATES), "config": "test"}
    result = {
        **header(settings),
        "benchmark": "physics_rate_backend_cost",
        "batch": args.batch,
        "rows": rows,
        "speedup_600_vs_1200": speedup,
    }
    write_json(args.out, result)
    print(json.dumps(speedup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
