"""Learning curves of a session beside a MyoAssist session's ``train_log.json``.

MyoAssist's callback logs after the first PPO rollout and then every ``logging_frequency``
rollouts; each entry holds ``num_timesteps``, ``average_num_timestep`` (total length of the
episodes that ended since the previous entry over their count) and
``average_reward_per_episode`` (their total reward over their count). A session of ours
logged after every update (``logger_params.logging_frequency: 1``) is regrouped into the
same windows, so both curves count the same episodes at the same env steps.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from mjx_myoassist.ppo.train import merge_metrics

MYOASSIST_LOG = "train_log.json"
EVENT_STYLES = ("--", ":", "-.")  # event lines, in turn
METRICS = {"episode_length": "mean episode length (control steps)", "reward_per_episode": "reward per episode"}


@dataclasses.dataclass(frozen=True)
class Curve:
    """Mean episode length and reward per episode at each logged env step."""

    label: str
    steps: np.ndarray
    episode_length: np.ndarray
    reward_per_episode: np.ndarray

    def up_to(self, max_step: float) -> Curve:
        keep = self.steps <= max_step
        return Curve(self.label, self.steps[keep], self.episode_length[keep], self.reward_per_episode[keep])

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "steps": self.steps.tolist(),
            "episode_length": self.episode_length.tolist(),
            "reward_per_episode": self.reward_per_episode.tolist(),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Curve:
        """The curve ``to_json`` wrote."""
        return cls(d["label"], *(np.asarray(d[k], float) for k in ("steps", "episode_length", "reward_per_episode")))


def read_myoassist_log(path: str | Path, label: str | None = None) -> Curve:
    """A MyoAssist session folder, its ``train_log.json`` or a JSON holding ``log_datas``."""
    path = Path(path)
    file = path / MYOASSIST_LOG if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"No MyoAssist training log at {file}: pass a session folder or its {MYOASSIST_LOG}.")
    data = json.loads(file.read_text())
    entries = data.get("log_datas") if isinstance(data, dict) else None
    if not entries or "average_num_timestep" not in entries[0]:
        raise ValueError(f"{file} is not a MyoAssist training log (expected 'log_datas' entries).")
    return Curve(
        label or file.parent.name,
        np.array([e["num_timesteps"] for e in entries], dtype=float),
        np.array([e["average_num_timestep"] for e in entries], dtype=float),
        np.array([e["average_reward_per_episode"] for e in entries], dtype=float),
    )


def _entries(session: str | Path) -> list[dict[str, float]]:
    file = Path(session) / MYOASSIST_LOG
    if not file.is_file():
        raise FileNotFoundError(f"No {MYOASSIST_LOG} in {session}: is it a training session folder?")
    return json.loads(file.read_text())


def read_session_log(session: str | Path, at_steps: np.ndarray | None = None, label: str = "") -> Curve:
    """Our session's curve; with ``at_steps``, its entries regrouped into windows ending at those steps.

    A window (previous step, step] is formed only where both ends are logged steps of the session,
    so a session logged every update can be put on any MyoAssist schedule of the same rollout size.
    """
    entries = _entries(session)
    label = label or Path(session).name
    if at_steps is None:
        merged = entries
    else:
        logged = {e["step"] for e in entries}
        merged, start = [], 0
        for end in at_steps:
            window = [e for e in entries if start < e["step"] <= end]
            if end in logged and (start == 0 or start in logged) and window:
                merged.append({**merge_metrics(window), "step": end})
            start = end
    return Curve(
        label,
        np.array([e["step"] for e in merged], dtype=float),
        np.array([e["episode/length"] for e in merged], dtype=float),
        np.array([e["episode/return"] for e in merged], dtype=float),
    )


def compare(ours: Curve, reference: Curve, tolerance: float = 0.2) -> list[dict[str, Any]]:
    """Per step both curves hold: each metric's values, relative difference and whether it is within tolerance."""
    rows = []
    for i, step in enumerate(reference.steps):
        match = np.flatnonzero(ours.steps == step)
        if not match.size:
            continue
        row: dict[str, Any] = {"step": int(step)}
        for metric in METRICS:
            mine, theirs = float(getattr(ours, metric)[match[0]]), float(getattr(reference, metric)[i])
            rel = (mine - theirs) / abs(theirs) if theirs else float("inf")
            row[metric] = {"ours": mine, "myoassist": theirs, "relative_difference": rel,
                           "within_tolerance": abs(rel) <= tolerance}  # fmt: skip
        rows.append(row)
    return rows


def all_within(rows: list[dict[str, Any]]) -> bool:
    return bool(rows) and all(row[m]["within_tolerance"] for row in rows for m in METRICS)


def figure(curves: list[Curve], tolerance_band: Curve | None = None, tolerance=0.2,
           events: Mapping[str, float] | None = None) -> Figure:  # fmt: skip
    """Both metrics against env steps, one line per curve; the band is ±tolerance around ``tolerance_band``;
    ``events`` (label: env steps, e.g. when a run first walked) are dashed vertical lines."""
    fig = Figure(figsize=(11, 4.2))
    for ax, (metric, title) in zip(fig.subplots(1, 2), METRICS.items(), strict=True):
        if tolerance_band is not None:
            values = getattr(tolerance_band, metric)
            ax.fill_between(tolerance_band.steps, values * (1 - tolerance), values * (1 + tolerance), alpha=0.15,
                            color="gray", label=f"±{tolerance:.0%} of {tolerance_band.label}")  # fmt: skip
        for curve in curves:
            ax.plot(curve.steps, getattr(curve, metric), marker="o", markersize=3, label=curve.label)
        for i, (label, step) in enumerate((events or {}).items()):
            ax.axvline(step, color="black", linestyle=EVENT_STYLES[i % len(EVENT_STYLES)], linewidth=1, label=label)
        ax.set_xlabel("env steps")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    fig.axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot(curves: list[Curve], path: str | Path, tolerance_band: Curve | None = None, tolerance=0.2,
         events: Mapping[str, float] | None = None) -> Path:  # fmt: skip
    """:func:`figure` saved as ``path`` (a PNG)."""
    fig = figure(curves, tolerance_band, tolerance, events)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def session_vs_myoassist(session: str | Path, myoassist: str | Path, out_dir: str | Path) -> dict:
    """Writes ``learning_vs_myoassist.png`` and ``.json`` in ``out_dir``: our session's curve (regrouped into the
    MyoAssist log's windows where it was logged finely enough) beside a MyoAssist session's or log's curve."""
    theirs = read_myoassist_log(myoassist, "MyoAssist " + Path(myoassist).name)
    ours = read_session_log(session, at_steps=theirs.steps, label="ours " + Path(session).name)
    if not ours.steps.size:  # logged on another schedule: show it as logged
        ours = read_session_log(session, label="ours " + Path(session).name)
    rows = compare(ours, theirs)
    out_dir = Path(out_dir)
    shown = theirs.up_to(max(ours.steps.max(initial=0), theirs.steps.min()))
    plot([ours, shown], out_dir / "learning_vs_myoassist.png")
    result = {"ours": ours.to_json(), "myoassist": theirs.to_json(), "comparison": rows}
    (out_dir / "learning_vs_myoassist.json").write_text(json.dumps(result, indent=1))
    return result
