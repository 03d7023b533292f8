"""README section of the from-scratch run (results/walk_from_scratch.json): settings, curve, walk tests, cost."""

from __future__ import annotations

from pathlib import Path

from benchmarks.readme_tables import (
    DASH,
    Json,
    f1,
    f2,
    f3,
    mean_cell,
    n0,
    opt,
    run_table,
    section,
    settings_table,
    table,
)

NOTE = (
    "A plain training session of the many-envs preset from random weights, read by "
    "`python -m benchmarks.walk_from_scratch` (also while it runs). The walk test passes when every episode lasts "
    'its full length and walks at least 10 m; until then the steps and wall time to walk read "not yet". The '
    "curve is read at MyoAssist's logging points, beside MyoAssist's published run and MyoAssist's own trainer "
    "on the policy-gait reference. The recipe on a GPU (`physics_backend: auto` picks the GPU path):\n\n"
    "```bash\n"
    "python train_mjx.py --config imitation_tutorial_22_partial_obs_many_envs --myoassist-root <checkout>\n"
    "```"
)


def walk_from_scratch_section(d: Json) -> str:
    s = d["settings"]
    settings = settings_table([
        ("preset", f"`{s['preset']}`"), ("run started from commit", s["run_started_from_commit"]),
        ("envs x steps per update", f"{s['num_envs']} x {s['n_steps']}"), ("batch", s["batch_size"]),
        ("epochs", s["n_epochs"]), ("learning rate", f"{s['learning_rate']:g}"),
        ("physics (Hz)", s["physics_sim_framerate"]), ("physics backend", s["physics_backend"]),
        ("off-trajectory threshold", f"{s['out_of_trajectory_threshold']:g}"),
        ("training episodes starting as a new env", f"{s.get('fresh_start_fraction', 0.0):g}"),
        ("env seed; walk test seed", f"{s['env_seed']}; {s['walk_test_seed']}"),
        ("walk test", f"{s['walk_test']['walk_test_episodes']} episodes x {s['walk_test']['walk_test_seconds']:g} s"),
        ("reference", f"`{s.get('reference_data_path') or d['reference_data_path']}`"),
        ("joints set from the reference at reset", ", ".join(s["reference_data_keys"])
         if s.get("reference_data_keys") else None),
        ("walking policy", f"`{d['policy_path']}`" if d.get("policy_path") else None),
    ])  # fmt: skip
    return section("From scratch to walking: the many-envs preset", NOTE, run_table(d), settings, cost_table(d),
                   throughput_table(d.get("throughput_vs_myoassist_setup")), curve_table(d["curves"]),
                   walk_tests_table(d["walk_tests"]), published_walk_test_table(d.get("myoassist_published_walk_test")),
                   random_starts_table(d.get("random_starts")),
                   checks_table(d.get("command_line_checks")), gait_table(d.get("gait")),
                   earlier_runs_table(d.get("earlier_runs", [])))  # fmt: skip


def throughput_table(t: Json | None) -> str:
    """Our trainer on the recipe vs MyoAssist's own setup, measured in one run on one machine."""
    if not t:
        return ""
    header = ["training env steps/s, one run (`python -m benchmarks.train_vs_sb3 --task walk`)", "value"]
    rows = [["ours: the recipe (1024 envs, 600 Hz, MJX-ready contacts), mean (min-max)",
             mean_cell(t["ours_env_steps_per_s"])],
            ["MyoAssist's setup (SB3 + SubprocVecEnv, 1200 Hz, its contacts), mean (min-max)",
             mean_cell(t["myoassist_setup_env_steps_per_s"])],
            ["ratio of the means", f2(t["ratio_mean_steps_per_s"])],
            ["machine", f"{t['cpu_model']}, {t['cpu_count']} cores; {t['date']}, commit {t['commit']}"]]  # fmt: skip
    return table(header, rows)


