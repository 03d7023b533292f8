"""MyoAssist's rough-terrain policy on MyoAssist's own field, row by row, and the foot contacts there.

The rough session (``train_session_20250803-154021_rough``, 219M steps) runs deterministically
for 10 s from random reference starts, target 1.25 m/s, reference
``recorded/surrogate_short_reference_gait.npz``, off-trajectory termination off, on the field its
config makes (``random`` 0.15 m, seed 1234: one field, as MyoAssist's evaluator).  MyoAssist's own
env, same settings: 2 falls in 10, 11.83 m mean (``recorded/results_rough_eval.json``).

Rows (each in its own process):
* ``original_contacts_cpu``: MyoAssist's TUTORIAL XML with its mesh contacts, cpu backend;
* ``mjx_ready_cpu``: the MJX-ready edits with their default on a height field (foot spheres in
  rows at the soles' edges), cpu backend;
* ``mjx_ready_cpu_middle_row``: the same with one middle sphere row (the flat-ground layout);
* ``mjx_ready_mjx_f32_via_armature``: MJX, float32, ``via_point_armature`` 0.01;
* ``mjx_ready_warp_f32``: MuJoCo Warp, float32 (slow on a CPU); ``..._via_armature``: with armature 0.01;
* ``rough_policy_flat_cpu``: the rough policy on flat ground (MyoAssist: no falls, 16.57-16.80 m);
* ``tutorial_policy_rough_cpu``: the flat tutorial policy on the rough field (MyoAssist: 5 falls of 5).

``--warp-probe`` compares one forward pass of C MuJoCo and MuJoCo Warp with the model standing on the field.
``--contacts`` also replays one episode of the rough policy with the original contacts and, at each
of its states, computes the ground reaction force (vertical, per foot, body weights), its centre of
pressure (x) and the foot clearance (lowest point above the field) with each contact model.

Usage: ``python -m benchmarks.rough_terrain [--rows ...] [--episodes 10] [--contacts]``; writes
``benchmarks/results/rough_terrain.json`` (rows not run again keep their results and ``measured_at``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import (
    RESULTS,
    header,
    measured_at,
    module_command,
    rows_parser,
    run_child,
    start_rows,
    write_json,
)

RESULT_FILE = RESULTS / "rough_terrain.json"
SESSIONS = "myoassist/docs/assets/tutorial_rl_models"
ROUGH = f"{SESSIONS}/train_session_20250803-154021_rough"
TUTORIAL = f"{SESSIONS}/train_session_20250728-161129_tutorial_partial_obs"
ROUGH_FIELD = ["--config.env_params.terrain_type", "random", "--config.env_params.terrain_params", "0.15"]
ROWS: dict[str, dict[str, Any]] = {
    "original_contacts_cpu": {"backend": "cpu", "edits": False},
    "mjx_ready_cpu": {"backend": "cpu", "edits": True},
    "mjx_ready_cpu_middle_row": {"backend": "cpu", "edits": True, "foot_contact_rows": "middle"},
    "mjx_ready_mjx_f32_via_armature": {"backend": "mjx", "edits": True, "via_point_armature": 0.01},
    "mjx_ready_warp_f32": {"backend": "warp", "edits": True},
    "mjx_ready_warp_f32_via_armature": {"backend": "warp", "edits": True, "via_point_armature": 0.01},
    "rough_policy_flat_cpu": {"backend": "cpu", "edits": True, "terrain": "flat"},
    "tutorial_policy_rough_cpu": {"backend": "cpu", "edits": True, "policy": "tutorial"},
}
MYOASSIST_CASES = {  # row -> MyoAssist's recorded case with the same policy and ground
    "original_contacts_cpu": "rough_policy_rough_terrain_cfgseed",
    "rough_policy_flat_cpu": "rough_policy_flat_terrain",
    "tutorial_policy_rough_cpu": "partial_obs_policy_rough_terrain_cfgseed",
}
SECONDS = 10.0
ROW_TIMEOUT_S = 3600.0
CONTACT_MODELS = {"original": {"edits": False}, "mjx_ready_edges": {"edits": True, "foot_contact_rows": "edges"},
                  "mjx_ready_middle": {"edits": True, "foot_contact_rows": "middle"}}  # fmt: skip
STANCE_BW = 0.05  # body weights: a foot carrying more is in stance (centre of pressure compared)


def overrides(fixtures: Path, row: dict[str, Any]) -> list[str]:
    """The row's config overrides (the MyoAssist root, the surrogate reference, contacts, backend settings)."""
    out = [
        "--config.env_params.myoassist_root", str(fixtures / "myoassist"),
        "--config.env_params.reference_data_path", str(fixtures / "recorded/surrogate_short_reference_gait.npz"),
        "--config.env_params.mjx_ready_edits", "true" if row["edits"] else "false",
    ]  # fmt: skip
    if row.get("terrain") == "flat":
        out += ["--config.env_params.terrain_type", "flat", "--config.env_params.terrain_params", ""]
    if row.get("policy") == "tutorial":
        out += ROUGH_FIELD
    for key in ("foot_contact_rows", "via_point_armature"):
        if key in row:
            out += [f"--config.env_params.{key}", str(row[key])]
    return out


