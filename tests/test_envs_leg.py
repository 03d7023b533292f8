"""Leg imitation env; the compiled batch (64 envs) is shared through conftest's ``leg_batch``."""

import copy
import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_myoassist.config import ConfigError, load_config
from mjx_myoassist.envs import make
from tests.conftest import CONFIGS, ROOT, fixture_path

B = 64


@pytest.fixture(scope="module")
def batch(leg_batch):
    reset, step = leg_batch
    return reset(jax.random.split(jax.random.PRNGKey(0), B))


def set_env(state, i, fn):
    """A copy of a batched state where env ``i`` is replaced by ``fn(env_i_state)``."""
    one = jax.tree.map(lambda x: x[i], state)
    new = fn(one)
    return jax.tree.map(lambda x, y: x.at[i].set(y), state, new)


def test_myoassist_partial_obs_preset_sizes_and_layout():
    env = make(load_config(fixture_path("imitation_tutorial_22_separated_net_partial_obs.json")))
    assert env.observation_size == 44 and env.action_size == 24
    model = env.model
    pos_keys = env.params.observation_joint_pos_keys
    assert [model.joint(j).name for j in range(model.njnt) if model.jnt_qposadr[j] in env.obs_qpos] == sorted(
        pos_keys, key=lambda k: model.joint(k).id
    )
    assert [model.actuator(i).name for i in range(22)][:11] == [
        n + "_r" for n in "hamstrings bifemsh edl fdl glutmax iliopsoas rectfem vasti gastroc soleus tibant".split()
    ]


def test_exo_off_env_has_22_actions():
    env = make(load_config(CONFIGS / "imitation_22_baseline_no_exo.json"))
    assert env.action_size == 22 and env.observation_size == 44


def test_reset_batch(leg_env, batch):
    obs = np.asarray(batch.obs)
    assert obs.shape == (B, 44) and np.isfinite(obs).all()
    starts = np.asarray(batch.info["ref_start"])
    assert starts.min() >= 0 and starts.max() < 0.8 * leg_env.reference_length
    assert len(set(starts.tolist())) > 20  # every env draws its own start
    # joints come from the reference, velocities scaled by target / reference speed
    q = np.asarray(batch.data.qpos)
    i = 3
    ref_q = np.asarray(leg_env.ref_q[starts[i]])
    knee = leg_env.reference.joints.index("knee_angle_r")
    assert q[i, leg_env.ref_qpos_adr[knee]] == pytest.approx(ref_q[knee], abs=1e-6)
    assert np.asarray(batch.data.act).max() == 0.0
    # target velocity is the last observation; muscle activations start at zero
    np.testing.assert_allclose(obs[:, -1], 1.25)
    np.testing.assert_allclose(obs[:, 17:39], 0.0)
    # the lowest foot point touches the floor
    clearance = jax.vmap(lambda d: leg_env.backend.view(d).contact_clearance)(batch.data)
    np.testing.assert_allclose(np.asarray(clearance), 0.0, atol=1e-5)


def test_batch_of_64_steps_and_restarts_per_env(leg_env, leg_batch, batch):
    _, step = leg_batch
    state = batch
    keys = jax.random.split(jax.random.PRNGKey(1), 6)
    ended = np.zeros(B, bool)
    for k in keys:
        action = jax.random.uniform(k, (B, leg_env.action_size), minval=-1, maxval=1)
        state = step(state, action)
        assert np.isfinite(np.asarray(state.obs)).all() and np.isfinite(np.asarray(state.reward)).all()
        done = np.asarray(state.done)
        ended |= done
        # a finished env restarts: its step counter is back to 0, the others keep counting
        steps = np.asarray(state.info["step"])
        assert np.all(steps[done] == 0)
    assert ended.any()
    for term in ("qpos_imitation_rewards", "forward_reward", "muscle_activation_penalty", "foot_force_penalty"):
        assert f"reward/{term}" in state.metrics


def test_termination_on_fall(leg_batch, batch):
    _, step = leg_batch
    low = set_env(batch, 0, lambda s: s.replace(data=s.data.replace(qpos=s.data.qpos.at[1].add(-0.5))))
    out = step(low, jnp.zeros((B, 24)))
    assert bool(out.terminated[0]) and not bool(out.truncated[0])
    assert float(out.metrics["fell"][0]) == 1.0


