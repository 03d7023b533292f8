"""MyoAssist's net_indexing_info: which observation and action slices each network uses."""

from __future__ import annotations

from typing import Any

from mjx_myoassist.config.schema import ConfigError

OBS_ENTRY_TYPES = ("range", "index")
ACTION_ENTRY_TYPES = ("range_mapping", "index_mapping", "constant")


def _entry_indices(entry: dict[str, Any], key: str, where: str) -> list[int]:
    if entry.get("type") in ("range", "range_mapping"):
        bounds = entry.get(key)
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(isinstance(b, int) for b in bounds)):
            raise ConfigError(f"{where}: '{key}' must be [start, end] integers, got {bounds!r}.")
        if not 0 <= bounds[0] < bounds[1]:
            raise ConfigError(f"{where}: '{key}' {bounds} must satisfy 0 <= start < end.")
        return list(range(bounds[0], bounds[1]))
    values = entry.get(key)
    if not (isinstance(values, list) and values and all(isinstance(v, int) and v >= 0 for v in values)):
        raise ConfigError(f"{where}: '{key}' must be a non-empty list of non-negative integers, got {values!r}.")
    return list(values)


def observation_indices(spec: dict[str, Any], where: str) -> list[int]:
    """Observation indices one network reads, in order."""
    out: list[int] = []
    for i, entry in enumerate(spec.get("observation", [])):
        kind = entry.get("type")
        if kind not in OBS_ENTRY_TYPES:
            raise ConfigError(f"{where}.observation[{i}]: type '{kind}' must be one of {OBS_ENTRY_TYPES}.")
        out += _entry_indices(entry, kind, f"{where}.observation[{i}]")
    return out


def _constant_indices(entry: dict[str, Any], where: str) -> list[int]:
    """Actions a 'constant' entry fixes: MyoAssist's 'range_action' [start, end] or an 'index_action' list."""
    if "range_action" in entry:
        return _entry_indices({**entry, "type": "range"}, "range_action", where)
    return _entry_indices({**entry, "type": "index"}, "index_action", where)


def action_mapping(spec: dict[str, Any], where: str) -> tuple[list[int], list[int], dict[int, float]]:
    """(network output indices, action indices they write, constant action values) of one actor.

    A constant overrides whatever a network writes to the same action (MyoAssist's exo_off preset maps the
    exo actor to actions 22-24 and then fixes them to 1.0), in the mean and in sampled actions.
    """
    net, act, const = [], [], {}
    for i, entry in enumerate(spec.get("action", [])):
        kind, here = entry.get("type"), f"{where}.action[{i}]"
        if kind not in ACTION_ENTRY_TYPES:
            raise ConfigError(f"{here}: type '{kind}' must be one of {ACTION_ENTRY_TYPES}.")
        if kind == "constant":
            for a in _constant_indices(entry, here):
                const[a] = float(entry.get("default_value", entry.get("value", 0.0)))
            continue
        suffix = "range" if kind == "range_mapping" else "index"
        n = _entry_indices(entry, f"{suffix}_net", here)
        a = _entry_indices(entry, f"{suffix}_action", here)
        if len(n) != len(a):
            raise ConfigError(f"{here}: {suffix}_net has {len(n)} entries but {suffix}_action has {len(a)}.")
        net += n
        act += a
    return net, act, const


def _check_indexing_shape(info: dict[str, Any], where: str) -> None:
    """Each network is an object whose 'observation' (and, for actors, 'action') is a list of typed entries."""
    for name, spec in info.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}.{name} must be an object with 'observation' and 'action' lists, got {spec!r}.")
        if name != "common_critic" and not spec.get("action"):
            raise ConfigError(f"{where}.{name} writes no action: give it an 'action' list, or remove the network.")
        for part in ("observation", "action"):
            entries = spec.get(part, [])
            if not isinstance(entries, list):
                raise ConfigError(f"{where}.{name}.{part} must be a list of {{'type': ...}} entries, got {entries!r}.")
            for i, entry in enumerate(entries):
                if not (isinstance(entry, dict) and "type" in entry):
                    raise ConfigError(f"{where}.{name}.{part}[{i}] must be an object with a 'type', got {entry!r}.")


def check_net_indexing(
    info: dict[str, Any],
    net_arch: dict[str, list[int]],
    observation_size: int | None = None,
    action_size: int | None = None,
) -> None:
    """Checks that the actors' action slices tile the action exactly and obs slices stay in range."""
    where = "policy_params.custom_policy_params.net_indexing_info"
    if "common_critic" not in info:
        raise ConfigError(f"{where} needs a 'common_critic' entry with its observation slices.")
    _check_indexing_shape(info, where)
    mapped: dict[int, str] = {}
    fixed: dict[int, str] = {}
    for name, spec in info.items():
        if name not in net_arch:
            raise ConfigError(f"{where}.{name} has no layer sizes in net_arch; add net_arch['{name}'] = [64, 64].")
        obs = observation_indices(spec, f"{where}.{name}")
        if not obs:
            raise ConfigError(f"{where}.{name} reads no observation; add an 'observation' range.")
        if observation_size is not None and max(obs) >= observation_size:
            raise ConfigError(
                f"{where}.{name} reads observation index {max(obs)} but the observation has only "
                f"{observation_size} entries. Fix its 'range'/'index' or the observation key lists."
            )
        if name == "common_critic":
            continue
        net, act, const = action_mapping(spec, f"{where}.{name}")
        if net and sorted(net) != list(range(len(net))):
            raise ConfigError(f"{where}.{name}: network outputs {sorted(net)} must be 0..{len(net) - 1} without gaps.")
        for table, indices in ((mapped, act), (fixed, list(const))):
            for a in indices:
                if a in table:
                    raise ConfigError(f"{where}: action index {a} is written by both '{table[a]}' and '{name}'.")
                table[a] = name
    written = {**mapped, **fixed}
    if not written:
        raise ConfigError(f"{where} has no actor writing actions.")
    size = action_size if action_size is not None else max(written) + 1
    missing = sorted(set(range(size)) - set(written))
    if missing:
        raise ConfigError(f"{where}: action indices {missing} are written by no actor (the action has {size}).")
    extra = sorted(a for a in written if a >= size)
    if extra:
        raise ConfigError(f"{where}: action indices {extra} are beyond the action size {size}.")
