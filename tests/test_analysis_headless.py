"""What a video needs from the machine: GL backend choice, ffmpeg, writable output folders (no replay here)."""

import os

import pytest

from mjx_myoassist.analysis import headless
from mjx_myoassist.analysis.session_report import output_paths


def probes(results):
    """A fake GL probe: backend -> None (renders) or a reason; records the order of the tries."""
    tried = []

    def probe(backend):
        tried.append(backend)
        return results.get(backend, "not installed")

    return probe, tried


@pytest.fixture
def no_gl_choice(monkeypatch):
    monkeypatch.delenv("MUJOCO_GL", raising=False)
    monkeypatch.delenv("PYOPENGL_PLATFORM", raising=False)
    monkeypatch.setattr(headless.sys, "platform", "linux")


def test_egl_is_tried_first_then_osmesa(no_gl_choice):
    probe, tried = probes({"egl": "no EGL display", "osmesa": None})
    assert headless.choose_gl(probe) == "osmesa" and tried == ["egl", "osmesa"]
    assert os.environ["MUJOCO_GL"] == "osmesa" and os.environ["PYOPENGL_PLATFORM"] == "osmesa"


def test_egl_when_it_works(no_gl_choice):
    probe, tried = probes({"egl": None})
    assert headless.choose_gl(probe) == "egl" and tried == ["egl"]


def test_no_gl_is_one_line_naming_the_apt_packages(no_gl_choice):
    probe, _ = probes({})
    with pytest.raises(headless.RenderSetupError) as err:
        headless.choose_gl(probe)
    message = str(err.value)
    assert "\n" not in message and "apt-get install libegl1" in message and "libosmesa6" in message
    assert "--no-video" in message and "MUJOCO_GL" not in os.environ


def test_the_users_gl_choice_is_the_only_one_tried(no_gl_choice, monkeypatch):
    monkeypatch.setenv("MUJOCO_GL", "osmesa")
    probe, tried = probes({"egl": None})
    with pytest.raises(headless.RenderSetupError, match="MUJOCO_GL=osmesa .*libosmesa6"):
        headless.choose_gl(probe)
    assert tried == ["osmesa"]


def test_real_gl_probe_answers_in_one_line():
    reason = headless.probe_gl("no-such-backend")
    assert reason is not None and "\n" not in reason


def test_ffmpeg_comes_from_the_pip_wheel(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no system ffmpeg
    exe = headless.find_ffmpeg()
    assert "imageio_ffmpeg" in exe


def test_missing_ffmpeg_is_one_line(monkeypatch):
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", "/nonexistent/ffmpeg")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(headless.RenderSetupError, match="pip install imageio-ffmpeg.*--no-video"):
        headless.find_ffmpeg()


def test_output_folders(tmp_path):
    session = tmp_path / "session"
    session.mkdir()
    assert output_paths(session, None, "v.mp4") == (session / "analyze_results", session / "analyze_results" / "v.mp4")
    assert output_paths(session, tmp_path / "x.mp4", "v.mp4") == (session / "analyze_results", tmp_path / "x.mp4")
    assert output_paths(session, tmp_path / "out", "v.mp4") == (tmp_path / "out", tmp_path / "out" / "v.mp4")
    assert output_paths(session, tmp_path / "out", None) == (tmp_path / "out", None)
    assert not (session / "analyze_results").exists() and not (tmp_path / "out").exists()  # checked, not made
    with pytest.raises(headless.RenderSetupError, match="does not exist; pass --out"):
        output_paths(session, tmp_path / "missing" / "deeper" / "x.mp4", "v.mp4")


def test_read_only_output_folder_suggests_out(tmp_path):
    with pytest.raises(headless.RenderSetupError, match="pass --out DIR") as err:
        headless.check_output_folder("/sys")  # read-only, even for root
    assert "\n" not in str(err.value)
    read_only = tmp_path / "ro"
    read_only.mkdir()
    read_only.chmod(0o555)
    if os.geteuid() != 0:  # root writes anyway
        with pytest.raises(headless.RenderSetupError, match="pass --out DIR"):
            headless.check_output_folder(read_only / "analyze_results")


def test_mediapy_writes_and_reads_with_the_pip_ffmpeg(tmp_path):
    """The wheel's ffmpeg takes the options mediapy passes (imageio-ffmpeg 0.8's ffmpeg 9 dropped -vsync)."""
    import mediapy
    import numpy as np

    from mjx_myoassist.analysis.video import use_ffmpeg

    use_ffmpeg(headless.find_ffmpeg())
    frames = np.random.default_rng(0).integers(0, 255, (4, 48, 64, 3), dtype=np.uint8)
    mediapy.write_video(tmp_path / "v.mp4", frames, fps=30)
    assert mediapy.read_video(tmp_path / "v.mp4").shape == frames.shape
