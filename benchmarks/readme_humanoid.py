"""README section of the humanoid project's results (results/humanoid_seed004.json): stand and kneel trained here."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.readme_tables import DASH, Json, f1, f2, n0, opt, run_table, section, settings_table, table

NOTE = (
    "seeds/004's two results, trained here from random weights with the `humanoid_stand` and `humanoid_kneel` presets"
    " (cpu physics backend) and read by `python -m benchmarks.humanoid_seed004`. A pose test (every 50 updates of "
    "2,048 env steps; every 25 of 4,096 in the 64 x 64 runs) runs 5 deterministic episodes from the env seed's "
    "perturbed starts (10 s for stand, 3 s for kneel). It *stands* when every episode lasts 10 s with a mean torso "
    "height of 1.282 +- 0.05 m and both feet on the floor at the end; it *kneels* when every episode lasts 3 s and "
    "ends on at least one knee with the torso within 45 deg of vertical, having moved at most 0.3 m (no shuffling on "
    "the knees). Kneel's reward (`mjx_myoassist/envs/humanoid.py`): torso height 0.75 m with a 0.3 m wide term, "
    "upright, balance, knees on the floor, holding still, energy; the earlier kneel rewards (a 0.1 m height term; no "
    "knees term; no stillness term) and where their runs ended are in the earlier-runs table. The policies ship with "
    "the package (`mjx_myoassist.data.policy_path('humanoid_stand')`, `'humanoid_kneel'`: on one knee, the other "
    "foot down, sitting back on the heel); `python -m mjx_myoassist.evaluate <policy folder> --episodes 5 --seconds "
    "10` (3 for kneel) evaluates one and `python render.py <policy folder>` films a whole episode. "
    "SB3's time to stand uses `train_vs_sb3.py`'s stand settings on the preset (8 envs x 256 steps over "
    "`SubprocVecEnv`, batch 512, 4 epochs, lr 3e-4, log std init -1, target_kl 0.02) with the same pose test on the "
    "same starts, every 102,400 env steps inside its timed window, until it stands or its budget ends."
)

POSE_KEYS = [("torso height mean (m)", "torso_height_mean", f2), ("torso height final (m)", "torso_height_final", f2),
             ("upright final (deg)", "upright_angle_final", f1), ("feet", "feet_contact_final", n0),
             ("knees", "knees_contact_final", n0), ("hands", "hands_contact_final", n0)]  # fmt: skip


def humanoid_section(d: Json) -> str:
    sb3 = sb3_table(d.get("sb3_time_to_stand"), d["stand"], d.get("stand_earlier_runs", []))
    earlier = earlier_kneel_table(d.get("kneel_earlier_runs"))
    return section("The humanoid project (seeds/004): stand and kneel trained here", NOTE, run_table(d),
                   settings_block(d), cost_table(d), sb3, checks_table(d), earlier, tests_table(d, "stand"),
                   tests_table(d, "kneel"))  # fmt: skip


def settings_text(s: Json) -> str:
    return (f"{s['num_envs']} x {s['n_steps']}, {s['batch_size']}, {s['n_epochs']}, {s['learning_rate']:g}, "
            f"{s['log_std_init']:g}")  # fmt: skip


def settings_block(d: Json) -> str:
    rows = []
    for task in ("stand", "kneel"):
        s = d[task]["settings"]
        rows.append((f"{task}: run started from commit", d[task]["run_started_from_commit"]))
        rows.append((f"{task}: envs x steps, batch, epochs, lr, log std init", settings_text(s)))
    rows.append(("policies", ", ".join(f"`{d[f'{t}_policy_path']}`" for t in ("stand", "kneel")
                                       if d.get(f"{t}_policy_path")) or None))  # fmt: skip
    return settings_table(rows)


def cost_table(d: Json) -> str:
    """Env steps and wall time to stand and to kneel, beside seeds/004's 20M steps."""
    rows = []
    for task in ("stand", "kneel"):
        r = d[task]
        rows.append([task, "yes" if r["passed"] else "not yet", opt(r["env_steps_to_pass"], lambda x: f"{x:,}"),
                     opt(r["wall_s_to_pass"], lambda x: f1(x / 60)),
                     opt(r["wall_s_with_compile_to_pass"], lambda x: f1(x / 60)),
                     opt(r.get("env_steps_to_stable"), lambda x: f"{x:,}", "not yet"),
                     f"{r.get('passed_tests', DASH)} of {len(r['tests'])}",
                     f"{r['env_steps']:,}", opt(r["env_steps_per_s_mean"], n0),
                     f"{d['seed004']['env_steps']:,}"])  # fmt: skip
    header = ["", "pose test passed", "env steps to pass", "wall min to pass (compile excluded)", "(included)",
              "stable from (3 passing tests in a row; the shipped policy)", "tests passed", "env steps run",
              "mean env steps/s", "seeds/004 (SB3)"]  # fmt: skip
    return table(header, rows)


