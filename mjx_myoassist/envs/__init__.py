"""Environment registry: ``make(config)`` builds the env named by ``config.env_params.env_id``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import jax

from mjx_myoassist.config import (
    CONFIG_CLASS_BY_ENV_ID,
    ConfigError,
    EnvParams,
    TrainSessionConfigBase,
    check_net_indexing,
)
from mjx_myoassist.envs.base import Env, State, step_with_auto_reset
from mjx_myoassist.envs.cpu_backend import CpuBackend
from mjx_myoassist.envs.humanoid import HumanoidEnv
from mjx_myoassist.envs.leg import LegImitationEnv
from mjx_myoassist.envs.physics import MjxBackend
from mjx_myoassist.envs.pointmass import PointMassEnv
from mjx_myoassist.envs.warp_backend import WarpBackend, warp_available

ENV_CLASSES: dict[str, type[Env]] = {
    "myoAssistLegImitation-v0": LegImitationEnv,
    "myoAssistLegImitationExo-v0": LegImitationEnv,
    "humanoid-v0": HumanoidEnv,
    "pointmass-v0": PointMassEnv,
}
ENV_IDS: tuple[str, ...] = tuple(ENV_CLASSES)
assert set(ENV_IDS) == set(CONFIG_CLASS_BY_ENV_ID), "config and env registries disagree"


def _has_nvidia_gpu() -> bool:
    try:
        return bool(jax.devices("cuda"))
    except RuntimeError:  # JAX has no CUDA backend
        return False


def resolve_backend(name: str) -> str:
    """'auto' -> 'warp' on NVIDIA GPUs when MuJoCo Warp is installed, 'mjx' on other accelerators, else 'cpu'
    (MuJoCo C is faster than MJX on CPUs)."""
    if name != "auto":
        return name
    if jax.default_backend() == "cpu":
        return "cpu"
    return "warp" if _has_nvidia_gpu() and warp_available() else "mjx"


def backend_factory(env_params: EnvParams) -> Callable:
    """``(model, substeps, tracked_bodies) -> backend`` for the configured physics backend."""
    name = resolve_backend(env_params.physics_backend)
    if name == "cpu":
        return functools.partial(CpuBackend, num_threads=env_params.num_threads)
    if name == "warp":
        if not warp_available():
            raise ConfigError(
                "env_params.physics_backend is 'warp' but MuJoCo Warp is not installed: "
                'pip install -e ".[warp]" in the repository (or set physics_backend to mjx or cpu).'
            )
        return WarpBackend
    return MjxBackend


def use_physics_precision(precision: str) -> None:
    """Switches JAX to 64 bits for ``precision == 'float64'`` (process-wide: arrays made later are float64).

    Observations, actions and network parameters stay float32; MJX then steps in float64.
    """
    if precision == "float64" and not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)
        print("physics_precision float64: JAX runs in 64-bit mode for this process (MJX physics in float64).")


def make(config: TrainSessionConfigBase, base_dir: Path | None = None) -> Env:
    """The env for ``config`` (its physics model is built once and cached).

    Raises ConfigError for what only the built env can check: net_indexing_info against its observation and
    action sizes."""
    env_id = config.env_params.env_id
    if env_id not in ENV_CLASSES:
        raise ConfigError(f"Unknown env_id '{env_id}'. Registered: {ENV_IDS}.")
    use_physics_precision(config.env_params.physics_precision)
    env = ENV_CLASSES[env_id](config, backend_factory=backend_factory(config.env_params), base_dir=base_dir)
    policy = config.policy_params.custom_policy_params
    if policy.net_indexing_info:
        check_net_indexing(policy.net_indexing_info, policy.net_arch, env.observation_size, env.action_size)
    return env


__all__ = ["ENV_IDS", "Env", "State", "make", "step_with_auto_reset"]
