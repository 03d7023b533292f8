"""Environment registry: ``make(config)`` builds the env named by ``config.env_params.env_id``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from mjx_myoassist.config import CONFIG_CLASS_BY_ENV_ID, ConfigError, TrainSessionConfigBase
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


def make(config: TrainSessionConfigBase, base_dir: Optional[Path] = None) -> Env:
    """The env for ``config`` (its physics model is built once and cached)."""
    env_id = config.env_params.env_id
    if env_id not in ENV_CLASSES:
        raise ConfigError(f"Unknown env_id '{env_id}'. Registered: {ENV_IDS}.")
    return ENV_CLASSES[env_id](config, base_dir=base_dir)


__all__ = ["ENV_IDS", "Env", "State", "make", "step_with_auto_reset"]
