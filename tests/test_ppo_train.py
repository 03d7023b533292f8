"""Trainer on the cheap point-mass task: learning, multi-device equivalence, target_kl, truncation bootstrap,
metrics merged over updates, divergence detection."""

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_myoassist.config import load_config
from mjx_myoassist.envs.base import Env, State
from mjx_myoassist.ppo import losses
from mjx_myoassist.ppo.normalizer import normalize
from mjx_myoassist.ppo.train import PARAMS_FINITE, Trainer, merge_metrics, nonfinite
from tests.conftest import CONFIGS, ROOT
from tests.conftest import SMALL_POINTMASS as SMALL


def run_updates(trainer, n):
    state = trainer.init()
    history = []
    for _ in range(n):
        state, metrics = trainer.train_epoch(state)
        history.append({k: float(v) for k, v in jax.device_get(metrics).items()})
    return state, history


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["mjx", "cpu"])
def test_learns_pointmass_well_above_random(backend):
    trainer = Trainer(load_config(CONFIGS / "pointmass.json", ["--config.env_params.physics_backend", backend]))
    _, history = run_updates(trainer, 20)
    first, last = history[0]["episode/return"], history[-1]["episode/return"]
    # a random policy scores about -15 here; reaching and holding the target scores above -5
    assert first < -10.0
    assert last > -6.0, [h["episode/return"] for h in history]


def test_epoch_metrics_and_counters():
    trainer = Trainer(load_config(CONFIGS / "pointmass.json", SMALL))
    state, history = run_updates(trainer, 2)
    assert int(state.env_steps) == 2 * 8 * 16 and int(state.update) == 2
    m = history[-1]
    for key in ("episode/return", "loss/policy", "loss/value", "loss/approx_kl", "loss/entropy", "reward/distance"):
        assert key in m and np.isfinite(m[key])
    assert m["loss/updates_applied"] == 4 * 4  # n_epochs * minibatches (128 / 32)
    assert m[PARAMS_FINITE] == 1.0
    _, poisoned = trainer.train_epoch(state.replace(params=jax.tree.map(lambda x: x * jnp.nan, state.params)))
    assert float(poisoned[PARAMS_FINITE]) == 0.0 and not np.isfinite(float(poisoned["loss/value"]))


def test_target_kl_stops_the_epoch_loop_early():
    overrides = SMALL + ["--config.ppo_params.target_kl", "1e-9", "--config.ppo_params.learning_rate", "0.01"]
    trainer = Trainer(load_config(CONFIGS / "pointmass.json", overrides))
    _, history = run_updates(trainer, 2)
    assert history[-1]["loss/early_stopped"] == 1.0
    assert history[-1]["loss/updates_applied"] < 4 * 4  # n_epochs * minibatches without the early stop


TWO_DEVICE_SCRIPT = """
import json, jax, numpy as np
from mjx_myoassist.config import load_config
from mjx_myoassist.ppo.train import Trainer
assert len(jax.devices()) == 2, jax.devices()
cfg = load_config("configs/pointmass.json", {overrides})
out = {{}}
for name, devices in (("two", jax.devices()), ("one", jax.devices()[:1])):
    trainer = Trainer(cfg, devices=devices)
    state = trainer.init()
    for _ in range(2):
        state, metrics = trainer.train_epoch(state)
    out[name] = (jax.tree.leaves(jax.device_get(state.params)), float(metrics["episode/return"]))
diff = max(float(np.abs(a - b).max()) for a, b in zip(out["two"][0], out["one"][0]))
print(json.dumps({{"max_param_diff": diff, "returns": [out["two"][1], out["one"][1]]}}))
"""


def test_two_cpu_devices_match_one_device():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"}
    script = TWO_DEVICE_SCRIPT.format(overrides=repr(SMALL))
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["max_param_diff"] < 1e-5, result
    assert result["returns"][0] == pytest.approx(result["returns"][1], rel=1e-5)


def test_num_envs_must_split_over_devices():
    from mjx_myoassist.config import ConfigError

    cfg = load_config(
        CONFIGS / "pointmass.json", ["--config.env_params.num_envs", "3", "--config.ppo_params.batch_size", "48"]
    )
    with pytest.raises(ConfigError, match="multiple of the 2 devices"):
        Trainer(cfg, devices=[jax.devices()[0]] * 2)


MULTI_PROCESS_SCRIPT = """
import json, sys
import jax, numpy as np
rank = int(sys.argv[1])
if rank >= 0:
    from mjx_myoassist.ppo.train import init_distributed
    init_distributed("localhost:" + sys.argv[2], 2, rank)
from mjx_myoassist.config import load_config
from mjx_myoassist.ppo import checkpoint
from mjx_myoassist.ppo.train import Trainer
trainer = Trainer(load_config("configs/pointmass.json", {overrides}), devices=None if rank >= 0 else jax.devices()[:1])
assert rank < 0 or len(trainer.mesh.devices.flat) == 2
state = trainer.init()
for _ in range(2):
    state, metrics = trainer.train_epoch(state)
leaves = [np.asarray(x).ravel() for x in jax.tree.leaves(checkpoint.to_host(state.params))]
print(json.dumps({{"params": np.concatenate(leaves).tolist()}}))
"""


