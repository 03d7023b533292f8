import json
import os
import shutil
import subprocess
import sys

import jax
import numpy as np
import pytest

from mjx_myoassist.config import load_config
from mjx_myoassist.evaluate import evaluate_policy, main
from mjx_myoassist.evaluator import Evaluator, walk_score, walk_summary
from mjx_myoassist.ppo import networks
from mjx_myoassist.ppo.normalizer import RunningStats
from tests.conftest import CONFIGS, ROOT, SMALL_POINTMASS, fixture_path

ENTRIES = json.dumps(
    [
        {"num_timesteps": 12, "num_envs": 4, "velocity_mode": "UNIFORM", "min_target_velocity": 1.25,
         "max_target_velocity": 1.25},
        {"num_timesteps": 6, "num_envs": 2, "velocity_mode": "SINUSOIDAL", "min_target_velocity": 0.5,
         "max_target_velocity": 1.5, "target_velocity_period": 1.0},
    ]
)  # fmt: skip


@pytest.fixture(scope="module")
def evaluator():
    config = load_config(
        CONFIGS / "test.json",
        ["--config.evaluate_param_list", ENTRIES, "--config.env_params.physics_backend", "cpu",
         "--config.env_params.out_of_trajectory_threshold", "5.0"],
    )  # fmt: skip
    from mjx_myoassist.envs import make

    env = make(config)
    layout = networks.make_layout(config.policy_params.custom_policy_params, env.observation_size, env.action_size)
    return Evaluator(config, layout, env), layout


def test_entries_share_one_compiled_rollout(evaluator):
    ev, layout = evaluator
    params = networks.init_params(layout, jax.random.PRNGKey(0))
    rows = ev.run(params, RunningStats.create(layout.observation_size))
    assert [r["velocity_mode"] for r in rows] == ["UNIFORM", "SINUSOIDAL"]
    assert ev._rollout._cache_size() == 1
    first, second = rows
    assert 0 < first["episode_length"] <= 12 and 0 < second["episode_length"] <= 6
    assert 0.0 <= first["falls"] <= 1.0
    assert first["target_velocity"] == pytest.approx(1.25, abs=1e-5)
    assert 0.5 <= second["target_velocity"] <= 1.5 and second["target_velocity"] != pytest.approx(1.25, abs=1e-3)
    for key in ("return", "speed", "reward/qpos_imitation_rewards", "reward/muscle_activation_penalty"):
        assert np.isfinite(first[key])


def test_evaluation_is_deterministic(evaluator):
    ev, layout = evaluator
    params = networks.init_params(layout, jax.random.PRNGKey(1))
    stats = RunningStats.create(layout.observation_size)
    assert ev.run(params, stats, seed=3) == ev.run(params, stats, seed=3)


# ----------------------------------------------------------------------------- evaluating stored policies

PUBLISHED = "myoassist/docs/assets/tutorial_rl_models/train_session_20250728-161129_tutorial_partial_obs"
SURROGATE = "recorded/surrogate_short_reference_gait.npz"
EPISODE_FIELDS = {"episode", "steps", "seconds", "terminated", "truncated", "end", "return", "distance", "mean_speed"}


@pytest.fixture(scope="module")
def leg_session(tmp_path_factory):
    """A session of the tiny leg preset holding its untrained (random) policy."""
    from mjx_myoassist.session import Session

    config = load_config(CONFIGS / "test.json", ["--config.env_params.physics_backend", "cpu"])
    session = Session.new(config, results_dir=tmp_path_factory.mktemp("leg"))
    session.save_checkpoint()
    return session.dir


