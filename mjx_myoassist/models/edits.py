"""MJX-ready edits, applied in code (MjSpec) to the models we load from packages.

Each edit and why it is needed:

* **Contacts reduced to feet vs ground.**  The assist-sim composition collides bone
  meshes with each other (25 explicit pairs + contype/conaffinity); MJX rejects
  ellipsoid-vs-mesh and compiling mesh-vs-mesh exhausts memory (DESIGN §4).  All
  geoms keep their visuals but stop colliding; each foot gets primitive spheres
  (heel and ball of the calcaneus mesh, toe tip) placed from the mesh vertices, and
  only those touch a floor plane.
* **Margin 0** everywhere (MJX has no margin on mesh/hfield contacts; none remain).
* **Sensors removed.**  MJX computes touch sensors differently from C and has no
  joint-limit-force sensor.  The env computes the same quantities from constraint
  forces; the sensor -> body/joint map is kept in the model as custom text
  ``sensor:<name>`` = ``touch <body>`` or ``jointlimitfrc <joint>``.
* **Solver** Newton, 4 iterations, 8 line-search iterations, pyramidal cone, timestep
  1/1200 s (MyoAssist's physics rate) — the measured speed/accuracy point of §4.
* **actearly off**: MJX ignores it, so C MuJoCo must too for parity.
* Baseline (no exo): device bodies and the exo motors are deleted; the joints and
  muscles are unchanged, so the observation layout matches the exo model.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile

import mujoco
import numpy as np

PHYSICS_TIMESTEP = 1.0 / 1200.0
SOLVER_ITERATIONS = 4
LINESEARCH_ITERATIONS = 8
FOOT_SPHERE_RADIUS = {"heel": 0.02, "ball": 0.02, "tip": 0.015}
FLOOR_NAME = "floor"
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


def _body_frame_vertices(model: mujoco.MjModel, geom_id: int) -> np.ndarray:
    mesh = model.geom_dataid[geom_id]
    start, count = model.mesh_vertadr[mesh], model.mesh_vertnum[mesh]
    rot = np.zeros(9)
    mujoco.mju_quat2Mat(rot, model.geom_quat[geom_id])
    return model.mesh_vert[start : start + count] @ rot.reshape(3, 3).T + model.geom_pos[geom_id]


def _sole_points(vertices: np.ndarray, band: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Posterior and anterior ends of the lowest band of a mesh (body frame, z up)."""
    low = vertices[vertices[:, 2] <= vertices[:, 2].min() + band]
    return low[np.argmin(low[:, 0])], low[np.argmax(low[:, 0])]


def _foot_spheres(model: mujoco.MjModel, body: str) -> dict[str, np.ndarray]:
    """Sphere centres (body frame) for a foot segment, from its mesh geoms."""
    body_id = model.body(body).id
    mesh_geoms = [g for g in range(model.ngeom) if model.geom_bodyid[g] == body_id and model.geom_type[g] == 7]
    verts = np.concatenate([_body_frame_vertices(model, g) for g in mesh_geoms])
    back, front = _sole_points(verts)
    bottom = verts[:, 2].min()
    if body.startswith("calcn"):
        r_heel, r_ball = FOOT_SPHERE_RADIUS["heel"], FOOT_SPHERE_RADIUS["ball"]
        return {
            "heel": np.array([back[0] + r_heel, back[1], bottom + r_heel]),
            "ball": np.array([front[0] - r_ball, front[1], bottom + r_ball]),
        }
    r_tip = FOOT_SPHERE_RADIUS["tip"]
    return {"tip": np.array([front[0] - r_tip, front[1], bottom + r_tip])}


def _sensor_targets(model: mujoco.MjModel) -> dict[str, str]:
    """Sensor name -> 'touch <body>' or 'jointlimitfrc <joint>' for the sensors we replace."""
    out = {}
    for i in range(model.nsensor):
        kind, obj = model.sensor_type[i], model.sensor_objid[i]
        if kind == mujoco.mjtSensor.mjSENS_TOUCH:
            out[model.sensor(i).name] = f"touch {model.body(model.site_bodyid[obj]).name}"
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


def _set_solver(spec: mujoco.MjSpec, timestep: float) -> None:
    spec.option.timestep = timestep
    spec.option.solver = mujoco.mjtSolver.mjSOL_NEWTON
    spec.option.iterations = SOLVER_ITERATIONS
    spec.option.ls_iterations = LINESEARCH_ITERATIONS
    spec.option.cone = mujoco.mjtCone.mjCONE_PYRAMIDAL


def build_leg_spec(leg: LegModelSpec) -> mujoco.MjSpec:
    """The MJX-ready leg model as an editable spec."""
    spec = compose_leg(leg.msk, leg.device)
    original = spec.compile()
    targets = _sensor_targets(original)
    foot_bodies = sorted({t.split()[1] for t in targets.values() if t.startswith("touch")})
    spheres = {body: _foot_spheres(original, body) for body in foot_bodies}

    for pair in list(spec.pairs):
        spec.delete(pair)
    for exclude in list(spec.excludes):
        spec.delete(exclude)
    for geom in spec.geoms:
        geom.contype, geom.conaffinity, geom.margin, geom.gap = 0, 0, 0.0, 0.0
    for sensor in list(spec.sensors):
        spec.delete(sensor)
    for actuator in spec.actuators:
        actuator.actearly = 0
    if not leg.keep_device:
        _remove_device(spec, leg.device, original)

    for body_name, points in spheres.items():
        body = spec.body(body_name)
        for label, pos in points.items():
            body.add_geom(
                name=f"{body_name}_{label}_contact",
                type=mujoco.mjtGeom.mjGEOM_SPHERE,
                size=[FOOT_SPHERE_RADIUS[label], 0, 0],
                pos=pos,
                contype=1,
                conaffinity=0,
                rgba=[0.8, 0.3, 0.3, 0.5],
                group=3,
                **CONTACT,
            )
    spec.worldbody.add_geom(
        name=FLOOR_NAME,
        type=mujoco.mjtGeom.mjGEOM_PLANE,
        size=[0, 0, 0.05],
        contype=0,
        conaffinity=1,
        rgba=[0.6, 0.65, 0.7, 1],
        **CONTACT,
    )
    for name, target in targets.items():
        spec.add_text(name=SENSOR_TEXT_PREFIX + name, data=target)
    _set_solver(spec, PHYSICS_TIMESTEP)
    return spec


def build_humanoid_spec() -> mujoco.MjSpec:
    """The MuJoCo humanoid from the mujoco-mjx wheel (already feet-vs-floor contacts), margin 0."""
    from mjx_myoassist.models import humanoid_xml_path

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
