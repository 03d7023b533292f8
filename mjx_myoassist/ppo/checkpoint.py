"""Checkpoints: the whole TrainingState (resumable) plus a standalone policy.

A checkpoint is a folder ``trained_models/<env_steps>/`` holding

* ``training_state.npz``: every leaf of the TrainingState (params, optimizer,
  normalizer, env states, RNG, counters), in tree order;
* ``policy.npz``: the policy params and observation normalizer only;
* ``meta.json``: config, network layout, sizes, and a SHA-256 per file.

``save(..., env_state=False)`` leaves the envs' physics states and running episode
counters out (at thousands of envs they are most of a checkpoint); restoring such a
checkpoint starts fresh episodes.  :func:`prune` keeps a session's newest checkpoints.

It is written to a temporary folder and renamed into place, so a crash mid-write
leaves no half checkpoint; a truncated or edited file fails its checksum with a
message that names it.

:func:`load_policy` / :func:`restore_policy` read a policy from any source (:data:`SOURCES`: a checkpoint,
a session, a MyoAssist SB3 zip or session through :mod:`mjx_myoassist.ppo.sb3_import`, which does not
import this module); :mod:`mjx_myoassist.ppo.policy` adds the config a policy runs under.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import shutil
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mjx_myoassist.config.paths import find_policy_path
from mjx_myoassist.errors import CheckpointError
from mjx_myoassist.ppo import networks, sb3_import
from mjx_myoassist.ppo.normalizer import RunningStats

FORMAT_VERSION = 1
STATE_FILE, POLICY_FILE, META_FILE = "training_state.npz", "policy.npz", "meta.json"
ENV_FIELDS = ("env_state", "episode_return", "episode_length")  # what save(..., env_state=False) leaves out


def to_host(tree: Any) -> Any:
    """Full numpy values of a (possibly multi-process sharded) tree; a collective across processes."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        return multihost_utils.process_allgather(tree, tiled=True)
    return jax.device_get(tree)


def _npz_bytes(tree: Any) -> bytes:
    buffer = io.BytesIO()
    leaves = [np.asarray(x) for x in jax.tree.leaves(tree)]
    np.savez(buffer, **{f"leaf_{i:05d}": leaf for i, leaf in enumerate(leaves)})
    return buffer.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _without_env(state: Any) -> Any:
    return state.replace(**{name: None for name in ENV_FIELDS})


def save(
    directory: str | Path, state: Any, config: Any, layout: networks.NetworkLayout, env_state: bool = True
) -> Path:
    """Writes a checkpoint atomically; returns its folder.  With several processes every one
    must call it (the state is gathered); only process 0 writes.  ``env_state=False`` leaves
    out the envs' physics states and episode counters (see the module docstring)."""
    directory = Path(directory)
    state = to_host(state if env_state else _without_env(state))
    if jax.process_index() != 0:
        return directory
    tmp = directory.with_name(directory.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    files = {
        STATE_FILE: _npz_bytes(state),
        POLICY_FILE: _npz_bytes({"params": state.params, "normalizer": state.normalizer}),
    }
    for name, data in files.items():
        with open(tmp / name, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    meta = {
        "format_version": FORMAT_VERSION,
        "env_steps": int(state.env_steps),
        "update": int(state.update),
        "env_state": env_state,
        "config": config.to_dict(),
        "layout": dataclasses.asdict(layout),
        "sha256": {name: _sha256(data) for name, data in files.items()},
    }
    (tmp / META_FILE).write_text(json.dumps(meta, indent=1))
    if directory.exists():
        shutil.rmtree(directory)
    os.replace(tmp, directory)
    return directory


def read_meta(directory: str | Path) -> dict[str, Any]:
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"Checkpoint folder '{directory}' does not exist.")
    try:
        meta = json.loads((directory / META_FILE).read_text())
    except FileNotFoundError as err:
        raise CheckpointError(
            f"'{directory}' has no {META_FILE}: it is not a checkpoint or its write did not finish. "
            "Use another folder under trained_models/."
        ) from err
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{directory / META_FILE} is corrupted ({err}). Use another checkpoint.") from err
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"Checkpoint '{directory}' has format {meta.get('format_version')}, expected {FORMAT_VERSION}."
        )
    return meta


def _read_leaves(directory: Path, name: str, meta: dict[str, Any]) -> list[np.ndarray]:
    path = directory / name
    if not path.is_file():
        raise CheckpointError(f"Checkpoint '{directory}' is missing {name}.")
    data = path.read_bytes()
    if _sha256(data) != meta["sha256"][name]:
        raise CheckpointError(
            f"{path} is truncated or corrupted (checksum mismatch). Use an earlier checkpoint in '{directory.parent}'."
        )
    with np.load(io.BytesIO(data)) as f:
        return [f[k] for k in sorted(f.files)]


def _unflatten(template: Any, leaves: list[np.ndarray], what: str) -> Any:
    ref = jax.tree.leaves(template)
    treedef = jax.tree.structure(template)
    if len(ref) != len(leaves):
        raise CheckpointError(f"{what} has {len(leaves)} arrays, this run expects {len(ref)}: different config?")
    for i, (a, b) in enumerate(zip(ref, leaves, strict=True)):
        if tuple(np.shape(a)) != tuple(b.shape):
            raise CheckpointError(
                f"{what} array {i} has shape {b.shape}, this run expects {np.shape(a)}: the network or num_envs "
                "differ from the checkpoint's config."
            )
    typed = [jnp.asarray(x, dtype=np.asarray(a).dtype) for a, x in zip(ref, leaves, strict=True)]
    return jax.tree.unflatten(treedef, typed)


