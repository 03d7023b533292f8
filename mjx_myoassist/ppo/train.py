"""PPO training: one compiled function per epoch (rollout scan + GAE + SGD), data-parallel.

The batch of envs is split over all local devices (``shard_map`` over a 1-D mesh);
gradients, advantage statistics and observation moments are averaged across
devices.  Every random draw is keyed by the *global* env index, and minibatches are
per-env slices of time, so a run gives the same result on 1 or N devices.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from mjx_myoassist.config import ConfigError, TrainSessionConfigBase
from mjx_myoassist.envs import Env, make
from mjx_myoassist.envs.base import prepare_auto_reset, step_with_auto_reset
from mjx_myoassist.ppo import losses, networks
from mjx_myoassist.ppo.normalizer import RunningStats, normalize

AXIS = "data"
PARAMS_FINITE = "loss/params_finite"  # 1.0 when the updated parameters and normalizer hold no NaN/inf
EPISODE_SUMS = ("episode/count", "episode/terminated", "episode/truncated")
EPISODE_MEANS = ("episode/return", "episode/length")


class TrainingDiverged(RuntimeError):
    """The loss or the parameters became NaN/inf during an update."""


def nonfinite(metrics: dict[str, float]) -> list[str]:
    """What went NaN/inf in one update's (host) metrics: loss terms, and the parameters/normalizer."""
    bad = [key for key, value in metrics.items() if key.startswith("loss/") and not math.isfinite(value)]
    if metrics.get(PARAMS_FINITE, 1.0) < 1.0:
        bad.append("the network parameters or observation normalizer")
    return bad


def merge_metrics(updates: Sequence[dict[str, float]]) -> dict[str, float]:
    """One log entry for several updates' (host) metrics: episode return and length over every episode
    that ended in any of them, episode counts summed, everything else (rewards, losses) averaged."""
    out = {key: sum(u[key] for u in updates) / len(updates) for key in updates[0]}
    count = sum(u["episode/count"] for u in updates)
    for key in EPISODE_SUMS:
        out[key] = sum(u[key] for u in updates)
    for key in EPISODE_MEANS:  # each update's mean is its sum / max(its count, 1)
        out[key] = sum(u[key] * u["episode/count"] for u in updates) / max(count, 1.0)
    return out


@struct.dataclass
class TrainingState:
    """Everything needed to continue training exactly (saved whole in checkpoints)."""

    params: Any
    opt_state: Any
    normalizer: RunningStats
    env_state: Any  # batched env State, sharded over devices on the env axis
    episode_return: jax.Array  # [num_envs] running return of the current episodes
    episode_length: jax.Array  # [num_envs]
    rng: jax.Array  # raw key data
    env_steps: jax.Array
    update: jax.Array


def _state_specs() -> TrainingState:
    return TrainingState(P(), P(), P(), P(AXIS), P(AXIS), P(AXIS), P(), P(), P())


def init_distributed(coordinator: str, num_processes: int, process_id: int) -> None:
    """Joins a multi-process run (one process per host); call before anything touches JAX devices.

    The trainer's mesh then spans every process's devices; each process steps its share of
    the envs and only process 0 writes the session folder.
    """
    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # collectives between CPU processes
    jax.distributed.initialize(coordinator, num_processes=num_processes, process_id=process_id)


def make_optimizer(config: TrainSessionConfigBase) -> optax.GradientTransformation:
    hp = config.ppo_params
    return optax.chain(optax.clip_by_global_norm(hp.max_grad_norm), optax.adam(hp.learning_rate, eps=hp.adam_eps))


