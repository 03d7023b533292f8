import json
import os
import subprocess
import sys
import time

import mujoco
import numpy as np
import pytest

from mjx_myoassist.analysis.parity import build_pair
from mjx_myoassist.errors import ConfigError
from mjx_myoassist.models import (
    MODEL_IDS,
    UnknownModelError,
    load_model,
    load_original,
    model_id_from_path,
)
from mjx_myoassist.models.edits import FLOOR_NAME, sensor_targets
from tests.conftest import ROOT

LEGS = ["myolegs22_tutorial", "myolegs22_baseline"]


def names(model, obj, count):
    return [mujoco.mj_id2name(model, obj, i) for i in range(count)]


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_every_model_is_mjx_ready(model_id):
    _, _, mx, dx = build_pair(load_model(model_id))
    assert dx.qpos.shape == (mx.nq,)


def test_model_path_mapping():
    assert model_id_from_path("models/22muscle_2D/myoLeg22_2D_TUTORIAL.xml") == "myolegs22_tutorial"
    assert model_id_from_path("models/22muscle_2D/myoLeg22_2D_BASELINE.xml") == "myolegs22_baseline"
    assert model_id_from_path("humanoid") == "humanoid"
    with pytest.raises(ConfigError, match="env_params.model_path.*DEPHY.*no embedded equivalent.*--myoassist-root"):
        model_id_from_path("models/22muscle_2D/myoLeg22_2D_DEPHY.xml")
    with pytest.raises(ConfigError, match="26-muscle 3D leg has no embedded equivalent"):
        model_id_from_path("models/26muscle_3D/myoLeg26_TUTORIAL.xml")
    with pytest.raises(UnknownModelError, match="Embedded.*MyoAssist checkout"):
        load_model("myolegs99")


@pytest.mark.parametrize("model_id", LEGS)
def test_edits_keep_muscles_tendons_and_couplings(model_id):
    """Muscles, tendons, joint couplings and keyframes are those of the unedited composition."""
    edited, original = load_model(model_id), load_original(model_id)
    A, T, J = mujoco.mjtObj.mjOBJ_ACTUATOR, mujoco.mjtObj.mjOBJ_TENDON, mujoco.mjtObj.mjOBJ_JOINT

    def muscles(m):
        return [n for i, n in enumerate(names(m, A, m.nu)) if m.actuator_dyntype[i] == mujoco.mjtDyn.mjDYN_MUSCLE]

    assert muscles(edited) == muscles(original) and len(muscles(edited)) == 22
    assert names(edited, T, edited.ntendon) == names(original, T, original.ntendon)
    assert names(edited, J, edited.njnt) == names(original, J, original.njnt)
    assert edited.neq == original.neq and np.allclose(edited.eq_data, original.eq_data)
    np.testing.assert_allclose(edited.actuator_gainprm[: len(muscles(edited))], original.actuator_gainprm[:22])
    for key in range(original.nkey):
        lengths = []
        for m in (edited, original):
            d = mujoco.MjData(m)
            mujoco.mj_resetDataKeyframe(m, d, key)
            mujoco.mj_kinematics(m, d)
            mujoco.mj_tendon(m, d)
            lengths.append(d.ten_length.copy())
        np.testing.assert_allclose(lengths[0], lengths[1], atol=1e-9)


def test_exo_motors_only_in_tutorial():
    A = mujoco.mjtObj.mjOBJ_ACTUATOR
    tutorial, baseline = load_model("myolegs22_tutorial"), load_model("myolegs22_baseline")
    assert names(tutorial, A, tutorial.nu)[22:] == ["Exo_R", "Exo_L"]
    assert tutorial.nu == 24 and baseline.nu == 22
    np.testing.assert_allclose(tutorial.actuator_ctrlrange[22:], [[-1, 0], [-1, 0]])
    assert not any(n.startswith("Tutorial_L1") for n in names(baseline, mujoco.mjtObj.mjOBJ_BODY, baseline.nbody))


@pytest.mark.parametrize("model_id", LEGS)
def test_contacts_are_feet_vs_floor(model_id):
    m = load_model(model_id)
    colliding = [i for i in range(m.ngeom) if m.geom_contype[i] or m.geom_conaffinity[i]]
    bodies = {m.body(m.geom_bodyid[i]).name for i in colliding}
    feet = {"world", "calcn_r", "calcn_l", "toes_r", "toes_l"}
    device_feet = (
        {"Tutorial_L1_foot_attachment_r", "Tutorial_L1_foot_attachment_l"} if model_id.endswith("tutorial") else set()
    )
    assert bodies == feet | device_feet
    assert m.npair == 0 and m.nsensor == 0 and np.all(m.geom_margin == 0)
    floor = m.geom(FLOOR_NAME).id
    assert m.geom_type[floor] == mujoco.mjtGeom.mjGEOM_PLANE
    assert m.opt.timestep == pytest.approx(1 / 1200) and m.opt.iterations == 4
    # standing keyframe: the feet rest on the floor (not inside it, not above it)
    d = mujoco.MjData(m)
    mujoco.mj_resetDataKeyframe(m, d, m.key("stand").id)
    mujoco.mj_forward(m, d)
    spheres = [i for i in colliding if i != floor]
    bottoms = d.geom_xpos[spheres, 2] - m.geom_size[spheres, 0]
    assert -0.02 < bottoms.min() < 0.02


def test_replaced_sensors_are_recorded():
    targets = sensor_targets(load_model("myolegs22_tutorial"))
    assert targets["r_foot"] == ("touch", "r_foot_touch") and targets["l_toes"] == ("touch", "l_toes_touch")
    assert targets["r_knee_sensor"] == ("jointlimitfrc", "knee_angle_r")


def test_second_load_is_cached_and_a_copy():
    load_model("myolegs22_tutorial")
    start = time.perf_counter()
    a = load_model("myolegs22_tutorial")
    assert time.perf_counter() - start < 0.2
    a.opt.timestep = 1.0
    assert load_model("myolegs22_tutorial").opt.timestep == pytest.approx(1 / 1200)


def test_build_pair_from_inline_xml():
    m, d, mx, dx = build_pair("<mujoco><worldbody><body><freejoint/><geom size='0.1'/></body></worldbody></mujoco>")
    assert m.nq == 7 and mx.nq == 7 and dx.qpos.shape == (7,)


def test_physics_parity_float64():
    """MJX (float64) and CPU MuJoCo from the same states agree over 1 s (4 cases, contacts included)."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [sys.executable, "-m", "mjx_myoassist.analysis.parity", "model", "--x64", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=True,
    )  # fmt: skip
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(report) == {"standing", "walk_keyframe", "airborne_excited", "standing_excited_exo"}
    for case, errs in report.items():
        # the fall from the walking keyframe is chaotic: after its foot impacts (> 1/3 s) the two
        # solvers' unconverged Newton iterates (4 iterations) separate by ~2e-2 rad within 1 s
        horizon = 3 if case == "walk_keyframe" else 4  # report steps 1, 5, 10 (, 30)
        assert max(errs["qpos"][:horizon]) < 1e-3, (case, errs)
        assert max(errs["qvel"][:horizon]) < 2e-2, (case, errs)
        assert max(errs["act"]) < 1e-6, (case, errs)
        assert max(errs["grf"][:horizon]) < 1.0, (case, errs)  # newtons
    assert max(report["walk_keyframe"]["qpos"]) < 5e-2
