"""Sessions on disk: folder layout, Ctrl-C/SIGTERM checkpoint, exact resume, extension, retention, divergence."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from mjx_myoassist import session as session_module
from mjx_myoassist.config import ConfigError, load_config
from mjx_myoassist.ppo import checkpoint
from mjx_myoassist.ppo.train import TrainingDiverged
from mjx_myoassist.session import Session, write_json
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
    return Session.new(load_config(CONFIGS / "pointmass.json", OVERRIDES), results_dir=results).run(progress=False)


def test_session_folder_is_complete(straight_run):
    assert (straight_run / "session_config.json").is_file()
    log = json.loads((straight_run / "train_log.json").read_text())
    assert [e["step"] for e in log] == [128, 256, 384, 512]
    for key in ("episode/return", "episode/length", "reward/distance", "loss/approx_kl", "sps", "compile_time"):
        assert key in log[-1]
    assert sorted(int(p.name) for p in (straight_run / "trained_models").iterdir()) == [128, 256, 384, 512]
    assert list((straight_run / "tensorboard").glob("events.out.tfevents.*"))


class AfterUpdate:
    """A tqdm stand-in that calls ``action()`` at the end of the n-th training update."""

    def __init__(self, n, action):
        self.n, self.calls, self.action = n, 0, action

    def __call__(self, *args, **kwargs):
        return self

    def update(self, _):
        self.calls += 1
        if self.calls == self.n:
            self.action()

    disable = False

    def set_postfix_str(self, _):
        pass

    def close(self):
        pass


def send(sig):
    return lambda: os.kill(os.getpid(), sig)


def assert_same_policy(ckpt_a, ckpt_b):
    for a, b in zip(policy_arrays(ckpt_a), policy_arrays(ckpt_b), strict=True):
        np.testing.assert_array_equal(a, b)


def logged_steps(session_dir):
    return [e["step"] for e in json.loads((session_dir / "train_log.json").read_text())]


# no log before the end: a checkpoint at an interruption can only come from the save on the way out
UNLOGGED = OVERRIDES + ["--config.logger_params.logging_frequency", "4"]


def test_ctrl_c_checkpoints_and_resume_continues_exactly(straight_run, tmp_path, monkeypatch):
    monkeypatch.setattr(session_module, "tqdm", AfterUpdate(2, send(signal.SIGINT)))
    interrupted = Session.new(load_config(CONFIGS / "pointmass.json", UNLOGGED), results_dir=tmp_path).run(
        progress=False
    )
    assert checkpoint.latest_checkpoint(interrupted).name == "256"
    assert logged_steps(interrupted) == [256]
    monkeypatch.undo()
    resumed = Session.resume(interrupted).run(progress=False)
    assert resumed == interrupted
    assert_same_policy(checkpoint.latest_checkpoint(straight_run), checkpoint.latest_checkpoint(resumed))
    assert logged_steps(resumed) == [256, 512]


def test_sigterm_saves_like_ctrl_c(tmp_path, monkeypatch):
    def unhandled(*_):
        pytest.fail("SIGTERM reached the default handler: Session.run must catch it and save")

    previous = signal.signal(signal.SIGTERM, unhandled)
    try:
        monkeypatch.setattr(session_module, "tqdm", AfterUpdate(2, send(signal.SIGTERM)))
        stopped = Session.new(load_config(CONFIGS / "pointmass.json", UNLOGGED), results_dir=tmp_path).run(
            progress=False
        )
        assert signal.getsignal(signal.SIGTERM) is unhandled  # restored after the run
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert checkpoint.latest_checkpoint(stopped).name == "256" and logged_steps(stopped) == [256]


def test_nan_in_training_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # NaN actions make MuJoCo write MUJOCO_LOG.TXT there
    session = Session.new(load_config(CONFIGS / "pointmass.json", OVERRIDES), results_dir=tmp_path)

    def poison():
        session.state = session.state.replace(params=jax.tree.map(lambda x: x * np.nan, session.state.params))

    monkeypatch.setattr(session_module, "tqdm", AfterUpdate(2, poison))
    with pytest.raises(TrainingDiverged, match="NaN") as err:
        session.run(progress=False)
    assert str(session.dir / "trained_models" / "256") in str(err.value) and "learning_rate" in str(err.value)
    assert [step for step, _ in checkpoint.list_checkpoints(session.dir)] == [128, 256]
    assert logged_steps(session.dir) == [128, 256]
    assert all(np.isfinite(a).all() for a in policy_arrays(session.dir / "trained_models" / "256"))


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_resume_skips_a_corrupted_checkpoint_from_an_older_one_and_extends(straight_run, tmp_path):
    run = shutil.copytree(straight_run, tmp_path / "run")
    newest = run / "trained_models" / "512" / checkpoint.STATE_FILE
    newest.write_bytes(newest.read_bytes()[:100])  # a kill mid-copy, a full disk...
    with pytest.raises(checkpoint.CheckpointError, match=f"--resume {run / 'trained_models' / '384'}"):
        Session.resume(run)
    leftovers = [run / f"train_log.json.tmp-{dead_pid()}", run / "trained_models" / f"640.tmp-{dead_pid()}"]
    leftovers[0].write_text("[{")
    leftovers[1].mkdir()
    session = Session.resume(run / "trained_models" / "384", overrides=["--config.total_timesteps", "768"])
    assert not any(p.exists() for p in leftovers)
    session.run(progress=False)
    assert logged_steps(run) == [128, 256, 384, 512, 640, 768]  # no duplicates of the entries after 384
    assert_same_policy(straight_run / "trained_models" / "512", run / "trained_models" / "512")  # exact resume
    (aside,) = (run / "trained_models").glob("superseded-*")
    assert [p.name for p in aside.iterdir()] == ["512"]  # the corrupted one is set aside, not deleted
    assert json.loads((run / "session_config.json").read_text())["total_timesteps"] == 768


def test_resume_refuses_overrides_that_change_the_task_and_says_why(straight_run):
    with pytest.raises(ConfigError, match="env_params.num_envs' cannot change when resuming: it changes the task"):
        Session.resume(straight_run, overrides=["--config.env_params.num_envs", "16"])
    with pytest.raises(ConfigError, match="changes the network"):
        Session.resume(straight_run, overrides=["--config.policy_params.custom_policy_params.log_std_init", "0"])
    with pytest.raises(ConfigError, match="already reached"):
        Session.resume(straight_run, overrides=["--config.total_timesteps", "256"])
    config = session_module.load_session_config(
        straight_run, ["--config.logger_params.logging_frequency", "3", "--config.env_params.num_threads", "1"]
    )
    assert config.logger_params.logging_frequency == 3 and config.env_params.num_threads == 1


def test_log_files_are_replaced_atomically(tmp_path, monkeypatch):
    path = tmp_path / "train_log.json"
    write_json(path, [{"step": 1}])

    def dies_mid_write(data, f, **_):
        f.write('[{"step": 1}, {"st')
        raise OSError("killed")

    monkeypatch.setattr(session_module.json, "dump", dies_mid_write)
    with pytest.raises(OSError):
        write_json(path, [{"step": 1}, {"step": 2}])
    assert json.loads(path.read_text()) == [{"step": 1}]


# episodes end only at step 24 and 48 of 64: in updates 2 and 3 (16 steps each)
SYNCED = OVERRIDES + [
    "--config.env_params.custom_max_episode_steps", "24", "--config.env_params.start_range", "0.1",
    "--config.evaluate_param_list", '[{"num_timesteps": 8, "num_envs": 2}]',
    "--config.logger_params.evaluate_frequency", "1", "--config.logger_params.keep_last", "2",
]  # fmt: skip


def test_log_entries_count_every_episode_since_the_previous_log(tmp_path):
    every = Session.new(load_config(CONFIGS / "pointmass.json", SYNCED), results_dir=tmp_path).run(progress=False)
    pairs = SYNCED + ["--config.logger_params.logging_frequency", "2"]
    paired = Session.new(load_config(CONFIGS / "pointmass.json", pairs), results_dir=tmp_path).run(progress=False)
    per_update = json.loads((every / "train_log.json").read_text())
    merged = json.loads((paired / "train_log.json").read_text())
    assert [e["step"] for e in merged] == [256, 512]
    for entry, (a, b) in zip(merged, [per_update[0:2], per_update[2:4]], strict=True):
        count = a["episode/count"] + b["episode/count"]
        assert entry["episode/count"] == count > 0
        expected = (a["episode/return"] * a["episode/count"] + b["episode/return"] * b["episode/count"]) / count
        assert entry["episode/return"] == pytest.approx(expected, rel=1e-6)
    # retention (keep_last 2) keeps the two newest checkpoints, the best evaluation's and the first walk's
    evaluations = json.loads((every / "evaluations.json").read_text())
    best = max(reversed(evaluations), key=session_module.evaluation_score)["step"]
    first_walk = json.loads((every / "first_walk.json").read_text())["step"]  # the point mass lasts the walk test
    kept = {step for step, _ in checkpoint.list_checkpoints(every)}
    assert kept == {384, 512, best, first_walk}


def test_warm_start_from_previous_policy(straight_run, tmp_path):
    prev = checkpoint.latest_checkpoint(straight_run)
    overrides = OVERRIDES + ["--config.env_params.prev_trained_policy_path", str(prev)]
    warm = Session.new(load_config(CONFIGS / "pointmass.json", overrides), results_dir=tmp_path)
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
        Session.new(load_config(CONFIGS / "pointmass.json", overrides), results_dir=tmp_path)


# A session whose second update takes ``seconds`` longer in one compiled call, as a big config's update takes a
# minute: a call with a host callback runs synchronously, so the main thread sits in XLA and runs no Python
# signal handler until it returns.
SLOW_UPDATE = """
import json, sys, time
import jax, jax.numpy as jnp
from mjx_myoassist import session
from mjx_myoassist.config import load_config