def run_row(name: str, fixtures: Path, episodes: int) -> dict[str, Any]:
    """One row in this process: per-episode results and a summary."""
    from mjx_myoassist import enable_compilation_cache
    from mjx_myoassist.evaluate import evaluate_policy

    row = ROWS[name]
    enable_compilation_cache()
    session = TUTORIAL if row.get("policy") == "tutorial" else ROUGH
    start = time.perf_counter()
    rows = evaluate_policy(fixtures / session, overrides=overrides(fixtures, row), episodes=episodes,
                           seconds=SECONDS, backend=row["backend"])  # fmt: skip
    wall = time.perf_counter() - start
    return {"row": name, **row, **summary(rows), "episodes": rows, "wall_s_including_compile": wall}


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Falls, distance (mean, min, max) and mean speed of evaluate's rows."""
    distances = [r["distance"] for r in rows]
    return {
        "falls": sum(r["terminated"] for r in rows),
        "distance_mean": float(np.mean(distances)),
        "distance_min": float(np.min(distances)),
        "distance_max": float(np.max(distances)),
        "speed_mean": float(np.mean([r["mean_speed"] for r in rows])),
    }


def row_line(r: dict[str, Any]) -> str:
    span = f"{r['distance_min']:.2f}-{r['distance_max']:.2f}"
    mean = f"{r['distance_mean']:.2f} m mean ({span}), {r['speed_mean']:.3f} m/s"
    return f"{r['falls']}/{len(r['episodes'])} fell, {mean}"


def myoassist_reference(fixtures: Path) -> dict[str, Any]:
    """MyoAssist's own env on the same cases (recorded)."""
    cases = json.loads((fixtures / "recorded/results_rough_eval.json").read_text())["cases"]
    out = {}
    for row, case in MYOASSIST_CASES.items():
        episodes = cases[case]["episodes"]
        distances = [e["distance_m"] for e in episodes]
        out[row] = {"case": case, "episodes": len(episodes), "falls": sum(e["fell"] for e in episodes),
                    "distance_mean": float(np.mean(distances)), "distance_min": float(np.min(distances)),
                    "distance_max": float(np.max(distances))}  # fmt: skip
    out["source"] = "recorded/results_rough_eval.json (MyoAssist's own env, mujoco 3.3.3)"
    return out


# ----------------------------------------------------------------------------- contacts at the same states


def _foot_bodies(model, side: str) -> set[int]:
    """The bodies of one foot: the talus and everything below it (calcaneus, toes, the exo's foot attachment)."""
    talus = model.body(f"talus_{side}").id
    out, changed = {talus}, True
    while changed:
        grown = out | {b for b in range(model.nbody) if model.body_parentid[b] in out}
        changed, out = grown != out, grown
    return out


def _ground_geoms(model) -> set[int]:
    return {g for g in range(model.ngeom) if model.geom(g).name in ("terrain", "floor", "ground-plane")}


def foot_loads(model, data, feet: dict[str, set[int]], ground: set[int]) -> dict[str, tuple[float, float]]:
    """Per foot: (vertical ground reaction force in N, centre of pressure x in m; nan without load)."""
    import mujoco

    sums = {side: np.zeros(2) for side in feet}
    wrench = np.zeros(6)
    for i in range(data.ncon):
        c = data.contact[i]
        other = c.geom2 if c.geom1 in ground else c.geom1 if c.geom2 in ground else None
        if other is None:
            continue
        side = next((s for s, bodies in feet.items() if model.geom_bodyid[other] in bodies), None)
        if side is None:
            continue
        mujoco.mj_contactForce(model, data, i, wrench)
        vertical = abs(float(c.frame.reshape(3, 3).T[2] @ wrench[:3]))  # on the foot, world z
        sums[side] += [vertical, vertical * c.pos[0]]
    return {s: (f, x / f if f > 0 else float("nan")) for s, (f, x) in sums.items()}


