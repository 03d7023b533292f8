"""README sections on speed: env stepping, training throughput, training vs SB3, the GPU projection."""

from __future__ import annotations

from benchmarks.env_throughput import MYOASSIST_PUBLISHED, PLAYGROUND_HUMANOID
from benchmarks.readme_tables import (
    DASH,
    Json,
    centre,
    f1,
    f2,
    mean_cell,
    n0,
    rate_cell,
    run_table,
    section,
    settings_table,
    table,
)

ENV_NOTE = (
    "Same workload: every method steps the same envs from the env's reset states with the same fixed random "
    "actions, median (min-max) of the timed runs. Rows: a jitted scan of auto-resetting steps with random "
    "actions (the stepping of a training rollout), median (min-max) of timed scans after a warm-up, each row in "
    "its own process (its own compile and peak RSS). `physics_backend: auto` picks `cpu` when JAX has no "
    "accelerator because one C thread outruns MJX's JAX physics on a CPU (column `C thread / row`)."
)
TRAIN_NOTE = (
    "Our trainer end to end on MyoAssist's tutorial preset (its PPO settings and networks): compile time "
    "separate, then per seed one warm-up update and a fixed budget of timed updates; env steps/s mean "
    "(min-max) over seeds; 30M steps projected at that rate (30e6 / rate). The GPU projection is a projection "
    "from CPU-side ratios, not a measurement."
)
SB3_NOTE = (
    "Same env code and physics, same PPO settings and observation normalisation on both sides; compile outside "
    "both timed windows. Our side runs SB3's MlpPolicy head for this comparison (linear action mean, scaled "
    "orthogonal init, same Adam eps). Left different: SB3 uses one MLP for the leg instead of separate "
    "human/exo heads, and each SB3 step pays one JAX dispatch on top of the physics (more for the cheap "
    "humanoid than for the leg). Numbers are mean (min-max) over seeds."
)
PROJECTION_NOTE = (
    "A projection from CPU-side measurements, not a GPU measurement: Playground's published MJX humanoid "
    "training speed on one GPU, divided by the leg/humanoid MJX cost per physics step measured on this CPU "
    "(assumed the same on the GPU, training overhead too) and by the leg's 40 substeps. The leg is expensive "
    "for MJX (40 physics substeps per control step at 1200 Hz, 22 muscles with wrapped tendons, 28 equality "
    "couplings); the levers are the physics rate, the solver iterations and MuJoCo Warp on NVIDIA GPUs. Measure "
    "before relying on it:\n\n"
    "```bash\n"
    "python -m benchmarks.env_throughput --device gpu     # mjx, warp and cpu rows, batches 1k-16k\n"
    "python -m benchmarks.train_throughput --device gpu   # end-to-end training, 30M-step time\n"
    "```"
)
NORMALISE = {True: "both (ours `normalize_observation`, SB3 `VecNormalize(norm_obs=True)`)", False: "neither"}


# ----------------------------------------------------------------------------- env stepping


def env_section(d: Json, device: str) -> str:
    w, s = d.get("same_workload"), d["settings"]
    settings = settings_table([
        ("same workload", f"{w['envs']} envs x {w['control_steps']} control steps" if w else None),
        ("timed runs per method", w["repeats"] if w else None),
        ("control steps per timed scan (rows)", s["steps_per_rollout"]),
        ("timed scans per row", s["repeats"]),
        ("JAX compile cache", s["compile_cache"]),
    ])  # fmt: skip
    return section(f"Env stepping, {device}", ENV_NOTE, run_table(d), settings, workload_table(w) if w else "",
                   env_rows_table(d["rows"]))  # fmt: skip


