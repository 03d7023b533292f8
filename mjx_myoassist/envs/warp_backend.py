"""MuJoCo Warp physics backend: MJX with ``impl='warp'`` behind the same interface as :class:`MjxBackend`.

MuJoCo Warp keeps the contacts of all worlds of a ``vmap`` batch in one shared buffer
(``naconmax`` entries for the whole batch) and lays out the constraint rows of each world
per step.  So that the env state stays an ordinary batched pytree (``jnp.where`` auto-reset,
``shard_map`` over devices, ``vmap`` in evaluation), the state carried between control
steps is only what MuJoCo needs to continue a world (positions, velocities, activations,
time, warm start) plus the :class:`PhysicsView` read at the end of the step, as on the
``cpu`` backend.  Each control step builds the full Warp data for the batch it is called
with (a ``custom_vmap`` rule sizes the contact buffer from the batch size), runs the
substeps and reads the view.

A world whose contacts or constraint rows overflow their buffers reports it; that counts as a
numerical fault (the episode ends) instead of silently dropping contacts.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from flax import struct
from mujoco import mjx

from mjx_myoassist.envs.physics import MjxBackend, PhysicsView, finite_state, host_arrays

GEOM = mujoco.mjtGeom
CNSTR = mujoco.mjtConstraint
NORMAL_ROW_TYPES = (int(CNSTR.mjCNSTR_CONTACT_PYRAMIDAL), int(CNSTR.mjCNSTR_CONTACT_FRICTIONLESS))
ELLIPTIC, LIMIT_JOINT = int(CNSTR.mjCNSTR_CONTACT_ELLIPTIC), int(CNSTR.mjCNSTR_LIMIT_JOINT)
EQ_ROWS = {int(mujoco.mjtEq.mjEQ_CONNECT): 3, int(mujoco.mjtEq.mjEQ_WELD): 6}  # other equalities: 1 row
KINEMATICS, FORWARD = 0, -1  # nstep values of a call that does not advance time


def warp_available() -> bool:
    """True when MuJoCo Warp (``warp-lang``) is installed."""
    return importlib.util.find_spec("warp") is not None


def _candidate_pairs(model: mujoco.MjModel) -> np.ndarray:
    """Geom pairs [n, 2] that may collide: contype/conaffinity-compatible geoms of different bodies, and <pair>s."""
    ct, ca, body = model.geom_contype, model.geom_conaffinity, model.geom_bodyid
    ok = (((ct[:, None] & ca[None, :]) | (ct[None, :] & ca[:, None])) != 0) & (body[:, None] != body[None, :])
    pairs = np.argwhere(np.triu(ok, 1))
    explicit = np.stack([model.pair_geom1, model.pair_geom2], axis=1)
    return np.concatenate([pairs, explicit]).astype(np.int32)


def contacts_per_world(model: mujoco.MjModel) -> int:
    """Contact slots per world: 1 per sphere pair (not with a height field), 4 per other candidate pair."""
    types = model.geom_type[_candidate_pairs(model)]
    single = (types == GEOM.mjGEOM_SPHERE).any(axis=1) & ~(types == GEOM.mjGEOM_HFIELD).any(axis=1)
    return max(int(np.where(single, 1, 4).sum()), 1)


def constraints_per_world(model: mujoco.MjModel, contacts: int) -> int:
    """Constraint rows per world: equalities, joint/tendon limits, friction loss and ``contacts`` contacts."""
    eq = sum(EQ_ROWS.get(int(t), 1) for t in model.eq_type)
    limits = int(model.jnt_limited.sum() + model.tendon_limited.sum())
    friction = int((model.dof_frictionloss > 0).sum() + (model.tendon_frictionloss > 0).sum())
    condim = int(max(model.geom_condim.max(initial=1), model.pair_dim.max(initial=1)))
    if model.opt.cone == mujoco.mjtCone.mjCONE_ELLIPTIC:
        rows = condim
    else:
        rows = 1 if condim == 1 else 2 * (condim - 1)
    return eq + limits + friction + contacts * rows


@struct.dataclass
class WarpState:
    """One world's physics state between control steps and the view read at the end of the last one."""

    qacc_warmstart: jax.Array
    overflow: jax.Array  # MuJoCo Warp's overflow bits of the last step (0: all contacts and rows fitted)
    view: PhysicsView


