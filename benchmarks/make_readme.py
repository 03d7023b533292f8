"""Renders benchmarks/README.md from benchmarks/results/*.json: every number in it comes from a results file.

The prose lives here as templates; tables and numeric sentences are filled from the JSON.  Results files
written before the benchmark fixes of issue 15 (one seed, unmatched observation normalisation, no repeats)
are rendered with that said next to their numbers.

Usage: ``python benchmarks/make_readme.py`` (writes the README), ``--check`` (exit 1 when the README differs
from what the results render), ``--results DIR --out FILE`` (render other results, e.g. a test run's).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from env_throughput import MYOASSIST_PUBLISHED, PLAYGROUND_HUMANOID  # noqa: E402

RESULTS = HERE / "results"
README = HERE / "README.md"
Json = dict[str, Any]
WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}

HEAD = """# Benchmarks

Scripts, never timed tests. Each measures its baseline in the same run (these machines are
noisy) and writes `benchmarks/results/*.json` (machine, versions, date, settings, every number).
This file is generated from those JSON files by `python benchmarks/make_readme.py`
(`tests/test_benchmarks_readme.py` fails when it differs); edit the templates there, not here.
"""

COMMANDS = [  # (command, what it measures): the README's first table
    ("`python benchmarks/env_throughput.py [--device cpu\\|gpu]`",
     "leg-exo env control steps/s (40 physics substeps each) vs batch size for the cpu, mjx and warp backends "
     "(training-style auto-resetting stepping, median of repeats), compile time, peak memory (RSS; GPU allocator "
     "peak); baselines: one C thread and MyoAssist-style one-env-per-process stepping on the same workload; a GPU "
     "projection on CPU runs"),
    ("`python benchmarks/train_throughput.py [--device cpu\\|gpu]`",
     "end-to-end training env-steps/s of our trainer per backend (MyoAssist's tutorial preset, compile excluded, "
     "3 seeds) and the projected time of MyoAssist's 30M-step tutorial run"),
    ('`pip install -e ".[bench]" && python benchmarks/train_vs_sb3.py [--task stand\\|leg\\|both] [--budget 180] '
     "[--seeds 0 1 2]`",
     "end-to-end training env-steps/s and time to a return threshold, our trainer vs SB3 PPO + `SubprocVecEnv`, same "
     "PPO settings and observation normalisation, compile outside both timed windows"),
    ("`python benchmarks/physics_rate.py [--rows ...] [--episodes 5]`",
     "MyoAssist's tutorial policy at 1200 Hz physics vs lower rates and other integrators (cpu backend): falls, "
     "distance, joint-angle and foot-force RMS vs 1200 Hz, one-step integration error, C cost per control step"),
    ("`python benchmarks/myoassist_policy_walk.py`",
     "MyoAssist's published tutorial policy (SB3 zip, imported) on MyoAssist's TUTORIAL model here: 5 deterministic "
     "10 s episodes per backend/contact/precision row vs MyoAssist's own recorded runs; C cost per control step"),
    ("`python benchmarks/myoassist_models_parity.py`",
     "every MyoAssist model of a checkout through the MJX-ready edits: MJX (float64) vs CPU MuJoCo over 1 s, 4 "
     "cases; compile time of `jit(mjx.step)`"),
    ("`python benchmarks/learning_vs_myoassist.py [--steps 540672] [--backend cpu]`",
     "our trainer on MyoAssist's partial-obs tutorial preset beside MyoAssist's own training curve (episode length "
     "and reward per episode in MyoAssist's logging windows)"),
    ("`python benchmarks/make_readme.py`", "this file, from `benchmarks/results/*.json`"),
]  # fmt: skip


# ----------------------------------------------------------------------------- formatting


def n0(x: float) -> str:
    return f"{x:.0f}"


def rate_cell(r: Json | float, fmt: Callable[[float], str] = n0) -> str:
    """'median (min-max)' of a spread, or the single value of an old results file."""
    if not isinstance(r, dict):
        return fmt(r)
    centre = r.get("median", r.get("mean"))
    return fmt(centre) if r["n"] == 1 else f"{fmt(centre)} ({fmt(r['min'])}-{fmt(r['max'])})"


def mean_cell(r: Json, fmt: Callable[[float], str] = n0) -> str:
    """'mean (min-max)' of a spread over seeds."""
    return fmt(r["mean"]) if r["n"] == 1 else f"{fmt(r['mean'])} ({fmt(r['min'])}-{fmt(r['max'])})"


def centre(r: Json | float) -> float:
    return r.get("median", r.get("mean")) if isinstance(r, dict) else r


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def machine_line(d: Json) -> str:
    m, v = d["machine"], d["versions"]
    gpu = m.get("device_kind") if m.get("jax_backend") == "gpu" else None
    where = f"{m['cpu_count']} CPU cores" + (f", {gpu}" if gpu else ", no GPU")
    commit = f", commit {d['commit']}" if d.get("commit") else ""
    return f"{d['date']}, {where}, jax {v['jax']}, mujoco {v['mujoco']}{commit}"


def words(n: int) -> str:
    return WORDS.get(n, str(n))


def plural(n: int, word: str) -> str:
    return f"{words(n)} {word}{'' if n == 1 else 's'}"


def join_and(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# ----------------------------------------------------------------------------- env throughput


def workload_rates(w: Json) -> dict[str, Any]:
    """Same-workload rates in one shape for old (single numbers) and new (spreads) results files."""
    if "single_thread_c" in w:
        return {k: w[k] for k in ("single_thread_c", "myoassist_style", "cpu_backend_training_style",
                                  "cpu_backend_no_auto_reset")}  # fmt: skip
    return {"single_thread_c": w["single_thread_c_steps_per_s"], "myoassist_style": w["myoassist_style_steps_per_s"],
            "cpu_backend_training_style": None, "cpu_backend_no_auto_reset": w["cpu_backend_steps_per_s"]}  # fmt: skip


def env_section(d: Json, device: str) -> str:
    w, rows = d.get("same_workload"), d["rows"]
    out = [f"### Env stepping, {device} ({machine_line(d)})", ""]
    headline = None
    if w:
        rates, cores = workload_rates(w), w["myoassist_style_processes"]
        base = centre(rates["myoassist_style"])
        repeats = f"median (min-max) of {w['repeats']} timed runs" if "repeats" in w else "one timed run each"
        out += [f"Same workload: {w['envs']} envs x {w['control_steps']} control steps from the env's reset "
                f"states, fixed random actions; {repeats}.", ""]  # fmt: skip
        method_rows = [
            ("one MuJoCo C thread (Python loop)", rates["single_thread_c"], 1),
            (f"MyoAssist-style: {cores} processes, a pipe round trip per step (SubprocVecEnv)",
             rates["myoassist_style"], cores),
            (f"**cpu backend, training-style** (auto-reset, as in training): {w['cpu_backend_threads']} threads "
             "inside `jit`", rates["cpu_backend_training_style"], w["cpu_backend_threads"]),
            (f"cpu backend, `env.step` without auto-reset: {w['cpu_backend_threads']} threads inside `jit`",
             rates["cpu_backend_no_auto_reset"], w["cpu_backend_threads"]),
        ]  # fmt: skip
        body = []
        for label, rate, n in method_rows:
            if rate is None:
                continue
            ratio = "—" if n == 1 else f"{centre(rate) / base:.2f}"
            body.append([label, rate_cell(rate), n0(centre(rate) / n), ratio])
        out += [table(["method", "control steps/s", "per core", "vs MyoAssist-style"], body), ""]
        if rates["cpu_backend_training_style"] is not None:
            headline = (centre(rates["cpu_backend_training_style"]) / base, "on this workload")
        else:
            same = [r for r in rows if r["backend"] == "cpu" and r["batch"] == w["envs"] and "error" not in r]
            if same:
                headline = (
                    same[0]["ratio_vs_myoassist_style"],
                    f"the batch-{w['envs']} row below: an auto-resetting "
                    "scan with random actions, against the same-workload MyoAssist-style rate",
                )
            out += ["This results file predates training-style stepping on the same workload; its cpu-backend "
                    "number there is `env.step` without auto-reset, which training does not run.", ""]  # fmt: skip
    if headline:
        out += [f"Headline, training-style stepping: the cpu backend runs **{headline[0]:.2f}x** MyoAssist-style "
                f"stepping on the same cores ({headline[1]}).", ""]  # fmt: skip
    out += [env_rows_table(d), "", env_rows_notes(d)]
    return "\n".join(out)


def env_rows_table(d: Json) -> str:
    rows = d["rows"]
    gpu = any(r.get("device_peak_mb") is not None for r in rows)
    header = ["backend", "batch", "compile s", "control steps/s", "vs MyoAssist-style", "peak RSS MB"]
    body = []
    for r in rows:
        if "error" in r:
            body.append(
                [r["backend"], str(r["batch"]), "—", f"failed: {r['error']}", "—", "—"] + (["—"] if gpu else [])
            )
            continue
        cells = [r["backend"], str(r["batch"]), f"{r['compile_s']:.1f}", rate_cell(r.get("steps_per_s_spread",
                 r["steps_per_s"])), f"{r['ratio_vs_myoassist_style']:.2f}" if "ratio_vs_myoassist_style" in r
                 else "—", n0(r["peak_rss_mb"])]  # fmt: skip
        body.append(cells + ([n0(r["device_peak_mb"]) if r.get("device_peak_mb") is not None else "—"] if gpu else []))
    return table(header + (["GPU peak MB"] if gpu else []), body)


def env_rows_notes(d: Json) -> str:
    rows = [r for r in d["rows"] if "error" not in r]
    settings = d.get("settings", {})
    notes = []
    if "repeats" in settings:
        notes.append(f"Rows: a jitted scan of {settings['steps_per_rollout']} auto-resetting steps with random "
                     f"actions, median (min-max) of {settings['repeats']} timed scans after a warm-up; each row in "
                     f"its own process (JAX compile cache: {settings['compile_cache']}; peak RSS of "
                     "that process).")  # fmt: skip
    else:
        rss = [r["peak_rss_mb"] for r in rows]
        notes.append("Rows: a jitted scan of auto-resetting steps with random actions, one timed scan each; this "
                     "results file predates repeats and per-row processes, so its compile times depend on the "
                     "state of the persistent cache (not recorded) and its peak RSS "
                     f"({n0(min(rss))}-{n0(max(rss))} MB) is the whole benchmark process's so far.")  # fmt: skip
    mjx = [r for r in rows if r["backend"] == "mjx" and "ratio_vs_single_thread_c" in r]
    if mjx and d["machine"]["jax_backend"] == "cpu":
        best = max(mjx, key=lambda r: r["steps_per_s"])
        notes.append(f"On this CPU one MuJoCo C thread is {1 / best['ratio_vs_single_thread_c']:.1f}x faster than "
                     f"MJX's JAX physics at its best batch ({best['batch']}), which is why `physics_backend: auto` "
                     "picks `cpu` when JAX has no accelerator.")  # fmt: skip
    return " ".join(notes)


# ----------------------------------------------------------------------------- training throughput


def train_throughput_section(d: Json, device: str) -> str:
    s = d["settings"]
    out = [f"### Training throughput, {device} ({machine_line(d)})", "",
           f"Our trainer end to end on MyoAssist's tutorial preset (`{s['config']}`: its PPO settings and networks) "
           f"with `n_steps` {s['n_steps']} and {s['minibatches']} minibatches; compile time separate, then per seed "
           f"one warm-up update and {s['budget_s_per_seed']:.0f} s of timed updates; env steps/s mean (min-max) over "
           f"{len(s['seeds'])} seeds; 30M steps projected at that rate (30e6 / rate).", ""]  # fmt: skip
    body = []
    for r in d["rows"]:
        if "error" in r:
            body.append([r["backend"], str(r["num_envs"]), "—", f"failed: {r['error']}", "—", "—", "—"])
            continue
        h = r["projected_hours_for_30M_steps"]
        hours = f"{h['at_mean_rate']:.1f}"
        if r["steps_per_s"]["n"] > 1:
            hours += f" ({h['shortest']:.1f}-{h['longest']:.1f})"
        gpu = n0(r["device_peak_mb"]) if r.get("device_peak_mb") is not None else "—"
        body.append([r["backend"], str(r["num_envs"]), f"{r['compile_s']:.1f}", mean_cell(r["steps_per_s"]), hours,
                     n0(r["peak_rss_mb"]), gpu])  # fmt: skip
    header = ["backend", "envs", "compile s", "env steps/s", "30M steps (h)", "peak RSS MB", "GPU peak MB"]
    out.append(table(header, body))
    p = d.get("gpu_projection")
    if p and "error" not in p:
        out += ["", f"GPU projection (a projection from CPU-side ratios, not a measurement): under MJX on this CPU "
                f"one leg physics step in training costs {p['leg_vs_humanoid_training_cost_per_physics_step']:.1f}"
                f" humanoid ones ({p['num_envs']} envs); scaled from Playground's "
                f"{p['playground_humanoid']['gpu']} humanoid this gives "
                f"~{p['projected_gpu_leg_training_steps_per_s']:.0f} env steps/s, "
                f"~{p['projected_hours_for_30M_steps']:.1f} h for 30M steps."]  # fmt: skip
    return "\n".join(out)


# ----------------------------------------------------------------------------- training vs SB3


def sb3_section(d: Json) -> str:
    return sb3_matched(d) if "seeds" in d.get("settings", {}) else sb3_legacy(d)


def sb3_legacy(d: Json) -> str:
    res, s = d["results"], d["settings"]
    out = [f"### Training vs Stable-Baselines3 ({machine_line(d)})", "",
           "**Not a matched comparison.** This results file predates the fixes of issue 15: our side normalised "
           "observations and SB3's did not, each side ran one seed, and SB3's env processes compiled their jitted "
           "functions inside its timed window (ours compiled outside). Rerun `python benchmarks/train_vs_sb3.py` "
           f"for matched numbers. {d['budget_s']:.0f} s of training per side, "
           f"{s['stand']['overrides'][1]} envs.", ""]  # fmt: skip
    body = []
    for task, label in (("stand", "humanoid `stand`"), ("leg", "leg-exo tutorial")):
        if task not in res:
            continue
        r, threshold = res[task], res[task]["threshold"]
        ours, sb3 = r["ours"], r["sb3"]
        if threshold is None:
            reach = "(no threshold)"
        else:
            reach = f"ours {ours['time_to_threshold_s']:.1f} s, SB3 {sb3['time_to_threshold_s']:.1f} s"
        body.append([label, n0(ours["steps_per_s"]), n0(sb3["steps_per_s"]), f"{r['ratio_steps_per_s']:.2f}", reach])
    out += [table(["task", "ours env-steps/s", "SB3 env-steps/s", "ratio", "time to return threshold"], body), ""]
    curves = []
    for task in res:
        first_last = {side: (res[task][side]["curve"][0], res[task][side]["curve"][-1]) for side in ("ours", "sb3")}
        curves.append(f"{task}: ours {first_last['ours'][0][2]:.2f} -> {first_last['ours'][1][2]:.2f} over "
                      f"{first_last['ours'][1][0] / 1000:.0f}k steps, SB3 {first_last['sb3'][0][2]:.2f} -> "
                      f"{first_last['sb3'][1][2]:.2f} over {first_last['sb3'][1][0] / 1000:.0f}k steps")  # fmt: skip
    out.append(
        "Mean episode return, first -> last logged point (ours: episodes of one update; SB3: the last 20 "
        "episodes, so the two thresholds above are not the same statistic either): " + "; ".join(curves) + "."
    )
    return "\n".join(out)


NORM_TEXT = {
    True: "both normalise observations (ours `normalize_observation: true`, SB3 "
    "`VecNormalize(norm_obs=True, norm_reward=False)`)",
    False: "raw observations on both sides (`normalize_observation: false`, no `VecNormalize`)",
}


def sb3_matched(d: Json) -> str:
    res, s = d["results"], d["settings"]
    norm = "; ".join(f"{t}: {NORM_TEXT[c['normalize_observation']]}" for t, c in s["tasks"].items())
    out = [f"### Training vs Stable-Baselines3 ({machine_line(d)})", "",
           f"Same env code and physics, same PPO settings, {s['budget_s']:.0f} s of training per seed and side, "
           f"seeds {', '.join(map(str, s['seeds']))}; compile outside both timed windows (ours ahead of time; "
           f"SB3's env processes compile their jitted reset and step before training starts). Observations: "
           f"{norm}. Returns: {s['return_statistic']} (window {s['window_episodes']}), the same on both sides. "
           "Numbers are mean (min-max) over seeds.", ""]  # fmt: skip
    body = []
    for task, label in (("stand", "humanoid `stand`"), ("leg", "leg-exo tutorial")):
        if task not in res:
            continue
        r = res[task]
        body.append([label, f"{s['tasks'][task]['overrides'][1]}", mean_cell(r["ours"]["steps_per_s"]),
                     mean_cell(r["sb3"]["steps_per_s"]), f"**{r['ratio_mean_steps_per_s']:.2f}**",
                     reach_cell(r)])  # fmt: skip
    header = ["task", "envs", "ours env-steps/s", "SB3 env-steps/s", "ratio of means", "time to return threshold (s)"]
    out += [table(header, body), ""]
    curves = []
    for task, r in res.items():
        parts = [f"{name} {fmt_list(r[side]['return_first'])} -> {fmt_list(r[side]['return_last'])}"
                 for name, side in (("ours", "ours"), ("SB3", "sb3"))]  # fmt: skip
        curves.append(f"{task}: " + ", ".join(parts))
    out.append("Windowed return at the first -> last update, per seed: " + "; ".join(curves) + ".")
    out.append("")
    out.append("Our side runs SB3's MlpPolicy head for this comparison (linear action mean, scaled orthogonal init) "
               "and both sides use the same Adam eps. Differences that remain: SB3 uses one MLP for the leg "
               "(`human_actor` sizes for pi, `common_critic` for vf) instead of separate human/exo heads, and each "
               "SB3 step pays one JAX dispatch on top of the physics, which matters more for the cheap humanoid than "
               "for the leg (40 substeps).")  # fmt: skip
    return "\n".join(out)


def reach_cell(r: Json) -> str:
    if r["threshold"] is None:
        return "(no threshold)"
    cells = []
    for name, side in (("ours", "ours"), ("SB3", "sb3")):
        t, n, seeds = r[side]["time_to_threshold_s"], r[side]["reached_threshold"], r[side]["seeds"]
        when = mean_cell(t, lambda x: f"{x:.1f}") if t else "—"
        cells.append(f"{name} {when} ({n}/{seeds} seeds reached {r['threshold']:g})")
    return ", ".join(cells)


def fmt_list(values: Sequence[float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


# ----------------------------------------------------------------------------- MyoAssist policy walk

WALK_ROWS = {
    "original_contacts_cpu": "MyoAssist's original mesh contacts and solver, cpu backend",
    "mjx_ready_cpu": "MJX-ready edits, cpu backend",
    "mjx_ready_cpu_solver_100": "MJX-ready edits with MyoAssist's 100/50 solver iterations, cpu backend",
    "mjx_ready_mjx_x64": "MJX-ready edits, MJX float64 (`physics_precision: float64`)",
    "mjx_ready_mjx_f32": "MJX-ready edits, MJX float32",
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
    out.append("Float32 MJX fails on MyoAssist's model because of its 1 g via-point bodies (`docs/models.md`).")
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
    out += [f"- Only the {s['backend']} backend was measured here, not the MJX or Warp cost of each rate.", "",
            "600 Hz Euler is offered as an option (`env_params.physics_sim_framerate: 600`, docs/models.md); "
            "MyoAssist's 1200 Hz stays the default."]  # fmt: skip
    return "\n".join(out)


# ----------------------------------------------------------------------------- models parity

UNLOADABLE = ("hmedi", "osl_a")  # their fixtures miss a mesh upstream (tests/test_models_myoassist.py)
CASE_NAMES = {"airborne_excited": "airborne", "standing_excited_exo": "exo"}


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
                    + ", ".join(f"`{k}` {v:.1f} s" for k, v in d["step_compile_s"].items()) + ".")  # fmt: skip
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
        "![learning curves](results/learning_vs_myoassist.png)",
    ])  # fmt: skip


# ----------------------------------------------------------------------------- GPU projection


def projection_section(d: Json) -> str:
    p = d.get("gpu_projection")
    if not p or "error" in p:
        return ""
    pg = p.get("playground_humanoid", PLAYGROUND_HUMANOID)
    my = p.get("myoassist_published", MYOASSIST_PUBLISHED)
    batch = p.get("batch") or max(r["batch"] for r in d["rows"] if r["backend"] == "mjx" and "error" not in r)
    my_rate = my["steps"] / (my["hours"] * 3600)
    humanoid = p["assumed_gpu_humanoid_physics_steps_per_s"]
    return "\n".join([
        f"## GPU projection ({pg['gpu']} class; a projection from CPU-side measurements, not a GPU measurement)", "",
        f"From `results/env_throughput_cpu.json` ({d['date']}). Assumptions: MuJoCo Playground trains the MJX "
        f"humanoid for {pg['control_steps'] / 1e6:.0f}M control steps in ~{pg['seconds'] / 60:.0f} min on one "
        f"{pg['gpu']} with {pg['substeps']} physics steps per control step, i.e. ~{humanoid / 1000:.0f}k humanoid "
        "physics steps/s end to end; the cost of one leg physics step relative to one humanoid physics step under "
        "MJX is the same on the GPU as measured here on the CPU (same batch, "
        f"{batch}: **{p['leg_vs_humanoid_cost_per_physics_step']:.1f}**); training overhead is the same.", "",
        f"Then the leg-exo env runs at ~{humanoid / 1000:.0f}k / {p['leg_vs_humanoid_cost_per_physics_step']:.1f} / "
        f"40 ≈ **{p['projected_gpu_leg_control_steps_per_s'] / 1000:.1f}k control steps/s**, and the 30M-step "
        f"tutorial run takes **~{p['projected_minutes_for_30M_steps'] / 60:.1f} h** on one {pg['gpu']}, against "
        f"MyoAssist's published CPU speed of {my_rate / 1000:.1f}k env-steps/s ({my['steps'] / 1e6:.0f}M steps in "
        f"{my['hours']:g} h on {my['processes']} processes). The leg is expensive for MJX: 40 physics substeps per "
        "control step at 1200 Hz, 22 muscles with wrapped tendons and 28 equality couplings. The levers are the "
        "substep count (physics rate), the solver iterations, and the MuJoCo Warp backend on NVIDIA GPUs; measure "
        "before relying on this projection:", "",
        "```bash",
        "python benchmarks/env_throughput.py --device gpu     # mjx, warp and cpu rows, batches 1k-16k",
        "python benchmarks/train_throughput.py --device gpu   # end-to-end training, 30M-step time",
        "```",
    ])  # fmt: skip


# ----------------------------------------------------------------------------- assembly


def load(results: Path, name: str) -> Json | None:
    path = results / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def render(results: Path = RESULTS) -> str:
    """The README text for the results files in ``results``."""
    parts = [HEAD, table(["command", "measures"], [list(c) for c in COMMANDS]), "", "## Results", ""]
    sections: list[tuple[str, Callable[[Json], str]]] = [
        ("env_throughput_gpu", lambda d: env_section(d, "GPU")),
        ("env_throughput_cpu", lambda d: env_section(d, "CPU")),
        ("train_throughput_gpu", lambda d: train_throughput_section(d, "GPU")),
        ("train_throughput_cpu", lambda d: train_throughput_section(d, "CPU")),
        ("train_vs_sb3", sb3_section),
        ("myoassist_policy_walk", policy_walk_section),
        ("physics_rate", physics_rate_section),
        ("myoassist_models_parity", models_parity_section),
        ("learning_vs_myoassist", learning_section),
    ]
    for name, section in sections:
        data = load(results, name)
        if data is not None:
            parts += [section(data), ""]
    cpu = load(results, "env_throughput_cpu")
    projection = projection_section(cpu) if cpu else ""
    if projection:
        parts += [projection, ""]
    return "\n".join(parts).rstrip("\n") + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=README)
    parser.add_argument("--check", action="store_true", help="exit 1 when --out differs from the rendered text")
    args = parser.parse_args(argv)
    text = render(args.results)
    if args.check:
        same = args.out.is_file() and args.out.read_text() == text
        print(f"{args.out} is {'up to date' if same else 'out of date: run python benchmarks/make_readme.py'}")
        return 0 if same else 1
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
