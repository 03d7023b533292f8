"""The reference tool: MyoAssist-format references built from recorded gait (python -m mjx_myoassist.reference)."""

from pathlib import Path

import numpy as np
import pytest

from mjx_myoassist import reference as tool
from mjx_myoassist.envs.reference import ReferenceError, load_reference, resample
from tests.conftest import fixture_path

POLICY_GAIT = "recorded/policy_gait_reference.npz"
ROLLOUT = "recorded/rollout_partial_obs_seed0.npz"
PACKAGED_TOES = Path(tool.__file__).parent / "data" / "policy_gait_60s_mtp_reference.npz"


def build(*argv):
    return tool.build(tool.parse_args([*argv, "--out", "unused.npz"]))


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "long.npz"
    assert tool.main([str(fixture_path(POLICY_GAIT)), "--duration", "60", "--out", str(out)]) == 0
    return load_reference(out), np.load(out, allow_pickle=True)["metadata"].item()


def test_tiled_reference_is_long_continuous_and_periodic(long_reference):
    ref, meta = long_reference
    assert ref.length == 1800 and ref.sample_rate == 30.0
    tx = ref.q[:, ref.joints.index("pelvis_tx")]
    steps = np.diff(tx)
    assert steps.min() > 0 and steps.max() < 2.0 * steps.mean()  # walks on, no jump at the cycle seams
    assert meta["speed_mps"] == pytest.approx(tx[-1] / (59.0 + 29 / 30), rel=0.02)
    period = round(meta["cycle_period_s"] * 30)  # samples per cycle (about 33)
    knee = ref.q[:, ref.joints.index("knee_angle_r")]
    # one cycle later the knee is where it was, to the sub-sample phase offset
    assert np.abs(knee[period : period + 200] - knee[:200]).max() < 0.15


def test_cycle_matches_the_recorded_gait(long_reference):
    ref, meta = long_reference
    recorded = load_reference(fixture_path(POLICY_GAIT))
    assert meta["cycles_averaged"] >= 6 and 0.9 < meta["cycle_period_s"] < 1.3
    for joint in ("hip_flexion_r", "knee_angle_l", "ankle_angle_r", "pelvis_ty"):
        mine, theirs = ref.q[:, ref.joints.index(joint)], recorded.q[:, recorded.joints.index(joint)]
        assert mine.max() == pytest.approx(theirs.max(), abs=0.05)
        assert mine.min() == pytest.approx(theirs.min(), abs=0.05)
    dq = ref.dq[:, ref.joints.index("knee_angle_r")]
    np.testing.assert_allclose(dq, np.gradient(ref.q[:, ref.joints.index("knee_angle_r")], 1 / 30))


def test_recorded_rollout_gives_the_same_cycle(long_reference):
    ref, _ = long_reference
    from_rollout, meta = build(str(fixture_path(ROLLOUT)), "--start-step", "30", "--duration", "60")
    assert meta["cycle_period_s"] == pytest.approx(long_reference[1]["cycle_period_s"], rel=0.01)
    np.testing.assert_allclose(from_rollout.q, ref.q, atol=0.02)


def test_packaged_toe_reference_is_the_tool_on_myoassists_rollout():
    """The many-envs preset's reference: the command on MyoAssist's recorded rollout, toe angles included."""
    joints = [*tool.MYOASSIST_KEYS, "mtp_angle_l", "mtp_angle_r"]
    built, meta = build(
        str(fixture_path(ROLLOUT)), "--start-step", "45", "--duration", "60", "--joints", ",".join(joints)
    )
    packaged = load_reference(PACKAGED_TOES)
    assert packaged.joints == tuple(joints) and packaged.length == 1800
    np.testing.assert_allclose(packaged.q, built.q, atol=1e-9)
    assert np.load(PACKAGED_TOES, allow_pickle=True)["metadata"].item()["cycles_averaged"] == meta["cycles_averaged"]
    toes = packaged.q[:, joints.index("mtp_angle_r")]
    assert toes.max() - toes.min() > 0.5  # the toes bend through each push-off


def test_csv_in_degrees_with_time_column_is_converted_and_resampled(tmp_path):
    t = np.arange(0, 6, 0.01)
    hip = 25 * np.sin(2 * np.pi * t / 1.2)
    columns = {"time": t, "hip_flexion_r": hip, "q_knee_angle_r": -30 + 30 * np.cos(2 * np.pi * t / 1.2),
               "pelvis_tx": 1.2 * t, "pelvis_ty": 0.9 + 0.01 * np.sin(4 * np.pi * t / 1.2)}  # fmt: skip
    csv = tmp_path / "gait.csv"
    csv.write_text(",".join(columns) + "\n" + "\n".join(",".join(f"{v[i]:.6f}" for v in columns.values())
                                                        for i in range(len(t))))  # fmt: skip
    out = tmp_path / "ref.json"
    argv = [str(csv), "--joints", "hip_flexion_r,knee_angle_r,pelvis_tx,pelvis_ty", "--angle-units", "deg",
            "--duration", "20", "--out-rate", "30", "--out", str(out)]  # fmt: skip
    assert tool.main(argv) == 0
    ref = resample(load_reference(out), 30)
    assert ref.length == 600
    assert ref.q[:, 0].max() == pytest.approx(np.deg2rad(25), abs=0.01)
    assert load_reference(out).sample_rate == 30.0
    assert ref.q[-1, 2] == pytest.approx(1.2 * (20 - 1 / 30), rel=0.01)


@pytest.mark.parametrize(
    ("argv", "fix"),
    [
        (["--joints", "hip_flexion_r,no_such_joint"], "--rename OLD=NEW"),
        (["--cycle", "1:x"], "START:END"),
        (["--cycle", "0:100"], "the recording's length"),
        (["--cycle-joint", "nope"], "--cycle-joint"),
        (["--rename", "a-b"], "OLD=NEW"),
    ],
)
def test_bad_arguments_name_the_fix(argv, fix):
    with pytest.raises(ReferenceError, match=fix.replace("(", r"\(")):
        build(str(fixture_path(POLICY_GAIT)), *argv)


def test_degrees_without_the_flag_and_missing_time_are_explained(tmp_path):
    table = tmp_path / "deg.npz"
    np.savez(table, time=np.arange(100) / 100, hip_flexion_r=40 * np.sin(np.arange(100) / 10))
    with pytest.raises(ReferenceError, match="--angle-units deg"):
        build(str(table), "--joints", "hip_flexion_r")
    no_time = tmp_path / "no_time.npz"
    np.savez(no_time, hip_flexion_r=np.sin(np.arange(100) / 10))
    with pytest.raises(ReferenceError, match="--sample-rate"):
        build(str(no_time), "--joints", "hip_flexion_r")


def test_too_short_recording_and_bad_output_exit_with_one_line(tmp_path, capsys):
    short = tmp_path / "short.npz"
    np.savez(short, time=np.arange(20) / 100, hip_flexion_r=np.linspace(-0.1, 0.1, 20))
    assert tool.main([str(short), "--joints", "hip_flexion_r", "--out", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "--cycle START:END" in err and "\n" not in err
    assert tool.main([str(fixture_path(POLICY_GAIT)), "--out", str(tmp_path / "x.txt")]) == 2
    assert "must end in .npz or .json" in capsys.readouterr().err
    assert tool.main([str(tmp_path / "missing.csv"), "--out", str(tmp_path / "x.npz")]) == 2
    assert "not found" in capsys.readouterr().err
