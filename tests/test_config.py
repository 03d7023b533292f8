import json

import pytest

from mjx_myoassist.config import (
    PRESETS_DIR,
    ConfigError,
    ExoImitationTrainSessionConfig,
    HumanoidTrainSessionConfig,
    ImitationTrainSessionConfig,
    config_from_dict,
    load_config,
)
from tests.conftest import CONFIGS, fixture_path


def preset(name: str) -> dict:
    return json.loads((CONFIGS / name).read_text())


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIGS.glob("*.json")))
def test_every_preset_loads(name):
    load_config(CONFIGS / name)


@pytest.mark.parametrize("name", ["imitation_tutorial_22_separated_net_partial_obs.json", "test.json"])
def test_myoassist_json_runs_unchanged(name):
    config = load_config(fixture_path(name))
    assert isinstance(config, ExoImitationTrainSessionConfig)
    assert config.env_params.reward_keys_and_weights.qpos_imitation_rewards["knee_angle_l"] == 1.0
    assert config.policy_params.custom_policy_params.net_arch["exo_actor"] == [8, 8]


def test_hierarchy_by_env_id():
    assert type(load_config(CONFIGS / "imitation_22_baseline_no_exo.json")) is ImitationTrainSessionConfig
    humanoid = load_config(CONFIGS / "humanoid_stand.json")
    assert isinstance(humanoid, HumanoidTrainSessionConfig)
    assert humanoid.env_params.reward_function == "stand" and humanoid.env_params.frame_skip == 3


def test_dotted_overrides_convert_types():
    config = load_config(
        CONFIGS / "test.json",
        [
            "--config.total_timesteps", "1e3",
            "--config.env_params.num_envs", "16",
            "--config.env_params.flag_random_ref_index", "false",
            "--config.env_params.reward_keys_and_weights.qpos_imitation_rewards.knee_angle_l", "0.5",
            "--config.ppo_params.target_kl", "null",
            "--config.env_params.velocity_mode", "SINUSOIDAL",
        ],
    )  # fmt: skip
    assert config.total_timesteps == 1000 and isinstance(config.total_timesteps, int)
    assert config.env_params.num_envs == 16
    assert config.env_params.flag_random_ref_index is False
    assert config.env_params.reward_keys_and_weights.qpos_imitation_rewards["knee_angle_l"] == 0.5
    assert config.ppo_params.target_kl is None
    assert config.env_params.velocity_mode == "SINUSOIDAL"


def test_derived_sizes_are_properties():
    config = load_config(CONFIGS / "imitation_tutorial_22_separated_net_partial_obs.json")
    assert config.rollout_size == 512 * 32
    assert config.num_minibatches == 2
    assert config.substeps == 40


def test_defaults_are_not_shared():
    a, b = ImitationTrainSessionConfig(), ImitationTrainSessionConfig()
    a.env_params.observation_joint_sensor_keys.append("x")
    assert "x" not in b.env_params.observation_joint_sensor_keys


def expect_error(data, match, overrides=()):
    with pytest.raises(ConfigError, match=match):
        if overrides:
            path = CONFIGS / "test.json"
            load_config(path, overrides)
        else:
            config_from_dict(data)


def test_unknown_key_suggests():
    data = preset("test.json")
    data["env_params"]["num_env"] = 3
    expect_error(data, r"Unknown config key 'env_params.num_env'.*Did you mean 'num_envs'")


def test_unknown_override_suggests():
    expect_error(None, r"Unknown override '--config.ppo_params.learning_rte'.*learning_rate",
                 ["--config.ppo_params.learning_rte", "1"])  # fmt: skip


def test_wrong_type_names_key():
    data = preset("test.json")
    data["ppo_params"]["n_steps"] = "many"
    expect_error(data, r"'ppo_params.n_steps' must be an integer")
    data = preset("test.json")
    data["env_params"]["observation_joint_pos_keys"] = "ankle_angle_l"
    expect_error(data, r"'env_params.observation_joint_pos_keys' must be a list")


