"""Physics parity with CPU MuJoCo: the one tool for MJX vs C comparisons.

``python -m mjx_myoassist.analysis.parity model [--model ID] [--myoassist-root DIR] [--x64] [--json]``
steps four cases of a model (quiet standing, a walking keyframe, airborne with random muscle excitation,
standing with excitation and exo torque) for 1 s, 40 substeps per control step, with MJX and with C
MuJoCo from the same states, and prints the largest qpos/qvel/act and foot-force differences at several
times.

``python -m mjx_myoassist.analysis.parity env [--config F] [--checkpoint C] [--steps 30] [--x64]
[--config.<key> V ...]`` resets the whole env on the mjx and cpu backends from the same RNG, drives both
with the same deterministic policy (random-initialised unless ``--checkpoint``) and prints, as JSON, the
largest observation and joint-position differences while neither episode has ended.

Precision follows JAX: float32 by default, float64 with ``--x64``.  ``benchmarks/myoassist_models_parity.py``
runs ``model`` for every MyoAssist model (:func:`model_row`, one process each).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

SUBSTEPS = 40
CONTROL_STEPS = 30  # 1 s at 30 Hz
REPORT_STEPS = (1, 5, 10, 30)
METRICS = ("qpos", "qvel", "act", "grf")


# ----------------------------------------------------------------------------- model: the same states, two physics


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


def _c_rollouts(model, touch) -> tuple[list, np.ndarray, np.ndarray]:
    """Start states of every case and C MuJoCo's (qpos, qvel, act) and foot forces after each control step."""
    import mujoco

    starts, traj, grf = [], [], []
    for _, key, lift, ctrl in cases(model):
        data = mujoco.MjData(model)
        mujoco.mj_resetDataKeyframe(model, data, model.key(key).id)
        data.qpos[model.jnt_qposadr[model.joint("pelvis_ty").id]] += lift
        data.ctrl[:] = ctrl
        starts.append((data.qpos.copy(), data.qvel.copy(), data.act.copy(), ctrl))
        steps, forces = [], []
        for _ in range(CONTROL_STEPS):
            mujoco.mj_step(model, data, SUBSTEPS)
            steps.append(np.r_[data.qpos, data.qvel, data.act])
            forces.append(_c_foot_forces(model, data, touch))
        traj.append(steps)
        grf.append(forces)
    return starts, np.array(traj), np.array(grf)


def _mjx_rollouts(backend, starts: list) -> tuple[np.ndarray, np.ndarray]:
    """The same cases stepped by MJX in one jitted, batched scan: (case, step, state) and foot forces."""
    import jax
    import jax.numpy as jnp

    def rollout(qpos, qvel, act, ctrl):
        data = jax.vmap(backend.init)(qpos, qvel, act)

        def one(d, _):
            d = jax.vmap(backend.step)(d, ctrl)
            v = jax.vmap(backend.view)(d)
            return d, (jnp.concatenate([v.qpos, v.qvel, v.act], -1), v.foot_forces)

        return jax.lax.scan(one, data, None, length=CONTROL_STEPS)[1]

    args = [jnp.asarray(np.stack(x)) for x in zip(*starts, strict=True)]
    traj, grf = jax.device_get(jax.jit(rollout)(*args))
    return np.swapaxes(traj, 0, 1), np.swapaxes(grf, 0, 1)


def model_parity(model_id: str = "myolegs22_tutorial", myoassist_root: str | None = None) -> dict[str, Any]:
    """Max abs differences per case and report step: {case: {qpos, qvel, act, grf: [...]}}."""
    from mjx_myoassist.envs.physics import MjxBackend
    from mjx_myoassist.models import load_model

    model = load_model(model_id, myoassist_root)
    backend = MjxBackend(model, SUBSTEPS, ("pelvis",))
    starts, c_traj, c_grf = _c_rollouts(model, backend.touch)
    m_traj, m_grf = _mjx_rollouts(backend, starts)
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


