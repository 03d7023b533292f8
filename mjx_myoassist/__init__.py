"""mjx-myoassist: MyoAssist's human-exoskeleton RL pipeline on MJX and pure-JAX PPO."""

from __future__ import annotations

import os
from pathlib import Path

__version__ = "0.1.0"

DEFAULT_CACHE_DIR = Path(os.environ.get("MJX_MYOASSIST_CACHE", Path.home() / ".cache" / "mjx_myoassist"))


def enable_compilation_cache(cache_dir: Path | None = None) -> Path:
    """Turns on JAX's persistent compilation cache (MJX compiles are slow; reuse them across runs)."""
    import jax

    path = Path(cache_dir or DEFAULT_CACHE_DIR) / "jax"
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return path
