import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_myoassist.envs import velocity

DT = 1 / 30


def schedule(mode, vmin=1.0, vmax=2.0, period=2.0, phase=0.0):
    s = velocity.draw_schedule(jax.random.PRNGKey(0), mode, vmin, vmax, period, period)
    return {**s, "phase": jnp.float32(phase)}


def speeds(s, steps):
    """Targets of the control steps starting at step * DT."""
    return np.array([float(velocity.target_velocity(jnp.float32(k * DT), s, DT)) for k in steps])


def test_sinusoidal_spans_min_to_max():
    s = schedule("SINUSOIDAL", period=4.0)
    values = speeds(s, range(121))
    assert values.min() == pytest.approx(1.0, abs=1e-3) and values.max() == pytest.approx(2.0, abs=1e-3)
    assert values[0] == pytest.approx(1.5)
    assert values[30] == pytest.approx(2.0)  # MyoAssist: min + (max - min) (sin(phase + 2 pi t / period) + 1) / 2


def test_uniform_is_one_target_for_the_whole_episode():
    s = schedule("UNIFORM", 0.8, 1.6)
    values = speeds(s, range(0, 1200, 7))
    assert len(set(values.tolist())) == 1 and 0.8 <= values[0] <= 1.6
    assert values[0] == pytest.approx(0.8 + float(s["start"]) * 0.8)


def test_step_redraws_after_each_period():
    """MyoAssist: a new target at the first step more than `period` after the last change: 2.01 s -> every 61 steps."""
    s = schedule("STEP", 0.5, 2.0, period=2.01)
    values = speeds(s, range(200))
    changes = np.nonzero(np.diff(values))[0] + 1
    assert changes.tolist() == [61, 122, 183]
    assert values[0] == speeds(schedule("UNIFORM", 0.5, 2.0), [0])[0]  # first target drawn like UNIFORM
    assert values.min() >= 0.5 and values.max() <= 2.0


def test_period_drawn_between_min_and_max():
    periods = [
        float(velocity.draw_schedule(jax.random.PRNGKey(i), "STEP", 1, 2, 2.0, 10.0)["period"]) for i in range(20)
    ]
    assert min(periods) >= 2.0 and max(periods) <= 10.0 and np.std(periods) > 1.0


def test_random_mode_is_drawn_per_episode():
    modes = [int(velocity.draw_schedule(jax.random.PRNGKey(i), "RANDOM", 1, 2, 2, 10)["mode"]) for i in range(60)]
    counts = np.bincount(modes, minlength=3)
    assert counts.sum() == 60 and counts.min() >= 10  # UNIFORM, SINUSOIDAL and STEP about equally often


def test_fixed_speed_when_min_equals_max():
    for mode in velocity.MODES:
        assert speeds(schedule(mode, 1.25, 1.25), [0, 99, 1000]) == pytest.approx(1.25)


def test_unknown_mode():
    with pytest.raises(ValueError, match="velocity_mode"):
        schedule("FAST")
