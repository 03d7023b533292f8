"""benchmarks/humanoid_seed004.py: the stand and kneel criteria, reading a session, SB3's policy in JAX."""

import json

import numpy as np
import pytest

from benchmarks import humanoid_seed004 as h

STANDING = {"seconds": 10.0, "torso_height_mean": 1.27, "feet_contact_final": 2.0, "knees_contact_final": 0.0,
            "upright_angle_final": 3.0, "torso_height_final": 1.27, "hands_contact_final": 0.0,
            "distance": 0.01}  # fmt: skip


def test_stands_needs_every_episode_long_tall_and_on_both_feet():
    assert h.stands([STANDING] * 5)
    assert not h.stands([])
    for change in ({"seconds": 9.9}, {"torso_height_mean": 1.22}, {"torso_height_mean": 1.34},
                   {"feet_contact_final": 1.0}):  # fmt: skip
        assert not h.stands([STANDING] * 4 + [{**STANDING, **change}]), change


def test_kneels_needs_a_knee_down_the_torso_upright_at_the_end_and_no_shuffling():
    kneeling = {**STANDING, "seconds": 3.0, "knees_contact_final": 1.0, "feet_contact_final": 0.0}
    assert h.kneels([kneeling] * 5)
    assert not h.kneels([STANDING] * 5)  # no knee on the floor
    assert not h.kneels([{**kneeling, "upright_angle_final": 60.0}])
    assert not h.kneels([{**kneeling, "seconds": 2.0}])
    assert h.kneels([{**kneeling, "distance": -0.25}] * 5)
    assert not h.kneels([kneeling] * 4 + [{**kneeling, "distance": -1.0}])  # shuffled 1 m back on its knees


def test_session_result_finds_the_first_passing_test(tmp_path):
    pose_test = {"walk_test_episodes": 5, "walk_test_seconds": 10.0, "evaluate_frequency": 2}
    ppo = {"n_steps": 4, "batch_size": 16, "n_epochs": 2, "learning_rate": 1e-4, "gamma": 0.99}
    config = {"env_params": {"num_envs": 4, "physics_backend": "cpu", "frame_skip": 3, "reset_noise_scale": 0.01},
              "ppo_params": ppo, "policy_params": {"custom_policy_params": {"log_std_init": -1.0}},
              "logger_params": pose_test}  # fmt: skip
    falling = {**STANDING, "seconds": 2.0}
    evaluations = [
        {"step": 100, "wall_s": 1.0, "walk": {"rows": [falling] * 5}},
        {"step": 200, "wall_s": 2.0, "walk": {"rows": [STANDING] * 5}},
        {"step": 300, "wall_s": 3.0, "walk": {"rows": [falling] * 5}},
    ]
    evaluations += [{"step": s, "wall_s": s / 100, "walk": {"rows": [STANDING] * 5}} for s in (400, 500, 600, 700)]
    log = [{"step": s, "sps": 10.0, "wall_s": s / 100, "compile_s_total": 5.0} for s in range(100, 800, 100)]
    for name, data in (("session_config", config), ("evaluations", evaluations), ("train_log", log)):
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    result = h.session_result(tmp_path, "stand")
    assert (result["env_steps_to_pass"], result["wall_s_to_pass"], result["wall_s_with_compile_to_pass"]) == (
        200,
        2.0,
        7.0,
    )
    assert [t["passed"] for t in result["tests"]] == [False, True, False, True, True, True, True]
    assert result["passed_tests"] == 5 and result["env_steps_to_stable"] == 400  # 3 passing tests in a row
    (tmp_path / "trained_models").mkdir()
    for step in (200, 500, 700):  # the session pruned the checkpoint of step 400
        (tmp_path / "trained_models" / str(step)).mkdir()
    assert h.kept_stable_step(tmp_path, result) == 500  # not 200: the next test failed


def test_exported_config_replays_a_whole_episode():
    config = {"env_params": {"custom_max_episode_steps": 667}, "evaluate_param_list": [{"num_timesteps": 300}]}
    assert h.whole_episode_replay(config)["evaluate_param_list"] == [{"num_timesteps": 667}]


def test_sb3_policy_in_jax_acts_as_sb3_predicts():
    pytest.importorskip("stable_baselines3")
    import gymnasium as gym
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    class Box(gym.Env):
        observation_space = gym.spaces.Box(-np.inf, np.inf, (6,), np.float32)
        action_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)

        def reset(self, *, seed=None, options=None):
            return np.zeros(6, np.float32), {}

        def step(self, action):
            return np.ones(6, np.float32), 0.0, False, False, {}

    venv = VecNormalize(DummyVecEnv([Box]), norm_obs=True, norm_reward=False)
    venv.obs_rms.mean, venv.obs_rms.var = np.linspace(-1, 1, 6), np.linspace(0.5, 2.0, 6)
    model = PPO("MlpPolicy", venv, policy_kwargs={"net_arch": {"pi": [8, 8], "vf": [8]},
                                                  "activation_fn": torch.nn.ReLU}, seed=0)  # fmt: skip
    obs = np.random.default_rng(0).normal(size=(4, 6)).astype(np.float32) * 3
    expected, _ = model.predict(venv.normalize_obs(obs), deterministic=True)
    policy = h.sb3_policy("relu", normalize=True)(*h.sb3_weights_and_stats(model))
    np.testing.assert_allclose(np.asarray(policy(obs)), expected, atol=1e-5)
