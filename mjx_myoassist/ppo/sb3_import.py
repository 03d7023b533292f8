"""MyoAssist's trained Stable-Baselines3 policies (``trained_models/model_<steps>.zip``), read without torch.

An SB3 zip holds ``data`` (JSON: MyoAssist's ``custom_policy_params`` under ``policy_kwargs``, the
spaces, the step count) and ``policy.pth``, the policy's state dict as written by ``torch.save``: a
zip of ``<name>/data.pkl`` (a pickle that names every tensor) and ``<name>/data/<key>`` (the raw
bytes of each tensor's storage).  A restricted unpickler rebuilds each tensor as a numpy array from
those bytes (dtype, shape, stride, offset) and refuses anything else a state dict never contains,
so nothing in the file can run code and torch is not needed.

MyoAssist's networks (``rl_train/train/policies``): every actor layer, the output included, is
Linear + tanh; the critic is Linear + tanh with a linear output; ``log_std`` is one free vector;
observations go in raw.  An imported policy therefore runs with ``activation`` and
``actor_output_activation`` set to tanh and ``normalize_observation`` off (:func:`with_myoassist_head`).
"""

from __future__ import annotations

import collections
import dataclasses
import io
import json
import pickle
import re
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mjx_myoassist.config import ConfigError, CustomPolicyParams, TrainSessionConfigBase, config_from_dict
from mjx_myoassist.errors import SB3ImportError
from mjx_myoassist.ppo import networks
from mjx_myoassist.ppo.normalizer import RunningStats

FORMAT = "myoassist_sb3"
SESSION_CONFIG = "session_config.json"
MODEL_ZIP = re.compile(r"model_(\d+)\.zip")

# torch's storage classes (as torch.save names them) -> numpy element type
STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}

# network of this project -> module path of the same network in MyoAssist's policies
TORCH_MODULES = {
    "human_actor": "policy_network.human_policy_net",  # HumanExoActorCriticPolicy
    "exo_actor": "policy_network.exo_policy_net",
    "pi": "policy_network.policy_net",  # HumanActorCriticPolicy: one actor over the whole observation
    "critic": "policy_network.value_net",
}
SINGLE_ACTOR_KEY = "policy_network.policy_net.0.weight"


# ----------------------------------------------------------------------------- torch zip-pickle


def _rebuild_tensor(
    storage: np.ndarray, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: Any
) -> np.ndarray:
    """torch._utils._rebuild_tensor_v2 for a plain CPU tensor: a strided view of its storage, copied."""
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride) or offset < 0 or min(stride, default=0) < 0 or min(size, default=1) < 0:
        raise SB3ImportError(f"a tensor has an invalid layout (offset {offset}, size {size}, stride {stride}).")
    native = storage.dtype.newbyteorder("=")
    if 0 in size:
        return np.zeros(size, native)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if last >= storage.size:
        raise SB3ImportError(f"a tensor of size {size} reaches past its storage of {storage.size} elements.")
    strides = tuple(s * storage.itemsize for s in stride)
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=size, strides=strides, writeable=False)
    return view.astype(native)


class _StateDictUnpickler(pickle.Unpickler):
    """Unpickles a state dict: OrderedDicts of tensors only; storages come from ``read_storage``."""

    def __init__(self, data: bytes, read_storage: Callable[[str, np.dtype, int], np.ndarray]):
        super().__init__(io.BytesIO(data))
        self._read_storage = read_storage

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return np.dtype(STORAGE_DTYPES[name])
        raise SB3ImportError(
            f"policy.pth refers to '{module}.{name}', which a plain tensor state dict never contains; it is not "
            "loaded (unpickling it could run code). Re-save the policy's state_dict() with torch.save."
        )

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], np.dtype)):
            raise SB3ImportError(f"policy.pth has an unsupported storage reference {pid!r}.")
        _, dtype, key, _location, numel = pid
        return self._read_storage(str(key), dtype, int(numel))


def _storage_reader(archive: zipfile.ZipFile, prefix: str) -> Callable[[str, np.dtype, int], np.ndarray]:
    names = set(archive.namelist())
    order = archive.read(prefix + "byteorder").decode().strip() if prefix + "byteorder" in names else "little"
    if order not in ("little", "big"):
        raise SB3ImportError(f"policy.pth has an unknown byte order '{order}'.")
    cache: dict[str, np.ndarray] = {}

    def read(key: str, dtype: np.dtype, numel: int) -> np.ndarray:
        if key not in cache:
            name = f"{prefix}data/{key}"
            if name not in names:
                raise SB3ImportError(f"policy.pth lacks the tensor data '{name}'.")
            raw = archive.read(name)
            typed = dtype.newbyteorder("<" if order == "little" else ">")
            if len(raw) < numel * typed.itemsize:
                raise SB3ImportError(
                    f"policy.pth tensor data '{name}' has {len(raw)} bytes, needs {numel * typed.itemsize}."
                )
            cache[key] = np.frombuffer(raw, typed, count=numel)
        return cache[key]

    return read


