"""MyoAssist's evaluator over a config's ``evaluate_param_list``: every entry, N episodes, tracking error.

MyoAssist's ``GaitEvaluatorBase.evaluate`` sets each entry's velocity mode, range and period with
phase 0 and the first target in the middle of the range before its reset, runs the entry's
``num_timesteps`` control steps with the deterministic policy, off-trajectory termination off, and
draws ``realtime_plotting_info``: pelvis speed against the target, low-passed (Butterworth, forward
and backward) as the entry's plot says.  Here each entry runs ``episodes`` envs at once; per episode
it reports steps, fell or truncated, distance, mean speed and the target-speed tracking error of the
filtered pelvis speed after the first ``TRACKING_AFTER_S`` (MyoAssist's plots start there), and keeps
the per-step series (time, target speed, pelvis speed).

``python -m mjx_myoassist.evaluate SESSION --entries [--episodes N] [--json OUT]``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mjx_myoassist.analysis.realtime_plots import lowpass
from mjx_myoassist.config import ConfigError, EvaluateParams
from mjx_myoassist.envs import make
from mjx_myoassist.evaluator import Evaluator, load_for_evaluation

TRACKING_AFTER_S = 2.0  # s: the start of an episode left out of the tracking error
DEFAULT_FILTER = {"type": "butter", "order": 2, "cutoff": 2.0, "fs": 30.0}  # MyoAssist's pelvis-speed plot


def speed_filter(entry: EvaluateParams) -> dict[str, Any]:
    """The low-pass filter of the entry's pelvis-speed plot (``realtime_plotting_info``), else MyoAssist's usual."""
    for plot in entry.realtime_plotting_info:
        if plot.get("name") == "pelvis_tx" and plot.get("property_type") == "qvel" and "filter" in plot:
            return {**DEFAULT_FILTER, **plot["filter"]}
    return dict(DEFAULT_FILTER)


def tracking_error(time: np.ndarray, speed: np.ndarray, target: np.ndarray,
                   settings: dict[str, Any]) -> dict[str, float] | None:  # fmt: skip
    """Pelvis speed vs target over the steps ending after TRACKING_AFTER_S: RMS of the filtered (whole
    episode filtered, then cut) and raw difference, the filtered mean (signed); None when too short."""
    after = time > TRACKING_AFTER_S + 1e-9
    padlen = 3 * (int(settings["order"]) + 1)  # filtfilt's minimum length
    if not after.any() or len(speed) <= padlen:
        return None
    filtered = lowpass(speed, settings) - target
    return {
        "rms_filtered": float(np.sqrt(np.mean(filtered[after] ** 2))),
        "rms_raw": float(np.sqrt(np.mean((speed - target)[after] ** 2))),
        "mean_error_filtered": float(np.mean(filtered[after])),
        "samples": int(after.sum()),
    }


def evaluate_entries(
    path: str | Path,
    *,
    config: str | Path | None = None,
    overrides: Sequence[str] = (),
    episodes: int = 5,
    backend: str | None = None,
    seed: int = 0,
    keep_trajectory_termination: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """Every ``evaluate_param_list`` entry of a stored policy's config, ``episodes`` episodes each:
    (one result per entry with its settings and per-episode rows, the per-step series by
    ``entry<i>/episode<j>/<time|target_velocity|pelvis_speed>``)."""
    if episodes < 1:
        raise ConfigError(f"--episodes must be at least 1; got {episodes}.")
    trained, cfg = load_for_evaluation(path, config, overrides, backend, keep_trajectory_termination)
    if not cfg.evaluate_param_list:
        raise ConfigError("The config has no evaluate_param_list entries: run without --entries (N episodes of S s).")
    entries = [dataclasses.replace(e, num_envs=episodes) for e in cfg.evaluate_param_list]
    cfg = dataclasses.replace(cfg, evaluate_param_list=entries)
    env = make(cfg)
    evaluator = Evaluator(cfg, trained.layout, env)
    results, series = [], {}
    for i, entry in enumerate(entries):
        rows, steps = evaluator.entry_episodes(trained.params, trained.stats, i, seed)
        settings = speed_filter(entry)
        for j, row in enumerate(rows):
            n = row["steps"]
            time = env.dt * np.arange(1, n + 1)
            target, speed = steps["target_velocity"][j, :n], steps["speed"][j, :n]
            row["tracking"] = tracking_error(time, speed, target, settings)
            series.update({f"entry{i}/episode{j}/time": time, f"entry{i}/episode{j}/target_velocity": target,
                           f"entry{i}/episode{j}/pelvis_speed": speed})  # fmt: skip
        fields = ("num_timesteps", "velocity_mode", "min_target_velocity", "max_target_velocity",
                  "target_velocity_period")  # fmt: skip
        results.append({"entry": i, **{k: getattr(entry, k) for k in fields}, "start_velocity":
                        (entry.min_target_velocity + entry.max_target_velocity) / 2, "filter": settings,
                        "episodes": rows})  # fmt: skip
    return results, series


def format_entries(results: list[dict[str, Any]]) -> str:
    """A short text table: one line per episode of every entry."""
    lines = ["entry  mode        range(m/s)   episode  steps  end              distance(m)  speed(m/s)  tracking rms"]
    for r in results:
        span = f"{r['min_target_velocity']:.2f}-{r['max_target_velocity']:.2f}"
        for e in r["episodes"]:
            rms = f"{e['tracking']['rms_filtered']:.3f}" if e["tracking"] else "-"
            lines.append(f"{r['entry']:>5}  {r['velocity_mode']:<10}  {span:<11}  {e['episode']:>7}  {e['steps']:>5}  "
                         f"{e['end']:<15}  {e['distance']:>11.2f}  {e['mean_speed']:>10.3f}  {rms:>12}")  # fmt: skip
    return "\n".join(lines)


def write_entries(results: list[dict[str, Any]], series: dict[str, np.ndarray], path: str | Path,
                  settings: dict[str, Any]) -> Path:  # fmt: skip
    """The JSON (settings and results) at ``path`` and the per-step series in an npz beside it; the npz path."""
    path = Path(path)
    path.write_text(json.dumps({"settings": settings, "entries": results}, indent=1))
    series_path = path.with_suffix(".npz")
    np.savez_compressed(series_path, **series)
    return series_path
