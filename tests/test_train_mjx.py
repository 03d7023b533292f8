"""The CLI end to end: ``python train_mjx.py --config configs/test.json`` on the leg-exo model."""

import json
import os
import subprocess
import sys

import pytest

from mjx_myoassist.ppo import checkpoint
from tests.conftest import ROOT


def run_cli(*args, timeout=1500):
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    return subprocess.run(
        [sys.executable, "train_mjx.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
def test_test_preset_runs_end_to_end(tmp_path):
    out = run_cli("--config", "configs/test.json", "--results-dir", str(tmp_path), "--no-progress")
    assert out.returncode == 0, out.stderr[-3000:]
    (session,) = tmp_path.glob("train_session_*")
    log = json.loads((session / "train_log.json").read_text())
    assert [e["step"] for e in log] == [64, 128]
    assert "reward/qpos_imitation_rewards" in log[-1] and "reward/foot_force_penalty" in log[-1]
    policy = checkpoint.load_policy(session)
    import numpy as np

    action = np.asarray(policy(np.zeros((3, 44), np.float32)))
    assert action.shape == (3, 24) and np.all(np.abs(action) <= 1)


def test_bad_config_exits_with_message(tmp_path):
    out = run_cli(
        "--config", "configs/test.json", "--config.ppo_params.batch_sise", "8", "--results-dir", str(tmp_path)
    )
    assert out.returncode == 2
    assert "Unknown override '--config.ppo_params.batch_sise'" in out.stderr and "batch_size" in out.stderr
    assert "Traceback" not in out.stderr


def test_resume_of_a_non_session_is_explained(tmp_path):
    out = run_cli("--resume", str(tmp_path))
    assert out.returncode == 2 and "is not a training session" in out.stderr