class Trainer:
    """Builds the env, networks and the compiled epoch for one config."""

    def __init__(self, config: TrainSessionConfigBase, env: Env | None = None, devices: Sequence | None = None):
        self.config = config
        self.env = env or make(config)
        devices = list(devices or jax.devices())  # every device of every process (jax.distributed)
        n_envs = config.env_params.num_envs
        if n_envs % len(devices):
            raise ConfigError(
                f"env_params.num_envs = {n_envs} must be a multiple of the {len(devices)} devices in use."
            )
        self.mesh = Mesh(np.array(devices), (AXIS,))
        self.layout = networks.make_layout(
            config.policy_params.custom_policy_params, self.env.observation_size, self.env.action_size
        )
        self.network = networks.ActorCritic(self.layout)
        self.optimizer = make_optimizer(config)
        self.mask = jnp.asarray(self.layout.noise_mask)
        specs = _state_specs()
        epoch = jax.shard_map(self._epoch, mesh=self.mesh, in_specs=(specs,), out_specs=(specs, P()), check_vma=False)
        self.train_epoch = jax.jit(epoch, donate_argnums=0)
        self._sharded = NamedSharding(self.mesh, P(AXIS))
        self._replicated = NamedSharding(self.mesh, P())

    # ---------------------------------------------------------------- init

    def init(self, seed: int | None = None, params: Any = None, normalizer: RunningStats | None = None):
        """A fresh TrainingState; ``params``/``normalizer`` warm-start the policy."""
        seed = self.config.env_params.seed if seed is None else seed
        key = jax.random.PRNGKey(seed)
        k_params, k_envs, k_run = jax.random.split(key, 3)
        params = params if params is not None else networks.init_params(self.layout, k_params)
        n = self.config.env_params.num_envs
        reset_all = jax.vmap(lambda k: prepare_auto_reset(self.env.reset(k)))
        reset = jax.jit(lambda key: reset_all(jax.random.split(key, n)), out_shardings=self._sharded)
        env_state = reset(np.asarray(k_envs))  # a host value: the same on every process
        state = TrainingState(
            params=params,
            opt_state=self.optimizer.init(params),
            normalizer=normalizer or RunningStats.create(self.layout.observation_size),
            env_state=env_state,
            episode_return=jnp.zeros(n),
            episode_length=jnp.zeros(n),
            rng=jax.random.key_data(k_run),
            env_steps=jnp.asarray(0, jnp.int64 if jax.config.jax_enable_x64 else jnp.int32),
            update=jnp.asarray(0, jnp.int32),
        )
        return self.place(state)

    def place(self, state: TrainingState) -> TrainingState:
        """Puts a (possibly host-side, restored) state on the mesh with the right shardings.

        Every process passes the same full values; each keeps the shards of its devices.
        """
        specs = _state_specs()

        def put(spec, sub):
            sharding = NamedSharding(self.mesh, spec)

            def leaf(x):
                if isinstance(x, jax.Array) and x.sharding == sharding:
                    return x
                value = np.asarray(x)
                return jax.make_array_from_callback(value.shape, sharding, lambda index: value[index])

            return jax.tree.map(leaf, sub)

        return jax.tree.map(put, specs, state, is_leaf=lambda x: isinstance(x, P))

    # ---------------------------------------------------------------- epoch

    def _policy(self, params, obs):
        return self.network.apply(params, obs)

    def _rollout(self, ts: TrainingState, key: jax.Array, env_index: jax.Array):
        hp_norm = self.config.ppo_params.normalize_observation
        step_fn = jax.vmap(lambda s, a: step_with_auto_reset(self.env, s, a))

        def one_step(carry, t):
            env_state, ep_ret, ep_len = carry
            obs = normalize(ts.normalizer, env_state.obs, hp_norm)
            mean, log_std, value = self._policy(ts.params, obs)
            keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.fold_in(key, t), i))(env_index)
            noise = jax.vmap(lambda k: jax.random.normal(k, (self.layout.action_size,)))(keys) * self.mask
            action = mean + jnp.exp(log_std) * noise
            log_prob = networks.gaussian_log_prob(action, mean, log_std, self.mask)
            nxt = step_fn(env_state, action)
            ep_ret, ep_len = ep_ret + nxt.reward, ep_len + 1
            done = nxt.done
            record = {
                "obs": obs,
                "raw_obs": env_state.obs,
                "action": action,
                "log_prob": log_prob,
                "value": value,
                "reward": nxt.reward,
                "terminated": nxt.terminated.astype(jnp.float32),
                "done": done.astype(jnp.float32),
                "final_obs": nxt.info["final_obs"],
            }
            stats = {
                "episode/return_sum": jnp.sum(jnp.where(done, ep_ret, 0.0)),
                "episode/length_sum": jnp.sum(jnp.where(done, ep_len, 0.0)),
                "episode/count": jnp.sum(done.astype(jnp.float32)),
                "episode/terminated": jnp.sum(nxt.terminated.astype(jnp.float32)),
                "episode/truncated": jnp.sum(nxt.truncated.astype(jnp.float32)),
                **{k: jnp.sum(v) for k, v in nxt.metrics.items()},
            }
            carry = (nxt, jnp.where(done, 0.0, ep_ret), jnp.where(done, 0.0, ep_len))
            return carry, (record, stats)

        carry = (self.env.with_training_progress(ts.env_state, ts.env_steps), ts.episode_return, ts.episode_length)
        carry, (data, stats) = jax.lax.scan(one_step, carry, jnp.arange(self.config.ppo_params.n_steps))
        return carry, data, jax.tree.map(jnp.sum, stats)

    def _epoch(self, ts: TrainingState):
        hp, cfg = self.config.ppo_params, self.config
        n_local = ts.episode_return.shape[0]
        env_index = jax.lax.axis_index(AXIS) * n_local + jnp.arange(n_local)
        key, roll_key, sgd_key = jax.random.split(jax.random.wrap_key_data(ts.rng), 3)

        (env_state, ep_ret, ep_len), data, stats = self._rollout(ts, roll_key, env_index)
        final_obs = normalize(ts.normalizer, data["final_obs"], hp.normalize_observation)
        _, _, next_values = self._policy(ts.params, final_obs)
        adv, returns = losses.gae(
            data["reward"], data["value"], next_values, data["terminated"], data["done"], hp.gamma, hp.gae_lambda
        )
        batch = {k: data[k] for k in ("obs", "action", "log_prob", "value")}
        batch.update(advantage=adv, **{"return": returns})
        params, opt_state, sgd_metrics = self._sgd(ts.params, ts.opt_state, batch, sgd_key, env_index)

        normalizer = (
            self._update_normalizer(ts.normalizer, data["raw_obs"]) if hp.normalize_observation else ts.normalizer
        )
        stats = jax.lax.psum(stats, AXIS)
        total_steps = cfg.ppo_params.n_steps * cfg.env_params.num_envs
        metrics = self._summarize(stats, total_steps)
        metrics.update(sgd_metrics)
        metrics["rollout/reward_mean"] = jax.lax.pmean(jnp.mean(data["reward"]), AXIS)
        metrics["rollout/value_mean"] = jax.lax.pmean(jnp.mean(data["value"]), AXIS)
        finite = [jnp.isfinite(leaf).all() for leaf in jax.tree.leaves((params, normalizer))]
        metrics[PARAMS_FINITE] = jnp.stack(finite).all().astype(jnp.float32)
        new_state = TrainingState(
            params=params,
            opt_state=opt_state,
            normalizer=normalizer,
            env_state=env_state,
            episode_return=ep_ret,
            episode_length=ep_len,
            rng=jax.random.key_data(key),
            env_steps=ts.env_steps + total_steps,
            update=ts.update + 1,
        )
        return new_state, metrics

    @staticmethod
    def _summarize(stats: dict[str, jax.Array], total_steps: int) -> dict[str, jax.Array]:
        count = stats.pop("episode/count")
        out = {
            "episode/return": stats.pop("episode/return_sum") / jnp.maximum(count, 1.0),
            "episode/length": stats.pop("episode/length_sum") / jnp.maximum(count, 1.0),
            "episode/count": count,
            "episode/terminated": stats.pop("episode/terminated"),
            "episode/truncated": stats.pop("episode/truncated"),
        }
        out.update({k: v / total_steps for k, v in stats.items()})
        return out

    def _update_normalizer(self, stats: RunningStats, raw_obs: jax.Array) -> RunningStats:
        flat = raw_obs.reshape(-1, raw_obs.shape[-1])
        mean = jax.lax.pmean(jnp.mean(flat, axis=0), AXIS)
        sq = jax.lax.pmean(jnp.mean(flat**2, axis=0), AXIS)
        count = flat.shape[0] * jax.lax.psum(1, AXIS)
        return stats.update(mean, jnp.maximum(sq - mean**2, 0.0), jnp.asarray(count, jnp.float32))

    def _sgd(self, params, opt_state, batch, key, env_index):
        """``n_epochs`` passes of minibatch SGD with SB3's target_kl early stop."""
        hp = self.config.ppo_params
        n_steps = hp.n_steps
        n_mb = self.config.num_minibatches
        chunk = n_steps // n_mb
        # [T, B, ...] -> [B, T, ...]
        per_env = jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), batch)
        loss_fn = functools.partial(losses.ppo_loss, apply_fn=self.network.apply, hp=hp, mask=self.mask, axis_name=AXIS)
        grad_fn = jax.value_and_grad(lambda p, mb: loss_fn(p, batch=mb), has_aux=True)

        def minibatch_step(carry, mb):
            params, opt_state, stopped = carry
            (_, metrics), grads = grad_fn(params, mb)
            grads, metrics = jax.lax.pmean((grads, metrics), AXIS)
            too_far = (metrics["loss/approx_kl"] > 1.5 * hp.target_kl) if hp.target_kl is not None else False
            stop = stopped | too_far
            updates, new_opt = self.optimizer.update(grads, opt_state, params)
            new_params = optax.apply_updates(params, updates)
            keep = lambda old, new: jax.tree.map(lambda o, n: jnp.where(stop, o, n), old, new)  # noqa: E731
            applied = (~stop).astype(jnp.float32)
            return (keep(params, new_params), keep(opt_state, new_opt), stop), (metrics, applied)

        def epoch(carry, k):
            perm_key = jax.random.fold_in(key, k)
            perms = jax.vmap(lambda i: jax.random.permutation(jax.random.fold_in(perm_key, i), n_steps))(env_index)
            shuffled = jax.tree.map(
                lambda x: jnp.take_along_axis(x, perms.reshape(perms.shape + (1,) * (x.ndim - 2)), 1), per_env
            )
            mbs = jax.tree.map(
                lambda x: jnp.swapaxes(x.reshape((x.shape[0], n_mb, chunk) + x.shape[2:]), 0, 1).reshape(
                    (n_mb, x.shape[0] * chunk) + x.shape[2:]
                ),
                shuffled,
            )
            return jax.lax.scan(minibatch_step, carry, mbs)

        (params, opt_state, stopped), (metrics, applied) = jax.lax.scan(
            epoch, (params, opt_state, jnp.bool_(False)), jnp.arange(hp.n_epochs)
        )
        weights = applied / jnp.maximum(applied.sum(), 1.0)
        out = {k: jnp.sum(v * weights) for k, v in metrics.items()}
        out["loss/updates_applied"] = applied.sum()
        out["loss/early_stopped"] = stopped.astype(jnp.float32)
        return params, opt_state, out
