"""Jitted evaluation batches over ``evaluate_param_list``, the evaluation configs and the walk test.

Each entry (num_timesteps, target velocity range/period/mode, num_envs) runs many
envs at once with the deterministic policy, without auto-reset: an env's episode
ends at its first termination or truncation.  All entries share one compiled
rollout (the longest entry and the largest batch, masked), because the velocity
schedule is part of the env state rather than of the compiled code.  Stored
policies are evaluated through it by :mod:`mjx_myoassist.evaluate` (N episodes) and
:mod:`mjx_myoassist.entries` (MyoAssist's evaluator over every entry); training runs
it and the walk test (:class:`WalkTest`) with every evaluation.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mjx_myoassist.config import EvaluateParams, TrainSessionConfigBase
from mjx_myoassist.envs import Env, State, make, set_precision, velocity
from mjx_myoassist.envs.base import keep_dtypes
from mjx_myoassist.ppo import networks
from mjx_myoassist.ppo.networks import deterministic_policy
from mjx_myoassist.ppo.normalizer import RunningStats
from mjx_myoassist.ppo.policy import TrainedPolicy, load_trained

SERIES = ("target_velocity", "speed")  # per-step metrics an entry's series keeps (speed: pelvis_tx qvel)
# (params, stats) -> the jittable deterministic policy obs -> action in [-1, 1]
PolicyMaker = Callable[[Any, Any], Callable[[jax.Array], jax.Array]]


def entry_schedule(entry: EvaluateParams) -> dict[str, jax.Array]:
    """MyoAssist's evaluator: the entry's mode and range, phase 0, first target at the middle of the range
    (an env's ``with_velocity_schedule`` applies it after the reset)."""
    return {
        "mode": jnp.int32(velocity.mode_index(entry.velocity_mode)),
        "vmin": jnp.float32(entry.min_target_velocity),
        "vmax": jnp.float32(entry.max_target_velocity),
        "period": jnp.float32(entry.target_velocity_period),
        "phase": jnp.float32(0.0),
        "start": jnp.float32(0.5),
    }


class Evaluator:
    """Compiles one masked rollout and runs every evaluation entry through it.

    The policy is this project's network (``layout``) unless ``policy`` makes another one from the
    ``params`` and ``stats`` passed to each run (e.g. an SB3 policy's weights, ``benchmarks``)."""

    def __init__(self, config: TrainSessionConfigBase, layout: networks.NetworkLayout | None, env: Env | None = None,
                 policy: PolicyMaker | None = None):  # fmt: skip
        self.config = config
        normalize = config.ppo_params.normalize_observation
        self.make_policy = policy or (lambda params, stats: deterministic_policy(layout, params, stats, normalize))
        self.env = env or make(config)
        self.entries = list(config.evaluate_param_list) or [EvaluateParams()]
        self.num_envs = max(e.num_envs for e in self.entries)
        self.num_steps = max(e.num_timesteps for e in self.entries)
        self.has_root_x = self.env.root_x_qpos is not None
        self._rollout = jax.jit(functools.partial(self._rollout_impl, series=False))
        self._series_rollout = jax.jit(functools.partial(self._rollout_impl, series=True))

    def _root_x(self, state: State) -> jax.Array:
        """Root x of every env of a batch (zeros when the env has no root x)."""
        if not self.has_root_x:
            return jnp.zeros(self.num_envs)
        return jax.vmap(self.env.root_x)(state)

    def _rollout_impl(self, params, stats, rng, schedule_override, num_envs, num_steps, series: bool):
        """Per-env sums over each env's episode (return, length, terminated, metrics) and its start/end root x;
        with ``series`` also the per-step ``SERIES`` metrics and ``alive`` ([steps, envs])."""
        policy = self.make_policy(params, stats)
        keys = jax.vmap(jax.random.fold_in, (None, 0))(rng, jnp.arange(self.num_envs))  # env i: its own RNG
        state = jax.vmap(self.env.reset)(keys)
        if schedule_override:
            state = jax.vmap(self.env.with_velocity_schedule, (0, None))(state, schedule_override)
        in_batch = jnp.arange(self.num_envs) < num_envs
        start_x = self._root_x(state)
        pose = self.env.pose_metrics

        def one(carry, t):
            state, alive, end_x, final = carry
            nxt = keep_dtypes(jax.vmap(self.env.step)(state, jax.vmap(policy)(state.obs)), state)
            counted = alive & (t < num_steps)
            live = counted.astype(jnp.float32)
            out = {
                "return": nxt.reward * live,
                "length": live,
                "terminated": (nxt.terminated.astype(jnp.float32)) * live,
                **{k: v * live for k, v in nxt.metrics.items()},
            }
            end_x = jnp.where(counted, self._root_x(nxt), end_x).astype(end_x.dtype)
            final = {k: jnp.where(counted, nxt.metrics[k], final[k]).astype(final[k].dtype) for k in pose}
            return (nxt, alive & ~nxt.done, end_x, final), out

        first = {k: state.metrics[k] for k in pose}
        (_, _, end_x, final), out = jax.lax.scan(one, (state, in_batch, start_x, first), jnp.arange(self.num_steps))
        totals = {**jax.tree.map(lambda x: jnp.sum(x, axis=0), out), "start_x": start_x, "end_x": end_x}
        totals.update({f"final/{k}": v for k, v in final.items()})
        if series:
            totals["series"] = {"alive": out["length"], **{k: out[k] for k in SERIES if k in out}}
        return totals

    def run(self, params: Any, stats: RunningStats, seed: int = 0) -> list[dict[str, float]]:
        """Summary per entry: return, episode_length, falls (fraction), mean speed/target, reward terms."""
        results = []
        for i, entry in enumerate(self.entries):
            totals = self._rollout(
                params, stats, jax.random.PRNGKey(seed + i), entry_schedule(entry), entry.num_envs, entry.num_timesteps
            )
            row = summarize(_first(jax.device_get(totals), entry.num_envs))
            row.update(
                entry=i, velocity_mode=entry.velocity_mode, num_envs=entry.num_envs, num_timesteps=entry.num_timesteps
            )
            results.append(row)
        return results

    def entry_episodes(
        self, params: Any, stats: RunningStats, index: int, seed: int = 0
    ) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
        """Entry ``index`` as MyoAssist's evaluator runs it (:func:`entry_schedule`): one row per env (see
        :func:`episode_rows`) and the per-step series ([envs, steps]: ``alive`` and ``SERIES``)."""
        entry = self.entries[index]
        totals = jax.device_get(self._series_rollout(
            params, stats, jax.random.PRNGKey(seed + index), entry_schedule(entry), entry.num_envs, entry.num_timesteps
        ))  # fmt: skip
        series = {k: np.asarray(v, np.float64).T[: entry.num_envs, : entry.num_timesteps]
                  for k, v in totals.pop("series").items()}  # fmt: skip
        rows = episode_rows(
            _first(totals, entry.num_envs), self.env.dt, entry.num_timesteps, self.has_root_x, self.env.pose_metrics
        )
        return rows, series

    def episodes(self, params: Any, stats: RunningStats, seed: int = 0) -> list[dict[str, Any]]:
        """One row per env of the first entry (see :func:`episode_rows`), under the env's own velocity schedule."""
        entry = self.entries[0]
        totals = self._rollout(params, stats, jax.random.PRNGKey(seed), {}, entry.num_envs, entry.num_timesteps)
        rows = _first(jax.device_get(totals), entry.num_envs)
        return episode_rows(rows, self.env.dt, entry.num_timesteps, self.has_root_x, self.env.pose_metrics)


def _first(totals: dict[str, Any], n: int) -> dict[str, np.ndarray]:
    """The first ``n`` envs' totals as float64 numpy arrays."""
    return {k: np.asarray(v, np.float64)[:n] for k, v in totals.items()}


def summarize(totals: dict[str, np.ndarray]) -> dict[str, float]:
    """Means over envs: return, episode_length, falls, and every metric averaged over each env's episode."""
    lengths = np.maximum(totals["length"], 1.0)
    row = {
        "return": float(totals["return"].mean()),
        "episode_length": float(totals["length"].mean()),
        "falls": float(totals["terminated"].mean()),
    }
    for key in totals.keys() - {"return", "length", "terminated", "start_x", "end_x"}:
        if key.startswith("final/"):
            continue
        row[key] = float((totals[key] / lengths).mean())
    return row


TERMINATION_CAUSES = ("numerical_fault", "fell", "off_trajectory")  # metrics that name why an episode terminated


def _end(totals: dict[str, np.ndarray], i: int, limit: int) -> str:
    """Why episode i ended: a termination cause, 'time_limit', or 'truncated' (e.g. the reference ran out)."""
    if totals["terminated"][i] > 0:
        return next((c for c in TERMINATION_CAUSES if c in totals and totals[c][i] > 0), "terminated")
    return "time_limit" if totals["length"][i] >= limit else "truncated"


def episode_rows(totals: dict[str, np.ndarray], dt: float, limit: int, has_root_x: bool,
                 pose: Sequence[str] = ()) -> list[dict[str, Any]]:  # fmt: skip
    """Per episode: control steps, seconds, terminated (fall, fault, off trajectory) or truncated (time
    limit of ``limit`` steps, end of reference), why it ended, return, when the env has a root x the
    distance walked (root x at the end minus at the start, m) and mean speed (m/s), and for each of the
    env's ``pose`` metrics its episode mean and last value (``<metric>_mean``, ``<metric>_final``)."""
    rows = []
    for i in range(len(totals["length"])):
        steps = int(totals["length"][i])
        terminated = bool(totals["terminated"][i] > 0)
        row: dict[str, Any] = {
            "episode": i,
            "steps": steps,
            "seconds": steps * dt,
            "terminated": terminated,
            "truncated": not terminated,
            "end": _end(totals, i, limit),
            "return": float(totals["return"][i]),
        }
        if has_root_x:
            row["distance"] = float(totals["end_x"][i] - totals["start_x"][i])
            row["mean_speed"] = row["distance"] / row["seconds"]
        for key in pose:  # the env's pose metrics: mean over the episode and the value at its last step
            row[f"{key}_mean"] = float(totals[key][i] / max(steps, 1))
            row[f"{key}_final"] = float(totals[f"final/{key}"][i])
        if "target_velocity" in totals:
            row["mean_target_velocity"] = float(totals["target_velocity"][i] / steps)
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------- evaluation configs

NO_TIME_LIMIT = 10**9  # control steps: the env never truncates by time, the rollout length is the limit
NO_TRAJECTORY_TERMINATION = 1e6  # rad: like MyoAssist's evaluator, a threshold no joint error reaches


def without_trajectory_termination(config: TrainSessionConfigBase) -> TrainSessionConfigBase:
    """The config with the off-trajectory termination off (as MyoAssist evaluates): episodes end on a fall."""
    if not hasattr(config.env_params, "out_of_trajectory_threshold"):
        return config
    env = dataclasses.replace(config.env_params, out_of_trajectory_threshold=NO_TRAJECTORY_TERMINATION)
    return dataclasses.replace(config, env_params=env)


def evaluation_config(config: TrainSessionConfigBase, keep_trajectory_termination: bool = False):
    """The config a stored policy is evaluated under: no time limit of the env's own (the rollout's length is
    the limit) and (unless kept) no off-trajectory termination; the config's terrain, as MyoAssist's evaluator."""
    cfg = config if keep_trajectory_termination else without_trajectory_termination(config)
    return dataclasses.replace(
        cfg, env_params=dataclasses.replace(cfg.env_params, custom_max_episode_steps=NO_TIME_LIMIT)
    )


def load_for_evaluation(path, config, overrides: Sequence[str], backend: str | None,
                        keep_trajectory_termination: bool) -> tuple[TrainedPolicy, TrainSessionConfigBase]:  # fmt: skip
    """A stored policy (``load_trained``; ``backend`` replaces the config's physics backend) and the
    :func:`evaluation_config` it is evaluated under, with JAX's precision set for it."""
    backend_override = ["--config.env_params.physics_backend", backend] if backend else []
    trained = load_trained(path, config, [*overrides, *backend_override])
    cfg = evaluation_config(trained.config, keep_trajectory_termination)
    set_precision(cfg)
    return trained, cfg


def walk_test_config(config: TrainSessionConfigBase):
    """:func:`evaluation_config` on flat ground: the walk test during training."""
    cfg = evaluation_config(config)
    if getattr(cfg.env_params, "terrain_type", "flat") == "flat":
        return cfg
    return dataclasses.replace(
        cfg, env_params=dataclasses.replace(cfg.env_params, terrain_type="flat", terrain_params="")
    )


def with_episodes(config: TrainSessionConfigBase, episodes: int, seconds: float, dt: float):
    """The config with one evaluation entry: ``episodes`` envs of ``seconds`` (control steps of ``dt``)."""
    entry = EvaluateParams(num_timesteps=max(1, round(seconds / dt)), num_envs=episodes)
    return dataclasses.replace(config, evaluate_param_list=[entry])


def walk_summary(rows: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """The walk test's figures from :func:`episode_rows`: the fraction of episodes that lasted ``seconds``,
    distance and speed (mean, min), and whether every episode walked."""
    lasted = [r["seconds"] >= seconds - 1e-6 for r in rows]
    summary: dict[str, Any] = {"episodes": len(rows), "seconds": seconds,
                               "fraction": sum(lasted) / len(rows), "all_walked": all(lasted)}  # fmt: skip
    if "distance" in rows[0]:
        distances = [r["distance"] for r in rows]
        speeds = [r["mean_speed"] for r in rows]
        summary.update(distance_mean=float(np.mean(distances)), distance_min=float(np.min(distances)),
                       speed_mean=float(np.mean(speeds)))  # fmt: skip
    if "torso_height_mean" in rows[0]:  # the humanoid's pose test
        summary["torso_height_mean"] = float(np.mean([r["torso_height_mean"] for r in rows]))
    summary["rows"] = rows
    return summary


class WalkTest:
    """The walk test run during training: ``episodes`` deterministic episodes of ``seconds`` from random
    reference starts, flat ground, the config's target speed, off-trajectory termination off (as
    ``python -m mjx_myoassist.evaluate``). Compiled once; the same starts every time (``seed``)."""

    def __init__(self, config: TrainSessionConfigBase, layout: networks.NetworkLayout | None, episodes: int,
                 seconds: float, dt: float, policy: PolicyMaker | None = None):  # fmt: skip
        self.seconds = seconds
        self.evaluator = Evaluator(with_episodes(walk_test_config(config), episodes, seconds, dt), layout,
                                   policy=policy)  # fmt: skip

    def run(self, params: Any, stats: RunningStats, seed: int = 0) -> dict[str, Any]:
        """:func:`walk_summary` of one batch of episodes."""
        return walk_summary(self.evaluator.episodes(params, stats, seed), self.seconds)


def walk_score(walk: dict[str, Any]) -> tuple[float, float]:
    """Orders walk tests: more episodes that lasted, then a longer mean distance (not for the humanoid's pose
    test, whose drift is no merit: there the evaluation's return decides the ties: session.evaluation_score)."""
    pose_test = "torso_height_mean" in walk
    return walk["fraction"], 0.0 if pose_test else walk.get("distance_mean", 0.0)
