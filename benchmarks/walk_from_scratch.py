"""From scratch to walking: the many-envs preset trained from random weights until the walk test passes.

The run itself is a plain training session, started (and continued with ``--resume`` in later
sessions) in the background, its folder outside the checkout::

    nohup python train_mjx.py --config imitation_tutorial_22_partial_obs_many_envs \\
        --myoassist-root <MyoAssist checkout> --config.env_params.physics_backend cpu \\
        --results-dir ~/runs/walk_from_scratch --no-progress > ~/runs/walk_from_scratch.log 2>&1 &
    nohup python train_mjx.py --resume ~/runs/walk_from_scratch/train_session_<time> --no-progress >> ... &

This script reads that session (any time, also while it runs) and writes
``benchmarks/results/walk_from_scratch.json`` and ``.png``: the settings, the machine (CPU model) and
the commit the run started from, the learning curve at MyoAssist's logging points beside MyoAssist's
published run and its own trainer on the policy-gait reference, every walk test along the run, and,
once every walk-test episode lasted 10 s, the env steps and wall time to walk (compile excluded and
included).  ``--export`` copies the walking policy (weights and config only) into the repository and
``--check`` evaluates it from the command line on the cpu backend at MyoAssist's 1200 Hz, with the
MJX-ready contacts and with MyoAssist's original contacts.

    python -m benchmarks.walk_from_scratch --session ~/runs/walk_from_scratch/train_session_<time> \\
        --commit <commit the run started from> [--earlier-run SESSION COMMIT] [--export] [--check] \\
        [--random-starts N] [--published-walk-test] [--gait]

``--earlier-run`` reports a finished run of the recipe (another seed) beside the current one: where it ended, the
first walk test at each new best, and its random starts when they were measured.  ``--published-walk-test``
runs MyoAssist's published policy through the same walk test (its starts do not depend on the run).  ``--gait``
replays the exported policy and MyoAssist's published one for 10 s each on MyoAssist's physics and records their
gait metrics (speed, cadence, stride, stance, symmetry).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import (
    FIXTURES,
    RESULTS,
    ROOT,
    evaluate_by_command_line,
    export_policy,
    gait_by_command_line,
    header,
    machine,
    write_json,
)
from mjx_myoassist.analysis import learning_curve
from mjx_myoassist.evaluator import walk_summary

PUBLISHED_SESSION = "myoassist/docs/assets/tutorial_rl_models/train_session_20250728-161129_tutorial_partial_obs"
PUBLISHED_IN_CHECKOUT = PUBLISHED_SESSION.split("/", 1)[1]  # the same folder from the MyoAssist checkout root
PUBLISHED_REFERENCE = "recorded/surrogate_short_reference_gait.npz"  # the published policy's (the fixtures' copy)
SAME_REFERENCE_LOG = "recorded/myoassist_training_policy_gait_reference.json"
POLICY_DIR = RESULTS / "walk_from_scratch_policy"
MODEL_PATH = "models/22muscle_2D/myoLeg22_2D_TUTORIAL.xml"  # as MyoAssist's preset writes it
REFERENCE = "mjx_myoassist/data/policy_gait_60s_mtp_reference.npz"
MIN_DISTANCE_M = 10.0  # the bar: 5 of 5 episodes of 10 s, each at least 10 m
PROGRESS_KEYS = (
    "env_steps",
    "wall_s",
    "compile_s_total",
    "env_steps_per_s_mean",
    "first_walk_5_of_5_lasting",
    "walked",
    "env_steps_to_walk",
    "wall_s_to_walk",
    "wall_s_with_compile_to_walk",
    "walk_tests",
)  # run_progress's
MYOASSIST_PUBLISHED = {"env_steps": 20_000_000, "wall_h": 3.6, "processes": 32}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--session", type=Path, required=True, help="the training session folder of the run")
    parser.add_argument("--commit", required=True, help="the commit the run started from")
    parser.add_argument("--fixtures", type=Path, default=FIXTURES, help="MyoAssist fixtures folder")
    parser.add_argument("--out", type=Path, default=RESULTS / "walk_from_scratch")
    parser.add_argument("--export", action="store_true", help="copy the walking policy into the repository")
    parser.add_argument("--check", action="store_true", help="evaluate the exported policy (1200 Hz, both contacts)")
    parser.add_argument("--random-starts", type=int, default=0, metavar="N",
                        help="walk the run's policy and the published policy from N random starts")  # fmt: skip
    parser.add_argument("--gait", action="store_true",
                        help="gait of the exported and the published policy on MyoAssist's physics")  # fmt: skip
    parser.add_argument("--published-walk-test", action="store_true",
                        help="run MyoAssist's published policy through this run's walk test")  # fmt: skip
    parser.add_argument("--earlier-run", nargs=2, action="append", default=[], metavar=("SESSION", "COMMIT"),
                        help="an earlier run of the recipe, reported beside this one (repeatable)")  # fmt: skip
    return parser.parse_args()


def read_list(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text()) if path.is_file() else []


def walk_tests(evaluations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every walk test of the run, without the per-episode rows of all but the last."""
    rows = [{"step": e["step"], "wall_s": e.get("wall_s"), **e["walk"]} for e in evaluations if "walk" in e]
    for row in rows[:-1]:
        row.pop("rows", None)
    return rows


