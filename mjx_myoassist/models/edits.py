"""MJX-ready edits, applied in code (MjSpec) to either leg model source.

The same pipeline (:func:`make_mjx_ready`) edits MyoAssist's own XML and the embedded
assist-sim composition; ``docs/models.md`` lists each edit with its measured effect.

* **Contacts reduced to feet vs floor.**  MyoAssist collides 17 bone/device meshes with a
  plane and a height field (1 mm margin) and 25 mesh pairs with each other; MJX rejects
  mesh/hfield contacts with margin and compiling mesh-vs-mesh exhausts memory.  All geoms
  keep their visuals but stop colliding; the meshes that touch the ground (found at the
  ``stand`` keyframe) get small spheres along their sagittal sole contour (heel curve,
  sole, toe tip; :mod:`.contacts`), and only those touch a floor plane at z = 0.
* **Margin 0**: the meshes' 1 mm margin is added to the sphere radius instead.
* **Sensors replaced.**  MJX has no joint-limit-force sensor.  Each sensor's description is
  kept as custom text ``sensor:<name>`` = ``touch <site>`` or ``jointlimitfrc <joint>``, and
  the envs recompute them from contacts and constraint forces exactly as MuJoCo does (touch:
  contacts of the site's body whose normal ray meets the site box, ``envs/touch.py``).
* **Solver** Newton, pyramidal cone, ``SOLVER_ITERATIONS``/``LINESEARCH_ITERATIONS``, warm
  start on (MyoAssist: 100/50, warm start off); chosen by measurement (docs/models.md).
* **actearly off**: MJX ignores it, so C MuJoCo must too for parity.
* Optional (not applied by default): :func:`set_via_point_armature` gives the slide joints of
  the moving via points (1 g bodies) an armature, which MyoAssist's models need to run on MJX in
  float32 (docs/models.md, Precision).
* Embedded baseline (no exo): device bodies and the exo motors are deleted; the joints and
  muscles are unchanged, so the observation layout matches the exo model.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

import mujoco

from mjx_myoassist.models.contacts import ContactSphere, foot_spheres

PHYSICS_TIMESTEP = 1.0 / 1200.0
SOLVER_ITERATIONS = 4
LINESEARCH_ITERATIONS = 8
FLOOR_NAME = "floor"
VIA_POINT_MASS = 0.01  # kg: slide-jointed bodies lighter than this are moving via points (MyoAssist: 1 g)
VIA_POINT_ARMATURE_F32 = 0.01  # measured: float32 MJX walks with it, cpu gait unchanged (docs/models.md)
SENSOR_TEXT_PREFIX = "sensor:"
# contact parameters shared by the foot spheres and the floor
CONTACT = {"condim": 3, "friction": [1.0, 0.005, 0.0001], "margin": 0.0, "gap": 0.0}


@dataclasses.dataclass(frozen=True)
class LegModelSpec:
    """How to compose one leg model with assist-sim."""

    msk: str
    device: str
    keep_device: bool


def compose_leg(msk: str, device: str) -> mujoco.MjSpec:
    """The assist-sim composition (planar root) as an editable MjSpec."""
    import assist_sim

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "composed.xml")
        assist_sim.load_combined(msk, device, export_xml=path, planar_root=True)
        spec = mujoco.MjSpec.from_file(path)
        # asset paths are relative to the temporary export: make them absolute so the
        # spec compiles (and exports) from anywhere
        for mesh in spec.meshes:
            if mesh.file:
                mesh.file = os.path.normpath(os.path.join(tmp, spec.meshdir or "", mesh.file))
        spec.meshdir = ""
        return spec


def _sensor_targets(model: mujoco.MjModel) -> dict[str, str]:
    """Sensor name -> 'touch <site>' or 'jointlimitfrc <joint>' for the sensors we replace."""
    out = {}
    for i in range(model.nsensor):
        kind, obj = model.sensor_type[i], model.sensor_objid[i]
        if kind == mujoco.mjtSensor.mjSENS_TOUCH:
            out[model.sensor(i).name] = f"touch {model.site(obj).name}"
        elif kind == mujoco.mjtSensor.mjSENS_JOINTLIMITFRC:
            out[model.sensor(i).name] = f"jointlimitfrc {model.joint(obj).name}"
    return out


def _remove_device(spec: mujoco.MjSpec, device: str, original: mujoco.MjModel) -> None:
    """Deletes device bodies and non-muscle actuators; keyframes are rebuilt (deletion corrupts them)."""
    muscles = original.actuator_dyntype == mujoco.mjtDyn.mjDYN_MUSCLE
    for key in list(spec.keys):
        spec.delete(key)
    for actuator in list(spec.actuators):
        if actuator.dyntype != mujoco.mjtDyn.mjDYN_MUSCLE:
            spec.delete(actuator)
    for body in list(spec.bodies):
        if body.name.startswith(device) and not body.parent.name.startswith(device):
            spec.delete(body)
    for k in range(original.nkey):
        spec.add_key(
            name=mujoco.mj_id2name(original, mujoco.mjtObj.mjOBJ_KEY, k),
            qpos=original.key_qpos[k],
            qvel=original.key_qvel[k],
            act=original.key_act[k],
            ctrl=original.key_ctrl[k][muscles],
        )


@dataclasses.dataclass(frozen=True)
class SolverSettings:
    """Constraint solver of the MJX-ready models (Newton, pyramidal cone)."""

    iterations: int = SOLVER_ITERATIONS
    ls_iterations: int = LINESEARCH_ITERATIONS
    warmstart: bool = True


def _set_solver(spec: mujoco.MjSpec, timestep: float, solver: SolverSettings) -> None:
    spec.option.timestep = timestep
    spec.option.solver = mujoco.mjtSolver.mjSOL_NEWTON
    spec.option.iterations = solver.iterations
    spec.option.ls_iterations = solver.ls_iterations
    spec.option.cone = mujoco.mjtCone.mjCONE_PYRAMIDAL
    warmstart = int(mujoco.mjtDisableBit.mjDSBL_WARMSTART)
    spec.option.disableflags = (spec.option.disableflags & ~warmstart) | (0 if solver.warmstart else warmstart)


def replace_sensors(spec: mujoco.MjSpec, original: mujoco.MjModel) -> None:
    """Deletes the sensors and stores what they measured as custom text (see :func:`sensor_targets`)."""
    for name, target in _sensor_targets(original).items():
        spec.add_text(name=SENSOR_TEXT_PREFIX + name, data=target)
    for sensor in list(spec.sensors):
        spec.delete(sensor)


def _add_floor(spec: mujoco.MjSpec) -> None:
    spec.worldbody.add_geom(
        name=FLOOR_NAME,
        type=mujoco.mjtGeom.mjGEOM_PLANE,
        size=[0, 0, 0.05],
        contype=0,
        conaffinity=1,
        rgba=[0.6, 0.65, 0.7, 1],
        **CONTACT,
    )


def _add_foot_spheres(spec: mujoco.MjSpec, spheres: list[ContactSphere]) -> None:
    for i, sphere in enumerate(spheres):
        spec.body(sphere.body).add_geom(
            name=f"{sphere.source_geom}_contact{i}",
            type=mujoco.mjtGeom.mjGEOM_SPHERE,
            size=[sphere.radius, 0, 0],
            pos=sphere.pos,
            contype=1,
            conaffinity=0,
            rgba=[0.8, 0.3, 0.3, 0.5],
            group=3,
            **CONTACT,
        )


def make_mjx_ready(
    spec: mujoco.MjSpec, solver: SolverSettings = SolverSettings(), sole_edges: bool = False
) -> mujoco.MjSpec:
    """Applies the MJX-ready edits (module doc) in place to a leg model spec; returns it. ``sole_edges``: the
    foot spheres in rows at the soles' edges (for a height field, :func:`contacts.foot_spheres`)."""
    original = spec.compile()
    spheres = foot_spheres(original, edges=sole_edges)
    replace_sensors(spec, original)
    for pair in list(spec.pairs):
        spec.delete(pair)
    for exclude in list(spec.excludes):
        spec.delete(exclude)
    for geom in spec.geoms:
        geom.contype, geom.conaffinity, geom.margin, geom.gap = 0, 0, 0.0, 0.0
    for actuator in spec.actuators:
        actuator.actearly = 0
    _add_foot_spheres(spec, spheres)
    _add_floor(spec)
    _set_solver(spec, spec.option.timestep, solver)
    return spec


