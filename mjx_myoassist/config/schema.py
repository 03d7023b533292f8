"""The config dataclasses (MyoAssist's session hierarchy): each field's doc, default and range check together."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from mjx_myoassist.config.checks import (
    AT_LEAST_ONE,
    FRACTION,
    NON_NEGATIVE,
    POSITIVE,
    Check,
    bounds,
    layer_sizes,
    one_of,
)
from mjx_myoassist.errors import ConfigError as ConfigError  # defined there (every layer raises it), kept here


def _doc(default: Any, text: str, check: Check | None = None) -> Any:
    """A dataclass field with a default (copied for mutable values), a docstring and, optionally, the range
    check that config validation runs on its value (:mod:`mjx_myoassist.config.checks`)."""
    metadata = {"doc": text, "check": check}
    if isinstance(default, (list, dict)):
        value = default
        return field(default_factory=lambda: json.loads(json.dumps(value)), metadata=metadata)
    if dataclasses.is_dataclass(default):
        return field(default_factory=type(default), metadata=metadata)
    return field(default=default, metadata=metadata)


VELOCITY_MODES = ("UNIFORM", "SINUSOIDAL", "STEP")
TRAINING_VELOCITY_MODES = ("RANDOM", *VELOCITY_MODES)
TERRAIN_TYPES = ("flat", "random", "harmonic_sinusoidal", "slope", "dev")
FOOT_CONTACT_ROWS = ("auto", "middle", "edges")
PHYSICS_BACKENDS = ("auto", "mjx", "warp", "cpu")
PHYSICS_PRECISIONS = ("float32", "float64")
INTEGRATORS = ("", "Euler", "implicitfast", "RK4")  # names of mujoco.mjtIntegrator, "" = the model's own
WEIGHT_INITS = ("myoassist", "scaled")
CAMERA_TYPES = ("follow", "fixed", "average_speed")  # average_speed: MyoAssist's analyzer camera
HUMANOID_REWARD_FUNCTIONS = ("stand", "kneel", "walk")  # mjx_myoassist/envs/humanoid.py
ACTIVATIONS = ("tanh", "relu")  # hidden layers (mjx_myoassist/ppo/networks.py)
OUTPUT_ACTIVATIONS = ("tanh", "none")  # after each actor's output layer


@dataclass
class LoggerParams:
    logging_frequency: int = _doc(8, "Log and checkpoint every this many PPO rollouts (epochs).", check=AT_LEAST_ONE)
    evaluate_frequency: int = _doc(
        0, "Run the evaluation batches every this many rollouts; 0 = only at the end.", check=NON_NEGATIVE
    )
    keep_last: int = _doc(
        5,
        "Checkpoints kept: the newest this many, plus the best by evaluation (evaluations.json); 0 = keep all.",
        check=NON_NEGATIVE,
    )
    save_env_state: bool = _doc(
        True,
        "Store every env's physics state in checkpoints, so a resume continues the same episodes exactly. false "
        "keeps checkpoints small (the MJX leg state is ~80 KB per env) and a resume starts fresh episodes.",
    )
    walk_test_episodes: int = _doc(
        5,
        "Episodes of the walk test run with every evaluation (deterministic policy, off-trajectory termination "
        "off, flat ground, the config's target speed, random reference starts); it picks the best checkpoint. "
        "0 = no walk test.",
        check=NON_NEGATIVE,
    )
    walk_test_seconds: float = _doc(
        10.0, "Length of a walk-test episode in s; an episode that lasts it walks.", check=POSITIVE
    )
    walk_test_seed: int | None = _doc(
        None,
        "Seed of the walk test's starts; null = env_params.seed. Set it to compare runs of other training seeds "
        "on the same starts.",
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
    num_envs: int = _doc(32, "Number of parallel environments (vmapped in one batch).", check=AT_LEAST_ONE)
    seed: int = _doc(1234, "Random seed of the environments and the trainer.", check=bounds(0, 2**32 - 1))
    control_framerate: int = _doc(30, "Policy (control) rate in Hz.", check=AT_LEAST_ONE)
    physics_sim_framerate: int = _doc(
        1200, "Physics rate in Hz; substeps = physics_sim_framerate / control_framerate.", check=AT_LEAST_ONE
    )
    custom_max_episode_steps: int = _doc(1000, "Truncate episodes after this many control steps.", check=AT_LEAST_ONE)
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
        0,
        "Constraint solver iterations; 0 = the model's own (MJX-ready edits: 4; MyoAssist's original: 100).",
        check=NON_NEGATIVE,
    )
    solver_ls_iterations: int = _doc(
        0,
        "Solver line-search iterations; 0 = the model's own (MJX-ready edits: 8; MyoAssist's original: 50).",
        check=NON_NEGATIVE,
    )
    integrator: str = _doc(
        "",
        "Physics integrator: '' = the model's own (MyoAssist: Euler), or 'Euler', 'implicitfast', 'RK4'. MyoAssist's "
        "published policy falls under 'implicitfast' at every rate tried (benchmarks/README.md, Physics rate).",
        check=one_of(INTEGRATORS),
    )
    model_id: str = _doc("", "Model id (mjx_myoassist.models.MODEL_IDS); empty = derived from model_path/env_id.")
    prev_trained_policy_path: str | None = _doc(
        None,
        "Checkpoint or session to warm-start the policy from (actors, critic, log_std): one of ours, or a MyoAssist "
        "model_<steps>.zip or session folder (training then uses its head: tanh outputs, raw observations).",
    )
    physics_backend: str = _doc(
        "auto",
        "'mjx' (JAX physics), 'warp' (MuJoCo Warp, NVIDIA GPUs; pip install -e \".[warp]\"), 'cpu' (MuJoCo C) or "
        "'auto' (warp on NVIDIA GPUs when installed, mjx on other GPUs/TPUs, else cpu).",
        check=one_of(PHYSICS_BACKENDS),
    )
    num_threads: int = _doc(0, "Threads of the cpu physics backend; 0 = all cores.", check=NON_NEGATIVE)
    physics_precision: str = _doc(
        "float32",
        "Precision of MJX physics: 'float64' switches JAX to 64-bit (jax_enable_x64) for the whole run, as CPU "
        "MuJoCo computes. MyoAssist's own models on MJX need float64 or, in float32, via_point_armature 0.01 "
        "(docs/models.md, Precision); the warp backend runs them in float32 as they are. The cpu backend is always "
        "float64.",
        check=one_of(PHYSICS_PRECISIONS),
    )


@dataclass
class ImitationEnvParams(EnvParams):
    safe_height: float = _doc(0.7, "Episode terminates when the pelvis is lower than this (m).")
    out_of_trajectory_threshold: float = _doc(
        0.2, "Episode terminates when any imitated joint is further than this from the reference.", check=POSITIVE
    )
    flag_random_ref_index: bool = _doc(True, "Start each episode at a random reference index in [0, 0.8 L).")
    fresh_start_fraction: float = _doc(
        0.0,
        "Fraction of training episodes that start as a newly built env: joints outside the reference (MTP, arms, "
        "knee translations, ...) at the model's key 0, as evaluation and the walk test start (MyoAssist's "
        "evaluator too). 0 = MyoAssist's training: every episode continues from the finished one's last state "
        "(docs/migration.md, Episodes).",
        check=FRACTION,
    )
    via_point_armature: float = _doc(
        0.0,
        "Armature (kg) on the slide joints of MyoAssist's 1 g via-point bodies; 0 = MyoAssist's model as it is. "
        "0.01 lets MyoAssist's models run on float32 MJX (its published policy walks 5/5 there, and its cpu gait "
        "is unchanged: docs/models.md, Precision).",
        check=NON_NEGATIVE,
    )
    min_target_velocity: float = _doc(1.25, "Lowest target walking speed (m/s).", check=NON_NEGATIVE)
    max_target_velocity: float = _doc(1.25, "Highest target walking speed (m/s).")
    min_target_velocity_period: float = _doc(2.0, "Shortest period of target speed changes (s).", check=POSITIVE)
    max_target_velocity_period: float = _doc(10.0, "Longest period of target speed changes (s).")
    velocity_mode: str = _doc(
        "RANDOM",
        "Target speed schedule of training episodes: RANDOM draws UNIFORM, SINUSOIDAL or STEP per episode as "
        "MyoAssist's training does; a mode name fixes it (mjx_myoassist/envs/velocity.py).",
        check=one_of(TRAINING_VELOCITY_MODES),
    )
    enable_lumbar_joint: bool = _doc(
        False, "Let the lumbar joint move; the planar 22-muscle leg welds its trunk, so true is an error there."
    )
    lumbar_joint_fixed_angle: float = _doc(-0.13, "Trunk angle (rad of lumbar extension, + = backward) when fixed.")
    lumbar_joint_damping_value: float = _doc(
        0.05, "Lumbar joint damping when enabled (unused while the trunk is welded).", check=NON_NEGATIVE
    )
    observation_joint_pos_keys: list[str] = _doc([], "Joints whose position is observed, in this order.")
    observation_joint_vel_keys: list[str] = _doc([], "Joints whose velocity is observed, in this order.")
    observation_joint_sensor_keys: list[str] = _doc(
        ["r_foot", "l_foot", "r_toes", "l_toes"], "Foot force sensors observed (divided by body weight)."
    )
    terrain_type: str = _doc(
        "flat",
        "MyoAssist's terrain types: flat, random, harmonic_sinusoidal, slope, or dev (flat, as in MyoAssist).",
        check=one_of(TERRAIN_TYPES),
    )
    terrain_params: str = _doc(
        "",
        "Space-separated numbers with MyoAssist's meaning: random 'amplitude' (m, heights uniform in [0, amplitude]); "
        "harmonic_sinusoidal groups of 'amplitude_row period_row amplitude_col period_col' (amplitudes in m, periods "
        "in 0.2 m cells); slope 'slope' (rise over run, not degrees); none for flat and dev. See "
        "mjx_myoassist/envs/terrain.py.",
    )
    foot_contact_rows: str = _doc(
        "auto",
        "MJX-ready foot contact spheres: 'middle' = one row at the sole's mean lateral position (two for 3D "
        "models), 'edges' = two rows at the sole's medial and lateral edges (what MyoAssist's foot meshes touch "
        "on ground that varies across the foot), 'auto' = edges on a height field, middle on flat ground "
        "(docs/models.md, Rough terrain).",
        check=one_of(FOOT_CONTACT_ROWS),
    )
    terrain_fields: int = _doc(
        1,
        "Height fields drawn: 1 = MyoAssist's one field from env_params.seed, shared by every env and the "
        "evaluations; N > 1 = N fields of 40 m (seeds drawn from env_params.seed) end to end, each episode starting "
        "on a random one (more variety than MyoAssist trains on). See mjx_myoassist/envs/terrain.py.",
        check=bounds(1, 64),
    )
    terrain_curriculum_steps: int = _doc(
        0,
        "Environment steps over which terrain roughness ramps from flat to full (needs terrain_fields >= 2: "
        "field k of N is scaled by k / (N - 1)); 0 = no curriculum.",
        check=NON_NEGATIVE,
    )
    reward_keys_and_weights: RewardWeights = _doc(RewardWeights(), "Reward term weights.")
    reference_data_path: str = _doc("", "Reference gait (.npz/.json, MyoAssist format); empty = packaged default.")
    reference_data_keys: list[str] = _doc([], "Joints set from the reference at reset and checked for termination.")


@dataclass
class HumanoidEnvParams(EnvParams):
    reward_function: str = _doc(
        "stand", "Reward function key: stand, kneel or walk.", check=one_of(HUMANOID_REWARD_FUNCTIONS)
    )
    frame_skip: int = _doc(3, "Physics steps per control step.", check=AT_LEAST_ONE)
    framerate: int = _doc(60, "Video framerate for rendering.", check=AT_LEAST_ONE)
    reset_noise_scale: float = _doc(
        0.01, "Scale of the uniform perturbation of initial qpos and qvel.", check=NON_NEGATIVE
    )
    target_velocity: float = _doc(1.0, "Forward speed the walk reward asks for (m/s).")
    target_height: float = _doc(1.282, "Head height the stand reward asks for (m).", check=POSITIVE)


@dataclass
class PointMassEnvParams(EnvParams):
    frame_skip: int = _doc(5, "Physics steps per control step.", check=AT_LEAST_ONE)
    start_range: float = _doc(
        0.5, "Initial position drawn uniformly in [-start_range, start_range]^2 (m).", check=POSITIVE
    )


@dataclass
class PPOParams:
    learning_rate: float = _doc(3e-4, "Adam learning rate.", check=POSITIVE)
    n_steps: int = _doc(512, "Rollout length per environment and update.", check=AT_LEAST_ONE)
    batch_size: int = _doc(
        8192, "Minibatch size; n_steps * num_envs must be a multiple >= batch_size.", check=AT_LEAST_ONE
    )
    n_epochs: int = _doc(10, "Passes over the rollout per update.", check=AT_LEAST_ONE)
    gamma: float = _doc(0.99, "Discount factor.", check=FRACTION)
    gae_lambda: float = _doc(0.95, "GAE lambda.", check=FRACTION)
    clip_range: float = _doc(0.2, "PPO policy clip range.", check=POSITIVE)
    clip_range_vf: float | None = _doc(None, "Value clip range; null = no value clipping.", check=POSITIVE)
    ent_coef: float = _doc(0.0, "Entropy bonus coefficient.", check=NON_NEGATIVE)
    vf_coef: float = _doc(0.5, "Value loss coefficient.", check=NON_NEGATIVE)
    max_grad_norm: float = _doc(0.5, "Global gradient-norm clip.", check=POSITIVE)
    target_kl: float | None = _doc(
        None, "Stop the epoch loop of an update when the approximate KL exceeds 1.5x this.", check=POSITIVE
    )
    normalize_observation: bool = _doc(
        False,
        "Running mean/variance observation normalization (an option of this project); false, the default, feeds "
        "raw observations to the networks as MyoAssist does.",
    )
    adam_eps: float = _doc(
        1e-8,
        "Adam epsilon: 1e-8 as MyoAssist's policies get (torch's default); Stable-Baselines3's MlpPolicy uses 1e-5.",
        check=POSITIVE,
    )


@dataclass
class CustomPolicyParams:
    net_arch: dict[str, list[int]] = _doc(
        {"human_actor": [64, 64], "exo_actor": [8, 8], "common_critic": [64, 64]},
        "Hidden layer sizes per network (human_actor, exo_actor, common_critic; or pi, vf).",
        check=layer_sizes,
    )
    net_indexing_info: dict[str, Any] = _doc(
        {}, "Observation slices read and action slices written per network; empty = one actor for all."
    )
    log_std_init: float = _doc(0.0, "Initial log standard deviation of the Gaussian policy.")
    activation: str = _doc("tanh", "Hidden activation: tanh or relu.", check=one_of(ACTIVATIONS))
    actor_output_activation: str = _doc(
        "tanh",
        "Activation after each actor's output layer: tanh, the default, as MyoAssist's policies (tanh after every "
        "layer, so the mean stays in (-1, 1)), or none (a linear action mean). The critic's output is linear "
        "either way, as in MyoAssist.",
        check=one_of(OUTPUT_ACTIVATIONS),
    )
    weight_init: str = _doc(
        "myoassist",
        "Initial weights: 'myoassist' = orthogonal with gain 1 on every layer and zero biases (what MyoAssist's "
        "policies get from Stable-Baselines3's init_weights); 'scaled' = orthogonal with gain sqrt(2) on hidden "
        "layers, 0.01 on actor outputs and 1 on the critic output (the PPO implementations' choice).",
        check=one_of(WEIGHT_INITS),
    )


@dataclass
class PolicyParams:
    custom_policy_params: CustomPolicyParams = _doc(CustomPolicyParams(), "Network architecture and indexing.")


@dataclass
class EvaluateParams:
    num_timesteps: int = _doc(200, "Control steps per evaluation episode.", check=AT_LEAST_ONE)
    min_target_velocity: float = _doc(1.25, "Lowest target speed (m/s).", check=NON_NEGATIVE)
    max_target_velocity: float = _doc(1.25, "Highest target speed (m/s).")
    target_velocity_period: float = _doc(2.0, "Period of target speed changes (s).", check=POSITIVE)
    velocity_mode: str = _doc("UNIFORM", "UNIFORM, SINUSOIDAL or STEP.", check=one_of(VELOCITY_MODES))
    cam_type: str = _doc(
        "follow",
        "Camera for videos: follow or fixed (MyoAssist's average_speed renders fixed).",
        check=one_of(CAMERA_TYPES),
    )
    cam_distance: float = _doc(2.5, "Camera distance (m).", check=POSITIVE)
    visualize_activation: bool = _doc(True, "Colour muscles by activation in videos.")
    realtime_plotting_info: list[dict[str, Any]] = _doc(
        [],
        "MyoAssist's plots of this entry, one dict each: category and name (e.g. joint_data, pelvis_tx), "
        "property_type (qpos or qvel), y_lim, optional y_scale, plot_duration_type ('total' or a gait cycle) and "
        "filter {type, order, cutoff, fs}. render.py draws them into analyze_results/realtime_plots_entry<i>.png "
        "(mjx_myoassist/analysis/realtime_plots.py); the pelvis-speed plot's filter is the tracking filter of "
        "evaluate --entries.",
    )
    num_envs: int = _doc(16, "Environments evaluated at once for this entry.", check=AT_LEAST_ONE)


@dataclass
class AutoRewardAdjustParams:
    learning_rate: float = _doc(0.0, "Accepted for MyoAssist compatibility; automatic reward adjustment is not used.")


@dataclass
class TrainSessionConfigBase:
    total_timesteps: int = _doc(30_000_000, "Total environment steps to train for.", check=AT_LEAST_ONE)
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
