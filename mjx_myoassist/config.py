"""Typed training configuration, loaded from MyoAssist-schema JSON.

The hierarchy follows MyoAssist (``TrainSessionConfigBase`` ->
``ImitationTrainSessionConfig`` -> ``ExoImitationTrainSessionConfig``) plus a
``HumanoidTrainSessionConfig``.  Every field carries its documentation in
``field(metadata={"doc": ...})`` so the config reference can be generated.

Load with :func:`load_config`; override any value with dotted keys, e.g.
``load_config("configs/test.json", ["--config.env_params.num_envs", "16"])``.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import types
import typing
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union


class ConfigError(ValueError):
    """A configuration value is missing, unknown or inconsistent; the message says how to fix it."""


def _doc(default: Any, text: str) -> Any:
    """A dataclass field with a default (copied for mutable values) and a docstring."""
    if isinstance(default, (list, dict)):
        value = default
        return field(default_factory=lambda: json.loads(json.dumps(value)), metadata={"doc": text})
    if dataclasses.is_dataclass(default):
        return field(default_factory=type(default), metadata={"doc": text})
    return field(default=default, metadata={"doc": text})


VELOCITY_MODES = ("UNIFORM", "SINUSOIDAL", "STEP")
TRAINING_VELOCITY_MODES = ("RANDOM", *VELOCITY_MODES)
TERRAIN_TYPES = ("flat", "random", "harmonic_sinusoidal", "slope", "dev")
PHYSICS_BACKENDS = ("auto", "mjx", "warp", "cpu")
PHYSICS_PRECISIONS = ("float32", "float64")
INTEGRATORS = ("", "Euler", "implicitfast", "RK4")  # names of mujoco.mjtIntegrator, "" = the model's own
WEIGHT_INITS = ("myoassist", "scaled")


@dataclass
class LoggerParams:
    logging_frequency: int = _doc(8, "Log and checkpoint every this many PPO rollouts (epochs).")
    evaluate_frequency: int = _doc(0, "Run the evaluation batches every this many rollouts; 0 = only at the end.")
    keep_last: int = _doc(
        5, "Checkpoints kept: the newest this many, plus the best by evaluation (evaluations.json); 0 = keep all."
    )
    save_env_state: bool = _doc(
        True,
        "Store every env's physics state in checkpoints, so a resume continues the same episodes exactly. false "
        "keeps checkpoints small (the MJX leg state is ~80 KB per env) and a resume starts fresh episodes.",
    )


@dataclass
class RewardWeights:
    qpos_imitation_rewards: dict[str, float] = _doc({}, "Per-joint weight of exp(-8 err^2) joint-position imitation.")
    qvel_imitation_rewards: dict[str, float] = _doc(
        {}, "Per-joint weight of joint-velocity imitation (reference scaled by target speed)."
    )
    end_effector_imitation_reward: float = _doc(0.0, "Weight of foot-position imitation relative to the pelvis.")
    forward_reward: float = _doc(1.0, "Weight of exp(-5 (vx - v_target)^2).")
    muscle_activation_penalty: float = _doc(0.1, "Weight of the mean squared muscle activation (penalty).")
    muscle_activation_diff_penalty: float = _doc(0.1, "Weight of the mean squared change of activation per step.")
    footstep_delta_time: float = _doc(0.0, "Weight of the reward for step durations, paid at each heel strike.")
    average_velocity_per_step: float = _doc(0.0, "Weight of the per-step average velocity match, paid at heel strike.")
    muscle_activation_penalty_per_step: float = _doc(
        0.0, "Weight of the activation effort accumulated over a step, charged at heel strike."
    )
    joint_constraint_force_penalty: float = _doc(1.0, "Weight of the joint-limit constraint force penalty.")
    foot_force_penalty: float = _doc(0.5, "Weight of the penalty on foot forces above 1.2 body weight.")


@dataclass
class EnvParams:
    env_id: str = _doc("myoAssistLegImitationExo-v0", "Registered environment id (see mjx_myoassist.envs.ENV_IDS).")
    num_envs: int = _doc(32, "Number of parallel environments (vmapped in one batch).")
    seed: int = _doc(1234, "Random seed of the environments and the trainer.")
    control_framerate: int = _doc(30, "Policy (control) rate in Hz.")
    physics_sim_framerate: int = _doc(1200, "Physics rate in Hz; substeps = physics_sim_framerate / control_framerate.")
    custom_max_episode_steps: int = _doc(1000, "Truncate episodes after this many control steps.")
    model_path: str = _doc(
        "",
        "MyoAssist model path (models/22muscle_2D/myoLeg22_2D_<DEVICE>.xml, models/26muscle_3D/myoLeg26_<DEVICE>.xml): "
        "the file is looked up under myoassist_root, then the config's folder, then the working directory; when it "
        "is absent the embedded assist-sim model of that device runs (with a notice). A model id also works.",
    )
    myoassist_root: str = _doc("", "Folder of a MyoAssist checkout; model_path is looked up there first.")
    mjx_ready_edits: bool = _doc(
        True,
        "Apply the MJX-ready edits to a MyoAssist model (foot contact spheres, solver; docs/models.md). "
        "false = MyoAssist's original mesh contacts and solver, which only the cpu physics backend can run.",
    )
    solver_iterations: int = _doc(
        0, "Constraint solver iterations; 0 = the model's own (MJX-ready edits: 4; MyoAssist's original: 100)."
    )
    solver_ls_iterations: int = _doc(
        0, "Solver line-search iterations; 0 = the model's own (MJX-ready edits: 8; MyoAssist's original: 50)."
    )
    integrator: str = _doc(
        "",
        "Physics integrator: '' = the model's own (MyoAssist: Euler), or 'Euler', 'implicitfast', 'RK4'. MyoAssist's "
        "published policy falls under 'implicitfast' at every rate tried (benchmarks/README.md, Physics rate).",
    )
    model_id: str = _doc("", "Model id (mjx_myoassist.models.MODEL_IDS); empty = derived from model_path/env_id.")
    prev_trained_policy_path: Optional[str] = _doc(
        None,
        "Checkpoint or session to warm-start the policy from (actors, critic, log_std): one of ours, or a MyoAssist "
        "model_<steps>.zip or session folder (training then uses its head: tanh outputs, raw observations).",
    )
    physics_backend: str = _doc(
        "auto",
        "'mjx' (JAX physics), 'warp' (MuJoCo Warp, NVIDIA GPUs; pip install -e \".[warp]\"), 'cpu' (MuJoCo C) or "
        "'auto' (warp on NVIDIA GPUs when installed, mjx on other GPUs/TPUs, else cpu).",
    )
    num_threads: int = _doc(0, "Threads of the cpu physics backend; 0 = all cores.")
    physics_precision: str = _doc(
        "float32",
        "Precision of MJX physics: 'float64' switches JAX to 64-bit (jax_enable_x64) for the whole run, as CPU "
        "MuJoCo computes; MyoAssist's own models need it on MJX (docs/models.md). The cpu backend is always float64.",
    )


@dataclass
class ImitationEnvParams(EnvParams):
    safe_height: float = _doc(0.7, "Episode terminates when the pelvis is lower than this (m).")
    out_of_trajectory_threshold: float = _doc(
        0.2, "Episode terminates when any imitated joint is further than this from the reference."
    )
    flag_random_ref_index: bool = _doc(True, "Start each episode at a random reference index in [0, 0.8 L).")
    min_target_velocity: float = _doc(1.25, "Lowest target walking speed (m/s).")
    max_target_velocity: float = _doc(1.25, "Highest target walking speed (m/s).")
    min_target_velocity_period: float = _doc(2.0, "Shortest period of target speed changes (s).")
    max_target_velocity_period: float = _doc(10.0, "Longest period of target speed changes (s).")
    velocity_mode: str = _doc(
        "RANDOM",
        "Target speed schedule of training episodes: RANDOM draws UNIFORM, SINUSOIDAL or STEP per episode as "
        "MyoAssist's training does; a mode name fixes it (mjx_myoassist/envs/velocity.py).",
    )
    enable_lumbar_joint: bool = _doc(
        False, "Let the lumbar joint move; the planar 22-muscle leg welds its trunk, so true is an error there."
    )
    lumbar_joint_fixed_angle: float = _doc(-0.13, "Trunk angle (rad of lumbar extension, + = backward) when fixed.")
    lumbar_joint_damping_value: float = _doc(
        0.05, "Lumbar joint damping when enabled (unused while the trunk is welded)."
    )
    observation_joint_pos_keys: list[str] = _doc([], "Joints whose position is observed, in this order.")
    observation_joint_vel_keys: list[str] = _doc([], "Joints whose velocity is observed, in this order.")
    observation_joint_sensor_keys: list[str] = _doc(
        ["r_foot", "l_foot", "r_toes", "l_toes"], "Foot force sensors observed (divided by body weight)."
    )
    terrain_type: str = _doc(
        "flat", "MyoAssist's terrain types: flat, random, harmonic_sinusoidal, slope, or dev (flat, as in MyoAssist)."
    )
    terrain_params: str = _doc(
        "",
        "Space-separated numbers with MyoAssist's meaning: random 'amplitude' (m, heights uniform in [0, amplitude]); "
        "harmonic_sinusoidal groups of 'amplitude_row period_row amplitude_col period_col' (amplitudes in m, periods "
        "in 0.2 m cells); slope 'slope' (rise over run, not degrees); none for flat and dev. See "
        "mjx_myoassist/envs/terrain.py.",
    )
    terrain_curriculum_steps: int = _doc(
        0, "Environment steps over which terrain roughness ramps from flat to full; 0 = no curriculum."
    )
    reward_keys_and_weights: RewardWeights = _doc(RewardWeights(), "Reward term weights.")
    reference_data_path: str = _doc("", "Reference gait (.npz/.json, MyoAssist format); empty = packaged default.")
    reference_data_keys: list[str] = _doc([], "Joints set from the reference at reset and checked for termination.")


@dataclass
class HumanoidEnvParams(EnvParams):
    reward_function: str = _doc("stand", "Reward function key: stand, kneel or walk.")
    frame_skip: int = _doc(3, "Physics steps per control step.")
    framerate: int = _doc(60, "Video framerate for rendering.")
    reset_noise_scale: float = _doc(0.01, "Scale of the uniform perturbation of initial qpos and qvel.")
    target_velocity: float = _doc(1.0, "Forward speed the walk reward asks for (m/s).")
    target_height: float = _doc(1.282, "Head height the stand reward asks for (m).")


@dataclass
class PointMassEnvParams(EnvParams):
    frame_skip: int = _doc(5, "Physics steps per control step.")
    start_range: float = _doc(0.5, "Initial position drawn uniformly in [-start_range, start_range]^2 (m).")


@dataclass
class PPOParams:
    learning_rate: float = _doc(3e-4, "Adam learning rate.")
    n_steps: int = _doc(512, "Rollout length per environment and update.")
    batch_size: int = _doc(8192, "Minibatch size; n_steps * num_envs must be a multiple >= batch_size.")
    n_epochs: int = _doc(10, "Passes over the rollout per update.")
    gamma: float = _doc(0.99, "Discount factor.")
    gae_lambda: float = _doc(0.95, "GAE lambda.")
    clip_range: float = _doc(0.2, "PPO policy clip range.")
    clip_range_vf: Optional[float] = _doc(None, "Value clip range; null = no value clipping.")
    ent_coef: float = _doc(0.0, "Entropy bonus coefficient.")
    vf_coef: float = _doc(0.5, "Value loss coefficient.")
    max_grad_norm: float = _doc(0.5, "Global gradient-norm clip.")
    target_kl: Optional[float] = _doc(
        None, "Stop the epoch loop of an update when the approximate KL exceeds 1.5x this."
    )
    normalize_observation: bool = _doc(
        False,
        "Running mean/variance observation normalization (an option of this project); false, the default, feeds "
        "raw observations to the networks as MyoAssist does.",
    )
    adam_eps: float = _doc(
        1e-8,
        "Adam epsilon: 1e-8 as MyoAssist's policies get (torch's default); Stable-Baselines3's MlpPolicy uses 1e-5.",
    )


@dataclass
class CustomPolicyParams:
    net_arch: dict[str, list[int]] = _doc(
        {"human_actor": [64, 64], "exo_actor": [8, 8], "common_critic": [64, 64]},
        "Hidden layer sizes per network (human_actor, exo_actor, common_critic; or pi, vf).",
    )
    net_indexing_info: dict[str, Any] = _doc(
        {}, "Observation slices read and action slices written per network; empty = one actor for all."
    )
    log_std_init: float = _doc(0.0, "Initial log standard deviation of the Gaussian policy.")
    activation: str = _doc("tanh", "Hidden activation: tanh or relu.")
    actor_output_activation: str = _doc(
        "tanh",
        "Activation after each actor's output layer: tanh, the default, as MyoAssist's policies (tanh after every "
        "layer, so the mean stays in (-1, 1)), or none (a linear action mean). The critic's output is linear "
        "either way, as in MyoAssist.",
    )
    weight_init: str = _doc(
        "myoassist",
        "Initial weights: 'myoassist' = orthogonal with gain 1 on every layer and zero biases (what MyoAssist's "
        "policies get from Stable-Baselines3's init_weights); 'scaled' = orthogonal with gain sqrt(2) on hidden "
        "layers, 0.01 on actor outputs and 1 on the critic output (the PPO implementations' choice).",
    )


@dataclass
class PolicyParams:
    custom_policy_params: CustomPolicyParams = _doc(CustomPolicyParams(), "Network architecture and indexing.")


@dataclass
class EvaluateParams:
    num_timesteps: int = _doc(200, "Control steps per evaluation episode.")
    min_target_velocity: float = _doc(1.25, "Lowest target speed (m/s).")
    max_target_velocity: float = _doc(1.25, "Highest target speed (m/s).")
    target_velocity_period: float = _doc(2.0, "Period of target speed changes (s).")
    velocity_mode: str = _doc("UNIFORM", "UNIFORM, SINUSOIDAL or STEP.")
    cam_type: str = _doc("follow", "Camera for videos: follow or fixed (MyoAssist's average_speed renders fixed).")
    cam_distance: float = _doc(2.5, "Camera distance (m).")
    visualize_activation: bool = _doc(True, "Colour muscles by activation in videos.")
    num_envs: int = _doc(16, "Environments evaluated at once for this entry.")


@dataclass
class AutoRewardAdjustParams:
    learning_rate: float = _doc(0.0, "Accepted for MyoAssist compatibility; automatic reward adjustment is not used.")


@dataclass
class TrainSessionConfigBase:
    total_timesteps: int = _doc(30_000_000, "Total environment steps to train for.")
    comment: str = _doc("", "Free text kept with the session.")
    logger_params: LoggerParams = _doc(LoggerParams(), "Logging and checkpoint cadence.")
    env_params: EnvParams = _doc(EnvParams(), "Environment parameters.")
    ppo_params: PPOParams = _doc(PPOParams(), "PPO hyper-parameters (Stable-Baselines3 semantics).")
    policy_params: PolicyParams = _doc(PolicyParams(), "Policy network parameters.")
    evaluate_param_list: list[EvaluateParams] = _doc([], "Evaluation batches run during and after training.")
    auto_reward_adjust_params: AutoRewardAdjustParams = _doc(
        AutoRewardAdjustParams(), "Unused; kept for compatibility."
    )

    @property
    def rollout_size(self) -> int:
        """Transitions collected per PPO update."""
        return self.ppo_params.n_steps * self.env_params.num_envs

    @property
    def num_minibatches(self) -> int:
        """Minibatches per epoch of an update."""
        return max(1, self.rollout_size // self.ppo_params.batch_size)

    @property
    def num_updates(self) -> int:
        """PPO updates needed to reach total_timesteps (at least one)."""
        return max(1, -(-int(self.total_timesteps) // self.rollout_size))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class ImitationTrainSessionConfig(TrainSessionConfigBase):
    env_params: ImitationEnvParams = _doc(ImitationEnvParams(), "Leg imitation environment parameters.")

    @property
    def substeps(self) -> int:
        """Physics steps per control step."""
        return self.env_params.physics_sim_framerate // self.env_params.control_framerate


@dataclass
class ExoImitationTrainSessionConfig(ImitationTrainSessionConfig):
    """Imitation with an exoskeleton: the policy usually has separate human and exo actors."""


@dataclass
class HumanoidTrainSessionConfig(TrainSessionConfigBase):
    env_params: HumanoidEnvParams = _doc(
        HumanoidEnvParams(env_id="humanoid-v0", model_id="humanoid", custom_max_episode_steps=1000),
        "Humanoid environment parameters.",
    )


@dataclass
class PointMassTrainSessionConfig(TrainSessionConfigBase):
    """The cheap point-mass task used to test the trainer."""

    env_params: PointMassEnvParams = _doc(
        PointMassEnvParams(env_id="pointmass-v0", model_id="pointmass", custom_max_episode_steps=50),
        "Point-mass environment parameters.",
    )


Config = TrainSessionConfigBase

CONFIG_CLASS_BY_ENV_ID: dict[str, type[TrainSessionConfigBase]] = {
    "myoAssistLegImitation-v0": ImitationTrainSessionConfig,
    "myoAssistLegImitationExo-v0": ExoImitationTrainSessionConfig,
    "humanoid-v0": HumanoidTrainSessionConfig,
    "pointmass-v0": PointMassTrainSessionConfig,
}


# ----------------------------------------------------------------------------- parsing


def _did_you_mean(name: str, options: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(options), n=1)
    return f" Did you mean '{close[0]}'?" if close else ""


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp: Any, where: str) -> Any:
    """Converts a JSON value to the annotated type, or raises ConfigError naming the key."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        inner = [t for t in options if t is not type(None)]
        return _convert(value, inner[0], where)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"'{where}' must be an object with keys {[f.name for f in dataclasses.fields(tp)]}.")
        return _build(tp, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"'{where}' must be a list, got {value!r}.")
        (item,) = typing.get_args(tp)
        return [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"'{where}' must be an object (dict), got {value!r}.")
        _, val_tp = typing.get_args(tp)
        return {k: _convert(v, val_tp, f"{where}.{k}") for k, v in value.items()}
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"'{where}' must be true or false, got {value!r}.")
    if tp is int:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
            return int(value)
        raise ConfigError(f"'{where}' must be an integer, got {value!r}.")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"'{where}' must be a number, got {value!r}.")
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):  # e.g. --config.x.terrain_params 0.05
            return str(value)
        raise ConfigError(f"'{where}' must be a string, got {value!r}.")
    raise ConfigError(f"'{where}': unsupported type {_type_name(tp)}.")


