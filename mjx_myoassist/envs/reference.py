"""Reference gait in MyoAssist's format: loading, resampling, the packaged default.

Accepted inputs (``.npz`` or ``.json``):

* MyoAssist training reference: ``series_data`` = {``q_<joint>``: [T], ``dq_<joint>``: [T]}
  and ``metadata`` = {``sample_rate``: Hz}.
* MyoAssist segmented cycle: top-level ``q_<joint>``/``dq_<joint>`` series of 100 samples
  per gait cycle and ``meta_data`` = {``segments_list``: heel-strike times (s)}; the cycle
  duration is the mean interval between heel strikes.

Joint positions use OpenSim conventions (rad, m).  ``pelvis_ty`` given as an offset from
standing height (|mean| < 0.5 m) is shifted by the model's standing pelvis height, and
``pelvis_tx`` is made relative to its first sample, so a reference drives the model
from any origin.
"""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from mjx_myoassist.config import ConfigError

DEFAULT_REFERENCE = "default_reference_gait.npz"
SEGMENT_SAMPLES = 100
SINGLE_CYCLE_TILES = 10  # a single 100-sample gait cycle is repeated this often
DEFAULT_REFERENCE_SPEED = 1.25  # m/s, for references without pelvis_tx
MIN_REFERENCE_SPEED = 0.01  # m/s
_announced: set[tuple[str, int]] = set()


class ReferenceError(ValueError):
    """The reference file is missing, malformed or lacks a joint the config asks for."""


@dataclasses.dataclass(frozen=True)
class ReferenceGait:
    """Joint trajectories ``q``/``dq`` of shape [T, J] sampled at ``sample_rate`` Hz."""

    joints: tuple[str, ...]
    q: np.ndarray
    dq: np.ndarray
    sample_rate: float

    @property
    def length(self) -> int:
        return self.q.shape[0]

    def series(self, joint: str) -> tuple[np.ndarray, np.ndarray]:
        i = self.joints.index(joint)
        return self.q[:, i], self.dq[:, i]


def _load_raw(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ReferenceError(f"Reference file '{path}' not found.")
    if path.suffix == ".json":
        try:
            raw = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ReferenceError(f"Reference '{path}' is not valid JSON: {err}.") from err
        if not isinstance(raw, dict):
            raise ReferenceError(f"Reference '{path}' must hold a JSON object (MyoAssist format).")
        return raw
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=True) as f:
            return {k: (f[k].item() if f[k].dtype == object else f[k]) for k in f.files}
    raise ReferenceError(f"Reference '{path}' must be .npz or .json (MyoAssist format).")


def _sample_rate(raw: dict[str, Any], n: int, path: Path) -> float:
    meta = raw.get("metadata") or {}
    if "sample_rate" in meta:
        return float(meta["sample_rate"])
    segments = (raw.get("meta_data") or {}).get("segments_list")
    if segments is not None and len(segments) > 1 and n == SEGMENT_SAMPLES:
        return n / float(np.mean(np.diff(segments)))
    raise ReferenceError(
        f"Reference '{path}' gives no sample rate: add metadata.sample_rate (Hz), or meta_data.segments_list "
        "(heel-strike times) for a 100-sample gait cycle."
    )


def load_reference(path: str | Path | None = None, standing_pelvis_height: float = 0.0) -> ReferenceGait:
    """Loads a MyoAssist-format reference; ``None`` gives the packaged default."""
    if path is None or str(path) == "":
        with resources.as_file(resources.files("mjx_myoassist.data") / DEFAULT_REFERENCE) as default:
            return load_reference(default, standing_pelvis_height)
    path = Path(path)
    raw = _load_raw(path)
    series = raw.get("series_data", raw)
    joints = tuple(k[2:] for k in series if k.startswith("q_") and f"dq_{k[2:]}" in series)
    if not joints:
        raise ReferenceError(f"Reference '{path}' has no q_<joint>/dq_<joint> series.")
    q = np.stack([np.asarray(series[f"q_{j}"], dtype=np.float64) for j in joints], axis=1)
    dq = np.stack([np.asarray(series[f"dq_{j}"], dtype=np.float64) for j in joints], axis=1)
    if "pelvis_tx" in joints:
        q[:, joints.index("pelvis_tx")] -= q[0, joints.index("pelvis_tx")]
    if "pelvis_ty" in joints and abs(q[:, joints.index("pelvis_ty")].mean()) < 0.5:
        q[:, joints.index("pelvis_ty")] += standing_pelvis_height
    return ReferenceGait(joints, q, dq, _sample_rate(raw, q.shape[0], path))


