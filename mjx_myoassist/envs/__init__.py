"""Environment registry: ``make(config)`` builds the env named by ``config.env_params.env_id``."""

from __future__ import annotations

import jax

from mjx_myoassist.config import CONFIG_CLASS_BY_ENV_ID, ConfigError, TrainSessionConfigBase, check_net_indexing
from mjx_myoassist.envs.backends import resolve_backend
from mjx_myoassist.envs.base import Env, State, step_with_auto_reset
from mjx_myoassist.envs.humanoid import HumanoidEnv
from mjx_myoassist.envs.leg import LegImitationEnv
from mjx_myoassist.envs.pointmass import PointMassEnv

ENV_CLASSES: dict[str, type[Env]] = {
    "myoAssistLegImitation-v0": LegImitationEnv,
    "myoAssistLegImitationExo-v0": LegImitationEnv,
    "humanoid-v0": HumanoidEnv,
    "pointmass-v0": PointMassEnv,
}
ENV_IDS: tuple[str, ...] = tuple(ENV_CLASSES)
assert set(ENV_IDS) == set(CONFIG_CLASS_BY_ENV_ID), "config and env registries disagree"


def set_precision(config: TrainSessionConfigBase) -> None:
    """Sets JAX's precision for ``config``'s physics, once, at an entry point, before any JAX array is made.

    ``physics_precision`` 'float64' switches JAX to 64 bits for the whole process (arrays made later are
    float64; observations, actions and network parameters stay float32, MJX then steps in float64).
    :func:`make` does not do this itself: it raises a ConfigError naming this function instead.
    """
    if _wants_float64(config) and not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)
        print("physics_precision float64: JAX runs in 64-bit mode for this process (MJX physics in float64).")


def _wants_float64(config: TrainSessionConfigBase) -> bool:
    return getattr(config.env_params, "physics_precision", "float32") == "float64"


def make(config: TrainSessionConfigBase) -> Env:
    """The env for ``config`` (its physics model is built once and cached); paths in the config are already
    absolute (:func:`mjx_myoassist.config.load_config`).

    Raises ConfigError for what only the built env can check (net_indexing_info against its observation and
    action sizes), and when the config asks for float64 physics while JAX runs in 32 bits."""
    env_id = config.env_params.env_id
    if env_id not in ENV_CLASSES:
        raise ConfigError(f"Unknown env_id '{env_id}'. Registered: {ENV_IDS}.")
    if _wants_float64(config) and not jax.config.jax_enable_x64:
        raise ConfigError(
            "env_params.physics_precision is float64 but JAX runs in 32 bits: call "
            "mjx_myoassist.envs.set_precision(config) once at the start of the program, before any JAX array is made."
        )
    env = ENV_CLASSES[env_id](config)
    policy = config.policy_params.custom_policy_params
    if policy.net_indexing_info:
        check_net_indexing(policy.net_indexing_info, policy.net_arch, env.observation_size, env.action_size)
    return env


__all__ = ["ENV_IDS", "Env", "State", "make", "resolve_backend", "set_precision", "step_with_auto_reset"]
