"""Reward terms of MyoAssist's leg imitation envs, one pure function each.

Each term is one function of :class:`RewardInputs` registered by ``@term`` under its name, which is
also its weight field in ``config.RewardWeights`` and its ``reward/<name>`` metric: a new term is
that function plus that field.  Every term returns its value as MyoAssist's ``rwd_dict`` holds it (``rl_train/envs``):
already multiplied by the control period ``dt`` and signed (penalties are negative, bonuses
positive).  The env's reward is sum(weight * term) with the config's positive weights; a
per-joint imitation term, which applies its per-joint weights inside, is weighted again by the
sum of those weights (MyoAssist's ``rwd_keys_wt``).

The three heel-strike terms are held values: MyoAssist recomputes them at each heel strike
(:func:`track_steps`) and charges the held value at every control step in between.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from mjx_myoassist.config import RewardWeights

IMITATION_SHARPNESS = 8.0
FORWARD_SHARPNESS = 5.0
END_EFFECTOR_SHARPNESS = 5.0
ACTIVATION_CHANGE_SHARPNESS = 4.0
FOOT_FORCE_LIMIT = 1.2  # body weights, both feet together
HEEL_STRIKE_FORCE = 0.1  # N: a foot strikes when its last HEEL_STRIKE_SAMPLES forces all exceed this
HEEL_STRIKE_SAMPLES = 3
LEG_LENGTH = 1.0  # m, MyoAssist's normalisation of the per-step velocity error
NO_FOOT, RIGHT, LEFT = 0, 1, 2
END_EFFECTOR_DIFF = np.zeros(1)  # MyoAssist's end-effector comparison is a constant [0]
STEP_TERMS = ("muscle_activation_penalty_per_step", "average_velocity_per_step", "footstep_delta_time")


@struct.dataclass
class RewardInputs:
    """What the reward terms read at one control step (per-joint arrays already picked and ordered)."""

    q: jax.Array  # imitated joint positions and their reference, weights
    q_ref: jax.Array
    q_weights: jax.Array
    dq: jax.Array  # imitated joint velocities, their reference, target / reference speed, weights
    dq_ref: jax.Array
    speed_ratio: jax.Array
    dq_weights: jax.Array
    vx: jax.Array  # pelvis_tx velocity and the target velocity
    v_target: jax.Array
    act: jax.Array  # muscle activations now and at the previous step
    prev_act: jax.Array
    foot_forces: jax.Array  # [right, left] foot + toes force (N)
    limit_forces: jax.Array  # joint-limit constraint forces
    body_weight: float = struct.field(pytree_node=False)
    dt: float = struct.field(pytree_node=False)
    held: dict[str, jax.Array] = struct.field(default_factory=dict)  # heel-strike terms (:func:`track_steps`)


TERMS: dict[str, Callable[[RewardInputs], jax.Array]] = {}


def term(fn: Callable[[RewardInputs], jax.Array]) -> Callable[[RewardInputs], jax.Array]:
    """Registers a reward term under its function name, which is also its ``RewardWeights`` field and its
    ``reward/<name>`` metric."""
    TERMS[fn.__name__] = fn
    return fn


@term
def qpos_imitation_rewards(x: RewardInputs) -> jax.Array:
    """sum_j w_j dt exp(-8 (q_j - q_ref_j)^2)."""
    return jnp.sum(x.q_weights * x.dt * jnp.exp(-IMITATION_SHARPNESS * (x.q - x.q_ref) ** 2))


@term
def qvel_imitation_rewards(x: RewardInputs) -> jax.Array:
    """sum_j w_j dt exp(-8 (dq_j - dq_ref_j * speed_ratio)^2); speed_ratio = target / reference dq_pelvis_tx."""
    return jnp.sum(x.dq_weights * x.dt * jnp.exp(-IMITATION_SHARPNESS * (x.dq - x.dq_ref * x.speed_ratio) ** 2))


@term
def end_effector_imitation_reward(x: RewardInputs) -> jax.Array:
    """dt mean(exp(-5 diff^2)); MyoAssist passes the constant diff [0], so the term is dt."""
    return x.dt * jnp.mean(jnp.exp(-END_EFFECTOR_SHARPNESS * END_EFFECTOR_DIFF**2))


@term
def forward_reward(x: RewardInputs) -> jax.Array:
    """dt exp(-5 (vx - v_target)^2), vx the pelvis_tx velocity."""
    return x.dt * jnp.exp(-FORWARD_SHARPNESS * (x.vx - x.v_target) ** 2)


@term
def muscle_activation_penalty(x: RewardInputs) -> jax.Array:
    """-dt mean(act)."""
    return -x.dt * jnp.mean(x.act)


@term
def muscle_activation_diff_penalty(x: RewardInputs) -> jax.Array:
    """dt mean(exp(-4 (prev_act - act)^2)): a bonus for smooth activations despite MyoAssist's name."""
    return x.dt * jnp.mean(jnp.exp(-ACTIVATION_CHANGE_SHARPNESS * (x.prev_act - x.act) ** 2))


@term
def joint_constraint_force_penalty(x: RewardInputs) -> jax.Array:
    """-dt max(0, max_i |f_i|) / body weight over the joint-limit force sensors."""
    return -x.dt * jnp.maximum(0.0, jnp.max(jnp.abs(x.limit_forces))) / x.body_weight


