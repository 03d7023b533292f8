"""The physics interface envs read (:class:`PhysicsBackend`), and its MJX backend.

Envs never touch a backend's state: they call ``backend.init`` / ``backend.step`` and read
a :class:`PhysicsView` (positions, velocities, activations, foot and joint-limit forces,
the body positions they need).  The ``mjx`` (here), ``warp`` and ``cpu`` backends implement
the protocol; :mod:`.backends` registers them by their config name.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from flax import struct
from mujoco import mjx

from mjx_myoassist.envs.touch import TouchSites, touch_forces
from mjx_myoassist.models.edits import sensor_targets

LIMIT_JOINT = int(mujoco.mjtConstraint.mjCNSTR_LIMIT_JOINT)


@struct.dataclass
class PhysicsView:
    """What envs read from physics after a control step."""

    time: jax.Array
    qpos: jax.Array
    qvel: jax.Array
    act: jax.Array
    foot_forces: jax.Array  # [n_touch] reading (N) of each touch sensor of the original model
    joint_limit_forces: jax.Array  # [n_jointlimitfrc] constraint force per limit sensor
    body_pos: jax.Array  # [n_bodies, 3] world positions of the tracked bodies
    contact_clearance: jax.Array  # lowest point of the colliding (foot) geoms above z = 0 (m)


class PhysicsBackend(Protocol):
    """What envs, the trainer, evaluation and replay call on a physics backend.

    A backend steps one env's physics state (a pytree; batched by ``vmap``) ``substeps`` times per control
    step.  Its state is opaque: read it only through :meth:`view`, :meth:`is_finite` and :meth:`host_state`.
    Capabilities, readable on the class before a backend is built:

    * ``name``: the ``env_params.physics_backend`` value that selects it;
    * ``mesh_contacts``: it runs MyoAssist's original mesh contacts (``mjx_ready_edits`` false);
    * ``precision``: 'float64' or 'float32', the precision its physics state steps in;
    * ``light_bodies``: 1 g bodies (MyoAssist's via points) keep their dynamics.
    """

    name: ClassVar[str]
    mesh_contacts: ClassVar[bool]
    install_hint: ClassVar[str]  # how to install it, when ``available()`` is False
    model: mujoco.MjModel
    substeps: int
    touch_names: list[str]  # the foot touch sensors of ``PhysicsView.foot_forces``, in order

    @property
    def precision(self) -> str: ...

    @property
    def light_bodies(self) -> bool: ...

    @staticmethod
    def available() -> bool:
        """True when the backend's libraries are installed."""

    @staticmethod
    def options(env_params: Any) -> dict[str, Any]:
        """Constructor keywords (after model, substeps, tracked bodies) the backend takes from ``env_params``."""

    def init(self, qpos: jax.Array, qvel: jax.Array, act: jax.Array) -> Any:
        """A state at (qpos, qvel, act) with kinematics computed (forces read 0 until the first step)."""

    def forward(self, qpos: jax.Array, qvel: jax.Array, act: jax.Array, ctrl: jax.Array) -> Any:
        """A state at (qpos, qvel, act) with all forces computed for ``ctrl``."""

    def step(self, data: Any, ctrl: jax.Array) -> Any:
        """One control step: ``substeps`` physics steps with ``ctrl`` held."""

    def view(self, data: Any) -> PhysicsView:
        """What envs read from a state."""

    def is_finite(self, data: Any) -> jax.Array:
        """False on a numerical fault (NaN/inf, blow-up, overflowed buffers)."""

    def host_state(self, data: Any) -> dict[str, np.ndarray]:
        """qpos, qvel, act of a (possibly batched) state as numpy arrays, at the precision the backend keeps."""


def finite_state(qpos: jax.Array, qvel: jax.Array, max_speed: float = 1e4) -> jax.Array:
    """False on a numerical fault: NaN/inf, or a velocity blow-up."""
    return jnp.isfinite(qpos).all() & jnp.isfinite(qvel).all() & (jnp.abs(qvel) < max_speed).all()


def host_arrays(fields: Any) -> dict[str, np.ndarray]:
    """qpos, qvel and act of ``fields`` (an ``mjx.Data`` or a :class:`PhysicsView`) as numpy arrays."""
    return {k: np.asarray(jax.device_get(getattr(fields, k))) for k in ("qpos", "qvel", "act")}


def limited_joints(model: mujoco.MjModel, joints: Sequence[str]) -> np.ndarray:
    """Ids of ``joints`` (the joints of the joint-limit-force sensors); raises ValueError for a joint without limits."""
    ids = []
    for name in joints:
        jid = model.joint(name).id
        if not model.jnt_limited[jid] or model.jnt_type[jid] < int(mujoco.mjtJoint.mjJNT_SLIDE):
            raise ValueError(f"Joint '{name}' has no limit, so it has no joint-limit force.")
        ids.append(jid)
    return np.array(ids, dtype=np.int32)


def contact_spheres(model: mujoco.MjModel) -> tuple[np.ndarray, np.ndarray]:
    """Ids and radii of the sphere geoms that collide with the ground (the feet of the leg models)."""
    ids = np.nonzero((model.geom_type == int(mujoco.mjtGeom.mjGEOM_SPHERE)) & (model.geom_contype > 0))[0]
    return ids.astype(np.int32), model.geom_size[ids, 0].astype(np.float32)


class MjxBackend:
    """Steps an MJX model ``substeps`` times per control step inside a ``lax.scan``."""

    name: ClassVar[str] = "mjx"
    mesh_contacts: ClassVar[bool] = False  # MJX rejects MyoAssist's mesh contacts with margin
    install_hint: ClassVar[str] = ""
    impl = "jax"  # MJX implementation (``mjx.put_model(..., impl=)``)

    @staticmethod
    def available() -> bool:
        """True when the backend's libraries are installed."""
        return True

    @staticmethod
    def options(env_params: Any) -> dict[str, Any]:
        """Constructor keywords the backend takes from ``env_params``."""
        return {}

    def __init__(self, model: mujoco.MjModel, substeps: int, tracked_bodies: Sequence[str]):
        self.model = model
        self.substeps = int(substeps)
        self.mx = mjx.put_model(model, impl=self.impl)
        targets = sensor_targets(model)
        self.touch = TouchSites.from_model(model, targets)
        self.touch_names = list(self.touch.names)
        self.limit_names = [n for n, (k, _) in targets.items() if k == "jointlimitfrc"]
        self.limit_joints = limited_joints(model, [targets[n][1] for n in self.limit_names])
        self.tracked_bodies = np.array([model.body(b).id for b in tracked_bodies], dtype=np.int32)
        self.contact_geoms, self.contact_radius = contact_spheres(model)

    @property
    def precision(self) -> str:
        """MJX steps in JAX's precision: float64 when 64-bit mode is on (:func:`envs.set_precision`)."""
        return "float64" if jax.config.jax_enable_x64 else "float32"

    @property
    def light_bodies(self) -> bool:
        """MyoAssist's 1 g via-point bodies lose their dynamics in float32 MJX (docs/models.md, Precision)."""
        return self.precision == "float64"

    @functools.cached_property
    def limit_rows(self) -> np.ndarray:
        """efc rows of the joint-limit constraints of ``limit_joints`` (MJX lays them out statically)."""
        with jax.ensure_compile_time_eval():  # first read while tracing the env
            efc_type = np.asarray(mjx.make_data(self.mx)._impl.efc_type)
        limited = np.nonzero(self.model.jnt_limited & (self.model.jnt_type >= int(mujoco.mjtJoint.mjJNT_SLIDE)))[0]
        first = int(np.argmax(efc_type == LIMIT_JOINT)) if (efc_type == LIMIT_JOINT).any() else 0
        return np.array([first + int(np.nonzero(limited == j)[0][0]) for j in self.limit_joints], dtype=np.int32)

    def init(self, qpos: jax.Array, qvel: jax.Array, act: jax.Array) -> Any:
        """A physics state at (qpos, qvel, act) with body positions computed.

        Only kinematics run here (no constraint solve): ``step`` recomputes all
        dynamics, and this keeps reset cheap to compile.  Contact forces read 0
        until the first step.
        """
        data = mjx.make_data(self.mx).replace(qpos=qpos, qvel=qvel, act=act)
        return mjx.kinematics(self.mx, data)

    def forward(self, qpos: jax.Array, qvel: jax.Array, act: jax.Array, ctrl: jax.Array) -> Any:
        """State at (qpos, qvel, act) with all forces computed for ``ctrl`` (``mjx.forward``)."""
        data = mjx.make_data(self.mx).replace(qpos=qpos, qvel=qvel, act=act, ctrl=ctrl)
        return mjx.forward(self.mx, data)

    def step(self, data: Any, ctrl: jax.Array) -> Any:
        """One control step: ``substeps`` physics steps with ``ctrl`` held."""
        data = data.replace(ctrl=ctrl)

        def substep(d, _):
            # keep the carry's dtypes (under jax_enable_x64 MJX returns some int32 fields as int64)
            return jax.tree.map(lambda new, old: new.astype(old.dtype), mjx.step(self.mx, d), d), None

        data, _ = jax.lax.scan(substep, data, None, length=self.substeps)
        return data

    def view(self, data: Any) -> PhysicsView:
        return PhysicsView(
            time=data.time,
            qpos=data.qpos,
            qvel=data.qvel,
            act=data.act,
            foot_forces=self._foot_forces(data),
            joint_limit_forces=data._impl.efc_force[self.limit_rows],
            body_pos=data.xpos[self.tracked_bodies],
            contact_clearance=self._clearance(data.geom_xpos),
        )

    def _clearance(self, geom_xpos: jax.Array) -> jax.Array:
        if self.contact_geoms.size == 0:
            return jnp.float32(jnp.inf)
        return jnp.min(geom_xpos[self.contact_geoms, 2] - self.contact_radius)

    def _foot_forces(self, data: Any) -> jax.Array:
        impl = data._impl
        contact = impl.contact
        if contact.geom.shape[0] == 0 or not self.touch_names:
            return jnp.zeros(len(self.touch_names))
        max_rows = 2 * (int(np.max(self.model.geom_condim)) - 1)
        rows = contact.efc_address[:, None] + jnp.arange(max_rows)[None, :]
        in_pyramid = jnp.arange(max_rows)[None, :] < 2 * (contact.dim[:, None] - 1)
        forces = jnp.where(in_pyramid, impl.efc_force[jnp.clip(rows, 0, impl.efc_force.shape[0] - 1)], 0.0)
        normal = jnp.where(contact.efc_address >= 0, forces.sum(axis=1), 0.0)
        return self._touch_forces(data, normal, contact.pos, contact.frame[:, 0, :], contact.geom)

    def _touch_forces(self, data: Any, normal: jax.Array, pos: jax.Array, direction: jax.Array, geoms: jax.Array):
        """Touch readings from contacts given as normal force, point, normal direction and geom pair [n, 2]."""
        bodies = jnp.asarray(self.model.geom_bodyid)[geoms]
        return touch_forces(jnp, self.touch, data.site_xpos, data.site_xmat, normal, pos, direction, bodies)

    @staticmethod
    def is_finite(data: Any) -> jax.Array:
        return finite_state(data.qpos, data.qvel)

    def host_state(self, data: Any) -> dict[str, np.ndarray]:
        return host_arrays(data)
