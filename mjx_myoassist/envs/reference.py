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

DEFAULT_REFERENCE = "default_reference_gait.npz"
SEGMENT_SAMPLES = 100


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
