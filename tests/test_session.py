"""Sessions on disk: folder layout, Ctrl-C checkpoint, exact resume, warm start."""

import json

import numpy as np
import pytest

from mjx_myoassist import session as session_module
from mjx_myoassist.config import load_config
from mjx_myoassist.ppo import checkpoint
from mjx_myoassist.session import Session
from tests.conftest import CONFIGS

OVERRIDES = [
    "--config.env_params.num_envs", "8", "--config.ppo_params.n_steps", "16", "--config.ppo_params.batch_size", "32",
    "--config.total_timesteps", "512", "--config.logger_params.logging_frequency", "1",
]  # fmt: skip


def policy_arrays(ckpt):
    with np.load(ckpt / checkpoint.POLICY_FILE) as f:
        return [f[k] for k in sorted(f.files)]


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    return Session(load_config(CONFIGS / "pointmass.json", OVERRIDES), results_dir=results).run(progress=False)


def test_session_folder_is_complete(straight_run):
    assert (straight_run / "session_config.json").is_file()
    log = json.loads((straight_run / "train_log.json").read_text())
    assert [e["step"] for e in log] == [128, 256, 384, 512]
    for key in ("episode/return", "episode/length", "reward/distance", "loss/approx_kl", "sps", "compile_time"):
        assert key in log[-1]
    assert sorted(int(p.name) for p in (straight_run / "trained_models").iterdir()) == [128, 256, 384, 512]
    assert list((straight_run / "tensorboard").glob("events.out.tfevents.*"))


class InterruptAfter:
    """A tqdm stand-in that raises KeyboardInterrupt (Ctrl-C) on its n-th update."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __call__(self, *args, **kwargs):
        return self

    def update(self, _):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt

    def set_postfix(self, **_):
        pass

    def close(self):
        pass


def test_ctrl_c_checkpoints_and_resume_continues_exactly(straight_run, tmp_path, monkeypatch):
    monkeypatch.setattr(session_module, "tqdm", InterruptAfter(2))
    interrupted = Session(load_config(CONFIGS / "pointmass.json", OVERRIDES), results_dir=tmp_path).run(progress=False)
    assert checkpoint.latest_checkpoint(interrupted).name == "256"
    monkeypatch.undo()
    resumed = Session(resume=interrupted).run(progress=False)
    assert resumed == interrupted
    final_a = policy_arrays(checkpoint.latest_checkpoint(straight_run))
    final_b = policy_arrays(checkpoint.latest_checkpoint(resumed))
    for a, b in zip(final_a, final_b, strict=True):
        np.testing.assert_array_equal(a, b)
    log = json.loads((resumed / "train_log.json").read_text())
    assert [e["step"] for e in log] == [128, 256, 384, 512]


def test_warm_start_from_previous_policy(straight_run, tmp_path):
    prev = checkpoint.latest_checkpoint(straight_run)
    overrides = OVERRIDES + ["--config.env_params.prev_trained_policy_path", str(prev)]
    warm = Session(load_config(CONFIGS / "pointmass.json", overrides), results_dir=tmp_path)
    for a, b in zip(policy_arrays(prev)[:], [np.asarray(x) for x in _policy_leaves(warm)], strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(warm.state.env_steps) == 0


def _policy_leaves(sess):
    import jax

    return jax.tree.leaves(jax.device_get({"params": sess.state.params, "normalizer": sess.state.normalizer}))


def test_warm_start_with_other_network_is_refused(straight_run, tmp_path):
    prev = checkpoint.latest_checkpoint(straight_run)
    overrides = OVERRIDES + [
        "--config.env_params.prev_trained_policy_path", str(prev),
        "--config.policy_params.custom_policy_params.net_arch", '{"pi": [8], "vf": [8]}',
    ]  # fmt: skip
    with pytest.raises(checkpoint.CheckpointError, match="different network"):
        Session(load_config(CONFIGS / "pointmass.json", overrides), results_dir=tmp_path)