@pytest.mark.slow
def test_cli_writes_json_with_every_episode(leg_session, tmp_path):
    out_file = tmp_path / "eval.json"
    out = subprocess.run(
        [sys.executable, "-m", "mjx_myoassist.evaluate", str(leg_session), "--episodes", "3", "--seconds", "0.5",
         "--backend", "cpu", "--json", str(out_file)],
        cwd=ROOT, env={**os.environ, "JAX_PLATFORMS": "cpu"}, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "distance(m)" in out.stdout and "speed(m/s)" in out.stdout
    result = json.loads(out_file.read_text())
    assert result["settings"]["episodes"] == 3 and result["settings"]["backend"] == "cpu"
    rows = result["episodes"]
    assert [r["episode"] for r in rows] == [0, 1, 2]
    for r in rows:
        assert EPISODE_FIELDS <= r.keys()
        assert 1 <= r["steps"] <= 15 and r["truncated"] == (not r["terminated"])
        assert r["end"] == ("time_limit" if r["steps"] == 15 else "fell")  # no off-trajectory end by default
        assert r["mean_speed"] == pytest.approx(r["distance"] / r["seconds"])
        assert r["mean_target_velocity"] == pytest.approx(1.25)
        assert np.isfinite(r["return"]) and 0.0 < r["distance"] < 3.0


def test_trajectory_termination_is_off_by_default_and_kept_on_request(leg_session):
    tight = ["--config.env_params.out_of_trajectory_threshold", "0.01"]
    kwargs = {"overrides": tight, "episodes": 2, "seconds": 0.5, "backend": "cpu"}
    default = evaluate_policy(leg_session, **kwargs)
    kept = evaluate_policy(leg_session, keep_trajectory_termination=True, **kwargs)
    assert all(r["end"] != "off_trajectory" for r in default)
    assert all(r["end"] == "off_trajectory" and r["terminated"] for r in kept)
    assert sum(r["steps"] for r in kept) < sum(r["steps"] for r in default)


def test_each_episode_has_its_own_rng(leg_session):
    two = evaluate_policy(leg_session, episodes=2, seconds=0.3, backend="cpu", seed=5)
    three = evaluate_policy(leg_session, episodes=3, seconds=0.3, backend="cpu", seed=5)
    # episode i does not depend on how many run beside it (up to float32 rounding of the batched policy)
    for alone, beside in zip(two, three[:2], strict=True):
        assert alone.keys() == beside.keys()
        for key, value in alone.items():
            assert beside[key] == (pytest.approx(value, rel=1e-5) if isinstance(value, float) else value), key
    assert len({r["return"] for r in three}) == 3  # different reference starts


def test_pointmass_session_evaluates_without_distance(tmp_path):
    from mjx_myoassist.session import Session

    session = Session.new(load_config(CONFIGS / "pointmass.json", SMALL_POINTMASS), results_dir=tmp_path)
    session.save_checkpoint()
    rows = evaluate_policy(session.dir, episodes=2, seconds=0.5)
    assert [r["steps"] for r in rows] == [10, 10]  # dt = 5 x 10 ms; the mass stays inside the arena
    assert "distance" not in rows[0] and "mean_speed" not in rows[0]


def test_humanoid_rows_report_the_pose_and_why_the_episode_ended(tmp_path):
    from mjx_myoassist.evaluate import format_table
    from mjx_myoassist.session import Session

    small = ["--config.env_params.num_envs", "4", "--config.ppo_params.n_steps", "4", "--config.ppo_params.batch_size",
             "16", "--config.env_params.physics_backend", "cpu"]  # fmt: skip
    session = Session.new(load_config(CONFIGS / "humanoid_stand.json", small), results_dir=tmp_path)
    session.save_checkpoint()
    rows = evaluate_policy(session.dir, episodes=2, seconds=3.0)
    for r in rows:  # an untrained policy falls within 3 s: the torso drops below stand's 0.8 m
        assert r["end"] == "fell" and r["terminated"] and r["torso_height_final"] < 0.8
        assert 0.8 < r["torso_height_mean"] < 1.3 and r["upright_angle_final"] > 0.0
        assert r["feet_contact_final"] in (0.0, 1.0, 2.0)
    assert "height(m) mean/final" in format_table(rows)


def test_missing_path_is_explained(tmp_path, capsys):
    assert main([str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "session folder" in err and "zip" in err


def test_bare_zip_without_config_asks_for_one(tmp_path, capsys):
    bare = tmp_path / "model.zip"
    shutil.copy(fixture_path(f"{PUBLISHED}/trained_models/model_19939328.zip"), bare)
    assert main([str(bare)]) == 2
    assert "--config" in capsys.readouterr().err


def test_published_myoassist_session(tmp_path):
    """MyoAssist's published tutorial session (SB3 zip + session_config.json) evaluates from the command line."""
    session = fixture_path(f"{PUBLISHED}/session_config.json").parent
    out_file = tmp_path / "published.json"
    argv = [str(session), "--config.env_params.reference_data_path", str(fixture_path(SURROGATE)),
            "--backend", "cpu", "--episodes", "2", "--seconds", "1", "--json", str(out_file)]  # fmt: skip
    assert main(argv) == 0
    rows = json.loads(out_file.read_text())["episodes"]
    assert len(rows) == 2
    for r in rows:
        assert EPISODE_FIELDS <= r.keys() and 1 <= r["steps"] <= 30
        assert r["truncated"] == (not r["terminated"]) and r["end"] in ("time_limit", "fell")
        assert r["mean_target_velocity"] == pytest.approx(1.25)  # the published session's fixed target
        assert np.isfinite(r["distance"]) and np.isfinite(r["return"])


def test_walk_summary_counts_the_episodes_that_last():
    rows = [
        {"seconds": 10.0, "distance": 11.7, "mean_speed": 1.17},
        {"seconds": 3.0, "distance": 2.0, "mean_speed": 0.6},
    ]
    summary = walk_summary(rows, 10.0)
    assert summary["fraction"] == 0.5 and not summary["all_walked"]
    assert summary["distance_mean"] == pytest.approx(6.85) and summary["distance_min"] == 2.0
    assert summary["speed_mean"] == pytest.approx(0.885) and summary["rows"] == rows
    assert walk_summary(rows[:1], 10.0)["all_walked"]
    assert walk_score(walk_summary(rows[:1], 10.0)) > walk_score(summary)


def test_a_pose_test_is_not_scored_by_its_drift():
    standing = {"seconds": 10.0, "distance": 0.02, "mean_speed": 0.002, "torso_height_mean": 1.27}
    drifting = {**standing, "distance": 0.5}
    assert walk_score(walk_summary([standing], 10.0)) == walk_score(walk_summary([drifting], 10.0))


@pytest.mark.slow
def test_walk_test_tells_the_published_policy_from_an_untrained_one(leg_session):
    """The published MyoAssist policy lasts the walk test (2 s, flat, 1.25 m/s); the untrained one falls."""
    from mjx_myoassist.evaluator import WalkTest
    from mjx_myoassist.ppo.policy import load_trained

    reference = ["--config.env_params.reference_data_path", str(fixture_path(SURROGATE)),
                 "--config.env_params.myoassist_root", str(fixture_path(f"{PUBLISHED}/session_config.json").parents[4]),
                 "--config.env_params.physics_backend", "cpu"]  # fmt: skip
    published = load_trained(fixture_path(f"{PUBLISHED}/session_config.json").parent, overrides=reference)
    walk = WalkTest(published.config, published.layout, episodes=3, seconds=2.0, dt=1 / 30)
    result = walk.run(published.params, published.stats)
    assert result["fraction"] == 1.0 and result["all_walked"] and len(result["rows"]) == 3
    assert 2.0 < result["distance_min"] < 3.0 and result["speed_mean"] == pytest.approx(1.17, abs=0.1)
    untrained = load_trained(leg_session)
    walk = WalkTest(untrained.config, untrained.layout, episodes=3, seconds=2.0, dt=1 / 30)
    result = walk.run(untrained.params, untrained.stats)
    assert result["fraction"] == 0.0 and not result["all_walked"]
    assert all(r["end"] in ("fell", "numerical_fault") for r in result["rows"])


def test_evaluator_runs_a_policy_made_from_other_weights():
    """``policy=`` replaces the network: the same network through it gives the same rows, another policy others."""
    import jax.numpy as jnp

    from mjx_myoassist.envs import make
    from mjx_myoassist.evaluator import WalkTest
    from mjx_myoassist.ppo.networks import deterministic_policy

    config = load_config(CONFIGS / "pointmass.json", SMALL_POINTMASS)
    env = make(config)
    layout = networks.make_layout(config.policy_params.custom_policy_params, env.observation_size, env.action_size)
    params = networks.init_params(layout, jax.random.PRNGKey(2))
    stats = RunningStats.create(layout.observation_size)
    normalize = config.ppo_params.normalize_observation
    ours = WalkTest(config, layout, episodes=2, seconds=0.5, dt=env.dt).run(params, stats)
    network = lambda p, s: deterministic_policy(layout, p, s, normalize)  # noqa: E731
    through_hook = WalkTest(config, None, episodes=2, seconds=0.5, dt=env.dt, policy=network).run(params, stats)
    assert through_hook == ours
    constant = lambda weight, _: lambda obs: jnp.full(env.action_size, weight)  # noqa: E731
    push = WalkTest(config, None, episodes=2, seconds=0.5, dt=env.dt, policy=constant).run(jnp.float32(1.0), None)
    assert [r["return"] for r in push["rows"]] != [r["return"] for r in ours["rows"]]