def test_termination_off_trajectory(leg_env, leg_batch, batch):
    _, step = leg_batch
    adr = leg_env.imitation_qpos_adr[list(leg_env.reference.joints).index("knee_angle_l")]
    bent = set_env(batch, 1, lambda s: s.replace(data=s.data.replace(qpos=s.data.qpos.at[adr].add(-1.5))))
    out = step(bent, jnp.zeros((B, 24)))
    assert bool(out.terminated[1]) and float(out.metrics["off_trajectory"][1]) == 1.0


def test_numerical_fault_terminates_without_poisoning(leg_batch, batch):
    _, step = leg_batch
    broken = set_env(batch, 2, lambda s: s.replace(data=s.data.replace(qvel=s.data.qvel.at[5].set(jnp.nan))))
    out = step(broken, jnp.zeros((B, 24)))
    assert bool(out.terminated[2]) and float(out.metrics["numerical_fault"][2]) == 1.0
    assert np.isfinite(np.asarray(out.obs)).all() and np.isfinite(np.asarray(out.reward)).all()
    assert np.isfinite(np.asarray(out.data.qvel[2])).all()  # restarted from a fresh state


def test_truncation_at_step_limit_and_reference_end(leg_env, leg_batch, batch):
    _, step = leg_batch
    limit = leg_env.params.custom_max_episode_steps
    state = set_env(batch, 4, lambda s: s.replace(info={**s.info, "step": jnp.int32(limit - 1)}))
    state = set_env(
        state, 5, lambda s: s.replace(info={**s.info, "ref_start": jnp.int32(leg_env.reference_length - 1)})
    )
    out = step(state, jnp.zeros((B, 24)))
    for i in (4, 5):
        assert bool(out.truncated[i]) != bool(out.terminated[i])
    assert bool(out.truncated[4]) or bool(out.metrics["off_trajectory"][4])
    # past the reference's last sample: MyoAssist's final step, reward 0 and no off-trajectory check
    assert float(out.reward[5]) == 0.0 and float(out.metrics["reference_end"][5]) == 1.0
    assert bool(out.truncated[5]) or bool(out.metrics["fell"][5])


def test_lumbar_option_is_checked():
    with pytest.raises(ConfigError, match="no lumbar joint"):
        make(load_config(CONFIGS / "test.json", ["--config.env_params.enable_lumbar_joint", "true"]))


def test_integrator_option_sets_the_model_integrator():
    import mujoco

    default = make(load_config(CONFIGS / "test.json")).model.opt
    assert default.integrator == mujoco.mjtIntegrator.mjINT_EULER  # the model's own (MyoAssist's)
    fast = ["--config.env_params.integrator", "implicitfast", "--config.env_params.physics_sim_framerate", "240"]
    opt = make(load_config(CONFIGS / "test.json", fast)).model.opt
    assert opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST and opt.timestep == pytest.approx(1 / 240)
    with pytest.raises(ConfigError, match="integrator 'implicit_fast' is unknown.*implicitfast"):
        load_config(CONFIGS / "test.json", ["--config.env_params.integrator", "implicit_fast"])


def test_fixed_lumbar_angle_tilts_the_trunk():
    import mujoco

    def trunk_direction(angle):
        env = make(load_config(CONFIGS / "test.json", ["--config.env_params.lumbar_joint_fixed_angle", str(angle)]))
        m = env.model
        d = mujoco.MjData(m)
        mujoco.mj_resetDataKeyframe(m, d, m.key("stand").id)
        mujoco.mj_kinematics(m, d)
        v = d.xpos[m.body("torso").id] - d.xpos[m.body("lumbar5").id]
        return np.arctan2(v[0], v[2])  # forward lean (rad)

    neutral = trunk_direction(0.0)
    # MyoAssist's quaternion [1, 0, 0, a]: 2 atan(a) about the lateral axis; flexion (a < 0) leans forward
    assert trunk_direction(-0.13) - neutral == pytest.approx(2 * np.arctan(0.13), abs=1e-3)
    assert trunk_direction(0.2) - neutral == pytest.approx(-2 * np.arctan(0.2), abs=1e-3)