def _surface(model, data, terrain: int, x: float, y: float) -> float:
    import mujoco

    top = 10.0
    dist = mujoco.mj_rayHfield(model, data, terrain, np.array([x, y, top]), np.array([0.0, 0.0, -1.0]))
    return top - dist if dist >= 0 else 0.0


def clearance(model, data, feet: dict[str, set[int]], terrain: int) -> dict[str, float]:
    """Per foot: the lowest height of its contact geometry above the field (m): sphere bottoms, or mesh vertices."""
    import mujoco

    out = {}
    for side, bodies in feet.items():
        lowest = np.inf
        for g in range(model.ngeom):
            if model.geom_bodyid[g] not in bodies or not (model.geom_contype[g] or model.geom_conaffinity[g]):
                continue
            rot, pos = data.geom_xmat[g].reshape(3, 3), data.geom_xpos[g]
            if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_SPHERE:
                points, radius = pos[None], model.geom_size[g, 0]
            elif model.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH:
                mesh = model.geom_dataid[g]
                verts = model.mesh_vert[model.mesh_vertadr[mesh] : model.mesh_vertadr[mesh] + model.mesh_vertnum[mesh]]
                world = verts @ rot.T + pos
                points, radius = world[np.argsort(world[:, 2])[:8]], 0.0  # the lowest few vertices
            else:
                continue
            for p in points:
                lowest = min(lowest, p[2] - radius - _surface(model, data, terrain, p[0], p[1]))
        out[side] = float(lowest)
    return out


def contact_comparison(fixtures: Path, seed: int = 0) -> dict[str, Any]:
    """One original-contacts episode of the rough policy; every contact model's loads and clearance at its states."""
    import mujoco

    from mjx_myoassist.config import load_config
    from mjx_myoassist.cpu.replay import replay_config, run_episode
    from mjx_myoassist.envs import make, terrain
    from mjx_myoassist.evaluator import evaluation_config
    from mjx_myoassist.models.leg import build_leg_model
    from mjx_myoassist.ppo.policy import load_trained

    base = overrides(fixtures, ROWS["original_contacts_cpu"])
    trained = load_trained(fixtures / ROUGH, None, base)
    steps = round(SECONDS * 30)
    traj = run_episode(make(replay_config(evaluation_config(trained.config), steps)), trained.policy(), seed, steps)
    series: dict[str, dict[str, np.ndarray]] = {}
    for name, row in CONTACT_MODELS.items():
        p = load_config(fixtures / ROUGH / "session_config.json", overrides(fixtures, row)).env_params
        model = build_leg_model(p, terrain.height_field(p.terrain_type, p.terrain_params, False, p.seed)).model
        data = mujoco.MjData(model)
        feet = {s: _foot_bodies(model, s) for s in ("r", "l")}
        ground, field = _ground_geoms(model), model.geom("terrain").id
        weight = float(model.body_subtreemass[0] * -model.opt.gravity[2])
        rows = []
        for t in range(1, len(traj.qpos)):
            data.qpos, data.qvel, data.act, data.ctrl = traj.qpos[t], traj.qvel[t], traj.act[t], traj.ctrl[t - 1]
            mujoco.mj_forward(model, data)
            loads, clear = foot_loads(model, data, feet, ground), clearance(model, data, feet, field)
            rows.append([v for s in ("r", "l") for v in (loads[s][0] / weight, loads[s][1], clear[s])])
        table = np.array(rows)
        series[name] = {"grf_bw": table[:, [0, 3]], "cop_x": table[:, [1, 4]], "clearance": table[:, [2, 5]]}
    return {"episode": {"seed": seed, "steps": traj.steps, "terminated": traj.terminated},
            **{name: compare(series["original"], s) for name, s in series.items() if name != "original"}}  # fmt: skip


