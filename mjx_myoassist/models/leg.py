"""The leg model of a leg-imitation config: its source, solver options, trunk angle and terrain strip.

:func:`build_leg_model` is what the leg envs run: the user's MyoAssist XML (``model_path``
found under the MyoAssist root, the config folder or the working directory when the
config was loaded) or, without one, the embedded assist-sim model, with the config's
MJX-ready edits, solver options and trunk lean, and, on rough ground, a height-field strip
(:class:`HeightField`, whose heights the caller computes).
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import mujoco
import numpy as np

from mjx_myoassist.config import FLAT_TERRAINS, ConfigError, EnvParams, find_path, model_search_dirs
from mjx_myoassist.models import EMBEDDED_DIFFERENCES, load_spec, model_id_from_path
from mjx_myoassist.models.edits import CONTACT, FLOOR_NAME, set_via_point_armature, via_point_joints
from mjx_myoassist.models.myoassist import (
    MYOASSIST_MODEL_IDS,
    is_myoassist_model_path,
    model_file_for_id,
    myoassist_spec,
)

TRUNK_BODIES = ("lumbar5", "torso")  # the embedded model's first lumbar body (its trunk chain); MyoAssist's rigid torso
DEFAULT_MODEL_BY_ENV = {
    "myoAssistLegImitation-v0": "myolegs22_baseline",
    "myoAssistLegImitationExo-v0": "myolegs22_tutorial",
}
TERRAIN = "terrain"  # name of the height field and its geom (MyoAssist's own, refilled)
FLOOR_BELOW_TERRAIN = 0.02  # m: the floor plane under a strip only catches walkers beyond its ends


@dataclasses.dataclass(frozen=True)
class HeightField:
    """A terrain strip: ``heights`` (m) [rows along y, columns along x], its first column at x = ``first_x``."""

    heights: np.ndarray
    first_x: float
    col_pitch: float  # m between columns
    half_width: float  # m, half the extent along y
    base_depth: float  # m of solid below the lowest point


@dataclasses.dataclass(frozen=True)
class LegModel:
    """The compiled leg model and where it came from."""

    model: mujoco.MjModel
    model_id: str
    model_file: Path | None  # MyoAssist's XML, or None for the embedded model
    terrain: bool  # has a height-field strip


def trunk_quaternion(angle: float) -> np.ndarray:
    """MyoAssist's trunk lean: the quaternion [1, 0, 0, angle] normalised (2 atan(angle) about the lateral axis).

    MyoAssist sets the torso body quaternion to [1, 0, 0, lumbar_joint_fixed_angle] on models
    without a lumbar joint, so -0.13 leans the trunk 14.8 degrees forward about the torso origin.
    """
    quat = np.array([1.0, 0.0, 0.0, angle])
    return quat / np.linalg.norm(quat)


def set_trunk_angle(spec: mujoco.MjSpec, angle: float, trunk_body: str) -> None:
    """Welds the trunk leaned as MyoAssist's ``lumbar_joint_fixed_angle`` does (:func:`trunk_quaternion`).

    ``trunk_body`` is MyoAssist's ``torso``, or the first lumbar body of the embedded
    composition (whose trunk chain hangs from the sacrum; z is its lateral axis too).
    """
    body = spec.body(trunk_body)
    out = np.zeros(4)
    mujoco.mju_mulQuat(out, np.asarray(body.quat, dtype=float), trunk_quaternion(angle))
    body.quat = out


def model_source(p: EnvParams) -> tuple[Path | None, str]:
    """(MyoAssist XML file or None for an embedded model, model id), by the rule of :mod:`models.myoassist`."""
    if p.model_id in MYOASSIST_MODEL_IDS:
        return model_file_for_id(p.model_id, p.myoassist_root or None), p.model_id
    if p.model_id:
        return None, p.model_id
    if not p.model_path:
        return None, DEFAULT_MODEL_BY_ENV[p.env_id]
    folders = model_search_dirs(p)
    found = find_path(p.model_path, folders) if is_myoassist_model_path(p.model_path) else None
    if found is not None and found.is_file():
        return found, found.stem.lower()
    model_id = model_id_from_path(p.model_path)
    if is_myoassist_model_path(p.model_path):
        root = f"the MyoAssist root {p.myoassist_root}, " if p.myoassist_root else "no MyoAssist root given, "
        warnings.warn(
            f"model_path '{p.model_path}' was not found ({root}the config's folder, the working directory): "
            "running the embedded "
            f"assist-sim model '{model_id}' ({EMBEDDED_DIFFERENCES}); give --myoassist-root for MyoAssist's own.",
            stacklevel=3,
        )
    return None, model_id


def sole_edges(p: EnvParams) -> bool:
    """Whether the MJX-ready foot spheres sit in rows at the soles' edges (``env_params.foot_contact_rows``;
    'auto': on a height field)."""
    rows = getattr(p, "foot_contact_rows", "auto")
    if rows == "auto":
        return getattr(p, "terrain_type", "flat") not in FLAT_TERRAINS
    return rows == "edges"


def leg_spec(p: EnvParams, model_file: Path | None, model_id: str) -> mujoco.MjSpec:
    """The model's spec with the config's timestep, edits and solver options."""
    timestep = 1.0 / p.physics_sim_framerate
    if model_file is not None:
        spec = myoassist_spec(model_file, timestep, mjx_ready=p.mjx_ready_edits, sole_edges=sole_edges(p))
    elif not p.mjx_ready_edits:
        raise ConfigError(
            "env_params.mjx_ready_edits false needs MyoAssist's own model file (the embedded model has no "
            "original contacts to keep): give model_path and --myoassist-root, or set it to true."
        )
    else:
        spec = load_spec(model_id, sole_edges=sole_edges(p))
        spec.option.timestep = timestep
    if p.solver_iterations:
        spec.option.iterations = p.solver_iterations
    if p.solver_ls_iterations:
        spec.option.ls_iterations = p.solver_ls_iterations
    if p.integrator:
        spec.option.integrator = getattr(mujoco.mjtIntegrator, f"mjINT_{p.integrator.upper()}")
    return spec


def add_height_field(spec: mujoco.MjSpec, field: HeightField, mjx_ready: bool = True) -> None:
    """Puts the strip in the ``terrain`` hfield and geom: MyoAssist's own when the model has them, else new ones.

    MyoAssist's geom keeps its name, so its contact pairs (the original contacts) now meet the
    strip; with the MJX-ready edits the geom collides with the foot spheres by type and affinity.
    """
    heights = field.heights
    low = float(heights.min())
    relief = max(float(heights.max()) - low, 1e-3)
    nrow, ncol = heights.shape
    half_length = (ncol - 1) * field.col_pitch / 2
    hfield = next((h for h in spec.hfields if h.name == TERRAIN), None) or spec.add_hfield(name=TERRAIN)
    hfield.size = [half_length, field.half_width, relief, field.base_depth]
    hfield.nrow, hfield.ncol = nrow, ncol
    hfield.userdata = ((heights - low) / relief).ravel().tolist()  # MuJoCo rescales userdata to [0, 1]
    geom = next((g for g in spec.geoms if g.name == TERRAIN), None)
    if geom is None:
        geom = spec.worldbody.add_geom(name=TERRAIN, type=mujoco.mjtGeom.mjGEOM_HFIELD)
        geom.hfieldname = TERRAIN
    geom.pos = [field.first_x + half_length, 0, low]
    geom.rgba = [0.55, 0.5, 0.45, 1]
    if mjx_ready:
        geom.contype, geom.conaffinity, geom.condim = 0, 1, CONTACT["condim"]
        geom.friction, geom.margin, geom.gap = CONTACT["friction"], CONTACT["margin"], CONTACT["gap"]


def floor_height(heights: np.ndarray) -> float:
    """z of the floor plane under a strip: below its lowest point, so it only catches walkers past its ends."""
    return min(float(heights.min()), 0.0) - FLOOR_BELOW_TERRAIN


def build_leg_model(p: EnvParams, terrain: HeightField | None = None) -> LegModel:
    """The model with this config's trunk angle and, when given, the terrain strip."""
    model_file, model_id = model_source(p)
    if p.enable_lumbar_joint:
        raise ConfigError(
            f"env_params.enable_lumbar_joint is true but model '{model_id}' has no lumbar joint "
            "(MyoAssist's 22-muscle leg and the embedded leg weld the trunk to the pelvis). Set it to false; "
            "lumbar_joint_fixed_angle sets the trunk angle."
        )
    spec = leg_spec(p, model_file, model_id)
    trunk = next(b for b in TRUNK_BODIES if spec.body(b) is not None)
    set_trunk_angle(spec, p.lumbar_joint_fixed_angle, trunk)
    if terrain is not None:
        if p.mjx_ready_edits:  # MyoAssist keeps its (invisible) ground plane at z = 0 under its field
            floor = next(g for g in spec.geoms if g.name == FLOOR_NAME)
            floor.pos = [0, 0, floor_height(terrain.heights)]
        add_height_field(spec, terrain, p.mjx_ready_edits)
    model = spec.compile()
    if p.via_point_armature:
        set_via_point_armature(model, p.via_point_armature)
    return LegModel(model, model_id, model_file, terrain is not None)


def warn_float32_via_points(leg: LegModel, light_bodies: bool, via_point_armature: float) -> None:
    """MyoAssist's 1 g via points lose their dynamics on a backend without ``light_bodies`` (float32 MJX)."""
    measured = leg.model_file is not None  # MyoAssist's own model file (the embedded one was not measured)
    if not measured or light_bodies or via_point_armature:
        return
    joints = via_point_joints(leg.model)
    if joints:
        warnings.warn(
            f"{len(joints)} via-point bodies of 1 g in this MyoAssist model lose their dynamics "
            "in float32 MJX (its published policy falls there): set env_params.via_point_armature 0.01, or "
            "physics_precision float64, or physics_backend warp (docs/models.md, Precision).",
            stacklevel=3,
        )
