import json

import jax
import numpy as np
import pytest

from mjx_myoassist.config import load_config
from mjx_myoassist.evaluate import Evaluator
from mjx_myoassist.ppo import networks
from mjx_myoassist.ppo.normalizer import RunningStats
from tests.conftest import CONFIGS

ENTRIES = json.dumps(
    [
        {"num_timesteps": 12, "num_envs": 4, "velocity_mode": "UNIFORM", "min_target_velocity": 1.25,
         "max_target_velocity": 1.25},
        {"num_timesteps": 6, "num_envs": 2, "velocity_mode": "SINUSOIDAL", "min_target_velocity": 0.5,
         "max_target_velocity": 1.5, "target_velocity_period": 1.0},
    ]
)  # fmt: skip


@pytest.fixture(scope="module")
def evaluator():
    config = load_config(
        CONFIGS / "test.json",
        ["--config.evaluate_param_list", ENTRIES, "--config.env_params.physics_backend", "cpu",
         "--config.env_params.out_of_trajectory_threshold", "5.0"],
    )  # fmt: skip
    from mjx_myoassist.envs import make

    env = make(config)
    layout = networks.make_layout(config.policy_params.custom_policy_params, env.observation_size, env.action_size)
    return Evaluator(config, layout, env), layout


def test_entries_share_one_compiled_rollout(evaluator):
    ev, layout = evaluator
    params = networks.init_params(layout, jax.random.PRNGKey(0))
    rows = ev.run(params, RunningStats.create(layout.observation_size))
    assert [r["velocity_mode"] for r in rows] == ["UNIFORM", "SINUSOIDAL"]
    assert ev._rollout._cache_size() == 1
    first, second = rows
    assert 0 < first["episode_length"] <= 12 and 0 < second["episode_length"] <= 6
    assert 0.0 <= first["falls"] <= 1.0
    assert first["target_velocity"] == pytest.approx(1.25, abs=1e-5)
    assert 0.5 <= second["target_velocity"] <= 1.5 and second["target_velocity"] != pytest.approx(1.25, abs=1e-3)
    for key in ("return", "speed", "reward/qpos_imitation_rewards", "reward/muscle_activation_penalty"):
        assert np.isfinite(first[key])


def test_evaluation_is_deterministic(evaluator):
    ev, layout = evaluator
    params = networks.init_params(layout, jax.random.PRNGKey(1))
    stats = RunningStats.create(layout.observation_size)
    assert ev.run(params, stats, seed=3) == ev.run(params, stats, seed=3)
