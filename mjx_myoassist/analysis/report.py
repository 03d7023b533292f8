"""``analyze_results/``: plots and a JSON gait report of a replayed episode.

Written files (when the data exists): ``kinematics_vs_reference.png`` (joint angles over
time against the reference), ``gait_cycle_kinematics.png`` (mean ± sd over the
normalised gait cycle, left vs right, with the reference), ``muscle_activations.png``,
``ground_reaction_force.png``, ``exo_torque.png``, ``training_curves.png`` and
``gait_metrics.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
from matplotlib.figure import Figure

from mjx_myoassist.analysis import gait
from mjx_myoassist.cpu.replay import Trajectory

SAGITTAL = ("hip_flexion", "knee_angle", "ankle_angle")
LABELS = {"hip_flexion": "hip flexion", "knee_angle": "knee angle", "ankle_angle": "ankle angle"}
CONTACT_THRESHOLD = 0.05  # body weights
GRAVITY = 9.81


def _joint_series(traj: Trajectory, name: str) -> np.ndarray:
    return traj.qpos[:, traj.model.jnt_qposadr[traj.model.joint(name).id]]


def _body_weight(model: mujoco.MjModel) -> float:
    return float(model.body_subtreemass[0] * GRAVITY)


def foot_totals(traj: Trajectory) -> dict[str, np.ndarray]:
    """Total force (N) per side: heel (``*_foot``) plus toes (``*_toes``) sensors."""
    out = {}
    for side in ("r", "l"):
        cols = [i for i, n in enumerate(traj.touch_names) if n.startswith(f"{side}_")]
        out[side] = traj.foot_forces[:, cols].sum(axis=1) if cols else np.zeros(len(traj.qpos))
    return out


def _figure(rows: int, cols: int, figsize: tuple[float, float], **kwargs):
    """A figure without pyplot (no GUI backend, no global state), and its axes."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(rows, cols, **kwargs)


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def plot_kinematics_vs_reference(traj: Trajectory, reference: dict[str, np.ndarray] | None, out: Path) -> Path:
    t = np.arange(len(traj.qpos)) * traj.dt
    fig, axes = _figure(len(SAGITTAL), 1, (8, 7), sharex=True)
    for ax, joint in zip(axes, SAGITTAL, strict=True):
        for side, color in (("r", "tab:red"), ("l", "tab:blue")):
            name = f"{joint}_{side}"
            ax.plot(
                t, np.degrees(_joint_series(traj, name)), color=color, label=f"{'right' if side == 'r' else 'left'}"
            )
            if reference is not None and name in reference:
                ax.plot(
                    t, np.degrees(reference[name][: len(t)]), "--", color=color, alpha=0.6, label=f"reference ({side})"
                )
        ax.set_ylabel(f"{LABELS[joint]} (deg)")
        ax.grid(alpha=0.3)
    axes[0].legend(ncol=4, fontsize=8)
    axes[0].set_title("Joint angles of the replayed episode vs the reference")
    axes[-1].set_xlabel("time (s)")
    return _save(fig, out / "kinematics_vs_reference.png")


def _band(ax, cycles: np.ndarray, color: str, label: str, scale: float = 1.0) -> None:
    x = np.linspace(0, 100, cycles.shape[1])
    mean, sd = cycles.mean(0) * scale, cycles.std(0) * scale
    ax.plot(x, mean, color=color, label=f"{label} (n={len(cycles)})")
    ax.fill_between(x, mean - sd, mean + sd, color=color, alpha=0.2)


