"""MyoAssist's evaluator over evaluate_param_list (entries.py): entry semantics, tracking error, series."""

import json

import numpy as np
import pytest

from mjx_myoassist.config import ConfigError, EvaluateParams, load_config
from mjx_myoassist.entries import DEFAULT_FILTER, evaluate_entries, speed_filter, tracking_error
from mjx_myoassist.evaluate import main
from tests.conftest import CONFIGS, fixture_path

DT = 1 / 30
ENTRIES = [
    {"num_timesteps": 9, "velocity_mode": "SINUSOIDAL", "min_target_velocity": 1.0, "max_target_velocity": 1.5,
     "target_velocity_period": 0.5, "num_envs": 1},
    {"num_timesteps": 6, "velocity_mode": "STEP", "min_target_velocity": 0.8, "max_target_velocity": 1.6,
     "target_velocity_period": 0.12, "num_envs": 1},
]  # fmt: skip
PELVIS_SPEED_PLOT = {"category": "joint_data", "name": "pelvis_tx", "property_type": "qvel", "y_lim": [0, 2.5],
                     "plot_duration_type": "total",
                     "filter": {"type": "butter", "order": 2, "cutoff": 3, "fs": 30}}  # fmt: skip


def test_tracking_error_is_myoassists_on_its_own_recorded_episodes():
    """MyoAssist's recorded rough episodes: filtfilt(butter(2, 2 Hz, fs 30)) of pelvis speed minus target, RMS over
    the steps ending after 2 s, as its recorder computed them."""
    series = np.load(fixture_path("recorded/series_rough_eval.npz"))
    cases = json.loads(fixture_path("recorded/results_rough_eval.json").read_text())["cases"]
    for episode in cases["rough_policy_rough_terrain_cfgseed"]["episodes"][:3]:
        key = f"rough_policy_rough_terrain_cfgseed/seed{episode['seed']}/"
        got = tracking_error(series[key + "time"], series[key + "pelvis_tx_qvel"], series[key + "target_velocity"],
                             DEFAULT_FILTER)  # fmt: skip
        want = episode["tracking"]
        assert got["rms_filtered"] == pytest.approx(want["tracking_rms_filtered"], rel=1e-9)
        assert got["rms_raw"] == pytest.approx(want["tracking_rms_raw"], rel=1e-9)
        assert got["mean_error_filtered"] == pytest.approx(want["tracking_mean_err_filtered"], rel=1e-9)
        assert got["samples"] == want["tracking_samples"]


def test_tracking_error_by_hand():
    """A constant speed 0.1 m/s above a constant target: every error is 0.1 (a filter passes a constant)."""
    time = DT * np.arange(1, 91)
    got = tracking_error(time, np.full(90, 1.35), np.full(90, 1.25), DEFAULT_FILTER)
    assert got["rms_filtered"] == pytest.approx(0.1) and got["rms_raw"] == pytest.approx(0.1)
    assert got["samples"] == 30  # steps ending after 2 s: 61..90
    assert tracking_error(time[:60], np.ones(60), np.ones(60), DEFAULT_FILTER) is None  # nothing after 2 s


def test_the_filter_comes_from_the_entrys_speed_plot():
    assert speed_filter(EvaluateParams()) == DEFAULT_FILTER
    chosen = speed_filter(EvaluateParams(realtime_plotting_info=[PELVIS_SPEED_PLOT]))
    assert chosen == {"type": "butter", "order": 2, "cutoff": 3, "fs": 30}
    median = speed_filter(EvaluateParams(realtime_plotting_info=[{**PELVIS_SPEED_PLOT, "filter": {"type": "median"}}]))
    with pytest.raises(ConfigError, match="only 'butter'"):
        tracking_error(DT * np.arange(1, 91), np.ones(90), np.ones(90), median)


@pytest.fixture(scope="module")
def entry_session(tmp_path_factory):
    """A session of the tiny leg preset (untrained policy) whose config has two evaluation entries."""
    from mjx_myoassist.session import Session

    config = load_config(CONFIGS / "test.json", ["--config.env_params.physics_backend", "cpu",
                                                 "--config.evaluate_param_list", json.dumps(ENTRIES)])  # fmt: skip
    session = Session.new(config, results_dir=tmp_path_factory.mktemp("entries"))
    session.save_checkpoint()
    return session.dir


@pytest.fixture(scope="module")
def entry_results(entry_session):
    return evaluate_entries(entry_session, episodes=3)


def test_each_entry_runs_its_schedule_from_the_middle_of_its_range_with_phase_0(entry_results):
    results, series = entry_results
    assert [r["velocity_mode"] for r in results] == ["SINUSOIDAL", "STEP"]
    sinusoidal, step = results
    assert [len(r["episodes"]) for r in results] == [3, 3]  # --episodes per entry, not the entry's num_envs
    assert sinusoidal["start_velocity"] == 1.25 and step["start_velocity"] == pytest.approx(1.2)
    for j, row in enumerate(sinusoidal["episodes"]):
        assert 1 <= row["steps"] <= 9  # the entry's num_timesteps
        target = series[f"entry0/episode{j}/target_velocity"]
        before = DT * np.arange(row["steps"])  # the target of a step is set at the time before it
        np.testing.assert_allclose(target, 1.0 + 0.5 * (np.sin(2 * np.pi * before / 0.5) + 1) / 2, atol=1e-5)
        np.testing.assert_allclose(series[f"entry0/episode{j}/time"], DT * np.arange(1, row["steps"] + 1))
        assert len(series[f"entry0/episode{j}/pelvis_speed"]) == row["steps"]
    for j, row in enumerate(step["episodes"]):
        target = series[f"entry1/episode{j}/target_velocity"]
        held = min(row["steps"], 4)  # STEP holds its first target floor(0.12 / dt) + 1 = 4 steps
        np.testing.assert_allclose(target[:held], 1.2, atol=1e-6)
        assert 0.8 <= target.min() and target.max() <= 1.6
    for row in sinusoidal["episodes"] + step["episodes"]:
        assert {"steps", "terminated", "truncated", "end", "distance", "mean_speed", "tracking"} <= set(row)


def test_command_line_writes_the_entries_and_their_series(entry_session, tmp_path, capsys):
    out = tmp_path / "entries.json"
    assert main([str(entry_session), "--entries", "--episodes", "2", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "SINUSOIDAL" in printed and "tracking rms" in printed
    written = json.loads(out.read_text())
    assert written["settings"]["entries"] and [len(e["episodes"]) for e in written["entries"]] == [2, 2]
    series = np.load(out.with_suffix(".npz"))
    keys = {f"entry1/episode1/{k}" for k in ("time", "target_velocity", "pelvis_speed")}
    assert keys <= set(series.files)


def test_entries_need_entries(tmp_path):
    from mjx_myoassist.session import Session

    config = load_config(CONFIGS / "test.json", ["--config.evaluate_param_list", "[]"])
    session = Session.new(config, results_dir=tmp_path)
    session.save_checkpoint()
    with pytest.raises(ConfigError, match="no evaluate_param_list entries: run without --entries"):
        evaluate_entries(session.dir)
