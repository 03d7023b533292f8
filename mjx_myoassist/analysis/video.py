"""Videos of replayed episodes (MuJoCo offscreen renderer, encoded by imageio-ffmpeg's ffmpeg through mediapy).

The camera looks at the walker from the side (azimuth 90, elevation 0), as MyoAssist's replay does, with
MyoAssist's ``cam_type``:

* ``follow``: the camera's x and y follow the tracked body (pelvis);
* ``average_speed``: its x moves at the walker's mean speed, from the body's first to its last x over the
  episode, so the walker's speed changes show as motion in the frame.

Unlike MyoAssist (its look-at height is 0.8 m), the look-at height and, when ``cam_distance`` is too short, the
distance come from the body's vertical extent over the episode: the whole body is in frame.  Only for rendering,
a floor plane that lies in the plane of another ground surface (the floor the MJX edits add under MyoAssist's
ground plane) is hidden, so the two do not z-fight.

Off-screen GL comes from ``MUJOCO_GL`` (egl, osmesa), which must be set before MuJoCo is imported;
``render.py`` chooses one that works (:mod:`.headless`).
"""

from __future__ import annotations

import copy
from pathlib import Path

import mujoco
import numpy as np

from mjx_myoassist.cpu.replay import Trajectory

FOLLOW_BODIES = ("pelvis", "torso", "mass")
CAM_TYPES = ("follow", "average_speed")
HIDDEN_GROUP = 3  # not drawn by MuJoCo's default geomgroup
FRAME_MARGIN = 1.15  # the body's height times this fills the image height at most
EXTENT_SAMPLES = 30  # states sampled for the body's vertical extent


def use_ffmpeg(path: str) -> None:
    """Points mediapy at this ffmpeg binary (imageio-ffmpeg's: no system ffmpeg needed)."""
    import mediapy

    mediapy.set_ffmpeg(path)


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


def _static_ground(model: mujoco.MjModel) -> list[int]:
    """Visible planes fixed to the world, facing up (normal +z)."""
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    return [
        g
        for g in range(model.ngeom)
        if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_PLANE
        and model.body_weldid[model.geom_bodyid[g]] == 0
        and model.geom_rgba[g, 3] > 0
        and model.geom_group[g] < HIDDEN_GROUP
        and data.geom_xmat[g].reshape(3, 3)[2, 2] > 0.999
    ]


def hide_coplanar_floors(model: mujoco.MjModel) -> list[int]:
    """Hides (for rendering) each upward plane lying in the plane of another, keeping a textured one; returns
    the hidden geom ids.  MyoAssist's model has its ground plane at z = 0, the MJX edits add a floor there."""
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    hidden = []
    by_height: dict[float, list[int]] = {}
    for g in _static_ground(model):
        by_height.setdefault(round(float(data.geom_xpos[g, 2]), 3), []).append(g)
    for planes in by_height.values():
        keep = max(planes, key=lambda g: (model.geom_matid[g] >= 0, -g))
        hidden += [g for g in planes if g != keep]
    model.geom_group[hidden] = HIDDEN_GROUP
    return hidden


def body_extent(traj: Trajectory, model: mujoco.MjModel) -> tuple[float, float]:
    """(lowest, highest) z of the walker's visible geoms over the episode (sampled), the floor included."""
    visible = (model.geom_group < HIDDEN_GROUP) & (model.geom_rgba[:, 3] > 0)
    geoms = np.nonzero((model.body_weldid[model.geom_bodyid] != 0) & visible)[0]
    low, high = 0.0, 0.0
    for t in np.unique(np.linspace(0, len(traj.qpos) - 1, EXTENT_SAMPLES).astype(int)):
        data = traj.mj_data(int(t))
        rot = data.geom_xmat[geoms].reshape(-1, 3, 3)
        center = data.geom_xpos[geoms, 2] + np.einsum("gj,gj->g", rot[:, 2], model.geom_aabb[geoms, :3])
        half = np.einsum("gj,gj->g", np.abs(rot[:, 2]), model.geom_aabb[geoms, 3:])
        low, high = min(low, float((center - half).min())), max(high, float((center + half).max()))
    return low, high


def camera_path(traj: Trajectory, model: mujoco.MjModel, cam_type: str, cam_distance: float) -> list[mujoco.MjvCamera]:
    """One free camera per recorded state (see the module docstring)."""
    if cam_type not in CAM_TYPES:
        raise ValueError(f"cam_type '{cam_type}' is not one of {CAM_TYPES}")
    target = follow_body(model)
    xy = np.array([traj.mj_data(t).xpos[target, :2] for t in range(len(traj.qpos))])
    if cam_type == "average_speed":
        xy[:, 0] = np.linspace(xy[0, 0], xy[-1, 0], len(xy))
    low, high = body_extent(traj, model)
    half_height = 0.5 * (high - low) * FRAME_MARGIN
    distance = max(cam_distance, half_height / np.tan(np.radians(model.vis.global_.fovy) / 2))
    cameras = []
    for x, y in xy:
        camera = mujoco.MjvCamera()
        camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        camera.distance, camera.azimuth, camera.elevation = distance, 90.0, 0.0
        camera.lookat[:] = [x, y, 0.5 * (low + high)]
        cameras.append(camera)
    return cameras


def render_model(traj: Trajectory) -> mujoco.MjModel:
    """A copy of the replay's model for drawing: coplanar floors hidden."""
    model = copy.copy(traj.model)
    hide_coplanar_floors(model)
    return model


def render_frames(
    traj: Trajectory,
    width: int = 480,
    height: int = 360,
    cam_type: str = "follow",
    cam_distance: float = 2.5,
    visualize_activation: bool = True,
) -> list[np.ndarray]:
    """RGB frames of every recorded state; muscles blue (relaxed) to red (active) if ``visualize_activation``."""
    model = render_model(traj)
    muscles, tendons = muscle_tendons(model)
    frames = []
    with mujoco.Renderer(model, height, width) as renderer:
        for t, camera in enumerate(camera_path(traj, model, cam_type, cam_distance)):
            data = traj.mj_data(t)
            if visualize_activation and len(muscles):
                model.tendon_rgba[tendons] = activation_rgba(data.act[model.actuator_actadr[muscles]])
            renderer.update_scene(data, camera=camera)
            frames.append(renderer.render().copy())
    return frames


def pixel(gl_camera: mujoco.MjvGLCamera, point: np.ndarray, width: int, height: int) -> tuple[float, float]:
    """(column, row) of a world point in an image drawn through ``gl_camera`` (a scene's ``camera[0]``),
    with the projection MuJoCo's renderer uses (frustum half-width from the image aspect)."""
    forward, up = np.asarray(gl_camera.forward), np.asarray(gl_camera.up)
    v = np.asarray(point) - np.asarray(gl_camera.pos)
    depth = v @ forward
    x_near = v @ np.cross(forward, up) * gl_camera.frustum_near / depth
    y_near = v @ up * gl_camera.frustum_near / depth
    span = gl_camera.frustum_top - gl_camera.frustum_bottom
    half_width = 0.5 * width / height * span
    column = (x_near - gl_camera.frustum_center + half_width) / (2 * half_width) * width
    row = (gl_camera.frustum_top - y_near) / span * height
    return float(column), float(row)


def write_video(traj: Trajectory, path: str | Path, **kwargs) -> Path:
    """Renders ``traj`` to an mp4 at the control rate (ffmpeg: :func:`use_ffmpeg`, else ``ffmpeg`` on PATH)."""
    import mediapy

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mediapy.write_video(str(path), render_frames(traj, **kwargs), fps=max(1, round(1.0 / traj.dt)))
    return path
