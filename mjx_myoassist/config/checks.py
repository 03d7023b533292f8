"""Range checks a config field carries in its metadata (``_doc(default, text, check=...)`` in schema.py)."""

from __future__ import annotations

import difflib
import typing
from typing import Any

# A check returns the error message for a bad value of ``key``, or None when the value is fine; its ``allowed``
# attribute says what it accepts (the config reference's "allowed" column).
Check = typing.Callable[[str, Any], str | None]


def _allowing(text: str, check: Check) -> Check:
    check.allowed = text  # type: ignore[attr-defined]
    return check


def did_you_mean(name: str, options: typing.Iterable[str]) -> str:
    """' Did you mean 'x'?' for the option closest to ``name``, or ''."""
    close = difflib.get_close_matches(name, list(options), n=1)
    return f" Did you mean '{close[0]}'?" if close else ""


def bounds(low: float | None = None, high: float | None = None, above: bool = False) -> Check:
    """Value >= low (> low when ``above``) and <= high; NaN fails."""
    parts = [f"> {low}" if above else f">= {low}"] if low is not None else []
    need = " and ".join(parts + ([f"<= {high}"] if high is not None else []))

    def check(key: str, value: Any) -> str | None:
        ok = (low is None or (value > low if above else value >= low)) and (high is None or value <= high)
        return None if ok else f"{key} = {value!r} is out of range: it must be {need}"

    return _allowing(need, check)


def one_of(options: tuple[str, ...]) -> Check:
    """Value is one of ``options`` (the message suggests the closest)."""

    def check(key: str, value: Any) -> str | None:
        if value in options:
            return None
        return f"{key} '{value}' is unknown.{did_you_mean(str(value), options)} Use one of {options}"

    return _allowing("one of " + ", ".join(repr(o) for o in options), check)


def _layer_sizes(key: str, value: dict[str, list[int]]) -> str | None:
    """Every hidden layer of every network has at least one unit."""
    bad = next((name for name, sizes in value.items() if any(width < 1 for width in sizes)), None)
    return f"{key}.{bad} = {value[bad]}: every layer size must be >= 1, e.g. [64, 64]" if bad else None


layer_sizes = _allowing("layer sizes >= 1", _layer_sizes)


POSITIVE, NON_NEGATIVE, AT_LEAST_ONE, FRACTION = bounds(0, above=True), bounds(0), bounds(1), bounds(0, 1)
