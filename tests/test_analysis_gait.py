import numpy as np
import pytest

from mjx_myoassist.analysis import gait

DT = 1 / 100


def synthetic_gait(stride_time=1.2, speed=1.3, stance=0.6, seconds=8.0, left_shift=0.5):
    """Foot forces of a gait with known timing: each foot loaded for ``stance`` of its stride."""
    t = np.arange(0, seconds, DT)
    phase_r = (t / stride_time) % 1.0
    phase_l = (t / stride_time + left_shift) % 1.0
    right = np.where(phase_r < stance, 700.0, 0.0)
    left = np.where(phase_l < stance, 700.0, 0.0)
    return right, left, speed * t


def test_metrics_of_a_known_gait():
    right, left, x = synthetic_gait()
    m = gait.gait_metrics(right, left, x, DT, threshold=50.0, target_speed=1.3)
    assert m["cadence_steps_per_min"] == pytest.approx(2 * 60 / 1.2, rel=0.02)  # 100 steps/min
    assert m["stride_time"] == pytest.approx(1.2, abs=DT)
    assert m["stride_length"] == pytest.approx(1.2 * 1.3, rel=0.01)
    assert m["stance_percent_right"] == pytest.approx(60.0, abs=1.5)
    assert m["speed"] == pytest.approx(1.3, rel=1e-6)
    assert m["symmetry_index_stride_time"] == pytest.approx(0.0, abs=1.0)
    assert m["symmetry_index_stance"] == pytest.approx(0.0, abs=3.0)


def test_asymmetric_stance_shows_in_symmetry_index():
    right, _, x = synthetic_gait(stance=0.6)
    _, left, _ = synthetic_gait(stance=0.5)
    m = gait.gait_metrics(right, left, x, DT, threshold=50.0)
    assert m["stance_percent_left"] == pytest.approx(50.0, abs=1.5)
    assert m["symmetry_index_stance"] == pytest.approx(100 * 10 / 55, rel=0.1)


def test_contact_events_and_cycle_normalisation():
    force = np.array([0, 0, 10, 10, 0, 0, 10, 10, 10, 0, 10])
    strikes, offs = gait.contact_events(force, 5)
    assert strikes.tolist() == [2, 6, 10] and offs.tolist() == [4, 9]
    ramp = np.arange(11, dtype=float)
    cycles = gait.normalize_cycles(ramp, strikes, points=5)
    assert cycles.shape == (2, 5)
    np.testing.assert_allclose(cycles[0], [2, 3, 4, 5, 6])


def test_no_stride_gives_none_not_nan():
    force = np.zeros(50)
    m = gait.gait_metrics(force, force, np.zeros(50), DT, 5.0)
    assert m["stride_time"] is None and m["cadence_steps_per_min"] is None


def test_a_fall_has_no_stride_metrics_and_says_why():
    """20 control steps, each foot striking twice (one stride): not a cadence of 300 steps/min."""
    right, left, x = synthetic_gait(stride_time=0.3, seconds=20 / 30)
    m = gait.gait_metrics(right, left, x, DT, threshold=50.0)
    assert m["heel_strikes_right"] >= 2 and m["strides_right"] <= 1
    assert m["cadence_steps_per_min"] is None and m["stride_time"] is None and m["symmetry_index_stance"] is None
    assert "fewer than 2 whole strides" in m["missing"] and "0.66 s" in m["missing"]


def test_two_whole_strides_per_foot_are_enough():
    right, left, x = synthetic_gait(seconds=3.7)  # heel strikes: right 1.2, 2.4, 3.6 s; left 0.6, 1.8, 3.0 s
    m = gait.gait_metrics(right, left, x, DT, threshold=50.0)
    assert m["missing"] is None and m["strides_right"] == 2 and m["strides_left"] == 2
    assert m["stride_time"] == pytest.approx(1.2, abs=DT)
    assert gait.enough_strides(np.array([0, 10, 20])) and not gait.enough_strides(np.array([0, 10]))