def workload_table(w: Json) -> str:
    base, cores, threads = centre(w["myoassist_style"]), w["myoassist_style_processes"], w["cpu_backend_threads"]
    methods = [
        ("one MuJoCo C thread (Python loop)", w["single_thread_c"], 1, False),
        (f"MyoAssist-style: {cores} processes, a pipe round trip per step (SubprocVecEnv)", w["myoassist_style"],
         cores, False),
        (f"**cpu backend, training-style** (auto-reset): {threads} threads inside `jit`",
         w["cpu_backend_training_style"], threads, True),
        (f"cpu backend, `env.step` without auto-reset: {threads} threads inside `jit`", w["cpu_backend_no_auto_reset"],
         threads, False),
    ]  # fmt: skip
    body = []
    for label, rate, n, headline in methods:
        ratio = DASH if n == 1 else f2(centre(rate) / base)
        body.append([label, rate_cell(rate), n0(centre(rate) / n), f"**{ratio}x**" if headline else ratio])
    return table(["method", "control steps/s", "per core", "vs MyoAssist-style"], body)


def env_rows_table(rows: list[Json]) -> str:
    gpu = any(r.get("device_peak_mb") is not None for r in rows)
    header = ["backend", "batch", "compile s", "control steps/s", "vs MyoAssist-style", "C thread / row",
              "peak RSS MB"] + (["GPU peak MB"] if gpu else [])  # fmt: skip
    body = []
    for r in rows:
        if "error" in r:
            body.append([r["backend"], r["batch"], DASH, f"failed: {r['error']}"] + [DASH] * (len(header) - 4))
            continue
        cells = [r["backend"], r["batch"], f1(r["compile_s"]), rate_cell(r.get("steps_per_s_spread", r["steps_per_s"])),
                 f2(r["ratio_vs_myoassist_style"]) if "ratio_vs_myoassist_style" in r else DASH,
                 f1(1 / r["ratio_vs_single_thread_c"]) if "ratio_vs_single_thread_c" in r else DASH,
                 n0(r["peak_rss_mb"])]  # fmt: skip
        body.append(cells + ([n0(r["device_peak_mb"]) if r.get("device_peak_mb") is not None else DASH] if gpu else []))
    return table(header, body)


# ----------------------------------------------------------------------------- training throughput


def train_throughput_section(d: Json, device: str) -> str:
    s = d["settings"]
    settings = settings_table([
        ("preset", f"`{s['config']}`"), ("n_steps", s["n_steps"]), ("minibatches", s["minibatches"]),
        ("timed seconds per seed", n0(s["budget_s_per_seed"])), ("seeds", len(s["seeds"])),
    ])  # fmt: skip
    body = []
    for r in d["rows"]:
        if "error" in r:
            body.append([r["backend"], r["num_envs"], DASH, f"failed: {r['error']}", DASH, DASH, DASH])
            continue
        h = r["projected_hours_for_30M_steps"]
        hours = f1(h["at_mean_rate"]) + (f" ({f1(h['shortest'])}-{f1(h['longest'])})" if r["steps_per_s"]["n"] > 1
                                          else "")  # fmt: skip
        gpu = n0(r["device_peak_mb"]) if r.get("device_peak_mb") is not None else DASH
        body.append([r["backend"], r["num_envs"], f1(r["compile_s"]), mean_cell(r["steps_per_s"]), hours,
                     n0(r["peak_rss_mb"]), gpu])  # fmt: skip
    header = ["backend", "envs", "compile s", "env steps/s", "30M steps (h)", "peak RSS MB", "GPU peak MB"]
    return section(f"Training throughput, {device}", TRAIN_NOTE, run_table(d), settings, table(header, body),
                   train_projection_table(d.get("gpu_projection")))  # fmt: skip


def train_projection_table(p: Json | None) -> str:
    if not p or "error" in p:
        return ""
    return table(["GPU projection", "value"], [
        ["envs", p["num_envs"]],
        ["MJX training cost of one leg physics step, in humanoid physics steps (this CPU)",
         f1(p["leg_vs_humanoid_training_cost_per_physics_step"])],
        ["scaled from Playground's humanoid on", p["playground_humanoid"]["gpu"]],
        ["projected env steps/s", f"~{n0(p['projected_gpu_leg_training_steps_per_s'])}"],
        ["projected hours for 30M steps", f"~{f1(p['projected_hours_for_30M_steps'])}"],
    ])  # fmt: skip


