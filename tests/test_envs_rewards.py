"""MyoAssist's reward terms: each by hand, then against the terms MyoAssist's own env recorded.

The recording (fixtures ``recorded/rollout_partial_obs_seed0.npz``) holds MyoAssist's unweighted
terms ``rwd_components[t, k]`` (names ``rwd_keys``) after each control step t of its published
policy on the surrogate reference, target 1.25 m/s.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_myoassist.envs import rewards
from tests.conftest import fixture_path
from tests.test_envs_leg_myoassist import myoassist_env

DT = 1 / 30
BW = 800.0
STATE_TERMS = (
    "qpos_imitation_rewards",
    "qvel_imitation_rewards",
    "end_effector_imitation_reward",
    "forward_reward",
    "muscle_activation_penalty",
    "muscle_activation_diff_penalty",
)


# ------------------------------------------------------------------ by hand


def inputs(**given) -> rewards.RewardInputs:
    """Reward inputs with the ``given`` fields; the others zeros (speed ratio 1)."""
    z = jnp.zeros(1)
    neutral = dict(
        q=z, q_ref=z, q_weights=z, dq=z, dq_ref=z, speed_ratio=jnp.float32(1.0), dq_weights=z,
        vx=jnp.float32(0.0), v_target=jnp.float32(0.0), act=z, prev_act=z, foot_forces=jnp.zeros(2),
        limit_forces=z, body_weight=BW, dt=DT,
    )  # fmt: skip
    return rewards.RewardInputs(**{**neutral, **given})


def test_every_term_has_a_weight_field_and_a_metric_name():
    from dataclasses import fields

    from mjx_myoassist.config import RewardWeights

    assert list(rewards.TERMS) and set(rewards.TERMS) == {f.name for f in fields(RewardWeights)}
    weights = rewards.term_weights(RewardWeights(qpos_imitation_rewards={"a": 1.0, "b": 2.5}))
    assert weights["qpos_imitation_rewards"] == 3.5 and weights["forward_reward"] == RewardWeights().forward_reward


def test_qpos_imitation_weights_each_joint_inside_and_includes_dt():
    q, ref, w = jnp.array([0.0, 0.5]), jnp.array([0.0, 0.0]), jnp.array([1.0, 2.0])
    got = rewards.qpos_imitation_rewards(inputs(q=q, q_ref=ref, q_weights=w))
    assert got == pytest.approx(DT * (1.0 + 2.0 * np.exp(-8 * 0.25)))
    assert rewards.qpos_imitation_rewards(inputs(q=ref, q_ref=ref, q_weights=w)) == pytest.approx(3.0 * DT)


def test_qvel_imitation_scales_reference_by_speed_ratio():
    dq, ref, w = jnp.array([2.0]), jnp.array([1.0]), jnp.array([0.5])
    at = lambda ratio: rewards.qvel_imitation_rewards(  # noqa: E731
        inputs(dq=dq, dq_ref=ref, speed_ratio=jnp.float32(ratio), dq_weights=w)
    )
    assert at(2.0) == pytest.approx(0.5 * DT)
    assert at(1.0) == pytest.approx(0.5 * DT * np.exp(-8))


def test_end_effector_term_is_dt_for_myoassists_constant_diff():
    assert rewards.end_effector_imitation_reward(inputs()) == pytest.approx(DT)


def test_forward_reward_peaks_at_target():
    assert rewards.forward_reward(inputs(vx=jnp.float32(1.25), v_target=1.25)) == pytest.approx(DT)
    assert rewards.forward_reward(inputs(vx=jnp.float32(0.25), v_target=1.25)) == pytest.approx(DT * np.exp(-5.0))


def test_activation_penalty_is_minus_dt_mean_activation():
    act = jnp.array([0.0, 1.0, 0.5, 0.5])
    assert rewards.muscle_activation_penalty(inputs(act=act)) == pytest.approx(-DT * 0.5)


def test_activation_change_is_a_bonus_largest_without_change():
    act = jnp.array([0.0, 1.0, 0.5, 0.5])
    assert rewards.muscle_activation_diff_penalty(inputs(act=act, prev_act=act)) == pytest.approx(DT)
    expected = DT * np.mean(np.exp(-4 * np.array([0.0, 1.0, 0.25, 0.25])))
    assert rewards.muscle_activation_diff_penalty(inputs(act=act, prev_act=jnp.zeros(4))) == pytest.approx(expected)


def test_foot_force_penalty_totals_both_feet():
    penalty = lambda *f: rewards.foot_force_penalty(inputs(foot_forces=jnp.array(f)))  # noqa: E731
    assert penalty(500.0, 400.0) == 0.0  # 1.125 BW: under 1.2
    assert penalty(900.0, 700.0) == pytest.approx(-DT * 0.8)  # 2 BW
    assert penalty(1200.0, 0.0) == pytest.approx(-DT * 0.3)


def test_joint_constraint_force_is_the_largest_sensor():
    forces = jnp.array([80.0, -160.0, 0.0, 10.0, 0.0, 0.0, 0.0, 0.0])
    assert rewards.joint_constraint_force_penalty(inputs(limit_forces=forces)) == pytest.approx(-DT * 0.2)
    assert rewards.joint_constraint_force_penalty(inputs(limit_forces=jnp.zeros(8))) == 0.0


def test_heel_strike_needs_three_loaded_samples_and_alternates_feet():
    window = jnp.array([[5.0, 5.0, 5.0], [5.0, 5.0, 5.0]])
    strike, foot = rewards.heel_strike(window, jnp.int32(rewards.NO_FOOT))
    assert bool(strike) and int(foot) == rewards.RIGHT  # right is checked first
    strike, foot = rewards.heel_strike(window, jnp.int32(rewards.RIGHT))
    assert bool(strike) and int(foot) == rewards.LEFT
    strike, foot = rewards.heel_strike(jnp.array([[5.0, 5.0, 5.0], [0.0, 5.0, 5.0]]), jnp.int32(rewards.RIGHT))
    assert not bool(strike) and int(foot) == rewards.RIGHT  # left has only two loaded samples
    strike, _ = rewards.heel_strike(jnp.array([[0.1, 5.0, 5.0], [0.0, 0.0, 0.0]]), jnp.int32(rewards.NO_FOOT))
    assert not bool(strike)  # 0.1 N is not above the threshold


def run_tracker(forces, strike_step, vx=1.0, target=1.25, act=None):
    """track_steps over per-step [right, left] forces; returns the held terms after each step."""
    tracker = rewards.step_tracker(jnp.int32(strike_step))
    act = jnp.full(2, 0.5) if act is None else act
    out = []
    for step, f in enumerate(forces, start=1):
        tracker = rewards.track_steps(tracker, jnp.asarray(f, jnp.float32), vx, target, act, jnp.int32(step), DT)
        out.append({k: float(tracker[k]) for k in rewards.STEP_TERMS})
    return out


def test_step_terms_are_recomputed_at_a_strike_and_held_between():
    both = [10.0, 10.0]
    held = run_tracker([both] * 4, strike_step=0)
    assert held[1]["footstep_delta_time"] == 0.0  # two samples: no strike yet
    # step 3: right strike after 3 steps of integrals
    assert held[2]["footstep_delta_time"] == pytest.approx(DT * 3 * DT)
    assert held[2]["average_velocity_per_step"] == pytest.approx(-DT * abs(3 * DT * (1.0 - 1.25)))
    assert held[2]["muscle_activation_penalty_per_step"] == pytest.approx(-DT * 3 * DT * 0.5)
    # step 4: left strike pays one step of integrals
    assert held[3]["footstep_delta_time"] == pytest.approx(DT * DT)
    lifted = run_tracker([both] * 3 + [[0.0, 0.0]] * 3, strike_step=0)
    assert lifted[3] == lifted[4] == lifted[5] == lifted[2]  # no strike: the last values are charged again


def test_strikes_pay_only_after_the_previous_episodes_length():
    """MyoAssist's reset keeps the finished episode's end time, so strikes in the first 5 steps after a 5-step
    episode do not pay (their integrals keep growing)."""
    held = run_tracker([[10.0, 10.0]] * 7, strike_step=5)
    assert all(h["footstep_delta_time"] == 0.0 for h in held[:5])
    assert held[5]["footstep_delta_time"] == pytest.approx(DT * 6 * DT)


# ------------------------------------------------------------------ against MyoAssist's recording


@pytest.fixture(scope="module")
def rollout():
    return np.load(fixture_path("recorded/rollout_partial_obs_seed0.npz"))


@pytest.fixture(scope="module")
def env():
    return myoassist_env(edits=False)  # MyoAssist's TUTORIAL model, original contacts, cpu backend


def recorded(rollout, term):
    return rollout["rwd_components"][:, list(rollout["rwd_keys"]).index(term)]


def recorded_foot_forces(rollout) -> np.ndarray:
    """[T, 2] right and left foot + toes force (N) after each step, from MyoAssist's observations."""
    obs = np.vstack([rollout["obs"][1:], rollout["final_obs"][None]]).astype(np.float64)
    weight = 85.75146649200212 * 9.81  # MyoAssist's sum(body_mass) * 9.81 (rollout json: total_mass)
    r_foot, l_foot, r_toes, l_toes = (obs[:, 39 + i] * weight for i in range(4))
    return np.stack([r_foot + r_toes, l_foot + l_toes], axis=1)