def cost_table(d: Json) -> str:
    """Env steps and wall time so far and to walk, beside MyoAssist's published run."""
    my, first = d["myoassist_published"], d.get("first_walk_5_of_5_lasting")
    not_yet = "not yet"
    rows = [
        ["env steps so far", f"{d['env_steps']:,}", DASH],
        ["wall time so far (min)", opt(d["wall_s"], lambda x: f1(x / 60)), DASH],
        ["compile (s, all runs of the session)", opt(d["compile_s_total"], f1), DASH],
        ["mean env steps/s", opt(d["env_steps_per_s_mean"], n0), DASH],
        ["first walk test with every episode lasting: env steps", f"{first['step']:,}" if first else not_yet, DASH],
        ["walks: env steps", opt(d["env_steps_to_walk"], lambda x: f"{x:,}", not_yet), f"{my['env_steps']:,}"],
        ["walks: wall time (h), compile excluded", opt(d["wall_s_to_walk"], lambda x: f2(x / 3600), not_yet),
         f"{my['wall_h']:g} ({my['processes']} processes)"],
        ["walks: wall time (h), compile included", opt(d["wall_s_with_compile_to_walk"], lambda x: f2(x / 3600),
                                                      not_yet), DASH],
        ["walks: core-hours (wall time x cores), compile excluded",
         opt(d["wall_s_to_walk"], lambda x: f1(x / 3600 * d["machine"]["cpu_count"]), not_yet),
         f"{my['wall_h'] * my['processes']:g}"],
    ]  # fmt: skip
    return table(["", "this run", "MyoAssist published"], rows)


def curve_table(curves: Json) -> str:
    """Ours (this run and the earlier ones) beside MyoAssist's published run and its trainer on the same reference,
    at MyoAssist's logging points up to our longest run."""
    ours = [key for key in curves if key == "ours" or key.startswith("earlier_")]
    columns = [*ours, "published", "same_reference"]
    names = {"ours": "ours", "published": "published", "same_reference": "MyoAssist same reference",
             **{k: f"ours, run from {k.removeprefix('earlier_')}" for k in ours if k != "ours"}}  # fmt: skip
    steps = sorted({x for key in ours for x in curves[key]["steps"]})

    def at(curve: Json, step: float, metric: str) -> str:
        return f3(curve[metric][curve["steps"].index(step)]) if step in curve["steps"] else "-"

    body = [[f"{int(x):,}"] + [at(curves[c], x, m) for m in ("episode_length", "reward_per_episode")
                               for c in columns] for x in steps]  # fmt: skip
    header = ["env steps"] + [f"{m}: {names[c]}" for m in ("length", "reward") for c in columns]
    return table(header, body)


def walk_tests_table(tests: list[Json]) -> str:
    body = [[f"{t['step']:,}", opt(t.get("wall_s"), n0), f"{t['fraction']:.0%} of {t['episodes']}",
             f2(t["distance_mean"]), f2(t["distance_min"]), f2(t["speed_mean"])] for t in tests]  # fmt: skip
    header = ["walk test at env steps", "wall s", "episodes lasting", "distance mean (m)", "distance min (m)",
              "speed mean (m/s)"]  # fmt: skip
    return table(header, body) if body else ""


def checks_table(checks: Json | None) -> str:
    """The exported policy evaluated from the command line (cpu backend, 1200 Hz, both contact models)."""
    if not checks:
        return ""
    body = []
    for name, c in checks.items():
        eps = c["episodes"]
        distances = [e["distance"] for e in eps]
        lasting = sum(e["seconds"] >= 10.0 - 1e-6 for e in eps)
        body.append([f"`{name}`", "yes" if c["walked"] else "no", f"{lasting}/{len(eps)}",
                     f"{f2(min(distances))}-{f2(max(distances))}"])  # fmt: skip
    return table(["command-line check", "walked", "episodes lasting 10 s", "distance (m)"], body)


GAIT_ROWS = {  # gait_metrics.json key: row label
    "speed": "speed (m/s)", "cadence_steps_per_min": "cadence (steps/min)", "stride_length": "stride length (m)",
    "stride_time": "stride time (s)", "stance_percent_right": "stance, right (% of stride)",
    "stance_percent_left": "stance, left (% of stride)",
    "symmetry_index_stride_time": "symmetry index, stride time (%)",
    "symmetry_index_stance": "symmetry index, stance (%)", "return": "return",
}  # fmt: skip


