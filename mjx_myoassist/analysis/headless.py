"""What a video needs from the machine, checked before the replay: offscreen OpenGL, ffmpeg, writable folders.

* OpenGL: the user's ``MUJOCO_GL`` when set; otherwise, on Linux, EGL (Mesa's EGL works without a GPU)
  and then OSMesa.  Each is tried in a short subprocess, because a GL backend that fails to start
  cannot be swapped for another in the same process.  Nothing works: one line names the apt package.
* ffmpeg: the binary of the ``imageio-ffmpeg`` wheel (a dependency), else an ``ffmpeg`` on ``PATH``.
* Output folders: each must be writable, or creatable in an existing folder.

Nothing here imports MuJoCo: :func:`choose_gl` must run before MuJoCo is imported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

GL_PACKAGES = {"egl": "libegl1", "osmesa": "libosmesa6"}
GL_NAMES = {"egl": "EGL", "osmesa": "OSMesa", "glfw": "GLFW"}
_PROBE = (
    "import mujoco\n"
    "m = mujoco.MjModel.from_xml_string('<mujoco/>')\n"
    "with mujoco.Renderer(m, 16, 16) as r:\n"
    "    r.render()\n"
)


class RenderSetupError(RuntimeError):
    """The machine cannot write the video or the outputs; the message is one line that says what to do."""


def probe_gl(backend: str) -> str | None:
    """None when MuJoCo renders an offscreen frame with ``MUJOCO_GL=backend``, else the reason (one line)."""
    env = {**os.environ, "MUJOCO_GL": backend, "PYOPENGL_PLATFORM": backend}
    if backend not in GL_PACKAGES:
        env.pop("PYOPENGL_PLATFORM")
    try:
        run = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "timed out"
    if run.returncode == 0:
        return None
    lines = [line.strip() for line in run.stderr.splitlines() if line.strip()]
    reason = lines[-1] if lines else f"exit status {run.returncode}"
    return reason if len(reason) <= 100 else reason[:97] + "..."


def choose_gl(probe: Callable[[str], str | None] = probe_gl) -> str | None:
    """Sets ``MUJOCO_GL`` to a backend that renders here and returns it (None: the platform's default,
    macOS and Windows).  Call before MuJoCo is imported.  Raises :class:`RenderSetupError` when none works."""
    chosen = os.environ.get("MUJOCO_GL", "").strip().lower()
    if chosen:
        candidates: tuple[str, ...] = (chosen,)
    elif sys.platform.startswith("linux"):
        candidates = ("egl", "osmesa")
    else:
        return None
    failures = {}
    for backend in candidates:
        failures[backend] = probe(backend)
        if failures[backend] is None:
            os.environ["MUJOCO_GL"] = backend
            if backend in GL_PACKAGES:
                os.environ["PYOPENGL_PLATFORM"] = backend
            return backend
    tried = "; ".join(f"{GL_NAMES.get(b, b)}: {why}" for b, why in failures.items())
    if chosen:
        package = GL_PACKAGES.get(chosen)
        fix = f"sudo apt-get install {package}" if package else "it needs a display"
        raise RenderSetupError(
            f"MUJOCO_GL={chosen} does not render here: {fix}, or unset MUJOCO_GL to try EGL then OSMesa, "
            f"or pass --no-video ({tried})."
        )
    raise RenderSetupError(
        f"no offscreen OpenGL for the video: install one with `sudo apt-get install libegl1` (or libosmesa6), "
        f"or pass --no-video ({tried})."
    )


def find_ffmpeg() -> str:
    """The ffmpeg binary to encode videos with: imageio-ffmpeg's, else one on PATH."""
    candidates = []
    try:
        import imageio_ffmpeg

        candidates.append(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        pass
    candidates.append(shutil.which("ffmpeg"))
    for exe in filter(None, candidates):
        try:
            if subprocess.run([exe, "-version"], capture_output=True, timeout=60).returncode == 0:
                return exe
        except (OSError, subprocess.TimeoutExpired):
            continue
    raise RenderSetupError(
        "no ffmpeg to encode the video: `pip install imageio-ffmpeg` (a dependency of mjx-myoassist, "
        "missing from this environment), or pass --no-video."
    )


def check_output_folder(folder: Path) -> None:
    """Raises :class:`RenderSetupError` unless files can be written in ``folder`` (or it can be made)."""
    folder = Path(folder)
    target = folder if folder.exists() else folder.parent
    if not target.is_dir():
        what = f"{folder} is not a folder" if target == folder else f"folder {target} does not exist"
        raise RenderSetupError(f"cannot write outputs to {folder}: {what}; pass --out DIR (an existing folder).")
    try:
        with tempfile.TemporaryFile(dir=target):
            pass
    except OSError as err:
        raise RenderSetupError(
            f"cannot write outputs to {folder} ({err.strerror or err}); pass --out DIR to write the video and "
            "analysis to a folder you can write."
        ) from None
