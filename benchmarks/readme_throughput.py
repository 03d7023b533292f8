"""README sections for stepping and training speed: env throughput, training throughput, SB3, GPU projection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from env_throughput import MYOASSIST_PUBLISHED, PLAYGROUND_HUMANOID
from readme_format import Json, centre, machine_line, mean_cell, n0, rate_cell, table

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