@term
def foot_force_penalty(x: RewardInputs) -> jax.Array:
    """-dt max(0, (|F_right| + |F_left|) / body weight - 1.2); per-foot totals (foot + toes)."""
    return -x.dt * jnp.maximum(0.0, jnp.sum(jnp.abs(x.foot_forces)) / x.body_weight - FOOT_FORCE_LIMIT)


@term
def muscle_activation_penalty_per_step(x: RewardInputs) -> jax.Array:
    """-dt * integral of sum(act^2) dt over the last step, held from its heel strike."""
    return x.held["muscle_activation_penalty_per_step"]


@term
def average_velocity_per_step(x: RewardInputs) -> jax.Array:
    """-dt |integral of (vx - v_target) dt| / leg length over the last step, held from its heel strike."""
    return x.held["average_velocity_per_step"]


@term
def footstep_delta_time(x: RewardInputs) -> jax.Array:
    """dt * time since the last paid heel strike (s), held from that strike."""
    return x.held["footstep_delta_time"]


WEIGHT_FIELDS = {f.name for f in dataclasses.fields(RewardWeights)}
assert set(TERMS) == WEIGHT_FIELDS, f"reward terms {set(TERMS) ^ WEIGHT_FIELDS} lack a function or a weight field"


def term_weights(weights: RewardWeights) -> dict[str, float]:
    """Weight of each term in the reward; a per-joint term's is the sum of its joint weights, as in MyoAssist."""
    table = {k: getattr(weights, k) for k in TERMS}
    return {k: float(sum(v.values())) if isinstance(v, dict) else float(v) for k, v in table.items()}


def reward_terms(x: RewardInputs) -> dict[str, jax.Array]:
    """Every registered term at one step."""
    return {name: fn(x) for name, fn in TERMS.items()}


def heel_strike(force_window: jax.Array, last_foot: jax.Array) -> tuple[jax.Array, jax.Array]:
    """MyoAssist's strike detection: (strike, new last foot).

    ``force_window`` [2, 3]: the last three foot + toes forces (N) of the right and left foot,
    zeros where the episode has fewer samples.  A foot strikes when all three exceed 0.1 N and
    it is not the foot that struck last; the right foot is checked first.
    """
    loaded = jnp.min(force_window, axis=1) > HEEL_STRIKE_FORCE
    right = loaded[0] & (last_foot != RIGHT)
    left = ~right & loaded[1] & (last_foot != LEFT)
    return right | left, jnp.where(right, RIGHT, jnp.where(left, LEFT, last_foot)).astype(jnp.int32)


def step_tracker(strike_step: jax.Array) -> dict[str, jax.Array]:
    """Heel-strike state at reset; a strike pays only after control step ``strike_step`` (see :func:`track_steps`)."""
    zero = jnp.float32(0.0)
    return {
        "force_window": jnp.zeros((2, HEEL_STRIKE_SAMPLES), jnp.float32),
        "last_foot": jnp.int32(NO_FOOT),
        "strike_step": jnp.asarray(strike_step, jnp.int32),
        "elapsed": zero,
        "speed_error": zero,
        "effort": zero,
        **{term: zero for term in STEP_TERMS},
    }


def track_steps(
    tracker: dict[str, jax.Array],
    foot_forces: jax.Array,
    vx: jax.Array,
    v_target: jax.Array,
    act: jax.Array,
    step: jax.Array,
    dt: float,
) -> dict[str, jax.Array]:
    """One control step of MyoAssist's heel-strike bookkeeping; the held terms are ``tracker[STEP_TERMS]``.

    The integrals grow every step; a detected strike pays (recomputes the three terms and
    restarts the integrals) only when ``step`` is later than ``strike_step``, the step of the
    last paid strike.  MyoAssist compares simulation times there, and its reset keeps the
    finished episode's end time, so after a reset ``strike_step`` is the finished episode's
    length.  ``foot_forces`` [2]: right and left foot + toes force (N).
    """
    elapsed = tracker["elapsed"] + dt
    speed_error = tracker["speed_error"] + dt * (vx - v_target)
    effort = tracker["effort"] + dt * jnp.sum(act**2)
    window = jnp.concatenate([tracker["force_window"][:, 1:], foot_forces[:, None]], axis=1)
    strike, last_foot = heel_strike(window, tracker["last_foot"])
    paid = strike & (step > tracker["strike_step"])
    new_terms = {
        "muscle_activation_penalty_per_step": -dt * effort,
        "average_velocity_per_step": -dt * jnp.abs(speed_error) / LEG_LENGTH,
        "footstep_delta_time": dt * elapsed,
    }
    restart = lambda x: jnp.where(paid, 0.0, x).astype(jnp.float32)  # noqa: E731
    return {
        "force_window": window.astype(jnp.float32),
        "last_foot": last_foot,
        "strike_step": jnp.where(paid, step, tracker["strike_step"]).astype(jnp.int32),
        "elapsed": restart(elapsed),
        "speed_error": restart(speed_error),
        "effort": restart(effort),
        **{k: jnp.where(paid, v, tracker[k]).astype(jnp.float32) for k, v in new_terms.items()},
    }
