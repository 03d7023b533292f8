"""Foot contact spheres placed from the collision meshes that touch the ground.

MyoAssist's feet touch the floor through their bone meshes (calcaneus, toes, and the
exo's foot attachment).  MJX cannot compile that mesh set quickly, so each ground-touching
mesh is replaced by small spheres on its sole contour:

* The ground-touching meshes are found from the model itself: at the ``stand`` keyframe,
  every colliding mesh whose lowest vertex lies within ``FOOT_BAND`` of the lowest one.
* The mesh vertices are turned into the world orientation of that standing pose (the foot
  bodies of MyoAssist's models are y-up, so "down" is never assumed from body axes) and
  projected onto the sagittal plane (world x, z).  The convex hull of that projection is
  what a floor can touch; its part facing the ground (outward normal within ``SOLE_ANGLE``
  of straight down: heel curve, sole, toe tip, whatever the foot's pitch) carries spheres
  every ``SPACING`` along the contour, tangent to the hull at their vertex.
* Planar models get one sphere row at the mean lateral position of the sole; 3D models
  (a pelvis with rotational freedom out of the sagittal plane) get a medial and a lateral row.
  With ``edges`` (used on a height field) every model gets two rows of the whole sole contour,
  at the sole's medial and lateral edges: on ground whose height varies across the foot's
  width a mesh touches at its edges, which one middle row misses (on MyoAssist's rough field
  the rough policy falls 6 of 10 times with one row, 1 with edge rows, 3 with the meshes;
  docs/models.md, Rough terrain).
* A sphere of radius ``RADIUS + margin`` whose bottom sits ``margin`` below the hull vertex
  reproduces MuJoCo's contact margin with margin 0 (MJX supports no margin on meshes).
"""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

FOOT_BAND = 0.02  # m: meshes whose lowest point is this close to the lowest one touch the ground
SOLE_ANGLE = 60.0  # deg: hull vertices whose outward normal is this close to straight down form the sole
SPACING = 0.015  # m: minimum distance between spheres along the sole
RADIUS = 0.005  # m
PLANAR_ROOT_DOFS = 3


@dataclasses.dataclass(frozen=True)
class ContactSphere:
    """A sphere (body frame) replacing part of a mesh's ground contact."""

    body: str
    source_geom: str
    pos: np.ndarray
    radius: float


def _rotation(quat: np.ndarray) -> np.ndarray:
    mat = np.zeros(9)
    mujoco.mju_quat2Mat(mat, np.asarray(quat, dtype=float))
    return mat.reshape(3, 3)


def _geom_vertices_body(model: mujoco.MjModel, geom: int) -> np.ndarray:
    """Mesh vertices of ``geom`` in its body's frame."""
    mesh = model.geom_dataid[geom]
    start, count = model.mesh_vertadr[mesh], model.mesh_vertnum[mesh]
    return model.mesh_vert[start : start + count] @ _rotation(model.geom_quat[geom]).T + model.geom_pos[geom]


def _colliding_meshes(model: mujoco.MjModel) -> list[int]:
    mesh = int(mujoco.mjtGeom.mjGEOM_MESH)
    pair_geoms = set(model.pair_geom1) | set(model.pair_geom2)
    return [
        g
        for g in range(model.ngeom)
        if model.geom_type[g] == mesh and (model.geom_contype[g] or model.geom_conaffinity[g] or g in pair_geoms)
    ]


