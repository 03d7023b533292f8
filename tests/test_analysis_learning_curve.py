"""Learning curves beside MyoAssist's train_log.json: reading, regrouping into MyoAssist's windows, ±20% check."""

import json

import numpy as np
import pytest

from mjx_myoassist.analysis import learning_curve
from tests.conftest import fixture_path

ROLLOUT = 16384


def our_entry(update, count, length, ret):
    return {"step": update * ROLLOUT, "update": update, "episode/count": count, "episode/length": length,
            "episode/return": ret, "episode/terminated": count, "episode/truncated": 0.0, "reward/x": 1.0}  # fmt: skip


@pytest.fixture
def session(tmp_path):
    # per-update log of 17 updates: update u ends u episodes of length u, return 0.1 u each
    entries = [our_entry(u, float(u), float(u), 0.1 * u) for u in range(1, 18)]
    (tmp_path / "train_log.json").write_text(json.dumps(entries))
    return tmp_path


def test_regrouping_counts_the_episodes_of_myoassist_windows(session):
    # MyoAssist logs after rollouts 1, 9 and 17: windows {1}, {2..9}, {10..17}
    steps = np.array([1, 9, 17]) * ROLLOUT
    curve = learning_curve.read_session_log(session, at_steps=steps)
    np.testing.assert_array_equal(curve.steps, steps)
    expected = [1.0] + [sum(u * u for u in r) / sum(r) for r in (range(2, 10), range(10, 18))]
    np.testing.assert_allclose(curve.episode_length, expected)
    np.testing.assert_allclose(curve.reward_per_episode, 0.1 * np.array(expected))


def test_windows_the_session_did_not_log_are_left_out(session):
    curve = learning_curve.read_session_log(session, at_steps=np.array([1, 9, 25]) * ROLLOUT)
    np.testing.assert_array_equal(curve.steps, np.array([1, 9]) * ROLLOUT)


def test_compare_flags_each_metric_outside_the_tolerance():
    ref = learning_curve.Curve("ref", np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]), np.array([1.0, 1.0, 1.0]))
    ours = learning_curve.Curve("ours", np.array([1.0, 3.0]), np.array([1.1, 5.0]), np.array([0.85, 1.0]))
    rows = learning_curve.compare(ours, ref, 0.2)
    assert [r["step"] for r in rows] == [1, 3]
    assert rows[0]["episode_length"]["within_tolerance"] and rows[0]["reward_per_episode"]["within_tolerance"]
    assert rows[1]["episode_length"]["relative_difference"] == pytest.approx(0.25)
    assert not rows[1]["episode_length"]["within_tolerance"]
    assert not learning_curve.all_within(rows) and not learning_curve.all_within([])


def test_reads_myoassist_logs_and_plots(tmp_path):
    recorded = fixture_path("recorded/myoassist_training_policy_gait_reference.json")
    curve = learning_curve.read_myoassist_log(recorded)
    np.testing.assert_array_equal(curve.steps, [16384, 147456, 278528, 409600, 540672])
    assert curve.episode_length[0] == pytest.approx(1.1856, abs=1e-4)
    assert curve.reward_per_episode[-1] == pytest.approx(0.941, abs=1e-3)
    png = learning_curve.plot([curve], tmp_path / "curve.png", tolerance_band=curve)
    assert png.stat().st_size > 10_000


def test_events_are_vertical_lines_in_both_panels_each_in_its_own_style():
    curve = learning_curve.Curve("run", np.array([1.0, 2.0]), np.array([1.0, 3.0]), np.array([0.5, 2.0]))
    events = {"walks": 1.5, "second": 1.8, "third": 1.9, "fourth": 2.0}
    fig = learning_curve.figure([curve], events=events)
    for ax in fig.axes:
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert [lines[k].get_xdata()[0] for k in events] == list(events.values())
        assert [lines[k].get_linestyle() for k in events] == ["--", ":", "-.", "--"]


def test_not_a_myoassist_log_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="pass a session folder"):
        learning_curve.read_myoassist_log(tmp_path)
    (tmp_path / "train_log.json").write_text("[]")
    with pytest.raises(ValueError, match="not a MyoAssist training log"):
        learning_curve.read_myoassist_log(tmp_path)
