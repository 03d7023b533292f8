"""The wheel works outside a checkout: presets and models are package data, and the console commands run.

The wheel is built from a copy of the package (no build/ folder in the checkout) and installed into a
fresh venv that sees this venv's dependencies (jax, mujoco, ...) but not its editable checkout.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

TINY_POINTMASS = [
    "--config.env_params.physics_backend", "cpu", "--config.env_params.num_envs", "8",
    "--config.ppo_params.n_steps", "16", "--config.ppo_params.batch_size", "32", "--config.total_timesteps", "256",
    "--config.evaluate_param_list", '[{"num_timesteps": 10, "num_envs": 2}]',
]  # fmt: skip


def run(args: list, cwd: Path, timeout: int = 900) -> str:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("PYTHONPATH", None)
    env.pop("DISPLAY", None)
    out = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{args} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out.stdout


def build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        (source / name).write_bytes((ROOT / name).read_bytes())
    shutil.copytree(ROOT / "mjx_myoassist", source / "mjx_myoassist", ignore=shutil.ignore_patterns("__pycache__"))
    run([sys.executable, "-m", "pip", "wheel", source, "--no-deps", "-q", "-w", tmp_path / "dist"], cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("mjx_myoassist-*.whl")
    return wheel


def make_venv(tmp_path: Path, wheel: Path) -> Path:
    """A venv holding only the wheel; a .pth line adds this venv's site-packages (plain path: its .pth files,
    among them the editable checkout's finder, are not run)."""
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    (purelib,) = (venv / "lib").glob("python3*/site-packages")
    (purelib / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    run([venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel], cwd=tmp_path)
    return venv


@pytest.mark.slow
def test_wheel_trains_renders_and_evaluates_from_another_folder(tmp_path):
    venv = make_venv(tmp_path, build_wheel(tmp_path))
    bin_dir, work = venv / "bin", tmp_path / "elsewhere"
    work.mkdir()
    where = run([bin_dir / "python", "-c", "import mjx_myoassist; print(mjx_myoassist.__file__)"], cwd=work)
    assert where.strip().startswith(str(venv)), f"imported from {where}, not from the installed wheel"
    assert "usage" in run([bin_dir / "python", "-m", "mjx_myoassist.train", "--help"], cwd=work)

    run([bin_dir / "mjx-train", "--config", "pointmass", *TINY_POINTMASS, "--results-dir", "results", "--no-progress"],
        cwd=work)  # fmt: skip
    (session,) = (work / "results").glob("train_session_*")
    assert list((session / "trained_models").iterdir())

    run([bin_dir / "mjx-render", session, "--steps", "20", "--no-video"], cwd=work)  # the video: test_render.py
    assert (session / "analyze_results" / "training_curves.png").is_file()
    table = run([bin_dir / "mjx-evaluate", session, "--episodes", "2", "--seconds", "0.5"], cwd=work)
    assert "episode" in table