def test_unknown_observation_key():
    with pytest.raises(ConfigError, match="joint 'knee_r' is not in the model"):
        make(load_config(CONFIGS / "test.json", ["--config.env_params.observation_joint_pos_keys", '["knee_r"]']))


def test_reward_weight_for_joint_outside_reference():
    overrides = ["--config.env_params.reference_data_keys", '["knee_angle_l", "knee_angle_r"]']
    with pytest.raises(ConfigError, match="not in reference_data_keys"):
        make(load_config(CONFIGS / "test.json", overrides))


# ---------------------------------------------------------------- MyoAssist's episode semantics (cpu backend, 1 env)

LENIENT = [
    "--config.env_params.physics_backend", "cpu",
    "--config.env_params.out_of_trajectory_threshold", "100",
    "--config.env_params.safe_height", "0",
]  # fmt: skip


@pytest.fixture(scope="module")
def cpu_env():
    return make(load_config(CONFIGS / "test.json", LENIENT))


@pytest.fixture(scope="module")
def cpu_step(cpu_env):
    return jax.jit(cpu_env.step)


def non_reference(env) -> tuple[np.ndarray, np.ndarray]:
    """qpos addresses and dof addresses of the joints outside the reference."""
    qpos = np.setdiff1d(np.arange(env.model.nq), env.ref_qpos_adr)
    dofs = np.setdiff1d(np.arange(env.model.nv), env.ref_dof_adr)
    return qpos, dofs


def test_reference_end_gives_a_final_zero_reward_truncated_step(cpu_env, cpu_step):
    length = cpu_env.reference_length
    state = cpu_env.reset(jax.random.PRNGKey(0))
    state = state.replace(info={**state.info, "ref_start": jnp.int32(length - 2)})
    last = cpu_step(state, jnp.zeros(cpu_env.action_size))  # index L - 1: an ordinary step
    assert float(last.reward) != 0.0 and not bool(last.truncated) and not bool(last.terminated)
    end = cpu_step(last, jnp.zeros(cpu_env.action_size))  # index L: MyoAssist's final step
    assert float(end.reward) == 0.0 and bool(end.truncated) and not bool(end.terminated)
    assert float(end.metrics["reference_end"]) == 1.0 and float(end.metrics["reward/forward_reward"]) > 0.0


def test_first_reset_is_myoassists_first_episode(cpu_env):
    state = cpu_env.reset(jax.random.PRNGKey(1))
    view = cpu_env.backend.view(state.data)
    qpos_adr, dof_adr = non_reference(cpu_env)
    np.testing.assert_allclose(np.asarray(view.qpos)[qpos_adr], cpu_env.model.key_qpos[0][qpos_adr], atol=1e-6)
    np.testing.assert_allclose(np.asarray(view.qvel)[dof_adr], cpu_env.model.key_qvel[0][dof_adr], atol=1e-6)
    assert float(view.qpos[cpu_env.pelvis_tx_qpos]) == 0.0 and np.all(np.asarray(view.act) == 0.0)
    np.testing.assert_allclose(np.asarray(state.info["prev_act"]), 0.5)  # the built env's zero-action activations
    assert int(state.info["steps"]["strike_step"]) == 32


