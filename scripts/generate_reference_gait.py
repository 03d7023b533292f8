"""Generates the packaged default reference gait (mjx_myoassist/data/default_reference_gait.npz).

Source of the numbers: normative sagittal-plane joint angles of adult level walking at
self-selected speed, read at gait-cycle landmarks from D. A. Winter, *Biomechanics and
Motor Control of Human Movement*, 4th ed., Wiley 2009 (Appendix A, Tables A.2 and
ch. 4 figures), cross-checked with J. Perry, *Gait Analysis: Normal and Pathological
Function*, 1992.  The landmark values (degrees, by % of the gait cycle from right heel
strike) are interpolated with periodic cubic splines; the left leg is the right leg
shifted by 50 %.  Cycle time 1.1 s at 1.25 m/s (stride 1.375 m).

Output is MyoAssist's training-reference format: ``series_data`` with ``q_<joint>`` and
``dq_<joint>`` (OpenSim conventions: knee_angle negative in flexion), ``metadata`` with
``sample_rate``.  Run: ``python scripts/generate_reference_gait.py``.
"""

from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline

CYCLE_TIME = 1.1  # s
SPEED = 1.25  # m/s
SAMPLES_PER_CYCLE = 100
CYCLES = 10

# (% gait cycle, degrees); sign: hip flexion +, knee flexion +, ankle dorsiflexion +.
HIP = [(0, 30), (10, 28), (30, 10), (50, -10), (60, -5), (75, 20), (87, 32), (100, 30)]
KNEE = [(0, 3), (15, 18), (40, 3), (60, 38), (73, 62), (90, 20), (100, 3)]
ANKLE = [(0, 0), (7, -6), (40, 10), (50, 8), (62, -18), (75, -2), (90, 2), (100, 0)]
PELVIS_TILT_MEAN, PELVIS_TILT_AMP = 0.0, 2.0  # deg, two oscillations per cycle
PELVIS_DROP, PELVIS_BOUNCE = 0.03, 0.012  # m below standing height; vertical excursion


def _periodic(points):
    phase, deg = np.array(points, dtype=float).T
    return CubicSpline(phase / 100.0, np.radians(deg), bc_type="periodic")


def series(phase: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """q and dq/dt (per second) of every joint at gait phases in [0, 1)."""
    rate = 1.0 / CYCLE_TIME
    out = {}
    for side, shift in (("r", 0.0), ("l", 0.5)):
        p = (phase + shift) % 1.0
        for name, spline, sign in (
            ("hip_flexion", _periodic(HIP), 1),
            ("knee_angle", _periodic(KNEE), -1),
            ("ankle_angle", _periodic(ANKLE), 1),
        ):
            out[f"{name}_{side}"] = (sign * spline(p), sign * spline(p, 1) * rate)
    w = 4 * np.pi
    tilt = np.radians(PELVIS_TILT_MEAN + PELVIS_TILT_AMP * np.sin(w * phase))
    dtilt = np.radians(PELVIS_TILT_AMP * w * np.cos(w * phase)) * rate
    out["pelvis_tilt"] = (tilt, dtilt)
    out["pelvis_ty"] = (-PELVIS_DROP - PELVIS_BOUNCE * np.cos(w * phase), PELVIS_BOUNCE * w * np.sin(w * phase) * rate)
    t = phase * CYCLE_TIME
    out["pelvis_tx"] = (SPEED * t, np.full_like(t, SPEED))
    return out


def main() -> None:
    n = SAMPLES_PER_CYCLE * CYCLES
    cycles = np.arange(n) / SAMPLES_PER_CYCLE
    data = series(cycles % 1.0)
    q_tx = SPEED * cycles * CYCLE_TIME
    data["pelvis_tx"] = (q_tx, data["pelvis_tx"][1])
    series_data = {}
    for joint, (q, dq) in data.items():
        series_data[f"q_{joint}"] = q
        series_data[f"dq_{joint}"] = dq
    out = Path(__file__).resolve().parents[1] / "mjx_myoassist" / "data" / "default_reference_gait.npz"
    np.savez(
        out,
        series_data=series_data,
        metadata={"sample_rate": SAMPLES_PER_CYCLE / CYCLE_TIME, "source": "Winter 2009 normative sagittal kinematics"},
    )
    print(f"wrote {out} ({n} samples, {CYCLES} cycles)")


if __name__ == "__main__":
    main()
