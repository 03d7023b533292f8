"""Headless videos of replayed episodes (MuJoCo offscreen renderer, written with mediapy).

Set ``MUJOCO_GL=egl`` (GPU) or ``MUJOCO_GL=osmesa`` (software) before MuJoCo is
imported on a machine without a display; ``render.py`` does this for you.
"""

from __future__ import annotations

import copy
from pathlib import Path

import mujoco
import numpy as np

from mjx_myoassist.cpu.replay import Trajectory

FOLLOW_BODIES = ("pelvis", "torso", "mass")


def muscle_tendons(model: mujoco.MjModel) -> tuple[np.ndarray, np.ndarray]:
    """(actuator ids, tendon ids) of muscles driven through tendons."""
    muscles = np.nonzero(
        (model.actuator_dyntype == mujoco.mjtDyn.mjDYN_MUSCLE) & (model.actuator_trntype == mujoco.mjtTrn.mjTRN_TENDON)
    )[0]
    return muscles, model.actuator_trnid[muscles, 0]


def activation_rgba(activation: np.ndarray) -> np.ndarray:
    """Blue (relaxed) to red (fully active), one RGBA row per muscle."""
    a = np.clip(np.asarray(activation), 0.0, 1.0)[:, None]
    return np.concatenate([0.15 + 0.85 * a, 0.15 * np.ones_like(a), 0.85 * (1 - a) + 0.1, np.ones_like(a)], axis=1)


def follow_body(model: mujoco.MjModel) -> int:
    names = [model.body(i).name for i in range(model.nbody)]
    return next(names.index(b) for b in FOLLOW_BODIES if b in names)


def render_frames(
    traj: Trajectory,
    width: int = 480,
    height: int = 360,
    cam_type: str = "follow",
    cam_distance: float = 2.5,
    visualize_activation: bool = True,
) -> list[np.ndarray]:
    """RGB frames of every recorded state."""
    model = copy.copy(traj.model)
    muscles, tendons = muscle_tendons(model)
    target = follow_body(model)
    camera = mujoco.MjvCamera()
    camera.type = mujoco.mjtCamera.mjCAMERA_FREE
    camera.distance, camera.azimuth, camera.elevation = cam_distance, 90.0, -12.0
    frames = []
    with mujoco.Renderer(model, height, width) as renderer:
        for t in range(len(traj.qpos)):
            data = traj.mj_data(t)
            if visualize_activation and len(muscles):
                model.tendon_rgba[tendons] = activation_rgba(data.act[model.actuator_actadr[muscles]])
            if cam_type == "follow" or t == 0:
                camera.lookat[:] = data.xpos[target]
                camera.lookat[2] = max(camera.lookat[2] - 0.3, 0.5) if target != 0 else camera.lookat[2]
            renderer.update_scene(data, camera=camera)
            frames.append(renderer.render().copy())
    return frames


def write_video(traj: Trajectory, path: str | Path, **kwargs) -> Path:
    """Renders ``traj`` to an mp4 at the control rate."""
    import mediapy

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mediapy.write_video(str(path), render_frames(traj, **kwargs), fps=max(1, round(1.0 / traj.dt)))
    return path