def test_auto_reset_continues_from_the_finished_episode(cpu_env, cpu_step):
    state = cpu_env.reset(jax.random.PRNGKey(2))
    for k in range(3):
        state = cpu_step(state, jax.random.uniform(jax.random.PRNGKey(k), (cpu_env.action_size,), minval=-1))
    finished = cpu_env.backend.view(state.data)
    fresh = cpu_env.reset_like(state, jax.random.PRNGKey(3))
    view = cpu_env.backend.view(fresh.data)
    qpos_adr, dof_adr = non_reference(cpu_env)
    assert np.abs(np.asarray(finished.qpos)[qpos_adr] - cpu_env.model.key_qpos[0][qpos_adr]).max() > 1e-3
    np.testing.assert_allclose(np.asarray(view.qpos)[qpos_adr], np.asarray(finished.qpos)[qpos_adr], atol=1e-6)
    np.testing.assert_allclose(np.asarray(view.qvel)[dof_adr], np.asarray(finished.qvel)[dof_adr], atol=1e-6)
    knee = cpu_env.reference.joints.index("knee_angle_r")
    start = int(fresh.info["ref_start"])
    assert float(view.qpos[cpu_env.ref_qpos_adr[knee]]) == pytest.approx(float(cpu_env.ref_q[start, knee]), abs=1e-6)
    assert float(view.qpos[cpu_env.pelvis_tx_qpos]) == 0.0 and np.all(np.asarray(view.act) == 0.0)
    np.testing.assert_allclose(np.asarray(fresh.info["prev_act"]), np.asarray(finished.act)[cpu_env.muscle_act])
    assert int(fresh.info["steps"]["strike_step"]) == 3 and int(fresh.info["step"]) == 0
    # a broken finished state is not carried: the new episode starts from key 0
    broken = state.replace(data=state.data.replace(view=finished.replace(qvel=finished.qvel.at[0].set(jnp.nan))))
    restarted = cpu_env.backend.view(cpu_env.reset_like(broken, jax.random.PRNGKey(3)).data)
    np.testing.assert_allclose(np.asarray(restarted.qpos)[qpos_adr], cpu_env.model.key_qpos[0][qpos_adr], atol=1e-6)


def with_fresh_starts(env, fraction: float):
    """The env with ``env_params.fresh_start_fraction`` set (the same built model)."""
    other = copy.copy(env)
    other.params = dataclasses.replace(env.params, fresh_start_fraction=fraction)
    return other


def test_fresh_start_fraction_starts_training_episodes_as_a_new_env(cpu_env, cpu_step):
    state = cpu_env.reset(jax.random.PRNGKey(2))
    for k in range(3):
        state = cpu_step(state, jax.random.uniform(jax.random.PRNGKey(k), (cpu_env.action_size,), minval=-1))
    qpos_adr, _ = non_reference(cpu_env)
    fresh = with_fresh_starts(cpu_env, 1.0).reset_like(state, jax.random.PRNGKey(3))
    view = cpu_env.backend.view(fresh.data)
    np.testing.assert_allclose(np.asarray(view.qpos)[qpos_adr], cpu_env.model.key_qpos[0][qpos_adr], atol=1e-6)
    assert int(fresh.info["steps"]["strike_step"]) == 32
    np.testing.assert_allclose(np.asarray(fresh.info["prev_act"]), 0.5)
    # the same key without fresh starts continues the episode, with the same reference start
    carried = cpu_env.reset_like(state, jax.random.PRNGKey(3))
    assert int(carried.info["ref_start"]) == int(fresh.info["ref_start"])
    assert int(carried.info["steps"]["strike_step"]) == 3
    # a fraction: some episodes of a batch start fresh, the others continue
    half = with_fresh_starts(cpu_env, 0.5)
    keys = jax.random.split(jax.random.PRNGKey(4), 64)
    strikes = np.asarray(jax.vmap(lambda k: half.reset_like(state, k).info["steps"]["strike_step"])(keys))
    assert set(strikes.tolist()) == {3, 32} and 16 < int((strikes == 32).sum()) < 48


def test_toes_in_reference_data_keys_start_a_new_env_in_the_references_toe_pose(cpu_env):
    """As MyoAssist's reset sets every joint reference_data_keys names: with the toes listed, a new env's (and
    so every evaluation episode's) toes start at the reference, not at key 0."""
    keys = [*cpu_env.params.reference_data_keys, "mtp_angle_l", "mtp_angle_r"]
    toe_reference = ROOT / "mjx_myoassist" / "data" / "policy_gait_60s_mtp_reference.npz"
    env = make(load_config(CONFIGS / "test.json", [*LENIENT, "--config.env_params.reference_data_path",
                                                   str(toe_reference), "--config.env_params.reference_data_keys",
                                                   json.dumps(keys)]))  # fmt: skip
    state = env.reset(jax.random.PRNGKey(5))
    toes = [env.reference.joints.index(j) for j in ("mtp_angle_l", "mtp_angle_r")]
    qpos = np.asarray(env.backend.view(state.data).qpos)[env.ref_qpos_adr[toes]]
    expected = np.asarray(env.ref_q[int(state.info["ref_start"]), toes])
    np.testing.assert_allclose(qpos, expected, atol=1e-6)
    assert np.abs(expected - env.model.key_qpos[0][env.ref_qpos_adr[toes]]).max() > 0.05