def plot_gait_cycle(traj, strikes, reference, out: Path) -> Path:
    fig, axes = _figure(1, len(SAGITTAL), (12, 3.8))
    for ax, joint in zip(axes, SAGITTAL, strict=True):
        for side, color in (("r", "tab:red"), ("l", "tab:blue")):
            cycles = gait.normalize_cycles(_joint_series(traj, f"{joint}_{side}"), strikes[side])
            if len(cycles):
                _band(ax, cycles, color, "right" if side == "r" else "left", 180 / np.pi)
            ref = reference.get(f"{joint}_{side}") if reference else None
            if ref is not None and len(cycles):
                ref_cycles = gait.normalize_cycles(ref[: len(traj.qpos)], strikes[side])
                ax.plot(np.linspace(0, 100, ref_cycles.shape[1]), np.degrees(ref_cycles.mean(0)), "--", color=color,
                        alpha=0.6, label=f"reference ({side})")  # fmt: skip
        ax.set_title(LABELS[joint])
        ax.set_xlabel("gait cycle (% from heel strike)")
        ax.set_ylabel("angle (deg)")
        ax.grid(alpha=0.3)
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(fontsize=7)
        fig.suptitle("Joint kinematics over the gait cycle (mean ± sd over whole strides)")
    else:
        for ax in axes:
            ax.text(0.5, 0.5, f"no gait cycle average:\nfewer than {gait.MIN_STRIDES} whole strides per foot",
                    ha="center", va="center", transform=ax.transAxes, color="gray")  # fmt: skip
        fig.suptitle("Joint kinematics over the gait cycle")
    return _save(fig, out / "gait_cycle_kinematics.png")


def plot_activations(traj: Trajectory, strikes: np.ndarray, out: Path) -> Path | None:
    model = traj.model
    muscles = np.nonzero(model.actuator_dyntype == mujoco.mjtDyn.mjDYN_MUSCLE)[0]
    if not len(muscles):
        return None
    act = traj.act[:, model.actuator_actadr[muscles]]
    cycles = gait.normalize_cycles(act, strikes)
    right = [i for i in range(len(muscles)) if model.actuator(muscles[i]).name.endswith("_r")]
    cols = 4
    rows = int(np.ceil(len(right) / cols))
    fig, axes = _figure(rows, cols, (12, 2.3 * rows), sharex=True, sharey=True)
    x = np.linspace(0, 100, cycles.shape[1]) if len(cycles) else np.arange(len(act)) * traj.dt
    for ax, i in zip(axes.flat, right, strict=False):
        name = model.actuator(muscles[i]).name[:-2]
        left_i = next((j for j in range(len(muscles)) if model.actuator(muscles[j]).name == f"{name}_l"), None)
        for idx, color, label in ((i, "tab:red", "right"), (left_i, "tab:blue", "left")):
            if idx is None:
                continue
            if len(cycles):
                _band(ax, cycles[:, :, idx], color, label)
            else:
                ax.plot(x, act[:, idx], color=color, label=label)
        ax.set_title(name, fontsize=9)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(right) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    xlabel = "gait cycle (% from right heel strike)" if len(cycles) else "time (s)"
    for ax in axes[-1]:
        ax.set_xlabel(xlabel)
    fig.suptitle("Muscle activation (0-1)" + (", mean ± sd over whole strides" if len(cycles) else
                 f" over time (fewer than {gait.MIN_STRIDES} whole strides)"))  # fmt: skip
    return _save(fig, out / "muscle_activations.png")


def plot_grf(traj: Trajectory, feet: dict[str, np.ndarray], out: Path) -> Path:
    bw = _body_weight(traj.model)
    t = np.arange(len(traj.qpos)) * traj.dt
    fig, ax = _figure(1, 1, (8, 3.5))
    ax.plot(t, feet["r"] / bw, color="tab:red", label="right foot")
    ax.plot(t, feet["l"] / bw, color="tab:blue", label="left foot")
    ax.axhline(CONTACT_THRESHOLD, color="gray", ls=":", label="contact threshold")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("vertical GRF (body weights)")
    ax.set_title("Ground reaction force")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, out / "ground_reaction_force.png")


def exo_torques(traj: Trajectory) -> dict[str, np.ndarray]:
    """Exo motor torque (N·m) = ctrl * gear, per exo actuator."""
    model = traj.model
    exo = [i for i in range(model.nu) if model.actuator_dyntype[i] != mujoco.mjtDyn.mjDYN_MUSCLE]
    return {model.actuator(i).name: traj.ctrl[:, i] * model.actuator_gear[i, 0] for i in exo}


