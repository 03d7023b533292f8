"""Builds a MyoAssist-format reference gait from recorded kinematics (``python -m mjx_myoassist.reference``).

Input: a MyoAssist reference (``.npz``/``.json``, training or 100-sample segmented form), a
recorded rollout ``.npz`` (``qpos`` [T, nq] with ``joint_names`` and ``dt``, as written by
MyoAssist's env or this project), or a table of joint angles (``.csv`` with a header row, or
``.npz`` of 1-D arrays) whose columns are ``<joint>`` or ``q_<joint>`` (``dq_<joint>`` optional)
plus ``time`` (s) or ``--sample-rate``.

The gait cycle is found from upward crossings of one joint's mean (``--cycle auto``: every whole
cycle, averaged over phase) or given in seconds (``--cycle 1.2:2.3``); it is tiled to
``--duration`` seconds with ``pelvis_tx`` advancing by the mean stride, so the reference walks on
without a jump.  Velocities are the derivative of the tiled positions.  Output: MyoAssist's
training format (``series_data`` of ``q_<joint>``/``dq_<joint>``, ``metadata.sample_rate``).

    python -m mjx_myoassist.reference recorded/policy_gait_reference.npz --duration 60 --out long.npz
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mjx_myoassist.envs.reference import ReferenceError, ReferenceGait, load_reference

# the 2D leg's reference joints in MyoAssist's presets (reference_data_keys)
MYOASSIST_KEYS = (
    "ankle_angle_l", "ankle_angle_r", "hip_flexion_l", "hip_flexion_r", "knee_angle_l", "knee_angle_r",
    "pelvis_tilt", "pelvis_tx", "pelvis_ty",
)  # fmt: skip
TRANSLATIONS = ("pelvis_tx", "pelvis_ty", "pelvis_tz")  # metres; every other joint is an angle
MAX_ANGLE_RAD = 2 * np.pi  # a joint angle beyond this is not in radians
MAX_PELVIS_HEIGHT_M = 3.0
PHASE_SAMPLES = 100  # samples per cycle of the averaged cycle (MyoAssist's segmented form)
MIN_CYCLE_S = 0.3


@dataclass(frozen=True)
class GaitCycle:
    """One averaged gait cycle: ``q`` [PHASE_SAMPLES, J] at phases i / PHASE_SAMPLES (pelvis_tx from 0)."""

    joints: tuple[str, ...]
    q: np.ndarray
    period: float  # s
    stride: float  # pelvis_tx advance per cycle, m
    cycles: int  # how many recorded cycles were averaged


def _joint_name(column: str) -> str | None:
    """'q_knee_angle_r' or 'knee_angle_r' -> 'knee_angle_r'; velocity and time columns -> None."""
    if column.startswith("dq_") or column.lower() in ("time", "t"):
        return None
    return column[2:] if column.startswith("q_") else column


def _table_from_columns(columns: dict[str, np.ndarray], sample_rate: float | None, path: Path) -> ReferenceGait:
    time = next((np.asarray(columns[k], float) for k in columns if k.lower() in ("time", "t")), None)
    if time is not None:
        steps = np.diff(time)
        if len(steps) == 0 or np.any(steps <= 0):
            raise ReferenceError(f"'{path}': the time column must increase; sort the rows or fix the column.")
        rate = 1.0 / float(np.mean(steps))
    elif sample_rate:
        rate = sample_rate
    else:
        raise ReferenceError(f"'{path}' has no 'time' column: add one (s) or pass --sample-rate HZ.")
    names = {c: _joint_name(c) for c in columns}
    joints = tuple(j for j in names.values() if j)
    if not joints:
        raise ReferenceError(f"'{path}' has no joint columns (named <joint> or q_<joint>).")
    q = np.stack([np.asarray(columns[c], float) for c, j in names.items() if j], axis=1)
    dq = np.gradient(q, 1.0 / rate, axis=0)
    return ReferenceGait(joints, q, dq, rate)


def _read_csv(path: Path, sample_rate: float | None) -> ReferenceGait:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 3:
        raise ReferenceError(f"'{path}' needs a header row and at least two rows of values.")
    header, body = rows[0], rows[1:]
    try:
        values = np.array([[float(x) for x in row] for row in body if row])
    except ValueError as err:
        raise ReferenceError(f"'{path}': every cell below the header must be a number ({err}).") from err
    if values.shape[1] != len(header):
        raise ReferenceError(f"'{path}': rows have {values.shape[1]} values, the header names {len(header)}.")
    return _table_from_columns({h.strip(): values[:, i] for i, h in enumerate(header)}, sample_rate, path)


def _read_rollout(data: dict[str, np.ndarray], start_step: int, path: Path) -> ReferenceGait:
    names = [str(n) for n in data["joint_names"]]
    qpos = np.asarray(data["qpos"], float)[start_step:]
    if qpos.shape[1] != len(names):
        raise ReferenceError(f"'{path}': qpos has {qpos.shape[1]} columns but joint_names {len(names)}.")
    if len(qpos) < 2:
        raise ReferenceError(f"'{path}' has fewer than two steps after --start-step {start_step}.")
    rate = 1.0 / float(data["dt"])
    return ReferenceGait(tuple(names), qpos, np.gradient(qpos, 1.0 / rate, axis=0), rate)


def read_kinematics(path: str | Path, sample_rate: float | None = None, start_step: int = 0) -> ReferenceGait:
    """Joint positions (and velocities) of any accepted input (see the module doc)."""
    path = Path(path)
    if not path.is_file():
        raise ReferenceError(f"'{path}' not found.")
    if path.suffix == ".csv":
        return _read_csv(path, sample_rate)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=True) as f:
            data = {k: f[k] for k in f.files}
        if "qpos" in data and "joint_names" in data and "dt" in data:
            return _read_rollout(data, start_step, path)
        if "series_data" not in data and not any(k.startswith("dq_") for k in data):
            return _table_from_columns({k: v for k, v in data.items() if np.ndim(v) == 1}, sample_rate, path)
    if path.suffix not in (".npz", ".json"):
        raise ReferenceError(f"'{path}' must be .npz, .json or .csv.")
    return load_reference(path)


def convert(ref: ReferenceGait, keys: Sequence[str], degrees: bool, renames: dict[str, str]) -> ReferenceGait:
    """Renamed, only ``keys`` in that order, angles in radians; checks units and names (errors name the fix)."""
    joints = tuple(renames.get(j, j) for j in ref.joints)
    missing = [k for k in keys if k not in joints]
    if missing:
        raise ReferenceError(
            f"joints {missing} are missing; the input has {list(joints)}. Rename columns with "
            "--rename OLD=NEW, or choose the joints with --joints."
        )
    idx = [joints.index(k) for k in keys]
    q, dq = ref.q[:, idx].copy(), ref.dq[:, idx].copy()
    angles = np.array([k not in TRANSLATIONS for k in keys])
    if degrees:
        q[:, angles], dq[:, angles] = np.deg2rad(q[:, angles]), np.deg2rad(dq[:, angles])
    elif angles.any() and np.abs(q[:, angles]).max() > MAX_ANGLE_RAD:
        worst = keys[int(np.argmax(np.abs(q).max(axis=0) * angles))]
        raise ReferenceError(f"'{worst}' reaches {np.abs(q).max(axis=0)[keys.index(worst)]:.1f}: angles look like "
                             "degrees; pass --angle-units deg.")  # fmt: skip
    if "pelvis_ty" in keys and np.abs(q[:, keys.index("pelvis_ty")]).max() > MAX_PELVIS_HEIGHT_M:
        raise ReferenceError("pelvis_ty exceeds 3 m: translations must be in metres (convert mm or cm first).")
    return ReferenceGait(tuple(keys), q, dq, ref.sample_rate)


def cycle_starts(signal: np.ndarray, rate: float) -> np.ndarray:
    """Times (s) where ``signal`` crosses its mean upwards, linearly interpolated, at least MIN_CYCLE_S apart."""
    x = signal - signal.mean()
    i = np.nonzero((x[:-1] < 0) & (x[1:] >= 0))[0]
    times = (i + x[i] / (x[i] - x[i + 1])) / rate
    kept: list[float] = []
    for t in times:
        if not kept or t - kept[-1] >= MIN_CYCLE_S:
            kept.append(float(t))
    return np.asarray(kept)


def average_cycle(ref: ReferenceGait, starts: np.ndarray) -> GaitCycle:
    """The phase average of the cycles between consecutive ``starts`` (s)."""
    if len(starts) < 2:
        raise ReferenceError(
            "fewer than one whole gait cycle found: give a longer recording, another --cycle-joint, "
            "or the cycle in seconds with --cycle START:END."
        )
    t = np.arange(ref.length) / ref.sample_rate
    phase = np.arange(PHASE_SAMPLES) / PHASE_SAMPLES
    tx = ref.joints.index("pelvis_tx") if "pelvis_tx" in ref.joints else None
    cycles, strides = [], []
    for a, b in zip(starts[:-1], starts[1:], strict=False):
        at = a + phase * (b - a)
        q = np.stack([np.interp(at, t, ref.q[:, j]) for j in range(len(ref.joints))], axis=1)
        if tx is not None:
            end = np.interp(b, t, ref.q[:, tx])
            strides.append(end - q[0, tx])
            q[:, tx] -= q[0, tx]
        cycles.append(q)
    return GaitCycle(
        ref.joints, np.mean(cycles, axis=0), float(np.mean(np.diff(starts))),
        float(np.mean(strides)) if strides else 0.0, len(cycles),
    )  # fmt: skip


def tile(cycle: GaitCycle, duration: float, rate: float) -> ReferenceGait:
    """``duration`` seconds of the cycle repeated at ``rate`` Hz; pelvis_tx continues stride after stride."""
    n = int(round(duration * rate))
    if n < 2:
        raise ReferenceError(f"--duration {duration} s at {rate:g} Hz gives fewer than two samples.")
    t = np.arange(n) / rate
    cycles, phase = np.divmod(t / cycle.period, 1.0)
    grid = np.arange(PHASE_SAMPLES + 1) / PHASE_SAMPLES
    closed = np.vstack([cycle.q, cycle.q[:1]])  # phase 1 is phase 0 of the next cycle
    tx = cycle.joints.index("pelvis_tx") if "pelvis_tx" in cycle.joints else None
    if tx is not None:
        closed[-1, tx] = cycle.stride
    q = np.stack([np.interp(phase, grid, closed[:, j]) for j in range(len(cycle.joints))], axis=1)
    if tx is not None:
        q[:, tx] += cycles * cycle.stride
    return ReferenceGait(cycle.joints, q, np.gradient(q, 1.0 / rate, axis=0), float(rate))


def save(ref: ReferenceGait, path: str | Path, metadata: dict) -> Path:
    """Writes MyoAssist's training format (``.npz`` or ``.json``)."""
    path = Path(path)
    series = {}
    for j, name in enumerate(ref.joints):
        series[f"q_{name}"], series[f"dq_{name}"] = ref.q[:, j], ref.dq[:, j]
    meta = {"sample_rate": ref.sample_rate, "data_length": ref.length, **metadata}
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps({"metadata": meta, "series_data": {k: v.tolist() for k, v in series.items()}}))
    elif path.suffix == ".npz":
        np.savez(path, metadata=np.array(meta, dtype=object), series_data=np.array(series, dtype=object))
    else:
        raise ReferenceError(f"--out '{path}' must end in .npz or .json.")
    return path


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mjx_myoassist.reference", description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="MyoAssist reference, recorded rollout .npz, or .csv/.npz of joint angles")
    parser.add_argument("--out", required=True, help="output reference (.npz or .json, MyoAssist format)")
    parser.add_argument("--duration", type=float, default=None, help="tile the cycle to this many seconds")
    parser.add_argument("--cycle", default="auto", help="'auto' (average every whole cycle), 'START:END' in "
                        "seconds, or 'none' (no tiling: convert and resample only)")  # fmt: skip
    parser.add_argument("--cycle-joint", default="hip_flexion_r", help="joint whose mean crossings mark cycles")
    parser.add_argument(
        "--sample-rate",
        type=float,
        default=None,
        help="input rate (Hz) when it has no time column; also the output rate unless --out-rate",
    )
    parser.add_argument("--out-rate", type=float, default=None, help="output sample rate in Hz (default: input's)")
    parser.add_argument("--joints", default=",".join(MYOASSIST_KEYS), help="comma-separated joints to keep")
    parser.add_argument("--rename", action="append", default=[], metavar="OLD=NEW", help="rename an input joint")
    parser.add_argument("--angle-units", choices=("rad", "deg"), default="rad", help="units of the input angles")
    parser.add_argument("--start-step", type=int, default=0, help="rollout steps to skip (the start transient)")
    return parser.parse_args(argv)


