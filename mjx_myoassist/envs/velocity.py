"""Target-velocity schedules (MyoAssist ``velocity_mode``): UNIFORM, SINUSOIDAL, STEP.

A schedule is a dict of arrays drawn per env at reset (so evaluation batches can
change it without recompiling): ``vmin``, ``vmax``, ``mode``, ``period`` (drawn in
[min_period, max_period]), ``phase`` and a key.

* UNIFORM: a speed drawn uniformly in [vmin, vmax], redrawn every period.
* SINUSOIDAL: vmid + vhalf * sin(2 pi t / period + phase): spans exactly [vmin, vmax].
* STEP: alternates between vmin and vmax every period (starting at either).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

MODES = {"UNIFORM": 0, "SINUSOIDAL": 1, "STEP": 2}


def mode_index(mode: str) -> int:
    if mode not in MODES:
        raise ValueError(f"velocity_mode must be one of {list(MODES)}, got '{mode}'.")
    return MODES[mode]


def draw_schedule(
    rng: jax.Array, mode: str, vmin: float, vmax: float, min_period: float, max_period: float
) -> dict[str, jax.Array]:
    """Per-env schedule parameters."""
    k1, k2, k3 = jax.random.split(rng, 3)
    return {
        "mode": jnp.int32(mode_index(mode)),
        "vmin": jnp.float32(vmin),
        "vmax": jnp.float32(vmax),
        "period": jax.random.uniform(k1, (), minval=min_period, maxval=max(max_period, min_period)),
        "phase": jax.random.uniform(k2, (), maxval=2 * jnp.pi),
        "key": jax.random.key_data(k3),
    }


def target_velocity(t: jax.Array, schedule: dict[str, jax.Array]) -> jax.Array:
    """Target speed (m/s) at time ``t`` (s)."""
    vmin, vmax, period = schedule["vmin"], schedule["vmax"], schedule["period"]
    segment = jnp.floor(t / period).astype(jnp.int32)
    key = jax.random.fold_in(jax.random.wrap_key_data(schedule["key"]), segment)
    uniform = jax.random.uniform(key, (), minval=vmin, maxval=vmax)
    sinusoidal = (vmin + vmax) / 2 + (vmax - vmin) / 2 * jnp.sin(2 * jnp.pi * t / period + schedule["phase"])
    high = (segment % 2 == 0) == (schedule["phase"] > jnp.pi)
    step = jnp.where(high, vmax, vmin)
    return jnp.stack([uniform, sinusoidal, step])[schedule["mode"]]