def plot_exo(traj: Trajectory, strikes: dict[str, np.ndarray], out: Path) -> Path | None:
    torques = exo_torques(traj)
    if not torques:
        return None
    fig, ax = _figure(1, 1, (7, 3.5))
    for name, torque in torques.items():
        side = "r" if name.endswith(("_R", "_r")) else "l"
        color = "tab:red" if side == "r" else "tab:blue"
        cycles = gait.normalize_cycles(torque, strikes[side][strikes[side] < len(torque)])
        if len(cycles) >= gait.MIN_STRIDES:
            _band(ax, cycles, color, name)
            ax.set_xlabel("gait cycle (% from heel strike)")
        else:
            ax.plot(np.arange(len(torque)) * traj.dt, torque, color=color, label=name)
            ax.set_xlabel("time (s)")
    ax.set_ylabel("exo torque (N·m, negative = plantarflexion)")
    ax.set_title("Exoskeleton torque profile")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, out / "exo_torque.png")


def plot_training_curves(log: list[dict[str, Any]], out: Path) -> Path | None:
    if not log:
        return None
    steps = [e["step"] for e in log]
    terms = sorted(k for k in log[0] if k.startswith("reward/"))
    fig, axes = _figure(1, 3, (14, 3.8))
    axes[0].plot(steps, [e["episode/return"] for e in log], marker="o")
    axes[0].set_title("Episode return")
    axes[1].plot(steps, [e["episode/length"] for e in log], marker="o")
    axes[1].set_title("Episode length (control steps)")
    for term in terms:
        axes[2].plot(steps, [e[term] for e in log], label=term[len("reward/") :])
    axes[2].set_title("Reward terms (per step, weighted)")
    axes[2].legend(fontsize=6)
    for ax in axes:
        ax.set_xlabel("environment steps")
        ax.grid(alpha=0.3)
    return _save(fig, out / "training_curves.png")


def analyze(
    traj: Trajectory,
    out: Path,
    reference: dict[str, np.ndarray] | None = None,
    train_log: list[dict[str, Any]] | None = None,
    target_speed: float | None = None,
) -> dict[str, Any]:
    """Writes every plot that applies and ``gait_metrics.json``; returns the report."""
    out.mkdir(parents=True, exist_ok=True)
    files = []
    is_leg = "hip_flexion_r" in [traj.model.joint(i).name for i in range(traj.model.njnt)]
    report: dict[str, Any] = {
        "steps": traj.steps,
        "duration_s": traj.steps * traj.dt,
        "return": float(traj.reward.sum()),
        "terminated": traj.terminated,
        "truncated": traj.truncated,
        "reward_terms": {k: float(v.sum()) for k, v in traj.metrics.items() if k.startswith("reward/")},
    }
    if is_leg:
        feet = foot_totals(traj)
        threshold = CONTACT_THRESHOLD * _body_weight(traj.model)
        strikes = {side: gait.contact_events(feet[side], threshold)[0] for side in feet}
        strikes = {side: s if gait.enough_strides(s) else s[:0] for side, s in strikes.items()}  # whole cycles
        pelvis_x = _joint_series(traj, "pelvis_tx")
        report["gait"] = gait.gait_metrics(feet["r"], feet["l"], pelvis_x, traj.dt, threshold, target_speed)
        if report["gait"]["missing"] and traj.terminated:
            report["gait"]["missing"] += f"; the episode terminated after {traj.steps} steps"
        files += [
            plot_kinematics_vs_reference(traj, reference, out),
            plot_gait_cycle(traj, strikes, reference, out),
            plot_activations(traj, strikes["r"], out),
            plot_grf(traj, feet, out),
            plot_exo(traj, strikes, out),
        ]
    files.append(plot_training_curves(train_log or [], out))
    report["files"] = sorted(p.name for p in files if p is not None)
    (out / "gait_metrics.json").write_text(json.dumps(report, indent=1, allow_nan=False))
    return report
