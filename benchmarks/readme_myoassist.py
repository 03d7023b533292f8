"""README sections about MyoAssist itself: its policy walking here, physics rates, model parity, learning."""

from __future__ import annotations

import math
from collections.abc import Sequence

from benchmarks.readme_tables import (
    DASH,
    Json,
    e1,
    f2,
    f3,
    n0,
    run_table,
    section,
    settings_table,
    span,
    table,
)

WALK_NOTE = (
    "The published partial-obs tutorial policy (`model_19939328.zip`, read without torch) on MyoAssist's "
    "TUTORIAL XML from the fixtures, reference `recorded/surrogate_short_reference_gait.npz`, target 1.25 m/s, "
    "off-trajectory termination off, episodes of 10 s (300 control steps) from random reference starts. The "
    "first row is MyoAssist's own recorded run. Plain float32 MJX fails on MyoAssist's model because of its 1 g "
    "via-point bodies; armature on their joints or the Warp backend fixes it (`docs/models.md`, Precision). "
    "C MuJoCo cost: one thread, ms per control step (40 substeps) from each of MyoAssist's recorded gait states, "
    "best of the passes."
)
WALK_ROWS = {
    "original_contacts_cpu": "MyoAssist's original mesh contacts and solver, cpu backend",
    "mjx_ready_cpu": "MJX-ready edits, cpu backend",
    "mjx_ready_cpu_solver_100": "MJX-ready edits with MyoAssist's 100/50 solver iterations, cpu backend",
    "mjx_ready_mjx_x64": "MJX-ready edits, MJX float64 (`physics_precision: float64`)",
    "mjx_ready_mjx_f32": "MJX-ready edits, MJX float32",
    "mjx_ready_mjx_f32_via_armature": "MJX-ready edits, MJX float32, `via_point_armature: 0.01`",
    "mjx_ready_warp_f32": "MJX-ready edits, MuJoCo Warp (float32; Warp's CPU device here)",
    "embedded_cpu": "embedded assist-sim model (no MyoAssist checkout), cpu backend",
}
RATE_NOTE = (
    "MyoAssist's tutorial policy, run deterministically from the same random reference starts in every row, "
    "target 1.25 m/s, off-trajectory termination off; the control rate stays 30 Hz, so a physics rate is a "
    "multiple of 30 Hz. Differences are against the reference row (MyoAssist's 1200 Hz Euler) over the control "
    "steps where both episodes are alive: hip/knee/ankle angles of both legs and foot forces (foot + toes "
    "sensors, body weights). `one control step`: the largest angle error after one control step from recorded "
    "gait states against a converged Euler step. C MuJoCo cost: one thread, best of the passes. A row keeps the "
    "gait when it has no fall and is within every tolerance below (chosen here, with the solver row as the "
    "scale of a difference that does not matter). The gait was measured on the cpu backend only; 600 Hz Euler "
    "is offered as an option (`env_params.physics_sim_framerate: 600`, docs/models.md), MyoAssist's 1200 Hz "
    "stays the default."
)
TOLERANCE = {"distance_fraction": 0.02, "angle_1s_deg": 2.0, "angle_10s_deg": 5.0, "foot_force_10s_bw": 0.2}
COST_NOTE = (
    "Env control steps/s of the leg-exo test preset, training-style stepping, median of 3, both rates in one run."
)
PARITY_NOTE = (
    "Every MyoAssist model through the MJX-ready edits, stepped by MJX (float64) and by CPU MuJoCo from the same "
    "states (`python -m mjx_myoassist.analysis.parity model`): largest qpos difference (rad) over the four "
    "cases (standing, walking keyframe, airborne with random excitation, standing with excitation and exo "
    "torque), solver as edited (Newton 4 iterations). The 1 s maxima come from falls and foot impacts (walking "
    "keyframe, 3D standing), where the two solvers' unconverged iterates separate; the airborne and exo columns "
    "have none. Compile: `jit(mjx.step)`, one world, float32, no cache."
)
UNLOADABLE = ("hmedi", "osl_a")  # their fixtures miss a mesh upstream (tests/test_models_myoassist.py)
LEARNING_NOTE = (
    "MyoAssist's partial-obs tutorial preset unchanged but for the reference (`recorded/policy_gait_reference.npz`"
    "). Our log is regrouped into MyoAssist's logging windows (its callback logs after rollouts 1, 9, 17, ...). "
    "The baseline is MyoAssist's own trainer on the same preset and reference "
    "(`recorded/myoassist_training_policy_gait_reference.json`); the published tutorial run (a reference that is "
    "gone upstream, off-trajectory threshold 0.6) is context, also past the end of the same-reference run."
)


