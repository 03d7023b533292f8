"""Physics rate study: MyoAssist's tutorial policy at 1200 Hz physics (MyoAssist) and at lower rates.

MyoAssist's TUTORIAL model with the MJX-ready edits, cpu backend (C MuJoCo), its published
partial-obs policy run deterministically for 10 s from 5 random reference starts (episode i:
``fold_in(PRNGKey(0), i)``, the same starts at every rate), target 1.25 m/s, off-trajectory
termination off (as MyoAssist's evaluator).  The control rate stays 30 Hz, so a physics rate
must be a multiple of 30 Hz: 400 Hz is not, its neighbours 390 and 420 Hz are run instead.

Per row: falls, distance, mean speed; against the 1200 Hz Euler row (same starts), the RMS
difference of the hip/knee/ankle angles (deg, both legs) and of the foot forces (foot + toes
touch sensors per side, in body weights) over the steps both episodes are alive, for the
first 1 s and the whole 10 s, and the per-episode distance difference; the step cost of C
MuJoCo (one thread, ms per 30 Hz control step, from every state of MyoAssist's recorded gait,
best of 5 passes, no compile); and the integration error of one control step from recorded
gait states (hip/knee/ankle angles vs Euler at 9600 Hz, Euler's converged solution).
Rows at 1200 Hz with MyoAssist's 100/50 solver iterations give the scale of differences
that do not matter (both settings walk 5/5).

Usage: ``python -m benchmarks.physics_rate [--fixtures ../shared/myoassist_fixtures] [--rows ...]
[--episodes 5]``; writes ``benchmarks/results/physics_rate.json``.
"""

from __future__ import annotations

import dataclasses
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.harness import RESULTS, header, make_parser, write_json

SESSION = "myoassist/docs/assets/tutorial_rl_models/train_session_20250728-161129_tutorial_partial_obs"
REFERENCE_ROW = "1200_euler"
ROWS = {  # name: physics rate (Hz), integrator, solver iterations (0 = the MJX-ready model's 4/8)
    "1200_euler": (1200, "Euler", 0),
    "1200_euler_solver100": (1200, "Euler", 100),
    "600_euler": (600, "Euler", 0),
    "480_euler": (480, "Euler", 0),
    "420_euler": (420, "Euler", 0),
    "390_euler": (390, "Euler", 0),
    "300_euler": (300, "Euler", 0),
    "240_euler": (240, "Euler", 0),
    "1200_implicitfast": (1200, "implicitfast", 0),
    "600_implicitfast": (600, "implicitfast", 0),
    "300_implicitfast": (300, "implicitfast", 0),
}
CONTROL_HZ = 30
SECONDS = 10.0
FIRST_SECONDS = 1.0
COST_REPEATS = 5
CONVERGED_HZ = 9600  # Euler at this rate: the converged solution the one-control-step check compares with
ONE_STEP_STATES = slice(0, None, 10)  # recorded gait states the one-step check starts from
GAIT_JOINTS = {
    "hip": ("hip_flexion_r", "hip_flexion_l"),
    "knee": ("knee_angle_r", "knee_angle_l"),
    "ankle": ("ankle_angle_r", "ankle_angle_l"),
}