def model_row(model_id: str, root: Path) -> dict[str, Any]:
    """``model`` (float64) of one model in its own process: its cases, worst over cases and wall time, or
    the error line of a model that fails."""
    cmd = [sys.executable, "-m", __name__, "model", "--model", model_id, "--myoassist-root", str(root)]
    start = time.perf_counter()
    out = subprocess.run([*cmd, "--x64", "--json"], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode:
        return {"model": model_id, "error": (out.stderr.strip().splitlines() or ["?"])[-1], "wall_s": wall}
    report = json.loads(out.stdout.strip().splitlines()[-1])
    worst = {k: max(max(case[k]) for case in report.values()) for k in METRICS}
    return {"model": model_id, "cases": report, "worst_over_cases": worst, "wall_s": wall}


def step_compile_seconds(model_id: str, root: Path) -> float:
    """Seconds to compile jit(mjx.step) of one world (float32), measured in a fresh process without a cache."""
    code = (
        "import time, jax; from mujoco import mjx; from mjx_myoassist.models import load_model;"
        f"m = load_model({model_id!r}, {str(root)!r}); mx = mjx.put_model(m); dx = mjx.make_data(mx);"
        "t = time.perf_counter(); jax.jit(mjx.step).lower(mx, dx).compile(); print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- env: the same policy, two backends


def env_rollout(env, policy, steps: int, seed: int) -> dict[str, np.ndarray]:
    """obs, qpos and done of one env over ``steps`` control steps (no auto-reset)."""
    import jax

    from mjx_myoassist.envs.base import keep_dtypes

    def run(rng):
        state = env.reset(rng)

        def one(s, _):
            nxt = keep_dtypes(env.step(s, policy(s.obs)), s)
            view = env.backend.view(nxt.data)
            return nxt, (nxt.obs, view.qpos, nxt.done)

        return jax.lax.scan(one, state, None, length=steps)[1]

    obs, qpos, done = jax.device_get(jax.jit(run)(jax.random.PRNGKey(seed)))
    return {"obs": np.asarray(obs), "qpos": np.asarray(qpos), "done": np.asarray(done)}


def _policy(config, env, seed: int, ckpt):
    """The deterministic policy of a checkpoint, or of a random-initialised network."""
    import jax

    from mjx_myoassist.ppo import networks
    from mjx_myoassist.ppo.checkpoint import restore_policy
    from mjx_myoassist.ppo.networks import deterministic_policy
    from mjx_myoassist.ppo.normalizer import RunningStats

    if ckpt is not None:
        layout, params, stats, _ = restore_policy(ckpt, with_config=False)
    else:
        layout = networks.make_layout(config.policy_params.custom_policy_params, env.observation_size, env.action_size)
        params, stats = (
            networks.init_params(layout, jax.random.PRNGKey(seed)),
            RunningStats.create(layout.observation_size),
        )
    return deterministic_policy(layout, params, stats, config.ppo_params.normalize_observation)


def env_parity(config, steps: int = 30, seed: int = 0, ckpt=None) -> dict[str, Any]:
    """Max (and median over steps) |MJX - CPU| of observations and qpos while neither episode has ended."""
    import dataclasses

    import jax.numpy as jnp

    from mjx_myoassist.envs import make

    envs = {
        name: make(dataclasses.replace(config, env_params=dataclasses.replace(config.env_params, physics_backend=name)))
        for name in ("mjx", "cpu")
    }
    policy = _policy(config, envs["mjx"], seed, ckpt)
    out = {name: env_rollout(e, policy, steps, seed) for name, e in envs.items()}
    alive = ~np.cumsum(out["mjx"]["done"] | out["cpu"]["done"]).astype(bool)
    alive[np.argmax(~alive) if (~alive).any() else -1] = True  # include the step that ended the episode
    diff = {k: np.abs(out["mjx"][k] - out["cpu"][k])[alive] for k in ("obs", "qpos")}
    return {
        "steps_compared": int(alive.sum()),
        "max_obs_diff": float(diff["obs"].max()),
        "max_qpos_diff": float(diff["qpos"].max()),
        "median_qpos_diff": float(np.median(diff["qpos"].max(axis=1))),
        "dtype": str(jnp.zeros(()).dtype),
    }


# ----------------------------------------------------------------------------- command line


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    model = sub.add_parser("model", help="four cases of one model from the same states, MJX vs C MuJoCo")
    model.add_argument("--model", default="myolegs22_tutorial", help="a model id (embedded or MyoAssist's)")
    model.add_argument("--myoassist-root", default=None, help="MyoAssist checkout, for MyoAssist model ids")
    model.add_argument("--json", action="store_true", help="print JSON only")
    env = sub.add_parser("env", help="the whole env on the mjx and cpu backends, same policy and start")
    env.add_argument("--config", default="configs/test.json")
    env.add_argument("--checkpoint", default=None)
    env.add_argument("--steps", type=int, default=30)
    for p in (model, env):
        p.add_argument("--x64", action="store_true", help="run MJX in float64")
    args, overrides = parser.parse_known_args(argv)
    if overrides and args.mode == "model":
        parser.error(f"unrecognized arguments: {' '.join(overrides)}")
    return args, overrides


def main(argv: list[str] | None = None) -> int:
    args, overrides = parse_args(argv)
    import jax

    from mjx_myoassist import enable_compilation_cache

    jax.config.update("jax_enable_x64", args.x64)
    enable_compilation_cache()
    if args.mode == "env":
        from mjx_myoassist.config import load_config

        print(json.dumps(env_parity(load_config(args.config, overrides), args.steps, ckpt=args.checkpoint)))
        return 0
    report = model_parity(args.model, args.myoassist_root)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"MJX ({'float64' if args.x64 else 'float32'}) vs CPU MuJoCo, max |diff| at control steps {REPORT_STEPS}")
    for label, errs in report.items():
        print(f"{label:22s} " + "  ".join(f"{k} " + " ".join(f"{e:.1e}" for e in v) for k, v in errs.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
