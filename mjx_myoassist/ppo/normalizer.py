"""Running mean/variance observation normalization (SB3 ``VecNormalize`` semantics)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

CLIP = 10.0
EPS = 1e-8


@struct.dataclass
class RunningStats:
    mean: jax.Array
    var: jax.Array
    count: jax.Array

    @classmethod
    def create(cls, size: int) -> RunningStats:
        return cls(jnp.zeros(size, jnp.float32), jnp.ones(size, jnp.float32), jnp.asarray(1e-4, jnp.float32))

    def update(self, batch_mean: jax.Array, batch_var: jax.Array, batch_count: jax.Array) -> RunningStats:
        """Parallel-variance merge of a batch's moments."""
        delta = batch_mean - self.mean
        total = self.count + batch_count
        mean = self.mean + delta * batch_count / total
        m2 = self.var * self.count + batch_var * batch_count + delta**2 * self.count * batch_count / total
        return RunningStats(mean, m2 / total, total)


def normalize(stats: RunningStats, obs: jax.Array, enabled: bool = True) -> jax.Array:
    if not enabled:
        return obs
    return jnp.clip((obs - stats.mean) / jnp.sqrt(stats.var + EPS), -CLIP, CLIP)
