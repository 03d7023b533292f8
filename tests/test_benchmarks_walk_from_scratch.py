"""The from-scratch run's reader (benchmarks/walk_from_scratch.py): progress, passing walk test, earlier runs; and
the walking policy it exported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import walk_from_scratch as wfs
from tests.conftest import fixture_path

CONFIG = {
    "ppo_params": {"n_steps": 16, "batch_size": 8192, "n_epochs": 30, "learning_rate": 1e-4},
    "env_params": {"num_envs": 1024, "physics_sim_framerate": 600, "physics_backend": "cpu",
                   "out_of_trajectory_threshold": 0.2, "seed": 1235,
                   "reference_data_path": "/root/runs/code_abc1234/mjx_myoassist/data/ref.npz",
                   "reference_data_keys": ["knee_angle_r", "mtp_angle_r"]},
    "logger_params": {"walk_test_episodes": 5, "walk_test_seconds": 10.0, "walk_test_seed": 1234},
}  # fmt: skip


def walk(fraction: float, distance_min: float) -> dict:
    return {"episodes": 5, "seconds": 10.0, "fraction": fraction, "all_walked": fraction == 1.0,
            "distance_mean": distance_min + 1.0, "distance_min": distance_min, "speed_mean": 1.25}  # fmt: skip


def session(tmp_path: Path, tests: list[tuple[int, float, float]]) -> Path:
    """A session folder with a log every 100 steps (compile 10 s, then 2 s more at step 300) and walk tests."""
    path = tmp_path / "train_session_x"
    path.mkdir()
    (path / "session_config.json").write_text(json.dumps(CONFIG))
    log = [{"step": s, "sps": 50.0, "wall_s": s / 50, "compile_s_total": 10.0 if s < 300 else 12.0}
           for s in range(100, 600, 100)]  # fmt: skip
    (path / "train_log.json").write_text(json.dumps(log))
    evals = [{"step": s, "wall_s": s / 50, "walk": walk(f, d)} for s, f, d in tests]
    (path / "evaluations.json").write_text(json.dumps(evals))
    return path


def test_progress_finds_the_first_test_that_walks_10_m_in_every_episode(tmp_path):
    path = session(tmp_path, [(100, 0.4, 1.0), (200, 1.0, 9.5), (300, 1.0, 10.2), (400, 1.0, 11.0)])
    progress = wfs.run_progress(path)
    assert progress["walked"] and progress["env_steps_to_walk"] == 300
    assert progress["wall_s_to_walk"] == 6.0 and progress["wall_s_with_compile_to_walk"] == 18.0
    assert progress["env_steps"] == 500 and len(progress["walk_tests"]) == 4


def test_progress_of_a_run_that_has_not_walked(tmp_path):
    progress = wfs.run_progress(session(tmp_path, [(100, 0.8, 1.3), (200, 0.6, 1.2)]))
    assert not progress["walked"] and progress["env_steps_to_walk"] is None and progress["wall_s_to_walk"] is None


def test_random_starts_use_the_checkpoint_that_walked_first_once_one_did(tmp_path):
    path = session(tmp_path, [])
    for step in (100, 200, 300):
        (path / "trained_models" / str(step)).mkdir(parents=True)
    assert wfs.our_checkpoint(path, 200) == (path / "trained_models" / "200", "first to walk")
    assert wfs.our_checkpoint(path, None) == (path / "trained_models" / "300", "last")


def test_first_at_each_fraction_keeps_each_new_best():
    tests = [{"step": s, "wall_s": None, "fraction": f} for s, f in [(1, 0.0), (2, 0.4), (3, 0.0), (4, 0.4), (5, 0.8),
                                                                    (6, 0.6), (7, 0.8)]]  # fmt: skip
    assert [(b["step"], b["fraction"]) for b in wfs.first_at_each_fraction(tests)] == [(1, 0.0), (2, 0.4), (5, 0.8)]


def test_earlier_run_keeps_its_settings_seeds_and_measured_random_starts(tmp_path):
    path = session(tmp_path, [(100, 0.4, 1.0), (200, 0.8, 1.3)])
    measured = {"episodes": 40, "ours_last_checkpoint": {"walked": 36}}
    previous = {"settings": {"session": str(path)}, "random_starts": measured}
    run = wfs.earlier_run(path, "abc1234", previous)
    assert run["settings"]["run_started_from_commit"] == "abc1234"
    assert (run["settings"]["env_seed"], run["settings"]["walk_test_seed"]) == (1235, 1234)
    assert run["random_starts"] == measured and run["last_walk_test"]["fraction"] == 0.8
    assert wfs.earlier_run(path, "abc1234", {"earlier_runs": [previous]})["random_starts"] == measured
    assert wfs.earlier_run(path, "abc1234", {})["random_starts"] is None


def test_settings_report_fresh_starts_with_myoassists_zero_for_older_runs(tmp_path):
    path = session(tmp_path, [(100, 0.4, 1.0)])
    assert wfs.run_settings(CONFIG, "abc1234", path)["fresh_start_fraction"] == 0.0
    fresh = {**CONFIG, "env_params": {**CONFIG["env_params"], "fresh_start_fraction": 0.5}}
    assert wfs.run_settings(fresh, "abc1234", path)["fresh_start_fraction"] == 0.5


def test_settings_name_the_packaged_reference_wherever_the_runs_code_was(tmp_path):
    settings = wfs.run_settings(CONFIG, "abc1234", session(tmp_path, []))
    assert settings["reference_data_path"] == "mjx_myoassist/data/ref.npz"
    assert settings["reference_data_keys"] == ["knee_angle_r", "mtp_angle_r"]


def test_earlier_run_whose_folder_is_gone_comes_from_the_results_file(tmp_path):
    """The current run of an earlier results file, and its earlier runs, as recorded, with the machine and (for
    records older than the settings' reference) the reference that file reported."""
    path = session(tmp_path, [(100, 0.4, 1.0), (200, 0.8, 1.3)])
    settings = wfs.run_settings(CONFIG, "abc1234", path)
    del settings["reference_data_path"]
    recorded = {"settings": settings, **wfs.run_progress(path), "random_starts": None,
                "machine": {"cpu_model": "Intel"}, "reference_data_path": "mjx_myoassist/data/old.npz",
                "curves": {"ours": {"label": "x", "steps": [100.0], "episode_length": [1.5],
                                    "reward_per_episode": [0.5]}}}  # fmt: skip
    gone = tmp_path / "gone"
    recorded["settings"]["session"] = str(gone)
    run, curve = wfs.earlier_record(gone, "abc1234", recorded, at_steps=None)
    assert not run["session_folder_kept"] and run["machine"] == {"cpu_model": "Intel"}
    assert run["settings"]["reference_data_path"] == "mjx_myoassist/data/old.npz"
    assert run["env_steps"] == 500 and run["last_walk_test"]["fraction"] == 0.8
    assert [b["fraction"] for b in run["best_walk_tests"]] == [0.4, 0.8]
    assert curve.episode_length.tolist() == [1.5] and "abc1234" in curve.label
    # a later file holds it among its earlier runs, under its commit's curve
    later = {"settings": {"session": "other"}, "earlier_runs": [run], "machine": {"cpu_model": "AMD"},
             "curves": {"earlier_abc1234": curve.to_json()}}  # fmt: skip
    again, _ = wfs.earlier_record(gone, "abc1234", later, at_steps=None)
    assert again["machine"] == {"cpu_model": "Intel"} and again["env_steps"] == 500
    with pytest.raises(SystemExit, match="no record of it"):
        wfs.earlier_record(tmp_path / "never", "abc1234", later, at_steps=None)


def test_published_walk_test_runs_myoassists_policy_on_the_runs_starts_and_reference(monkeypatch):
    calls = []

    def evaluate(args, cwd):
        calls.append(args)
        fell = {"episode": 4, "steps": 27, "seconds": 0.9, "end": "fell", "distance": 1.28, "mean_speed": 1.43}
        lasted = [{"episode": i, "steps": 300, "seconds": 10.0, "end": "time_limit", "distance": 11.6,
                   "mean_speed": 1.16} for i in range(4)]  # fmt: skip
        return [*lasted, fell]

    monkeypatch.setattr(wfs, "evaluate_by_command_line", evaluate)
    settings = {"walk_test_seed": 1234, "physics_sim_framerate": 600, "reference_data_path": wfs.REFERENCE,
                "reference_data_keys": ["knee_angle_r", "mtp_angle_r"]}  # fmt: skip
    out = wfs.published_walk_test(Path("fixtures"), settings)
    assert sorted(k for k in out if k.endswith("hz")) == ["1200hz", "600hz"] and not out["600hz"]["walked"]
    for args in calls:
        assert args[0] == wfs.PUBLISHED_SESSION.split("/", 1)[1]
        assert args[args.index("--seed") + 1] == "1234"
        assert args[args.index("--config.env_params.reference_data_path") + 1] == str(wfs.ROOT / wfs.REFERENCE)
        assert json.loads(args[args.index("--config.env_params.reference_data_keys") + 1])[-1] == "mtp_angle_r"
    assert {a[a.index("--config.env_params.physics_sim_framerate") + 1] for a in calls} == {"600", "1200"}
    assert wfs.same_walk_test(out, settings) and not wfs.same_walk_test(out, {**settings, "reference_data_keys": None})


def test_gait_replays_both_policies_on_myoassists_physics_from_the_checkout(monkeypatch):
    calls = []

    def render(args, cwd):
        calls.append((args, cwd))
        return {"return": 110.0, "terminated": False, "gait": {"speed": 1.25, "cadence_steps_per_min": 110.0}}

    monkeypatch.setattr(wfs, "gait_by_command_line", render)
    out = wfs.gait(Path("fixtures"))
    assert out["ours"] == {"return": 110.0, "terminated": False, "speed": 1.25, "cadence_steps_per_min": 110.0}
    (ours, cwd), (published, _) = calls
    assert ours[0] == str(wfs.POLICY_DIR) and cwd == Path("fixtures/myoassist")
    assert published[0] == wfs.PUBLISHED_SESSION.split("/", 1)[1]
    assert published[published.index("--config.env_params.reference_data_path") + 1] == "fixtures/" + \
        wfs.PUBLISHED_REFERENCE  # fmt: skip
    for args, _ in calls:
        assert args[args.index("--config.env_params.physics_sim_framerate") + 1] == "1200"
        assert args[args.index("--config.env_params.mjx_ready_edits") + 1] == "false"


def test_a_rerun_without_check_keeps_the_checked_policy_of_the_same_run(tmp_path, monkeypatch):
    fixtures = fixture_path("recorded/myoassist_training_policy_gait_reference.json").parents[1]
    path = session(tmp_path, [(100, 1.0, 10.5)])
    log = [{"step": s, "sps": 50.0, "wall_s": s / 50, "compile_s_total": 10.0, "episode/length": 2.0,
            "episode/return": 1.0} for s in (100, 200)]  # fmt: skip
    (path / "train_log.json").write_text(json.dumps(log))
    checks = {"cpu_1200hz_mjx_ready_contacts": {"walked": True}}
    out = tmp_path / "wfs.json"
    out.write_text(json.dumps({"settings": {"session": str(path)}, "policy_path": "benchmarks/results/p",
                               "command_line_checks": checks}))  # fmt: skip
    args = ["--session", str(path), "--commit", "abc1234", "--fixtures", str(fixtures), "--out", str(out)]
    monkeypatch.setattr("sys.argv", ["walk_from_scratch", *args])
    wfs.main()
    result = json.loads(out.read_text())
    assert result["walked"] and result["env_steps_to_walk"] == 100
    assert result["policy_path"] == "benchmarks/results/p" and result["command_line_checks"] == checks
    assert (tmp_path / "wfs.png").stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.parametrize(("hz", "mjx_ready", "seed"), [(600, True, 1234), (1200, False, 0)],
                         ids=["its_walk_test", "myoassist_rate_and_contacts"])  # fmt: skip
def test_the_committed_policy_walks_from_a_myoassist_checkout(hz, mjx_ready, seed):
    """The exported policy on the cpu backend: the walk test it passed in training (600 Hz, its starts) and the
    command-line check at MyoAssist's 1200 Hz with MyoAssist's original contacts: 10 s and 10 m in every episode."""
    from mjx_myoassist.evaluate import evaluate_policy

    root = fixture_path("myoassist/models/22muscle_2D/myoLeg22_2D_TUTORIAL.xml").parents[2]
    overrides = ["--config.env_params.myoassist_root", str(root),
                 "--config.env_params.physics_sim_framerate", str(hz),
                 "--config.env_params.mjx_ready_edits", str(mjx_ready).lower()]  # fmt: skip
    rows = evaluate_policy(wfs.POLICY_DIR, overrides=overrides, episodes=5, seconds=10.0, backend="cpu", seed=seed)
    assert [r["end"] for r in rows] == ["time_limit"] * 5, rows
    assert min(r["distance"] for r in rows) >= wfs.MIN_DISTANCE_M, rows