def test_fresh_start_fraction_is_range_checked():
    with pytest.raises(ConfigError, match="fresh_start_fraction"):
        load_config(CONFIGS / "test.json", ["--config.env_params.fresh_start_fraction", "1.5"])


def test_velocity_mode_is_drawn_per_episode_for_myoassist_configs():
    config = load_config(fixture_path("test.json"), ["--config.env_params.physics_backend", "cpu"])
    assert config.env_params.velocity_mode == "RANDOM"  # MyoAssist's JSON has no velocity_mode
    env = make(config)
    modes = jax.vmap(lambda k: env.reset(k).info["schedule"]["mode"])(jax.random.split(jax.random.PRNGKey(0), 12))
    assert set(np.asarray(modes).tolist()) == {0, 1, 2}


def test_reset_pose_matches_myoassists_recorded_reset():
    """The recorded episode starts at reference index 1378 of the surrogate, resampled as MyoAssist does (2025)."""
    from tests.test_envs_leg_myoassist import myoassist_env

    env = myoassist_env(edits=False)
    rollout = np.load(fixture_path("recorded/rollout_partial_obs_seed0.npz"))
    assert env.reference_length == 2025 and int(rollout["imitation_index"][0]) == 1379
    ref_q, ref_dq = np.array(env.ref_q[1378]), np.array(env.ref_dq[1378])
    tx = env.reference.joints.index("pelvis_tx")
    ref_q[tx] = 0.0  # MyoAssist starts every episode at x = 0
    np.testing.assert_allclose(rollout["qpos0"][env.ref_qpos_adr], ref_q, atol=1e-6)
    np.testing.assert_allclose(rollout["qvel0"][env.ref_dof_adr], ref_dq * 1.25 / float(env.ref_speed[1378]), atol=1e-5)


def test_evaluation_reads_root_x_reference_and_sets_the_velocity_schedule(cpu_env, cpu_step):
    """The Env interface evaluation, replay and render use: root x, reference index, target-speed schedule."""
    from mjx_myoassist.envs import velocity

    state = cpu_env.reset(jax.random.PRNGKey(4))
    assert cpu_env.root_x_qpos == cpu_env.pelvis_tx_qpos and float(cpu_env.root_x(state)) == 0.0
    assert int(cpu_env.reference_index(state)) == int(state.info["ref_start"])
    entry = {"mode": jnp.int32(velocity.mode_index("SINUSOIDAL")), "vmin": jnp.float32(1.0),
             "vmax": jnp.float32(1.5), "period": jnp.float32(4.0), "phase": jnp.float32(0.0),
             "start": jnp.float32(0.5)}  # fmt: skip
    fixed = cpu_env.with_velocity_schedule(state, entry)
    v0 = float(velocity.target_velocity(jnp.float32(0.0), fixed.info["schedule"], cpu_env.dt))
    assert v0 == pytest.approx(1.25) and float(fixed.obs[-1]) == pytest.approx(v0)  # the middle of the range
    start = int(state.info["ref_start"])
    qvel = cpu_env.backend.view(fixed.data).qvel  # the start velocities follow the new first target (MyoAssist)
    want = cpu_env.ref_dq[start] * v0 / cpu_env.ref_speed[start]
    np.testing.assert_allclose(qvel[cpu_env.ref_dof_adr], want, rtol=1e-5)
    np.testing.assert_array_equal(cpu_env.backend.view(fixed.data).qpos, cpu_env.backend.view(state.data).qpos)
    assert {k: float(fixed.info["schedule"][k]) for k in entry} == {k: float(v) for k, v in entry.items()}
    moved = cpu_step(fixed, jnp.zeros(cpu_env.action_size))
    assert float(moved.metrics["target_velocity"]) == pytest.approx(v0)
    assert float(cpu_env.root_x(moved)) == float(cpu_env.backend.view(moved.data).qpos[cpu_env.pelvis_tx_qpos])
    assert int(cpu_env.reference_index(moved)) == int(state.info["ref_start"]) + 1