def overrides(fixtures: Path, rate: int, integrator: str, iterations: int) -> list[str]:
    """``--config.*`` overrides of one row: MyoAssist's model, the MJX-ready edits, the row's physics."""
    out = [
        "--config.env_params.myoassist_root", str(fixtures / "myoassist"),
        "--config.env_params.reference_data_path", str(fixtures / "recorded/surrogate_short_reference_gait.npz"),
        "--config.env_params.mjx_ready_edits", "true",
        "--config.env_params.min_target_velocity", "1.25",
        "--config.env_params.max_target_velocity", "1.25",
        "--config.env_params.physics_backend", "cpu",
        "--config.env_params.physics_sim_framerate", str(rate),
        "--config.env_params.integrator", integrator,
    ]  # fmt: skip
    if iterations:
        out += ["--config.env_params.solver_iterations", str(iterations)]
        out += ["--config.env_params.solver_ls_iterations", str(iterations // 2)]
    return out


def make_env(fixtures: Path, physics: tuple[int, str, int]):
    """(env, policy) of a row's physics (rate, integrator, solver iterations): the published session's policy
    and config with the row's overrides."""
    from mjx_myoassist.envs import make
    from mjx_myoassist.evaluator import NO_TIME_LIMIT, without_trajectory_termination
    from mjx_myoassist.ppo.policy import load_trained

    trained = load_trained(fixtures / SESSION, overrides=overrides(fixtures, *physics))
    cfg = without_trajectory_termination(trained.config)
    env_params = dataclasses.replace(cfg.env_params, custom_max_episode_steps=NO_TIME_LIMIT)
    return make(dataclasses.replace(cfg, env_params=env_params)), trained.policy()


def rollout_fn(env, policy, episodes: int, steps: int):
    """Jitted: per control step and episode, counted (alive before the step), terminated, qpos, foot forces (BW)."""
    import jax
    import jax.numpy as jnp

    from mjx_myoassist.envs.base import keep_dtypes

    def record(state):
        view = jax.tree.map(jnp.nan_to_num, jax.vmap(env.backend.view)(state.data))  # a fault: zeros, as the env
        forces = jax.vmap(env.foot_forces)(view) / env.body_weight
        return view.qpos, forces

    def run(seed):
        keys = jax.vmap(jax.random.fold_in, (None, 0))(jax.random.PRNGKey(seed), jnp.arange(episodes))
        state = jax.vmap(env.reset)(keys)

        def one(carry, _):
            state, alive = carry
            nxt = keep_dtypes(jax.vmap(env.step)(state, jax.vmap(policy)(state.obs)), state)
            qpos, forces = record(nxt)
            out = {"counted": alive, "terminated": nxt.terminated & alive, "qpos": qpos, "foot_forces": forces}
            return (nxt, alive & ~nxt.done), out

        qpos0, _ = record(state)
        _, out = jax.lax.scan(one, (state, jnp.ones(episodes, bool)), None, length=steps)
        return qpos0, out

    return jax.jit(run)


def episode_summary(qpos0: np.ndarray, out: dict[str, np.ndarray], x_index: int) -> list[dict]:
    """Per episode: control steps, fell/fault (terminated), distance (pelvis x at its last step minus start), speed."""
    rows = []
    for i in range(qpos0.shape[0]):
        steps = int(out["counted"][:, i].sum())
        distance = float(out["qpos"][steps - 1, i, x_index] - qpos0[i, x_index])
        rows.append(
            {
                "episode": i,
                "steps": steps,
                "terminated": bool(out["terminated"][:, i].any()),
                "distance": distance,
                "mean_speed": distance / (steps / CONTROL_HZ),
            }
        )
    return rows


def rms(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """RMS of a - b over the masked (step, episode) entries and the trailing axes."""
    diff = (a - b)[mask]
    return float(np.sqrt(np.mean(diff**2))) if diff.size else float("nan")


def fidelity(row: dict, ref: dict, joint_qpos: dict[str, list[int]]) -> dict:
    """RMS differences of joint angles (deg) and foot forces (BW) vs the reference row, both alive, per window."""
    both = row["counted"] & ref["counted"]
    out = {"compared_steps": int(both.sum())}
    for window, last in (("first_1s", round(FIRST_SECONDS * CONTROL_HZ)), ("10s", both.shape[0])):
        mask = both.copy()
        mask[last:] = False
        angles = {
            part: np.degrees(rms(row["qpos"][..., idx], ref["qpos"][..., idx], mask))
            for part, idx in joint_qpos.items()
        }
        all_idx = [i for idx in joint_qpos.values() for i in idx]
        angles["all"] = np.degrees(rms(row["qpos"][..., all_idx], ref["qpos"][..., all_idx], mask))
        out[window] = {
            "joint_angle_rms_deg": {k: float(v) for k, v in angles.items()},
            "foot_force_rms_bw": rms(row["foot_forces"], ref["foot_forces"], mask),
        }
    return out


def gait_states(fixtures: Path) -> dict[str, np.ndarray]:
    """MyoAssist's recorded gait (qpos, qvel, act, ctrl per control step)."""
    gait = np.load(fixtures / "recorded/rollout_partial_obs_seed0.npz")
    return {k: gait[k] for k in ("qpos", "qvel", "act", "ctrl")}


def one_control_step(model, gait: dict[str, np.ndarray], joints: list[int]) -> np.ndarray:
    """Gait-joint angles after one control step of C MuJoCo from each sampled recorded state."""
    import mujoco

    substeps = round(1.0 / (model.opt.timestep * CONTROL_HZ))
    data = mujoco.MjData(model)
    out = []
    for t in range(len(gait["qpos"]) - 1)[ONE_STEP_STATES]:
        mujoco.mj_resetData(model, data)
        data.qpos, data.qvel, data.act, data.ctrl = (gait[k][t] for k in ("qpos", "qvel", "act", "ctrl"))
        mujoco.mj_step(model, data, substeps)
        out.append(data.qpos[joints])
    return np.array(out)


def one_step_error(model, gait: dict[str, np.ndarray], joints: list[int], converged: np.ndarray) -> dict:
    """Max and RMS gait-joint angle error (deg) after one control step vs Euler at CONVERGED_HZ."""
    diff = np.degrees(np.nan_to_num(one_control_step(model, gait, joints) - converged, nan=np.inf))
    return {"max_deg": float(np.max(np.abs(diff))), "rms_deg": float(np.sqrt(np.mean(diff**2)))}


def cost_pass(model, gait: dict[str, np.ndarray]) -> float:
    """C MuJoCo, one thread: ms per control step, stepping from every state of the recorded gait."""
    import mujoco

    substeps = round(1.0 / (model.opt.timestep * CONTROL_HZ))
    data = mujoco.MjData(model)
    n = len(gait["qpos"]) - 1
    start = time.perf_counter()
    for t in range(n):
        data.qpos, data.qvel, data.act, data.ctrl = (gait[k][t] for k in ("qpos", "qvel", "act", "ctrl"))
        mujoco.mj_step(model, data, substeps)
    return 1e3 * (time.perf_counter() - start) / n


def physics_costs(models: dict[str, object], fixtures: Path) -> dict[str, dict]:
    """Per row: best of COST_REPEATS passes; the passes go round the rows in turn, so that a busy spell of the
    machine (other processes only ever slow a pass down) falls on every row alike."""
    gait = gait_states(fixtures)
    passes = {name: [] for name in models}
    for i in range(COST_REPEATS):
        for name in list(models)[:: 1 if i % 2 == 0 else -1]:  # alternate the order: no row is always first
            passes[name].append(cost_pass(models[name], gait))
    return {
        name: {
            "ms_per_control_step": min(p),
            "ms_per_control_step_passes": p,
            "substeps": round(1.0 / (models[name].opt.timestep * CONTROL_HZ)),
        }
        for name, p in passes.items()
    }


def run_row(name: str, fixtures: Path, episodes: int, converged: np.ndarray) -> tuple[dict, dict, object]:
    """(summary, per-step arrays, model) of one row; ``converged``: :func:`one_control_step` at CONVERGED_HZ."""
    import jax

    env, policy = make_env(fixtures, ROWS[name])
    run = rollout_fn(env, policy, episodes, round(SECONDS * CONTROL_HZ))
    start = time.perf_counter()
    qpos0, out = jax.device_get(run(0))
    compile_and_run = time.perf_counter() - start
    start = time.perf_counter()
    jax.block_until_ready(run(0))
    rerun = time.perf_counter() - start
    out = {k: np.asarray(v) for k, v in out.items()}
    rate, integrator, iterations = ROWS[name]
    per_episode = episode_summary(np.asarray(qpos0), out, env.pelvis_tx_qpos)
    summary = {
        "physics_hz": rate,
        "integrator": integrator,
        "solver_iterations": int(env.model.opt.iterations),
        "solver_ls_iterations": int(env.model.opt.ls_iterations),
        "episodes": per_episode,
        "falls": sum(e["terminated"] for e in per_episode),
        "walked_full_10s": sum(e["steps"] == out["counted"].shape[0] and not e["terminated"] for e in per_episode),
        "distance_mean": float(np.mean([e["distance"] for e in per_episode])),
        "distance_min": min(e["distance"] for e in per_episode),
        "distance_max": max(e["distance"] for e in per_episode),
        "mean_speed": float(np.mean([e["mean_speed"] for e in per_episode])),
        "start_qpos": np.asarray(qpos0).tolist(),
        "one_control_step_error_vs_euler_converged": one_step_error(
            env.model, gait_states(fixtures), all_gait_joints(env.model), converged
        ),
        "env_rollout_s": {"first_call_with_compile": compile_and_run, "second_call": rerun},
    }
    return summary, out, env.model


def joint_qpos_indices(model) -> dict[str, list[int]]:
    """qpos addresses of the gait joints (the same model at every rate)."""
    return {part: [int(model.jnt_qposadr[model.joint(j).id]) for j in names] for part, names in GAIT_JOINTS.items()}


def all_gait_joints(model) -> list[int]:
    return [i for idx in joint_qpos_indices(model).values() for i in idx]


def settings(episodes: int) -> dict:
    """What every row shares."""
    return {
        "episodes": episodes,
        "seconds": SECONDS,
        "control_hz": CONTROL_HZ,
        "backend": "cpu",
        "model": "myoLeg22_2D_TUTORIAL + MJX-ready edits",
        "reference_row": REFERENCE_ROW,
        "gait_joints": GAIT_JOINTS,
        "one_step_check": f"Euler at {CONVERGED_HZ} Hz from recorded gait states {ONE_STEP_STATES}",
    }


def one_line(row: dict, episodes: int) -> str:
    """Falls, distances, angle and force RMS vs the reference, one-step error."""
    first, whole = row["vs_reference"]["first_1s"], row["vs_reference"]["10s"]
    return (
        f"falls {row['falls']}/{episodes}  distance {row['distance_min']:.2f}-{row['distance_max']:.2f} m  "
        f"angle RMS 1s {first['joint_angle_rms_deg']['all']:.2f} / 10s {whole['joint_angle_rms_deg']['all']:.2f} deg  "
        f"force RMS 10s {whole['foot_force_rms_bw']:.3f} BW  "
        f"one-step max {row['one_control_step_error_vs_euler_converged']['max_deg']:.2f} deg"
    )


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__, out=RESULTS / "physics_rate.json", fixtures=True)
    parser.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS))
    parser.add_argument("--episodes", type=int, default=5)
    args = parser.parse_args(argv)
    fixtures = args.fixtures.resolve()
    from mjx_myoassist import enable_compilation_cache
    from mjx_myoassist.config import IgnoredKeyWarning

    enable_compilation_cache()
    warnings.simplefilter("ignore", IgnoredKeyWarning)  # the session config's MyoAssist-only keys
    names = [REFERENCE_ROW] + [n for n in args.rows if n != REFERENCE_ROW]
    converged_model = make_env(fixtures, (CONVERGED_HZ, "Euler", 0))[0].model
    joints = joint_qpos_indices(converged_model)
    converged = one_control_step(converged_model, gait_states(fixtures), all_gait_joints(converged_model))
    results = {**header(settings(args.episodes)), "rows": {}}
    ref = None
    models = {}
    for name in names:
        try:
            summary, out, models[name] = run_row(name, fixtures, args.episodes, converged)
        except Exception as err:  # a rate the physics cannot run is a result, not a crash of the study
            results["rows"][name] = {"physics_hz": ROWS[name][0], "integrator": ROWS[name][1], "error": repr(err)}
            print(f"{name:22s} error: {err!r}", flush=True)
            continue
        ref = out if name == REFERENCE_ROW else ref
        summary["vs_reference"] = fidelity(out, ref, joints)
        ref_start = results["rows"].get(REFERENCE_ROW, summary)["start_qpos"]
        start_diff = np.abs(np.subtract(summary["start_qpos"], ref_start))
        ref_distances = [e["distance"] for e in results["rows"].get(REFERENCE_ROW, summary)["episodes"]]
        distance_diff = np.subtract([e["distance"] for e in summary["episodes"]], ref_distances)
        summary["vs_reference"]["distance_max_abs_diff_m"] = float(np.max(np.abs(distance_diff)))
        summary["vs_reference"]["distance_mean_diff_pct"] = float(100 * np.mean(distance_diff) / np.mean(ref_distances))
        summary["start_qpos_max_diff_vs_reference"] = float(np.max(start_diff))
        results["rows"][name] = summary
        print(f"{name:22s} {one_line(summary, args.episodes)}", flush=True)
    for name, cost in physics_costs(models, fixtures).items():
        results["rows"][name]["cost_c_one_thread"] = cost
        print(f"{name:22s} C MuJoCo {cost['ms_per_control_step']:.2f} ms per control step", flush=True)
    write_json(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
