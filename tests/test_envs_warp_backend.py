"""MuJoCo Warp physics backend (MJX impl='warp', on Warp's CPU device here): selection, buffer sizes, parity with
MuJoCo C on the leg, faults in a batch, training."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_myoassist.config import ConfigError, load_config
from mjx_myoassist.envs import backends, make, step_with_auto_reset, warp_backend
from mjx_myoassist.envs.base import prepare_auto_reset
from mjx_myoassist.envs.cpu_backend import CpuBackend
from mjx_myoassist.envs.warp_backend import WarpBackend, constraints_per_world, contacts_per_world
from mjx_myoassist.ppo.train import Trainer
from tests.conftest import CONFIGS
from tests.conftest import SMALL_POINTMASS as SMALL

LEG_BODIES = ("pelvis", "calcn_r", "calcn_l")


def _leg(backend: str, *extra: str):
    overrides = ["--config.env_params.num_envs", "4", "--config.ppo_params.batch_size", "4",
                 "--config.env_params.physics_backend", backend, "--config.env_params.num_threads", "1"]  # fmt: skip
    return load_config(CONFIGS / "test.json", [*overrides, *extra])


@pytest.fixture(scope="module")
def leg_model():
    return make(_leg("cpu")).model


@pytest.fixture(scope="module")
def warp():
    return pytest.importorskip("warp")


@pytest.mark.parametrize(
    ("jax_backend", "nvidia", "installed", "expected"),
    [("cpu", False, True, "cpu"), ("gpu", True, True, "warp"), ("gpu", True, False, "mjx"), ("gpu", False, True, "mjx"),
     ("tpu", False, True, "mjx")],
)  # fmt: skip
def test_auto_picks_warp_on_nvidia_gpus_when_installed(monkeypatch, jax_backend, nvidia, installed, expected):
    monkeypatch.setattr(backends.jax, "default_backend", lambda: jax_backend)
    monkeypatch.setattr(backends, "_has_nvidia_gpu", lambda: nvidia)
    monkeypatch.setattr(warp_backend, "warp_available", lambda: installed)
    assert backends.resolve_backend("auto") == expected
    assert backends.resolve_backend("warp") == "warp" and backends.resolve_backend("cpu") == "cpu"


def test_warp_without_warp_installed_is_a_config_error_with_the_install_command(monkeypatch):
    monkeypatch.setattr(warp_backend, "warp_available", lambda: False)
    with pytest.raises(ConfigError, match=r'pip install -e "\.\[warp\]"'):
        make(_leg("warp"))


def test_buffers_cover_every_foot_contact_and_constraint_row_of_the_leg(leg_model):
    # 22 foot spheres against the floor plane: one contact each; rows: 28 joint equalities, 36 joint limits and
    # 4 pyramid rows per contact (condim 3)
    assert contacts_per_world(leg_model) == 22
    assert constraints_per_world(leg_model, 22) == 28 + 36 + 22 * 4


def test_warp_needs_the_mjx_ready_edits(warp):
    config = _leg("warp")
    config = dataclasses.replace(config, env_params=dataclasses.replace(config.env_params, mjx_ready_edits=False))
    with pytest.raises(ConfigError, match="mjx_ready_edits"):
        make(config)


def _rollout(backend, qpos, ctrl):
    """Views after each control step of ``ctrl`` [n, nu] from rest at ``qpos`` (one jitted scan)."""

    def run(q, c):
        model = backend.model
        state = backend.init(q, jnp.zeros(model.nv), jnp.zeros(model.na))

        def one(s, u):
            s = backend.step(s, u)
            return s, backend.view(s)

        return jax.lax.scan(one, state, c)[1]

    return jax.device_get(jax.jit(run)(qpos, ctrl))


@pytest.mark.slow
def test_leg_matches_mujoco_c_over_control_steps(warp, leg_model):
    """5 control steps (200 physics steps at 1200 Hz, Newton 4 iterations) of random muscle excitation from standing,
    warp (float32) against MuJoCo C (float64, the cpu backend).  Measured: qpos 1.7e-3, qvel 3.4e-2, act 1.8e-7,
    foot forces 0.43 N (of ~1.2 kN), joint-limit forces 0.08 N (of ~290 N), body positions 1.7e-5 m; the bounds
    are ~3x that.  The gap opens at the first foot impacts (float32 vs float64 contact timing) and then shrinks."""
    model = leg_model
    rng = np.random.default_rng(0)
    low, high = model.actuator_ctrlrange[:, 0], model.actuator_ctrlrange[:, 1]
    ctrl = jnp.asarray(low + rng.uniform(0, 1, (5, model.nu)) * (high - low), jnp.float32)
    qpos = jnp.asarray(model.key_qpos[model.key("stand").id], jnp.float32)
    warp_view = _rollout(WarpBackend(model, 40, LEG_BODIES), qpos, ctrl)
    c_view = _rollout(CpuBackend(model, 40, LEG_BODIES, num_threads=1), qpos, ctrl)
    assert np.abs(c_view.foot_forces).max() > 500 and np.abs(c_view.joint_limit_forces).max() > 100  # not all zeros
    bounds = {"qpos": 5e-3, "qvel": 0.1, "act": 1e-6, "foot_forces": 1.5, "joint_limit_forces": 0.3, "body_pos": 1e-4}
    for field, atol in bounds.items():
        np.testing.assert_allclose(getattr(warp_view, field), getattr(c_view, field), atol=atol, err_msg=field)
    np.testing.assert_allclose(warp_view.time, (np.arange(5) + 1) * 40 / 1200, rtol=1e-6)


@pytest.mark.slow
def test_contact_overflow_is_a_fault_not_silently_dropped_contacts(warp, leg_model):
    backend = WarpBackend(leg_model, 1, LEG_BODIES)
    backend.contacts_per_world = 1  # standing on both feet makes more than one contact
    qpos = jnp.asarray(leg_model.key_qpos[leg_model.key("stand").id], jnp.float32)
    state = jax.jit(lambda q: backend.step(backend.init(q, jnp.zeros(leg_model.nv), jnp.zeros(leg_model.na)),
                                           jnp.zeros(leg_model.nu)))(qpos)  # fmt: skip
    assert int(state.overflow) != 0 and not bool(backend.is_finite(state))


@pytest.fixture(scope="module")
def leg_warp_batch(warp):
    env = make(_leg("warp", "--config.env_params.out_of_trajectory_threshold", "100"))  # zero actions drift off it
    reset = jax.jit(jax.vmap(lambda k: prepare_auto_reset(env.reset(k))))
    step = jax.jit(jax.vmap(lambda s, a: step_with_auto_reset(env, s, a)))
    return env, reset, step


@pytest.mark.slow
def test_a_nan_env_is_terminated_and_counted_without_touching_the_others(leg_warp_batch):
    env, reset, step = leg_warp_batch
    assert isinstance(env.backend, WarpBackend)
    state = reset(jax.random.split(jax.random.PRNGKey(0), 4))
    action = jnp.zeros((4, env.action_size))
    clean = step(state, action)
    view = state.data.view
    poisoned = state.replace(data=state.data.replace(view=view.replace(qvel=view.qvel.at[2, 0].set(jnp.nan))))
    out = step(poisoned, action)
    np.testing.assert_array_equal(np.asarray(out.metrics["numerical_fault"]), [0, 0, 1, 0])
    assert bool(out.terminated[2]) and not bool(out.truncated[2])
    assert np.isfinite(np.asarray(out.obs)).all() and np.isfinite(np.asarray(out.data.view.qvel)).all()
    others = np.array([0, 1, 3])
    assert not np.asarray(clean.done).any()
    np.testing.assert_allclose(np.asarray(out.obs)[others], np.asarray(clean.obs)[others], atol=1e-5)
    np.testing.assert_allclose(np.asarray(out.reward)[others], np.asarray(clean.reward)[others], atol=1e-5)


@pytest.mark.slow
def test_pointmass_trains_on_warp():
    trainer = Trainer(load_config(CONFIGS / "pointmass.json", SMALL + ["--config.env_params.physics_backend", "warp"]))
    assert isinstance(trainer.env.backend, WarpBackend)
    state = trainer.init()
    for _ in range(2):
        state, metrics = trainer.train_epoch(state)
    metrics = jax.device_get(metrics)
    assert int(state.env_steps) == 2 * 8 * 16
    assert all(np.isfinite(float(metrics[k])) for k in ("episode/return", "loss/policy", "loss/value"))