def read_state_dict(pth: bytes, source: str = "policy.pth") -> dict[str, np.ndarray]:
    """The tensors of a ``torch.save``-d state dict (torch >= 1.6 zip format) as numpy arrays, without torch."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(pth))
    except zipfile.BadZipFile as err:
        raise SB3ImportError(
            f"{source} is not a PyTorch zip archive (torch >= 1.6 writes one); it is corrupted or was saved by a "
            "very old torch. Re-save it with a recent torch: torch.save(torch.load(p), p)."
        ) from err
    pickles = [n for n in archive.namelist() if n == "data.pkl" or n.endswith("/data.pkl")]
    if len(pickles) != 1:
        raise SB3ImportError(f"{source} should hold one '<name>/data.pkl', found {pickles}.")
    prefix = pickles[0][: -len("data.pkl")]
    try:
        state = _StateDictUnpickler(archive.read(pickles[0]), _storage_reader(archive, prefix)).load()
    except SB3ImportError:
        raise
    except Exception as err:  # any failure to parse these bytes means a damaged file
        raise SB3ImportError(f"{source} is corrupted ({type(err).__name__}: {err}).") from err
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, np.ndarray) for k, v in state.items()
    ):
        raise SB3ImportError(f"{source} is not a state dict of named tensors.")
    return dict(state)


def read_sb3_zip(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(policy state dict, the ``data`` JSON) of an SB3 model zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            missing = sorted({"data", "policy.pth"} - set(archive.namelist()))
            if missing:
                raise SB3ImportError(
                    f"'{path}' is not a complete Stable-Baselines3 model zip: it lacks {missing}. It is truncated or "
                    "corrupted, or was not written by SB3's model.save."
                )
            data, pth = json.loads(archive.read("data")), archive.read("policy.pth")
    except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SB3ImportError(
            f"'{path}' is not a readable Stable-Baselines3 model zip ({err}): it is truncated or corrupted. "
            "Copy it again from the MyoAssist session."
        ) from err
    return read_state_dict(pth, f"{path}:policy.pth"), data


# ----------------------------------------------------------------------------- MyoAssist policy -> ours


def _custom_policy_params(data: dict[str, Any], state: dict[str, np.ndarray], path: Path) -> CustomPolicyParams:
    custom = (data.get("policy_kwargs") or {}).get("custom_policy_params")
    if not isinstance(custom, dict) or "net_arch" not in custom:
        raise SB3ImportError(
            f"'{path}' has no policy_kwargs.custom_policy_params.net_arch: it is an SB3 model but not one of "
            "MyoAssist's policies (HumanExoActorCriticPolicy or HumanActorCriticPolicy)."
        )
    info = {} if SINGLE_ACTOR_KEY in state else custom.get("net_indexing_info") or {}
    return CustomPolicyParams(
        net_arch=custom["net_arch"],
        net_indexing_info=info,
        log_std_init=float(custom.get("log_std_init", 0.0)),
        activation="tanh",
        actor_output_activation="tanh",
    )


def _space_size(data: dict[str, Any], key: str, path: Path) -> int:
    shape = (data.get(key) or {}).get("_shape")
    if not (isinstance(shape, list) and len(shape) == 1):
        raise SB3ImportError(f"'{path}' data has no 1-D {key} shape (got {shape!r}).")
    return int(shape[0])


def _dense_layers(state: dict[str, np.ndarray], module: str, used: set[str]) -> dict[str, dict[str, np.ndarray]]:
    """torch ``nn.Sequential`` Linear layers under ``module`` as flax Dense_i params (kernel = weight.T)."""
    indices = sorted(int(m.group(1)) for k in state if (m := re.fullmatch(re.escape(module) + r"\.(\d+)\.weight", k)))
    layers = {}
    for i, index in enumerate(indices):
        weight, bias = f"{module}.{index}.weight", f"{module}.{index}.bias"
        if bias not in state:
            raise SB3ImportError(f"policy.pth has {weight} but no {bias}.")
        layers[f"Dense_{i}"] = {"kernel": state[weight].T, "bias": state[bias]}
        used.update((weight, bias))
    return layers


def params_from_state_dict(state: dict[str, np.ndarray], layout: networks.NetworkLayout) -> Any:
    """This project's ActorCritic params holding a MyoAssist policy's weights (shapes checked against ``layout``)."""
    used = {"log_std"}
    tree: dict[str, Any] = {"log_std": state.get("log_std")}
    for name in [a.name for a in layout.actors] + ["critic"]:
        if name not in TORCH_MODULES:
            raise SB3ImportError(
                f"net_indexing_info names a network '{name}'; MyoAssist's policies only have human_actor and exo_actor."
            )
        tree[name] = _dense_layers(state, TORCH_MODULES[name], used)
    unused = sorted(set(state) - used)
    if unused:
        raise SB3ImportError(f"policy.pth has tensors no network here takes: {unused}. Is it a MyoAssist policy?")
    template = networks.init_params(layout, jax.random.PRNGKey(0))
    expected = {jax.tree_util.keystr(p): np.shape(x) for p, x in jax.tree_util.tree_leaves_with_path(template)}
    got = {jax.tree_util.keystr(p): np.shape(x) for p, x in jax.tree_util.tree_leaves_with_path({"params": tree})}
    if got != expected:
        wrong = sorted(k for k in expected.keys() | got.keys() if expected.get(k) != got.get(k))
        raise SB3ImportError(
            "policy.pth does not fit its own net_arch/net_indexing_info: "
            + ", ".join(f"{k} is {got.get(k)}, expected {expected.get(k)}" for k in wrong)
        )
    return jax.tree.map(lambda x: jnp.asarray(x, jnp.float32), {"params": tree})


def with_myoassist_head(config: TrainSessionConfigBase) -> TrainSessionConfigBase:
    """``config`` with MyoAssist's policy head: tanh after every layer, raw (unnormalized) observations."""
    custom = dataclasses.replace(
        config.policy_params.custom_policy_params, activation="tanh", actor_output_activation="tanh"
    )
    return dataclasses.replace(
        config,
        policy_params=dataclasses.replace(config.policy_params, custom_policy_params=custom),
        ppo_params=dataclasses.replace(config.ppo_params, normalize_observation=False),
    )


