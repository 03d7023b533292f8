"""Target-velocity schedules as MyoAssist's leg envs run them: UNIFORM, SINUSOIDAL, STEP.

A schedule is a dict of arrays drawn per env at reset (so evaluation batches can
change it without recompiling): ``mode``, ``vmin``, ``vmax``, ``period`` (drawn in
[min_period, max_period]), ``phase`` (in [0, 2 pi)), ``start`` (a fraction in [0, 1)
that places the first target in [vmin, vmax]) and a key for STEP's later targets.

* UNIFORM: one target for the whole episode, vmin + start * (vmax - vmin).
* SINUSOIDAL: vmin + (vmax - vmin) * (sin(phase + 2 pi t / period) + 1) / 2.
* STEP: starts like UNIFORM; MyoAssist draws a new uniform target at the first control step
  whose time is more than ``period`` after the last change, so a target holds
  floor(period / dt) + 1 control steps.

``t`` is the time before the control step: MyoAssist updates the target, then steps the
physics, and the reward and observation of that step use this target.  In training,
MyoAssist draws the mode per episode (``RANDOM`` here, the default of
``env_params.velocity_mode``); a fixed mode is an option.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

MODES = {"UNIFORM": 0, "SINUSOIDAL": 1, "STEP": 2}
RANDOM = "RANDOM"


def mode_index(mode: str) -> int:
    if mode not in MODES:
        raise ValueError(f"velocity_mode must be one of {list(MODES)}, got '{mode}'.")
    return MODES[mode]


def draw_schedule(
    rng: jax.Array, mode: str, vmin: float, vmax: float, min_period: float, max_period: float
) -> dict[str, jax.Array]:
    """Per-env schedule parameters; ``mode`` RANDOM draws one of the three modes uniformly."""
    k_mode, k_period, k_phase, k_start, k_key = jax.random.split(rng, 5)
    if mode == RANDOM:
        index = jax.random.randint(k_mode, (), 0, len(MODES), dtype=jnp.int32)
    else:
        index = jnp.int32(mode_index(mode))
    return {
        "mode": index,
        "vmin": jnp.float32(vmin),
        "vmax": jnp.float32(vmax),
        "period": jax.random.uniform(k_period, (), minval=min_period, maxval=max(max_period, min_period)),
        "phase": jax.random.uniform(k_phase, (), maxval=2 * jnp.pi),
        "start": jax.random.uniform(k_start, ()),
        "key": jax.random.key_data(k_key),
    }


def step_segment(t: jax.Array, period: jax.Array, dt: float) -> jax.Array:
    """Index of STEP's current target: a new one every floor(period / dt) + 1 control steps."""
    hold = jnp.floor(period / dt) + 1.0
    return jnp.floor(jnp.round(t / dt) / hold).astype(jnp.int32)


def target_velocity(t: jax.Array, schedule: dict[str, jax.Array], dt: float) -> jax.Array:
    """Target speed (m/s) for the control step that starts at time ``t`` (s); ``dt`` is the control period."""
    vmin, vmax = schedule["vmin"], schedule["vmax"]
    segment = step_segment(t, schedule["period"], dt)
    redraw = jax.random.uniform(jax.random.fold_in(jax.random.wrap_key_data(schedule["key"]), segment), ())
    first = vmin + schedule["start"] * (vmax - vmin)
    sinusoidal = vmin + (vmax - vmin) * (jnp.sin(schedule["phase"] + 2 * jnp.pi * t / schedule["period"]) + 1) / 2
    step = jnp.where(segment == 0, first, vmin + redraw * (vmax - vmin))
    return jnp.stack([first, sinusoidal, step])[schedule["mode"]]