class WarpBackend(MjxBackend):
    """Steps a MuJoCo Warp model ``substeps`` times per control step (through MJX, inside ``jit``/``vmap``)."""

    name = "warp"
    impl = "warp"
    install_hint = 'pip install -e ".[warp]" in the repository (or set physics_backend to mjx or cpu)'

    @staticmethod
    def available() -> bool:
        return warp_available()

    @property
    def precision(self) -> str:
        return "float32"

    @property
    def light_bodies(self) -> bool:
        """Measured: MyoAssist's published policy walks on float32 MuJoCo Warp (docs/models.md, Precision)."""
        return True

    def __init__(self, model: mujoco.MjModel, substeps: int, tracked_bodies: Sequence[str]):
        super().__init__(model, substeps, tracked_bodies)
        self.contacts_per_world = contacts_per_world(model)
        self.njmax = constraints_per_world(model, self.contacts_per_world)
        self._templates: dict[int, mjx.Data] = {}
        self._calls = {n: self._batched(n) for n in (KINEMATICS, FORWARD, self.substeps)}

    def _template(self, worlds: int) -> mjx.Data:
        """Warp data of one world whose shared contact buffer holds ``worlds`` worlds' contacts."""
        if worlds not in self._templates:
            naconmax = worlds * self.contacts_per_world
            with jax.ensure_compile_time_eval():  # made while tracing: keep it a concrete array, not a tracer
                self._templates[worlds] = mjx.make_data(self.model, impl="warp", naconmax=naconmax, njmax=self.njmax)
        return self._templates[worlds]

    def _batched(self, nstep: int):
        """``(qpos, qvel, act, qacc_warmstart, time, ctrl) -> WarpState`` for one world, batched by a rule that
        sizes the contact buffer for the batch (plain ``vmap`` would keep a one-world buffer)."""

        @jax.custom_batching.custom_vmap
        def call(*args):
            return self._simulate(1, nstep, *args)

        @call.def_vmap
        def batched(axis_size, in_batched, *args):
            spread = lambda x, b: x if b else jnp.broadcast_to(x, (axis_size, *jnp.shape(x)))  # noqa: E731
            args = [spread(x, b) for x, b in zip(args, in_batched, strict=True)]
            out = jax.vmap(lambda *a: self._simulate(axis_size, nstep, *a))(*args)
            return out, jax.tree.map(lambda _: True, out)

        return call

    def _simulate(self, worlds, nstep, qpos, qvel, act, qacc_warmstart, time, ctrl) -> WarpState:
        data = self._template(worlds).replace(
            qpos=qpos, qvel=qvel, act=act, qacc_warmstart=qacc_warmstart, time=time, ctrl=ctrl
        )
        if nstep == KINEMATICS:
            data = mjx.kinematics(self.mx, data)
        elif nstep == FORWARD:
            data = mjx.forward(self.mx, data)
        else:
            data, _ = jax.lax.scan(lambda d, _: (mjx.step(self.mx, d), None), data, None, length=nstep)
        return WarpState(qacc_warmstart=data.qacc_warmstart, overflow=data._impl.overflow, view=self._read(data))

    def _read(self, data: mjx.Data) -> PhysicsView:
        """The view of one world, from its constraint rows (``efc_id`` of a contact row is its slot in the
        batch's shared contact buffer)."""
        impl = data._impl
        row = jnp.arange(impl.efc__force.shape[0])
        live = row < impl.nefc
        force = jnp.where(live, impl.efc__force, 0.0)
        slot = jnp.clip(impl.efc__id, 0, impl.contact__pos.shape[0] - 1)
        elliptic_normal = (impl.efc__type == ELLIPTIC) & (impl.contact__efc_address[slot, 0] == row)
        normal = jnp.where(jnp.isin(impl.efc__type, jnp.array(NORMAL_ROW_TYPES)) | elliptic_normal, force, 0.0)
        feet = self._touch_forces(
            data, normal, impl.contact__pos[slot], impl.contact__frame[slot, 0], impl.contact__geom[slot]
        )
        is_limit = (impl.efc__type == LIMIT_JOINT)[None, :] & (impl.efc__id[None, :] == self.limit_joints[:, None])
        return PhysicsView(
            time=data.time,
            qpos=data.qpos,
            qvel=data.qvel,
            act=data.act,
            foot_forces=feet,
            joint_limit_forces=jnp.where(is_limit, force[None, :], 0.0).sum(axis=1),
            body_pos=data.xpos[self.tracked_bodies],
            contact_clearance=self._clearance(data.geom_xpos),
        )

    def _call(self, nstep: int, state: WarpState, ctrl: jax.Array) -> WarpState:
        v = state.view
        return self._calls[nstep](v.qpos, v.qvel, v.act, state.qacc_warmstart, v.time, ctrl.astype(jnp.float32))

    def _at(self, qpos: jax.Array, qvel: jax.Array, act: jax.Array) -> WarpState:
        """A state at (qpos, qvel, act), time 0, before any physics has run."""
        f32 = lambda x: jnp.asarray(x, jnp.float32)  # noqa: E731
        nothing = jnp.zeros((0,), jnp.float32)
        view = PhysicsView(f32(0.0), f32(qpos), f32(qvel), f32(act), nothing, nothing, nothing, f32(0.0))
        return WarpState(qacc_warmstart=jnp.zeros(self.model.nv, jnp.float32), overflow=jnp.int32(0), view=view)

    def init(self, qpos: jax.Array, qvel: jax.Array, act: jax.Array) -> WarpState:
        """State at (qpos, qvel, act) with body positions computed (forces read 0 until the first step)."""
        return self._call(KINEMATICS, self._at(qpos, qvel, act), jnp.zeros(self.model.nu))

    def forward(self, qpos: jax.Array, qvel: jax.Array, act: jax.Array, ctrl: jax.Array) -> WarpState:
        """State at (qpos, qvel, act) with all forces computed for ``ctrl`` (``mjx.forward``)."""
        return self._call(FORWARD, self._at(qpos, qvel, act), ctrl)

    def step(self, data: WarpState, ctrl: jax.Array) -> WarpState:
        """One control step: ``substeps`` physics steps with ``ctrl`` held."""
        return self._call(self.substeps, data, ctrl)

    def view(self, data: WarpState) -> PhysicsView:
        return data.view

    def is_finite(self, data: WarpState) -> jax.Array:
        """False on NaN/inf, a velocity blow-up, or a contact/constraint buffer overflow."""
        return finite_state(data.view.qpos, data.view.qvel) & (data.overflow == 0)

    def host_state(self, data: WarpState) -> dict[str, np.ndarray]:
        return host_arrays(data.view)
