import jax.numpy as jnp
import numpy as np

from mjx_myoassist.ppo.normalizer import RunningStats, normalize


def test_merged_moments_equal_moments_of_all_data():
    rng = np.random.default_rng(0)
    chunks = [rng.normal(loc=3.0, scale=2.0, size=(n, 4)) for n in (50, 7, 200)]
    stats = RunningStats.create(4)
    for c in chunks:
        stats = stats.update(jnp.asarray(c.mean(0)), jnp.asarray(c.var(0)), jnp.float32(len(c)))
    data = np.concatenate(chunks)
    np.testing.assert_allclose(stats.mean, data.mean(0), rtol=1e-4)
    np.testing.assert_allclose(stats.var, data.var(0), rtol=1e-3)


def test_normalize_clips_and_can_be_disabled():
    stats = RunningStats(jnp.zeros(2), jnp.ones(2), jnp.float32(10))
    np.testing.assert_allclose(normalize(stats, jnp.array([100.0, -0.5])), [10.0, -0.5], rtol=1e-6)
    np.testing.assert_allclose(normalize(stats, jnp.array([100.0, -0.5]), enabled=False), [100.0, -0.5])
