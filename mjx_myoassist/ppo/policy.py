"""A stored policy from any source, and the one deterministic inference function.

Sources (:data:`SOURCES`): a checkpoint of this project (``trained_models/<step>/``) or its session
folder (the newest checkpoint), a MyoAssist SB3 ``model_<steps>.zip`` or a MyoAssist session folder
(its newest zip).  A zip path may leave out ``.zip``, as SB3 and MyoAssist's docs write it.

* :func:`restore_policy`: (layout, params, normalizer, meta), without an env or a trainer;
* :func:`deterministic_policy`: obs -> mean action clipped to [-1, 1], pure (call it inside ``jit``);
* :func:`load_policy`: that function, jitted, for a path (usable on CPU without the trainer);
* :func:`load_trained`: the policy with the config it runs under, for evaluation and replay.

:mod:`mjx_myoassist.ppo.checkpoint` reads this project's format, :mod:`mjx_myoassist.ppo.sb3_import`
MyoAssist's; neither imports the other, this module chooses between them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

from mjx_myoassist.config import TrainSessionConfigBase, apply_overrides, config_from_dict, load_config
from mjx_myoassist.config.paths import find_policy_path
from mjx_myoassist.errors import CheckpointError
from mjx_myoassist.ppo import checkpoint, networks, sb3_import
from mjx_myoassist.ppo.normalizer import RunningStats, normalize

SOURCES = (
    "a session folder (results/train_session_<time>), one of its trained_models/<step> folders, a MyoAssist "
    "session folder (session_config.json, trained_models/model_*.zip) or a MyoAssist SB3 model zip"
)
Restored = tuple[networks.NetworkLayout, Any, RunningStats, dict[str, Any]]


def resolve_source(path: str | Path) -> Path:
    """The checkpoint folder or model zip that ``path`` names: itself (``.zip`` may be left out), or the
    newest checkpoint of a session folder (of a MyoAssist session, its newest zip)."""
    found = find_policy_path(path)
    if found is None:
        raise CheckpointError(f"'{path}' does not exist. Give {SOURCES}.")
    if found.is_file() or (found / checkpoint.META_FILE).is_file():
        return found
    if (found / "trained_models").is_dir():
        newest_zip = sb3_import.latest_model_zip(found)
        if newest_zip is not None and not checkpoint.list_checkpoints(found):
            return newest_zip
        return checkpoint.latest_checkpoint(found)
    checkpoint.read_meta(found)  # raises the precise error
    return found


def restore_policy(path: str | Path, with_config: bool = True) -> Restored:
    """(layout, params, normalizer, meta) of the policy at ``path`` (any of :data:`SOURCES`).

    ``meta`` always has ``format`` ('mjx_myoassist' or 'myoassist_sb3'), ``source`` (the checkpoint folder
    or zip read), ``env_steps``, ``layout`` and ``normalize_observation`` (whether ``normalizer`` applies to
    observations: false for MyoAssist policies, whose normalizer is the unused mean 0 / variance 1), and
    ``config`` (a config dict) when one is known: always for ours; for a zip, with ``with_config``, when its
    session's ``session_config.json`` loads here.
    """
    source = resolve_source(path)
    if source.is_file():
        return sb3_import.import_policy(source, with_config)
    return checkpoint.read_policy(source)


def deterministic_policy(
    layout: networks.NetworkLayout, params: Any, stats: RunningStats, normalize_observation: bool = True
) -> Callable[[jax.Array], jax.Array]:
    """obs -> mean action clipped to [-1, 1] (observations as float32, normalized when asked)."""
    network = networks.ActorCritic(layout)

    def policy(obs):
        mean, _, _ = network.apply(params, normalize(stats, jnp.asarray(obs, jnp.float32), normalize_observation))
        return jnp.clip(mean, -1.0, 1.0)

    return policy


def inference(
    layout: networks.NetworkLayout, params: Any, stats: RunningStats, normalize_observation: bool = True
) -> Callable[[Any], jax.Array]:
    """:func:`deterministic_policy`, jitted: the inference function of a stored policy."""
    return jax.jit(deterministic_policy(layout, params, stats, normalize_observation))


def load_policy(path: str | Path) -> Callable[[Any], jax.Array]:
    """The jitted deterministic policy ``obs -> action in [-1, 1]`` of anything :func:`restore_policy` reads."""
    layout, params, stats, meta = restore_policy(path, with_config=False)
    return inference(layout, params, stats, meta["normalize_observation"])


@dataclasses.dataclass(frozen=True)
class TrainedPolicy:
    """A stored policy and the config it runs under (see :func:`load_trained`)."""

    layout: networks.NetworkLayout
    params: Any
    stats: RunningStats
    config: TrainSessionConfigBase
    source: Path  # the checkpoint folder or model zip the weights came from
    session: Path  # the session folder around it (outputs such as analyze_results/ go there)

    def policy(self) -> Callable[[jax.Array], jax.Array]:
        """Jitted deterministic policy: obs -> action in [-1, 1]."""
        return inference(self.layout, self.params, self.stats, self.config.ppo_params.normalize_observation)


def session_of(source: Path) -> Path:
    """The session folder of a ``trained_models/<step>`` checkpoint or model zip (else the zip's folder)."""
    if source.parent.name == "trained_models":
        return source.parents[1]
    return source.parent if source.is_file() else source


def _run_config(
    meta: dict[str, Any], source: Path, config_file: str | Path | None, overrides: Sequence[str]
) -> TrainSessionConfigBase:
    """The config for :func:`load_trained` (its paths resolved, absolute, where it was found)."""
    if config_file is not None:
        return load_config(config_file, overrides)
    if meta["format"] == sb3_import.FORMAT and (file := sb3_import.session_config_file(source)) is not None:
        return sb3_import.with_myoassist_head(load_config(file, overrides))
    if "config" in meta:
        return config_from_dict(apply_overrides(meta["config"], overrides), session_of(source))
    raise CheckpointError(
        f"'{source}' comes without a config (no session_config.json around it): give the config it was "
        "trained with, --config <session_config.json or preset JSON>."
    )


def load_trained(
    path: str | Path, config_file: str | Path | None = None, overrides: Sequence[str] = ()
) -> TrainedPolicy:
    """Policy and config of any of :data:`SOURCES`, with ``--config.*`` overrides.

    The config is ``config_file`` when given, else the checkpoint's own, else the MyoAssist session's
    ``session_config.json`` (with MyoAssist's policy head, :func:`sb3_import.with_myoassist_head`).  The
    overrides apply before its paths resolve, so ``--config.env_params.myoassist_root`` finds MyoAssist's
    relative paths.  The policy keeps its own observation normalization whatever config it runs under.
    """
    layout, params, stats, meta = restore_policy(path, with_config=False)
    source = Path(meta["source"])
    config = _run_config(meta, source, config_file, overrides)
    ppo = dataclasses.replace(config.ppo_params, normalize_observation=bool(meta["normalize_observation"]))
    config = dataclasses.replace(config, ppo_params=ppo)
    return TrainedPolicy(layout, params, stats, config, source, session_of(source))