class IgnoredKeyWarning(UserWarning):
    """A MyoAssist config key that this project accepts but does not act on."""


_SAME_IN_MYOASSIST = "MyoAssist does not use it either; net_indexing_info defines the networks' slices"
MYOASSIST_IGNORED_KEYS: dict[str, str] = {
    "code_version": "MyoAssist's record of the code that trained a session",
    "ppo_params.use_sde": "state-dependent exploration is not supported; the policy is a state-independent Gaussian",
    "ppo_params.sde_sample_freq": "it only matters with use_sde, which is not supported",
    "ppo_params.device": "JAX places the computation on every local device itself",
    "policy_params.custom_policy_params.reset_shared_net_after_load": "MyoAssist's policies have no shared network",
    "policy_params.custom_policy_params.reset_policy_net_after_load": (
        "a warm start (prev_trained_policy_path) here always keeps the loaded actors and log_std"
    ),
    "policy_params.custom_policy_params.reset_value_net_after_load": (
        "a warm start (prev_trained_policy_path) here always keeps the loaded critic"
    ),
    "policy_params.custom_policy_params.human_observation_indices": _SAME_IN_MYOASSIST,
    "policy_params.custom_policy_params.exo_observation_indices": _SAME_IN_MYOASSIST,
    "policy_params.custom_policy_params.human_action_size": _SAME_IN_MYOASSIST,
    "policy_params.custom_policy_params.exo_action_size": _SAME_IN_MYOASSIST,
}