def gait_table(g: Json | None) -> str:
    """The exported policy's gait beside MyoAssist's published policy's: one 10 s episode each, MyoAssist's physics."""
    if not g:
        return ""
    body = [[label, f2(g["ours"][key]), f2(g["myoassist_published"][key])] for key, label in GAIT_ROWS.items()]
    header = ["gait, 10 s on MyoAssist's physics (1200 Hz, its contacts; `--gait`: " + " ".join(g["command"]) + ")",
              "walking policy", "MyoAssist's published policy"]  # fmt: skip
    return table(header, body)


def published_walk_test_table(p: Json | None) -> str:
    """MyoAssist's published policy through the same walk test (its starts, this run's reference)."""
    if not p:
        return ""
    body = []
    for rate, c in ((k, v) for k, v in p.items() if k.endswith("hz")):
        eps = c["episodes"]
        body.append([rate.removesuffix("hz"), "yes" if c["walked"] else "no",
                     f"{sum(e['seconds'] >= 10.0 - 1e-6 for e in eps)}/{len(eps)}",
                     ", ".join(f"{e['episode']} ({e['steps']} steps, {e['end']})" for e in eps
                               if e["seconds"] < 10.0 - 1e-6) or DASH])  # fmt: skip
    header = [f"MyoAssist's published policy, this walk test (seed {p['seed']}, cpu, `--published-walk-test`): Hz",
              "passed", "episodes lasting 10 s", "episodes that did not"]  # fmt: skip
    return table(header, body)


def random_starts_table(r: Json | None) -> str:
    """Beyond the walk test's 5 starts: the run's policy and MyoAssist's published policy from many."""
    if not r:
        return ""
    body = [[c["policy"], f"{c['walked']}/{r['episodes']}",
             ", ".join(f"{f['episode']} ({f['steps']} steps, {f['end']})" for f in c["failed"]) or DASH]
            for c in r.values() if isinstance(c, dict)]  # fmt: skip
    header = [f"from {r['episodes']} random reference starts (seed {r['seed']}, cpu, "
              f"`--random-starts {r['episodes']}`)", "walked 10 s and 10 m", "episodes that did not"]  # fmt: skip
    return table(header, body)


def ours_random_starts(r: Json) -> Json:
    """A run's own policy in its random-starts record (older records name it by its last checkpoint)."""
    return r.get("ours") or r["ours_last_checkpoint"]


def earlier_runs_table(runs: list[Json]) -> str:
    """Finished runs of the recipe (other seeds): where each ended and when its walk test first reached each best."""
    body = []
    for r in runs:
        s, rs = r["settings"], r.get("random_starts")
        body.append([
            s["run_started_from_commit"], f"{s['env_seed']}; {s['walk_test_seed']}",
            f"{s.get('fresh_start_fraction', 0.0):g}", f"{r['env_steps']:,}",
            opt(r["wall_s"], lambda x: f2(x / 3600)), "yes" if r["walked"] else "no",
            ", ".join(f"{b['fraction']:.0%} at {b['step']:,}" for b in r["best_walk_tests"]) or DASH,
            f"{ours_random_starts(rs)['walked']}/{rs['episodes']}" if rs else DASH,
            f"`{Path(s['reference_data_path']).name}`" if s.get("reference_data_path") else DASH,
            r.get("machine", {}).get("cpu_model", DASH),
            "kept" if r.get("session_folder_kept", True) else "gone (numbers as recorded)",
        ])  # fmt: skip
    header = ["earlier run from commit", "env seed; walk test seed", "fresh starts", "env steps", "wall (h)",
              "walked 5/5",
              "walk test: first reaching each best (episodes lasting at env steps)",
              "its policy from random starts", "reference", "CPU", "session folder"]  # fmt: skip
    return table(header, body) if body else ""