def session_config_file(model_zip: Path) -> Path | None:
    """The ``session_config.json`` of the MyoAssist session around ``<session>/trained_models/model_*.zip``."""
    session = model_zip.resolve().parents[1] if model_zip.parent.name == "trained_models" else None
    return session / SESSION_CONFIG if session is not None and (session / SESSION_CONFIG).is_file() else None


def session_config(model_zip: Path) -> TrainSessionConfigBase | None:
    """The config of the MyoAssist session around ``<session>/trained_models/model_*.zip``, with its head
    (None, with a warning, when it does not load here)."""
    path = session_config_file(model_zip)
    if path is None:
        return None
    try:
        config = config_from_dict(json.loads(path.read_text()), path.parent)
    except (ConfigError, json.JSONDecodeError) as err:
        warnings.warn(f"{path} does not load here ({err}); the policy is imported without its config.", stacklevel=2)
        return None
    return with_myoassist_head(config)


def latest_model_zip(session: Path) -> Path | None:
    """The ``trained_models/model_<steps>.zip`` of a MyoAssist session with the most steps (None if none)."""
    found = [
        (int(m.group(1)), p)
        for p in (session / "trained_models").glob("model_*.zip")
        if (m := MODEL_ZIP.fullmatch(p.name))
    ]
    return max(found)[1] if found else None


def import_policy(
    path: Path, with_config: bool = True
) -> tuple[networks.NetworkLayout, Any, RunningStats, dict[str, Any]]:
    """(layout, params, normalizer, meta) of a MyoAssist SB3 model zip; see :func:`mjx_myoassist.ppo.policy.
    restore_policy`.  ``with_config``: add the config of the session around it (:func:`session_config`)."""
    state, data = read_sb3_zip(path)
    layout = networks.make_layout(
        _custom_policy_params(data, state, path),
        _space_size(data, "observation_space", path),
        _space_size(data, "action_space", path),
    )
    params = params_from_state_dict(state, layout)
    meta: dict[str, Any] = {
        "format": FORMAT,
        "source": str(path),
        "env_steps": int(data.get("num_timesteps", 0)),
        "normalize_observation": False,
        "layout": dataclasses.asdict(layout),
    }
    config = session_config(path) if with_config else None
    if config is not None:
        meta["config"] = config.to_dict()
    return layout, params, RunningStats.create(layout.observation_size), meta
