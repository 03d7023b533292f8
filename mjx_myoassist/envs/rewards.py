"""Reward terms of the MyoAssist imitation envs (seeds/003), one pure function each.

Every function returns the *unweighted-by-config* term value for one env; the env
multiplies by the config weight (imitation terms take per-joint weights) and by the
control period dt.  Penalties are returned as positive costs and subtracted.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

IMITATION_SHARPNESS = 8.0
FORWARD_SHARPNESS = 5.0
FOOT_FORCE_LIMIT = 1.2  # body weights


def qpos_imitation(q: jax.Array, q_ref: jax.Array, weights: jax.Array) -> jax.Array:
    """sum_j w_j exp(-8 (q_j - q_ref_j)^2)."""
    return jnp.sum(weights * jnp.exp(-IMITATION_SHARPNESS * (q - q_ref) ** 2))


def qvel_imitation(dq: jax.Array, dq_ref: jax.Array, speed_ratio: jax.Array, weights: jax.Array) -> jax.Array:
    """sum_j w_j exp(-8 (dq_j - dq_ref_j * v_target / v_ref)^2)."""
    return jnp.sum(weights * jnp.exp(-IMITATION_SHARPNESS * (dq - dq_ref * speed_ratio) ** 2))


def end_effector_imitation(feet_rel: jax.Array, feet_rel_ref: jax.Array) -> jax.Array:
    """exp(-8 * mean squared distance) of foot positions relative to the pelvis vs the reference."""
    return jnp.exp(-IMITATION_SHARPNESS * jnp.mean(jnp.sum((feet_rel - feet_rel_ref) ** 2, axis=-1)))


def forward(vx: jax.Array, v_target: jax.Array) -> jax.Array:
    """exp(-5 (vx - v_target)^2)."""
    return jnp.exp(-FORWARD_SHARPNESS * (vx - v_target) ** 2)


def muscle_activation(act: jax.Array) -> jax.Array:
    """Mean squared muscle activation (cost)."""
    return jnp.mean(act**2)


def muscle_activation_diff(act: jax.Array, prev_act: jax.Array) -> jax.Array:
    """Mean squared change of activation over one control step (cost)."""
    return jnp.mean((act - prev_act) ** 2)


def heel_strikes(foot_force: jax.Array, prev_foot_force: jax.Array, threshold: jax.Array) -> jax.Array:
    """Per foot: True when the heel force rises through ``threshold`` (N) this step."""
    return (foot_force >= threshold) & (prev_foot_force < threshold)


def footstep_delta_time(strike: jax.Array, step_time: jax.Array, target_step_time: jax.Array) -> jax.Array:
    """At a heel strike: exp(-5 ((T_step - T_target) / T_target)^2); zero otherwise."""
    return jnp.sum(strike * jnp.exp(-FORWARD_SHARPNESS * ((step_time - target_step_time) / target_step_time) ** 2))


def average_velocity_per_step(strike: jax.Array, step_distance: jax.Array, step_time: jax.Array, v_target) -> jax.Array:
    """At a heel strike: exp(-5 (distance / time - v_target)^2) for the step just ended."""
    speed = step_distance / jnp.maximum(step_time, 1e-3)
    return jnp.sum(strike * jnp.exp(-FORWARD_SHARPNESS * (speed - v_target) ** 2))


def muscle_activation_per_step(strike: jax.Array, effort_sum: jax.Array, steps: jax.Array) -> jax.Array:
    """At a heel strike: mean squared activation over the step just ended (cost)."""
    return jnp.sum(strike * effort_sum / jnp.maximum(steps, 1.0))


def joint_constraint_force(limit_forces: jax.Array, body_weight: jax.Array) -> jax.Array:
    """Mean |joint-limit force| in body weights (cost)."""
    return jnp.mean(jnp.abs(limit_forces)) / body_weight


def foot_force(foot_forces: jax.Array, body_weight: jax.Array) -> jax.Array:
    """Sum over feet of the force above 1.2 body weight, in body weights (cost)."""
    return jnp.sum(jax.nn.relu(foot_forces / body_weight - FOOT_FORCE_LIMIT))
