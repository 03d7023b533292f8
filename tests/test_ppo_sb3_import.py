"""MyoAssist's trained SB3 policies: torch-free reading, exact reproduction, loading, warm start."""

import io
import os
import pickle
import shutil
import sys
import types
import warnings
import zipfile

import jax
import numpy as np
import pytest

from mjx_myoassist.config import load_config
from mjx_myoassist.ppo import checkpoint, networks, sb3_import
from mjx_myoassist.ppo.checkpoint import load_policy, resolve_source, restore_policy
from tests.conftest import fixture_path

SESSION = "myoassist/docs/assets/tutorial_rl_models/train_session_20250728-161129_tutorial_partial_obs"
MODEL = f"{SESSION}/trained_models/model_19939328.zip"
ROLLOUT = "recorded/rollout_partial_obs_seed0.npz"
EXPECTED_SHAPES = {
    "log_std": (24,),
    **{f"policy_network.human_policy_net.{i}.weight": s for i, s in ((0, (64, 44)), (2, (64, 64)), (4, (22, 64)))},
    **{f"policy_network.human_policy_net.{i}.bias": s for i, s in ((0, (64,)), (2, (64,)), (4, (22,)))},
    **{f"policy_network.exo_policy_net.{i}.weight": s for i, s in ((0, (8, 4)), (2, (8, 8)), (4, (2, 8)))},
    **{f"policy_network.exo_policy_net.{i}.bias": s for i, s in ((0, (8,)), (2, (8,)), (4, (2,)))},
    **{f"policy_network.value_net.{i}.weight": s for i, s in ((0, (64, 44)), (2, (64, 64)), (4, (1, 64)))},
    **{f"policy_network.value_net.{i}.bias": s for i, s in ((0, (64,)), (2, (64,)), (4, (1,)))},
}


@pytest.fixture(scope="module")
def rollout():
    with np.load(fixture_path(ROLLOUT)) as f:
        return {k: f[k] for k in ("obs", "action_mean", "action_predict", "value")}


@pytest.fixture(scope="module")
def imported():
    return restore_policy(fixture_path(MODEL))


def test_unpickler_reads_the_state_dict_without_torch():
    state, data = sb3_import.read_sb3_zip(fixture_path(MODEL))
    assert {k: v.shape for k, v in state.items()} == EXPECTED_SHAPES
    assert all(v.dtype == np.float32 for v in state.values())
    assert data["num_timesteps"] == 19939328


