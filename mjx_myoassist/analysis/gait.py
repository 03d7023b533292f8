"""Gait segmentation and metrics from foot forces and pelvis motion.

Heel strike: the total force under a foot (heel + toes) rises through a threshold;
toe-off: it falls through it.  A stride runs from one heel strike to the next of the
same foot.  Metrics follow the usual clinical definitions:

* cadence: steps per minute (both feet), 60 / mean step time;
* stride time and length: between consecutive heel strikes of one foot, length from
  the pelvis displacement;
* stance %: contact time of a foot over its stride time;
* speed: pelvis displacement over elapsed time;
* symmetry index: 100 * |L - R| / (0.5 (L + R)) of stride time and stance %.

They need at least ``MIN_STRIDES`` whole strides of each foot: with fewer (a fall, a short replay) every
stride metric is None and ``missing`` says why (one step of a fall is no cadence).
"""

from __future__ import annotations

import numpy as np

CYCLE_POINTS = 101
MIN_STRIDES = 2  # whole strides per foot that the metrics and the cycle plots need


def contact_events(force: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(heel-strike indices, toe-off indices) of one foot's total force series."""
    on = np.asarray(force) >= threshold
    rising = np.nonzero(on[1:] & ~on[:-1])[0] + 1
    falling = np.nonzero(~on[1:] & on[:-1])[0] + 1
    return rising, falling


def normalize_cycles(signal: np.ndarray, strikes: np.ndarray, points: int = CYCLE_POINTS) -> np.ndarray:
    """[n_cycles, points, ...]: ``signal`` resampled over each heel-strike-to-heel-strike cycle."""
    signal = np.asarray(signal, dtype=float)
    cycles = []
    for start, end in zip(strikes[:-1], strikes[1:], strict=True):
        segment = signal[start : end + 1]
        src = np.linspace(0.0, 1.0, len(segment))
        dst = np.linspace(0.0, 1.0, points)
        flat = segment.reshape(len(segment), -1)
        cycles.append(np.stack([np.interp(dst, src, flat[:, j]) for j in range(flat.shape[1])], -1))
    if not cycles:
        return np.zeros((0, points) + signal.shape[1:])
    return np.stack(cycles).reshape((len(cycles), points) + signal.shape[1:])


def enough_strides(strikes: np.ndarray) -> bool:
    """True when these heel strikes of one foot bound at least ``MIN_STRIDES`` whole strides."""
    return len(strikes) >= MIN_STRIDES + 1


def missing_reason(strikes_right: np.ndarray, strikes_left: np.ndarray, duration: float) -> str | None:
    """Why the stride metrics are missing (None when each foot has ``MIN_STRIDES`` whole strides)."""
    if enough_strides(strikes_right) and enough_strides(strikes_left):
        return None
    counts = ", ".join(f"{side} {max(len(s) - 1, 0)}" for side, s in (("right", strikes_right), ("left", strikes_left)))
    return (
        f"fewer than {MIN_STRIDES} whole strides (heel strike to heel strike) per foot in {duration:.2f} s: "
        f"{counts}; cadence, stride, stance and symmetry need {MIN_STRIDES} per foot"
    )


def _foot_metrics(strikes: np.ndarray, toe_offs: np.ndarray, pelvis_x: np.ndarray, dt: float) -> dict[str, float]:
    if not enough_strides(strikes):
        return {
            "strides": float(max(len(strikes) - 1, 0)),
            "stride_time": np.nan,
            "stride_length": np.nan,
            "stance_percent": np.nan,
        }
    stride_times = np.diff(strikes) * dt
    stride_lengths = np.diff(pelvis_x[strikes])
    stance = []
    for start, end in zip(strikes[:-1], strikes[1:], strict=True):
        offs = toe_offs[(toe_offs > start) & (toe_offs <= end)]
        if len(offs):
            stance.append((offs[0] - start) / (end - start) * 100.0)
    return {
        "strides": float(len(stride_times)),
        "stride_time": float(stride_times.mean()),
        "stride_length": float(stride_lengths.mean()),
        "stance_percent": float(np.mean(stance)) if stance else np.nan,
    }


def _mean_of_sides(right: float, left: float) -> float:
    values = [v for v in (right, left) if np.isfinite(v)]
    return float(np.mean(values)) if values else np.nan


def symmetry_index(left: float, right: float) -> float:
    """100 |L - R| / (0.5 (L + R)); 0 is perfectly symmetric."""
    mean = 0.5 * (left + right)
    return float(100.0 * abs(left - right) / mean) if np.isfinite(mean) and mean else np.nan


def gait_metrics(
    force_right: np.ndarray,
    force_left: np.ndarray,
    pelvis_x: np.ndarray,
    dt: float,
    threshold: float,
    target_speed: float | None = None,
) -> dict[str, float | int | str | None]:
    """Cadence, stride time/length, stance %, speed and symmetry from per-step foot forces; ``missing``
    says why the stride metrics are None (fewer than ``MIN_STRIDES`` whole strides of a foot)."""
    hs_r, to_r = contact_events(force_right, threshold)
    hs_l, to_l = contact_events(force_left, threshold)
    duration = (len(pelvis_x) - 1) * dt
    missing = missing_reason(hs_r, hs_l, duration)
    right = _foot_metrics(hs_r, to_r, pelvis_x, dt)
    left = _foot_metrics(hs_l, to_l, pelvis_x, dt)
    if missing:
        right, left = ({k: (v if k == "strides" else np.nan) for k, v in foot.items()} for foot in (right, left))
    step_times = np.diff(np.unique(np.concatenate([hs_r, hs_l]))) * dt
    out = {
        "missing": missing,
        "cadence_steps_per_min": float(60.0 / step_times.mean()) if not missing else np.nan,
        "speed": float((pelvis_x[-1] - pelvis_x[0]) / duration) if duration > 0 else np.nan,
        "stride_time": _mean_of_sides(right["stride_time"], left["stride_time"]),
        "stride_length": _mean_of_sides(right["stride_length"], left["stride_length"]),
        "symmetry_index_stride_time": symmetry_index(left["stride_time"], right["stride_time"]),
        "symmetry_index_stance": symmetry_index(left["stance_percent"], right["stance_percent"]),
        "heel_strikes_right": int(len(hs_r)),
        "heel_strikes_left": int(len(hs_l)),
    }
    out.update({f"{k}_right": v for k, v in right.items()})
    out.update({f"{k}_left": v for k, v in left.items()})
    if target_speed is not None:
        out["target_speed"] = float(target_speed)
    return {k: _finite_or_none(v) for k, v in out.items()}


def _finite_or_none(value):
    """JSON-safe numbers: NaN/inf (metric undefined, e.g. no complete stride) become None."""
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value
