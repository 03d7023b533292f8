"""Range checks of every config field and the cross-field consistency checks."""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any

from mjx_myoassist.config.net_indexing import check_net_indexing
from mjx_myoassist.config.schema import (
    INTEGRATORS,
    PHYSICS_BACKENDS,
    PHYSICS_PRECISIONS,
    TERRAIN_TYPES,
    TRAINING_VELOCITY_MODES,
    VELOCITY_MODES,
    WEIGHT_INITS,
    ConfigError,
    CustomPolicyParams,
    EnvParams,
    EvaluateParams,
    HumanoidEnvParams,
    ImitationEnvParams,
    LoggerParams,
    PointMassEnvParams,
    PPOParams,
    TrainSessionConfigBase,
    _did_you_mean,
)

CAMERA_TYPES = ("follow", "fixed", "average_speed")  # average_speed: MyoAssist's analyzer camera

# A check returns the error message for a bad value of ``key``, or None when the value is fine.
Check = typing.Callable[[str, Any], str | None]


def _bounds(low: float | None = None, high: float | None = None, above: bool = False) -> Check:
    """Value >= low (> low when ``above``) and <= high; NaN fails."""
    parts = [f"> {low}" if above else f">= {low}"] if low is not None else []
    need = " and ".join(parts + ([f"<= {high}"] if high is not None else []))

    def check(key: str, value: Any) -> str | None:
        ok = (low is None or (value > low if above else value >= low)) and (high is None or value <= high)
        return None if ok else f"{key} = {value!r} is out of range: it must be {need}"

    return check


def _one_of(options: tuple[str, ...]) -> Check:
    def check(key: str, value: Any) -> str | None:
        if value in options:
            return None
        return f"{key} '{value}' is unknown.{_did_you_mean(str(value), options)} Use one of {options}"

    return check


def _layer_sizes(key: str, value: dict[str, list[int]]) -> str | None:
    bad = next((name for name, sizes in value.items() if any(width < 1 for width in sizes)), None)
    return f"{key}.{bad} = {value[bad]}: every layer size must be >= 1, e.g. [64, 64]" if bad else None


_POSITIVE, _NON_NEGATIVE, _AT_LEAST_ONE, _FRACTION = _bounds(0, above=True), _bounds(0), _bounds(1), _bounds(0, 1)

# (section class, field) -> range check; subclasses inherit their parents' checks.
FIELD_CHECKS: dict[tuple[type, str], Check] = {
    (TrainSessionConfigBase, "total_timesteps"): _AT_LEAST_ONE,
    (LoggerParams, "logging_frequency"): _AT_LEAST_ONE,
    (LoggerParams, "evaluate_frequency"): _NON_NEGATIVE,
    (LoggerParams, "keep_last"): _NON_NEGATIVE,
    (LoggerParams, "walk_test_episodes"): _NON_NEGATIVE,
    (LoggerParams, "walk_test_seconds"): _POSITIVE,
    (EnvParams, "num_envs"): _AT_LEAST_ONE,
    (EnvParams, "seed"): _bounds(0, 2**32 - 1),
    (EnvParams, "control_framerate"): _AT_LEAST_ONE,
    (EnvParams, "physics_sim_framerate"): _AT_LEAST_ONE,
    (EnvParams, "custom_max_episode_steps"): _AT_LEAST_ONE,
    (EnvParams, "physics_backend"): _one_of(PHYSICS_BACKENDS),
    (EnvParams, "physics_precision"): _one_of(PHYSICS_PRECISIONS),
    (EnvParams, "num_threads"): _NON_NEGATIVE,
    (EnvParams, "solver_iterations"): _NON_NEGATIVE,
    (EnvParams, "solver_ls_iterations"): _NON_NEGATIVE,
    (EnvParams, "integrator"): _one_of(INTEGRATORS),
    (ImitationEnvParams, "out_of_trajectory_threshold"): _POSITIVE,
    (ImitationEnvParams, "via_point_armature"): _NON_NEGATIVE,
    (ImitationEnvParams, "min_target_velocity"): _NON_NEGATIVE,
    (ImitationEnvParams, "min_target_velocity_period"): _POSITIVE,
    (ImitationEnvParams, "velocity_mode"): _one_of(TRAINING_VELOCITY_MODES),
    (ImitationEnvParams, "lumbar_joint_damping_value"): _NON_NEGATIVE,
    (ImitationEnvParams, "terrain_type"): _one_of(TERRAIN_TYPES),
    (ImitationEnvParams, "terrain_curriculum_steps"): _NON_NEGATIVE,
    (HumanoidEnvParams, "frame_skip"): _AT_LEAST_ONE,
    (HumanoidEnvParams, "framerate"): _AT_LEAST_ONE,
    (HumanoidEnvParams, "reset_noise_scale"): _NON_NEGATIVE,
    (HumanoidEnvParams, "target_height"): _POSITIVE,
    (PointMassEnvParams, "frame_skip"): _AT_LEAST_ONE,
    (PointMassEnvParams, "start_range"): _POSITIVE,
    (PPOParams, "learning_rate"): _POSITIVE,
    (PPOParams, "n_steps"): _AT_LEAST_ONE,
    (PPOParams, "batch_size"): _AT_LEAST_ONE,
    (PPOParams, "n_epochs"): _AT_LEAST_ONE,
    (PPOParams, "gamma"): _FRACTION,
    (PPOParams, "gae_lambda"): _FRACTION,
    (PPOParams, "clip_range"): _POSITIVE,
    (PPOParams, "clip_range_vf"): _POSITIVE,
    (PPOParams, "ent_coef"): _NON_NEGATIVE,
    (PPOParams, "vf_coef"): _NON_NEGATIVE,
    (PPOParams, "max_grad_norm"): _POSITIVE,
    (PPOParams, "target_kl"): _POSITIVE,
    (PPOParams, "adam_eps"): _POSITIVE,
    (CustomPolicyParams, "weight_init"): _one_of(WEIGHT_INITS),
    (CustomPolicyParams, "net_arch"): _layer_sizes,
    (EvaluateParams, "num_timesteps"): _AT_LEAST_ONE,
    (EvaluateParams, "min_target_velocity"): _NON_NEGATIVE,
    (EvaluateParams, "target_velocity_period"): _POSITIVE,
    (EvaluateParams, "velocity_mode"): _one_of(VELOCITY_MODES),
    (EvaluateParams, "cam_type"): _one_of(CAMERA_TYPES),
    (EvaluateParams, "cam_distance"): _POSITIVE,
    (EvaluateParams, "num_envs"): _AT_LEAST_ONE,
}
# (section class, lower field, upper field): lower <= upper.
ORDERED_FIELDS: tuple[tuple[type, str, str], ...] = (
    (ImitationEnvParams, "min_target_velocity", "max_target_velocity"),
    (ImitationEnvParams, "min_target_velocity_period", "max_target_velocity_period"),
    (EvaluateParams, "min_target_velocity", "max_target_velocity"),
)


def _field_check(cls: type, name: str) -> Check | None:
    return next((FIELD_CHECKS[(c, name)] for c in cls.__mro__ if (c, name) in FIELD_CHECKS), None)


def _check_section(node: Any, where: str) -> None:
    """FIELD_CHECKS and ORDERED_FIELDS for one dataclass section."""
    for f in dataclasses.fields(node):
        value, key = getattr(node, f.name), f"{where}.{f.name}" if where else f.name
        check = _field_check(type(node), f.name)
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
    info = config.policy_params.custom_policy_params.net_indexing_info
    if info:
        check_net_indexing(info, config.policy_params.custom_policy_params.net_arch)