def has_env_state(meta: dict[str, Any]) -> bool:
    """Whether a checkpoint (its ``meta.json``) holds the envs' physics states."""
    return bool(meta.get("env_state", True))


def restore_state(directory: str | Path, template: Any) -> Any:
    """The TrainingState stored in ``directory``, shaped like ``template``.

    A checkpoint saved without env states takes them (fresh episodes) from ``template``."""
    directory = Path(directory)
    meta = read_meta(directory)
    host = jax.device_get(template)
    stored = host if has_env_state(meta) else _without_env(host)
    restored = _unflatten(stored, _read_leaves(directory, STATE_FILE, meta), str(directory / STATE_FILE))
    if has_env_state(meta):
        return restored
    return restored.replace(**{name: getattr(template, name) for name in ENV_FIELDS})


def layout_from_meta(meta: dict[str, Any]) -> networks.NetworkLayout:
    lay = dict(meta["layout"])
    lay["actors"] = tuple(
        networks.ActorLayout(**{k: tuple(v) if isinstance(v, list) else v for k, v in a.items()}) for a in lay["actors"]
    )
    for key in ("critic_obs_idx", "critic_hidden"):
        lay[key] = tuple(lay[key])
    lay["constants"] = tuple(tuple(c) for c in lay["constants"])
    return networks.NetworkLayout(**lay)


def read_policy(directory: str | Path) -> tuple[networks.NetworkLayout, Any, RunningStats, dict[str, Any]]:
    """(layout, params, normalizer, meta) of a checkpoint folder's ``policy.npz``; ``meta`` gains ``format``,
    ``source`` and ``normalize_observation`` (see :func:`mjx_myoassist.ppo.policy.restore_policy`)."""
    directory = Path(directory)
    meta = read_meta(directory)
    layout = layout_from_meta(meta)
    template = {
        "params": networks.init_params(layout, jax.random.PRNGKey(0)),
        "normalizer": RunningStats.create(layout.observation_size),
    }
    tree = _unflatten(template, _read_leaves(directory, POLICY_FILE, meta), str(directory / POLICY_FILE))
    meta.update(
        format="mjx_myoassist",
        source=str(directory),
        normalize_observation=bool(meta["config"]["ppo_params"].get("normalize_observation", True)),
    )
    return layout, tree["params"], tree["normalizer"], meta


def _checkpoints(session: str | Path) -> list[tuple[int, Path]]:
    root = Path(session) / "trained_models"
    return sorted((int(p.name), p) for p in root.glob("*") if p.name.isdigit() and (p / META_FILE).is_file())


def latest_checkpoint(session: str | Path) -> Path:
    """The newest complete checkpoint of a session folder."""
    root = Path(session) / "trained_models"
    steps = _checkpoints(session)
    if not steps:
        raise CheckpointError(f"No complete checkpoint under '{root}'.")
    return steps[-1][1]


def _remove(folder: Path) -> None:
    """Deletes a checkpoint folder; renamed to a ``.tmp-<pid>`` leftover first, so a kill mid-delete never
    leaves a half checkpoint that looks complete (the session cleans leftovers when it resumes)."""
    doomed = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(doomed, ignore_errors=True)
    os.replace(folder, doomed)
    shutil.rmtree(doomed)


def prune(session: str | Path, keep_last: int, keep_steps: Collection[int] = ()) -> list[Path]:
    """Deletes a session's checkpoints except the newest ``keep_last`` and those at ``keep_steps``
    (``keep_last`` 0 keeps all); returns the deleted folders.  Only process 0 deletes."""
    if keep_last <= 0 or jax.process_index() != 0:
        return []
    doomed = [path for step, path in _checkpoints(session)[:-keep_last] if step not in keep_steps]
    for path in doomed:
        _remove(path)
    return doomed


def set_aside_newer(session: str | Path, step: int) -> Path | None:
    """Moves the checkpoints newer than ``step`` into ``trained_models/superseded-<time>/`` (nothing is
    deleted), so that a run resumed from ``step`` saves its own; returns that folder, or None."""
    newer = [path for s, path in _checkpoints(session) if s > step]
    if not newer or jax.process_index() != 0:
        return None
    target = Path(session) / "trained_models" / time.strftime("superseded-%Y%m%d-%H%M%S")
    target.mkdir(exist_ok=True)
    for path in newer:
        os.replace(path, target / path.name)
    return target


def list_checkpoints(session: str | Path) -> list[tuple[int, Path]]:
    """(env steps, folder) of a session's complete checkpoints, oldest first."""
    return _checkpoints(session)


# ----------------------------------------------------------------------------- any source

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
    if found.is_file() or (found / META_FILE).is_file():
        return found
    if (found / "trained_models").is_dir():
        newest_zip = sb3_import.latest_model_zip(found)
        if newest_zip is not None and not list_checkpoints(found):
            return newest_zip
        return latest_checkpoint(found)
    read_meta(found)  # raises the precise error
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
    return read_policy(source)


def load_policy(path: str | Path) -> Callable[[Any], jax.Array]:
    """The jitted deterministic policy ``obs -> action in [-1, 1]`` of anything :func:`restore_policy` reads."""
    layout, params, stats, meta = restore_policy(path, with_config=False)
    return networks.inference(layout, params, stats, meta["normalize_observation"])
