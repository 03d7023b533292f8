"""A training session's folder on disk: file names, atomic JSON writes, leftovers of killed writes, and what
a resume starts from (the folder, the checkpoint, the saved config with the overrides a resume allows)."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mjx_myoassist.config import ConfigError, TrainSessionConfigBase, apply_overrides, config_from_dict
from mjx_myoassist.ppo import checkpoint

CONFIG_FILE, LOG_FILE, EVAL_FILE = "session_config.json", "train_log.json", "evaluations.json"
FIRST_WALK_FILE = "first_walk.json"  # the first evaluation in which every walk-test episode lasted
TMP_TAG = ".tmp-"  # files and checkpoint folders being written are named <name>.tmp-<pid>

# Keys (and sections) a resume may override: they change neither the saved state's shapes nor the task.
RESUME_OVERRIDABLE = (
    "total_timesteps", "comment", "logger_params", "evaluate_param_list", "env_params.num_threads",
    "ppo_params.learning_rate", "ppo_params.ent_coef", "ppo_params.max_grad_norm", "ppo_params.target_kl",
    "ppo_params.clip_range",
)  # fmt: skip
RESUME_REFUSALS = {
    "env_params": "it changes the task, or the physics state, that the saved envs and policy belong to",
    "policy_params": "it changes the network, so the saved parameters no longer fit",
    "ppo_params": "it changes how rollouts are collected and batched (on resume only learning_rate, ent_coef, "
    "max_grad_norm, target_kl and clip_range may change)",
}


def new_session_dir(results_dir: str | Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(results_dir) / f"train_session_{stamp}"
    suffix = 1
    while path.exists():
        path = Path(results_dir) / f"train_session_{stamp}_{suffix}"
        suffix += 1
    path.mkdir(parents=True)
    return path


def write_json(path: Path, data: Any) -> None:
    """Replaces ``path`` atomically (temporary file + rename): a kill leaves the old or the new file, never half."""
    tmp = path.with_name(f"{path.name}{TMP_TAG}{os.getpid()}")
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json_list(path: Path) -> list[dict[str, Any]]:
    try:
        return json.loads(path.read_text()) if path.is_file() else []
    except json.JSONDecodeError as err:
        raise checkpoint.CheckpointError(f"{path} is corrupted ({err}); repair or delete it to resume.") from err


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(session: Path) -> list[Path]:
    """Removes the ``*.tmp-<pid>`` files and folders that killed writes left in a session (not a live process's)."""
    removed = []
    for path in [*session.glob(f"*{TMP_TAG}*"), *(session / "trained_models").glob(f"*{TMP_TAG}*")]:
        pid = path.name.rpartition(TMP_TAG)[2]
        if pid.isdigit() and (int(pid) == os.getpid() or not _alive(int(pid))):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
            removed.append(path)
    return removed


def _resume_refusal(key: str) -> str | None:
    """Why ``key`` may not change on resume (None when it may)."""
    if any(key == ok or key.startswith(ok + ".") for ok in RESUME_OVERRIDABLE):
        return None
    return RESUME_REFUSALS.get(key.split(".")[0], "it is fixed for a session")


def load_session_config(session: str | Path, overrides: Sequence[str] = ()) -> TrainSessionConfigBase:
    """A session's saved config, with the ``--config.<key> VALUE`` overrides a resume allows
    (:data:`RESUME_OVERRIDABLE`); any other override raises ConfigError with the reason."""
    path = Path(session) / CONFIG_FILE
    if not path.is_file():
        raise checkpoint.CheckpointError(
            f"'{session}' is not a training session: {CONFIG_FILE} is missing. Give a results/train_session_<time> "
            "folder or one of its trained_models/<step> folders."
        )
    data = apply_overrides(json.loads(path.read_text()), overrides)
    for flag in overrides[0::2]:
        reason = _resume_refusal(flag[len("--config.") :])
        if reason:
            raise ConfigError(
                f"'{flag}' cannot change when resuming: {reason}. To train with it, start a new session with "
                f"--config.env_params.prev_trained_policy_path {Path(session) / 'trained_models'}/<step>."
            )
    return config_from_dict(data)


def resume_target(path: str | Path) -> tuple[Path, Path | None]:
    """(session folder, checkpoint) for ``--resume``: a session folder (checkpoint None: its newest) or one of
    its ``trained_models/<step>`` folders."""
    path = Path(path)
    if path.name.isdigit() and path.parent.name == "trained_models" and (path.parents[1] / CONFIG_FILE).is_file():
        checkpoint.read_meta(path)  # a precise error for an incomplete folder
        return path.parents[1], path
    return path, None