def sb3_table(s: Json | None, ours: Json | None = None, earlier: Sequence[Json] = ()) -> str:
    """SB3's seeds beside our preset's stand run and earlier stand runs of other settings (same pose test, same
    machine)."""
    if not s:
        return ""
    rows = [[f"SB3 seed {r['seed']}", "yes" if r["stood"] else "no", opt(r["env_steps_to_stand"], lambda x: f"{x:,}"),
             opt(r["wall_s_to_stand"], lambda x: f1(x / 60)), f"{r['steps']:,}", f1(r["seconds"] / 60),
             n0(r["steps_per_s"])] for r in s["runs"]]  # fmt: skip
    named = [("ours, the preset", ours)] + [(f"ours, {settings_text(r['settings'])} (earlier run from "
                                             f"{r['run_started_from_commit']})", r) for r in earlier]  # fmt: skip
    for name, r in named:
        if r:
            rows.append([name, "yes" if r["passed"] else "no", opt(r["env_steps_to_pass"], lambda x: f"{x:,}"),
                         opt(r["wall_s_to_pass"], lambda x: f1(x / 60)), f"{r['env_steps']:,}",
                         opt(r["wall_s"], lambda x: f1(x / 60)), opt(r["env_steps_per_s_mean"], n0)])  # fmt: skip
    m = s["machine"]
    header = [f"run ({m['cpu_model']}, {m['cpu_count']} cores; SB3: {s['date']}, commit {s['commit']})", "stood",
              "env steps to stand", "wall min to stand", "env steps run", "wall min run", "env steps/s"]  # fmt: skip
    return table(header, rows)


def checks_table(d: Json) -> str:
    """The shipped policies evaluated by the command line in fresh processes, per episode."""
    rows = []
    for task in ("stand", "kneel"):
        check = d.get(f"{task}_check")
        for e in check["episodes"] if check else ():
            verdict = f"{task} ({'passes' if check['passed'] else 'does not pass'})"
            rows.append([f"`{' '.join(check['command'][3:])}`" if e["episode"] == 0 else DASH, verdict, e["episode"],
                         f2(e["seconds"]), e["end"], *[fmt(e[key]) for _, key, fmt in POSE_KEYS]])  # fmt: skip
    header = ["command-line check (`python -m mjx_myoassist.evaluate ...`)", "task", "episode", "s", "ended",
              *[name for name, _, _ in POSE_KEYS[:3]], "feet on floor", "knees on floor", "hands on floor"]  # fmt: skip
    return table(header, rows) if rows else ""


def tests_table(d: Json, task: str, shown: int = 12) -> str:
    """The pose tests along a run: ``shown`` of them evenly, the first passing one and the last."""
    tests = d[task]["tests"]
    if not tests:
        return ""
    picks = sorted({*range(0, len(tests), max(1, len(tests) // shown)), len(tests) - 1,
                    *[i for i, t in enumerate(tests) if t["passed"]][:1]})  # fmt: skip
    rows = [[f"{tests[i]['step']:,}", n0(tests[i]["wall_s"]), "yes" if tests[i]["passed"] else "no",
             " / ".join(f2(x) for x in tests[i]["seconds"]), " / ".join(f2(x) for x in tests[i]["torso_height_mean"])]
            for i in picks]  # fmt: skip
    header = [f"{task} pose test at env steps", "wall s", "passed", "episode seconds", "torso height mean (m)"]
    return table(header, rows)


def earlier_kneel_table(runs: list[Json] | None) -> str:
    """Earlier kneel runs, each with the kneel reward of its commit (mjx_myoassist/envs/humanoid.py), at their end."""

    def cells(test: Json, key: str, fmt) -> str:
        return " / ".join(fmt(x) for x in test[key])

    rows = [[r["run_started_from_commit"], f"{r['env_steps']:,}", "yes" if r["passed"] else "no",
             cells(r["last_test"], "seconds", f2), cells(r["last_test"], "torso_height_final", f2),
             cells(r["last_test"], "feet_contact_final", n0), cells(r["last_test"], "knees_contact_final", n0),
             cells(r["last_test"], "distance", f2)]
            for r in runs or () if r["last_test"]]  # fmt: skip
    header = ["earlier kneel run from commit", "env steps", "kneeled", "last test: seconds", "torso final (m)",
              "feet on floor", "knees on floor", "moved along x (m)"]  # fmt: skip
    return table(header, rows) if rows else ""
