"""Renders benchmarks/README.md from benchmarks/results/*.json: every number in it comes from a results file.

The prose lives as templates here and in the sibling modules readme_throughput.py and readme_myoassist.py
(shared helpers in readme_format.py); tables and numeric sentences are filled from the JSON.  Results files
written before the benchmark fixes of issue 15 (one seed, unmatched observation normalisation, no repeats)
are rendered with that said next to their numbers.

Usage: ``python benchmarks/make_readme.py`` (writes the README), ``--check`` (exit 1 when the README differs
from what the results render), ``--results DIR --out FILE`` (render other results, e.g. a test run's).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from readme_format import Json, table  # noqa: E402
from readme_myoassist import (  # noqa: E402
    learning_section,
    models_parity_section,
    physics_rate_cost_section,
    physics_rate_section,
    policy_walk_section,
)
from readme_throughput import env_section, projection_section, sb3_section, train_throughput_section  # noqa: E402

RESULTS = HERE / "results"
README = HERE / "README.md"

HEAD = """# Benchmarks

Scripts, never timed tests. Each measures its baseline in the same run (these machines are
noisy) and writes `benchmarks/results/*.json` (machine, versions, date, settings, every number).
This file is generated from those JSON files by `python benchmarks/make_readme.py`
(`tests/test_benchmarks_readme.py` fails when it differs); edit the templates there, not here.
"""

COMMANDS = [  # (command, what it measures): the README's first table
    ("`python benchmarks/env_throughput.py [--device cpu\\|gpu]`",
     "leg-exo env control steps/s (40 physics substeps each) vs batch size for the cpu, mjx and warp backends "
     "(training-style auto-resetting stepping, median of repeats), compile time, peak memory (RSS; GPU allocator "
     "peak); baselines: one C thread and MyoAssist-style one-env-per-process stepping on the same workload; a GPU "
     "projection on CPU runs"),
    ("`python benchmarks/train_throughput.py [--device cpu\\|gpu]`",
     "end-to-end training env-steps/s of our trainer per backend (MyoAssist's tutorial preset, compile excluded, "
     "3 seeds) and the projected time of MyoAssist's 30M-step tutorial run"),
    ('`pip install -e ".[bench]" && python benchmarks/train_vs_sb3.py [--task stand\\|leg\\|both] [--budget 180] '
     "[--seeds 0 1 2]`",
     "end-to-end training env-steps/s and time to a return threshold, our trainer vs SB3 PPO + `SubprocVecEnv`, same "
     "PPO settings and observation normalisation, compile outside both timed windows"),
    ("`python benchmarks/physics_rate.py [--rows ...] [--episodes 5]`",
     "MyoAssist's tutorial policy at 1200 Hz physics vs lower rates and other integrators (cpu backend): falls, "
     "distance, joint-angle and foot-force RMS vs 1200 Hz, one-step integration error, C cost per control step"),
    ("`python benchmarks/physics_rate_cost.py`",
     "env control steps/s of the cpu and mjx backends at 1200 Hz and 600 Hz physics, in one run"),
    ("`python benchmarks/myoassist_policy_walk.py`",
     "MyoAssist's published tutorial policy (SB3 zip, imported) on MyoAssist's TUTORIAL model here: 5 deterministic "
     "10 s episodes per backend/contact/precision row vs MyoAssist's own recorded runs; C cost per control step"),
    ("`python benchmarks/myoassist_models_parity.py`",
     "every MyoAssist model of a checkout through the MJX-ready edits: MJX (float64) vs CPU MuJoCo over 1 s, 4 "
     "cases; compile time of `jit(mjx.step)`"),
    ("`python benchmarks/learning_vs_myoassist.py [--steps 540672] [--backend cpu]`",
     "our trainer on MyoAssist's partial-obs tutorial preset beside MyoAssist's own training curve (episode length "
     "and reward per episode in MyoAssist's logging windows)"),
    ("`python benchmarks/make_readme.py`", "this file, from `benchmarks/results/*.json`"),
]  # fmt: skip


# ----------------------------------------------------------------------------- assembly


def load(results: Path, name: str) -> Json | None:
    path = results / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def render(results: Path = RESULTS) -> str:
    """The README text for the results files in ``results``."""
    parts = [HEAD, table(["command", "measures"], [list(c) for c in COMMANDS]), "", "## Results", ""]
    sections: list[tuple[str, Callable[[Json], str]]] = [
        ("env_throughput_gpu", lambda d: env_section(d, "GPU")),
        ("env_throughput_cpu", lambda d: env_section(d, "CPU")),
        ("train_throughput_gpu", lambda d: train_throughput_section(d, "GPU")),
        ("train_throughput_cpu", lambda d: train_throughput_section(d, "CPU")),
        ("train_vs_sb3", sb3_section),
        ("myoassist_policy_walk", policy_walk_section),
        ("physics_rate", physics_rate_section),
        ("physics_rate_backend_cost", physics_rate_cost_section),
        ("myoassist_models_parity", models_parity_section),
        ("learning_vs_myoassist", learning_section),
    ]
    for name, section in sections:
        data = load(results, name)
        if data is not None:
            parts += [section(data), ""]
    cpu = load(results, "env_throughput_cpu")
    projection = projection_section(cpu) if cpu else ""
    if projection:
        parts += [projection, ""]
    return "\n".join(parts).rstrip("\n") + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=README)
    parser.add_argument("--check", action="store_true", help="exit 1 when --out differs from the rendered text")
    args = parser.parse_args(argv)
    text = render(args.results)
    if args.check:
        same = args.out.is_file() and args.out.read_text() == text
        print(f"{args.out} is {'up to date' if same else 'out of date: run python benchmarks/make_readme.py'}")
        return 0 if same else 1
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
