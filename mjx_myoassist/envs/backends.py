"""The physics backends by their ``env_params.physics_backend`` name: adding a backend is one entry here.

Each entry is a class implementing :class:`~mjx_myoassist.envs.physics.PhysicsBackend`, built as
``cls(model, substeps, tracked_bodies, **cls.options(env_params))``; the config's list of
names (``config.PHYSICS_BACKENDS``) must match.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import mujoco

from mjx_myoassist.config import PHYSICS_BACKENDS, ConfigError, EnvParams
from mjx_myoassist.envs.cpu_backend import CpuBackend
from mjx_myoassist.envs.physics import MjxBackend, PhysicsBackend
from mjx_myoassist.envs.warp_backend import WarpBackend

BACKENDS: dict[str, type] = {cls.name: cls for cls in (MjxBackend, WarpBackend, CpuBackend)}
AUTO = "auto"
assert set(PHYSICS_BACKENDS) == {AUTO, *BACKENDS}, "config.PHYSICS_BACKENDS and envs.backends.BACKENDS disagree"


def _has_nvidia_gpu() -> bool:
    try:
        return bool(jax.devices("cuda"))
    except RuntimeError:  # JAX has no CUDA backend
        return False


def resolve_backend(name: str) -> str:
    """'auto' -> 'warp' on NVIDIA GPUs when MuJoCo Warp is installed, 'mjx' on other accelerators, else 'cpu'
    (MuJoCo C is faster than MJX on CPUs)."""
    if name != AUTO:
        return name
    if jax.default_backend() == "cpu":
        return "cpu"
    return "warp" if _has_nvidia_gpu() and WarpBackend.available() else "mjx"


def backend_class(env_params: EnvParams) -> type:
    """The backend class the config selects (its capabilities are class attributes); ConfigError when it is not
    installed."""
    cls = BACKENDS[resolve_backend(env_params.physics_backend)]
    if not cls.available():
        raise ConfigError(f"env_params.physics_backend is '{cls.name}' but it is not installed: {cls.install_hint}.")
    return cls


def make_backend(
    env_params: EnvParams, model: mujoco.MjModel, substeps: int, tracked_bodies: Sequence[str]
) -> PhysicsBackend:
    """The configured backend over ``model``, stepping ``substeps`` physics steps per control step."""
    cls = backend_class(env_params)
    return cls(model, substeps, tracked_bodies, **cls.options(env_params))
