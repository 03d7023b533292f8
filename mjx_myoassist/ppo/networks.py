"""Policy and value networks driven by MyoAssist's ``net_indexing_info``.

Each actor reads its observation slices and writes its action slices; the common
critic reads its own slices.  Without indexing info there is one actor (``pi``)
and one critic (``vf``) over the whole observation, as in SB3/seeds 004 and
MyoAssist's HumanActorCriticPolicy (whose ``net_arch`` names them ``human_actor``
and ``common_critic``).  The
Gaussian policy has a state-independent log-std per action (``log_std_init``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from mjx_myoassist.config import (
    CustomPolicyParams,
    action_mapping,
    check_fields,
    check_net_indexing,
    observation_indices,
)
from mjx_myoassist.ppo.normalizer import RunningStats, normalize

ACTIVATIONS = {"tanh": nn.tanh, "relu": nn.relu}
OUTPUT_ACTIVATIONS = {"none": lambda x: x, "tanh": nn.tanh}
DEFAULT_HIDDEN = (64, 64)
CRITIC_NAMES = ("common_critic", "vf")


@dataclasses.dataclass(frozen=True)
class ActorLayout:
    name: str
    obs_idx: tuple[int, ...]
    hidden: tuple[int, ...]
    net_idx: tuple[int, ...]
    act_idx: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class NetworkLayout:
    """Static description of every network's inputs and outputs (hashable, so jit-static)."""

    observation_size: int
    action_size: int
    actors: tuple[ActorLayout, ...]
    critic_obs_idx: tuple[int, ...]
    critic_hidden: tuple[int, ...]
    constants: tuple[tuple[int, float], ...]
    activation: str
    log_std_init: float
    actor_output_activation: str = "none"  # defaults keep checkpoints written before these fields loadable
    weight_init: str = "scaled"

    @property
    def noise_mask(self) -> np.ndarray:
        mask = np.ones(self.action_size, dtype=np.float32)
        for index, _ in self.constants:
            mask[index] = 0.0
        return mask


def make_layout(params: CustomPolicyParams, observation_size: int, action_size: int) -> NetworkLayout:
    """Resolves ``net_arch``/``net_indexing_info`` against the env's sizes (errors name the fix)."""
    check_fields(params, "policy_params.custom_policy_params")  # the config's own checks (params built by hand)
    arch = {k: tuple(v) for k, v in params.net_arch.items()}
    info = params.net_indexing_info
    if not info:
        all_obs = tuple(range(observation_size))
        actor = ActorLayout(
            "pi",
            all_obs,
            arch.get("pi", arch.get("human_actor", DEFAULT_HIDDEN)),
            tuple(range(action_size)),
            tuple(range(action_size)),
        )
        return NetworkLayout(
            observation_size,
            action_size,
            (actor,),
            all_obs,
            arch.get("vf", arch.get("common_critic", DEFAULT_HIDDEN)),
            (),
            params.activation,
            params.log_std_init,
            params.actor_output_activation,
            params.weight_init,
        )
    check_net_indexing(info, params.net_arch, observation_size, action_size)
    where = "policy_params.custom_policy_params.net_indexing_info"
    actors, constants = [], []
    for name, spec in info.items():
        obs = tuple(observation_indices(spec, f"{where}.{name}"))
        if name in CRITIC_NAMES:
            continue
        net, act, const = action_mapping(spec, f"{where}.{name}")
        constants += list(const.items())
        if net:
            actors.append(ActorLayout(name, obs, arch[name], tuple(net), tuple(act)))
    critic = next(n for n in CRITIC_NAMES if n in info)
    critic_obs = tuple(observation_indices(info[critic], f"{where}.{critic}"))
    return NetworkLayout(
        observation_size,
        action_size,
        tuple(actors),
        critic_obs,
        arch[critic],
        tuple(constants),
        params.activation,
        params.log_std_init,
        params.actor_output_activation,
        params.weight_init,
    )


def init_gains(weight_init: str, output_gain: float) -> tuple[float, float]:
    """(hidden, output) orthogonal gains: 1 everywhere for MyoAssist's init, else sqrt(2) and ``output_gain``."""
    return (1.0, 1.0) if weight_init == "myoassist" else (float(np.sqrt(2)), output_gain)


class MLP(nn.Module):
    hidden: Sequence[int]
    out: int
    activation: str
    gains: tuple[float, float]
    out_activation: str = "none"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = ACTIVATIONS[self.activation]
        hidden_gain, out_gain = self.gains
        for width in self.hidden:
            x = act(nn.Dense(width, kernel_init=nn.initializers.orthogonal(hidden_gain))(x))
        x = nn.Dense(self.out, kernel_init=nn.initializers.orthogonal(out_gain))(x)
        return OUTPUT_ACTIVATIONS[self.out_activation](x)


class ActorCritic(nn.Module):
    """Returns (action mean, log-std, value) for a (batch of) observation(s), normalized unless
    ``ppo_params.normalize_observation`` is false."""

    layout: NetworkLayout

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        lay = self.layout
        mean = jnp.zeros(obs.shape[:-1] + (lay.action_size,), obs.dtype)
        for actor in lay.actors:
            out_act = lay.actor_output_activation
            gains = init_gains(lay.weight_init, 0.01)
            mlp = MLP(actor.hidden, len(actor.net_idx), lay.activation, gains, out_act, name=actor.name)
            out = mlp(obs[..., np.array(actor.obs_idx)])
            mean = mean.at[..., np.array(actor.act_idx)].set(out[..., np.array(actor.net_idx)])
        for index, value in lay.constants:
            mean = mean.at[..., index].set(value)
        critic = MLP(lay.critic_hidden, 1, lay.activation, init_gains(lay.weight_init, 1.0), name="critic")
        value = critic(obs[..., np.array(lay.critic_obs_idx)])[..., 0]
        log_std = self.param("log_std", nn.initializers.constant(lay.log_std_init), (lay.action_size,))
        return mean, jnp.broadcast_to(log_std, mean.shape), value


def init_params(layout: NetworkLayout, rng: jax.Array) -> Any:
    return ActorCritic(layout).init(rng, jnp.zeros((layout.observation_size,)))


def gaussian_log_prob(x: jax.Array, mean: jax.Array, log_std: jax.Array, mask: jax.Array) -> jax.Array:
    """Log density summed over the non-constant action dimensions."""
    z = (x - mean) * jnp.exp(-log_std)
    per_dim = -0.5 * z**2 - log_std - 0.5 * jnp.log(2 * jnp.pi)
    return jnp.sum(per_dim * mask, axis=-1)


def gaussian_entropy(log_std: jax.Array, mask: jax.Array) -> jax.Array:
    return jnp.sum((log_std + 0.5 * jnp.log(2 * jnp.pi * jnp.e)) * mask, axis=-1)


def deterministic_policy(
    layout: NetworkLayout, params: Any, stats: RunningStats, normalize_observation: bool = True
) -> Callable[[jax.Array], jax.Array]:
    """obs -> mean action clipped to [-1, 1] (observations as float32, normalized when asked)."""
    network = ActorCritic(layout)

    def policy(obs):
        mean, _, _ = network.apply(params, normalize(stats, jnp.asarray(obs, jnp.float32), normalize_observation))
        return jnp.clip(mean, -1.0, 1.0)

    return policy


def inference(
    layout: NetworkLayout, params: Any, stats: RunningStats, normalize_observation: bool = True
) -> Callable[[Any], jax.Array]:
    """:func:`deterministic_policy`, jitted: the inference function of a stored policy."""
    return jax.jit(deterministic_policy(layout, params, stats, normalize_observation))