def passes(walk: dict[str, Any]) -> bool:
    """Every episode lasted the test's length and walked at least MIN_DISTANCE_M."""
    return bool(walk["all_walked"]) and walk.get("distance_min", 0.0) >= MIN_DISTANCE_M


def compile_at(log: list[dict[str, Any]], step: int) -> float:
    """Compile time the session had spent up to ``step`` (all its runs)."""
    return next(e["compile_s_total"] for e in log if e["step"] >= step)


def published_curve(fixtures: Path) -> learning_curve.Curve:
    return learning_curve.read_myoassist_log(fixtures / PUBLISHED_SESSION, "MyoAssist published run")


def earlier_label(commit: str) -> str:
    return f"many-envs preset, earlier run from {commit}"


def curves(
    session: Path,
    commit: str,
    fixtures: Path,
    published: learning_curve.Curve,
    earlier: dict[str, learning_curve.Curve],
) -> dict[str, Any]:
    """Our run's curve and the ``earlier`` runs' (keyed ``earlier_<commit>``) at MyoAssist's logging points, beside
    MyoAssist's ``published`` run (up to our longest run) and its own trainer on the policy-gait reference."""
    same_ref = learning_curve.read_myoassist_log(fixtures / SAME_REFERENCE_LOG, "MyoAssist's trainer, policy gait")
    ours = {
        "ours": learning_curve.read_session_log(
            session, at_steps=published.steps, label=f"many-envs preset, this run from {commit}"
        ),
        **earlier,
    }
    longest = max(max(c.steps.max(initial=0) for c in ours.values()), 1)
    return {**ours, "published": published.up_to(longest), "same_reference": same_ref}


def portable_config(config: dict[str, Any]) -> dict[str, Any]:
    """The run's config with paths that hold in any checkout: MyoAssist's model path as MyoAssist writes it
    (resolved from the MyoAssist root the command runs in), the packaged reference relative to the policy
    folder."""
    config = json.loads(json.dumps(config))
    env = config["env_params"]
    env["model_path"] = MODEL_PATH
    env["myoassist_root"] = ""
    env["reference_data_path"] = os.path.relpath(ROOT / REFERENCE, POLICY_DIR)
    return config