@pytest.fixture(scope="module")
def env_terms(env, rollout):
    """Our terms with our physics set to each recorded state (one batched forward), at the recorded index."""
    states = {k: jnp.asarray(rollout[k], jnp.float32) for k in ("qpos", "qvel", "act", "ctrl")}
    prev = jnp.concatenate([jnp.asarray(env.zero_action_act, jnp.float32)[None], states["act"][:-1]])
    index = jnp.asarray(rollout["imitation_index"], jnp.int32)

    def terms(q, v, a, c, prev_act, idx):
        view = env.backend.view(env.backend.forward(q, v, a, c))
        info = {"prev_act": prev_act, "steps": rewards.step_tracker(jnp.int32(0))}
        return rewards.reward_terms(env._reward_inputs(view, info, idx, jnp.float32(1.25), jnp.int32(1)))

    out = jax.jit(jax.vmap(terms))(states["qpos"], states["qvel"], states["act"], states["ctrl"], prev, index)
    return {k: np.asarray(v, np.float64) for k, v in out.items()}


@pytest.mark.parametrize("term", STATE_TERMS)
def test_state_terms_equal_myoassist_at_recorded_states(env_terms, rollout, term):
    """Step 0's activation change compares with 0.5: MyoAssist's env is built with zero-action steps."""
    np.testing.assert_allclose(env_terms[term], recorded(rollout, term), rtol=0, atol=1e-5)
    assert np.abs(recorded(rollout, term)).max() > 1e-3  # a live term, not zeros