# ----------------------------------------------------------------------------- MyoAssist policy walk


def early_ends(episodes: Sequence[Json]) -> str:
    """'fell (2): 7, 12; numerical_fault (1): 47', the control steps of the episodes that ended before the limit."""
    ends: dict[str, list[int]] = {}
    for e in episodes:
        if e["end"] != "time_limit":
            ends.setdefault(e["end"], []).append(e["steps"])
    return "; ".join(f"{k} ({len(v)}): {', '.join(map(str, sorted(v)))}" for k, v in ends.items()) or DASH


def distance_cell(row: Json) -> str:
    lo, hi = row["distance_min"], row["distance_max"]
    return DASH if math.isnan(lo) or math.isnan(hi) else span(lo, hi)


def policy_walk_section(d: Json) -> str:
    my, rows = d["myoassist"], d["rows"]
    source, _, where = my["source"].partition(" (")
    n = len(next(iter(rows.values()))["episodes"])
    body = [[f"recorded: `{source}` ({where.rstrip(')')})", f"{my['walked_full_10s']}/{n}", distance_cell(my), DASH,
             DASH]]  # fmt: skip
    for key, r in sorted(rows.items(), key=lambda kv: list(WALK_ROWS).index(kv[0])):
        body.append([WALK_ROWS.get(key, key), f"{r['walked_full_10s']}/{len(r['episodes'])}",
                     distance_cell(r), early_ends(r["episodes"]),
                     r.get("measured_at", "not recorded")])  # fmt: skip
    costs = d.get("physics_cost_c_one_thread", {})
    cost_rows = [[WALK_ROWS[k], f"{c['ms_per_control_step']:.1f}", len(c["ms_per_control_step_repeats"])]
                 for k, c in costs.items()]  # fmt: skip
    cost = table(["C MuJoCo, one thread", "ms per control step", "passes"], cost_rows) if costs else ""
    measured = f"Cost measured at: {d['physics_cost_measured_at']}." if costs else ""
    header = ["row", "walked 10 s", "distance (m)", "ended early (end (count): control steps)", "measured at"]
    return section("MyoAssist's published policy on this project's physics", WALK_NOTE, run_table(d),
                   table(header, body), cost, measured)  # fmt: skip


# ----------------------------------------------------------------------------- physics rate


def rate_failures(row: Json, ref: Json) -> list[str]:
    """The tolerance criteria a physics-rate row misses (empty: it keeps the gait)."""
    v, fails = row["vs_reference"], []
    pairs = zip(row["episodes"], ref["episodes"], strict=True)
    if any(abs(a["distance"] - b["distance"]) > TOLERANCE["distance_fraction"] * b["distance"] for a, b in pairs):
        fails.append("distance")
    if v["first_1s"]["joint_angle_rms_deg"]["all"] > TOLERANCE["angle_1s_deg"]:
        fails.append("angle 1 s")
    if v["10s"]["joint_angle_rms_deg"]["all"] > TOLERANCE["angle_10s_deg"]:
        fails.append("angle 10 s")
    if v["10s"]["foot_force_rms_bw"] > TOLERANCE["foot_force_10s_bw"]:
        fails.append("foot force")
    return fails


def rate_verdict(row: Json, ref: Json, control_hz: int) -> str:
    if row is ref:
        return "reference"
    if row["falls"]:
        last = max(e["steps"] for e in row["episodes"] if e["terminated"])
        return f"falls, the last by step {last} ({last / control_hz:.2f} s)"
    fails = rate_failures(row, ref)
    return "outside: " + ", ".join(fails) if fails else "**keeps the gait**"


