import json

import numpy as np
import pytest

from mjx_myoassist.envs.reference import ReferenceError, load_reference, resample, select, tile_cycles
from tests.conftest import fixture_path

STANDING = 0.915


def test_default_reference_is_packaged():
    ref = load_reference(None, STANDING)
    assert {"hip_flexion_r", "knee_angle_l", "ankle_angle_r", "pelvis_tx", "pelvis_ty", "pelvis_tilt"} <= set(
        ref.joints
    )
    knee = ref.series("knee_angle_r")[0]
    assert knee.max() <= 0.0 and np.degrees(knee.min()) == pytest.approx(-62, abs=2)  # flexion peak ~62 deg
    assert ref.series("pelvis_ty")[0].mean() == pytest.approx(STANDING - 0.03, abs=0.01)
    assert ref.series("pelvis_tx")[1].mean() == pytest.approx(1.25, abs=1e-6)


def test_myoassist_segmented_cycle():
    ref = load_reference(fixture_path("segmented.npz"), STANDING)
    assert ref.length == 100
    assert ref.sample_rate == pytest.approx(100 / np.mean(np.diff([1.14, 2.26, 3.36, 4.51, 5.61, 6.73, 7.89])))
    assert ref.q[0, ref.joints.index("pelvis_tx")] == 0.0  # made relative
    assert ref.series("pelvis_ty")[0].mean() > 0.8  # offset shifted to the model's height


def test_series_data_npz_and_json_roundtrip(tmp_path):
    t = np.arange(50) / 100.0
    series = {"q_knee_angle_r": -np.sin(t), "dq_knee_angle_r": -np.cos(t)}
    np.savez(tmp_path / "ref.npz", series_data=series, metadata={"sample_rate": 100.0})
    (tmp_path / "ref.json").write_text(
        json.dumps({"series_data": {k: v.tolist() for k, v in series.items()}, "metadata": {"sample_rate": 100.0}})
    )
    for name in ("ref.npz", "ref.json"):
        ref = load_reference(tmp_path / name)
        assert ref.joints == ("knee_angle_r",) and ref.sample_rate == 100.0
        np.testing.assert_allclose(ref.q[:, 0], -np.sin(t))


def test_resample_to_control_rate():
    ref = load_reference(None, STANDING)
    at30 = resample(ref, 30.0)
    assert at30.length == int(ref.length * 30 / ref.sample_rate)
    q, _ = ref.series("hip_flexion_r")
    np.testing.assert_allclose(at30.series("hip_flexion_r")[0][[0, -1]], q[[0, -1]])  # end points kept
    spacing = (ref.length - 1) / (at30.length - 1)  # original samples per control step
    np.testing.assert_allclose(at30.series("hip_flexion_r")[0][10], np.interp(10 * spacing, np.arange(ref.length), q))


def test_resample_matches_myoassist_loader_on_the_surrogate():
    """MyoAssist: int(6000 * 30 / 88.9) = 2025 samples from the first to the last (not 2026 at exactly 30 Hz)."""
    path = fixture_path("recorded/surrogate_short_reference_gait.npz")
    raw = np.load(path, allow_pickle=True)["series_data"].item()["q_knee_angle_r"]
    ref = resample(load_reference(path, STANDING), 30.0)
    assert ref.length == 2025
    expected = np.interp(np.linspace(0, len(raw) - 1, 2025), np.arange(len(raw)), raw)
    np.testing.assert_allclose(ref.series("knee_angle_r")[0], expected, atol=1e-12)


def test_tiling_continues_forward_progress():
    one = load_reference(fixture_path("segmented.npz"), STANDING)
    tiled = tile_cycles(one, 3)
    tx = tiled.series("pelvis_tx")[0]
    assert tiled.length == 300 and np.all(np.diff(tx[95:105]) > 0)


def test_errors_name_the_fix(tmp_path):
    with pytest.raises(ReferenceError, match="not found"):
        load_reference(tmp_path / "missing.npz")
    np.savez(tmp_path / "norate.npz", q_knee_angle_r=np.zeros(20), dq_knee_angle_r=np.zeros(20))
    with pytest.raises(ReferenceError, match="sample_rate"):
        load_reference(tmp_path / "norate.npz")
    with pytest.raises(ReferenceError, match=r"lacks joints \['lumbar_extension'\]"):
        select(load_reference(None, STANDING), ["knee_angle_r", "lumbar_extension"])