def test_rollout_smaller_than_batch():
    expect_error(None, r"n_steps \* env_params.num_envs = 16 \* 4 = 64 is smaller than ppo_params.batch_size = 128",
                 ["--config.ppo_params.batch_size", "128"])  # fmt: skip


def test_batch_not_multiple_of_envs():
    expect_error(None, r"batch_size = 6 must", ["--config.ppo_params.batch_size", "6"])


def test_missing_files():
    expect_error(
        None, r"reference_data_path 'nowhere.npz' not found", ["--config.env_params.reference_data_path", "nowhere.npz"]
    )
    expect_error(None, r"prev_trained_policy_path 'no/such' not found",
                 ["--config.env_params.prev_trained_policy_path", "no/such"])  # fmt: skip
    with pytest.raises(ConfigError, match="not found"):
        load_config("configs/does_not_exist.json")


def test_preset_names():
    """--config and load_config take a preset name, and configs/X.json from any folder (installed presets)."""
    by_name = load_config("test")
    assert by_name == load_config("test.json") == load_config(CONFIGS / "test.json")
    with pytest.raises(ConfigError, match=r"'tset' not found.*preset name: .*\btest\b"):
        load_config("tset")


def _config_with_reference(folder, reference: str):
    data = preset("test.json")
    data["env_params"]["reference_data_path"] = reference
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(data))
    return folder / "config.json"


def test_relative_paths_resolve_by_one_rule(tmp_path, monkeypatch):
    """The config's folder first, then the working directory; the config keeps the absolute path it checked."""
    from mjx_myoassist.envs.reference import DEFAULT_REFERENCE

    gait = (PRESETS_DIR.parent / "data" / DEFAULT_REFERENCE).read_bytes()
    config_path = _config_with_reference(tmp_path / "configs", "ref.npz")
    (tmp_path / "configs" / "ref.npz").write_bytes(gait)
    work = tmp_path / "work"
    work.mkdir()
    (work / "ref.npz").write_text("a different file in the working directory")
    monkeypatch.chdir(work)
    config = load_config(config_path)
    assert config.env_params.reference_data_path == str(tmp_path / "configs" / "ref.npz")

    (tmp_path / "configs" / "ref.npz").unlink()
    assert load_config(config_path).env_params.reference_data_path == str(work / "ref.npz")
    (work / "ref.npz").unlink()
    with pytest.raises(ConfigError, match=r"reference_data_path 'ref.npz' not found \(looked for .*configs.*work"):
        load_config(config_path)


def test_the_env_opens_the_file_that_was_validated(tmp_path, monkeypatch):
    """Validated against the config's folder, opened from another working directory: the same file."""
    from mjx_myoassist.envs import make
    from mjx_myoassist.envs.reference import DEFAULT_REFERENCE

    config_path = _config_with_reference(tmp_path / "configs", "ref.npz")
    (tmp_path / "configs" / "ref.npz").write_bytes((PRESETS_DIR.parent / "data" / DEFAULT_REFERENCE).read_bytes())
    (tmp_path / "ref.npz").write_text("not a reference: opening this one is the old bug")
    monkeypatch.chdir(tmp_path)  # a 'ref.npz' here too: the config's folder comes first
    config = load_config(config_path, ["--config.env_params.physics_backend", "cpu"])
    monkeypatch.chdir(tmp_path.parent)
    assert make(config).reference.length > 1


def test_unknown_env_id_and_terrain():
    data = preset("test.json")
    data["env_params"]["env_id"] = "myoAssistLegImitationExo-v1"
    expect_error(data, r"Unknown env_params.env_id.*Did you mean 'myoAssistLegImitationExo-v0'")
    data = preset("test.json")
    data["env_params"]["terrain_type"] = "harmonic"
    expect_error(data, r"terrain_type 'harmonic' is unknown.*harmonic_sinusoidal")


def indexing(data):
    return data["policy_params"]["custom_policy_params"]["net_indexing_info"]