def test_joint_constraint_force_at_recorded_states(env_terms, rollout):
    """The limit forces come out of the constraint solve with the foot contacts, which differ across mujoco
    versions (3.3.3 recorded, ours newer): the term agrees to 1e-5 at most states, 1e-4 at nearly all."""
    error = np.abs(env_terms["joint_constraint_force_penalty"] - recorded(rollout, "joint_constraint_force_penalty"))
    assert np.median(error) < 1e-5 and np.mean(error < 1e-4) > 0.9 and error.max() < 3e-3


def test_foot_force_penalty_from_recorded_foot_forces(env, rollout):
    penalty = lambda f: rewards.foot_force_penalty(inputs(foot_forces=f, body_weight=env.body_weight, dt=env.dt))  # noqa: E731
    ours = jax.vmap(penalty)(jnp.asarray(recorded_foot_forces(rollout)))
    theirs = recorded(rollout, "foot_force_penalty")
    np.testing.assert_allclose(np.asarray(ours), theirs, rtol=0, atol=1e-5)
    assert (theirs < -1e-3).sum() > 10


def replay_tracker(env, rollout, strike_step: int) -> dict[str, np.ndarray]:
    """The heel-strike terms over the recorded foot forces, pelvis speeds and activations."""
    inputs = (
        jnp.asarray(recorded_foot_forces(rollout), jnp.float32),
        jnp.asarray(rollout["qvel"][:, env.pelvis_tx_dof], jnp.float32),
        jnp.asarray(rollout["act"], jnp.float32),
        jnp.arange(1, len(rollout["reward"]) + 1, dtype=jnp.int32),
    )

    def one(tracker, x):
        feet, vx, act, step = x
        tracker = rewards.track_steps(tracker, feet, vx, jnp.float32(1.25), act, step, env.dt)
        return tracker, {k: tracker[k] for k in rewards.STEP_TERMS}

    _, held = jax.lax.scan(one, rewards.step_tracker(jnp.int32(strike_step)), inputs)
    return {k: np.asarray(v, np.float64) for k, v in held.items()}


def test_heel_strike_terms_from_recorded_inputs(env, rollout):
    """MyoAssist's first episode starts 32 steps after its env was built, so strikes pay from step 33."""
    held = replay_tracker(env, rollout, strike_step=32)
    for term in rewards.STEP_TERMS:
        np.testing.assert_allclose(held[term], recorded(rollout, term), rtol=0, atol=1e-5, err_msg=term)
        assert (recorded(rollout, term) != 0).sum() > 100
    unguarded = replay_tracker(env, rollout, strike_step=0)  # strikes at steps 1-32 would change the terms
    assert np.abs(unguarded["footstep_delta_time"] - recorded(rollout, "footstep_delta_time")).max() > 1e-2


def test_recorded_reward_is_the_weighted_sum_with_our_weights(env, rollout):
    """reward[t] = sum_k weight_k term_k, per-joint terms weighted by their summed joint weights (qpos: 3.9)."""
    assert env.weights["qpos_imitation_rewards"] == pytest.approx(3.9)
    assert env.weights["qvel_imitation_rewards"] == pytest.approx(1.0)
    dense = sum(weight * recorded(rollout, term) for term, weight in env.weights.items())
    np.testing.assert_allclose(dense, rollout["reward"], rtol=0, atol=1e-12)
