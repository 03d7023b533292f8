"""Config validation: every field's range check (carried by the field, schema.py) and the cross-field checks."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from mjx_myoassist.config.net_indexing import check_net_indexing
from mjx_myoassist.config.schema import (
    ConfigError,
    EvaluateParams,
    ImitationEnvParams,
    TrainSessionConfigBase,
)

FLAT_TERRAINS = ("flat", "dev")  # MyoAssist's terrain types without a height field (envs/terrain.py FLAT_TYPES)

# (section class, lower field, upper field): lower <= upper.
ORDERED_FIELDS: tuple[tuple[type, str, str], ...] = (
    (ImitationEnvParams, "min_target_velocity", "max_target_velocity"),
    (ImitationEnvParams, "min_target_velocity_period", "max_target_velocity_period"),
    (EvaluateParams, "min_target_velocity", "max_target_velocity"),
)


def _check_section(node: Any, where: str) -> None:
    """Each field's own check (its ``check`` metadata) and ORDERED_FIELDS for one dataclass section."""
    for f in dataclasses.fields(node):
        value, key = getattr(node, f.name), f"{where}.{f.name}" if where else f.name
        check = f.metadata.get("check")
        message = check(key, value) if check is not None and value is not None else None
        if message:
            default = f" (default: {f.default!r})" if f.default not in (dataclasses.MISSING, None) else ""
            raise ConfigError(f"{message}{default}.")
    for cls, low, high in ORDERED_FIELDS:
        if isinstance(node, cls) and getattr(node, low) > getattr(node, high):
            raise ConfigError(
                f"{where}.{low} ({getattr(node, low)}) must be <= {where}.{high} ({getattr(node, high)}); "
                "swap them or make them equal."
            )


def check_fields(node: Any, where: str = "") -> None:
    """Range-checks every field of a config tree and requires every number to be finite."""
    if dataclasses.is_dataclass(node):
        _check_section(node, where)
        for f in dataclasses.fields(node):
            check_fields(getattr(node, f.name), f"{where}.{f.name}" if where else f.name)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            check_fields(value, f"{where}[{i}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            check_fields(value, f"{where}.{key}")
    elif isinstance(node, float) and not math.isfinite(node):
        raise ConfigError(f"{where} = {node} must be a finite number.")


def validate(config: TrainSessionConfigBase) -> None:
    """Checks every field's range and the cross-field consistency; raises ConfigError with the fix."""
    check_fields(config)
    env, ppo = config.env_params, config.ppo_params
    if config.rollout_size < ppo.batch_size:
        raise ConfigError(
            f"ppo_params.n_steps * env_params.num_envs = {ppo.n_steps} * {env.num_envs} = {config.rollout_size} "
            f"is smaller than ppo_params.batch_size = {ppo.batch_size}. Lower batch_size or raise n_steps/num_envs."
        )
    if config.rollout_size % ppo.batch_size:
        raise ConfigError(
            f"ppo_params.batch_size = {ppo.batch_size} must divide n_steps * num_envs = {config.rollout_size}."
        )
    if ppo.batch_size % env.num_envs:
        raise ConfigError(
            f"ppo_params.batch_size = {ppo.batch_size} must be a multiple of env_params.num_envs = {env.num_envs} "
            "(every minibatch takes the same number of steps from each env)."
        )
    if isinstance(env, ImitationEnvParams) and env.physics_sim_framerate % env.control_framerate:
        raise ConfigError(
            f"env_params.physics_sim_framerate ({env.physics_sim_framerate}) must be a multiple of "
            f"env_params.control_framerate ({env.control_framerate}), e.g. 1200 for 30 Hz control."
        )
    if (
        isinstance(env, ImitationEnvParams)
        and env.terrain_type not in FLAT_TERRAINS
        and env.terrain_curriculum_steps
        and env.terrain_fields < 2
    ):
        raise ConfigError(
            f"env_params.terrain_curriculum_steps {env.terrain_curriculum_steps} ramps roughness over several "
            f"fields, but env_params.terrain_fields is {env.terrain_fields}: set terrain_fields to 2 or more "
            "(e.g. 8), or terrain_curriculum_steps to 0."
        )
    info = config.policy_params.custom_policy_params.net_indexing_info
    if info:
        check_net_indexing(info, config.policy_params.custom_policy_params.net_arch)
