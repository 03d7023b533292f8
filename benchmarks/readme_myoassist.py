"""README sections about MyoAssist itself: its policy walking here, physics rates, model parity, learning."""

from __future__ import annotations

from collections.abc import Sequence

from readme_format import Json, join_and, plural, table

# ----------------------------------------------------------------------------- MyoAssist policy walk

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
END_WORDS = {"fell": "fall", "numerical_fault": "numerical fault"}


def ends_text(episodes: Sequence[Json]) -> str:
    """'4 falls, 1 numerical fault' style count of the episodes that did not reach the time limit."""
    counts: dict[str, int] = {}
    for e in episodes:
        if e["end"] != "time_limit":
            counts[e["end"]] = counts.get(e["end"], 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{n} {END_WORDS.get(k, k)}{'' if n == 1 else 's'}" for k, n in ordered)


def walk_cell(row: Json) -> str:
    eps = row["episodes"]
    short = [e for e in eps if e["end"] != "time_limit"]
    if not short:
        return f"{row['distance_min']:.2f}-{row['distance_max']:.2f}"
    steps = sorted(e["steps"] for e in short)
    if len(short) == len(eps):
        return f"episodes end after {steps[0]}-{steps[-1]} steps ({ends_text(eps)})"
    ends = {END_WORDS.get(e["end"], e["end"]) for e in short}
    kind = ends.pop() if len(ends) == 1 else "early end"
    at = join_and([str(s) for s in steps])
    return f"{row['distance_min']:.2f}-{row['distance_max']:.2f} ({plural(len(short), kind)} at {at} steps)"


def policy_walk_section(d: Json) -> str:
    my, rows = d["myoassist"], d["rows"]
    n = len(next(iter(rows.values()))["episodes"])
    groups: dict[str, list[str]] = {}
    for key, row in rows.items():
        groups.setdefault(row.get("measured_at", "not recorded"), []).append(key)
    measured = "; ".join(f"{join_and(['`' + k + '`' for k in keys])} at {at}" for at, keys in groups.items())
    costs = d.get("physics_cost_c_one_thread", {})
    cost_text = ", ".join(f"{WALK_ROWS[k].split(', cpu backend')[0].replace('MyoAssist', 'MyoAssist')} "
                          f"{c['ms_per_control_step']:.1f}" for k, c in costs.items())  # fmt: skip
    passes = {len(c["ms_per_control_step_repeats"]) for c in costs.values()}
    body = [[WALK_ROWS.get(k, k), f"{r['walked_full_10s']}/{len(r['episodes'])}", walk_cell(r)]
            for k, r in sorted(rows.items(), key=lambda kv: list(WALK_ROWS).index(kv[0]))]  # fmt: skip
    out = [
        "### MyoAssist's published policy on this project's physics", "",
        "`python benchmarks/myoassist_policy_walk.py` -> `results/myoassist_policy_walk.json`. The published "
        "partial-obs tutorial policy (`model_19939328.zip`, read without torch), MyoAssist's TUTORIAL XML from the "
        "fixtures, reference `recorded/surrogate_short_reference_gait.npz`, target 1.25 m/s, off-trajectory "
        f"termination off, {n} episodes from random reference starts, 10 s (300 control steps) each. MyoAssist's "
        f"own recorded runs (`{my['source'].split(' (')[0]}`, {my['source'].split(' (')[-1].rstrip(')')}): "
        f"{my['walked_full_10s']}/{n} walked 10 s, "
        f"{my['distance_min']:.2f}-{my['distance_max']:.2f} m. Measured: {measured} (each row's `measured_at`).",
        "",
        table(["row", "walked 10 s", "distance (m)"], body),
        "",
    ]  # fmt: skip
    if costs:
        out += [f"C MuJoCo, one thread, ms per control step (40 substeps) from each of MyoAssist's recorded gait "
                f"states, best of {join_and(sorted(map(str, passes)))} passes ({d.get('physics_cost_measured_at')}): "
                f"{cost_text}.", ""]  # fmt: skip
    out.append(
        "Plain float32 MJX fails on MyoAssist's model because of its 1 g via-point bodies; armature on "
        "their joints or the Warp backend fixes it (`docs/models.md`, Precision)."
    )
    return "\n".join(out)


# ----------------------------------------------------------------------------- physics rate

TOLERANCE = {"distance_fraction": 0.02, "angle_1s_deg": 2.0, "angle_10s_deg": 5.0, "foot_force_10s_bw": 0.2}


def rate_failures(row: Json, ref: Json) -> list[str]:
    """The tolerance criteria a physics-rate row misses (empty: it keeps the gait)."""
    v, fails = row["vs_reference"], []
    diffs = [abs(a["distance"] - b["distance"]) for a, b in zip(row["episodes"], ref["episodes"], strict=True)]
    if any(d > TOLERANCE["distance_fraction"] * b["distance"] for d, b in zip(diffs, ref["episodes"], strict=True)):
        fails.append(f"distance {v['distance_max_abs_diff_m']:.2f} m")
    if v["first_1s"]["joint_angle_rms_deg"]["all"] > TOLERANCE["angle_1s_deg"]:
        fails.append(f"angle RMS {v['first_1s']['joint_angle_rms_deg']['all']:.2f}° in the first second")
    if v["10s"]["joint_angle_rms_deg"]["all"] > TOLERANCE["angle_10s_deg"]:
        fails.append(f"angle RMS {v['10s']['joint_angle_rms_deg']['all']:.2f}° over 10 s")
    if v["10s"]["foot_force_rms_bw"] > TOLERANCE["foot_force_10s_bw"]:
        fails.append(f"foot force RMS {v['10s']['foot_force_rms_bw']:.3f} BW")
    return fails


def physics_rate_table(rows: dict[str, Json], ref_key: str) -> str:
    body = []
    for key, r in rows.items():
        ref = key == ref_key
        integ = r["integrator"] + (" (MyoAssist)" if ref else "")
        if r["solver_iterations"] != rows[ref_key]["solver_iterations"]:
            integ += f", solver {r['solver_iterations']}/{r['solver_ls_iterations']}"
        v = r["vs_reference"]
        body.append([
            f"{r['physics_hz']} Hz", integ, str(r["cost_c_one_thread"]["substeps"]), str(r["falls"]),
            f"{r['distance_min']:.2f}-{r['distance_max']:.2f}",
            "—" if ref else f"{v['distance_max_abs_diff_m']:.2f}",
            "—" if ref else f"{v['first_1s']['joint_angle_rms_deg']['all']:.2f} / {v['10s']['joint_angle_rms_deg']['all']:.2f}",  # noqa: E501
            "—" if ref else f"{v['10s']['foot_force_rms_bw']:.3f}",
            f"{r['one_control_step_error_vs_euler_converged']['max_deg']:.2f}",
            f"{r['cost_c_one_thread']['ms_per_control_step']:.2f}",
        ])  # fmt: skip
    header = ["physics", "integrator", "substeps", f"falls (of {len(rows[ref_key]['episodes'])})", "distance (m)",
              "max distance diff per episode (m)", "angle RMS 1 s / 10 s (deg)", "foot force RMS 10 s (BW)",
              "one control step (deg)", "C MuJoCo (ms/step)"]  # fmt: skip
    return table(header, body)


def physics_rate_bullets(rows: dict[str, Json], ref_key: str, control_hz: int) -> list[str]:
    ref = rows[ref_key]
    base = ref["cost_c_one_thread"]["ms_per_control_step"]
    euler = [r for k, r in rows.items() if r["integrator"] == "Euler" and r["solver_iterations"] ==
             ref["solver_iterations"] and k != ref_key]  # fmt: skip
    bullets = []
    for r in euler:
        if r["falls"] == 0 and not rate_failures(r, ref):
            v = r["vs_reference"]
            bullets.append(
                f"**{r['physics_hz']} Hz Euler keeps the gait**: no fall, distances within "
                f"{v['distance_max_abs_diff_m']:.2f} m of {ref['physics_hz']} Hz, "
                f"{v['first_1s']['joint_angle_rms_deg']['all']:.2f}° / {v['10s']['joint_angle_rms_deg']['all']:.2f}° "
                f"angle RMS, {v['10s']['foot_force_rms_bw']:.3f} BW foot force RMS, at "
                f"{r['cost_c_one_thread']['ms_per_control_step']:.2f} ms instead of {base:.2f} ms of C physics per "
                f"control step ({r['cost_c_one_thread']['substeps']} instead of "
                f"{ref['cost_c_one_thread']['substeps']} substeps).")  # fmt: skip
        elif r["falls"] == 0:
            bullets.append(
                f"**{r['physics_hz']} Hz Euler** still walks {r['walked_full_10s']} of "
                f"{len(r['episodes'])}, but is outside the tolerances ({', '.join(rate_failures(r, ref))})."
            )
    falling = [r for r in euler if r["falls"] > 0]
    if falling:
        top = max(falling, key=lambda r: r["physics_hz"])
        below_all_fall = all(r["falls"] > 0 for r in euler if r["physics_hz"] <= top["physics_hz"])
        parts: list[list] = []  # [falls, [rates], note], runs of equal fall counts merged
        for r in sorted(falling, key=lambda r: -r["physics_hz"]):
            fell = sorted(e["steps"] for e in r["episodes"] if e["terminated"])
            after = f" (after {join_and([str(s) for s in fell])} control steps)" if len(fell) < 3 else ""
            if parts and parts[-1][0] == r["falls"] and not after and not parts[-1][2]:
                parts[-1][1].append(str(r["physics_hz"]))
            else:
                parts.append([r["falls"], [str(r["physics_hz"])], after])
        parts = [f"{plural(n, 'fall')} at {join_and(hz)} Hz{after}" for n, hz, after in parts]
        unstable = [r for r in falling if r["one_control_step_error_vs_euler_converged"]["max_deg"] > 90]
        tail = "".join(
            f"; at {r['physics_hz']} Hz one control step is already unstable "
            f"({r['one_control_step_error_vs_euler_converged']['max_deg']:.0f}° error)"
            for r in unstable
        )
        lead = f"fails at {top['physics_hz']} Hz and below" if below_all_fall else "falls at some rates"
        bullets.append(f"**Euler {lead}**: {', '.join(parts)}{tail}.")
    implicit = [r for r in rows.values() if r["integrator"] == "implicitfast"]
    if implicit and all(r["falls"] == len(r["episodes"]) for r in implicit):
        last = max(e["steps"] for r in implicit for e in r["episodes"])
        errors = [r["one_control_step_error_vs_euler_converged"]["max_deg"] for r in implicit]
        hz = sorted(r["physics_hz"] for r in implicit)
        bullets.append(
            f"**implicitfast fails at every rate tried, {hz[-1]} Hz included**: all {len(implicit[0]['episodes'])} "
            f"episodes of each rate fall within {last} control steps ({last / control_hz:.2f} s). It is not a "
            f"step-size problem: its one-control-step error is {min(errors):.2f}-{max(errors):.2f}° at "
            f"{hz[0]}-{hz[-1]} Hz, where Euler's own at {ref['physics_hz']} Hz is "
            f"{ref['one_control_step_error_vs_euler_converged']['max_deg']:.2f}°, so it simulates different "
            "dynamics for this model than the Euler the policy was trained on.")  # fmt: skip
    return bullets


def physics_rate_section(d: Json) -> str:
    s, rows = d["settings"], d["rows"]
    ref_key = s["reference_row"]
    ref = rows[ref_key]
    spreads = [
        max(p) / min(p) - 1 for p in (r["cost_c_one_thread"]["ms_per_control_step_passes"] for r in rows.values())
    ]
    passes = {len(r["cost_c_one_thread"]["ms_per_control_step_passes"]) for r in rows.values()}
    mean_ref = sum(e["distance"] for e in ref["episodes"]) / len(ref["episodes"])
    tol = TOLERANCE
    out = [
        f"### Physics rate (MyoAssist's tutorial policy, {s['backend']} backend)", "",
        f"`python benchmarks/physics_rate.py` (writes `results/physics_rate.json`). {s['model']}, its published "
        f"partial-obs policy run deterministically for {s['seconds']:g} s from {s['episodes']} random reference "
        "starts (the same starts in every row: " + (
            "the start states agree exactly" if all(r["start_qpos_max_diff_vs_reference"] == 0 for r in rows.values())
            else "start states differ, see the JSON") + "), target 1.25 m/s, off-trajectory termination off. The "
        f"control rate stays {s['control_hz']} Hz, so the physics rate must be a multiple of {s['control_hz']} Hz. "
        f"Differences are taken against the {ref['physics_hz']} Hz {ref['integrator']} row (MyoAssist's setting) "
        "over the control steps where both episodes are alive: hip/knee/ankle angles of both legs, and foot forces "
        "(foot + toes sensors per side, in body weights). \"One control step\" is the largest hip/knee/ankle angle "
        f"error after one control step from recorded gait states, against {s['one_step_check'].split(' from')[0]}. "
        f"C MuJoCo cost: one thread, ms per control step from every recorded gait state, best of "
        f"{join_and(sorted(map(str, passes)))} passes (the passes of a row spread by up to {100 * max(spreads):.0f} %"
        " on this shared machine; all are in the JSON).",
        "",
        physics_rate_table(rows, ref_key),
        "",
        "Tolerances for a setting to count as keeping the gait (chosen here, with the solver row as the scale of a "
        f"difference that does not matter): no fall, every episode's distance within "
        f"{100 * tol['distance_fraction']:.0f} % (~{tol['distance_fraction'] * mean_ref:.2f} m) of the same start "
        f"at {ref['physics_hz']} Hz, angle RMS at most {tol['angle_1s_deg']:g}° over the first second and "
        f"{tol['angle_10s_deg']:g}° over 10 s, foot force RMS at most {tol['foot_force_10s_bw']:g} body weights "
        "over 10 s.",
        "",
    ]  # fmt: skip
    out += [f"- {b}" for b in physics_rate_bullets(rows, ref_key, s["control_hz"])]
    out += [f"- The gait was measured on the {s['backend']} backend only.", "",
            "600 Hz Euler is offered as an option (`env_params.physics_sim_framerate: 600`, docs/models.md); "
            "MyoAssist's 1200 Hz stays the default."]  # fmt: skip
    return "\n".join(out)


def physics_rate_cost_section(d: Json) -> str:
    """Env stepping cost per backend at 1200 Hz and 600 Hz (results/physics_rate_backend_cost.json)."""
    body = []
    for slow in d["rows"]["1200"]:
        fast = next(r for r in d["rows"]["600"] if r["backend"] == slow["backend"])
        body.append([slow["backend"], f"{slow['steps_per_s']:.0f}", f"{fast['steps_per_s']:.0f}",
                     f"{d['speedup_600_vs_1200'][slow['backend']]:.2f}"])  # fmt: skip
    return "\n".join([
        "Backend cost of the 600 Hz option (`python benchmarks/physics_rate_cost.py` -> "
        "`results/physics_rate_backend_cost.json`): env control steps/s of the leg-exo test preset at "
        f"{d['batch']} envs, training-style stepping, median of 3, both rates in one run:", "",
        table(["backend", "1200 Hz (40 substeps)", "600 Hz (20 substeps)", "600 / 1200 Hz"], body),
    ])  # fmt: skip


# ----------------------------------------------------------------------------- models parity

UNLOADABLE = ("hmedi", "osl_a")  # their fixtures miss a mesh upstream (tests/test_models_myoassist.py)
CASE_NAMES = {"airborne_excited": "airborne", "standing_excited_exo": "exo"}


def compile_conditions(d: Json) -> str:
    at = d.get("step_compile_measured")
    return f" ({at['date']}, 1-min load average {at['load_average_1min_before']:.1f} before it)" if at else ""


def models_parity_section(d: Json) -> str:
    from mjx_myoassist.models.myoassist import MYOASSIST_MODEL_IDS
    from mjx_myoassist.models.parity import CONTROL_STEPS, REPORT_STEPS, SUBSTEPS

    models = {k: m for k, m in d["models"].items() if "error" not in m}
    loadable = [m for m in MYOASSIST_MODEL_IDS if not m.endswith(UNLOADABLE)]
    missing = [m for m in loadable if m not in d["models"]]
    third = max(i for i, t in enumerate(REPORT_STEPS) if t <= CONTROL_STEPS // 3)
    body = []
    for key, m in models.items():
        cases = m["cases"]
        body.append([f"`{key}`", f"{max(max(c['qpos'][: third + 1]) for c in cases.values()):.1e}",
                     f"{m['worst_over_cases']['qpos']:.1e}", f"{max(cases['airborne_excited']['qpos']):.1e}",
                     f"{max(cases['standing_excited_exo']['qpos']):.1e}"])  # fmt: skip
    calm = [(max(m["cases"][c]["qpos"]), k, CASE_NAMES[c]) for k, m in models.items() for c in CASE_NAMES]
    top = max(calm)
    rest = max(v for v, k, _ in calm if k != top[1])
    held = f"{len(models)} of the {len(loadable)} loadable models"
    gone = (f"; the run was stopped for time: {join_and(['`' + m + '`' for m in missing])} are not in it"
            if missing else "")  # fmt: skip
    compile_text = ("This run did not time the `jit(mjx.step)` compile (`--no-compile-time`)."
                    if "step_compile_s" not in d else "`jit(mjx.step)` compile (one world, float32, no cache): "
                    + ", ".join(f"`{k}` {v:.1f} s" for k, v in d["step_compile_s"].items())
                    + compile_conditions(d) + ".")  # fmt: skip
    return "\n".join([
        "### Every MyoAssist model: MJX (float64) vs CPU MuJoCo", "",
        f"`python benchmarks/myoassist_models_parity.py` -> `results/myoassist_models_parity.json` ({held}{gone}). "
        "Largest qpos difference (rad) over the four cases (standing, walking keyframe, airborne with random "
        f"excitation, standing with excitation and exo torque), {CONTROL_STEPS} control steps of {SUBSTEPS} "
        "substeps, solver as edited (Newton 4 iterations):", "",
        table(["model", "first 1/3 s", "over 1 s", "airborne, 1 s", "exo, 1 s"], body), "",
        "The 1 s maxima come from falls and foot impacts (walking keyframe, 3D standing), where the two solvers' "
        f"unconverged iterates separate. In the airborne and exo cases the largest 1 s difference is {top[0]:.1e} "
        f"(`{top[1]}`, {top[2]}) and at most {rest:.1e} for the other models. {compile_text}",
    ])  # fmt: skip


# ----------------------------------------------------------------------------- learning curve


def published_at(d: Json, step: int, metric: str) -> str:
    published = d["curves"]["myoassist_published"]
    return f"{published[metric][published['steps'].index(step)]:.3f}" if step in published["steps"] else "-"


def learning_section(d: Json) -> str:
    s = d["settings"]
    rows = d["comparison_same_reference"]
    body = [[f"{r['step']:,}"] + [f"{r[m]['ours']:.3f} / {r[m]['myoassist']:.3f} ({r[m]['relative_difference']:+.1%})"
                                  for m in ("episode_length", "reward_per_episode")]
            + [published_at(d, r["step"], "episode_length"), published_at(d, r["step"], "reward_per_episode")]
            for r in rows]  # fmt: skip
    verdict = "within" if d["all_within_tolerance"] else "not within"
    backend = s["overrides"][s["overrides"].index("--config.env_params.physics_backend") + 1]
    return "\n".join([
        "### Learning: our trainer vs MyoAssist's trainer, same preset and reference", "",
        f"`python benchmarks/learning_vs_myoassist.py` -> `results/learning_vs_myoassist.json` and `.png` "
        f"({d['machine']['date']}, {backend} physics backend). MyoAssist's partial-obs tutorial preset unchanged but "
        f"for the reference (`recorded/policy_gait_reference.npz`): {s['num_envs']} envs x {s['n_steps']} steps per "
        f"update, batch {s['batch_size']}, {s['n_epochs']} epochs, "
        f"{'normalised' if s['normalize_observation'] else 'raw'} observations, {s['actor_output_activation']} "
        f"actor head, `{s['weight_init']}` init, seed {s['seed']}; {d['env_steps']:,} env steps in "
        f"{d['wall_s'] / 60:.0f} min. Our log is regrouped into MyoAssist's logging windows (its callback logs "
        "after rollouts 1, 9, 17, ...). The baseline is MyoAssist's own trainer run on the same preset and "
        "reference (`recorded/myoassist_training_policy_gait_reference.json`); the published tutorial run (a "
        "reference that is gone upstream, off-trajectory threshold 0.6) is context.", "",
        table(["env steps", "episode length: ours / MyoAssist (diff)", "reward per episode: ours / MyoAssist (diff)",
               "published: length", "published: reward"], body), "",
        f"Ours is **{verdict} ±{d['tolerance']:.0%}** of MyoAssist's curve at every step its run covers "
        f"({plural(len(rows), 'point')}).", "",
        *beyond_myoassist_run(d, rows[-1]["step"] if rows else 0),
        "![learning curves](results/learning_vs_myoassist.png)",
    ])  # fmt: skip


def beyond_myoassist_run(d: Json, last_compared: int) -> list[str]:
    """The part of our run past MyoAssist's same-reference run, beside the published run (context only)."""
    ours = d["curves"]["ours"]
    picked = [(i, int(x)) for i, x in enumerate(ours["steps"]) if x > last_compared]
    if not picked:
        return []
    resumed = d["settings"].get("resumed_at_env_steps")
    how = f" (continued from its checkpoint at {resumed:,} steps with `--resume`)" if resumed else ""
    body = [
        [f"{step:,}", f"{ours['episode_length'][i]:.3f}", published_at(d, step, "episode_length"),
         f"{ours['reward_per_episode'][i]:.3f}", published_at(d, step, "reward_per_episode")]
        for i, step in picked
    ]  # fmt: skip
    return [
        f"The same run past MyoAssist's same-reference run{how}, beside the published run (another reference "
        "and threshold, so context rather than a target):",
        "",
        table(["env steps", "ours: length", "published: length", "ours: reward", "published: reward"], body),
        "",
    ]