def rate_row(r: Json, ref: Json, control_hz: int) -> list[str]:
    is_ref, v = r is ref, r["vs_reference"]
    integ = r["integrator"] + (" (MyoAssist)" if is_ref else "")
    if r["solver_iterations"] != ref["solver_iterations"]:
        integ += f", solver {r['solver_iterations']}/{r['solver_ls_iterations']}"
    fell = sorted(e["steps"] for e in r["episodes"] if e["terminated"])
    return [
        f"{r['physics_hz']} Hz", integ, str(r["cost_c_one_thread"]["substeps"]), str(r["falls"]),
        ", ".join(map(str, fell)) or DASH, span(r["distance_min"], r["distance_max"]),
        DASH if is_ref else f2(v["distance_max_abs_diff_m"]),
        DASH if is_ref else f"{f2(v['first_1s']['joint_angle_rms_deg']['all'])} / {f2(v['10s']['joint_angle_rms_deg']['all'])}",  # noqa: E501
        DASH if is_ref else f3(v["10s"]["foot_force_rms_bw"]),
        f2(r["one_control_step_error_vs_euler_converged"]["max_deg"]),
        f2(r["cost_c_one_thread"]["ms_per_control_step"]), rate_verdict(r, ref, control_hz),
    ]  # fmt: skip


def physics_rate_section(d: Json) -> str:
    s, rows = d["settings"], d["rows"]
    ref = rows[s["reference_row"]]
    passes = [r["cost_c_one_thread"]["ms_per_control_step_passes"] for r in rows.values()]
    mean_ref = sum(e["distance"] for e in ref["episodes"]) / len(ref["episodes"])
    settings = settings_table([
        ("model", s["model"]), ("backend", s["backend"]), ("episodes", s["episodes"]), ("seconds", f"{s['seconds']:g}"),
        ("control rate (Hz)", s["control_hz"]), ("reference row", f"{ref['physics_hz']} Hz {ref['integrator']}"),
        ("one-step check against", s["one_step_check"].split(" from")[0]),
        ("largest start-state difference vs the reference row", f"{max(r['start_qpos_max_diff_vs_reference'] for r in rows.values()):g}"),  # noqa: E501
        ("C cost passes per row", ", ".join(sorted({str(len(p)) for p in passes}))),
        ("largest spread of a row's passes", f"{100 * max(max(p) / min(p) - 1 for p in passes):.0f} %"),
    ])  # fmt: skip
    tol = table(["tolerance", "at most"], [
        ["distance difference per episode", f"{100 * TOLERANCE['distance_fraction']:.0f} % "
         f"(~{TOLERANCE['distance_fraction'] * mean_ref:.2f} m)"],
        ["angle RMS, first second (deg)", f"{TOLERANCE['angle_1s_deg']:g}"],
        ["angle RMS, 10 s (deg)", f"{TOLERANCE['angle_10s_deg']:g}"],
        ["foot force RMS, 10 s (body weights)", f"{TOLERANCE['foot_force_10s_bw']:g}"],
    ])  # fmt: skip
    header = ["physics", "integrator", "substeps", f"falls (of {len(ref['episodes'])})", "fell at step",
              "distance (m)", "max distance diff per episode (m)", "angle RMS 1 s / 10 s (deg)",
              "foot force RMS 10 s (BW)", "one control step (deg)", "C MuJoCo (ms/step)", "verdict"]  # fmt: skip
    body = [rate_row(r, ref, s["control_hz"]) for r in rows.values()]
    return section(f"Physics rate (MyoAssist's tutorial policy, {s['backend']} backend)", RATE_NOTE, run_table(d),
                   settings, table(header, body), tol)  # fmt: skip


def physics_rate_cost_section(d: Json) -> str:
    """Env stepping cost per backend at 1200 Hz and 600 Hz (results/physics_rate_backend_cost.json)."""
    body = []
    for slow in d["rows"]["1200"]:
        fast = next(r for r in d["rows"]["600"] if r["backend"] == slow["backend"])
        body.append([slow["backend"], d["batch"], n0(slow["steps_per_s"]), n0(fast["steps_per_s"]),
                     f2(d["speedup_600_vs_1200"][slow["backend"]])])  # fmt: skip
    header = ["backend", "envs", "1200 Hz (40 substeps)", "600 Hz (20 substeps)", "600 / 1200 Hz"]
    return section("Backend cost of the 600 Hz option", COST_NOTE, run_table(d), table(header, body))


# ----------------------------------------------------------------------------- models parity


