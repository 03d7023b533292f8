"""Where config file paths are looked for, and how they become absolute."""

from __future__ import annotations

import os
import sys
import typing
from pathlib import Path

from mjx_myoassist.config.schema import ConfigError, EnvParams

MYOASSIST_DEFAULT_REFERENCE = "rl_train/reference_data/short_reference_gait.npz"


def path_candidates(path: str | Path, base_dirs: typing.Sequence[str | Path] = ()) -> list[Path]:
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


def find_path(path: str | Path, base_dirs: typing.Sequence[str | Path] = ()) -> Path | None:
    """The first existing :func:`path_candidates` entry (absolute), or None."""
    return next((c for c in path_candidates(path, base_dirs) if c.exists()), None)


def find_policy_path(path: str | Path, base_dirs: typing.Sequence[str | Path] = ()) -> Path | None:
    """:func:`find_path`, else (as Stable-Baselines3's load does) the path with ``.zip`` appended: SB3 and
    MyoAssist's docs and session configs name model zips without it."""
    found = find_path(path, base_dirs)
    if found is None and not str(path).endswith(".zip"):
        found = find_path(f"{path}.zip", base_dirs)
    return found


def resolve_path(
    path: str | Path, base_dirs: typing.Sequence[str | Path] = (), key: str = "path", fix: str = ""
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


def resolve_config_paths(env: EnvParams, base_dirs: typing.Sequence[str | Path] = ()) -> None:
    """Replaces the env's file paths by the absolute paths they resolve to (see :func:`resolve_path`), so the
    envs need no folder to open them; ``reference_data_path``: see :func:`_reference_folders`."""
    for name, (must_be_file, fix) in PATH_FIELDS.items():
        value = getattr(env, name, None)
        if value in (None, ""):
            continue
        key = f"env_params.{name}"
        folders = _reference_folders(env, base_dirs) if name == "reference_data_path" else base_dirs
        if folders is None:
            continue
        if name == "prev_trained_policy_path":  # as MyoAssist writes it: maybe without .zip, from its root
            value = str(find_policy_path(value, [*base_dirs, *model_search_dirs(env)]) or value)
        path = resolve_path(value, folders, key, fix)
        if must_be_file and not path.is_file():
            raise ConfigError(f"{key} '{value}' is {path}, which is not a file. {fix}")
        setattr(env, name, str(path))
    _resolve_model_path(env, base_dirs)


def _reference_folders(env: EnvParams, base_dirs: typing.Sequence[str | Path]) -> list[str | Path] | None:
    """Where ``reference_data_path`` is looked for: the config's folder, then the MyoAssist root (MyoAssist's JSON
    files name it from there), then the working directory.  None when it is MyoAssist's own default
    (``MYOASSIST_DEFAULT_REFERENCE``) and that file is in none of them: it becomes '' (the packaged default
    gait), with a one-line notice.  A file that exists is never replaced."""
    folders = [*base_dirs, *([env.myoassist_root] if env.myoassist_root else [])]
    if env.reference_data_path == MYOASSIST_DEFAULT_REFERENCE and find_path(env.reference_data_path, folders) is None:
        looked = ", ".join(str(c) for c in path_candidates(env.reference_data_path, folders))
        print(f"notice: reference_data_path is in none of {looked}: using the packaged default gait.", file=sys.stderr)
        env.reference_data_path = ""
        return None
    return folders


def model_search_dirs(env: EnvParams, base_dirs: typing.Sequence[str | Path] = ()) -> list[Path]:
    """Base folders of ``model_path``: the MyoAssist root (command line or config), then ``base_dirs``."""
    return [Path(p) for p in (env.myoassist_root, *base_dirs) if p]


def _resolve_model_path(env: EnvParams, base_dirs: typing.Sequence[str | Path]) -> None:
    """An existing ``model_path`` becomes absolute (root, config folder, working directory, in order).

    A missing one is kept as written: the env then runs the embedded model of that device with
    a notice (``envs/leg.py``), or reports that none exists.
    """
    if env.model_path.endswith(".xml"):
        found = find_path(env.model_path, model_search_dirs(env, base_dirs))
        if found is not None and found.is_file():
            env.model_path = str(found)