def test_net_indexing_overlap():
    data = preset("test.json")
    indexing(data)["exo_actor"]["action"][0]["range_action"] = [21, 23]
    expect_error(data, r"action index 21 is written by both 'human_actor' and 'exo_actor'")


def test_net_indexing_gap():
    data = preset("test.json")
    indexing(data)["human_actor"]["action"][1]["range_net"] = [11, 21]
    indexing(data)["human_actor"]["action"][1]["range_action"] = [11, 21]
    expect_error(data, r"action indices \[21\] are written by no actor")


def test_net_indexing_malformed_range():
    data = preset("test.json")
    indexing(data)["exo_actor"]["observation"][0]["range"] = [5, 2]
    expect_error(data, r"exo_actor.observation\[0\]: 'range' \[5, 2\] must satisfy 0 <= start < end")


def test_net_indexing_missing_arch():
    data = preset("test.json")
    del data["policy_params"]["custom_policy_params"]["net_arch"]["exo_actor"]
    expect_error(data, r"exo_actor has no layer sizes in net_arch")


MYOASSIST_SESSION = "myoassist/docs/assets/tutorial_rl_models/train_session_20250728-161129_tutorial_partial_obs"
MYOASSIST_PRESETS = "myoassist/rl_train/train/train_configs"
PPO_COMPAT_KEYS = {"ppo_params.use_sde", "ppo_params.sde_sample_freq", "ppo_params.device"}
POLICY_COMPAT_KEYS = {
    f"policy_params.custom_policy_params.{k}"
    for k in ("reset_shared_net_after_load", "reset_policy_net_after_load", "reset_value_net_after_load",
              "human_observation_indices", "exo_observation_indices", "human_action_size", "exo_action_size")
}  # fmt: skip


def ignored_keys_reported(path, overrides=()):
    """(config, the keys listed by the IgnoredKeyWarning raised while loading: one line, or none)."""
    import warnings

    from mjx_myoassist.config import IgnoredKeyWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config = load_config(path, overrides)
    lines = [str(w.message) for w in caught if w.category is IgnoredKeyWarning]
    assert len(lines) <= 1 and all("\n" not in line for line in lines), lines  # one summary line
    return config, lines[0].rpartition("): ")[2].split(", ") if lines else []


@pytest.mark.parametrize(
    "name, expected",
    [
        (f"{MYOASSIST_SESSION}/session_config.json", PPO_COMPAT_KEYS | POLICY_COMPAT_KEYS | {"code_version"}),
        (f"{MYOASSIST_PRESETS}/imitation_tutorial_22_separated_net_partial_obs.json", PPO_COMPAT_KEYS),
        (f"{MYOASSIST_PRESETS}/imitation_tutorial_22_separated_net_exo_off.json", PPO_COMPAT_KEYS),
        (f"{MYOASSIST_PRESETS}/test.json", PPO_COMPAT_KEYS),
    ],
)
def test_myoassist_configs_load_and_ignored_keys_are_reported_once(name, expected):
    config, keys = ignored_keys_reported(fixture_path(name))
    assert sorted(keys) == sorted(expected)  # each key exactly once
    custom = config.policy_params.custom_policy_params
    assert custom.net_arch["exo_actor"] == [8, 8] and "exo_actor" in custom.net_indexing_info
    # MyoAssist's behaviour by default: raw observations, tanh after every layer, its init and Adam eps
    assert not config.ppo_params.normalize_observation and config.ppo_params.adam_eps == 1e-8
    assert custom.actor_output_activation == "tanh" and custom.weight_init == "myoassist"


def test_myoassist_keys_elsewhere_or_misspelled_are_still_errors():
    data = preset("test.json")
    data["env_params"]["use_sde"] = False
    expect_error(data, r"Unknown config key 'env_params.use_sde'")
    data = preset("test.json")
    data["policy_params"]["custom_policy_params"]["reset_value_net_after_lod"] = True
    expect_error(data, r"Unknown config key 'policy_params.custom_policy_params.reset_value_net_after_lod'.*Did you")


