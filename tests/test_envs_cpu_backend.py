"""CPU physics backend (MuJoCo C through pure_callback): state precision, batching, agreement with MJX, faults."""

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest

from mjx_myoassist.config import load_config
from mjx_myoassist.envs import make, resolve_backend, step_with_auto_reset
from mjx_myoassist.envs.base import prepare_auto_reset
from mjx_myoassist.envs.cpu_backend import CpuBackend, CpuState, join64, split64
from mjx_myoassist.models import load_model
from tests.conftest import CONFIGS


def test_float64_state_survives_the_float32_pair_encoding():
    x = np.array([1.0 + 1e-12, -3.14159265358979, 1e-20, 123456.789012345])
    hi, lo = split64(x)
    assert hi.dtype == np.float32 and lo.dtype == np.float32
    np.testing.assert_allclose(join64(hi, lo), x, rtol=1e-13, atol=1e-30)


def test_auto_resolves_to_cpu_on_a_cpu_only_machine():
    assert jax.default_backend() == "cpu"
    assert resolve_backend("auto") == "cpu" and resolve_backend("mjx") == "mjx"


@pytest.fixture(scope="module")
def backend():
    return CpuBackend(load_model("myolegs22_tutorial"), 40, ("pelvis",), num_threads=2)


def test_one_step_matches_plain_mujoco(backend):
    model = backend.model
    d = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, d, model.key("stand").id)
    ctrl = np.linspace(0, 1, model.nu) * (model.actuator_ctrlrange[:, 1] - model.actuator_ctrlrange[:, 0])
    ctrl += model.actuator_ctrlrange[:, 0]
    state = backend.init(jnp.asarray(d.qpos), jnp.asarray(d.qvel), jnp.asarray(d.act))
    state = jax.jit(backend.step)(state, jnp.asarray(ctrl, jnp.float32))
    d.ctrl[:] = np.asarray(jnp.asarray(ctrl, jnp.float32), np.float64)
    mujoco.mj_step(model, d, 40)
    np.testing.assert_allclose(join64(state.hi["qpos"], state.lo["qpos"]), d.qpos, atol=1e-6)
    np.testing.assert_allclose(join64(state.hi["act"], state.lo["act"]), d.act, atol=1e-6)
    assert float(backend.view(state).time) == pytest.approx(40 / 1200)


def test_batched_equals_one_by_one(backend):
    model = backend.model
    qpos = jnp.tile(jnp.asarray(model.key_qpos[0], jnp.float32), (3, 1))
    qpos = qpos.at[:, 1].add(jnp.array([0.0, 0.05, 0.1]))
    zeros = lambda n: jnp.zeros((3, n))  # noqa: E731
    ctrl = jnp.full((3, model.nu), -0.2).at[:, :22].set(0.3)
    batched = jax.jit(jax.vmap(lambda q, v, a, c: backend.step(backend.init(q, v, a), c)))(
        qpos, zeros(model.nv), zeros(model.na), ctrl
    )
    for i in range(3):
        single = backend.step(backend.init(qpos[i], jnp.zeros(model.nv), jnp.zeros(model.na)), ctrl[i])
        np.testing.assert_array_equal(np.asarray(batched.view.qpos[i]), np.asarray(single.view.qpos))
        np.testing.assert_array_equal(np.asarray(batched.view.foot_forces[i]), np.asarray(single.view.foot_forces))


def test_thread_count_comes_from_config():
    config = load_config(CONFIGS / "test.json", ["--config.env_params.physics_backend", "cpu",
                                                 "--config.env_params.num_threads", "3"])  # fmt: skip
    env = make(config)
    assert isinstance(env.backend, CpuBackend) and env.backend.num_threads == 3


def test_reset_observations_match_the_mjx_backend(leg_env, leg_batch, leg_config):
    """Same seed -> the same reset state and observation on both backends."""
    import dataclasses

    cpu_env = make(
        dataclasses.replace(leg_config, env_params=dataclasses.replace(leg_config.env_params, physics_backend="cpu"))
    )
    reset_mjx, _ = leg_batch
    keys = jax.random.split(jax.random.PRNGKey(0), 64)
    mjx_obs = np.asarray(reset_mjx(keys).obs)
    cpu_obs = np.asarray(jax.jit(jax.vmap(cpu_env.reset))(keys).obs)
    np.testing.assert_allclose(cpu_obs, mjx_obs, atol=2e-5)


def _nan_velocity(state, i):
    """``state`` with env ``i``'s first joint velocity set to NaN, on either backend."""
    data = state.data
    if isinstance(data, CpuState):
        data = data.replace(hi={**data.hi, "qvel": data.hi["qvel"].at[i, 0].set(jnp.nan)})
    else:
        data = data.replace(qvel=data.qvel.at[i, 0].set(jnp.nan))
    return state.replace(data=data)


def _step_with_fault(env, n, i):
    """Resets ``n`` envs, poisons env ``i`` with a NaN velocity and takes one auto-resetting step."""
    reset = jax.jit(jax.vmap(lambda k: prepare_auto_reset(env.reset(k))))
    step = jax.jit(jax.vmap(lambda s, a: step_with_auto_reset(env, s, a)))
    state = _nan_velocity(reset(jax.random.split(jax.random.PRNGKey(0), n)), i)
    return step(state, jnp.zeros((n, env.action_size)))


def _assert_fault_counted(out, i):
    fault = np.asarray(out.metrics["numerical_fault"])
    assert bool(out.terminated[i]) and not bool(out.truncated[i]), "a NaN state must terminate its episode"
    np.testing.assert_array_equal(fault, np.eye(len(fault))[i])  # counted for that env only
    assert np.isfinite(np.asarray(out.obs)).all() and np.isfinite(np.asarray(out.reward)).all()


@pytest.mark.parametrize("physics_backend", ["cpu", "mjx"])
def test_nan_state_terminates_and_is_counted_on_pointmass(physics_backend, tmp_path, monkeypatch):
    """MuJoCo's auto-reset used to hide a NaN on the cpu backend: the state silently went back to the default pose."""
    monkeypatch.chdir(tmp_path)  # MuJoCo writes its instability warnings to MUJOCO_LOG.TXT there
    overrides = ["--config.env_params.num_envs", "4", "--config.ppo_params.batch_size", "64",
                 "--config.env_params.physics_backend", physics_backend]  # fmt: skip
    env = make(load_config(CONFIGS / "pointmass.json", overrides))
    out = _step_with_fault(env, 4, 1)
    _assert_fault_counted(out, 1)
    assert np.isfinite(np.asarray(out.data.view.qvel if physics_backend == "cpu" else out.data.qvel)).all()


def test_nan_state_terminates_and_is_counted_on_the_leg(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    overrides = ["--config.env_params.num_envs", "4", "--config.ppo_params.batch_size", "4",
                 "--config.env_params.physics_backend", "cpu", "--config.env_params.num_threads", "2"]  # fmt: skip
    env = make(load_config(CONFIGS / "test.json", overrides))
    _assert_fault_counted(_step_with_fault(env, 4, 2), 2)


def test_cpu_backend_keeps_a_nan_state_instead_of_resetting_it(backend, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = backend.model
    state = backend.init(jnp.asarray(model.key_qpos[0], jnp.float32), jnp.zeros(model.nv), jnp.zeros(model.na))
    state = state.replace(hi={**state.hi, "qvel": state.hi["qvel"].at[3].set(jnp.nan)})
    stepped = backend.step(state, jnp.zeros(model.nu))
    assert not bool(backend.is_finite(stepped))
    assert float(backend.view(stepped).time) > 0  # MuJoCo's auto-reset would also have set the time back to 0
