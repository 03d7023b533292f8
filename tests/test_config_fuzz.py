"""Mutated MyoAssist presets: every bad value is a ConfigError that names its key, never another exception.

Each mutation starts from a preset that loads (MyoAssist's own JSONs from the fixtures, or this
project's presets), changes one thing (a type, a range, a missing or null section, an index, a
path) and expects ``load_config`` to refuse it.  Mutations only detectable once the observation
and action sizes are known are checked when the env is built (cpu backend: no compile).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from mjx_myoassist.config import ConfigError, load_config
from tests.conftest import CONFIGS, fixture_path

MYOASSIST = "myoassist/rl_train/train/train_configs/"
BASES = {
    "myoassist_test": MYOASSIST + "test.json",
    "myoassist_partial_obs": MYOASSIST + "imitation_tutorial_22_separated_net_partial_obs.json",
    "test": "test.json",
    "humanoid": "humanoid_stand.json",
    "pointmass": "pointmass.json",
}
DELETE = object()
NI = "policy_params.custom_policy_params.net_indexing_info"
ARCH = "policy_params.custom_policy_params.net_arch"
EVAL0 = "evaluate_param_list[0]"


def base_path(base: str) -> Path:
    name = BASES[base]
    return fixture_path(name) if name.startswith("myoassist/") else CONFIGS / name


def _parts(path: str) -> list[Any]:
    """'a.b[0].c' -> ['a', 'b', 0, 'c']."""
    return [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]


def mutate(data: Any, path: str, value: Any) -> Any:
    """``data`` with the value at ``path`` replaced (or deleted); '' replaces the whole document."""
    if not path:
        return value
    *parents, last = _parts(path)
    node = data
    for part in parents:
        node = node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return data


# (id, base preset, [(path, value), ...], text the error must contain)
# fmt: off
MUTATIONS: list[tuple[str, str, list[tuple[str, Any]], str]] = [
    # types
    ("lr_string", "myoassist_test", [("ppo_params.learning_rate", "fast")], "ppo_params.learning_rate"),
    ("num_envs_fraction", "myoassist_test", [("env_params.num_envs", 1.5)], "env_params.num_envs"),
    ("batch_bool", "myoassist_test", [("ppo_params.batch_size", True)], "ppo_params.batch_size"),
    ("flag_string", "myoassist_test", [("env_params.flag_random_ref_index", "yes")], "flag_random_ref_index"),
    ("weight_string", "myoassist_partial_obs",
     [("env_params.reward_keys_and_weights.qpos_imitation_rewards.knee_angle_l", "high")], "knee_angle_l"),
    ("arch_not_list", "myoassist_test", [(ARCH + ".human_actor", 64)], "net_arch.human_actor"),
    ("eval_list_object", "test", [("evaluate_param_list", {})], "evaluate_param_list"),
    ("frame_skip_string", "humanoid", [("env_params.frame_skip", "3")], "env_params.frame_skip"),
    # ranges
    ("lr_negative", "myoassist_test", [("ppo_params.learning_rate", -1e-4)], "ppo_params.learning_rate"),
    ("lr_zero", "myoassist_partial_obs", [("ppo_params.learning_rate", 0)], "ppo_params.learning_rate"),
    ("lr_nan", "myoassist_test", [("ppo_params.learning_rate", math.nan)], "ppo_params.learning_rate"),
    ("control_rate_zero", "myoassist_test", [("env_params.control_framerate", 0)], "env_params.control_framerate"),
    ("control_rate_negative", "myoassist_partial_obs", [("env_params.control_framerate", -30)], "control_framerate"),
    ("physics_rate_not_multiple", "myoassist_test", [("env_params.physics_sim_framerate", 1000)],
     "env_params.physics_sim_framerate"),
    ("physics_rate_zero", "test", [("env_params.physics_sim_framerate", 0)], "env_params.physics_sim_framerate"),
    ("n_epochs_zero", "myoassist_test", [("ppo_params.n_epochs", 0)], "ppo_params.n_epochs"),
    ("n_steps_zero", "myoassist_test", [("ppo_params.n_steps", 0)], "ppo_params.n_steps"),
    ("batch_zero", "myoassist_test", [("ppo_params.batch_size", 0)], "ppo_params.batch_size"),
    ("gamma_above_one", "myoassist_test", [("ppo_params.gamma", 1.5)], "ppo_params.gamma"),
    ("gae_lambda_negative", "myoassist_partial_obs", [("ppo_params.gae_lambda", -0.1)], "ppo_params.gae_lambda"),
    ("clip_zero", "myoassist_test", [("ppo_params.clip_range", 0)], "ppo_params.clip_range"),
    ("clip_vf_negative", "myoassist_test", [("ppo_params.clip_range_vf", -1)], "ppo_params.clip_range_vf"),
    ("ent_coef_negative", "pointmass", [("ppo_params.ent_coef", -0.01)], "ppo_params.ent_coef"),
    ("vf_coef_negative", "pointmass", [("ppo_params.vf_coef", -0.5)], "ppo_params.vf_coef"),
    ("grad_norm_zero", "myoassist_test", [("ppo_params.max_grad_norm", 0)], "ppo_params.max_grad_norm"),
    ("target_kl_zero", "myoassist_test", [("ppo_params.target_kl", 0)], "ppo_params.target_kl"),
    ("timesteps_zero", "myoassist_test", [("total_timesteps", 0)], "total_timesteps"),
    ("num_envs_zero", "test", [("env_params.num_envs", 0)], "env_params.num_envs"),
    ("episode_steps_zero", "myoassist_test", [("env_params.custom_max_episode_steps", 0)], "custom_max_episode_steps"),
    ("seed_negative", "pointmass", [("env_params.seed", -1)], "env_params.seed"),
    ("threads_negative", "test", [("env_params.num_threads", -2)], "env_params.num_threads"),
    ("backend_unknown", "test", [("env_params.physics_backend", "gpu")], "env_params.physics_backend"),
    ("logging_zero", "myoassist_test", [("logger_params.logging_frequency", 0)], "logger_params.logging_frequency"),
    ("eval_frequency_negative", "myoassist_test", [("logger_params.evaluate_frequency", -1)], "evaluate_frequency"),
    ("trajectory_threshold_zero", "myoassist_test", [("env_params.out_of_trajectory_threshold", 0)],
     "env_params.out_of_trajectory_threshold"),
    ("velocity_period_zero", "myoassist_test", [("env_params.min_target_velocity_period", 0)],
     "env_params.min_target_velocity_period"),
    ("velocity_periods_swapped", "myoassist_partial_obs", [("env_params.min_target_velocity_period", 20)],
     "min_target_velocity_period"),
    ("velocities_swapped", "myoassist_test", [("env_params.min_target_velocity", 2.0)], "min_target_velocity"),
    ("velocity_mode_unknown", "test", [("env_params.velocity_mode", "FAST")], "env_params.velocity_mode"),
    ("curriculum_negative", "test", [("env_params.terrain_curriculum_steps", -1)], "terrain_curriculum_steps"),
    ("weight_nan", "myoassist_test", [("env_params.reward_keys_and_weights.forward_reward", math.nan)],
     "env_params.reward_keys_and_weights.forward_reward"),
    ("eval_envs_zero", "myoassist_test", [(EVAL0 + ".num_envs", 0)], EVAL0 + ".num_envs"),
    ("eval_steps_zero", "myoassist_test", [(EVAL0 + ".num_timesteps", 0)], EVAL0 + ".num_timesteps"),
    ("eval_period_zero", "test", [(EVAL0 + ".target_velocity_period", 0)], EVAL0 + ".target_velocity_period"),
    ("eval_mode_unknown", "myoassist_test", [(EVAL0 + ".velocity_mode", "FAST")], EVAL0 + ".velocity_mode"),
    ("eval_velocities_swapped", "test", [(EVAL0 + ".min_target_velocity", 3.0)], EVAL0 + ".min_target_velocity"),
    ("eval_camera_unknown", "myoassist_test", [(EVAL0 + ".cam_type", "drone")], EVAL0 + ".cam_type"),
    ("humanoid_frame_skip_zero", "humanoid", [("env_params.frame_skip", 0)], "env_params.frame_skip"),
    ("humanoid_noise_negative", "humanoid", [("env_params.reset_noise_scale", -0.1)], "reset_noise_scale"),
    ("pointmass_start_zero", "pointmass", [("env_params.start_range", 0)], "env_params.start_range"),
    ("arch_zero_width", "pointmass", [(ARCH + ".pi", [0, 32])], "net_arch.pi"),
    ("log_std_nan", "pointmass", [("policy_params.custom_policy_params.log_std_init", math.nan)], "log_std_init"),
    # missing or null sections
    ("document_null", "myoassist_test", [("", None)], "top level"),
    ("document_list", "pointmass", [("", [])], "top level"),
    ("env_params_null", "myoassist_test", [("env_params", None)], "env_params"),
    ("env_params_list", "myoassist_partial_obs", [("env_params", [])], "env_params"),
    ("humanoid_env_params_null", "humanoid", [("env_params", None)], "env_params"),
    ("ppo_params_null", "myoassist_partial_obs", [("ppo_params", None)], "ppo_params"),
    ("policy_params_null", "myoassist_test", [("policy_params", None)], "policy_params"),
    ("custom_policy_params_null", "myoassist_test", [("policy_params.custom_policy_params", None)],
     "custom_policy_params"),
    ("logger_params_null", "myoassist_test", [("logger_params", None)], "logger_params"),
    ("eval_list_null", "myoassist_test", [("evaluate_param_list", None)], "evaluate_param_list"),
    ("eval_entry_null", "myoassist_test", [(EVAL0, None)], EVAL0),
    ("actor_null", "myoassist_test", [(NI + ".human_actor", None)], NI + ".human_actor"),
    ("actor_observation_null", "myoassist_test", [(NI + ".human_actor.observation", None)],
     NI + ".human_actor.observation"),
    ("actor_action_missing", "myoassist_partial_obs", [(NI + ".exo_actor.action", DELETE)], NI),
    ("obs_entry_string", "myoassist_test", [(NI + ".human_actor.observation[0]", "range")],
     NI + ".human_actor.observation[0]"),
    ("obs_entry_no_type", "myoassist_test", [(NI + ".exo_actor.observation[0].type", DELETE)],
     NI + ".exo_actor.observation[0]"),
    ("action_no_range_net", "myoassist_test", [(NI + ".exo_actor.action[0].range_net", DELETE)],
     NI + ".exo_actor.action[0]"),
    ("critic_missing", "myoassist_partial_obs", [(NI + ".common_critic", DELETE)], "common_critic"),
    # bad indices
    ("obs_range_reversed", "myoassist_test", [(NI + ".exo_actor.observation[0].range", [5, 2])],
     NI + ".exo_actor.observation[0]"),
    ("obs_range_negative", "myoassist_test", [(NI + ".exo_actor.observation[0].range", [-1, 2])],
     NI + ".exo_actor.observation[0]"),
    ("obs_entry_unknown_type", "myoassist_test", [(NI + ".human_actor.observation[1].type", "slice")],
     NI + ".human_actor.observation[1]"),
    ("obs_index_strings", "myoassist_partial_obs",
     [(NI + ".exo_actor.observation[0]", {"type": "index", "index": ["a"]})], NI + ".exo_actor.observation[0]"),
    ("action_overlap", "myoassist_test", [(NI + ".exo_actor.action[0].range_action", [21, 23])], "action index 21"),
    ("action_lengths_differ", "myoassist_test", [(NI + ".human_actor.action[1].range_net", [11, 23])],
     NI + ".human_actor.action[1]"),
    ("action_gap", "myoassist_partial_obs",
     [(NI + ".human_actor.action[1].range_net", [11, 21]), (NI + ".human_actor.action[1].range_action", [11, 21])],
     "action indices [21]"),
    ("arch_missing_actor", "myoassist_test", [(ARCH + ".exo_actor", DELETE)], NI + ".exo_actor"),
    # bad paths (relative paths resolve against the config's folder, then the working directory)
    ("reference_missing", "myoassist_test", [("env_params.reference_data_path", "missing/ref.npz")],
     "env_params.reference_data_path"),
    ("reference_is_folder", "myoassist_partial_obs", [("env_params.reference_data_path", ".")],
     "env_params.reference_data_path"),
    ("reference_not_a_string", "myoassist_test", [("env_params.reference_data_path", ["a.npz"])],
     "env_params.reference_data_path"),
    ("warm_start_missing", "myoassist_test", [("env_params.prev_trained_policy_path", "no/such/session")],
     "env_params.prev_trained_policy_path"),
]

# Only detectable with the env's observation/action sizes (or its model): checked when the env is built.
BUILD_MUTATIONS: list[tuple[str, str, list[tuple[str, Any]], str]] = [
    ("critic_obs_beyond", "myoassist_test", [(NI + ".common_critic.observation[0].range", [0, 999])],
     NI + ".common_critic"),
    ("actor_obs_beyond", "myoassist_partial_obs", [(NI + ".human_actor.observation[5].range", [43, 45])],
     NI + ".human_actor"),
    ("fewer_observed_joints", "myoassist_test",
     [("env_params.observation_joint_vel_keys", ["ankle_angle_l", "ankle_angle_r"])], NI + ".human_actor"),
    ("action_beyond", "myoassist_test",
     [(NI + ".exo_actor.action[0].range_net", [0, 4]), (NI + ".exo_actor.action[0].range_action", [22, 26])],
     "beyond the action size 24"),
    ("unknown_joint", "myoassist_test", [("env_params.observation_joint_pos_keys", ["knee"])],
     "observation_joint_pos_keys"),
    ("unknown_sensor", "myoassist_partial_obs", [("env_params.observation_joint_sensor_keys", ["nose"])],
     "observation_joint_sensor_keys"),
    ("reference_keys_unknown", "myoassist_test", [("env_params.reference_data_keys", ["elbow"])],
     "env_params.reference_data_keys"),
    ("reference_not_json", "test", [("env_params.reference_data_path", "notes.json")],
     "env_params.reference_data_path"),
    ("reference_not_gait", "myoassist_test", [("env_params.reference_data_path", "config.json")],
     "env_params.reference_data_path"),
    ("humanoid_reward_unknown", "humanoid", [("env_params.reward_function", "dance")], "reward_function"),
]
# fmt: on


def write_mutated(base: str, changes: list[tuple[str, Any]], folder: Path) -> Path:
    """The mutated preset as ``folder/config.json`` (so relative paths resolve against ``folder``), next to a
    ``notes.json`` that is not JSON (a wrong file for path mutations to point at)."""
    (folder / "notes.json").write_text("not JSON: notes about this run")
    data = json.loads(base_path(base).read_text())
    for path, value in changes:
        data = mutate(data, path, value)
    out = folder / "config.json"
    out.write_text(json.dumps(data))
    return out


def expect_config_error(run, must_name: str) -> None:
    try:
        run()
    except ConfigError as err:
        assert must_name in str(err), f"the message does not name '{must_name}': {err}"
        return
    except Exception as err:  # noqa: BLE001 - the point of the test: nothing but ConfigError
        pytest.fail(f"{type(err).__name__} instead of a ConfigError naming '{must_name}': {err}")
    pytest.fail(f"accepted; expected a ConfigError naming '{must_name}'")


def test_enough_distinct_mutations():
    ids = [m[0] for m in MUTATIONS + BUILD_MUTATIONS]
    assert len(ids) == len(set(ids)) and len(ids) >= 40


@pytest.mark.parametrize("base", sorted(BASES))
def test_unmutated_presets_load(base, tmp_path):
    load_config(write_mutated(base, [], tmp_path))


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_mutation_is_a_config_error(mutation, tmp_path):
    _, base, changes, must_name = mutation
    path = write_mutated(base, changes, tmp_path)
    expect_config_error(lambda: load_config(path), must_name)


@pytest.mark.parametrize("mutation", BUILD_MUTATIONS, ids=[m[0] for m in BUILD_MUTATIONS])
def test_mutation_is_a_config_error_when_the_env_is_built(mutation, tmp_path):
    from mjx_myoassist.envs import make

    _, base, changes, must_name = mutation
    path = write_mutated(base, changes, tmp_path)
    expect_config_error(lambda: make(load_config(path, ["--config.env_params.physics_backend", "cpu"])), must_name)