def compare(original: dict[str, np.ndarray], other: dict[str, np.ndarray]) -> dict[str, float]:
    """How far a contact model's loads and clearance are from the original meshes' at the same states."""
    both_stance = (original["grf_bw"] > STANCE_BW) & (other["grf_bw"] > STANCE_BW)
    swing = original["grf_bw"] <= 0.0
    return {
        "grf_rms_bw": float(np.sqrt(np.mean((other["grf_bw"] - original["grf_bw"]) ** 2))),
        "grf_mean_bw": float(other["grf_bw"].mean()),
        "grf_mean_bw_original": float(original["grf_bw"].mean()),
        "stance_agreement": float(np.mean((original["grf_bw"] > STANCE_BW) == (other["grf_bw"] > STANCE_BW))),
        "cop_x_mean_abs_cm": float(100 * np.mean(np.abs(other["cop_x"] - original["cop_x"])[both_stance])),
        "clearance_swing_mean_cm": float(100 * other["clearance"][swing].mean()),
        "clearance_swing_mean_cm_original": float(100 * original["clearance"][swing].mean()),
        "clearance_swing_mean_abs_diff_cm": float(
            100 * np.mean(np.abs(other["clearance"] - original["clearance"])[swing])
        ),
    }


def _settled_on_field(model, data, x: float) -> None:
    """The standing keyframe moved to ``x`` and lowered until its feet press 2 mm into the field."""
    import mujoco

    for dz in np.linspace(0.2, -0.2, 401):
        mujoco.mj_resetDataKeyframe(model, data, 0)
        data.qpos[0], data.qpos[1] = x, model.key_qpos[0][1] + dz
        mujoco.mj_forward(model, data)
        if data.ncon and data.contact.dist[: data.ncon].min() < -0.002:
            return


def warp_contact_probe(fixtures: Path, xs: tuple[float, ...] = (3.0, 5.2, 7.7)) -> list[dict[str, Any]]:
    """The MJX-ready model standing on MyoAssist's field at a few x: contacts and root accelerations of one
    forward pass in C MuJoCo and in MuJoCo Warp from the same state."""
    import jax
    import jax.numpy as jnp
    import mujoco
    from mujoco import mjx

    from mjx_myoassist.config import load_config
    from mjx_myoassist.envs import terrain
    from mjx_myoassist.models.leg import build_leg_model

    p = load_config(fixtures / ROUGH / "session_config.json", overrides(fixtures, ROWS["mjx_ready_cpu"])).env_params
    model = build_leg_model(p, terrain.height_field(p.terrain_type, p.terrain_params, False, p.seed)).model
    data, warp_model = mujoco.MjData(model), mjx.put_model(model, impl="warp")
    forward = jax.jit(mjx.forward)
    rows = []
    for x in xs:
        _settled_on_field(model, data, x)
        warp = mjx.make_data(model, impl="warp", naconmax=400, njmax=1000)
        warp = forward(warp_model, warp.replace(qpos=jnp.asarray(data.qpos, jnp.float32),
                                                qvel=jnp.asarray(data.qvel, jnp.float32)))  # fmt: skip
        rows.append({"x": x, "contacts_c": int(data.ncon), "contacts_warp": int(np.asarray(warp.nacon).sum()),
                     "root_qacc_c": data.qacc[:3].tolist(),
                     "root_qacc_warp": np.asarray(warp.qacc[:3]).tolist()})  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = rows_parser(__doc__, RESULT_FILE, list(ROWS), episodes=10)
    parser.add_argument("--contacts", action="store_true", help="compare the contact models at the same states")
    parser.add_argument("--warp-probe", action="store_true", help="C MuJoCo vs MuJoCo Warp contacts on the field")
    started = start_rows(parser, argv, run_row)
    if started is None:
        return 0
    args, fixtures, earlier = started
    settings = {"episodes": args.episodes, "seconds": SECONDS, "target_velocity": 1.25,
                "field": "random 0.15, seed 1234"}  # fmt: skip
    results = {**header(settings), "myoassist": myoassist_reference(fixtures), "rows": earlier.get("rows", {}),
               "contacts": earlier.get("contacts"), "warp_probe": earlier.get("warp_probe")}  # fmt: skip
    for name in args.rows:
        cmd = module_command("rough_terrain", "--fixtures", str(fixtures), "--episodes", str(args.episodes),
                             "--one-row", name)  # fmt: skip
        r = {**run_child(cmd, ROW_TIMEOUT_S, {"row": name, **ROWS[name]}), "measured_at": measured_at()}
        results["rows"][name] = r
        print(f"{name:32s} {r['error'] if 'error' in r else row_line(r)}", flush=True)
    if args.contacts:
        results["contacts"] = {**contact_comparison(fixtures), "measured_at": measured_at()}
        print(json.dumps(results["contacts"], indent=1))
    if args.warp_probe:
        results["warp_probe"] = {"rows": warp_contact_probe(fixtures), "measured_at": measured_at()}
        print(json.dumps(results["warp_probe"], indent=1))
    write_json(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
