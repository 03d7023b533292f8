import jax.numpy as jnp
import numpy as np
import pytest

from mjx_myoassist.envs import rewards


def test_qpos_imitation_is_weighted_gaussian():
    q, ref, w = jnp.array([0.0, 0.5]), jnp.array([0.0, 0.0]), jnp.array([1.0, 2.0])
    assert rewards.qpos_imitation(q, ref, w) == pytest.approx(1.0 + 2.0 * np.exp(-8 * 0.25))
    assert rewards.qpos_imitation(ref, ref, w) == pytest.approx(3.0)


def test_qvel_imitation_scales_reference_by_speed():
    dq, ref, w = jnp.array([2.0]), jnp.array([1.0]), jnp.array([0.5])
    assert rewards.qvel_imitation(dq, ref, jnp.float32(2.0), w) == pytest.approx(0.5)
    assert rewards.qvel_imitation(dq, ref, jnp.float32(1.0), w) == pytest.approx(0.5 * np.exp(-8))


def test_end_effector_imitation():
    feet = jnp.array([[0.1, 0.0, -0.9], [-0.1, 0.0, -0.9]])
    assert rewards.end_effector_imitation(feet, feet) == pytest.approx(1.0)
    shifted = feet + jnp.array([0.1, 0.0, 0.0])
    assert rewards.end_effector_imitation(shifted, feet) == pytest.approx(np.exp(-8 * 0.01))


def test_forward_reward_peaks_at_target():
    assert rewards.forward(jnp.float32(1.25), 1.25) == pytest.approx(1.0)
    assert rewards.forward(jnp.float32(0.25), 1.25) == pytest.approx(np.exp(-5.0))


def test_activation_costs():
    act = jnp.array([0.0, 1.0, 0.5, 0.5])
    assert rewards.muscle_activation(act) == pytest.approx((0 + 1 + 0.25 + 0.25) / 4)
    assert rewards.muscle_activation_diff(act, act) == 0.0
    assert rewards.muscle_activation_diff(act, jnp.zeros(4)) == pytest.approx(0.375)


def test_heel_strike_detects_rising_edge_only():
    strike = rewards.heel_strikes(jnp.array([100.0, 100.0, 0.0]), jnp.array([0.0, 100.0, 100.0]), 50.0)
    assert strike.tolist() == [True, False, False]


def test_step_terms_pay_only_at_heel_strike():
    strike = jnp.array([True, False])
    time = jnp.array([0.55, 0.3])
    assert rewards.footstep_delta_time(strike, time, 0.55) == pytest.approx(1.0)
    assert rewards.footstep_delta_time(jnp.array([False, False]), time, 0.55) == 0.0
    dist = jnp.array([0.6875, 1.0])
    assert rewards.average_velocity_per_step(strike, dist, time, 1.25) == pytest.approx(1.0)
    assert rewards.muscle_activation_per_step(strike, jnp.array([2.0, 9.0]), jnp.array([4.0, 3.0])) == pytest.approx(
        0.5
    )


def test_force_penalties_in_body_weights():
    bw = jnp.float32(800.0)
    assert rewards.joint_constraint_force(jnp.array([80.0, -80.0]), bw) == pytest.approx(0.1)
    assert rewards.foot_force(jnp.array([800.0, 1200.0, 0.0]), bw) == pytest.approx(0.3)
