"""JSON -> typed config: conversion, ignored MyoAssist keys, dotted overrides, presets and load_config."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
import warnings
from pathlib import Path
from typing import Any, Union

from mjx_myoassist.config.checks import did_you_mean as _did_you_mean
from mjx_myoassist.config.paths import resolve_config_paths
from mjx_myoassist.config.schema import (
    CONFIG_CLASS_BY_ENV_ID,
    ConfigError,
    EnvParams,
    HumanoidTrainSessionConfig,
    PointMassTrainSessionConfig,
    TrainSessionConfigBase,
)
from mjx_myoassist.config.validation import validate


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


def ignored_keys(data: dict[str, Any]) -> list[str]:
    """The ignored MyoAssist keys (:data:`MYOASSIST_IGNORED_KEYS`) present in a raw config dict."""

    def present(path: str) -> bool:
        node: Any = data
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    return [path for path in MYOASSIST_IGNORED_KEYS if present(path)]


def report_ignored(keys: typing.Sequence[str], source: str | Path | None = None) -> None:
    """One IgnoredKeyWarning line that lists the ignored MyoAssist keys (their reasons: docs/config_reference.md)."""
    if not keys:
        return
    text = (
        f"{len(keys)} MyoAssist config key{'s' if len(keys) > 1 else ''} ignored here (accepted, not acted on; "
        f"why: docs/config_reference.md): {', '.join(keys)}"
    )
    # lineno 0: the warning prints as one line, with no source line under it
    warnings.warn_explicit(text, IgnoredKeyWarning, str(source or "config"), 0)


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
            continue  # reported once for the whole config (report_ignored)
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


def config_from_dict(
    data: dict[str, Any], base_dir: Path | None = None, source: str | Path | None = None
) -> TrainSessionConfigBase:
    """Builds and validates a config from a MyoAssist-schema dict; relative paths resolve against ``base_dir``,
    then the working directory, and are stored absolute (:func:`resolve_path`). The ignored MyoAssist keys
    are reported in one IgnoredKeyWarning naming ``source`` (the file the dict came from)."""
    cls = _config_class(data)
    report_ignored(ignored_keys(data), source)
    if cls in (HumanoidTrainSessionConfig, PointMassTrainSessionConfig):
        defaults = dataclasses.asdict(cls().env_params)
        data = {**data, "env_params": {**defaults, **data.get("env_params", {})}}
    config = _build(cls, data)
    validate(config)
    resolve_config_paths(config.env_params, [base_dir] if base_dir is not None else [])
    return config


PRESETS_DIR = Path(__file__).resolve().parents[1] / "configs"


def preset_names() -> list[str]:
    """Names of the packaged presets (``load_config`` and ``--config`` accept them)."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.json"))


def find_config(name_or_path: str | Path) -> Path:
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


def load_config(path: str | Path, overrides: typing.Sequence[str] = ()) -> TrainSessionConfigBase:
    """Loads a JSON config (a path or a preset name), applies dotted overrides and validates the result."""
    path = find_config(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ConfigError(f"Config file '{path}' is not valid JSON: {err}.") from err
    _require_object(data, f"The top level of '{path}'")
    packaged = path.resolve().parent == PRESETS_DIR  # also through the checkout's configs/ link
    return config_from_dict(apply_overrides(data, overrides), PRESETS_DIR if packaged else path.parent, path)