def check_policy(fixtures: Path) -> dict[str, Any]:
    """The exported policy evaluated by the command line from a MyoAssist checkout root (its model_path resolves
    there): cpu backend at MyoAssist's 1200 Hz, 5 episodes of 10 s, MJX-ready and MyoAssist's original contacts."""
    base = ["--backend", "cpu", "--episodes", "5", "--seconds", "10",
            "--config.env_params.physics_sim_framerate", "1200"]  # fmt: skip
    cases = {"cpu_1200hz_mjx_ready_contacts": [],
             "cpu_1200hz_myoassist_contacts": ["--config.env_params.mjx_ready_edits", "false"]}  # fmt: skip
    out = {}
    for name, extra in cases.items():
        rows = evaluate_by_command_line([str(POLICY_DIR), *base, *extra], fixtures / "myoassist")
        shown = ["python", "-m", "mjx_myoassist.evaluate", str(POLICY_DIR.relative_to(ROOT)), *base, *extra]
        out[name] = {"command": shown, "cwd": "<MyoAssist checkout>", "episodes": rows,
                     "walked": passes(walk_summary(rows, 10.0))}  # fmt: skip
    return out


def gait(fixtures: Path) -> dict[str, Any]:
    """The exported policy and MyoAssist's published policy (its surrogate reference), one 10 s episode each
    replayed by ``mjx-render`` on MyoAssist's own physics (CPU MuJoCo, 1200 Hz, its original contacts) from a
    MyoAssist checkout root: the gait metrics of each."""
    base = ["--steps", "300", "--config.env_params.physics_sim_framerate", "1200",
            "--config.env_params.mjx_ready_edits", "false"]  # fmt: skip
    out: dict[str, Any] = {"command": ["mjx-render", "<policy>", *base, "--no-video"], "cwd": "<MyoAssist checkout>"}
    for name, args in {"ours": [str(POLICY_DIR)], "myoassist_published": published_on_its_reference(fixtures)}.items():
        metrics = gait_by_command_line([*args, *base], fixtures / "myoassist")
        out[name] = {"return": metrics["return"], "terminated": metrics["terminated"], **metrics["gait"]}
    return out


def published_on_its_reference(fixtures: Path) -> list[str]:
    """The command-line arguments for MyoAssist's published policy on its own (surrogate) reference."""
    return [PUBLISHED_IN_CHECKOUT, "--config.env_params.reference_data_path", str(fixtures / PUBLISHED_REFERENCE)]


def run_reference(settings: dict[str, Any]) -> list[str]:
    """Overrides that give another policy the run's reference and the joints its resets set from it."""
    args = ["--config.env_params.reference_data_path", str(ROOT / settings["reference_data_path"])]
    keys = settings.get("reference_data_keys")
    return [*args, "--config.env_params.reference_data_keys", json.dumps(keys)] if keys else args


