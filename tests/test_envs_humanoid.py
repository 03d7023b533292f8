import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_myoassist.config import ConfigError, load_config
from mjx_myoassist.envs import humanoid, make
from tests.conftest import CONFIGS


def body_pos(torso_z=1.28, head_z=1.47, pelvis_z=0.86, torso_x=0.0, feet_x=0.0):
    pos = np.zeros((len(humanoid.TRACKED), 3))
    pos[humanoid.TORSO] = [torso_x, 0, torso_z]
    pos[humanoid.HEAD] = [torso_x, 0, head_z]
    pos[humanoid.PELVIS] = [torso_x, 0, pelvis_z]
    pos[humanoid.FOOT_R] = [feet_x, -0.1, 0.03]
    pos[humanoid.FOOT_L] = [feet_x, 0.1, 0.03]
    pos[[humanoid.SHIN_R, humanoid.SHIN_L], 2] = 0.42
    pos[[humanoid.HAND_R, humanoid.HAND_L], 2] = 1.0
    return jnp.asarray(pos)


def test_terms_on_hand_made_poses():
    assert humanoid.height_term(jnp.float32(1.282), 1.282) == pytest.approx(1.0)
    assert humanoid.height_term(jnp.float32(1.182), 1.282) == pytest.approx(np.exp(-1.0), rel=1e-4)
    assert humanoid.upright_term(body_pos()) == pytest.approx(1.0, abs=1e-5)
    lying = body_pos(head_z=0.86, pelvis_z=0.86).at[humanoid.HEAD, 0].set(0.6)
    assert humanoid.upright_term(lying) == pytest.approx(0.0, abs=1e-6)
    assert humanoid.balance_term(body_pos()) == pytest.approx(1.0)
    assert humanoid.balance_term(body_pos(torso_x=0.3)) == pytest.approx(np.exp(-0.9), rel=1e-4)
    assert humanoid.energy_term(jnp.ones(21)) == pytest.approx(1.0)
    assert humanoid.forward_velocity_term(jnp.float32(1.0), 1.0) == pytest.approx(1.0)


def test_pose_measures_on_hand_made_poses():
    assert humanoid.upright_angle(body_pos()) == pytest.approx(0.0, abs=0.2)  # float32 arccos near 1
    lying = body_pos(head_z=0.86, pelvis_z=0.86).at[humanoid.HEAD, 0].set(0.6)
    assert humanoid.upright_angle(lying) == pytest.approx(90.0, abs=0.1)
    assert humanoid.on_floor(body_pos(), "feet_contact") == 2
    assert humanoid.on_floor(body_pos().at[humanoid.FOOT_L, 2].set(0.2), "feet_contact") == 1
    kneeling = body_pos().at[humanoid.SHIN_R, 2].set(0.05).at[humanoid.SHIN_L, 2].set(0.06)
    assert humanoid.on_floor(kneeling, "knees_contact") == 2 and humanoid.on_floor(body_pos(), "knees_contact") == 0
    assert humanoid.on_floor(body_pos(), "hands_contact") == 0


def test_reset_stands_on_both_feet():
    env = make(load_config(CONFIGS / "humanoid_stand.json"))
    state = jax.jit(env.reset)(jax.random.PRNGKey(0))
    assert state.metrics["torso_height"] == pytest.approx(1.282, abs=0.02)
    assert state.metrics["feet_contact"] == 2 and state.metrics["upright_angle"] < 5.0
    assert state.metrics["knees_contact"] == 0 and state.metrics["hands_contact"] == 0


def test_reward_functions_by_key():
    assert set(humanoid.REWARD_FUNCTIONS) == {"stand", "kneel", "walk"}
    assert "forward" in humanoid.REWARD_FUNCTIONS["walk"]["weights"]
    assert humanoid.REWARD_FUNCTIONS["stand"]["weights"]["energy"] < 0


def test_kneel_rewards_going_down_from_standing():
    """Kneel's wide height term pays for lowering the torso from a stand (1.27 m) towards the kneel (0.75 m)."""
    kneel = humanoid.REWARD_FUNCTIONS["kneel"]["height_width"]
    at = lambda z: float(humanoid.height_term(jnp.float32(z), humanoid.KNEEL_HEIGHT, kneel))  # noqa: E731
    assert at(1.27) < at(1.1) < at(0.9) < at(0.75) == pytest.approx(1.0)
    assert at(1.1) > 0.2 and at(0.9) > 0.7


def test_kneel_pays_for_the_knees_on_the_floor():
    standing = body_pos()
    kneeling = standing.at[humanoid.SHIN_R, 2].set(0.05).at[humanoid.SHIN_L, 2].set(0.05)
    squatting = standing.at[humanoid.SHIN_R, 2].set(0.4).at[humanoid.SHIN_L, 2].set(0.4)
    assert float(humanoid.knees_down_term(kneeling)) > 0.85
    assert float(humanoid.knees_down_term(squatting)) < 0.01 and float(humanoid.knees_down_term(standing)) < 0.01
    assert "knees" in humanoid.REWARD_FUNCTIONS["kneel"]["weights"]
    assert "knees" not in humanoid.REWARD_FUNCTIONS["stand"]["weights"]


def test_kneel_pays_for_holding_still():
    """The stillness term is 1 at rest, small when the torso shuffles at 0.33 m/s; vertical speed is free."""
    still = jnp.zeros(27)
    at = lambda qvel: float(humanoid.stillness_term(qvel))  # noqa: E731
    assert at(still) == pytest.approx(1.0)
    assert at(still.at[2].set(1.0)) == pytest.approx(1.0)
    assert at(still.at[0].set(0.33)) < 0.1 and at(still.at[1].set(-0.33)) < 0.1
    assert "still" in humanoid.REWARD_FUNCTIONS["kneel"]["weights"]
    assert "still" not in humanoid.REWARD_FUNCTIONS["stand"]["weights"]


def test_unknown_reward_function():
    with pytest.raises(ConfigError, match="reward_function 'sit'"):
        make(load_config(CONFIGS / "humanoid_stand.json", ["--config.env_params.reward_function", "sit"]))


def test_reset_is_perturbed_per_env():
    env = make(load_config(CONFIGS / "humanoid_stand.json"))
    assert env.observation_size == 26 + 27 and env.action_size == 21
    assert env.dt == pytest.approx(0.015)
    states = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.PRNGKey(0), 3))
    q = np.asarray(jax.vmap(env.backend.view)(states.data).qpos)
    assert not np.allclose(q[0], q[1])
    assert np.abs(q - env.model.qpos0).max() <= env.params.reset_noise_scale + 1e-6