seconds, results, overrides = float(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])

def busy(n, x):
    x = jax.pure_callback(lambda v: v, jax.ShapeDtypeStruct(x.shape, x.dtype), x)
    return jax.lax.fori_loop(0, n, lambda i, x: jnp.tanh(x @ x), x)

busy, x = jax.jit(busy), jnp.full((128, 128), 0.01)
busy(1, x).block_until_ready()
started = time.perf_counter()
busy(2000, x).block_until_ready()
loops = int(seconds / ((time.perf_counter() - started) / 2000))
fetch, calls = session._to_floats, []

def slow_second_update(metrics):
    calls.append(1)
    if len(calls) == 2:
        print("update running", flush=True)
        busy(loops, x).block_until_ready()
    return fetch(metrics)

session._to_floats = slow_second_update
session.Session.new(load_config("pointmass", overrides), results_dir=results).run(progress=False)
print("run returned", flush=True)
"""


class Training:
    """A training process (SLOW_UPDATE) with its output in a file."""

    def __init__(self, folder, slow_s):
        folder.mkdir()
        self.out, self.results = folder / "out.txt", folder / "results"
        env = {**os.environ, "JAX_PLATFORMS": "cpu"}
        with open(self.out, "w") as out:
            args = [sys.executable, "-c", SLOW_UPDATE, str(slow_s), str(self.results), json.dumps(UNLOGGED)]
            self.proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_for(self, text, timeout):
        deadline = time.monotonic() + timeout
        while text not in self.out.read_text():
            assert self.proc.poll() is None, f"exited before '{text}':\n{self.out.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no '{text}' in {timeout} s:\n{self.out.read_text()[-3000:]}"
            time.sleep(0.02)
        return time.monotonic()

    def interrupt(self):
        """SIGINT; the seconds until it is acknowledged."""
        sent = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        return self.wait_for("SIGINT: stopping after the current update", timeout=60) - sent


def test_ctrl_c_is_acknowledged_at_once_during_a_long_update_and_a_second_quits(tmp_path):
    slow_s = 30
    once, twice = Training(tmp_path / "once", slow_s), Training(tmp_path / "twice", slow_s)
    try:
        for run in (once, twice):
            run.wait_for("update running", timeout=900)
        time.sleep(0.5)
        assert once.interrupt() < 2.0
        assert twice.interrupt() < 2.0
        out = once.out.read_text()
        assert "(running for" in out and "(its time is printed after it)" in out  # what the acknowledgement says
        twice.proc.send_signal(signal.SIGINT)
        assert twice.proc.wait(timeout=600) != 0  # quits (once JAX has let go of the running call), no save
        assert once.proc.wait(timeout=600) == 0, once.out.read_text()[-3000:]
    finally:
        for run in (once, twice):
            run.proc.kill()
    out = once.out.read_text()
    assert re.search(r"SIGINT: saving a checkpoint at 256 steps.*\nsaved in \d+\.\d s\.\n", out, re.S), out[-3000:]
    assert "run returned" in out
    (session,) = (once.results).glob("train_session_*")
    assert checkpoint.latest_checkpoint(session).name == "256"
    (quit_session,) = (twice.results).glob("train_session_*")
    assert not list((quit_session / "trained_models").glob("[0-9]*"))  # quit without saving


WALK = OVERRIDES + ["--config.logger_params.evaluate_frequency", "2", "--config.logger_params.walk_test_episodes", "3"]


@pytest.mark.parametrize(("seconds", "walks"), [(0.05, True), (1000.0, False)])
def test_walk_test_runs_with_every_evaluation_and_records_the_first_walk(tmp_path, seconds, walks):
    keep_one = ["--config.logger_params.keep_last", "1"]
    overrides = WALK + keep_one + ["--config.logger_params.walk_test_seconds", str(seconds)]
    run = Session.new(load_config(CONFIGS / "pointmass.json", overrides), results_dir=tmp_path).run(progress=False)
    evaluations = json.loads((run / "evaluations.json").read_text())
    assert [e["step"] for e in evaluations] == [256, 512]
    for evaluation in evaluations:
        walk = evaluation["walk"]
        assert walk["episodes"] == len(walk["rows"]) == 3 and walk["seconds"] == seconds
        assert walk["all_walked"] == walks and walk["fraction"] == float(walks)
        assert evaluation["wall_s"] > 0
    log = {e["step"]: e for e in json.loads((run / "train_log.json").read_text())}
    assert log[256]["walk/fraction"] == float(walks) and "walk/fraction" not in log[128]
    assert log[512]["wall_s"] >= log[256]["wall_s"] > 0 and log[512]["compile_s_total"] > 0
    first = run / "first_walk.json"
    assert first.is_file() == walks
    if walks:
        record = json.loads(first.read_text())
        assert record["step"] == 256 and record["wall_s_with_compile"] > record["wall_s"] > 0
        assert 256 in {step for step, _ in checkpoint.list_checkpoints(run)}  # the first walking policy is kept


def test_best_checkpoint_is_chosen_by_the_walk_test_before_the_return():
    def evaluation(step, fraction, distance, ret):
        walk = {"fraction": fraction, "distance_mean": distance}
        return {"step": step, "entries": [{"return": ret}], "walk": walk}

    walks_all = evaluation(1, 1.0, 11.0, -5.0)
    walks_some_far = evaluation(2, 0.8, 30.0, 50.0)
    walks_all_less_far = evaluation(3, 1.0, 10.0, 99.0)
    ranked = sorted([walks_some_far, walks_all_less_far, walks_all], key=session_module.evaluation_score)
    assert ranked == [walks_some_far, walks_all_less_far, walks_all]
    no_walk_test = [{"step": 4, "entries": [{"return": 1.0}]}, {"step": 5, "entries": [{"return": 2.0}]}]
    assert max(no_walk_test, key=session_module.evaluation_score)["step"] == 5


def test_progress_line_shows_the_walk_test_or_the_humanoid_pose_test():
    from mjx_myoassist.session import progress_text

    base = {"episode/return": 1.0, "episode/length": 2.0, "sps": 3.0}
    assert progress_text({**base, "walk/fraction": 0.8, "walk/distance_mean": 10.17}).endswith(" walk=80% 10.2m")
    humanoid = {**base, "walk/fraction": 0.4, "walk/distance_mean": 0.6, "walk/torso_height_mean": 1.234}
    assert progress_text(humanoid).endswith(" lasted=40% torso=1.23m")


@pytest.mark.parametrize(("walk_test_seed", "expected"), [(None, 1234), (7, 7)])
def test_walk_test_starts_follow_their_own_seed_or_the_env_seed(tmp_path, monkeypatch, walk_test_seed, expected):
    from mjx_myoassist.evaluator import WalkTest

    seeds = []
    monkeypatch.setattr(WalkTest, "run", lambda self, params, stats, seed=0: seeds.append(seed) or {"rows": []})
    overrides = WALK + ["--config.env_params.seed", "1234", "--config.logger_params.walk_test_seed",
                        "null" if walk_test_seed is None else str(walk_test_seed)]  # fmt: skip
    session = Session.new(load_config(CONFIGS / "pointmass.json", overrides), results_dir=tmp_path)
    session._run_walk_test()
    assert seeds == [expected]
