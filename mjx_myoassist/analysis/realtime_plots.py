"""MyoAssist's ``realtime_plotting_info`` plots of an evaluation entry, drawn from a replayed episode.

MyoAssist overlays them on its evaluation videos; here they go to ``analyze_results/`` as one
figure per entry (``realtime_plots_entry<i>.png``), one panel per plot, in the given order:

* ``plot_duration_type: "total"``: the series over the whole episode (x: control steps), low-passed
  when the plot has a ``filter`` (Butterworth, forward and backward, as MyoAssist); the pelvis speed
  (``joint_data`` / ``pelvis_tx`` / ``qvel``) is drawn against the target speed.
* otherwise: the series over each right-foot gait cycle (heel strike to heel strike, 0-100 %),
  every cycle in grey and their mean in black.

Series: ``joint_data`` (a joint's ``qpos`` or ``qvel``), ``target_data`` / ``target_velocity`` and
``actuator_data`` (an actuator's ``ctrl``); each is multiplied by ``y_scale`` (default 1) and
shown within ``y_lim``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from scipy.signal import butter, filtfilt

from mjx_myoassist.analysis import gait
from mjx_myoassist.analysis.report import CONTACT_THRESHOLD, GRAVITY, foot_totals
from mjx_myoassist.cpu.replay import Trajectory
from mjx_myoassist.errors import ConfigError

CATEGORIES = {"joint_data": ("qpos", "qvel"), "target_data": ("target_velocity",), "actuator_data": ("ctrl",)}


def lowpass(signal: np.ndarray, settings: dict[str, Any]) -> np.ndarray:
    """Butterworth low-pass (``order``, ``cutoff`` Hz at sample rate ``fs``) run forward and backward
    (scipy ``filtfilt``), as MyoAssist's plots filter."""
    if settings.get("type", "butter") != "butter":
        raise ConfigError(f"realtime_plotting_info filter type '{settings['type']}': only 'butter' exists.")
    b, a = butter(int(settings["order"]), float(settings["cutoff"]) / (0.5 * float(settings["fs"])), btype="low")
    return filtfilt(b, a, signal)


def series(traj: Trajectory, plot: dict[str, Any]) -> np.ndarray:
    """The plot's series after each control step ([T]), unscaled; a bad category or name is a ConfigError."""
    category, name, prop = plot.get("category"), plot.get("name"), plot.get("property_type")
    if category not in CATEGORIES:
        raise ConfigError(f"realtime_plotting_info category '{category}': use one of {list(CATEGORIES)}.")
    model = traj.model
    if category == "target_data":
        return traj.metrics["target_velocity"]
    if category == "actuator_data":
        names = [model.actuator(i).name for i in range(model.nu)]
        if name not in names:
            raise ConfigError(f"realtime_plotting_info actuator '{name}' is not in the model; actuators: {names}.")
        return traj.ctrl[:, names.index(name)]
    joints = [model.joint(i).name for i in range(model.njnt)]
    if name not in joints or prop not in CATEGORIES[category]:
        raise ConfigError(f"realtime_plotting_info joint_data '{name}' / '{prop}': give a joint of the model "
                          f"({', '.join(joints[:6])}, ...) and property_type qpos or qvel.")  # fmt: skip
    joint = model.joint(name).id
    if prop == "qpos":
        return traj.qpos[1:, model.jnt_qposadr[joint]]
    return traj.qvel[1:, model.jnt_dofadr[joint]]


def _right_strikes(traj: Trajectory) -> np.ndarray:
    weight = float(traj.model.body_subtreemass[0] * GRAVITY)
    return gait.contact_events(foot_totals(traj)["r"], CONTACT_THRESHOLD * weight)[0]


def _total(ax, traj: Trajectory, plot: dict[str, Any], scale: float) -> None:
    values = series(traj, plot)
    if "filter" in plot and len(values) > 3 * (int(plot["filter"].get("order", 2)) + 1):
        values = lowpass(values, plot["filter"])
    ax.plot(np.arange(len(values)), scale * values, color="black", label=plot.get("name"))
    if plot.get("name") == "pelvis_tx" and plot.get("property_type") == "qvel":
        ax.plot(scale * traj.metrics["target_velocity"], color="tab:red", linestyle="--", label="target")
        ax.legend(fontsize=6)
    ax.set_xlabel("control step")


def _cycles(ax, traj: Trajectory, plot: dict[str, Any], scale: float, strikes: np.ndarray) -> None:
    cycles = gait.normalize_cycles(series(traj, plot), np.clip(strikes - 1, 0, None))  # series start after step 1
    x = np.linspace(0, 100, gait.CYCLE_POINTS)
    for cycle in cycles:
        ax.plot(x, scale * cycle, color="#cccccc", linewidth=0.8)
    if len(cycles):
        ax.plot(x, scale * cycles.mean(axis=0), color="black")
    else:
        ax.text(0.5, 0.5, "no whole right-foot gait cycle", ha="center", transform=ax.transAxes, fontsize=7)
    ax.set_xlabel("right gait cycle (%)")


def plot_realtime_info(traj: Trajectory, plots: list[dict[str, Any]], out: Path) -> Path:
    """:func:`draw_realtime_info` saved to ``out`` (a .png path)."""
    draw_realtime_info(traj, plots).savefig(out, dpi=110)
    return out


def draw_realtime_info(traj: Trajectory, plots: list[dict[str, Any]]) -> Figure:
    """One panel per ``realtime_plotting_info`` dict (module doc)."""
    fig = Figure(figsize=(5, 2 * len(plots)))
    axes = np.atleast_1d(fig.subplots(len(plots), 1))
    strikes = _right_strikes(traj)
    for ax, plot in zip(axes, plots, strict=True):
        scale = float(plot.get("y_scale", 1.0))
        if plot.get("plot_duration_type") == "total":
            _total(ax, traj, plot, scale)
        else:
            _cycles(ax, traj, plot, scale, strikes)
        if "y_lim" in plot:
            ax.set_ylim(*plot["y_lim"])
        ax.set_title(f"{plot.get('name')} {plot.get('property_type', '')}".strip(), fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