def ground_meshes(model: mujoco.MjModel, key: str = "stand") -> list[int]:
    """Colliding mesh geoms whose lowest point is within FOOT_BAND of the lowest one at ``key``."""
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key(key).id)
    mujoco.mj_kinematics(model, data)
    lowest = {}
    for g in _colliding_meshes(model):
        body = model.geom_bodyid[g]
        world = _geom_vertices_body(model, g) @ data.xmat[body].reshape(3, 3).T + data.xpos[body]
        lowest[g] = world[:, 2].min()
    floor = min(lowest.values())
    return [g for g, z in lowest.items() if z <= floor + FOOT_BAND]


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Indices of the convex hull of 2D ``points`` (monotone chain), counter-clockwise."""
    order = np.lexsort((points[:, 1], points[:, 0]))

    def chain(indices):
        out: list[int] = []
        for i in indices:
            while len(out) >= 2:
                a, b = points[out[-2]], points[out[-1]]
                if (b[0] - a[0]) * (points[i][1] - a[1]) - (b[1] - a[1]) * (points[i][0] - a[0]) > 0:
                    break
                out.pop()
            out.append(int(i))
        return out

    lower, upper = chain(order), chain(order[::-1])
    return np.array(lower[:-1] + upper[:-1])


def _vertex_normals(hull: np.ndarray) -> np.ndarray:
    """Outward unit normals at the vertices of a counter-clockwise 2D polygon (mean of the adjacent edges)."""
    edges = np.roll(hull, -1, axis=0) - hull
    edge_normals = np.stack([edges[:, 1], -edges[:, 0]], axis=1)
    edge_normals /= np.linalg.norm(edge_normals, axis=1, keepdims=True)
    normals = edge_normals + np.roll(edge_normals, 1, axis=0)
    return normals / np.linalg.norm(normals, axis=1, keepdims=True)


def _thin_along(points: np.ndarray, spacing: float) -> np.ndarray:
    """Indices of points (in contour order) at least ``spacing`` apart along the contour; both ends kept."""
    kept, travelled = [0], 0.0
    for i in range(1, len(points)):
        travelled += float(np.linalg.norm(points[i] - points[i - 1]))
        if travelled >= spacing:
            kept.append(i)
            travelled = 0.0
    if kept[-1] != len(points) - 1:
        if travelled < spacing / 2 and len(kept) > 1:
            kept.pop()
        kept.append(len(points) - 1)
    return np.array(kept)


def _sole_sites(world_vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(points, inward unit normals) on the sole contour of one lateral row of vertices (world orientation).

    The sole is the part of the sagittal convex hull facing the ground within ``SOLE_ANGLE``
    of straight down: what a floor can touch whatever the foot's pitch up to that angle.
    """
    hull_index = _convex_hull(world_vertices[:, [0, 2]])
    hull = world_vertices[hull_index][:, [0, 2]]
    normals = _vertex_normals(hull)
    facing = normals[:, 1] <= -np.cos(np.radians(SOLE_ANGLE))
    start = int(np.argmin(facing)) if not facing.all() else 0
    order = np.roll(np.arange(len(hull)), -start)  # contiguous run of facing vertices, in contour order
    run = order[facing[order]]
    kept = run[_thin_along(hull[run], SPACING)]
    points = np.zeros((len(kept), 3))
    points[:, [0, 2]] = hull[kept]
    points[:, 1] = world_vertices[:, 1].mean()
    inward = np.zeros((len(kept), 3))
    inward[:, [0, 2]] = -normals[kept]
    return points, inward


def _rows(world_vertices: np.ndarray, planar: bool, edges: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """(points, inward normals) of each sphere row of one mesh (world orientation): see the module doc."""
    if edges:
        points, inward = _sole_sites(world_vertices)
        lateral = world_vertices[:, 1]
        return [(np.column_stack([points[:, 0], np.full(len(points), y), points[:, 2]]), inward)
                for y in (lateral.min(), lateral.max())]  # fmt: skip
    if planar:
        return [_sole_sites(world_vertices)]
    middle = np.median(world_vertices[:, 1])
    halves = (world_vertices[world_vertices[:, 1] <= middle], world_vertices[world_vertices[:, 1] > middle])
    return [_sole_sites(half) for half in halves]


def is_planar(model: mujoco.MjModel, root_body: str = "pelvis") -> bool:
    """True when the root body moves in the sagittal plane only (MyoAssist's 2D models)."""
    return int(np.sum(model.jnt_bodyid == model.body(root_body).id)) <= PLANAR_ROOT_DOFS


def foot_spheres(model: mujoco.MjModel, key: str = "stand", edges: bool = False) -> list[ContactSphere]:
    """Contact spheres (body frames) replacing the ground contact of the foot meshes of ``model``; ``edges``:
    rows at the soles' medial and lateral edges (module doc)."""
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key(key).id)
    mujoco.mj_kinematics(model, data)
    planar = is_planar(model)
    out = []
    for g in ground_meshes(model, key):
        body = int(model.geom_bodyid[g])
        rot = data.xmat[body].reshape(3, 3)
        world = _geom_vertices_body(model, g) @ rot.T
        for points, inward in _rows(world, planar, edges):
            for point, normal in zip(points, inward, strict=True):
                centre_world = point + RADIUS * normal  # tangent at the hull vertex; margin added to the radius
                out.append(
                    ContactSphere(
                        body=model.body(body).name,
                        source_geom=model.geom(g).name,
                        pos=rot.T @ centre_world,
                        radius=RADIUS + float(model.geom_margin[g]),
                    )
                )
    return out
