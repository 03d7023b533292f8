"""Renders benchmarks/README.md from benchmarks/results/*.json as plain tables: every number comes from a
results file; the short notes of each section are fixed text, written once in readme_speed.py,
readme_myoassist.py, readme_rough.py, readme_walk.py and readme_humanoid.py (table helpers: readme_tables.py).

Usage (from the repository root): ``python -m benchmarks.readme`` writes the README, ``--check`` exits 1
when the README differs from what the results render, ``--results DIR --out FILE`` renders other results.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from benchmarks import readme_myoassist as myo
from benchmarks import readme_speed as speed
from benchmarks.harness import RESULTS
from benchmarks.readme_humanoid import humanoid_section
from benchmarks.readme_rough import rough_terrain_section
from benchmarks.readme_tables import Json, table
from benchmarks.readme_walk import walk_from_scratch_section

README = RESULTS.parent / "README.md"

HEAD = """# Benchmarks

Scripts, never timed tests. Each measures its baseline in the same run (these machines are noisy) and
writes `benchmarks/results/*.json` (date, commit, machine with CPU model, versions, settings, every number;
files written before the shared harness lack some of these). Run them from the repository root as
modules. This file is rendered from the JSON files by `python -m benchmarks.readme`
(`tests/test_benchmarks_readme.py` fails when it differs): edit `benchmarks/readme*.py`, not this file."""

COMMANDS = [  # (command, what it measures, results file)
    ("`python -m benchmarks.env_throughput [--device cpu\\|gpu]`",
     "leg-exo env control steps/s vs batch size per backend, compile time, peak memory; baselines one C thread "
     "and MyoAssist-style stepping on the same workload", "`env_throughput_<device>.json`"),
    ("`python -m benchmarks.train_throughput [--device cpu\\|gpu]`",
     "training env-steps/s of our trainer per backend, projected time of a 30M-step run",
     "`train_throughput_<device>.json`"),
    ('`pip install -e ".[bench]" && python -m benchmarks.train_vs_sb3 [--task stand\\|leg\\|both] [--budget 180] '
     "[--seeds 0 1 2]`", "our trainer vs SB3 PPO + `SubprocVecEnv`, same settings", "`train_vs_sb3.json`"),
    ("`python -m benchmarks.myoassist_policy_walk`",
     "MyoAssist's published tutorial policy on this project's physics, per backend/contact/precision",
     "`myoassist_policy_walk.json`"),
    ("`python -m benchmarks.rough_terrain [--rows ...] [--episodes 10] [--contacts] [--warp-probe]`",
     "MyoAssist's rough-terrain policy on MyoAssist's field per backend and contact model, the contact "
     "models' loads and clearance at the same states, C MuJoCo vs Warp contacts there", "`rough_terrain.json`"),
    ("`python -m benchmarks.physics_rate [--rows ...] [--episodes 5]`",
     "that policy at lower physics rates and other integrators", "`physics_rate.json`"),
    ("`python -m benchmarks.physics_rate_cost`", "env control steps/s at 1200 Hz and 600 Hz physics",
     "`physics_rate_backend_cost.json`"),
    ("`python -m benchmarks.myoassist_models_parity`",
     "every MyoAssist model: MJX (float64) vs CPU MuJoCo over 1 s (`python -m mjx_myoassist.analysis.parity`)",
     "`myoassist_models_parity.json`"),
    ("`python -m benchmarks.learning_vs_myoassist [--steps 540672] [--backend cpu]`",
     "our trainer beside MyoAssist's own training curve", "`learning_vs_myoassist.json`"),
    ("`python -m benchmarks.walk_from_scratch --session DIR --commit C [--earlier-run DIR C] [--export] [--check] "
     "[--random-starts N] [--published-walk-test] [--gait]`",
     "a from-scratch run of the many-envs preset until its walk test passes", "`walk_from_scratch.json`"),
    ("`python -m benchmarks.humanoid_seed004 --stand-session DIR --kneel-session DIR --stand-commit C --kneel-commit C "
     "[--export stand kneel] [--check]` and `... --sb3 [--budget 1800]`",
     "the humanoid's stand and kneel trained here; SB3's time to stand",
     "`humanoid_seed004.json`, `humanoid_seed004_sb3.json`"),
    ("`python -m benchmarks.readme`", "this file, from `benchmarks/results/*.json`", "—"),
]  # fmt: skip

SECTIONS: list[tuple[str, Callable[[Json], str]]] = [
    ("env_throughput_gpu", lambda d: speed.env_section(d, "GPU")),
    ("env_throughput_cpu", lambda d: speed.env_section(d, "CPU")),
    ("train_throughput_gpu", lambda d: speed.train_throughput_section(d, "GPU")),
    ("train_throughput_cpu", lambda d: speed.train_throughput_section(d, "CPU")),
    ("train_vs_sb3", speed.sb3_section),
    ("myoassist_policy_walk", myo.policy_walk_section),
    ("rough_terrain", rough_terrain_section),
    ("physics_rate", myo.physics_rate_section),
    ("physics_rate_backend_cost", myo.physics_rate_cost_section),
    ("myoassist_models_parity", myo.models_parity_section),
    ("learning_vs_myoassist", myo.learning_section),
    ("walk_from_scratch", walk_from_scratch_section),
    ("humanoid_seed004", humanoid_section),
    ("env_throughput_cpu", speed.projection_section),
]


def load(results: Path, name: str) -> Json | None:
    path = results / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def render(results: Path = RESULTS) -> str:
    """The README text for the results files in ``results``."""
    parts = [HEAD, "", table(["command", "measures", "results/"], [list(c) for c in COMMANDS]), "", "## Results"]
    for name, section in SECTIONS:
        data = load(results, name)
        text = section(data) if data is not None else ""
        if text:
            parts += ["", text]
    return "\n".join(parts).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=README)
    parser.add_argument("--check", action="store_true", help="exit 1 when --out differs from the rendered text")
    args = parser.parse_args(argv)
    text = render(args.results)
    if args.check:
        same = args.out.is_file() and args.out.read_text() == text
        print(f"{args.out} is {'up to date' if same else 'out of date: run python -m benchmarks.readme'}")
        return 0 if same else 1
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
