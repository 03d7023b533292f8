"""The CLI end to end: ``python train_mjx.py --config configs/test.json`` on the leg-exo model; a point-mass run
that survives SIGKILL at random moments, SIGTERM and a resume that extends it."""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time

import pytest

from mjx_myoassist.ppo import checkpoint
from mjx_myoassist.ppo.checkpoint import load_policy
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
    policy = load_policy(session)
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


UPDATE = 8 * 16  # env steps per update of the tiny point-mass run below
INTERVAL = 2 * UPDATE  # env steps per log entry and checkpoint
TOTAL = 160 * UPDATE
TINY_POINTMASS = [
    "--config", "configs/pointmass.json", "--no-progress",
    "--config.env_params.num_envs", "8", "--config.ppo_params.n_steps", "16", "--config.ppo_params.batch_size", "32",
    "--config.env_params.physics_backend", "cpu", "--config.env_params.num_threads", "1",
    "--config.logger_params.logging_frequency", "2", "--config.total_timesteps", str(TOTAL),
    "--config.evaluate_param_list", '[{"num_timesteps": 5, "num_envs": 2}]',
]  # fmt: skip


class Run:
    """A ``train_mjx.py`` process with its output in files (a pipe could fill up and block it)."""

    def __init__(self, folder, name, *args):
        self.out, self.err = folder / f"{name}.out", folder / f"{name}.err"
        env = {**os.environ, "JAX_PLATFORMS": "cpu"}
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen([sys.executable, "train_mjx.py", *args], cwd=ROOT, env=env, stdout=out,
                                         stderr=err)  # fmt: skip

    def output(self):
        return self.out.read_text() + self.err.read_text()[-3000:]

    def wait_for(self, condition, what, timeout=900):
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.proc.poll() is None, f"exited ({self.proc.returncode}) before {what}:\n{self.output()}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{self.output()}"
            time.sleep(0.05)


def logged(session):
    path = session / "train_log.json"
    return [e["step"] for e in json.loads(path.read_text())] if path.is_file() else []


def resumed_at(run):
    run.wait_for(lambda: "resuming from" in run.out.read_text(), "the resume message")
    return int(re.search(r"resuming from \S+ \((\d+) steps\)", run.out.read_text()).group(1))


def kill_mid_training(run, session, rng):
    """SIGKILL at a random moment after the run logged something new; returns the last step logged before."""
    before = max(logged(session), default=0)
    run.wait_for(lambda: max(logged(session), default=0) > before, "a new log entry")
    time.sleep(rng.uniform(0.0, 1.5))
    last = max(logged(session))
    run.proc.send_signal(signal.SIGKILL)
    run.proc.wait()
    return last


@pytest.mark.slow
def test_run_survives_sigkill_sigterm_and_resume_extends_it(tmp_path):
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    first = Run(tmp_path, "run0", *TINY_POINTMASS, "--results-dir", str(tmp_path))
    first.wait_for(lambda: list(tmp_path.glob("train_session_*")), "the session folder")
    (session,) = tmp_path.glob("train_session_*")
    run = first
    for i in range(1, 4):
        last = kill_mid_training(run, session, rng)
        run = Run(tmp_path, f"run{i}", "--resume", str(session), "--no-progress")
        start = resumed_at(run)
        assert start >= last - INTERVAL, f"lost over one log interval (seed {seed}): logged {last}, resumed {start}"
    run.wait_for(lambda: max(logged(session)) > start, "training after the last resume")
    run.proc.send_signal(signal.SIGTERM)
    assert run.proc.wait(timeout=600) == 0, run.output()
    assert "SIGTERM: saving a checkpoint" in run.output()
    saved = checkpoint.latest_checkpoint(session)
    assert int(saved.name) == max(logged(session)) < TOTAL  # saved on the way out, not at a log point only
    extended = TOTAL + 10 * UPDATE
    final = Run(tmp_path, "final", "--resume", str(session), "--no-progress", "--config.total_timesteps", str(extended))
    assert resumed_at(final) == int(saved.name)
    assert final.proc.wait(timeout=1500) == 0, final.output()
    steps = logged(session)
    assert steps == sorted(set(steps)) and steps[-1] == extended, f"seed {seed}: {steps}"
    assert set(range(INTERVAL, int(saved.name) + 1, INTERVAL)) <= set(steps)  # every interval logged once
    assert not list(session.rglob("*.tmp-*")), "leftovers of the killed writes"
