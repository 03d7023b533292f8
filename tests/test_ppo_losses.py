import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_myoassist.config import PPOParams
from mjx_myoassist.ppo import losses


def python_gae(rewards, values, next_values, terminated, done, gamma, lam):
    T, B = rewards.shape
    adv = np.zeros((T, B))
    for b in range(B):
        last = 0.0
        for t in reversed(range(T)):
            bootstrap = 0.0 if terminated[t, b] else next_values[t, b]
            delta = rewards[t, b] + gamma * bootstrap - values[t, b]
            last = delta + gamma * lam * (0.0 if done[t, b] else last)
            adv[t, b] = last
    return adv, adv + values


def test_gae_matches_python_loop_with_terminations_and_truncations():
    rng = np.random.default_rng(0)
    T, B = 17, 5
    rewards, values, next_values = (rng.normal(size=(T, B)) for _ in range(3))
    terminated = rng.random((T, B)) < 0.1
    truncated = (rng.random((T, B)) < 0.1) & ~terminated
    done = terminated | truncated
    adv, ret = losses.gae(
        jnp.asarray(rewards), jnp.asarray(values), jnp.asarray(next_values),
        jnp.asarray(terminated, jnp.float32), jnp.asarray(done, jnp.float32), 0.99, 0.95,
    )  # fmt: skip
    want_adv, want_ret = python_gae(rewards, values, next_values, terminated, done, 0.99, 0.95)
    np.testing.assert_allclose(adv, want_adv, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ret, want_ret, rtol=1e-5, atol=1e-5)


def test_truncation_bootstraps_termination_does_not():
    rewards, values, next_values = jnp.ones((1, 2)), jnp.zeros((1, 2)), jnp.full((1, 2), 10.0)
    done = jnp.ones((1, 2))
    terminated = jnp.array([[1.0, 0.0]])  # env 0 terminated, env 1 truncated
    adv, _ = losses.gae(rewards, values, next_values, terminated, done, 0.5, 0.9)
    np.testing.assert_allclose(adv, [[1.0, 6.0]])


def loss_inputs(ratio_shift):
    obs = jnp.zeros((4, 3))
    action = jnp.zeros((4, 2))
    apply_fn = lambda p, o: (jnp.zeros((4, 2)), jnp.zeros((4, 2)), p["v"] * jnp.ones(4))  # noqa: E731
    from mjx_myoassist.ppo.networks import gaussian_log_prob

    log_prob = gaussian_log_prob(action, jnp.zeros(2), jnp.zeros(2), jnp.ones(2)) - ratio_shift
    batch = {"obs": obs, "action": action, "log_prob": log_prob, "value": jnp.zeros(4),
             "advantage": jnp.array([1.0, -1.0, 2.0, -2.0]), "return": jnp.ones(4)}  # fmt: skip
    return apply_fn, batch


def test_policy_loss_is_clipped():
    hp = PPOParams(clip_range=0.2, clip_range_vf=None, ent_coef=0.0, vf_coef=0.5)
    apply_fn, batch = loss_inputs(ratio_shift=jnp.log(2.0))  # ratio = 2 everywhere
    loss, m = losses.ppo_loss({"v": jnp.float32(1.0)}, apply_fn, batch, hp, jnp.ones(2))
    adv = np.array([1.0, -1.0, 2.0, -2.0])
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    want = -np.mean(np.minimum(2 * adv, 1.2 * adv))
    assert float(m["loss/policy"]) == pytest.approx(want, rel=1e-5)
    assert float(m["loss/clip_fraction"]) == 1.0
    assert float(m["loss/value"]) == pytest.approx(0.0)


def test_value_clipping():
    apply_fn, batch = loss_inputs(ratio_shift=0.0)
    params = {"v": jnp.float32(3.0)}
    _, clipped = losses.ppo_loss(params, apply_fn, batch, PPOParams(clip_range_vf=0.5), jnp.ones(2))
    _, free = losses.ppo_loss(params, apply_fn, batch, PPOParams(clip_range_vf=None), jnp.ones(2))
    assert float(clipped["loss/value"]) == pytest.approx(0.25)  # prediction clipped to 0 + 0.5
    assert float(free["loss/value"]) == pytest.approx(4.0)
    grads = jax.grad(lambda p: losses.ppo_loss(p, apply_fn, batch, PPOParams(clip_range_vf=0.5), jnp.ones(2))[0])(
        params
    )
    assert float(grads["v"]) == 0.0
