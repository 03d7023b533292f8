import json
import shutil

import numpy as np
import pytest

from mjx_myoassist.config import MYOASSIST_DEFAULT_REFERENCE, load_config
from mjx_myoassist.envs import make
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


# ------------------------------------------------------------------ the user's file is never replaced (issue 19)

SURROGATE = "recorded/surrogate_short_reference_gait.npz"


def _myoassist_tree(root, config_dir, surrogate):
    """A MyoAssist root holding ``rl_train/reference_data/short_reference_gait.npz`` (a copy of the surrogate) and
    MyoAssist's test JSON (which names that file relative to the root) in ``config_dir``."""
    target = root / MYOASSIST_DEFAULT_REFERENCE
    target.parent.mkdir(parents=True)
    shutil.copy(surrogate, target)
    config_dir.mkdir(parents=True, exist_ok=True)
    data = json.loads(fixture_path("test.json").read_text())
    assert data["env_params"]["reference_data_path"] == MYOASSIST_DEFAULT_REFERENCE
    (config_dir / "config.json").write_text(json.dumps(data))
    return target, config_dir / "config.json"


@pytest.mark.parametrize("where", ["config_folder", "myoassist_root", "cwd"])
def test_users_default_named_reference_is_used_when_it_exists(tmp_path, monkeypatch, capsys, where):
    """MyoAssist's own default path that exists (config folder, --myoassist-root, working directory) is the
    user's file, not the packaged gait; the config (so session_config.json) holds its absolute path."""
    surrogate = fixture_path(SURROGATE)
    root = tmp_path / "myoassist"
    config_dir = root if where == "config_folder" else tmp_path / "elsewhere"
    target, config_path = _myoassist_tree(root, config_dir, surrogate)
    overrides = ["--config.env_params.physics_backend", "cpu"]
    if where == "myoassist_root":
        overrides += ["--config.env_params.myoassist_root", str(root)]
    monkeypatch.chdir(root if where == "cwd" else tmp_path)
    config = load_config(config_path, overrides)
    assert config.env_params.reference_data_path == str(target)
    monkeypatch.chdir(tmp_path.parent)
    env = make(config)
    assert env.reference.length == 2025  # the surrogate at 30 Hz; the packaged gait tiles to 330 samples
    assert f"reference gait: {target}, 67.50 s" in capsys.readouterr().out


def test_default_named_reference_that_exists_nowhere_falls_back_with_a_notice(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    data = json.loads(fixture_path("test.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(data))
    config = load_config(tmp_path / "config.json", ["--config.env_params.physics_backend", "cpu"])
    assert config.env_params.reference_data_path == ""  # the packaged default gait
    err = capsys.readouterr().err
    assert "notice: reference_data_path" in err and "packaged default gait" in err and len(err.splitlines()) == 1
    assert make(config).reference.length == 330