def models_parity_section(d: Json) -> str:
    from mjx_myoassist.analysis.parity import CONTROL_STEPS, REPORT_STEPS, SUBSTEPS
    from mjx_myoassist.models.myoassist import MYOASSIST_MODEL_IDS

    models = {k: m for k, m in d["models"].items() if "error" not in m}
    loadable = [m for m in MYOASSIST_MODEL_IDS if not m.endswith(UNLOADABLE)]
    missing = [f"`{m}`" for m in loadable if m not in d["models"]]
    third = max(i for i, t in enumerate(REPORT_STEPS) if t <= CONTROL_STEPS // 3)
    body = [[f"`{key}`", e1(max(max(c["qpos"][: third + 1]) for c in m["cases"].values())),
             e1(m["worst_over_cases"]["qpos"]), e1(max(m["cases"]["airborne_excited"]["qpos"])),
             e1(max(m["cases"]["standing_excited_exo"]["qpos"]))] for key, m in models.items()]  # fmt: skip
    settings = settings_table([
        ("models run", f"{len(models)} of the {len(loadable)} loadable"),
        ("not run (stopped for time)", ", ".join(missing) or None),
        ("control steps x substeps", f"{CONTROL_STEPS} x {SUBSTEPS}"),
    ])  # fmt: skip
    at = d.get("step_compile_measured", {})
    compile_rows = [[f"`{k}`", f"{v:.1f}", at.get("date", DASH),
                     f"{at['load_average_1min_before']:.1f}" if at else DASH] for k, v in d.get("step_compile_s", {}).items()]  # fmt: skip  # noqa: E501
    compile_table = (
        table(["model", "compile s", "date", "1-min load average before"], compile_rows) if compile_rows else ""
    )
    return section(
        "Every MyoAssist model: MJX (float64) vs CPU MuJoCo",
        PARITY_NOTE,
        run_table(d),
        settings,
        table(["model", "first 1/3 s", "over 1 s", "airborne, 1 s", "exo, 1 s"], body),
        compile_table,
    )


# ----------------------------------------------------------------------------- learning curve


def at_step(curve: Json, step: float, metric: str) -> str:
    return f3(curve[metric][curve["steps"].index(step)]) if step in curve["steps"] else "-"


def learning_section(d: Json) -> str:
    s, rows = d["settings"], d["comparison_same_reference"]
    published = d["curves"]["myoassist_published"]
    backend = s["overrides"][s["overrides"].index("--config.env_params.physics_backend") + 1]
    settings = settings_table([
        ("physics backend", backend), ("envs x steps per update", f"{s['num_envs']} x {s['n_steps']}"),
        ("batch", s["batch_size"]), ("epochs", s["n_epochs"]),
        ("observations", "normalised" if s["normalize_observation"] else "raw"),
        ("actor head", s["actor_output_activation"]), ("init", f"`{s['weight_init']}`"), ("seed", s["seed"]),
        ("env steps", f"{d['env_steps']:,}"), ("wall time (min)", f"{d['wall_s'] / 60:.0f}"),
        ("continued with `--resume` from", f"{s['resumed_at_env_steps']:,} steps" if s.get("resumed_at_env_steps") else None),  # noqa: E501
        (f"within ±{d['tolerance']:.0%} of MyoAssist at every compared point ({len(rows)})",
         f"**{'yes' if d['all_within_tolerance'] else 'no'}**"),
    ])  # fmt: skip
    body = [[f"{r['step']:,}"] + [f"{f3(r[m]['ours'])} / {f3(r[m]['myoassist'])} ({r[m]['relative_difference']:+.1%})"
                                  for m in ("episode_length", "reward_per_episode")]
            + [at_step(published, r["step"], "episode_length"), at_step(published, r["step"], "reward_per_episode")]
            for r in rows]  # fmt: skip
    header = ["env steps", "episode length: ours / MyoAssist (diff)", "reward per episode: ours / MyoAssist (diff)",
              "published: length", "published: reward"]  # fmt: skip
    ours, last = d["curves"]["ours"], rows[-1]["step"] if rows else 0
    beyond = [[f"{int(x):,}", f3(ours["episode_length"][i]), at_step(published, x, "episode_length"),
               f3(ours["reward_per_episode"][i]), at_step(published, x, "reward_per_episode")]
              for i, x in enumerate(ours["steps"]) if x > last]  # fmt: skip
    beyond_table = table(["env steps past the same-reference run", "ours: length", "published: length",
                          "ours: reward", "published: reward"], beyond) if beyond else ""  # fmt: skip
    return section("Learning: our trainer vs MyoAssist's trainer, same preset and reference", LEARNING_NOTE,
                   run_table(d), settings, table(header, body), beyond_table,
                   "![learning curves](results/learning_vs_myoassist.png)")  # fmt: skip