def resample(ref: ReferenceGait, rate: float) -> ReferenceGait:
    """Linear resampling to ``rate`` Hz as MyoAssist's loader does it.

    ``int(T * rate / sample_rate)`` samples spread evenly from the first sample to the last, so
    the series keeps its end points and its sample spacing is (T - 1) / (n - 1) original samples
    (slightly off ``sample_rate / rate`` when that ratio does not divide T - 1); every index of an
    episode then reads the same reference values as in MyoAssist.
    """
    n = int(ref.length * rate / ref.sample_rate)
    if n < 2:
        raise ReferenceError(
            f"Reference of {ref.length} samples at {ref.sample_rate:g} Hz is shorter than two control steps at "
            f"{rate:g} Hz; give a longer reference."
        )
    x_old = np.arange(ref.length, dtype=np.float64)
    x_new = np.linspace(0.0, ref.length - 1, n)
    interp = lambda a: np.stack([np.interp(x_new, x_old, a[:, j]) for j in range(a.shape[1])], axis=1)  # noqa: E731
    return ReferenceGait(ref.joints, interp(ref.q), interp(ref.dq), float(rate))


def select(ref: ReferenceGait, keys: list[str]) -> ReferenceGait:
    """Only the given joints, in that order (error names the missing ones)."""
    missing = [k for k in keys if k not in ref.joints]
    if missing:
        raise ReferenceError(f"Reference lacks joints {missing}; it has {list(ref.joints)}. Fix reference_data_keys.")
    idx = [ref.joints.index(k) for k in keys]
    return ReferenceGait(tuple(keys), ref.q[:, idx], ref.dq[:, idx], ref.sample_rate)


def tile_cycles(ref: ReferenceGait, cycles: int) -> ReferenceGait:
    """Repeats a single gait cycle ``cycles`` times (pelvis_tx keeps advancing)."""
    q = np.concatenate([ref.q] * cycles)
    if "pelvis_tx" in ref.joints:
        i = ref.joints.index("pelvis_tx")
        stride = ref.q[-1, i] - ref.q[0, i] + ref.dq[-1, i] / ref.sample_rate
        q[:, i] += np.repeat(np.arange(cycles) * stride, ref.length)
    return ReferenceGait(ref.joints, q, np.concatenate([ref.dq] * cycles), ref.sample_rate)


def env_reference(
    path: str, keys: list[str], model_joints: list[str], standing_pelvis_height: float, rate: float
) -> ReferenceGait:
    """The reference a leg env runs: the file at ``path`` ('' = the packaged default), a single gait cycle tiled
    ``SINGLE_CYCLE_TILES`` times, resampled to the control ``rate`` and restricted to ``keys`` (default: its
    joints that the model has).  Prints once per process which file it uses and how long it lasts.

    ``path`` is absolute as the loaded config holds it (:func:`mjx_myoassist.config.load_config`).  Errors are
    ConfigErrors naming the config key to fix.
    """
    try:
        ref = load_reference(path or None, standing_pelvis_height)
    except ReferenceError as err:
        raise ConfigError(f"env_params.reference_data_path: {err}") from err
    if ref.length == SEGMENT_SAMPLES:
        ref = tile_cycles(ref, SINGLE_CYCLE_TILES)
    try:
        ref = select(resample(ref, rate), keys or [j for j in ref.joints if j in model_joints])
    except ReferenceError as err:
        raise ConfigError(f"env_params.reference_data_keys: {err}") from err
    _announce(path, ref)
    return ref


def _announce(path: str, ref: ReferenceGait) -> None:
    shown = path or f"packaged default ({DEFAULT_REFERENCE})"
    if (shown, ref.length) not in _announced:
        _announced.add((shown, ref.length))
        print(f"reference gait: {shown}, {ref.length / ref.sample_rate:.2f} s ({len(ref.joints)} joints)")


def reference_speed(ref: ReferenceGait) -> np.ndarray:
    """Per-sample forward speed of the reference (dq_pelvis_tx), which MyoAssist scales velocities by.

    Samples slower than 1 cm/s are raised to it, so a reference that stops never divides by zero.
    """
    if "pelvis_tx" not in ref.joints:
        return np.full(ref.length, DEFAULT_REFERENCE_SPEED)
    speed = ref.dq[:, ref.joints.index("pelvis_tx")]
    return np.where(np.abs(speed) < MIN_REFERENCE_SPEED, MIN_REFERENCE_SPEED, speed)
