"""The touch-sensor replica equals MuJoCo's own touch sensors (numpy and JAX)."""

from __future__ import annotations

import jax.numpy as jnp
import mujoco
import numpy as np
import pytest

from mjx_myoassist.envs.touch import TouchSites, _ray_hits_box, touch_forces
from mjx_myoassist.models.edits import _sensor_targets
from mjx_myoassist.models.myoassist import original_spec
from tests.conftest import fixture_path


def test_ray_box_cases():
    half = np.array([1.0, 1.0, 1.0])
    origins = np.array([[0, 0, 0], [0, 0, 2], [0, 0, 2], [0, 2, 0], [0, 1, 0]], dtype=float)
    directions = np.array([[0, 0, 1], [0, 0, -1], [0, 0, 1], [1, 0, 0], [1, 0, 0]], dtype=float)
    hits = _ray_hits_box(np, origins, directions, half)
    assert hits.tolist() == [True, True, False, False, True]


@pytest.fixture(scope="module")
def recorded_model():
    xml = fixture_path("myoassist/models/22muscle_2D/myoLeg22_2D_TUTORIAL.xml")
    spec = original_spec(xml, 1 / 1200)
    spec.body("torso").quat = [1, 0, 0, -0.13]
    model = spec.compile()
    rollout = np.load(fixture_path("recorded/rollout_partial_obs_seed0.npz"))
    return model, rollout


@pytest.mark.parametrize("xp", [np, jnp], ids=["numpy", "jax"])
def test_replica_equals_mujoco_touch_sensors(recorded_model, xp):
    """At every 5th recorded state of MyoAssist's rollout (mesh contacts, plane + height field)."""
    model, rollout = recorded_model
    targets = {k: tuple(v.split()) for k, v in _sensor_targets(model).items()}
    sites = TouchSites.from_model(model, targets)
    data, wrench = mujoco.MjData(model), np.zeros(6)
    compared = 0
    for t in range(0, len(rollout["qpos"]), 5):
        data.qpos, data.qvel, data.act, data.ctrl = (rollout[k][t] for k in ("qpos", "qvel", "act", "ctrl"))
        mujoco.mj_forward(model, data)
        normal = np.zeros(data.ncon)
        for i in range(data.ncon):
            mujoco.mj_contactForce(model, data, i, wrench)
            normal[i] = wrench[0]
        contact = data.contact
        args = [
            data.site_xpos,
            data.site_xmat,
            normal,
            contact.pos,
            contact.frame[:, :3],
            model.geom_bodyid[contact.geom],
        ]
        mine = touch_forces(xp, sites, *[xp.asarray(a) for a in args])
        expected = data.sensordata[[model.sensor(n).id for n in sites.names]]
        np.testing.assert_allclose(np.asarray(mine), expected, rtol=1e-5, atol=1e-3)
        compared += int((expected > 0).sum())
    assert compared > 50  # the feet were loaded in many of those states
