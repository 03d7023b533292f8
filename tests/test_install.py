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


# ---- quick checks of the install (run on every supported Python by .ci/run) ----

SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")  # Colab runs 3.12


def quiet_env() -> dict[str, str]:
    """The user's environment: none of the logging settings that this test process has picked up."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    for name in ("PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL"):
        env.pop(name, None)
    return env


def python(code: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=quiet_env(), capture_output=True, text=True, timeout=300
    )


def test_supported_pythons_are_declared():
    import tomllib

    from packaging.specifiers import SpecifierSet

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    allowed = SpecifierSet(project["requires-python"])
    for version in SUPPORTED_PYTHONS:
        assert f"{version}.0" in allowed and f"{version}.9" in allowed, f"Python {version} not in {allowed}"
        assert f"Programming Language :: Python :: {version}" in project["classifiers"]
    assert sys.version[:4] in SUPPORTED_PYTHONS, f"running on an undeclared Python {sys.version}"


def test_colab_install_cell_pins_the_same_stack_as_the_package():
    """The notebook installs the package plus GPU wheels; their pins must agree with pyproject's."""
    import tomllib

    import nbformat

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = dict(d.split("==") for d in deps if "==" in d)
    notebook = nbformat.read(ROOT / "notebooks" / "train_on_gpu.ipynb", as_version=4)
    (cell,) = [c.source for c in notebook.cells if "GPU_STACK" in c.source and "pip" in c.source]
    assert f'"jax[cuda12]=={pins["jax"]}"' in cell
    assert f'"mujoco-mjx[warp]=={pins["mujoco-mjx"]}"' in cell


def test_tensorboard_command_is_installed():
    """The README's `tensorboard --logdir results` works after the package's pip install."""
    tensorboard = Path(sys.executable).parent / "tensorboard"
    assert tensorboard.is_file(), f"{tensorboard} missing: the package must depend on tensorboard"
    out = subprocess.run([tensorboard, "--version_tb"], env=quiet_env(), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip()[:1].isdigit(), out.stdout + out.stderr


def test_commands_print_no_warp_messages(tmp_path):
    """Importing mujoco.mjx without warp-lang prints "Failed to import warp"; our commands stay quiet."""
    out = subprocess.run(
        [sys.executable, "-m", "mjx_myoassist.evaluate", "--help"],
        cwd=tmp_path, env=quiet_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0 and "usage" in out.stdout
    assert "Failed to import" not in out.stdout + out.stderr, out.stdout + out.stderr
    probe = python(
        "import mjx_myoassist, mujoco.mjx; print('messages:', mjx_myoassist.MJX_WARP_IMPORT_MESSAGES)", tmp_path
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.startswith("messages:") and "Failed to import" not in probe.stderr, probe.stdout + probe.stderr


JIT_TWICE = """
import sys
if sys.argv[2] == "package first":
    import mjx_myoassist
import jax, jax.numpy as jnp
if sys.argv[2] == "jax first":
    import mjx_myoassist
jax.config.update("jax_compilation_cache_dir", sys.argv[1])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
print(float(jax.jit(lambda x: jnp.sin(x) * 2 + 1)(jnp.ones(3)).sum()))
"""


@pytest.mark.parametrize("order", ["package first", "jax first"])
def test_compilation_cache_hits_print_no_xla_log(tmp_path, order):
    """A persistent-cache hit makes XLA log pjrt_executable.cc / cpu_aot_loader.cc lines: not after our import,
    also when jax was imported first (a notebook)."""
    cache = tmp_path / "cache"
    first = python(JIT_TWICE, tmp_path, str(cache), order)  # fills the cache
    assert first.returncode == 0, first.stderr
    assert list(cache.iterdir()), "nothing was cached: the test would not exercise a cache hit"
    second = python(JIT_TWICE, tmp_path, str(cache), order)
    assert second.returncode == 0 and second.stdout.strip() == first.stdout.strip(), second.stderr
    assert ".cc:" not in second.stderr, second.stderr
