import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_myoassist.envs import velocity


def schedule(period=2.0, phase=0.0):
    s = velocity.draw_schedule(jax.random.PRNGKey(0), period, period)
    return {**s, "phase": jnp.float32(phase)}


def test_sinusoidal_spans_min_to_max():
    s = schedule(period=4.0)
    values = np.array(
        [velocity.target_velocity(jnp.float32(t), "SINUSOIDAL", 1.0, 2.0, s) for t in np.linspace(0, 4, 41)]
    )
    assert values.min() == pytest.approx(1.0, abs=1e-3) and values.max() == pytest.approx(2.0, abs=1e-3)
    assert velocity.target_velocity(jnp.float32(0.0), "SINUSOIDAL", 1.0, 2.0, s) == pytest.approx(1.5)


def test_step_alternates_between_min_and_max():
    s = schedule(period=2.0, phase=0.0)
    values = [float(velocity.target_velocity(jnp.float32(t), "STEP", 1.0, 2.0, s)) for t in (0.5, 2.5, 4.5)]
    assert values == [1.0, 2.0, 1.0]


def test_uniform_is_constant_within_a_period_and_in_range():
    s = schedule(period=2.0)
    a, b = (velocity.target_velocity(jnp.float32(t), "UNIFORM", 0.8, 1.6, s) for t in (0.1, 1.9))
    assert a == b and 0.8 <= a <= 1.6
    later = [float(velocity.target_velocity(jnp.float32(t), "UNIFORM", 0.8, 1.6, s)) for t in np.arange(0, 40, 2.0)]
    assert len(set(later)) > 5 and min(later) >= 0.8 and max(later) <= 1.6


def test_fixed_speed_when_min_equals_max():
    for mode in velocity.MODES:
        assert velocity.target_velocity(jnp.float32(3.3), mode, 1.25, 1.25, schedule()) == pytest.approx(1.25)


def test_unknown_mode():
    with pytest.raises(ValueError, match="velocity_mode"):
        velocity.target_velocity(jnp.float32(0.0), "RANDOM", 1.0, 2.0, schedule())
