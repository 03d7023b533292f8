import jax
import numpy as np
import pytest

from mjx_myoassist.config import load_config
from mjx_myoassist.ppo import checkpoint, networks
from mjx_myoassist.ppo.checkpoint import load_policy, restore_policy
from mjx_myoassist.ppo.normalizer import normalize
from mjx_myoassist.ppo.train import Trainer
from tests.conftest import CONFIGS
from tests.conftest import SMALL_POINTMASS as SMALL


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    config = load_config(CONFIGS / "pointmass.json", SMALL)
    trainer = Trainer(config)
    state, _ = trainer.train_epoch(trainer.init())
    path = checkpoint.save(tmp_path_factory.mktemp("ckpt") / "128", state, config, trainer.layout)
    return trainer, state, path


def test_roundtrip_restores_every_leaf(trained):
    trainer, state, path = trained
    restored = checkpoint.restore_state(path, trainer.init())
    for a, b in zip(jax.tree.leaves(jax.device_get(state)), jax.tree.leaves(restored), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not list(path.parent.glob("*.tmp-*"))  # written atomically, no leftovers


def test_load_policy_is_deterministic_mean_without_trainer(trained):
    _, state, path = trained
    policy = load_policy(path)
    obs = np.array([[0.3, -0.2, 0.0, 0.1], [0.0, 0.0, 0.0, 0.0]], np.float32)
    a1, a2 = np.asarray(policy(obs)), np.asarray(policy(obs))
    np.testing.assert_array_equal(a1, a2)
    layout = checkpoint.layout_from_meta(checkpoint.read_meta(path))
    mean, _, _ = networks.ActorCritic(layout).apply(state.params, normalize(state.normalizer, obs))
    np.testing.assert_allclose(a1, np.clip(mean, -1, 1), atol=1e-6)


def copy_ckpt(path, tmp_path):
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(path, target)
    return target


def test_truncated_file_gives_clear_error(trained, tmp_path):
    _, _, path = trained
    broken = copy_ckpt(path, tmp_path)
    data = (broken / checkpoint.STATE_FILE).read_bytes()
    (broken / checkpoint.STATE_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(checkpoint.CheckpointError, match="truncated or corrupted"):
        checkpoint.restore_state(broken, trained[0].init())


def test_corrupted_policy_and_missing_meta(trained, tmp_path):
    _, _, path = trained
    broken = copy_ckpt(path, tmp_path)
    data = bytearray((broken / checkpoint.POLICY_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (broken / checkpoint.POLICY_FILE).write_bytes(bytes(data))
    with pytest.raises(checkpoint.CheckpointError, match="checksum mismatch"):
        load_policy(broken)
    (broken / checkpoint.META_FILE).unlink()
    with pytest.raises(checkpoint.CheckpointError, match="write did not finish"):
        load_policy(broken)
    with pytest.raises(checkpoint.CheckpointError, match="does not exist"):
        load_policy(tmp_path / "nothing")


def test_checkpoint_from_other_config_is_refused(trained):
    _, _, path = trained
    other = Trainer(
        load_config(
            CONFIGS / "pointmass.json",
            [
                "--config.env_params.num_envs",
                "16",
                "--config.ppo_params.n_steps",
                "16",
                "--config.ppo_params.batch_size",
                "32",
            ],
        )
    )
    with pytest.raises(checkpoint.CheckpointError, match="differ from the checkpoint's config"):
        checkpoint.restore_state(path, other.init())


def test_restore_policy_meta_and_layouts_written_before_actor_output_activation(trained):
    _, _, path = trained
    layout, _, _, meta = restore_policy(path)
    assert meta["format"] == "mjx_myoassist" and meta["source"] == str(path) and meta["normalize_observation"] is True
    assert layout.actor_output_activation == "none"
    old = checkpoint.read_meta(path)
    del old["layout"]["actor_output_activation"]
    assert checkpoint.layout_from_meta(old) == layout


def test_checkpoint_without_env_state_is_smaller_and_restarts_episodes(trained, tmp_path):
    trainer, state, path = trained
    compact = checkpoint.save(tmp_path / "128", state, trainer.config, trainer.layout, env_state=False)
    assert (compact / checkpoint.STATE_FILE).stat().st_size < (path / checkpoint.STATE_FILE).stat().st_size
    template = trainer.init()
    restored = checkpoint.restore_state(compact, template)
    for a, b in zip(jax.tree.leaves(jax.device_get(state.params)), jax.tree.leaves(restored.params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert int(restored.env_steps) == int(state.env_steps)
    fresh = jax.device_get((template.env_state, template.episode_return))
    back = jax.device_get((restored.env_state, restored.episode_return))
    for a, b in zip(jax.tree.leaves(fresh), jax.tree.leaves(back), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_prune_keeps_the_newest_and_the_given_steps(tmp_path):
    root = tmp_path / "trained_models"
    for step in (128, 256, 384, 512, 640):
        (root / str(step)).mkdir(parents=True)
        (root / str(step) / checkpoint.META_FILE).write_text("{}")
    (root / "768").mkdir()  # incomplete: not a checkpoint, left alone
    removed = checkpoint.prune(tmp_path, keep_last=2, keep_steps=[256])
    assert sorted(p.name for p in removed) == ["128", "384"]
    assert sorted(p.name for p in root.iterdir()) == ["256", "512", "640", "768"]
    assert checkpoint.prune(tmp_path, keep_last=0) == []
