import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_myoassist.envs import velocity


def schedule(mode, vmin=1.0, vmax=2.0, period=2.0, phase=0.0):
    s = velocity.draw_schedule(jax.random.PRNGKey(0), mode, vmin, vmax, period, period)
    return {**s, "phase": jnp.float32(phase)}


def speeds(s, times):
    return np.array([float(velocity.target_velocity(jnp.float32(t), s)) for t in times])


def test_sinusoidal_spans_min_to_max():
    s = schedule("SINUSOIDAL", period=4.0)
    values = speeds(s, np.linspace(0, 4, 41))
    assert values.min() == pytest.approx(1.0, abs=1e-3) and values.max() == pytest.approx(2.0, abs=1e-3)
    assert values[0] == pytest.approx(1.5)


def test_step_alternates_between_min_and_max():
    assert speeds(schedule("STEP", phase=0.0), (0.5, 2.5, 4.5)).tolist() == [1.0, 2.0, 1.0]
    assert speeds(schedule("STEP", phase=4.0), (0.5, 2.5)).tolist() == [2.0, 1.0]


def test_uniform_is_constant_within_a_period_and_in_range():
    s = schedule("UNIFORM", 0.8, 1.6)
    a, b = speeds(s, (0.1, 1.9))
    assert a == b and 0.8 <= a <= 1.6
    later = speeds(s, np.arange(0, 40, 2.0))
    assert len(set(later.tolist())) > 5 and later.min() >= 0.8 and later.max() <= 1.6


def test_period_drawn_between_min_and_max():
    periods = [
        float(velocity.draw_schedule(jax.random.PRNGKey(i), "STEP", 1, 2, 2.0, 10.0)["period"]) for i in range(20)
    ]
    assert min(periods) >= 2.0 and max(periods) <= 10.0 and np.std(periods) > 1.0


def test_fixed_speed_when_min_equals_max():
    for mode in velocity.MODES:
        assert velocity.target_velocity(jnp.float32(3.3), schedule(mode, 1.25, 1.25)) == pytest.approx(1.25)


def test_unknown_mode():
    with pytest.raises(ValueError, match="velocity_mode"):
        schedule("RANDOM")
