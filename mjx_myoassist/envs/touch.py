"""MuJoCo's touch sensor, recomputed from contacts (for MJX, which lacks the sensors we replace).

A touch sensor sums the normal force of every contact that involves its site's body and
whose ray (from the contact point along the contact normal, pointing away from that body)
meets the site's volume.  MyoAssist's foot sensors are boxes: ``r_foot`` covers the heel
region of the calcaneus, ``r_toes`` the toes, so the position of a contact decides which
sensor reads it.  The functions take the array module (``numpy`` or ``jax.numpy``) so the
CPU and MJX backends share one implementation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import mujoco
import numpy as np

BOX = int(mujoco.mjtGeom.mjGEOM_BOX)
_TINY = 1e-12
_FAR = 1e30


@dataclasses.dataclass(frozen=True)
class TouchSites:
    """Static description of the touch sensors of a model (in sensor order)."""

    names: tuple[str, ...]
    site_ids: np.ndarray  # [n]
    site_bodies: np.ndarray  # [n]
    half_sizes: np.ndarray  # [n, 3]

    @classmethod
    def from_model(cls, model: mujoco.MjModel, targets: dict[str, tuple[str, str]]) -> TouchSites:
        """Touch sensors listed in ``targets`` (``sensor_targets(model)``); only box sites are supported."""
        names = tuple(n for n, (kind, _) in targets.items() if kind == "touch")
        ids = np.array([model.site(targets[n][1]).id for n in names], dtype=np.int32)
        for name, site in zip(names, ids, strict=True):
            if model.site_type[site] != BOX:
                raise ValueError(f"Touch sensor '{name}': only box sites are supported (site {model.site(site).name}).")
        return cls(names, ids, model.site_bodyid[ids].astype(np.int32), model.site_size[ids].astype(np.float64))


def _ray_hits_box(xp, origin, direction, half_size) -> Any:
    """Slab test: does the ray origin + t * direction (t >= 0) meet the box |x_i| <= half_size_i (box frame)?"""
    safe = xp.where(xp.abs(direction) < _TINY, _TINY, direction)
    t1 = (-half_size - origin) / safe
    t2 = (half_size - origin) / safe
    parallel = xp.abs(direction) < _TINY
    inside = xp.abs(origin) <= half_size
    near = xp.where(parallel, xp.where(inside, -_FAR, _FAR), xp.minimum(t1, t2))
    far = xp.where(parallel, xp.where(inside, _FAR, -_FAR), xp.maximum(t1, t2))
    t_near, t_far = near.max(axis=-1), far.min(axis=-1)
    return (t_near <= t_far) & (t_far >= 0)


def touch_forces(
    xp,
    sites: TouchSites,
    site_xpos,
    site_xmat,
    normal_force,
    contact_pos,
    contact_normal,
    contact_bodies,
):
    """Touch sensor readings [n_sites] from contacts.

    ``normal_force`` [ncon] (0 for inactive contacts), ``contact_pos`` [ncon, 3],
    ``contact_normal`` [ncon, 3] (first row of the contact frame, geom1 -> geom2),
    ``contact_bodies`` [ncon, 2]; ``site_xpos`` [nsite_all, 3], ``site_xmat`` [nsite_all, 3, 3].
    """
    pos = site_xpos[sites.site_ids]  # [n, 3]
    mat = site_xmat[sites.site_ids].reshape(-1, 3, 3)  # [n, 3, 3], local -> world
    body = sites.site_bodies[:, None]  # [n, 1]
    on_first = contact_bodies[None, :, 0] == body  # [n, ncon]
    on_second = contact_bodies[None, :, 1] == body
    sign = xp.where(on_second, -1.0, 1.0)[..., None]
    direction = sign * contact_normal[None, :, :]  # [n, ncon, 3]
    offset = contact_pos[None, :, :] - pos[:, None, :]
    local_origin = xp.einsum("ncj,nji->nci", offset, mat)
    local_direction = xp.einsum("ncj,nji->nci", direction, mat)
    hits = _ray_hits_box(xp, local_origin, local_direction, sites.half_sizes[:, None, :])
    counted = (on_first | on_second) & hits & (normal_force[None, :] > 0)
    return xp.where(counted, normal_force[None, :], 0.0).sum(axis=-1)
