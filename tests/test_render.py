"""render.py end to end on a trained test session: mp4, analyze_results/, keyframe export."""

import json
import os
import shutil
import subprocess
import sys

import mujoco
import numpy as np
import pytest

from mjx_myoassist.config import load_config
from mjx_myoassist.session import Session
from tests.conftest import CONFIGS, ROOT, fixture_path

LONG_EPISODE = ["--config.env_params.out_of_trajectory_threshold", "10", "--config.env_params.safe_height", "0.3",
                "--config.env_params.physics_backend", "cpu"]  # fmt: skip


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    config = load_config(CONFIGS / "test.json", LONG_EPISODE)
    return Session.new(config, results_dir=tmp_path_factory.mktemp("results")).run(progress=False)


def run_render(*args, env_extra=None):
    env = {**os.environ, "JAX_PLATFORMS": "cpu", **(env_extra or {})}
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "render.py", *map(str, args)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)  # fmt: skip


def test_render_writes_video_analysis_and_keyframes(session, tmp_path):
    traj_file = tmp_path / "trajectory.xml"
    out = run_render(session, "--steps", "40", "--width", "160", "--height", "120", "--export-trajectory", traj_file)
    assert out.returncode == 0, out.stderr[-3000:]
    results = session / "analyze_results"
    (video,) = results.glob("replay_*.mp4")
    import mediapy

    frames = mediapy.read_video(str(video))
    assert frames.shape[1:] == (120, 160, 3) and len(frames) >= 2
    assert frames.std() > 5  # not a blank image
    report = json.loads((results / "gait_metrics.json").read_text())
    assert report["steps"] >= 1 and "gait" in report and "reward/qpos_imitation_rewards" in report["reward_terms"]
    for name in ("kinematics_vs_reference.png", "gait_cycle_kinematics.png", "muscle_activations.png",
                 "ground_reaction_force.png", "exo_torque.png", "training_curves.png"):  # fmt: skip
        assert (results / name).stat().st_size > 10_000, name
    model = mujoco.MjModel.from_xml_path(str(traj_file))
    assert model.nkey == report["steps"] and model.nq == 39
    assert np.isfinite(model.key_qpos).all()


def test_realtime_without_display_is_explained(session):
    out = run_render(session, "--realtime")
    assert out.returncode == 2 and "needs a display" in out.stderr


def test_render_of_a_missing_checkpoint(tmp_path):
    out = run_render(tmp_path)
    assert out.returncode == 2 and "no meta.json" in out.stderr.replace("has no", "no")


PUBLISHED = "myoassist/docs/assets/tutorial_rl_models/train_session_20250728-161129_tutorial_partial_obs"


def test_render_turns_trajectory_termination_off_unless_kept(session):
    from mjx_myoassist.analysis.session_report import render_session

    tight = ["--config.env_params.out_of_trajectory_threshold", "0.01"]
    default = render_session(session, steps=15, video=False, overrides=tight).trajectory
    kept = render_session(session, steps=15, video=False, overrides=tight, keep_trajectory_termination=True).trajectory
    assert kept.terminated and kept.metrics["off_trajectory"][-1] == 1.0
    assert default.metrics["off_trajectory"].sum() == 0 and default.steps > kept.steps


def test_render_replays_a_myoassist_session(tmp_path):
    """MyoAssist's published session (SB3 zip + session_config.json) goes through the same loading path."""
    from mjx_myoassist.analysis.session_report import render_session

    published = fixture_path(f"{PUBLISHED}/session_config.json").parent
    copy = shutil.copytree(published, tmp_path / published.name)  # outputs go next to the session
    surrogate = fixture_path("recorded/surrogate_short_reference_gait.npz")
    reference = ["--config.env_params.reference_data_path", str(surrogate)]
    result = render_session(copy, steps=10, video=False, overrides=reference)
    assert result.checkpoint.name == "model_19939328.zip" and result.session == copy
    assert 1 <= result.trajectory.steps <= 10 and result.trajectory.obs.shape[1] == 44
    assert (copy / "analyze_results" / "gait_metrics.json").is_file()


def bare_zip(folder):
    """The published SB3 zip alone in a folder (no session_config.json around it)."""
    path = folder / "model.zip"
    shutil.copy(fixture_path(f"{PUBLISHED}/trained_models/model_19939328.zip"), path)
    return path


def test_render_of_a_bare_zip_asks_for_a_config(tmp_path):
    out = run_render(bare_zip(tmp_path), "--no-video")
    assert out.returncode == 2 and "--config" in out.stderr


@pytest.mark.slow
def test_render_of_a_bare_zip_with_its_config(tmp_path):
    bare = bare_zip(tmp_path)
    surrogate = fixture_path("recorded/surrogate_short_reference_gait.npz")
    config = fixture_path(f"{PUBLISHED}/session_config.json")
    out = run_render(bare, "--no-video", "--steps", "3", "--config", config,
                     "--config.env_params.reference_data_path", surrogate)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "replayed" in out.stdout and (tmp_path / "analyze_results" / "gait_metrics.json").is_file()


def test_analysis_puts_the_learning_curve_beside_a_myoassist_session(session):
    from mjx_myoassist.analysis.session_report import render_session

    published = fixture_path(
        "myoassist/docs/assets/tutorial_rl_models/train_session_20250728-161129_tutorial_partial_obs/train_log.json"
    ).parent
    result = render_session(session, steps=5, video=False, compare_myoassist=published)
    assert {"learning_vs_myoassist.png", "learning_vs_myoassist.json"} <= set(result.report["files"])
    written = json.loads((result.analysis_dir / "learning_vs_myoassist.json").read_text())
    ours_steps = [e["step"] for e in json.loads((session / "train_log.json").read_text())]
    assert written["ours"]["steps"] == ours_steps  # the test session's log is not on MyoAssist's schedule
    assert written["myoassist"]["steps"][0] == 16384 and len(written["myoassist"]["steps"]) == 153
    assert (result.analysis_dir / "learning_vs_myoassist.png").stat().st_size > 10_000
