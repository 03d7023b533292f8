"""GAE and the PPO loss (SB3 semantics: clipped surrogate, optional value clipping)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from mjx_myoassist.ppo import networks


def gae(
    rewards: jax.Array,
    values: jax.Array,
    next_values: jax.Array,
    terminated: jax.Array,
    done: jax.Array,
    gamma: float,
    lam: float,
) -> tuple[jax.Array, jax.Array]:
    """Generalized advantage estimation over [T, B] arrays.

    ``next_values[t]`` is V of the observation reached by step t *before* any
    auto-reset, so a truncated step bootstraps from where it stopped while a
    terminated one does not (``terminated``).  ``done`` (terminated or truncated)
    stops the recursion at episode boundaries.  Returns (advantages, returns).
    """
    deltas = rewards + gamma * next_values * (1.0 - terminated) - values

    def backward(carry, xs):
        delta, d = xs
        adv = delta + gamma * lam * (1.0 - d) * carry
        return adv, adv

    _, advantages = jax.lax.scan(backward, jnp.zeros_like(rewards[0]), (deltas, done), reverse=True)
    return advantages, advantages + values


def ppo_loss(params: Any, apply_fn, batch: dict[str, jax.Array], hp: Any, mask: jax.Array, axis_name=None):
    """PPO loss on one minibatch; returns (loss, metrics).  ``hp`` is the PPOParams."""
    mean, log_std, value = apply_fn(params, batch["obs"])
    log_prob = networks.gaussian_log_prob(batch["action"], mean, log_std, mask)
    log_ratio = log_prob - batch["log_prob"]
    ratio = jnp.exp(log_ratio)

    adv = batch["advantage"]
    adv_mean, adv_sq = jnp.mean(adv), jnp.mean(adv**2)
    if axis_name is not None:
        adv_mean, adv_sq = jax.lax.pmean((adv_mean, adv_sq), axis_name)
    adv = (adv - adv_mean) / (jnp.sqrt(jnp.maximum(adv_sq - adv_mean**2, 0.0)) + 1e-8)

    policy_loss = -jnp.mean(jnp.minimum(ratio * adv, jnp.clip(ratio, 1 - hp.clip_range, 1 + hp.clip_range) * adv))
    if hp.clip_range_vf is None:
        value_pred = value
    else:
        value_pred = batch["value"] + jnp.clip(value - batch["value"], -hp.clip_range_vf, hp.clip_range_vf)
    value_loss = jnp.mean((batch["return"] - value_pred) ** 2)
    entropy = jnp.mean(networks.gaussian_entropy(log_std, mask))
    loss = policy_loss + hp.vf_coef * value_loss - hp.ent_coef * entropy
    metrics = {
        "loss/policy": policy_loss,
        "loss/value": value_loss,
        "loss/entropy": entropy,
        "loss/approx_kl": jnp.mean((ratio - 1) - log_ratio),
        "loss/clip_fraction": jnp.mean((jnp.abs(ratio - 1) > hp.clip_range).astype(jnp.float32)),
    }
    return loss, metrics
