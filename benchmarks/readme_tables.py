"""Table helpers of the benchmarks README: markdown tables, number cells, the run table of a results file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Json = dict[str, Any]
DASH = "—"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def settings_table(rows: Sequence[tuple[str, Any]]) -> str:
    """A two-column table of what a run used; rows whose value is None are left out."""
    return table(["setting", "value"], [[k, v] for k, v in rows if v is not None])


def section(title: str, note: str, *blocks: str) -> str:
    """'### title', a fixed note, then the tables (empty blocks left out)."""
    return "\n\n".join([f"### {title}", note, *[b for b in blocks if b]])


def n0(x: float) -> str:
    return f"{x:.0f}"


def f1(x: float) -> str:
    return f"{x:.1f}"


def f2(x: float) -> str:
    return f"{x:.2f}"


def f3(x: float) -> str:
    return f"{x:.3f}"


def e1(x: float) -> str:
    return f"{x:.1e}"


def centre(r: Json | float) -> float:
    return r.get("median", r.get("mean")) if isinstance(r, dict) else r


def rate_cell(r: Json | float, fmt: Callable[[float], str] = n0) -> str:
    """'median (min-max)' of a spread of repeats, or a single value."""
    if not isinstance(r, dict):
        return fmt(r)
    return fmt(centre(r)) if r["n"] == 1 else f"{fmt(centre(r))} ({fmt(r['min'])}-{fmt(r['max'])})"


def mean_cell(r: Json, fmt: Callable[[float], str] = n0) -> str:
    """'mean (min-max)' of a spread over seeds."""
    return fmt(r["mean"]) if r["n"] == 1 else f"{fmt(r['mean'])} ({fmt(r['min'])}-{fmt(r['max'])})"


def span(lo: float, hi: float, fmt: Callable[[float], str] = f2) -> str:
    return f"{fmt(lo)}-{fmt(hi)}"


def opt(x: float | None, fmt: Callable[[float], str], none: str = DASH) -> str:
    return none if x is None else fmt(x)


def run_table(d: Json) -> str:
    """Date, commit, CPU, cores, GPU and versions of the run that wrote ``d`` (what its file records)."""
    m, v = d.get("machine", {}), d.get("versions", {})
    gpu = m.get("device_kind") if m.get("jax_backend") == "gpu" else "none"
    cells = [
        ("date", d.get("date") or m.get("date")),
        ("commit", d.get("commit")),
        ("CPU", m.get("cpu_model") or m.get("processor")),
        ("cores", m.get("cpu_count")),
        ("GPU", gpu if m.get("jax_backend") or m.get("device_kind") else None),
        ("jax", v.get("jax") or m.get("jax")),
        ("mujoco", v.get("mujoco") or m.get("mujoco")),
    ]
    cells = [(k, x) for k, x in cells if x is not None]
    return table([k for k, _ in cells], [[x for _, x in cells]]) if cells else ""
