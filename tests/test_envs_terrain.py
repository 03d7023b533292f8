import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_myoassist.config import ConfigError, load_config
from mjx_myoassist.envs import make, step_with_auto_reset, terrain
from mjx_myoassist.envs.base import prepare_auto_reset
from tests.conftest import CONFIGS

PER_SEGMENT = int(round(terrain.SEGMENT_LENGTH / terrain.RESOLUTION))
SAFE = int(round(terrain.SAFE_ZONE / terrain.RESOLUTION))


def segments(heights):
    return heights.reshape(terrain.SEGMENTS, PER_SEGMENT)


@pytest.mark.parametrize("kind", ["random", "harmonic_sinusoidal", "slope", "dev"])
def test_every_segment_starts_with_a_flat_safe_zone(kind):
    for seg in segments(terrain.strip(kind, "", curriculum=False)):
        assert np.all(seg[:SAFE] == 0.0) and seg[SAFE:].max() > 0.0


def test_profiles_follow_their_parameters():
    x = np.arange(0, 10, terrain.RESOLUTION)
    rng = np.random.default_rng(0)
    assert terrain.profile("harmonic_sinusoidal", [0.1, 2.0], x, rng).max() == pytest.approx(0.1, abs=1e-3)
    slope = terrain.profile("slope", [5.0], x, rng)
    assert slope[-1] / x[-1] == pytest.approx(np.tan(np.radians(5.0)))
    bumps = terrain.profile("random", [0.08, 0.5], x, rng)
    assert 0 <= bumps.min() and bumps.max() <= 0.08 and len(np.unique(bumps)) > 5
    stairs = terrain.profile("dev", [0.04], x, rng)
    np.testing.assert_allclose(stairs / 0.04, np.round(stairs / 0.04))  # whole steps
    assert stairs.max() > 0.1


def test_curriculum_goes_from_flat_to_full():
    heights = segments(terrain.strip("random", "0.06", curriculum=True))
    assert heights[0].max() == 0.0
    peaks = heights.max(axis=1)
    assert np.all(np.diff(peaks) >= -1e-9) and peaks[-1] > 0.03


def test_bad_terrain_params_are_config_errors():
    with pytest.raises(ConfigError, match="at most 2 parameters"):
        make(load_config(CONFIGS / "test.json", ["--config.env_params.terrain_type", "random",
                                                 "--config.env_params.terrain_params", "0.1 0.2 0.3"]))  # fmt: skip
    with pytest.raises(ConfigError, match="space-separated numbers"):
        make(load_config(CONFIGS / "test.json", ["--config.env_params.terrain_type", "slope",
                                                 "--config.env_params.terrain_params", "steep"]))  # fmt: skip


@pytest.fixture(scope="module")
def rough_env():
    overrides = ["--config.env_params.terrain_type", "random", "--config.env_params.terrain_params", "0.05",
                 "--config.env_params.terrain_curriculum_steps", "1000", "--config.env_params.physics_backend", "cpu",
                 "--config.env_params.num_envs", "16", "--config.ppo_params.batch_size", "16"]  # fmt: skip
    return make(load_config(CONFIGS / "test.json", overrides))


def test_terrain_model_is_mjx_ready(rough_env):
    from mujoco import mjx

    assert rough_env.model.nhfield == 1
    mjx.put_model(rough_env.model)


def test_start_segment_follows_the_curriculum_level(rough_env):
    keys = jax.random.split(jax.random.PRNGKey(0), 16)

    def start_x(level):
        data = jax.vmap(lambda k: rough_env.reset(k, level))(keys).data
        return np.asarray(jax.vmap(rough_env.backend.view)(data).qpos[:, 0])

    segment = lambda x: np.floor(x / terrain.SEGMENT_LENGTH)  # noqa: E731
    assert np.all(segment(start_x(0.0)) == 0)  # level 0: the flat first segment only
    assert len(np.unique(segment(start_x(1.0)))) >= 4  # per-env variation over all segments
    assert rough_env.reset(keys[0]).info["terrain_level"] == 0.0  # a curriculum starts flat


def test_training_progress_raises_the_level_and_auto_reset_keeps_it(rough_env):
    keys = jax.random.split(jax.random.PRNGKey(1), 16)
    state = jax.vmap(lambda k: prepare_auto_reset(rough_env.reset(k)))(keys)
    state = rough_env.with_training_progress(state, jnp.int32(500))
    np.testing.assert_allclose(state.info["terrain_level"], 0.5)
    step = jax.jit(jax.vmap(lambda s, a: step_with_auto_reset(rough_env, s, a)))
    for _ in range(4):
        state = step(state, jnp.ones((16, rough_env.action_size)))
    np.testing.assert_allclose(state.info["terrain_level"], 0.5)
    assert np.isfinite(np.asarray(state.obs)).all()
