"""Env stepping cost per backend at MyoAssist's 1200 Hz physics and at 600 Hz (the physics-rate option).

Runs ``env_throughput.py`` rows (cpu and mjx backends, 64 envs, training-style stepping, median of 3)
on the test preset at each physics rate, one after the other in this run, and writes
``benchmarks/results/physics_rate_backend_cost.json`` with the 600 Hz / 1200 Hz speed-up per backend.

Usage: ``python benchmarks/physics_rate_cost.py [--batch 64] [--backends cpu mjx]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
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
    cmd = [sys.executable, str(HERE / "env_throughput.py"), "--backends", *args.backends, *batches,
           "--no-workload", "--no-projection", "--config", str(preset_at(rate, folder)), "--out", str(out)]  # fmt: skip
    subprocess.run(cmd, check=True)
    return json.loads(out.read_text())["rows"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    result = {
        "benchmark": "physics_rate_backend_cost",
        "batch": args.batch,
        "rows": rows,
        "speedup_600_vs_1200": speedup,
    }
    (HERE / "results" / "physics_rate_backend_cost.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(speedup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