def test_ignored_myoassist_key_as_override():
    _, keys = ignored_keys_reported(CONFIGS / "test.json", ["--config.ppo_params.device", "cuda"])
    assert keys == ["ppo_params.device"]


def test_net_indexing_two_constants_on_one_action():
    data = preset("test.json")
    constant = {"type": "constant", "range_action": [22, 24], "default_value": 1.0}
    indexing(data)["exo_actor"]["action"].append(constant)  # overrides the exo actor's mapping: fine
    indexing(data)["human_actor"]["action"].append({**constant, "range_action": [23, 24]})
    expect_error(data, r"action index 23 is written by both 'human_actor' and 'exo_actor'")


def test_negative_keep_last_is_refused():
    with pytest.raises(ConfigError, match=r"logger_params.keep_last = -1 is out of range: it must be >= 0"):
        load_config(CONFIGS / "pointmass.json", ["--config.logger_params.keep_last", "-1"])


def test_ignored_myoassist_keys_print_as_one_line():
    import warnings

    from mjx_myoassist.config import IgnoredKeyWarning

    path = fixture_path(f"{MYOASSIST_SESSION}/session_config.json")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_config(path)
    (w,) = [w for w in caught if w.category is IgnoredKeyWarning]
    shown = warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line)
    assert shown.count("\n") == 1 and str(path) in shown and "code_version" in shown and "ppo_params.use_sde" in shown


def test_each_range_check_is_on_its_field():
    """The range checks live in the fields' metadata (schema.py) and say what they allow (the reference)."""
    import dataclasses

    from mjx_myoassist.config import REFERENCE_SECTIONS, validation

    assert not hasattr(validation, "FIELD_CHECKS")
    checked = {
        f"{cls.__name__}.{f.name}": f.metadata["check"]
        for _, cls in REFERENCE_SECTIONS
        for f in dataclasses.fields(cls)
        if f.metadata.get("check") is not None
    }
    assert len(checked) >= 50 and all(getattr(check, "allowed", "") for check in checked.values())
    assert checked["PPOParams.gamma"].allowed == ">= 0 and <= 1"


@pytest.mark.parametrize(
    "base, override, message",
    [
        ("humanoid_stand.json", ("env_params.reward_function", "stnd"), "reward_function 'stnd' is unknown. Did you"),
        ("pointmass.json", ("policy_params.custom_policy_params.activation", "gelu"), "activation 'gelu' is unknown"),
        (
            "test.json",
            ("policy_params.custom_policy_params.actor_output_activation", "sigmoid"),
            "actor_output_activation 'sigmoid' is unknown",
        ),
        (
            "test.json",
            (
                "env_params.terrain_type",
                "random",
                "env_params.terrain_params",
                "0.05",
                "env_params.terrain_curriculum_steps",
                "1000",
            ),
            "terrain_fields is 1: set terrain_fields to 2 or more",
        ),  # fmt: skip
    ],
)
def test_checks_that_need_only_the_config_run_when_it_loads(base, override, message):
    pairs = [f"--config.{text}" if i % 2 == 0 else text for i, text in enumerate(override)]
    with pytest.raises(ConfigError, match=message):
        load_config(CONFIGS / base, pairs)


def test_allowed_values_match_what_the_env_and_networks_implement():
    from mjx_myoassist.config import ACTIVATIONS, FLAT_TERRAINS, HUMANOID_REWARD_FUNCTIONS, OUTPUT_ACTIVATIONS
    from mjx_myoassist.envs import humanoid, terrain
    from mjx_myoassist.ppo import networks

    assert set(HUMANOID_REWARD_FUNCTIONS) == set(humanoid.REWARD_FUNCTIONS)
    assert set(ACTIVATIONS) == set(networks.ACTIVATIONS) and set(OUTPUT_ACTIVATIONS) == set(networks.OUTPUT_ACTIVATIONS)
    assert set(FLAT_TERRAINS) == set(terrain.FLAT_TYPES)
