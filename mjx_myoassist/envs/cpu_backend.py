"""CPU physics backend: MuJoCo C on a thread pool, called from inside ``jit``.

``CpuBackend`` supplies the same ``init``/``step``/``view`` as :class:`MjxBackend`,
so the same JAX observation and reward code runs over it and the trainer is
unchanged.  Each ``step`` is one ``jax.pure_callback`` (``vmap_method="broadcast_all"``)
that steps every env of the batch ``substeps`` times in C, spread over
``num_threads`` threads (MuJoCo releases the GIL while stepping).

The physics state stays float64: it travels through JAX as pairs of float32
(``hi + lo``, about 48 bits of mantissa), so the state is exact enough to continue
a C simulation and still works with ``jnp.where`` (auto-reset) and ``vmap``.
"""

from __future__ import annotations

import concurrent.futures
import copy
import functools
import os
import threading
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from flax import struct

from mjx_myoassist.envs.physics import PhysicsView, contact_spheres, finite_state
from mjx_myoassist.envs.touch import TouchSites, touch_forces
from mjx_myoassist.models.edits import sensor_targets

STATE_FIELDS = ("qpos", "qvel", "act", "qacc_warmstart", "time")
FORWARD_ONLY = -1  # nstep value: forward dynamics at the state, no time step