def test_imported_policy_reproduces_myoassist_actions_and_values(imported, rollout):
    layout, params, _, meta = imported
    assert layout.actor_output_activation == "tanh" and layout.activation == "tanh"
    assert [a.name for a in layout.actors] == ["human_actor", "exo_actor"] and layout.actors[1].obs_idx == (0, 1, 8, 9)
    assert meta["format"] == "myoassist_sb3" and meta["env_steps"] == 19939328 and not meta["normalize_observation"]
    mean, log_std, value = networks.ActorCritic(layout).apply(params, rollout["obs"])
    np.testing.assert_allclose(np.asarray(mean), rollout["action_mean"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(np.asarray(value), rollout["value"], atol=1e-5, rtol=0)
    state, _ = sb3_import.read_sb3_zip(fixture_path(MODEL))
    np.testing.assert_array_equal(np.asarray(log_std[0]), state["log_std"])


def test_load_policy_from_session_folder_and_zip(rollout):
    session = fixture_path(f"{SESSION}/session_config.json").parent
    assert resolve_source(session) == fixture_path(MODEL)
    for source in (session, fixture_path(MODEL)):
        actions = np.asarray(load_policy(source)(rollout["obs"]))
        np.testing.assert_allclose(actions, rollout["action_predict"], atol=1e-5, rtol=0)


def test_meta_config_comes_from_the_session_around_the_zip(imported, tmp_path):
    config = imported[3]["config"]
    assert config["ppo_params"]["normalize_observation"] is False
    assert config["policy_params"]["custom_policy_params"]["actor_output_activation"] == "tanh"
    assert config["env_params"]["out_of_trajectory_threshold"] == 0.6  # the published session's, not a preset's
    bare = shutil.copy(fixture_path(MODEL), tmp_path / "model_5.zip")
    layout, _, stats, meta = restore_policy(bare)
    assert "config" not in meta and meta["normalize_observation"] is False and layout == imported[0]
    np.testing.assert_array_equal(stats.mean, np.zeros(44))


def test_newest_model_zip_of_a_myoassist_session(tmp_path):
    (tmp_path / "trained_models").mkdir()
    for steps in (900, 19939328, 1200):
        shutil.copy(fixture_path(MODEL), tmp_path / "trained_models" / f"model_{steps}.zip")
    assert resolve_source(tmp_path).name == "model_19939328.zip"


@pytest.mark.slow
def test_warm_start_from_zip_keeps_actors_critic_and_log_std(rollout, tmp_path):
    from mjx_myoassist.session import Session

    overrides = [
        "--config.env_params.num_envs", "2", "--config.ppo_params.n_steps", "4", "--config.ppo_params.batch_size", "8",
        "--config.env_params.physics_backend", "cpu", "--config.env_params.prev_trained_policy_path",
        str(fixture_path(MODEL)),
        # ask for our head (normalised observations, linear output) to check the zip's head wins
        "--config.ppo_params.normalize_observation", "true",
        "--config.policy_params.custom_policy_params.actor_output_activation", "none",
    ]  # fmt: skip
    config = load_config(fixture_path("imitation_tutorial_22_separated_net_partial_obs.json"), overrides)
    assert (
        config.ppo_params.normalize_observation
        and config.policy_params.custom_policy_params.actor_output_activation == "none"
    )
    with pytest.warns(UserWarning, match="is a MyoAssist policy: training with its head"):
        session = Session.new(config, results_dir=tmp_path)
    assert not session.config.ppo_params.normalize_observation
    params = jax.device_get(session.state.params)
    mean, log_std, value = networks.ActorCritic(session.trainer.layout).apply(params, rollout["obs"])
    np.testing.assert_allclose(np.asarray(mean), rollout["action_mean"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(np.asarray(value), rollout["value"], atol=1e-5, rtol=0)
    np.testing.assert_array_equal(
        np.asarray(log_std[0]), np.asarray(restore_policy(fixture_path(MODEL))[1]["params"]["log_std"])
    )


def rewrite_zip(source, target, replace):
    """A copy of zip ``source`` with some entries' bytes replaced."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, replace.get(name, src.read(name)))
    return target


def test_corrupted_zip_gives_a_clear_error(tmp_path):
    data = fixture_path(MODEL).read_bytes()
    truncated = tmp_path / "model_1.zip"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(checkpoint.CheckpointError, match="truncated or corrupted"):
        restore_policy(truncated)
    with zipfile.ZipFile(fixture_path(MODEL)) as z:
        pth = z.read("policy.pth")
    broken = rewrite_zip(fixture_path(MODEL), tmp_path / "model_2.zip", {"policy.pth": pth[:2000]})
    with pytest.raises(sb3_import.SB3ImportError, match="policy.pth is not a PyTorch zip archive"):
        load_policy(broken)
    no_policy = tmp_path / "model_3.zip"
    with zipfile.ZipFile(no_policy, "w") as z:
        z.writestr("data", "{}")
    with pytest.raises(
        sb3_import.SB3ImportError, match=r"not a complete Stable-Baselines3 model zip: it lacks \['policy.pth'\]"
    ):
        restore_policy(no_policy)


def pth_with(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in entries.items():
            z.writestr(f"archive/{name}", data)
    return buffer.getvalue()


def test_unpickler_refuses_code(tmp_path):
    evil = pth_with({"data.pkl": pickle.dumps({"w": os.system}, protocol=2)})
    with pytest.raises(sb3_import.SB3ImportError, match=r"refers to '(posix|nt)\.system'.*could run code"):
        sb3_import.read_state_dict(evil)


@pytest.fixture
def fake_torch(monkeypatch):
    """Just enough of torch's module names for pickle to write a state dict the way torch.save does."""
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        raise AssertionError("only pickled here")

    FloatStorage.__module__, _rebuild_tensor_v2.__module__ = "torch", "torch._utils"
    FloatStorage.__qualname__, _rebuild_tensor_v2.__qualname__ = "FloatStorage", "_rebuild_tensor_v2"
    torch.FloatStorage, utils._rebuild_tensor_v2 = FloatStorage, _rebuild_tensor_v2
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return torch, utils


def torch_save(tensors: dict, storages: dict[str, bytes], byteorder: str, fake_torch) -> bytes:
    """Pickles {name: (storage key, numel, offset, size, stride)} like torch.save's data.pkl."""
    torch, utils = fake_torch

    class Tensor:
        def __init__(self, key, numel, offset, size, stride):
            self.spec = (("storage", torch.FloatStorage, key, "cpu", numel), offset, size, stride)

        def __reduce__(self):
            storage, offset, size, stride = self.spec
            return utils._rebuild_tensor_v2, (storage, offset, size, stride, False, {})

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return obj if isinstance(obj, tuple) and obj and obj[0] == "storage" else None

    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump({name: Tensor(*spec) for name, spec in tensors.items()})
    files = {"data.pkl": buffer.getvalue(), "byteorder": byteorder.encode()}
    return pth_with(files | {f"data/{k}": v for k, v in storages.items()})


def test_strided_offset_and_big_endian_tensors(fake_torch):
    values = np.arange(8, dtype=np.float32)
    tensors = {
        "transposed": ("0", 8, 1, (3, 2), (1, 3)),
        "scalar": ("0", 8, 7, (), ()),
        "shared": ("0", 8, 0, (8,), (1,)),
    }
    for order, dtype in (("little", "<f4"), ("big", ">f4")):
        state = sb3_import.read_state_dict(
            torch_save(tensors, {"0": values.astype(dtype).tobytes()}, order, fake_torch)
        )
        np.testing.assert_array_equal(state["transposed"], [[1, 4], [2, 5], [3, 6]])
        assert state["scalar"] == 7 and state["scalar"].shape == () and state["transposed"].dtype == np.float32
        np.testing.assert_array_equal(state["shared"], values)
    too_far = {"x": ("0", 8, 4, (3, 2), (1, 3))}
    with pytest.raises(sb3_import.SB3ImportError, match="reaches past its storage"):
        sb3_import.read_state_dict(torch_save(too_far, {"0": values.tobytes()}, "little", fake_torch))


def test_state_dict_that_does_not_fit_the_layout_is_refused(imported):
    state, _ = sb3_import.read_sb3_zip(fixture_path(MODEL))
    state["policy_network.exo_policy_net.4.weight"] = np.zeros((3, 8), np.float32)
    with pytest.raises(sb3_import.SB3ImportError, match=r"\['exo_actor'\]\['Dense_2'\]\['kernel'\] is \(8, 3\)"):
        sb3_import.params_from_state_dict(state, imported[0])
    state = {**sb3_import.read_sb3_zip(fixture_path(MODEL))[0], "features_extractor.w": np.zeros(1, np.float32)}
    with pytest.raises(sb3_import.SB3ImportError, match=r"no network here takes: \['features_extractor.w'\]"):
        sb3_import.params_from_state_dict(state, imported[0])


def test_human_only_policy_maps_to_one_actor():
    """MyoAssist's HumanActorCriticPolicy (policy_net/value_net over the whole observation)."""
    rng = np.random.default_rng(0)
    shapes = {"policy_net": [(16, 6), (16,), (4, 16), (4,)], "value_net": [(16, 6), (16,), (1, 16), (1,)]}
    state = {"log_std": np.zeros(4, np.float32)}
    for net, (w0, b0, w1, b1) in shapes.items():
        for index, (w, b) in ((0, (w0, b0)), (2, (w1, b1))):
            state[f"policy_network.{net}.{index}.weight"] = rng.normal(size=w).astype(np.float32)
            state[f"policy_network.{net}.{index}.bias"] = rng.normal(size=b).astype(np.float32)
    data = {"policy_kwargs": {"custom_policy_params": {"net_arch": {"human_actor": [16], "common_critic": [16]}}}}
    params_in = sb3_import._custom_policy_params(data, state, "x.zip")
    layout = networks.make_layout(params_in, 6, 4)
    params = sb3_import.params_from_state_dict(state, layout)
    obs = rng.normal(size=(3, 6)).astype(np.float32)
    mean, _, value = networks.ActorCritic(layout).apply(params, obs)

    def torch_mlp(net, x, tanh_output):
        hidden = np.tanh(x @ state[f"policy_network.{net}.0.weight"].T + state[f"policy_network.{net}.0.bias"])
        out = hidden @ state[f"policy_network.{net}.2.weight"].T + state[f"policy_network.{net}.2.bias"]
        return np.tanh(out) if tanh_output else out

    np.testing.assert_allclose(np.asarray(mean), torch_mlp("policy_net", obs, True), atol=1e-5)
    np.testing.assert_allclose(np.asarray(value), torch_mlp("value_net", obs, False)[:, 0], atol=1e-5)


def test_session_config_that_does_not_load_leaves_the_config_out(tmp_path):
    (tmp_path / "trained_models").mkdir()
    zip_path = shutil.copy(fixture_path(MODEL), tmp_path / "trained_models" / "model_7.zip")
    (tmp_path / "session_config.json").write_text('{"env_params": {"env_id": "no-such-env"}}')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, _, _, meta = restore_policy(tmp_path)
    assert meta["source"] == str(zip_path) and "config" not in meta
    assert any("does not load here" in str(w.message) for w in caught)