def _renames(items: Sequence[str]) -> dict[str, str]:
    bad = [item for item in items if item.count("=") != 1]
    if bad:
        raise ReferenceError(f"--rename takes OLD=NEW; got {bad}.")
    return dict(item.split("=") for item in items)


def _cycle(ref: ReferenceGait, spec: str, joint: str) -> GaitCycle:
    if spec == "auto":
        if joint not in ref.joints:
            raise ReferenceError(f"--cycle-joint '{joint}' is not among {list(ref.joints)}.")
        return average_cycle(ref, cycle_starts(ref.q[:, ref.joints.index(joint)], ref.sample_rate))
    try:
        a, b = (float(x) for x in spec.split(":"))
    except ValueError as err:
        raise ReferenceError(f"--cycle takes 'auto', 'none' or START:END in seconds; got '{spec}'.") from err
    end = (ref.length - 1) / ref.sample_rate
    if not 0 <= a < b <= end:
        raise ReferenceError(f"--cycle {spec}: need 0 <= START < END <= {end:.3f} s (the recording's length).")
    return average_cycle(ref, np.array([a, b]))


def build(args: argparse.Namespace) -> tuple[ReferenceGait, dict]:
    """The reference and its metadata for parsed command-line ``args``."""
    raw = read_kinematics(args.input, args.sample_rate, args.start_step)
    keys = [k.strip() for k in args.joints.split(",") if k.strip()]
    ref = convert(raw, keys, args.angle_units == "deg", _renames(args.rename))
    rate = args.out_rate or ref.sample_rate
    meta = {"source": str(args.input), "made_by": "python -m mjx_myoassist.reference"}
    if args.cycle == "none":
        n = int(round((ref.length - 1) / ref.sample_rate * rate)) + 1
        t_old, t_new = np.arange(ref.length) / ref.sample_rate, np.arange(n) / rate
        q = np.stack([np.interp(t_new, t_old, ref.q[:, j]) for j in range(len(keys))], axis=1)
        dq = np.stack([np.interp(t_new, t_old, ref.dq[:, j]) for j in range(len(keys))], axis=1)
        return ReferenceGait(ref.joints, q, dq, float(rate)), meta
    cycle = _cycle(ref, args.cycle, args.cycle_joint)
    duration = args.duration or (ref.length - 1) / ref.sample_rate
    meta.update(cycle_period_s=cycle.period, stride_m=cycle.stride, cycles_averaged=cycle.cycles,
                speed_mps=cycle.stride / cycle.period, duration_s=duration)  # fmt: skip
    return tile(cycle, duration, rate), meta


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        ref, meta = build(args)
        out = save(ref, args.out, meta)
    except ReferenceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    extra = f", cycle {meta['cycle_period_s']:.3f} s x {meta['cycles_averaged']} averaged, " \
            f"{meta['speed_mps']:.3f} m/s" if "cycle_period_s" in meta else ""  # fmt: skip
    print(f"{out}: {ref.length} samples at {ref.sample_rate:g} Hz ({ref.length / ref.sample_rate:.2f} s){extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
