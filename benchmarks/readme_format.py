"""Small text helpers shared by the benchmark README sections: number cells, tables, counted words."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Json = dict[str, Any]
WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


def n0(x: float) -> str:
    return f"{x:.0f}"


def rate_cell(r: Json | float, fmt: Callable[[float], str] = n0) -> str:
    """'median (min-max)' of a spread, or the single value of an old results file."""
    if not isinstance(r, dict):
        return fmt(r)
    centre = r.get("median", r.get("mean"))
    return fmt(centre) if r["n"] == 1 else f"{fmt(centre)} ({fmt(r['min'])}-{fmt(r['max'])})"


def mean_cell(r: Json, fmt: Callable[[float], str] = n0) -> str:
    """'mean (min-max)' of a spread over seeds."""
    return fmt(r["mean"]) if r["n"] == 1 else f"{fmt(r['mean'])} ({fmt(r['min'])}-{fmt(r['max'])})"


def centre(r: Json | float) -> float:
    return r.get("median", r.get("mean")) if isinstance(r, dict) else r


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def machine_line(d: Json) -> str:
    m, v = d["machine"], d["versions"]
    gpu = m.get("device_kind") if m.get("jax_backend") == "gpu" else None
    where = f"{m['cpu_count']} CPU cores" + (f", {gpu}" if gpu else ", no GPU")
    commit = f", commit {d['commit']}" if d.get("commit") else ""
    return f"{d['date']}, {where}, jax {v['jax']}, mujoco {v['mujoco']}{commit}"


def words(n: int) -> str:
    return WORDS.get(n, str(n))


def plural(n: int, word: str) -> str:
    return f"{words(n)} {word}{'' if n == 1 else 's'}"


def join_and(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