def _report_ignored(path: str) -> None:
    warnings.warn(
        f"Config key '{path}' is a MyoAssist setting that is ignored here: {MYOASSIST_IGNORED_KEYS[path]}.",
        IgnoredKeyWarning,
        stacklevel=2,
    )


def _ignored_keys_in(section: str) -> list[str]:
    """Names of the ignored MyoAssist keys directly under ``section`` (a dotted path; '' = top level)."""
    return [name for parent, _, name in (k.rpartition(".") for k in MYOASSIST_IGNORED_KEYS) if parent == section]


def _build(cls: type, data: dict[str, Any], where: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else key
        if key not in names and path in MYOASSIST_IGNORED_KEYS:
            _report_ignored(path)
            continue
        if key not in names:
            ignored = _ignored_keys_in(where)
            raise ConfigError(
                f"Unknown config key '{path}'.{_did_you_mean(key, names + ignored)} Valid keys here: {names}"
                + (f", and MyoAssist's {ignored} (accepted, ignored)." if ignored else ".")
            )
        kwargs[key] = _convert(value, hints[key], path)
    return cls(**kwargs)


def _parse_override_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _require_object(data: Any, where: str) -> None:
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a JSON object {{...}}, got {data!r}. Start from a preset, e.g. 'test'.")


def _config_class(data: dict[str, Any]) -> type[TrainSessionConfigBase]:
    _require_object(data, "The config's top level")
    _require_object(data.get("env_params", {}), "'env_params'")
    env_id = data.get("env_params", {}).get("env_id", EnvParams.env_id)
    if env_id not in CONFIG_CLASS_BY_ENV_ID:
        raise ConfigError(
            f"Unknown env_params.env_id '{env_id}'.{_did_you_mean(env_id, CONFIG_CLASS_BY_ENV_ID)} "
            f"Registered ids: {sorted(CONFIG_CLASS_BY_ENV_ID)}."
        )
    return CONFIG_CLASS_BY_ENV_ID[env_id]


def _valid_dotted_keys(cls: type, prefix: str = "") -> list[str]:
    keys = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        keys.append(prefix + f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            keys += _valid_dotted_keys(hints[f.name], prefix + f.name + ".")
    return keys


def apply_overrides(data: dict[str, Any], overrides: typing.Sequence[str]) -> dict[str, Any]:
    """Applies ``--config.a.b VALUE`` pairs (values parsed as JSON when they parse) to a raw dict."""
    data = json.loads(json.dumps(data))
    args = list(overrides)
    if len(args) % 2:
        raise ConfigError(f"Overrides come in pairs '--config.<key> <value>'; got {args}.")
    for flag, raw in zip(args[0::2], args[1::2], strict=True):
        if not flag.startswith("--config."):
            raise ConfigError(f"Override '{flag}' must start with '--config.' (e.g. --config.total_timesteps 1000).")
        path = flag[len("--config.") :].split(".")
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"Override '{flag}': '{part}' is not an object.")
        node[path[-1]] = _parse_override_value(raw)
    cls = _config_class(data)
    valid = _valid_dotted_keys(cls)
    for flag in args[0::2]:
        key = flag[len("--config.") :]
        if key not in valid and key not in MYOASSIST_IGNORED_KEYS and not _under_free_dict(key, cls):
            raise ConfigError(f"Unknown override '{flag}'.{_did_you_mean(key, valid)}")
    return data


def split_overrides(argv: typing.Sequence[str]) -> tuple[list[str], list[str]]:
    """(other arguments, ``--config.<key> VALUE`` pairs) of a command line; ``--config.<key>=VALUE`` also works."""
    rest: list[str] = []
    overrides: list[str] = []
    args = iter(argv)
    for arg in args:
        if not arg.startswith("--config."):
            rest.append(arg)
            continue
        key, eq, value = arg.partition("=")
        value = value if eq else next(args, None)
        if value is None:
            raise ConfigError(f"Override '{key}' needs a value: '{key} VALUE'.")
        overrides += [key, value]
    return rest, overrides


def _under_free_dict(key: str, cls: type) -> bool:
    """True when ``key`` goes inside a dict-typed field (e.g. reward weights per joint)."""
    node: Any = cls
    for part in key.split("."):
        if not dataclasses.is_dataclass(node):
            return True
        hints = typing.get_type_hints(node)
        if part not in hints:
            return False
        node = hints[part]
        if typing.get_origin(node) is dict:
            return True
    return False


def config_from_dict(data: dict[str, Any], base_dir: Optional[Path] = None) -> TrainSessionConfigBase:
    """Builds and validates a config from a MyoAssist-schema dict; relative paths resolve against ``base_dir``,
    then the working directory, and are stored absolute (:func:`resolve_path`)."""
    cls = _config_class(data)
    if cls in (HumanoidTrainSessionConfig, PointMassTrainSessionConfig):
        defaults = dataclasses.asdict(cls().env_params)
        data = {**data, "env_params": {**defaults, **data.get("env_params", {})}}
    config = _build(cls, data)
    validate(config)
    resolve_config_paths(config.env_params, [base_dir] if base_dir is not None else [])
    return config


PRESETS_DIR = Path(__file__).resolve().parent / "configs"


def preset_names() -> list[str]:
    """Names of the packaged presets (``load_config`` and ``--config`` accept them)."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.json"))


def find_config(name_or_path: Union[str, Path]) -> Path:
    """A config file: an existing path, else the packaged preset of that name ('test', 'test.json' or
    'configs/test.json', so the README's commands work from any folder and from an installed package)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    preset = PRESETS_DIR / f"{path.stem}.json"
    if str(path.parent) in (".", "configs") and path.suffix in ("", ".json") and preset.is_file():
        return preset
    raise ConfigError(
        f"Config '{name_or_path}' not found. Give a JSON file or a preset name: {', '.join(preset_names())}."
    )


def load_config(path: Union[str, Path], overrides: typing.Sequence[str] = ()) -> TrainSessionConfigBase:
    """Loads a JSON config (a path or a preset name), applies dotted overrides and validates the result."""
    path = find_config(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ConfigError(f"Config file '{path}' is not valid JSON: {err}.") from err
    _require_object(data, f"The top level of '{path}'")
    return config_from_dict(apply_overrides(data, overrides), path.parent)


# ----------------------------------------------------------------------------- validation

MYOASSIST_DEFAULT_REFERENCE = "rl_train/reference_data/short_reference_gait.npz"
CAMERA_TYPES = ("follow", "fixed", "average_speed")  # average_speed: MyoAssist's analyzer camera

# A check returns the error message for a bad value of ``key``, or None when the value is fine.
Check = typing.Callable[[str, Any], Optional[str]]


def _bounds(low: Optional[float] = None, high: Optional[float] = None, above: bool = False) -> Check:
    """Value >= low (> low when ``above``) and <= high; NaN fails."""
    parts = [f"> {low}" if above else f">= {low}"] if low is not None else []
    need = " and ".join(parts + ([f"<= {high}"] if high is not None else []))

    def check(key: str, value: Any) -> Optional[str]:
        ok = (low is None or (value > low if above else value >= low)) and (high is None or value <= high)
        return None if ok else f"{key} = {value!r} is out of range: it must be {need}"

    return check


def _one_of(options: tuple[str, ...]) -> Check:
    def check(key: str, value: Any) -> Optional[str]:
        if value in options:
            return None
        return f"{key} '{value}' is unknown.{_did_you_mean(str(value), options)} Use one of {options}"

    return check


def _layer_sizes(key: str, value: dict[str, list[int]]) -> Optional[str]:
    bad = next((name for name, sizes in value.items() if any(width < 1 for width in sizes)), None)
    return f"{key}.{bad} = {value[bad]}: every layer size must be >= 1, e.g. [64, 64]" if bad else None


_POSITIVE, _NON_NEGATIVE, _AT_LEAST_ONE, _FRACTION = _bounds(0, above=True), _bounds(0), _bounds(1), _bounds(0, 1)

# (section class, field) -> range check; subclasses inherit their parents' checks.
FIELD_CHECKS: dict[tuple[type, str], Check] = {
    (TrainSessionConfigBase, "total_timesteps"): _AT_LEAST_ONE,
    (LoggerParams, "logging_frequency"): _AT_LEAST_ONE,
    (LoggerParams, "evaluate_frequency"): _NON_NEGATIVE,
    (LoggerParams, "keep_last"): _NON_NEGATIVE,
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


def _field_check(cls: type, name: str) -> Optional[Check]:
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


# ----------------------------------------------------------------------------- paths


def path_candidates(path: Union[str, Path], base_dirs: typing.Sequence[Union[str, Path]] = ()) -> list[Path]:
    """Where a config path is looked for, in order: itself if absolute, else under each base folder, then under
    the working directory."""
    p = Path(path).expanduser()
    if p.is_absolute():
        return [p]
    out: list[Path] = []
    for folder in [*base_dirs, Path.cwd()]:
        candidate = Path(os.path.abspath(Path(folder) / p))
        if candidate not in out:
            out.append(candidate)
    return out


def find_path(path: Union[str, Path], base_dirs: typing.Sequence[Union[str, Path]] = ()) -> Optional[Path]:
    """The first existing :func:`path_candidates` entry (absolute), or None."""
    return next((c for c in path_candidates(path, base_dirs) if c.exists()), None)


def resolve_path(
    path: Union[str, Path], base_dirs: typing.Sequence[Union[str, Path]] = (), key: str = "path", fix: str = ""
) -> Path:
    """:func:`find_path`, or a ConfigError naming ``key`` and every place looked at.

    This one rule serves both validation and use: :func:`load_config` passes the config's folder and stores the
    absolute result in the config, so what was checked is what is opened, from any working directory.
    """
    found = find_path(path, base_dirs)
    if found is None:
        tried = ", ".join(str(c) for c in path_candidates(path, base_dirs))
        raise ConfigError(f"{key} '{path}' not found (looked for {tried}). {fix}".rstrip())
    return found


# env_params field -> (must it be a file, how to fix it)
PATH_FIELDS: dict[str, tuple[bool, str]] = {
    "prev_trained_policy_path": (
        False,
        "Point it at an earlier session, one of its trained_models/<step> folders, or a MyoAssist model .zip.",
    ),
    "reference_data_path": (
        True,
        "Give an .npz/.json reference in MyoAssist format, or leave it empty for the packaged default reference.",
    ),
}


def resolve_config_paths(env: EnvParams, base_dirs: typing.Sequence[Union[str, Path]] = ()) -> None:
    """Replaces the env's file paths by the absolute paths they resolve to (see :func:`resolve_path`)."""
    for name, (must_be_file, fix) in PATH_FIELDS.items():
        value = getattr(env, name, None)
        if value in (None, "", MYOASSIST_DEFAULT_REFERENCE):
            continue
        key = f"env_params.{name}"
        path = resolve_path(value, base_dirs, key, fix)
        if must_be_file and not path.is_file():
            raise ConfigError(f"{key} '{value}' is {path}, which is not a file. {fix}")
        setattr(env, name, str(path))
    _resolve_model_path(env, base_dirs)


def model_search_dirs(env: EnvParams, base_dirs: typing.Sequence[Union[str, Path]] = ()) -> list[Path]:
    """Base folders of ``model_path``: the MyoAssist root (command line or config), then ``base_dirs``."""
    return [Path(p) for p in (env.myoassist_root, *base_dirs) if p]


def _resolve_model_path(env: EnvParams, base_dirs: typing.Sequence[Union[str, Path]]) -> None:
    """An existing ``model_path`` becomes absolute (root, config folder, working directory, in order).

    A missing one is kept as written: the env then runs the embedded model of that device with
    a notice (``envs/leg.py``), or reports that none exists.
    """
    if env.model_path.endswith(".xml"):
        found = find_path(env.model_path, model_search_dirs(env, base_dirs))
        if found is not None and found.is_file():
            env.model_path = str(found)


# ----------------------------------------------------------------------------- net indexing

OBS_ENTRY_TYPES = ("range", "index")
ACTION_ENTRY_TYPES = ("range_mapping", "index_mapping", "constant")


def _entry_indices(entry: dict[str, Any], key: str, where: str) -> list[int]:
    if entry.get("type") in ("range", "range_mapping"):
        bounds = entry.get(key)
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(isinstance(b, int) for b in bounds)):
            raise ConfigError(f"{where}: '{key}' must be [start, end] integers, got {bounds!r}.")
        if not 0 <= bounds[0] < bounds[1]:
            raise ConfigError(f"{where}: '{key}' {bounds} must satisfy 0 <= start < end.")
        return list(range(bounds[0], bounds[1]))
    values = entry.get(key)
    if not (isinstance(values, list) and values and all(isinstance(v, int) and v >= 0 for v in values)):
        raise ConfigError(f"{where}: '{key}' must be a non-empty list of non-negative integers, got {values!r}.")
    return list(values)


def observation_indices(spec: dict[str, Any], where: str) -> list[int]:
    """Observation indices one network reads, in order."""
    out: list[int] = []
    for i, entry in enumerate(spec.get("observation", [])):
        kind = entry.get("type")
        if kind not in OBS_ENTRY_TYPES:
            raise ConfigError(f"{where}.observation[{i}]: type '{kind}' must be one of {OBS_ENTRY_TYPES}.")
        out += _entry_indices(entry, kind, f"{where}.observation[{i}]")
    return out


def _constant_indices(entry: dict[str, Any], where: str) -> list[int]:
    """Actions a 'constant' entry fixes: MyoAssist's 'range_action' [start, end] or an 'index_action' list."""
    if "range_action" in entry:
        return _entry_indices({**entry, "type": "range"}, "range_action", where)
    return _entry_indices({**entry, "type": "index"}, "index_action", where)


def action_mapping(spec: dict[str, Any], where: str) -> tuple[list[int], list[int], dict[int, float]]:
    """(network output indices, action indices they write, constant action values) of one actor.

    A constant overrides whatever a network writes to the same action (MyoAssist's exo_off preset maps the
    exo actor to actions 22-24 and then fixes them to 1.0), in the mean and in sampled actions.
    """
    net, act, const = [], [], {}
    for i, entry in enumerate(spec.get("action", [])):
        kind, here = entry.get("type"), f"{where}.action[{i}]"
        if kind not in ACTION_ENTRY_TYPES:
            raise ConfigError(f"{here}: type '{kind}' must be one of {ACTION_ENTRY_TYPES}.")
        if kind == "constant":
            for a in _constant_indices(entry, here):
                const[a] = float(entry.get("default_value", entry.get("value", 0.0)))
            continue
        suffix = "range" if kind == "range_mapping" else "index"
        n = _entry_indices(entry, f"{suffix}_net", here)
        a = _entry_indices(entry, f"{suffix}_action", here)
        if len(n) != len(a):
            raise ConfigError(f"{here}: {suffix}_net has {len(n)} entries but {suffix}_action has {len(a)}.")
        net += n
        act += a
    return net, act, const


def _check_indexing_shape(info: dict[str, Any], where: str) -> None:
    """Each network is an object whose 'observation' (and, for actors, 'action') is a list of typed entries."""
    for name, spec in info.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}.{name} must be an object with 'observation' and 'action' lists, got {spec!r}.")
        if name != "common_critic" and not spec.get("action"):
            raise ConfigError(f"{where}.{name} writes no action: give it an 'action' list, or remove the network.")
        for part in ("observation", "action"):
            entries = spec.get(part, [])
            if not isinstance(entries, list):
                raise ConfigError(f"{where}.{name}.{part} must be a list of {{'type': ...}} entries, got {entries!r}.")
            for i, entry in enumerate(entries):
                if not (isinstance(entry, dict) and "type" in entry):
                    raise ConfigError(f"{where}.{name}.{part}[{i}] must be an object with a 'type', got {entry!r}.")


def check_net_indexing(
    info: dict[str, Any],
    net_arch: dict[str, list[int]],
    observation_size: Optional[int] = None,
    action_size: Optional[int] = None,
) -> None:
    """Checks that the actors' action slices tile the action exactly and obs slices stay in range."""
    where = "policy_params.custom_policy_params.net_indexing_info"
    if "common_critic" not in info:
        raise ConfigError(f"{where} needs a 'common_critic' entry with its observation slices.")
    _check_indexing_shape(info, where)
    mapped: dict[int, str] = {}
    fixed: dict[int, str] = {}
    for name, spec in info.items():
        if name not in net_arch:
            raise ConfigError(f"{where}.{name} has no layer sizes in net_arch; add net_arch['{name}'] = [64, 64].")
        obs = observation_indices(spec, f"{where}.{name}")
        if not obs:
            raise ConfigError(f"{where}.{name} reads no observation; add an 'observation' range.")
        if observation_size is not None and max(obs) >= observation_size:
            raise ConfigError(
                f"{where}.{name} reads observation index {max(obs)} but the observation has only "
                f"{observation_size} entries. Fix its 'range'/'index' or the observation key lists."
            )
        if name == "common_critic":
            continue
        net, act, const = action_mapping(spec, f"{where}.{name}")
        if net and sorted(net) != list(range(len(net))):
            raise ConfigError(f"{where}.{name}: network outputs {sorted(net)} must be 0..{len(net) - 1} without gaps.")
        for table, indices in ((mapped, act), (fixed, list(const))):
            for a in indices:
                if a in table:
                    raise ConfigError(f"{where}: action index {a} is written by both '{table[a]}' and '{name}'.")
                table[a] = name
    written = {**mapped, **fixed}
    if not written:
        raise ConfigError(f"{where} has no actor writing actions.")
    size = action_size if action_size is not None else max(written) + 1
    missing = sorted(set(range(size)) - set(written))
    if missing:
        raise ConfigError(f"{where}: action indices {missing} are written by no actor (the action has {size}).")
    extra = sorted(a for a in written if a >= size)
    if extra:
        raise ConfigError(f"{where}: action indices {extra} are beyond the action size {size}.")


# ----------------------------------------------------------------------------- reference docs

REFERENCE_SECTIONS: tuple[tuple[str, type], ...] = (
    ("Session (TrainSessionConfigBase)", TrainSessionConfigBase),
    ("logger_params", LoggerParams),
    ("env_params (common)", EnvParams),
    ("env_params (leg imitation: myoAssistLegImitation-v0, myoAssistLegImitationExo-v0)", ImitationEnvParams),
    ("env_params.reward_keys_and_weights", RewardWeights),
    ("env_params (humanoid-v0)", HumanoidEnvParams),
    ("env_params (pointmass-v0)", PointMassEnvParams),
    ("ppo_params", PPOParams),
    ("policy_params.custom_policy_params", CustomPolicyParams),
    ("evaluate_param_list[i]", EvaluateParams),
    ("auto_reward_adjust_params", AutoRewardAdjustParams),
)


def _default_text(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return ""
    if dataclasses.is_dataclass(value):
        return "(object)"
    return json.dumps(value)


def config_reference_markdown() -> str:
    """The config reference, generated from the dataclass field docstrings."""
    lines = [
        "# Config reference",
        "",
        "Generated by `python scripts/generate_config_reference.py` from the field docstrings in",
        "`mjx_myoassist/config.py`; do not edit by hand.  Fields inherited from a parent section are",
        "listed there only.",
        "",
    ]
    for title, cls in REFERENCE_SECTIONS:
        hints = typing.get_type_hints(cls)
        parent_fields = {
            f.name for base in cls.__mro__[1:] if dataclasses.is_dataclass(base) for f in dataclasses.fields(base)
        }
        lines += [f"## {title}", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        for f in dataclasses.fields(cls):
            if f.name in parent_fields:
                continue
            kind = str(hints[f.name]).replace("typing.", "").replace("<class '", "").replace("'>", "")
            kind = kind.replace("mjx_myoassist.config.", "")
            lines.append(f"| `{f.name}` | `{kind}` | `{_default_text(f)}` | {f.metadata.get('doc', '')} |")
        lines.append("")
    return "\n".join(lines)
