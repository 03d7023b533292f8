"""The video's camera keeps the walker in frame: the pelvis and the body's top and bottom, projected through
the scene camera MuJoCo builds for each frame, stay inside the image over a whole replay (no GL needed)."""

import mujoco
import numpy as np
import pytest

from mjx_myoassist.analysis import video
from tests.conftest import fixture_path

PUBLISHED = "myoassist/docs/assets/tutorial_rl_models/train_session_20250728-161129_tutorial_partial_obs"
MODEL = "myoassist/models/22muscle_2D/myoLeg22_2D_TUTORIAL.xml"
WIDTH, HEIGHT = 160, 120
STEPS = 75  # 2.5 s: a camera that stays put has lost the walker by then


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    """MyoAssist's published policy walking for STEPS control steps (CPU MuJoCo)."""
    from mjx_myoassist.analysis.session_report import render_session

    session = fixture_path(f"{PUBLISHED}/session_config.json").parent
    reference = fixture_path("recorded/surrogate_short_reference_gait.npz")
    overrides = ["--config.env_params.reference_data_path", str(reference),
                 "--config.env_params.myoassist_root", str(fixture_path(MODEL).parents[2])]  # fmt: skip
    out = tmp_path_factory.mktemp("analysis")
    traj = render_session(session, out=out, steps=STEPS, video=False, overrides=overrides).trajectory
    assert traj.steps == STEPS and not traj.terminated
    return traj


def projected(traj, model, cameras):
    """[frames, 3 points, (column, row)]: the pelvis, and the body's lowest and highest z above it."""
    scene, option = mujoco.MjvScene(model, maxgeom=2000), mujoco.MjvOption()
    low, high = video.body_extent(traj, model)
    pelvis = model.body("pelvis").id
    out = []
    for t, camera in enumerate(cameras):
        data = traj.mj_data(t)
        mujoco.mjv_updateScene(model, data, option, None, camera, mujoco.mjtCatBit.mjCAT_ALL, scene)
        points = [data.xpos[pelvis], [*data.xpos[pelvis, :2], low], [*data.xpos[pelvis, :2], high]]
        out.append([video.pixel(scene.camera[0], p, WIDTH, HEIGHT) for p in points])
    return np.array(out)


def inside(pixels):
    return (pixels[..., 0] >= 0) & (pixels[..., 0] <= WIDTH) & (pixels[..., 1] >= 0) & (pixels[..., 1] <= HEIGHT)


@pytest.mark.parametrize("cam_type", video.CAM_TYPES)
def test_walker_stays_in_frame(walk, cam_type):
    model = video.render_model(walk)
    pixels = projected(walk, model, video.camera_path(walk, model, cam_type, cam_distance=2.5))
    assert inside(pixels).all(), np.argwhere(~inside(pixels))
    assert walk.qpos[-1, 0] - walk.qpos[0, 0] > 2.0  # the walker did cross more than the image


def test_a_camera_that_stays_put_loses_the_walker(walk):
    """What the published session's video showed before (the test above can fail)."""
    model = video.render_model(walk)
    first = video.camera_path(walk, model, "follow", cam_distance=2.5)[0]
    pixels = projected(walk, model, [first] * len(walk.qpos))
    assert not inside(pixels[-1, 0])


def test_a_short_cam_distance_is_lengthened_to_fit_the_body(walk):
    model = video.render_model(walk)
    camera = video.camera_path(walk, model, "follow", cam_distance=1.0)[0]
    assert camera.distance > 2.0 and camera.elevation == 0.0 and camera.azimuth == 90.0
    with pytest.raises(ValueError, match="cam_type"):
        video.camera_path(walk, model, "orbit", cam_distance=2.5)


def test_the_floor_under_myoassists_ground_plane_is_hidden(walk):
    """MyoAssist's textured ground plane and the MJX edits' floor lie both at z = 0: they would z-fight."""
    model = video.render_model(walk)
    hidden = {model.geom(g).name for g in range(model.ngeom) if model.geom_group[g] == video.HIDDEN_GROUP}
    assert "floor" in hidden and "ground-plane" not in hidden
    assert walk.model.geom_group[walk.model.geom("floor").id] != video.HIDDEN_GROUP  # only the copy


def test_activation_colours():
    rgba = video.activation_rgba(np.array([0.0, 1.0, 2.0]))
    assert rgba[0, 2] > rgba[0, 0] and rgba[1, 0] > rgba[1, 2]  # relaxed blue, active red
    np.testing.assert_allclose(rgba[1], rgba[2])
