"""Physics parity: the same states stepped by MJX and by CPU MuJoCo.

``python -m mjx_myoassist.models.parity [--x64] [--model ID] [--json]`` steps four
cases (quiet standing, a walking keyframe, airborne with random muscle excitation,
standing with excitation and exo torque) for 1 s with 40 substeps per control step,
and prints the largest qpos/qvel/act and ground-reaction-force differences at
several times.  Precision follows JAX: float32 by default, float64 with ``--x64``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

SUBSTEPS = 40
CONTROL_STEPS = 30  # 1 s at 30 Hz
REPORT_STEPS = (1, 5, 10, 30)


def cases(model) -> list[tuple[str, str, float, np.ndarray]]:
    """(label, keyframe, lift (m), ctrl) of each parity case."""
    rng = np.random.default_rng(0)
    n_muscles = int(np.sum(model.actuator_dyntype == 4))
    exo = np.full(model.nu - n_muscles, -0.5)
    return [
        ("standing", "stand", 0.0, np.zeros(model.nu)),
        ("walk_keyframe", "walk_left", 0.0, np.zeros(model.nu)),
        ("airborne_excited", "stand", 0.3, np.r_[rng.uniform(0, 1, n_muscles), exo]),
        ("standing_excited_exo", "stand", 0.0, np.r_[rng.uniform(0, 0.5, n_muscles), 0.6 * exo]),
    ]


def build_pair(model) -> tuple[Any, Any, Any, Any]:
    """(MjModel, MjData, mjx.Model, mjx.Data) for a model, an MJCF path or inline XML."""
    import mujoco
    from mujoco import mjx

    if isinstance(model, str):
        model = (
            mujoco.MjModel.from_xml_string(model)
            if model.lstrip().startswith("<")
            else mujoco.MjModel.from_xml_path(model)
        )
    data = mujoco.MjData(model)
    return model, data, mjx.put_model(model), mjx.put_data(model, data)


def _c_foot_forces(model, data, touch) -> np.ndarray:
    """Touch sensor readings of a CPU MuJoCo state (the same replica the backends use)."""
    import mujoco

    from mjx_myoassist.envs.touch import touch_forces

    normal, wrench = np.zeros(data.ncon), np.zeros(6)
    for i in range(data.ncon):
        mujoco.mj_contactForce(model, data, i, wrench)
        normal[i] = wrench[0]
    contact = data.contact
    bodies = model.geom_bodyid[contact.geom]
    return touch_forces(np, touch, data.site_xpos, data.site_xmat, normal, contact.pos, contact.frame[:, :3], bodies)


def run(model_id: str = "myolegs22_tutorial", myoassist_root: str | None = None) -> dict[str, dict[str, list[float]]]:
    """Max abs differences per case and report time: {case: {qpos, qvel, act, grf: [...]}}."""
    import jax
    import jax.numpy as jnp
    import mujoco

    from mjx_myoassist.envs.physics import MjxBackend
    from mjx_myoassist.models import load_model

    model, _, _, _ = build_pair(load_model(model_id, myoassist_root))
    backend = MjxBackend(model, SUBSTEPS, ("pelvis",))
    starts, c_traj, c_grf = [], [], []
    for _, key, lift, ctrl in cases(model):
        data = mujoco.MjData(model)
        mujoco.mj_resetDataKeyframe(model, data, model.key(key).id)
        data.qpos[model.jnt_qposadr[model.joint("pelvis_ty").id]] += lift
        data.ctrl[:] = ctrl
        starts.append((data.qpos.copy(), data.qvel.copy(), data.act.copy(), ctrl))
        traj, grf = [], []
        for _ in range(CONTROL_STEPS):
            mujoco.mj_step(model, data, SUBSTEPS)
            traj.append(np.r_[data.qpos, data.qvel, data.act])
            grf.append(_c_foot_forces(model, data, backend.touch))
        c_traj.append(traj)
        c_grf.append(grf)

    def rollout(qpos, qvel, act, ctrl):
        data = jax.vmap(backend.init)(qpos, qvel, act)

        def one(d, _):
            d = jax.vmap(backend.step)(d, ctrl)
            v = jax.vmap(backend.view)(d)
            return d, (jnp.concatenate([v.qpos, v.qvel, v.act], -1), v.foot_forces)

        return jax.lax.scan(one, data, None, length=CONTROL_STEPS)[1]

    args = [jnp.asarray(np.stack(x)) for x in zip(*starts, strict=True)]
    m_traj, m_grf = jax.device_get(jax.jit(rollout)(*args))
    m_traj, m_grf = np.swapaxes(m_traj, 0, 1), np.swapaxes(m_grf, 0, 1)
    c_traj, c_grf = np.array(c_traj), np.array(c_grf)
    nq, nv = model.nq, model.nv
    report = {}
    for i, (label, *_rest) in enumerate(cases(model)):
        err = np.abs(m_traj[i] - c_traj[i])
        report[label] = {
            "qpos": [float(err[t - 1, :nq].max()) for t in REPORT_STEPS],
            "qvel": [float(err[t - 1, nq : nq + nv].max()) for t in REPORT_STEPS],
            "act": [float(err[t - 1, nq + nv :].max()) for t in REPORT_STEPS],
            "grf": [float(np.abs(m_grf[i, t - 1] - c_grf[i, t - 1]).max()) for t in REPORT_STEPS],
        }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--x64", action="store_true", help="run MJX in float64")
    parser.add_argument("--model", default="myolegs22_tutorial", help="a model id (embedded or MyoAssist's)")
    parser.add_argument("--myoassist-root", default=None, help="MyoAssist checkout, for MyoAssist model ids")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)
    import jax

    from mjx_myoassist import enable_compilation_cache

    jax.config.update("jax_enable_x64", args.x64)
    enable_compilation_cache()
    report = run(args.model, args.myoassist_root)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"MJX ({'float64' if args.x64 else 'float32'}) vs CPU MuJoCo, max |diff| at control steps {REPORT_STEPS}")
    for label, errs in report.items():
        print(f"{label:22s} " + "  ".join(f"{k} " + " ".join(f"{e:.1e}" for e in v) for k, v in errs.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
