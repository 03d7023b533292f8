"""MyoAssist's own model files: the lookup rule, every fixture model through the MJX-ready edits."""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import pytest
from mujoco import mjx

from mjx_myoassist.config import ImitationEnvParams, find_path, load_config, model_search_dirs
from mjx_myoassist.models import load_model, load_original, load_spec
from mjx_myoassist.models.contacts import foot_spheres
from mjx_myoassist.models.edits import FLOOR_NAME, sensor_targets, set_via_point_armature
from mjx_myoassist.models.myoassist import (
    MYOASSIST_MODEL_IDS,
    MyoAssistModelError,
    model_file_for_id,
)
from tests.conftest import fixture_path

TUTORIAL_2D = "models/22muscle_2D/myoLeg22_2D_TUTORIAL.xml"
MISSING_MESHES = {"hmedi", "osl_a"}  # the public MyoAssist repository lost one mesh of each


@pytest.fixture(scope="module")
def root() -> Path:
    return fixture_path("myoassist/" + TUTORIAL_2D).parents[2]


def test_lookup_order_root_then_config_folder_then_cwd(tmp_path, monkeypatch):
    folders = {name: tmp_path / name for name in ("root", "config", "cwd")}
    for folder in folders.values():
        (folder / "models").mkdir(parents=True)
    monkeypatch.chdir(folders["cwd"])
    relative = "models/m.xml"

    def lookup() -> Path | None:
        env = ImitationEnvParams(model_path=relative, myoassist_root=str(folders["root"]))
        return find_path(relative, model_search_dirs(env, [folders["config"]]))

    assert lookup() is None
    for first in ("cwd", "config", "root"):  # each later folder written takes precedence
        (folders[first] / relative).write_text("<mujoco/>")
        assert lookup() == folders[first] / relative
    assert find_path(str(folders["cwd"] / relative), [folders["root"]]) == folders["cwd"] / relative


def test_config_stores_the_found_model_file(root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(fixture_path("test.json"), ["--config.env_params.myoassist_root", str(root)])
    assert config.env_params.model_path == str(root / TUTORIAL_2D)


def test_model_id_needs_a_root(monkeypatch):
    monkeypatch.delenv("MYOASSIST_ROOT", raising=False)
    with pytest.raises(MyoAssistModelError, match="myoassist_root"):
        model_file_for_id("myoleg22_2d_tutorial")


@pytest.mark.parametrize("model_id", MYOASSIST_MODEL_IDS)
def test_every_fixture_model_is_mjx_ready(model_id, root):
    if any(model_id.endswith(device) for device in MISSING_MESHES):
        with pytest.raises(MyoAssistModelError, match="meshes"):
            load_model(model_id, root)
        return
    model = load_model(model_id, root)
    mx = mjx.put_model(model)
    assert mx.nq == model.nq and model.nsensor == 0 and model.npair == 0
    assert set(sensor_targets(model)) >= {"r_foot", "r_toes", "l_foot", "l_toes", "r_knee_sensor"}
    colliding = [g for g in range(model.ngeom) if model.geom_contype[g] or model.geom_conaffinity[g]]
    assert {model.geom_type[g] for g in colliding} == {mujoco.mjtGeom.mjGEOM_SPHERE, mujoco.mjtGeom.mjGEOM_PLANE}
    assert model.geom(FLOOR_NAME).id in colliding and np.all(model.geom_margin == 0)
    assert model.nq == load_original(model_id, root).nq


def _lowest_vertex(model, data, geom) -> np.ndarray:
    mesh = model.geom_dataid[geom]
    verts = model.mesh_vert[model.mesh_vertadr[mesh] : model.mesh_vertadr[mesh] + model.mesh_vertnum[mesh]]
    world = verts @ data.geom_xmat[geom].reshape(3, 3).T + data.geom_xpos[geom]
    return world[np.argmin(world[:, 2])], world


def test_spheres_follow_the_sole_of_the_y_up_feet(root):
    """At the standing pose each foot mesh's spheres reach its lowest point and span it heel to tip."""
    original = load_original("myoleg22_2d_tutorial", root)
    data = mujoco.MjData(original)
    mujoco.mj_resetDataKeyframe(original, data, original.key("stand").id)
    mujoco.mj_kinematics(original, data)
    spheres = foot_spheres(original)
    for geom_name in ("calcn_r_geom_1", "calcn_l_geom_1", "toes_r_geom_1", "toes_l_geom_1"):
        geom = original.geom(geom_name).id
        lowest, world = _lowest_vertex(original, data, geom)
        body = original.geom_bodyid[geom]
        mine = [s for s in spheres if s.source_geom == geom_name]
        centres = np.array([data.xmat[body].reshape(3, 3) @ s.pos + data.xpos[body] for s in mine])
        bottoms = centres[:, 2] - mine[0].radius
        margin = original.geom_margin[geom]
        assert bottoms.min() == pytest.approx(lowest[2] - margin, abs=2e-3), geom_name
        assert centres[:, 0].min() < world[:, 0].min() + 0.02  # heel end (or toe base) covered
        assert centres[:, 0].max() > world[:, 0].max() - 0.02  # front end covered
    heel_r = [s for s in spheres if s.source_geom == "calcn_r_geom_1"]
    assert len(heel_r) >= 4


def test_3d_model_gets_medial_and_lateral_rows(root):
    spheres = [s for s in foot_spheres(load_original("myoleg26_tutorial", root)) if s.source_geom == "calcn_r_geom_1"]
    lateral = np.array([s.pos[2] for s in spheres])  # z is the lateral axis of the y-up foot frame
    assert lateral.max() - lateral.min() > 0.03


def test_edge_rows_sit_at_the_soles_medial_and_lateral_edges(root):
    """On a height field (sole_edges) the planar model's one middle row becomes two, at the mesh's lateral extremes."""
    original = load_original("myoleg22_2d_tutorial", root)
    data = mujoco.MjData(original)
    mujoco.mj_resetDataKeyframe(original, data, original.key("stand").id)
    mujoco.mj_kinematics(original, data)
    geom = original.geom("calcn_r_geom_1").id
    _, world = _lowest_vertex(original, data, geom)
    body = original.geom_bodyid[geom]
    middle = [s for s in foot_spheres(original) if s.source_geom == "calcn_r_geom_1"]
    edges = [s for s in foot_spheres(original, edges=True) if s.source_geom == "calcn_r_geom_1"]
    assert len(edges) == 2 * len(middle)
    lateral = np.array([(data.xmat[body].reshape(3, 3) @ s.pos + data.xpos[body])[1] for s in edges])
    np.testing.assert_allclose(sorted(set(np.round(lateral, 6))), [world[:, 1].min(), world[:, 1].max()], atol=1e-6)


def test_via_point_armature_touches_only_the_via_point_slide_joints(root):
    model = load_spec("myoleg22_2d_tutorial", root).compile()
    invweight0 = model.dof_invweight0.copy()
    names = set_via_point_armature(model, 0.01)
    np.testing.assert_array_equal(model.dof_invweight0, invweight0)  # compile-time constraint scaling kept
    armed = {model.joint(j).name for j in range(model.njnt) if model.dof_armature[model.jnt_dofadr[j]] == 0.01}
    assert armed == set(names) and len(names) == 24  # 2 x (semimem 2, rect_fem 2, vasti 2, gastroc 3, psoas 3)
    assert not any(n.startswith(("knee_", "pelvis_")) for n in names)
    assert np.all(model.body_mass[[model.joint(n).bodyid[0] for n in names]] < 0.01)
