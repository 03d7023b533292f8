"""render.py end to end on a trained test session: mp4, analyze_results/, keyframe export."""

import json
import os
import shutil
import subprocess
import sys

import mujoco
import numpy as np
import pytest

from mjx_myoassist.analysis import headless
from mjx_myoassist.analysis import video as video_module
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
    for name in ("DISPLAY", "MUJOCO_GL", "PYOPENGL_PLATFORM"):  # headless, GL chosen by render.py
        env.pop(name, None)
    return subprocess.run([sys.executable, "render.py", *map(str, args)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)  # fmt: skip


def test_render_writes_video_analysis_and_keyframes(session, tmp_path):
    traj_file = tmp_path / "trajectory.xml"
    out = run_render(session, "--steps", "40", "--width", "160", "--height", "120", "--export-trajectory", traj_file)
    assert out.returncode == 0, out.stderr[-3000:]
    results = session / "analyze_results"
    (video,) = results.glob("replay_*.mp4")
    import mediapy

    video_module.use_ffmpeg(headless.find_ffmpeg())
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


def one_error_line(out, *phrases):
    """The command failed with one ``error:`` line holding ``phrases``, no traceback, before any replay."""
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert out.returncode == 2 and len(errors) == 1 and "Traceback" not in out.stderr, out.stderr[-3000:]
    assert all(p in errors[0] for p in phrases), errors[0]
    assert "replayed" not in out.stdout


def test_render_without_ffmpeg_stops_before_the_replay_and_writes_nothing(session, tmp_path):
    copy = shutil.copytree(session, tmp_path / "session", ignore=shutil.ignore_patterns("analyze_results"))
    out = run_render(
        copy, "--steps", "3", env_extra={"IMAGEIO_FFMPEG_EXE": "/nonexistent/ffmpeg", "PATH": "/nonexistent"}
    )
    one_error_line(out, "pip install imageio-ffmpeg", "--no-video")
    assert not (copy / "analyze_results").exists()


def test_render_to_a_read_only_or_missing_folder_suggests_out(session, tmp_path):
    one_error_line(run_render(session, "--steps", "3", "--out", "/sys/replay.mp4"), "/sys", "pass --out")
    one_error_line(run_render(session, "--steps", "3", "--out", tmp_path / "no" / "such" / "x.mp4"), "does not exist")


def test_render_without_any_gl_names_the_apt_package(session, tmp_path, monkeypatch):
    no_egl = {"__EGL_VENDOR_LIBRARY_FILENAMES": str(tmp_path / "none.json")}  # glvnd finds no EGL vendor
    monkeypatch.setenv("__EGL_VENDOR_LIBRARY_FILENAMES", no_egl["__EGL_VENDOR_LIBRARY_FILENAMES"])
    if headless.probe_gl("egl") is None or headless.probe_gl("osmesa") is None:
        pytest.skip("a GL backend still works here (OSMesa installed, or EGL not from glvnd)")
    copy = shutil.copytree(session, tmp_path / "session", ignore=shutil.ignore_patterns("analyze_results"))
    one_error_line(run_render(copy, "--steps", "3", env_extra=no_egl), "apt-get install libegl1", "libosmesa6")
    assert not (copy / "analyze_results").exists()


def test_a_failing_video_leaves_nothing_half_written(session, tmp_path, monkeypatch):
    from mjx_myoassist.analysis.session_report import render_session

    def broken(*args, **kwargs):
        raise RuntimeError("GL context lost")

    monkeypatch.setattr(video_module, "render_frames", broken)
    copy = shutil.copytree(session, tmp_path / "session", ignore=shutil.ignore_patterns("analyze_results"))
    with pytest.raises(RuntimeError, match="GL context lost"):
        render_session(copy, steps=3)
    assert not (copy / "analyze_results").exists()


def test_render_of_the_published_session_with_gl_unset(tmp_path):
    """MUJOCO_GL unset, no system ffmpeg: EGL or OSMesa is found, imageio-ffmpeg's ffmpeg encodes."""
    published = fixture_path(f"{PUBLISHED}/session_config.json").parent
    copy = shutil.copytree(published, tmp_path / published.name)
    model = fixture_path("myoassist/models/22muscle_2D/myoLeg22_2D_TUTORIAL.xml")
    reference = fixture_path("recorded/surrogate_short_reference_gait.npz")
    args = ["--steps", "20", "--width", "160", "--height", "120", "--myoassist-root", model.parents[2],
            "--config.env_params.reference_data_path", reference]  # fmt: skip
    out = run_render(copy, *args, env_extra={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-3000:]
    import mediapy

    video_module.use_ffmpeg(headless.find_ffmpeg())
    frames = mediapy.read_video(str(copy / "analyze_results" / "replay_model_19939328.mp4"))
    assert frames.shape == (21, 120, 160, 3) and frames.std() > 5


def test_a_shipped_policy_renders_into_the_working_directory(tmp_path, monkeypatch):
    from mjx_myoassist.analysis.session_report import default_analysis_dir
    from mjx_myoassist.data import policy_path

    monkeypatch.chdir(tmp_path)
    assert default_analysis_dir(policy_path("humanoid_stand")) == tmp_path / "humanoid_stand_analyze_results"
    assert default_analysis_dir(tmp_path / "session") == tmp_path / "session" / "analyze_results"