def via_point_joints(model: mujoco.MjModel) -> list[str]:
    """Names of the slide joints of moving via points (bodies lighter than ``VIA_POINT_MASS``)."""
    return [
        model.joint(j).name
        for j in range(model.njnt)
        if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_SLIDE and model.body_mass[model.jnt_bodyid[j]] < VIA_POINT_MASS
    ]


def set_via_point_armature(model: mujoco.MjModel, armature: float) -> list[str]:
    """Sets the armature of the via-point slide joints (only those) of a compiled model; returns their names.

    MyoAssist's via points are 1 g bodies whose slide joints are held by equality couplings
    against kN muscle forces; in float32 MJX the constraint solve loses them (NaN, falls).
    An armature of ``VIA_POINT_ARMATURE_F32`` adds inertia along those joints only.  It is set
    on the compiled model, so the constraint scaling computed at compile time (``dof_invweight0``)
    stays MyoAssist's: set in the spec before compiling, the published policy falls within 30
    steps on float32 MJX (measured, docs/models.md).
    """
    names = via_point_joints(model)
    for name in names:
        model.dof_armature[model.joint(name).dofadr[0]] = armature
    return names


def build_leg_spec(leg: LegModelSpec, sole_edges: bool = False) -> mujoco.MjSpec:
    """The embedded (assist-sim) leg model, MJX-ready, as an editable spec (``sole_edges``: make_mjx_ready)."""
    spec = compose_leg(leg.msk, leg.device)
    original = spec.compile()
    if not leg.keep_device:
        _remove_device(spec, leg.device, original)
    spec.option.timestep = PHYSICS_TIMESTEP
    return make_mjx_ready(spec, sole_edges=sole_edges)


def humanoid_xml_path() -> Path:
    """The humanoid MJCF shipped inside the mujoco-mjx wheel."""
    import mujoco.mjx

    return Path(mujoco.mjx.__file__).parent / "test_data" / "humanoid" / "humanoid.xml"


def build_humanoid_spec() -> mujoco.MjSpec:
    """The MuJoCo humanoid from the mujoco-mjx wheel (already feet-vs-floor contacts), margin 0."""
    spec = mujoco.MjSpec.from_file(str(humanoid_xml_path()))
    for geom in spec.geoms:
        geom.margin, geom.gap = 0.0, 0.0
    return spec


def sensor_targets(model: mujoco.MjModel) -> dict[str, tuple[str, str]]:
    """Replaced sensors stored in an MJX-ready model: name -> (kind, body or joint name)."""
    out = {}
    for i in range(model.ntext):
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_TEXT, i)
        if name.startswith(SENSOR_TEXT_PREFIX):
            start = model.text_adr[i]
            data = bytes(model.text_data[start : start + model.text_size[i] - 1]).decode()
            kind, target = data.split()
            out[name[len(SENSOR_TEXT_PREFIX) :]] = (kind, target)
    return out