# ----------------------------------------------------------------------------- training vs SB3


def sb3_section(d: Json) -> str:
    res, s = d["results"], d["settings"]
    settings = settings_table([
        ("timed seconds per seed and side", n0(s["budget_s"])), ("seeds", ", ".join(map(str, s["seeds"]))),
        ("return statistic", s["return_statistic"]), ("return window (episodes)", s["window_episodes"]),
        *[(f"{t}: observations normalised on", NORMALISE[c["normalize_observation"]]) for t, c in s["tasks"].items()],
    ])  # fmt: skip
    body, returns = [], []
    for task, label in (("stand", "humanoid `stand`"), ("leg", "leg-exo tutorial")):
        if task not in res:
            continue
        r = res[task]
        body.append([label, s["tasks"][task]["overrides"][1], mean_cell(r["ours"]["steps_per_s"]),
                     mean_cell(r["sb3"]["steps_per_s"]), f"**{f2(r['ratio_mean_steps_per_s'])}**",
                     reach_cell(r, "ours"), reach_cell(r, "sb3")])  # fmt: skip
        for name, side in (("ours", "ours"), ("SB3", "sb3")):
            returns.append([task, name, "/".join(map(f2, r[side]["return_first"])),
                            "/".join(map(f2, r[side]["return_last"]))])  # fmt: skip
    header = ["task", "envs", "ours env-steps/s", "SB3 env-steps/s", "ratio of means", "ours: time to threshold (s)",
              "SB3: time to threshold (s)"]  # fmt: skip
    return section(
        "Training vs Stable-Baselines3",
        SB3_NOTE,
        run_table(d),
        settings,
        table(header, body),
        table(["task", "side", "return at the first update, per seed", "at the last update"], returns),
    )


def reach_cell(r: Json, side: str) -> str:
    if r["threshold"] is None:
        return "(no threshold)"
    t, n, seeds = r[side]["time_to_threshold_s"], r[side]["reached_threshold"], r[side]["seeds"]
    return f"{mean_cell(t, f1) if t else DASH} ({n}/{seeds} seeds reached {r['threshold']:g})"


# ----------------------------------------------------------------------------- GPU projection


def projection_section(d: Json) -> str:
    p = d.get("gpu_projection")
    if not p or "error" in p:
        return ""
    pg = p.get("playground_humanoid", PLAYGROUND_HUMANOID)
    my = p.get("myoassist_published", MYOASSIST_PUBLISHED)
    batch = p.get("batch") or max(r["batch"] for r in d["rows"] if r["backend"] == "mjx" and "error" not in r)
    rows = [
        ["from", f"`results/env_throughput_cpu.json` ({d['date']})"],
        [f"Playground MJX humanoid on one {pg['gpu']}",
         f"{pg['control_steps'] / 1e6:.0f}M control steps in ~{pg['seconds'] / 60:.0f} min, {pg['substeps']} "
         "physics steps per control step"],
        ["humanoid physics steps/s, end to end", f"~{p['assumed_gpu_humanoid_physics_steps_per_s'] / 1000:.0f}k"],
        [f"leg / humanoid MJX cost per physics step (this CPU, batch {batch})",
         f"**{f1(p['leg_vs_humanoid_cost_per_physics_step'])}**"],
        ["leg physics steps per control step", 40],
        ["projected leg-exo control steps/s", f"**~{p['projected_gpu_leg_control_steps_per_s'] / 1000:.1f}k**"],
        ["projected hours for the 30M-step tutorial run", f"**~{p['projected_minutes_for_30M_steps'] / 60:.1f}**"],
        ["MyoAssist's published CPU speed (env-steps/s)", f"{my['steps'] / (my['hours'] * 3600) / 1000:.1f}k "
         f"({my['steps'] / 1e6:.0f}M steps in {my['hours']:g} h on {my['processes']} processes)"],
    ]  # fmt: skip
    return "\n\n".join([f"## GPU projection ({pg['gpu']} class)", PROJECTION_NOTE, table(["quantity", "value"], rows)])
