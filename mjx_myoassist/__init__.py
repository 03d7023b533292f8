"""mjx-myoassist: MyoAssist's human-exoskeleton RL pipeline on MJX and pure-JAX PPO."""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import io
import os
import sys
from pathlib import Path

__version__ = "0.1.0"

DEFAULT_CACHE_DIR = Path(os.environ.get("MJX_MYOASSIST_CACHE", Path.home() / ".cache" / "mjx_myoassist"))

# Quiet by default (set before jax loads XLA). XLA's C++ log lines are not for users: each persistent-cache
# hit prints a pjrt_executable.cc "Assume version compatibility" warning and cpu_aot_loader.cc machine-feature
# lines. Python exceptions still carry XLA's errors; set TF_CPP_MIN_LOG_LEVEL=0 to see the C++ log again.
_JAX_DEFAULT_LOG_LEVEL = "1"  # what ``import jax`` sets when the variable is unset
if "jax" not in sys.modules:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
elif os.environ.get("TF_CPP_MIN_LOG_LEVEL") == _JAX_DEFAULT_LOG_LEVEL:  # jax came first (a notebook): too late
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # for the variable; set XLA's level directly
    with contextlib.suppress(Exception):
        from jax._src.lib import utils as _xla_utils

        _xla_utils.absl_set_min_log_level(3)

MJX_WARP_IMPORT_MESSAGES: list[str] = []
"""What ``mujoco.mjx.warp`` printed when it was imported ("Failed to import warp: ..." without warp-lang): kept
here instead of on stdout, since only the ``warp`` backend needs warp, and it says how to install it."""


class _StdoutToList(importlib.abc.Loader):
    """Runs a module's import with stdout captured into :data:`MJX_WARP_IMPORT_MESSAGES`."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer):
                self._loader.exec_module(module)
        finally:
            MJX_WARP_IMPORT_MESSAGES.extend(line for line in buffer.getvalue().splitlines() if line.strip())

    def __getattr__(self, name):  # get_resource_reader, is_package, ... of the real loader
        return getattr(self._loader, name)


class _QuietMjxWarpImport(importlib.abc.MetaPathFinder):
    """``import mujoco.mjx`` imports ``mujoco.mjx.warp``, which prints two "Failed to import" lines to stdout
    when warp-lang is not installed (every command, even ``--help``). Its import runs through
    :class:`_StdoutToList` instead; nothing else changes."""

    name = "mujoco.mjx.warp"

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _StdoutToList(spec.loader)
        return spec


if not any(isinstance(finder, _QuietMjxWarpImport) for finder in sys.meta_path):
    sys.meta_path.insert(0, _QuietMjxWarpImport())


def enable_compilation_cache(cache_dir: Path | None = None) -> Path:
    """Turns on JAX's persistent compilation cache (MJX compiles are slow; reuse them across runs)."""
    import jax

    path = Path(cache_dir or DEFAULT_CACHE_DIR) / "jax"
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return path
