"""The leg env on MyoAssist's own model: same observations as MyoAssist's env, and its policy walks.

Reference: the rollout recorded by running MyoAssist's own env with its published
partial-obs policy (fixtures ``recorded/``).
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_myoassist.config import ConfigError, load_config
from mjx_myoassist.envs import make
from mjx_myoassist.models.edits import via_point_joints
from mjx_myoassist.models.leg import trunk_quaternion
from tests.conftest import fixture_path

PRESET = "imitation_tutorial_22_separated_net_partial_obs.json"
SESSION = "myoassist/docs/assets/tutorial_rl_models/train_session_20250728-161129_tutorial_partial_obs"
JOINT_AND_ACTIVATION_OBS = slice(0, 39)
FOOT_OBS = slice(39, 43)


def myoassist_overrides(edits: bool, backend: str = "cpu") -> list[str]:
    root = fixture_path("myoassist/models/22muscle_2D/myoLeg22_2D_TUTORIAL.xml").parents[2]
    reference = fixture_path("recorded/surrogate_short_reference_gait.npz")
    return [
        "--config.env_params.myoassist_root", str(root),
        "--config.env_params.reference_data_path", str(reference),
        "--config.env_params.physics_backend", backend,
        "--config.env_params.mjx_ready_edits", "true" if edits else "false",
        "--config.env_params.min_target_velocity", "1.25",
        "--config.env_params.max_target_velocity", "1.25",
    ]  # fmt: skip


def myoassist_env(edits: bool, backend: str = "cpu"):
    return make(load_config(fixture_path(PRESET), myoassist_overrides(edits, backend)))


@pytest.fixture(scope="module")
def rollout():
    return np.load(fixture_path("recorded/rollout_partial_obs_seed0.npz"))


def observations_at_recorded_states(env, rollout) -> np.ndarray:
    """Our observation with our physics set to each recorded state (forces from forward dynamics)."""
    observe = jax.jit(lambda q, v, a, c: env._obs(env.backend.view(env.backend.forward(q, v, a, c)), jnp.float32(1.25)))
    states = [rollout[k][:-1].astype(np.float32) for k in ("qpos", "qvel", "act", "ctrl")]
    return np.stack([np.asarray(observe(*(s[t] for s in states))) for t in range(len(states[0]))])


@pytest.mark.parametrize("edits", [False, True], ids=["original_contacts", "mjx_ready"])
def test_observation_equals_myoassist_at_recorded_states(rollout, edits):
    """obs[t + 1] of MyoAssist's env is the observation of the state after step t."""
    ours = observations_at_recorded_states(myoassist_env(edits), rollout)
    theirs = rollout["obs"][1:]
    np.testing.assert_allclose(ours[:, JOINT_AND_ACTIVATION_OBS], theirs[:, JOINT_AND_ACTIVATION_OBS], atol=1e-6)
    assert ours[:, -1] == pytest.approx(1.25)
    foot_error = np.abs(ours[:, FOOT_OBS] - theirs[:, FOOT_OBS])  # body weights
    if not edits:
        # MyoAssist's mesh contacts: mujoco 3.11 vs the recording's 3.3.3 (the same gap as plain MuJoCo C)
        assert foot_error.mean() < 0.05 and np.median(foot_error) < 0.01
    else:
        # spheres instead of meshes vs a plane + height field: static forces differ, loading pattern agrees
        loaded = theirs[:, FOOT_OBS] > 0.3
        assert (ours[:, FOOT_OBS][loaded] > 0).mean() > 0.8


def test_trunk_is_leaned_as_myoassist_does():
    env = myoassist_env(edits=True)
    np.testing.assert_allclose(env.model.body("torso").quat, trunk_quaternion(-0.13), atol=1e-12)
    assert 2 * np.degrees(np.arctan(0.13)) == pytest.approx(14.8, abs=0.05)


def test_original_contacts_need_the_cpu_backend():
    with pytest.raises(ConfigError, match="physics_backend to 'cpu'"):
        myoassist_env(edits=False, backend="mjx")


def test_float32_mjx_names_the_via_point_fix_and_the_armature_is_applied():
    x64 = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", False)  # the warning is about float32 MJX
    try:
        with pytest.warns(UserWarning, match="via_point_armature 0.01"):
            plain = myoassist_env(edits=True, backend="mjx")
        config = load_config(
            fixture_path(PRESET), [*myoassist_overrides(True, "mjx"), "--config.env_params.via_point_armature", "0.01"]
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            heavier = make(config)
    finally:
        jax.config.update("jax_enable_x64", x64)
    assert not [w for w in caught if "via-point" in str(w.message)]
    via = [heavier.model.joint(name).dofadr[0] for name in via_point_joints(heavier.model)]
    assert len(via) == 24 and np.all(heavier.model.dof_armature[via] == 0.01)
    assert np.all(plain.model.dof_armature[via] <= 1e-5)  # MyoAssist's own
    others = np.setdiff1d(np.arange(heavier.model.nv), via)
    np.testing.assert_array_equal(heavier.model.dof_armature[others], plain.model.dof_armature[others])


def test_missing_model_file_falls_back_to_the_embedded_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning, match="embedded assist-sim model 'myolegs22_tutorial'.*80.4 kg"):
        env = make(load_config(fixture_path("test.json"), ["--config.env_params.physics_backend", "cpu"]))
    assert env.model_file is None and env.model_id == "myolegs22_tutorial"


@pytest.mark.slow
@pytest.mark.parametrize("edits", [False, True], ids=["original_contacts", "mjx_ready"])
def test_published_policy_walks_ten_seconds(edits):
    """MyoAssist's tutorial policy, 5 seeds, target 1.25 m/s: 10 s and at least 11 m each (MyoAssist: 11.63-11.74)."""
    from mjx_myoassist.evaluate import evaluate_policy

    rows = evaluate_policy(
        fixture_path(SESSION + "/session_config.json").parent,
        overrides=myoassist_overrides(edits),
        episodes=5,
        seconds=10.0,
        backend="cpu",
    )
    assert len(rows) == 5
    for row in rows:
        assert row["steps"] == 300 and not row["terminated"], row
        assert row["distance"] >= 11.0, row
