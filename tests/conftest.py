"""Shared fixtures: compiled env functions are built once per session (MJX compiles are slow)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mjx_myoassist import enable_compilation_cache

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "myoassist_fixtures"
CONFIGS = ROOT / "configs"

enable_compilation_cache()

# a small point-mass trainer: 8 envs x 16 steps, minibatches of 32
SMALL_POINTMASS = [
    "--config.env_params.num_envs", "8", "--config.ppo_params.n_steps", "16", "--config.ppo_params.batch_size", "32",
]  # fmt: skip


def fixture_path(name: str) -> Path:
    """A MyoAssist fixture file; the test is skipped when the shared folder is absent, and fails under CI=true
    (so a CI that loses ../shared cannot pass by skipping the MyoAssist-compatibility tests)."""
    path = FIXTURES / name
    if not path.is_file():
        message = f"MyoAssist fixture {path} not available"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI=true requires ../shared/myoassist_fixtures (see its README.md)")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def leg_config():
    from mjx_myoassist.config import load_config

    overrides = ["--config.env_params.num_envs", "64", "--config.ppo_params.batch_size", "64"]
    return load_config(CONFIGS / "test.json", overrides + ["--config.env_params.physics_backend", "mjx"])


@pytest.fixture(scope="session")
def leg_env(leg_config):
    from mjx_myoassist.envs import make

    return make(leg_config)


@pytest.fixture(scope="session")
def leg_batch(leg_env):
    """jit(vmap) reset and auto-resetting step of the leg-exo env (compiled once)."""
    import jax

    from mjx_myoassist.envs import step_with_auto_reset
    from mjx_myoassist.envs.base import prepare_auto_reset

    reset = jax.jit(jax.vmap(lambda k: prepare_auto_reset(leg_env.reset(k))))
    step = jax.jit(jax.vmap(lambda s, a: step_with_auto_reset(leg_env, s, a)))
    return reset, step