def test_two_processes_with_jax_distributed_match_one_device():
    """Training across 2 processes (jax.distributed, gloo on CPU) equals the single-device run."""
    import socket

    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        port = str(sock.getsockname()[1])
    script = MULTI_PROCESS_SCRIPT.format(overrides=repr(SMALL))
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(r), port], cwd=ROOT, env=env, **pipes) for r in (0, 1)]
    outs = [p.communicate(timeout=600) for p in procs]
    single = subprocess.run([sys.executable, "-c", script, "-1", port], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600)  # fmt: skip
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    assert single.returncode == 0, single.stderr[-3000:]
    results = [json.loads(out.strip().splitlines()[-1])["params"] for out, _ in outs]
    reference = json.loads(single.stdout.strip().splitlines()[-1])["params"]
    np.testing.assert_allclose(results[0], results[1])
    np.testing.assert_allclose(results[0], reference, atol=1e-5)


class Countdown(Env):
    """Truncates every LIMIT steps, never terminates; observes (steps taken, 1), so the observation before
    the auto-reset, (LIMIT, 1), differs from the one after it, (0, 1)."""

    LIMIT = 3
    action_size = 1

    def reset(self, rng):
        zero = jnp.float32(0.0)
        info = {"rng": rng, "step": jnp.int32(0)}
        return State(jnp.zeros(1), jnp.array([0.0, 1.0]), zero, jnp.bool_(False), jnp.bool_(False), {}, info)

    def step(self, state, action):
        step = state.info["step"] + 1
        return state.replace(
            obs=jnp.stack([step.astype(jnp.float32), 1.0]),
            reward=jnp.float32(1.0),
            terminated=jnp.bool_(False),
            truncated=step >= self.LIMIT,
            info={**state.info, "step": step},
        )

    @property
    def dt(self):
        return 0.1


def test_truncation_bootstraps_from_the_pre_reset_observation(monkeypatch):
    """End to end through the trainer's epoch: at a truncated step the value target is r + gamma V(pre-reset obs)."""
    captured, real_gae = {}, losses.gae

    def spy(rewards, values, next_values, terminated, done, gamma, lam):
        adv, ret = real_gae(rewards, values, next_values, terminated, done, gamma, lam)
        record = lambda **kw: captured.update(jax.device_get(kw))  # noqa: E731
        jax.debug.callback(record, next_values=next_values, terminated=terminated, done=done, ret=ret)
        return adv, ret

    monkeypatch.setattr(losses, "gae", spy)
    config = load_config(CONFIGS / "pointmass.json", SMALL)
    trainer = Trainer(config, env=Countdown())
    state = trainer.init()
    params, stats = jax.device_get((state.params, state.normalizer))
    trainer.train_epoch(state)
    jax.effects_barrier()

    def value(obs):
        return float(trainer._policy(params, normalize(stats, jnp.asarray(obs, jnp.float32)))[2])

    truncated = (np.arange(16) + 1) % Countdown.LIMIT == 0
    np.testing.assert_array_equal(captured["done"], np.repeat(truncated[:, None], 8, axis=1))
    assert not captured["terminated"].any()
    v_final, v_reset = value([Countdown.LIMIT, 1.0]), value([0.0, 1.0])
    assert abs(v_final - v_reset) > 1e-4  # the critic tells the two apart, so a wrong wiring shows
    np.testing.assert_allclose(captured["next_values"][truncated], v_final, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(captured["ret"][truncated], 1.0 + config.ppo_params.gamma * v_final, rtol=1e-5)


def test_log_entry_merges_updates_episode_weighted():
    a = {"episode/return": 10.0, "episode/length": 5.0, "episode/count": 2.0, "episode/terminated": 1.0,
         "episode/truncated": 1.0, "loss/value": 1.0}  # fmt: skip
    b = {"episode/return": 0.0, "episode/length": 0.0, "episode/count": 0.0, "episode/terminated": 0.0,
         "episode/truncated": 0.0, "loss/value": 3.0}  # fmt: skip
    c = {**a, "episode/return": 4.0, "episode/count": 1.0, "episode/terminated": 0.0}
    merged = merge_metrics([a, b, c])
    assert merged["episode/return"] == pytest.approx((10 * 2 + 4) / 3)  # every episode since the last log
    assert merged["episode/count"] == 3 and merged["episode/terminated"] == 1 and merged["episode/truncated"] == 2
    assert merged["loss/value"] == pytest.approx(5 / 3)
    assert merge_metrics([b])["episode/return"] == 0.0


def test_nan_in_loss_or_parameters_is_reported():
    assert nonfinite({"loss/value": 1.0, "episode/return": float("nan"), PARAMS_FINITE: 1.0}) == []
    assert nonfinite({"loss/value": float("nan"), PARAMS_FINITE: 1.0}) == ["loss/value"]
    assert "parameters" in nonfinite({"loss/value": 1.0, PARAMS_FINITE: 0.0})[0]
