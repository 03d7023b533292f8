"""The shared benchmark harness: what every results JSON records (machine with CPU model, versions, commit,
date, settings), timing with repeats and their spread, the JSON writer, the common command-line options and
rows run in their own process.

Scripts are modules of the ``benchmarks`` package, run from the repository root as
``python -m benchmarks.<script> ...``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
FIXTURES = ROOT.parent / "shared" / "myoassist_fixtures"  # MyoAssist fixtures beside the checkout
TUTORIAL_STEPS = 30e6  # MyoAssist's tutorial run (env steps)


def spread(values: Sequence[float]) -> dict[str, Any]:
    """Mean, median, min, max and std (sample, 0 for one value) of repeated measurements, and the values."""
    values = [float(v) for v in values]
    return {
        "mean": statistics.fmean(values),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "n": len(values),
        "values": values,
    }


def repeat_seconds(fn: Callable[[int], object], repeats: int) -> list[float]:
    """Wall seconds of ``fn(i)`` for i in 0..repeats-1 (the caller warms up and blocks on results inside ``fn``)."""
    seconds = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        seconds.append(time.perf_counter() - start)
    return seconds


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def device_peak_mb() -> float | None:
    """Peak bytes held by JAX's allocator on the first device (MiB); None where JAX does not report it (CPU)."""
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    return stats["peak_bytes_in_use"] / 2**20 if "peak_bytes_in_use" in stats else None


def git_commit() -> str:
    """Short commit of the checkout, with '+dirty' when tracked files differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def measured_at() -> str:
    """The checkout's commit and today's date (rows of one results file can come from different runs)."""
    return f"commit {git_commit()}, {date.today().isoformat()}"


def versions(*extra: str) -> dict[str, str | None]:
    """Python and package versions (None for a package that is not installed)."""

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    names = ("jax", "jaxlib", "mujoco", "mujoco-mjx", "warp-lang", *extra)
    return {"python": platform.python_version(), **{name: version(name) for name in names}}


def cpu_model() -> str:
    """The CPU's model name (timings differ between machines of the same size by up to 2.4x)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or platform.machine()
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")


def machine() -> dict[str, Any]:
    """Platform, CPU model, cores, JAX backend and its first device."""
    import jax

    device = jax.devices()[0]
    return {
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "jax_backend": jax.default_backend(),
        "device": str(device),
        "device_kind": getattr(device, "device_kind", None),
    }


def header(settings: dict[str, Any], *extra_versions: str) -> dict[str, Any]:
    """The common head of every results JSON."""
    return {
        "date": time.strftime("%Y-%m-%d"),
        "commit": git_commit(),
        "machine": machine(),
        "versions": versions(*extra_versions),
        "settings": settings,
    }


def export_policy(checkpoint: Path, dest: Path, config: Callable[[dict], dict] | None = None) -> Path:
    """Writes a checkpoint's policy into ``dest`` (emptied first): its weights and meta, no training state, and
    its config (rewritten by ``config``, e.g. to paths that hold in any checkout) as ``session_config.json``."""
    import shutil

    policy_file, meta_file = "policy.npz", "meta.json"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copy2(checkpoint / policy_file, dest / policy_file)
    meta = json.loads((checkpoint / meta_file).read_text())
    meta.update(config=config(meta["config"]) if config else meta["config"], env_state=False,
                sha256={policy_file: meta["sha256"][policy_file]})  # fmt: skip
    (dest / meta_file).write_text(json.dumps(meta, indent=1))
    (dest / "session_config.json").write_text(json.dumps(meta["config"], indent=2))
    return dest


def evaluate_by_command_line(args: Sequence[str], cwd: Path) -> list[dict[str, Any]]:
    """``python -m mjx_myoassist.evaluate <args>`` in a fresh process run in ``cwd``: its per-episode rows."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "mjx_myoassist.evaluate", *args, "--json", f"{tmp}/rows.json"]
        subprocess.run(command, cwd=cwd, check=True)
        return json.loads(Path(f"{tmp}/rows.json").read_text())["episodes"]


def gait_by_command_line(args: Sequence[str], cwd: Path) -> dict[str, Any]:
    """``python -m mjx_myoassist.render <args> --no-video`` (``mjx-render``) in a fresh process run in ``cwd``: the
    replayed episode's ``gait_metrics.json`` (return, end, reward terms, gait)."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "mjx_myoassist.render", *args, "--no-video", "--out", tmp]
        subprocess.run(command, cwd=cwd, check=True)
        return json.loads(Path(tmp, "gait_metrics.json").read_text())


def write_json(path: Path, data: dict[str, Any], quiet: bool = False) -> None:
    """Writes a results file (indent 1, trailing newline), creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
    if not quiet:
        print(f"wrote {path}")


def make_parser(doc: str | None, out: Path | None = None, fixtures: bool = False) -> argparse.ArgumentParser:
    """The common command line: the script's docstring as help, ``--out`` (when the script writes one results
    file, default ``out``) and ``--fixtures`` (MyoAssist fixtures folder, default ``FIXTURES``)."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if out is not None:
        p.add_argument("--out", type=Path, default=out, help=f"results file (default: {out.relative_to(ROOT)})")
    if fixtures:
        p.add_argument("--fixtures", type=Path, default=FIXTURES, help="MyoAssist fixtures folder")
    return p


def rows_parser(doc: str | None, out: Path, rows: Sequence[str], episodes: int) -> argparse.ArgumentParser:
    """The command line of a script whose named rows each run in their own process: ``--rows`` (none: only the
    script's other parts), ``--episodes``, ``--fixtures``, ``--out``, and the hidden ``--one-row`` a child runs."""
    parser = make_parser(doc, out=out, fixtures=True)
    parser.add_argument("--rows", nargs="*", choices=list(rows), default=list(rows))
    parser.add_argument("--episodes", type=int, default=episodes)
    parser.add_argument("--one-row", choices=list(rows), help=argparse.SUPPRESS)
    return parser


def start_rows(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None, run_row: Callable[[str, Path, int], Any]
) -> tuple[argparse.Namespace, Path, dict[str, Any]] | None:
    """Parses a :func:`rows_parser` command line.  In a child (``--one-row``) runs that row, prints its JSON
    and returns None; else returns (arguments, the fixtures folder resolved, the results file's earlier
    content or {}: rows not run again keep theirs)."""
    args = parser.parse_args(argv)
    fixtures = args.fixtures.resolve()
    if args.one_row:
        print(json.dumps(run_row(args.one_row, fixtures, args.episodes)))
        return None
    return args, fixtures, json.loads(args.out.read_text()) if args.out.is_file() else {}


def module_command(script: str, *args: str) -> list[str]:
    """The command that runs ``benchmarks/<script>.py`` as a module (run it with ``cwd=ROOT``)."""
    return [sys.executable, "-m", f"benchmarks.{script}", *args]


def run_child(cmd: list[str], timeout: float, identity: dict[str, Any]) -> dict[str, Any]:
    """Runs a benchmark row in its own process (own compile, own memory peak) and returns the JSON of its last
    output line, plus ``wall_s``; a failed or timed-out row returns ``identity`` with the error instead."""
    start = time.perf_counter()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {**identity, "error": f"timeout after {timeout:.0f} s"}
    wall = time.perf_counter() - start
    if out.returncode:
        return {**identity, "error": (out.stderr.strip().splitlines() or ["?"])[-1], "wall_s": wall}
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "wall_s": wall}