def our_checkpoint(session: Path, walked_at: int | None) -> tuple[Path, str]:
    """The run's checkpoint that walks first (the exported policy) once it walked, else its last; and which."""
    if walked_at is not None:
        return session / "trained_models" / str(walked_at), "first to walk"
    last = max((p for p in (session / "trained_models").iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    return last, "last"


def random_starts(session: Path, fixtures: Path, episodes: int, settings: dict[str, Any],
                  walked_at: int | None) -> dict[str, Any]:  # fmt: skip
    """How robust the walk is beyond the walk test's 5 starts: the run's policy (:func:`our_checkpoint`) and
    MyoAssist's published policy (its surrogate reference, and the run's), ``episodes`` deterministic episodes of
    10 s from random reference starts (the walk test's seed), cpu backend, each evaluated by the command line in a
    fresh process."""
    seed = settings["walk_test_seed"]
    ours, which = our_checkpoint(session, walked_at)
    base = ["--backend", "cpu", "--episodes", str(episodes), "--seconds", "10", "--seed", str(seed)]
    published = PUBLISHED_IN_CHECKOUT
    cases = {
        "ours": ([str(ours)], f"{session.name}/trained_models/{ours.name} ({which})"),
        "myoassist_published": (published_on_its_reference(fixtures),
                                f"<MyoAssist checkout>/{published} (surrogate reference)"),
        "myoassist_published_same_reference": ([published, *run_reference(settings)],
                                               f"<MyoAssist checkout>/{published} (this run's reference)"),
    }  # fmt: skip
    out: dict[str, Any] = {"episodes": episodes, "seed": seed, "seconds": 10.0}
    for name, (args, shown) in cases.items():
        rows = evaluate_by_command_line([*args, *base], fixtures / "myoassist")
        failed = [{"episode": r["episode"], "steps": r["steps"], "end": r["end"]} for r in rows
                  if r["seconds"] < 10.0 - 1e-6 or r["distance"] < MIN_DISTANCE_M]  # fmt: skip
        out[name] = {"policy": shown, "walked": len(rows) - len(failed), "failed": failed}
    return out


def published_walk_test(fixtures: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """MyoAssist's published policy through this run's walk test (the run's reference and reset joints, the walk
    test's seed, 5 x 10 s, cpu backend) at the run's physics rate and at MyoAssist's 1200 Hz: what MyoAssist's own
    20M-step policy scores on the same starts."""
    published, seed = PUBLISHED_IN_CHECKOUT, settings["walk_test_seed"]
    base = [published, "--backend", "cpu", "--episodes", "5", "--seconds", "10", "--seed", str(seed),
            *run_reference(settings)]  # fmt: skip
    out: dict[str, Any] = {"policy": f"<MyoAssist checkout>/{published}", "seed": seed,
                           "reference_data_path": settings["reference_data_path"],
                           "reference_data_keys": settings.get("reference_data_keys")}  # fmt: skip
    for hz in sorted({settings["physics_sim_framerate"], 1200}):
        rows = evaluate_by_command_line([*base, "--config.env_params.physics_sim_framerate", str(hz)],
                                        fixtures / "myoassist")  # fmt: skip
        out[f"{hz}hz"] = {"walked": passes(walk_summary(rows, 10.0)), "episodes": rows}
    return out


def same_walk_test(measured: dict[str, Any], settings: dict[str, Any]) -> bool:
    """Whether a published-policy walk test was measured on this run's starts: its seed, reference and reset joints."""
    return all(measured.get(k) == settings.get(k) for k in ("reference_data_path", "reference_data_keys")) and (
        measured["seed"] == settings["walk_test_seed"]
    )


def throughput_vs_myoassist() -> dict[str, Any] | None:
    """Our trainer on the recipe vs MyoAssist's own setup of the task, one run on one machine
    (``python -m benchmarks.train_vs_sb3 --task walk``), when it has been measured."""
    path = RESULTS / "train_vs_sb3_walk.json"
    if not path.is_file():
        return None
    d = json.loads(path.read_text())
    walk = d["results"]["walk"]
    return {"source": "benchmarks/results/train_vs_sb3_walk.json", "date": d.get("date"), "commit": d.get("commit"),
            "cpu_model": d.get("machine", {}).get("cpu_model"), "cpu_count": d.get("machine", {}).get("cpu_count"),
            "ours_env_steps_per_s": walk["ours"]["steps_per_s"], "myoassist_setup_env_steps_per_s":
            walk["sb3"]["steps_per_s"], "ratio_mean_steps_per_s": walk["ratio_mean_steps_per_s"]}  # fmt: skip


def run_settings(config: dict[str, Any], commit: str, session: Path) -> dict[str, Any]:
    ppo, env, logger = config["ppo_params"], config["env_params"], config["logger_params"]
    return {
        "preset": "imitation_tutorial_22_partial_obs_many_envs",
        "run_started_from_commit": commit,
        "session": str(session),
        "num_envs": env["num_envs"], "n_steps": ppo["n_steps"], "batch_size": ppo["batch_size"],
        "n_epochs": ppo["n_epochs"], "learning_rate": ppo["learning_rate"],
        "physics_sim_framerate": env["physics_sim_framerate"], "physics_backend": env["physics_backend"],
        "out_of_trajectory_threshold": env["out_of_trajectory_threshold"],
        "fresh_start_fraction": env.get("fresh_start_fraction", 0.0),
        "reference_data_path": packaged_path(env.get("reference_data_path", "")),
        "reference_data_keys": env.get("reference_data_keys"),
        "env_seed": env["seed"], "walk_test_seed": logger.get("walk_test_seed") or env["seed"],
        "walk_test": {k: logger[k] for k in ("walk_test_episodes", "walk_test_seconds")},
    }  # fmt: skip


def packaged_path(path: str) -> str:
    """A packaged file's path from the repository root, wherever the run's copy of the code was; others as given."""
    parts = Path(path).parts
    return str(Path(*parts[parts.index("mjx_myoassist") :])) if "mjx_myoassist" in parts else path


def run_progress(session: Path) -> dict[str, Any]:
    """Where a run stands: env steps, wall and compile time, its walk tests and the first that passes."""
    log = read_list(session / "train_log.json")
    tests = walk_tests(read_list(session / "evaluations.json"))
    passed = next((t for t in tests if passes(t)), None)
    first_walk = session / "first_walk.json"
    return {
        "env_steps": log[-1]["step"] if log else 0,
        "wall_s": log[-1].get("wall_s") if log else None,
        "compile_s_total": log[-1].get("compile_s_total") if log else None,
        "env_steps_per_s_mean": sum(e["sps"] for e in log) / len(log) if log else None,
        "first_walk_5_of_5_lasting": json.loads(first_walk.read_text()) if first_walk.is_file() else None,
        "walked": passed is not None,
        "env_steps_to_walk": passed["step"] if passed else None,
        "wall_s_to_walk": passed["wall_s"] if passed else None,
        "wall_s_with_compile_to_walk": passed["wall_s"] + compile_at(log, passed["step"]) if passed else None,
        "walk_tests": tests,
    }


def first_at_each_fraction(tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first walk test at each new best fraction of episodes lasting: how far a run got, and when."""
    out: list[dict[str, Any]] = []
    for t in tests:
        if not out or t["fraction"] > out[-1]["fraction"]:
            out.append({"step": t["step"], "wall_s": t.get("wall_s"), "fraction": t["fraction"]})
    return out


def ended_run(settings: dict[str, Any], progress: dict[str, Any], random_starts: Any) -> dict[str, Any]:
    """An earlier run's record: its settings, where it ended, its last and best walk tests, its random starts."""
    tests = progress.pop("walk_tests")
    return {"settings": settings, **progress, "last_walk_test": tests[-1] if tests else None,
            "best_walk_tests": first_at_each_fraction(tests), "random_starts": random_starts}  # fmt: skip


def earlier_run(session: Path, commit: str, previous: dict[str, Any]) -> dict[str, Any]:
    """A finished earlier run of the recipe read from its session folder, with its random starts measured while
    it was the current run."""
    config = json.loads((session / "session_config.json").read_text())
    known = [previous, *previous.get("earlier_runs", [])]
    measured = next((r.get("random_starts") for r in known if r.get("settings", {}).get("session") == str(session)),
                    None)  # fmt: skip
    run = ended_run(run_settings(config, commit, session), run_progress(session), measured)
    return {**run, "machine": machine(), "session_folder_kept": True}


def archived_run(session: Path, commit: str, previous: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """An earlier run whose session folder is gone (its machine was replaced): its record and curve as the results
    file held them, with the machine that measured them and, for runs recorded before the settings named it, the
    reference that file reported."""
    key = str(session)
    if previous.get("settings", {}).get("session") == key:  # it was the current run
        progress = {k: previous[k] for k in PROGRESS_KEYS}
        run = ended_run(previous["settings"], progress, previous.get("random_starts"))
        curve = previous["curves"]["ours"]
    else:
        run = next((r for r in previous.get("earlier_runs", []) if r["settings"]["session"] == key), None)
        curve = previous.get("curves", {}).get(f"earlier_{commit}")
        if run is None or curve is None:
            raise SystemExit(f"--earlier-run {session}: the folder is gone and {RESULTS.name}/walk_from_scratch.json "
                             "has no record of it; give a session folder that exists or drop the option.")  # fmt: skip
    settings = {"reference_data_path": previous.get("reference_data_path"), **run["settings"]}
    run = {**run, "settings": settings, "machine": run.get("machine", previous.get("machine")),
           "session_folder_kept": False}  # fmt: skip
    return run, {**curve, "label": earlier_label(commit)}


def earlier_record(
    session: Path, commit: str, previous: dict[str, Any], at_steps: np.ndarray
) -> tuple[dict[str, Any], learning_curve.Curve]:
    """An earlier run and its curve: from its session folder when it is here, else from the results file."""
    if session.is_dir():
        curve = learning_curve.read_session_log(session, at_steps, earlier_label(commit))
        return earlier_run(session, commit, previous), curve
    run, curve = archived_run(session, commit, previous)
    return run, learning_curve.Curve.from_json(curve)


def main() -> None:
    args = parse_args()
    session = args.session.expanduser()
    config = json.loads((session / "session_config.json").read_text())
    out = args.out.with_suffix(".json")
    previous = json.loads(out.read_text()) if out.is_file() else {}
    progress = run_progress(session)
    published = published_curve(args.fixtures)
    earlier = [earlier_record(Path(s).expanduser(), c, previous, published.steps) for s, c in args.earlier_run]
    by_commit = {f"earlier_{run['settings']['run_started_from_commit']}": c for run, c in earlier}
    curve = curves(session, args.commit, args.fixtures, published, by_commit)
    result = {
        **header(run_settings(config, args.commit, session)),
        "reference_data_path": REFERENCE,
        **progress,
        "myoassist_published": MYOASSIST_PUBLISHED,
        "throughput_vs_myoassist_setup": throughput_vs_myoassist(),
        "curves": {name: c.to_json() for name, c in curve.items()},
        "policy_path": None,
        "earlier_runs": [run for run, _ in earlier],
    }
    if progress["walked"] and args.export:
        checkpoint = session / "trained_models" / str(progress["env_steps_to_walk"])
        result["policy_path"] = str(export_policy(checkpoint, POLICY_DIR, portable_config).relative_to(ROOT))
    settings = result["settings"]
    # what an earlier call measured for this run stays unless measured again
    kept = previous if previous.get("settings", {}).get("session") == str(session) else {}
    exported = POLICY_DIR.is_dir()
    if args.check and exported:
        result["policy_path"] = str(POLICY_DIR.relative_to(ROOT))
        result["command_line_checks"] = check_policy(args.fixtures)
    elif kept.get("command_line_checks"):
        result["policy_path"], result["command_line_checks"] = kept["policy_path"], kept["command_line_checks"]
    result["random_starts"] = (random_starts(session, args.fixtures, args.random_starts, settings,
                                             progress["env_steps_to_walk"])
                               if args.random_starts else kept.get("random_starts"))  # fmt: skip
    result["gait"] = gait(args.fixtures) if args.gait and exported else kept.get("gait")
    if args.published_walk_test:
        result["myoassist_published_walk_test"] = published_walk_test(args.fixtures, settings)
    elif (measured := previous.get("myoassist_published_walk_test")) and same_walk_test(measured, settings):
        result["myoassist_published_walk_test"] = measured
    walked = {f"this run walks the walk test ({progress['env_steps_to_walk']:,} env steps)":
              progress["env_steps_to_walk"]} if progress["walked"] else None  # fmt: skip
    learning_curve.plot(list(curve.values()), args.out.with_suffix(".png"), events=walked)
    write_json(out, result)


if __name__ == "__main__":
    main()
