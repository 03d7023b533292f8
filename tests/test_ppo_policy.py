"""ppo/policy.py: any stored policy (our checkpoint or session, MyoAssist zip or session) -> one inference
function; MyoAssist's zip paths without '.zip' and its published session configs."""

import ast
import json
import shutil
from pathlib import Path

import jax
import numpy as np
import pytest

import mjx_myoassist.ppo.checkpoint as checkpoint_module
import mjx_myoassist.ppo.sb3_import as sb3_module
from mjx_myoassist.config import config_from_dict, load_config
from mjx_myoassist.errors import CheckpointError
from mjx_myoassist.ppo import networks, sb3_import
from mjx_myoassist.ppo.checkpoint import load_policy, resolve_source, restore_policy
from mjx_myoassist.ppo.networks import deterministic_policy
from mjx_myoassist.ppo.normalizer import RunningStats
from mjx_myoassist.ppo.policy import load_trained
from tests.conftest import FIXTURES, fixture_path

MYOASSIST = "myoassist"
TUTORIAL = f"{MYOASSIST}/docs/assets/tutorial_rl_models/train_session_20250728-161129_tutorial_partial_obs"
ROUGH = f"{MYOASSIST}/docs/assets/tutorial_rl_models/train_session_20250803-154021_rough"
TUTORIAL_ZIP = f"{TUTORIAL}/trained_models/model_19939328.zip"
ROUGH_CONFIG = f"{ROUGH}/session_config.json"


def root_override() -> list[str]:
    fixture_path(f"{MYOASSIST}/models/22muscle_2D/myoLeg22_2D_TUTORIAL.xml")  # fails under CI=true when absent
    return ["--config.env_params.myoassist_root", str(FIXTURES / MYOASSIST)]


def imports_of(module) -> set[str]:
    """Every module a source file imports, at module level or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return names


def test_sb3_import_sits_below_checkpoint():
    """checkpoint.load_policy reads MyoAssist's zips through sb3_import, which imports neither it nor policy."""
    assert not {n for n in imports_of(checkpoint_module) if n.endswith(".policy")}
    assert not {n for n in imports_of(sb3_module) if "checkpoint" in n or n.endswith(".policy")}
    assert checkpoint_module.CheckpointError is CheckpointError and issubclass(
        sb3_import.SB3ImportError, CheckpointError
    )


def test_one_forward_pass_with_and_without_normalization():
    layout = networks.make_layout(load_config("pointmass").policy_params.custom_policy_params, 4, 2)
    params = networks.init_params(layout, jax.random.PRNGKey(3))
    stats = RunningStats(mean=np.full(4, 0.5, np.float32), var=np.full(4, 4.0, np.float32), count=np.float32(10))
    obs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float64)  # cast to float32 by the policy
    for enabled, net_in in ((True, (obs - 0.5) / np.sqrt(4.0 + 1e-8)), (False, obs)):
        mean, _, _ = networks.ActorCritic(layout).apply(params, net_in.astype(np.float32))
        actions = np.asarray(deterministic_policy(layout, params, stats, enabled)(obs))
        np.testing.assert_allclose(actions, np.clip(mean, -1.0, 1.0), atol=1e-5)
        assert actions.dtype == np.float32


def test_zip_path_without_suffix_loads_the_zip(tmp_path):
    model = fixture_path(TUTORIAL_ZIP)
    written_as_myoassist_does = model.with_suffix("")
    assert not written_as_myoassist_does.exists()
    assert resolve_source(written_as_myoassist_does) == model
    obs = np.random.default_rng(1).normal(size=(3, 44)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(load_policy(written_as_myoassist_does)(obs)), load_policy(model)(obs))
    with pytest.raises(CheckpointError, match="does not exist.*session folder.*zip"):
        resolve_source(tmp_path / "model_1")


def test_load_trained_reads_a_myoassist_session_with_its_config_and_head():
    trained = load_trained(fixture_path(ROUGH_CONFIG).parent, overrides=root_override())
    assert trained.source.name == "model_219840512.zip" and trained.session == fixture_path(ROUGH_CONFIG).parent
    assert trained.config.env_params.terrain_type == "random" and trained.config.env_params.seed == 1234
    assert not trained.config.ppo_params.normalize_observation
    assert trained.config.policy_params.custom_policy_params.actor_output_activation == "tanh"
    obs = np.zeros((1, 44), np.float32)
    np.testing.assert_array_equal(np.asarray(trained.policy()(obs)), load_policy(trained.source)(obs))


def test_rough_session_config_loads_as_published_and_fits_its_warm_start():
    """MyoAssist's rough session_config.json names its warm start without '.zip', relative to MyoAssist's root."""
    config = load_config(fixture_path(ROUGH_CONFIG), root_override())
    prev = config.env_params.prev_trained_policy_path
    assert Path(prev) == fixture_path(TUTORIAL_ZIP)
    layout, _, _, meta = restore_policy(prev, with_config=False)
    head = sb3_import.with_myoassist_head(config).policy_params.custom_policy_params
    assert layout == networks.make_layout(head, 44, 24) and "config" not in meta


def test_myoassist_realtime_plotting_info_is_accepted_and_kept():
    data = json.loads(fixture_path(ROUGH_CONFIG).read_text())
    plots = [
        {"category": "joint_data", "name": "pelvis_tx", "property_type": "qvel", "y_lim": [0, 2.5],
         "plot_duration_type": "total", "filter": {"type": "butter", "order": 2, "cutoff": 2, "fs": 30}},
        {"category": "joint_data", "name": "hip_flexion_r", "property_type": "qpos", "y_lim": [-30, 40],
         "y_scale": 57.3},
    ]  # fmt: skip
    data["evaluate_param_list"][0]["realtime_plotting_info"] = plots
    data["env_params"]["myoassist_root"] = str(FIXTURES / MYOASSIST)
    config = config_from_dict(data, fixture_path(ROUGH_CONFIG).parent)
    assert config.evaluate_param_list[0].realtime_plotting_info == plots
    assert config_from_dict(config.to_dict()).evaluate_param_list[0].realtime_plotting_info == plots


@pytest.mark.slow
def test_warm_start_from_the_rough_session_config(tmp_path):
    """A session made from MyoAssist's rough config starts from its warm-start zip (actors, critic, log_std)."""
    from mjx_myoassist.session import Session

    small = [
        "--config.env_params.num_envs", "2", "--config.ppo_params.n_steps", "4", "--config.ppo_params.batch_size",
        "8", "--config.env_params.physics_backend", "cpu", "--config.env_params.terrain_type", "flat",
        "--config.env_params.terrain_params", "", "--config.evaluate_param_list", "[]",
    ]  # fmt: skip
    config = load_config(fixture_path(ROUGH_CONFIG), root_override() + small)
    session = getattr(Session, "new", Session)(config, results_dir=tmp_path)
    assert not session.config.ppo_params.normalize_observation  # MyoAssist's head, as the zip has it
    _, zip_params, _, _ = restore_policy(fixture_path(TUTORIAL_ZIP), with_config=False)
    for a, b in zip(jax.tree.leaves(zip_params), jax.tree.leaves(jax.device_get(session.state.params)), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_bare_zip_copy_without_suffix_needs_a_config(tmp_path):
    bare = shutil.copy(fixture_path(TUTORIAL_ZIP), tmp_path / "model_5.zip")
    with pytest.raises(CheckpointError, match="--config"):
        load_trained(Path(bare).with_suffix(""))
