"""The env registry: every registered env builds, resets and steps under jit(vmap)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_myoassist.config import ConfigError, load_config
from mjx_myoassist.envs import ENV_IDS, make, step_with_auto_reset
from mjx_myoassist.envs.base import action_to_ctrl, prepare_auto_reset
from tests.conftest import CONFIGS

PRESET = {
    "myoAssistLegImitation-v0": "imitation_22_baseline_no_exo.json",
    "myoAssistLegImitationExo-v0": "test.json",
    "humanoid-v0": "humanoid_stand.json",
    "pointmass-v0": "pointmass.json",
}
B = 2


def test_every_env_id_has_a_preset():
    assert set(PRESET) == set(ENV_IDS)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_registered_env_resets_and_steps(env_id, request):
    if env_id == "myoAssistLegImitationExo-v0":  # compiled once for the whole session
        env = request.getfixturevalue("leg_env")
        reset, step = request.getfixturevalue("leg_batch")
        n = 64
    else:
        env = make(
            load_config(
                CONFIGS / PRESET[env_id], ["--config.env_params.num_envs", "2", "--config.ppo_params.batch_size", "2"]
            )
        )
        reset = jax.jit(jax.vmap(lambda k: prepare_auto_reset(env.reset(k))))
        step = jax.jit(jax.vmap(lambda s, a: step_with_auto_reset(env, s, a)))
        n = B
    state = reset(jax.random.split(jax.random.PRNGKey(0), n))
    assert state.obs.shape == (n, env.observation_size)
    for i in range(3):
        action = jax.random.uniform(jax.random.PRNGKey(i), (n, env.action_size), minval=-1, maxval=1)
        state = step(state, action)
    assert state.reward.shape == (n,) and state.terminated.shape == (n,) and state.truncated.shape == (n,)
    for leaf in jax.tree.leaves((state.obs, state.reward, state.metrics)):
        assert np.isfinite(np.asarray(leaf)).all()


def test_action_mapping_mid_plus_half_range():
    ranges = jax.numpy.array([[0.0, 1.0], [-1.0, 0.0]])
    np.testing.assert_allclose(action_to_ctrl(jax.numpy.array([-1.0, 1.0]), ranges), [0.0, 0.0])
    np.testing.assert_allclose(action_to_ctrl(jax.numpy.array([0.0, 0.0]), ranges), [0.5, -0.5])
    np.testing.assert_allclose(action_to_ctrl(jax.numpy.array([3.0, -3.0]), ranges), [1.0, -1.0])


def test_unknown_env_id_is_a_config_error():
    with pytest.raises(ConfigError, match="Registered ids"):
        load_config(CONFIGS / "test.json", ["--config.env_params.env_id", "walker"])


def test_float64_physics_precision_switches_jax_to_64_bit():
    """In a fresh process (64-bit mode is process-wide): make() alone refuses, naming set_precision; after it,
    MJX state float64, observations float32."""
    import subprocess
    import sys

    code = (
        "import jax; from mjx_myoassist.config import ConfigError, load_config;"
        "from mjx_myoassist.envs import make, set_precision;"
        "c = load_config('pointmass', ['--config.env_params.physics_backend', 'mjx',"
        " '--config.env_params.physics_precision', 'float64']);\n"
        "try:\n make(c)\nexcept ConfigError as e:\n"
        " assert 'set_precision' in str(e) and not jax.config.jax_enable_x64\n"
        "else:\n raise SystemExit('make switched precision or ran in float32')\n"
        "set_precision(c); env = make(c); s = jax.jit(env.reset)(jax.random.PRNGKey(0));"
        "print(jax.config.jax_enable_x64, s.data.qpos.dtype, s.obs.dtype)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "True float64 float32"


def test_backends_register_by_config_name_and_declare_capabilities():
    """One registry entry per backend; capabilities are readable before a backend is built."""
    from mjx_myoassist.config import PHYSICS_BACKENDS, load_config
    from mjx_myoassist.envs.backends import BACKENDS, backend_class

    assert set(PHYSICS_BACKENDS) == {"auto", *BACKENDS}
    for name, cls in BACKENDS.items():
        assert cls.name == name and isinstance(cls.mesh_contacts, bool) and callable(cls.available)
    assert BACKENDS["cpu"].mesh_contacts and not BACKENDS["mjx"].mesh_contacts
    config = load_config(CONFIGS / "pointmass.json", ["--config.env_params.num_threads", "3"])
    assert backend_class(config.env_params).options(config.env_params) in ({}, {"num_threads": 3})
    env = make(load_config(CONFIGS / "pointmass.json", ["--config.env_params.physics_backend", "cpu"]))
    assert env.backend.precision == "float64" and env.root_x_qpos is None and env.reference is None
    state = env.step(env.reset(jax.random.PRNGKey(0)), jnp.zeros(env.action_size))
    assert set(env.backend.host_state(state.data)) == {"qpos", "qvel", "act"}
