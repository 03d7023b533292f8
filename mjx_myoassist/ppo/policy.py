"""A stored policy with the config it runs under: :func:`load_trained` (for evaluation, replay and render).

Loading the weights of any source (our checkpoint or session, a MyoAssist SB3 zip or session) and the
inference function live lower: :func:`mjx_myoassist.ppo.checkpoint.load_policy` /
:func:`~mjx_myoassist.ppo.checkpoint.restore_policy` and :func:`mjx_myoassist.ppo.networks.inference`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax

from mjx_myoassist.config import TrainSessionConfigBase, apply_overrides, config_from_dict, load_config
from mjx_myoassist.errors import CheckpointError
from mjx_myoassist.ppo import networks, sb3_import
from mjx_myoassist.ppo.checkpoint import restore_policy
from mjx_myoassist.ppo.networks import inference
from mjx_myoassist.ppo.normalizer import RunningStats


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