def split64(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float64 -> (hi, lo) float32 with hi + lo ~= x to ~1e-14 relative."""
    x = np.asarray(x, np.float64)
    hi = x.astype(np.float32)
    return hi, (x - hi.astype(np.float64)).astype(np.float32)


def join64(hi, lo) -> np.ndarray:
    return np.asarray(hi, np.float64) + np.asarray(lo, np.float64)


@struct.dataclass
class CpuState:
    """Physics state (float64 as hi/lo float32 pairs) and the view the env reads after a step."""

    hi: dict[str, jax.Array]
    lo: dict[str, jax.Array]
    view: PhysicsView


class _Worker:
    """Per-thread MjData for one model."""

    def __init__(self, model: mujoco.MjModel):
        self.local = threading.local()
        self.model = model

    def data(self) -> mujoco.MjData:
        if not hasattr(self.local, "data"):
            self.local.data = mujoco.MjData(self.model)
        return self.local.data


def without_auto_reset(model: mujoco.MjModel) -> mujoco.MjModel:
    """A copy of ``model`` whose ``mj_step`` keeps a NaN/diverged state instead of silently resetting it,
    so the env sees the fault, terminates the episode and counts it (``numerical_fault``), as on MJX."""
    model = copy.copy(model)
    model.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_AUTORESET)
    return model


class CpuBackend:
    """Steps a batch of envs in MuJoCo C from inside a jitted function."""

    name = "cpu"
    mesh_contacts = True  # MuJoCo C runs MyoAssist's original contacts
    precision = "float64"
    light_bodies = True
    install_hint = ""

    @staticmethod
    def available() -> bool:
        return True

    @staticmethod
    def options(env_params) -> dict[str, int]:
        return {"num_threads": env_params.num_threads}

    def __init__(self, model: mujoco.MjModel, substeps: int, tracked_bodies: Sequence[str], num_threads: int = 0):
        self.model = model = without_auto_reset(model)
        self.substeps = int(substeps)
        self.num_threads = num_threads or os.cpu_count() or 1
        self.pool = concurrent.futures.ThreadPoolExecutor(self.num_threads)
        self.worker = _Worker(model)
        targets = sensor_targets(model)
        self.touch = TouchSites.from_model(model, targets)
        self.touch_names = list(self.touch.names)
        self.limit_names = [n for n, (k, _) in targets.items() if k == "jointlimitfrc"]
        self.limit_joints = np.array([model.joint(targets[n][1]).id for n in self.limit_names], dtype=np.int32)
        self.tracked_bodies = np.array([model.body(b).id for b in tracked_bodies], dtype=np.int32)
        self.contact_geoms, self.contact_radius = contact_spheres(model)
        self.pyramid_rows = 2 * (int(np.max(model.geom_condim)) - 1) if model.ngeom else 0
        self.joint_slot = np.full(model.njnt, -1)
        self.joint_slot[self.limit_joints] = np.arange(len(self.limit_joints))
        self.sizes = {"qpos": model.nq, "qvel": model.nv, "act": model.na, "qacc_warmstart": model.nv, "time": 1}

    # ------------------------------------------------------------------ host side

    def _clearance(self, d: mujoco.MjData) -> float:
        if not self.contact_geoms.size:
            return np.inf
        return float(np.min(d.geom_xpos[self.contact_geoms, 2] - self.contact_radius))

    def _read_forces(self, d: mujoco.MjData, feet: np.ndarray, limits: np.ndarray) -> None:
        """Touch sensor readings and joint-limit force per limit joint, written in place.

        The normal force of a pyramidal-cone contact is the sum of its pyramid edge forces
        (what ``mj_contactForce`` decodes), vectorised over contacts.
        """
        limits[:] = 0.0
        contact = d.contact
        if d.ncon:
            adr = contact.efc_address
            rows = adr[:, None] + np.arange(self.pyramid_rows)[None, :]
            in_pyramid = (np.arange(self.pyramid_rows)[None, :] < 2 * (contact.dim[:, None] - 1)) & (adr[:, None] >= 0)
            normal = np.where(in_pyramid, d.efc_force[np.clip(rows, 0, max(d.nefc - 1, 0))], 0.0).sum(axis=1)
            bodies = self.model.geom_bodyid[contact.geom]
            feet[:] = touch_forces(
                np, self.touch, d.site_xpos, d.site_xmat, normal, contact.pos, contact.frame[:, :3], bodies
            )
        else:
            feet[:] = 0.0
        rows = np.nonzero(d.efc_type == mujoco.mjtConstraint.mjCNSTR_LIMIT_JOINT)[0]
        slots = self.joint_slot[d.efc_id[rows]]
        hit = slots >= 0
        limits[slots[hit]] = d.efc_force[rows[hit]]

    def _run_one(self, i: int, states: dict, ctrl: np.ndarray, nstep: int, out: dict) -> None:
        """Steps env ``i`` (or only computes its kinematics when ``nstep`` is 0); writes row ``i`` of ``out``."""
        d = self.worker.data()
        for name in STATE_FIELDS[:-1]:
            getattr(d, name)[:] = states[name][i]
        d.time = float(states["time"][i, 0])
        d.ctrl[:] = ctrl[i]
        if nstep == FORWARD_ONLY:
            mujoco.mj_forward(self.model, d)
            self._read_forces(d, out["feet"][i], out["limits"][i])
        elif nstep:
            mujoco.mj_step(self.model, d, nstep)
            self._read_forces(d, out["feet"][i], out["limits"][i])
        else:  # like MjxBackend.init: kinematics only, no forces until the first step
            mujoco.mj_kinematics(self.model, d)
            out["feet"][i], out["limits"][i] = 0.0, 0.0
        for name in STATE_FIELDS[:-1]:
            out[name][i] = getattr(d, name)
        out["time"][i, 0] = d.time
        out["bodies"][i] = d.xpos[self.tracked_bodies]
        out["clearance"][i] = self._clearance(d)

    def _host(self, nstep: int, hi: dict, lo: dict, ctrl: np.ndarray):
        batch_shape = np.shape(ctrl)[:-1]
        n = int(np.prod(batch_shape)) if batch_shape else 1
        states = {k: join64(hi[k], lo[k]).reshape(n, -1) for k in STATE_FIELDS}
        ctrl = np.asarray(ctrl, np.float64).reshape(n, -1)
        out = {k: np.empty((n, self.sizes[k])) for k in STATE_FIELDS}
        out.update(
            feet=np.empty((n, len(self.touch_names))),
            limits=np.empty((n, len(self.limit_joints))),
            bodies=np.empty((n, len(self.tracked_bodies), 3)),
            clearance=np.empty(n),
        )

        def run_chunk(ids):
            for i in ids:
                self._run_one(i, states, ctrl, nstep, out)

        list(self.pool.map(run_chunk, np.array_split(np.arange(n), min(self.num_threads, n))))
        out_hi, out_lo = {}, {}
        for k in STATE_FIELDS:
            out_hi[k], out_lo[k] = split64(out[k].reshape(batch_shape + (self.sizes[k],)))
        as32 = lambda a: a.reshape(batch_shape + a.shape[1:]).astype(np.float32)  # noqa: E731
        return out_hi, out_lo, as32(out["feet"]), as32(out["limits"]), as32(out["bodies"]), as32(out["clearance"])

    # ------------------------------------------------------------------ JAX side

    def _call(self, hi: dict, lo: dict, ctrl: jax.Array, nstep: int) -> CpuState:
        f32 = lambda shape: jax.ShapeDtypeStruct(shape, jnp.float32)  # noqa: E731
        shapes = (
            {k: f32((self.sizes[k],)) for k in STATE_FIELDS},
            {k: f32((self.sizes[k],)) for k in STATE_FIELDS},
            f32((len(self.touch_names),)),
            f32((len(self.limit_joints),)),
            f32((len(self.tracked_bodies), 3)),
            f32(()),
        )
        out_hi, out_lo, feet, limits, bodies, clearance = jax.pure_callback(
            functools.partial(self._host, nstep), shapes, hi, lo, ctrl, vmap_method="broadcast_all"
        )
        joined = {k: out_hi[k] + out_lo[k] for k in ("qpos", "qvel", "act", "time")}
        view = PhysicsView(
            time=joined["time"][0], qpos=joined["qpos"], qvel=joined["qvel"], act=joined["act"], foot_forces=feet,
            joint_limit_forces=limits, body_pos=bodies, contact_clearance=clearance,
        )  # fmt: skip
        return CpuState(out_hi, out_lo, view)

    def init(self, qpos: jax.Array, qvel: jax.Array, act: jax.Array) -> CpuState:
        """State at (qpos, qvel, act) with body positions computed (forces read 0 until a step)."""
        zeros = lambda n: jnp.zeros((n,), jnp.float32)  # noqa: E731
        hi = {"qpos": qpos.astype(jnp.float32), "qvel": qvel.astype(jnp.float32), "act": act.astype(jnp.float32),
              "qacc_warmstart": zeros(self.model.nv), "time": zeros(1)}  # fmt: skip
        lo = {k: jnp.zeros_like(v) for k, v in hi.items()}
        return self._call(hi, lo, jnp.zeros(self.model.nu, jnp.float32), nstep=0)

    def forward(self, qpos: jax.Array, qvel: jax.Array, act: jax.Array, ctrl: jax.Array) -> CpuState:
        """State at (qpos, qvel, act) with all forces and sensors computed for ``ctrl`` (``mj_forward``)."""
        state = self.init(qpos, qvel, act)
        return self._call(state.hi, state.lo, ctrl.astype(jnp.float32), nstep=FORWARD_ONLY)

    def step(self, data: CpuState, ctrl: jax.Array) -> CpuState:
        return self._call(data.hi, data.lo, ctrl.astype(jnp.float32), nstep=self.substeps)

    def view(self, data: CpuState) -> PhysicsView:
        return data.view

    def is_finite(self, data: CpuState) -> jax.Array:
        return finite_state(data.view.qpos, data.view.qvel)

    def host_state(self, data: CpuState) -> dict[str, np.ndarray]:
        """qpos, qvel, act (float64) of a (possibly batched) state."""
        hi, lo = jax.device_get((data.hi, data.lo))
        return {k: join64(hi[k], lo[k]) for k in ("qpos", "qvel", "act")}
