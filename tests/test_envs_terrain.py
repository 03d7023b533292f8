"""Terrain: the heights are MyoAssist's (hfield_manager's meaning of terrain_type/terrain_params).

The expected fields below are written from that meaning, on MyoAssist's grid
(models/terrain_config.xml: 100 rows over y -10..10 m, 500 columns over x -10..90 m,
cells of 0.2 m, start node row 50 / column 50).
"""

import math

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest
from myoassist_terrains.uniform import generate_random_field

from mjx_myoassist.config import ConfigError, load_config
from mjx_myoassist.envs import make, step_with_auto_reset, terrain
from mjx_myoassist.envs.base import prepare_auto_reset
from mjx_myoassist.models.leg import add_height_field, floor_height
from tests.conftest import CONFIGS, FIXTURES, fixture_path

ROWS, COLS = 100, 500
FIELDS = 8  # the several-fields option's strip in these tests
ROUGH_SESSION = "myoassist/docs/assets/tutorial_rl_models/train_session_20250803-154021_rough"


def myoassist_x(col):
    """x (m) of a node column of MyoAssist's field (geom at x = 40, half-length 50)."""
    return -10.0 + col * 100.0 / 499


def myoassist_y(row):
    return -10.0 + row * 20.0 / 99


def expected_safe_zone():
    """Heights scale by min(1, sqrt(dy^4 + dx^4) / 3 m) for the 15 cells either side of node (50, 50)."""
    scale = np.ones((ROWS, COLS))
    for r in range(50 - 15, 50 + 15):
        for c in range(50 - 15, 50 + 15):
            scale[r, c] = min(1.0, math.sqrt(((r - 50) * 0.2) ** 4 + ((c - 50) * 0.2) ** 4) / 3.0)
    return scale


def expected_harmonic(values):
    """Row sines from row 0 plus column sines phased -pi/2 (MyoAssist's offset of 2 pi * 50 is whole turns)."""
    h = np.zeros((ROWS, COLS), np.float32)  # MyoAssist sums into float32
    rows, cols = np.meshgrid(np.arange(ROWS), np.arange(COLS), indexing="ij")
    groups = np.reshape(values, (-1, 4))
    for amp_row, period_row, _, _ in groups:
        h += amp_row * np.sin(2 * np.pi / period_row * rows)
    for _, _, amp_col, period_col in groups:
        h += amp_col * np.sin(2 * np.pi / period_col * cols - 2 * np.pi * 50 - np.pi / 2)
    if h.min() < 0:
        h = h - h.min()
    return h * expected_safe_zone()


def expected_slope(slope):
    """Flat to column 55 (5 past the start), then slope * 0.2 m more per column; no safe zone."""
    rise = np.array([max(c - 55, 0) * slope * 0.2 for c in range(COLS)])
    return np.tile(rise, (ROWS, 1))


def surface(model, x, y):
    """Height of the terrain geom under (x, y), by a ray from above."""
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    geomid = np.zeros(1, np.int32)
    top = 50.0
    dist = mujoco.mj_ray(model, data, np.array([x, y, top]), np.array([0, 0, -1.0]), None, 1, -1, geomid)
    assert model.geom(geomid[0]).name == "terrain"
    return top - dist


def strip_model(heights):
    spec = mujoco.MjSpec()
    add_height_field(spec, terrain.placed(heights))
    return spec.compile()


SAMPLE_NODES = [(49, 50), (50, 49), (50, 52), (55, 45), (40, 60), (49, 56), (50, 100), (30, 239), (99, 40), (0, 150)]


def assert_model_heights(model, expected, segment, scale=1.0):
    """The compiled strip's surface at MyoAssist's nodes of one segment equals ``scale * expected``."""
    for r, c in SAMPLE_NODES:
        x = float(terrain.segment_start(segment)) + myoassist_x(c)
        assert surface(model, x, myoassist_y(r)) == pytest.approx(scale * expected[r, c], abs=2e-5), (r, c)


@pytest.mark.parametrize(
    "params, expected",
    [
        ("0.02 20 0.03 10", lambda: expected_harmonic([0.02, 20, 0.03, 10])),
        ("0.02 20 0.03 10 -0.01 7 0.05 33", lambda: expected_harmonic([0.02, 20, 0.03, 10, -0.01, 7, 0.05, 33])),
    ],
)
def test_harmonic_sinusoidal_is_myoassists(params, expected):
    want = expected()
    values = terrain.parse_params("harmonic_sinusoidal", params)
    np.testing.assert_allclose(terrain.field("harmonic_sinusoidal", values), want, atol=1e-6)
    assert_model_heights(strip_model(terrain.strip("harmonic_sinusoidal", params, curriculum=False)), want, 0)


@pytest.mark.parametrize("slope", [0.1, -0.3])
def test_slope_is_myoassists_rise_over_run(slope):
    want = expected_slope(slope)
    np.testing.assert_allclose(terrain.field("slope", [slope]), want, atol=1e-12)
    model = strip_model(terrain.strip("slope", str(slope), curriculum=False))
    assert_model_heights(model, want, 0)
    rise = surface(model, myoassist_x(200), 0.0) - surface(model, myoassist_x(100), 0.0)
    assert rise / (myoassist_x(200) - myoassist_x(100)) == pytest.approx(slope * 0.998, rel=1e-4)  # 0.2 m / node


def test_random_is_the_packages_draw_with_myoassists_safe_zone():
    heights = terrain.field("random", [0.08], seed=3)
    noise = generate_random_field(ROWS, COLS, 50.0, 10.0, amplitude=0.08, safe_radius=0.0, seed=3)
    np.testing.assert_allclose(heights, noise * expected_safe_zone(), atol=1e-12)
    assert 0.0 <= heights.min() and 0.07 < heights.max() <= 0.08
    assert heights[50, 50] == 0.0 and heights[50, 80] == noise[50, 80]


def test_random_segments_are_new_draws_and_the_model_holds_them():
    heights = terrain.strip("random", "0.05", curriculum=False, seed=1, fields=FIELDS)
    segs = heights.reshape(ROWS, FIELDS, terrain.SEGMENT_COLS)
    assert not np.allclose(segs[:, 0], segs[:, 1])
    window = slice(terrain.FIRST_COL, terrain.FIRST_COL + terrain.SEGMENT_COLS)
    assert 0.0 <= segs.min() and segs.max() <= 0.05
    model = strip_model(heights)
    full = np.zeros((ROWS, COLS))
    full[:, window] = segs[:, 2]
    assert_model_heights(model, full, 2)


@pytest.mark.parametrize("kind", ["flat", "dev"])
def test_flat_and_dev_are_flat_ground_and_ignore_numbers(kind):
    assert not terrain.field(kind, []).any()
    with pytest.warns(UserWarning, match="ignored"):
        terrain.parse_params(kind, "0.05")


def test_curriculum_scales_segments_from_flat_to_full():
    heights = terrain.strip("harmonic_sinusoidal", "0.02 20 0.03 10", curriculum=True, fields=FIELDS)
    segs = heights.reshape(ROWS, FIELDS, terrain.SEGMENT_COLS)
    full = expected_harmonic([0.02, 20, 0.03, 10])[:, terrain.FIRST_COL : terrain.FIRST_COL + terrain.SEGMENT_COLS]
    for k in range(FIELDS):
        np.testing.assert_allclose(segs[:, k], full * k / (FIELDS - 1), atol=1e-6)


@pytest.mark.parametrize(
    "kind, params, match",
    [
        ("random", "", "random': got 0 numbers. Give 1 number 'amplitude'"),
        ("random", "0.1 0.2", "got 2 numbers. Give 1 number 'amplitude' .*e.g. '0.05'"),
        ("random", "-0.1", "amplitude must be > 0"),
        ("slope", "steep", "must be space-separated numbers"),
        ("slope", "", "Give 1 number 'slope' \\(rise over run"),
        ("slope", "nan", "finite"),
        ("harmonic_sinusoidal", "0.02 20", "got 2 numbers. Give groups of 4 numbers"),
        ("harmonic_sinusoidal", "0.02 0 0.03 10", "a period is 0"),
    ],
)
def test_bad_terrain_params_name_the_key_and_the_fix(kind, params, match):
    with pytest.raises(ConfigError, match="env_params.terrain_params") as err:
        terrain.parse_params(kind, params)
    assert err.match(match)


def test_bad_terrain_params_stop_the_env_build():
    overrides = ["--config.env_params.terrain_type", "random", "--config.env_params.terrain_params", "0.1 0.2"]
    with pytest.raises(ConfigError, match="env_params.terrain_params '0.1 0.2' for terrain_type 'random'"):
        make(load_config(CONFIGS / "test.json", overrides))


def test_strip_fills_myoassists_terrain_geom():
    from mjx_myoassist.models.myoassist import myoassist_spec

    spec = myoassist_spec(fixture_path("myoassist/models/22muscle_2D/myoLeg22_2D_TUTORIAL.xml"), 1 / 1200)
    heights = terrain.strip("slope", "0.1", curriculum=False, fields=FIELDS)
    add_height_field(spec, terrain.placed(heights))
    floor = next(g for g in spec.geoms if g.name == "floor")  # spec.geom(name) misses geoms added since compile
    floor.pos = [0, 0, floor_height(heights)]  # as the model builder does
    model = spec.compile()
    assert model.nhfield == 1 and model.hfield_ncol[0] == FIELDS * terrain.SEGMENT_COLS
    assert_model_heights(model, expected_slope(0.1), 1)


def rough_session_model(mjx_ready_edits: bool, *overrides: str):
    """The leg model MyoAssist's rough session builds here, from a MyoAssist root."""
    from mjx_myoassist.models.leg import build_leg_model

    config = load_config(
        fixture_path(f"{ROUGH_SESSION}/session_config.json"),
        [
            "--config.env_params.myoassist_root",
            str(FIXTURES / "myoassist"),
            "--config.env_params.mjx_ready_edits",
            str(mjx_ready_edits).lower(),
            *overrides,
        ],
    )
    p = config.env_params
    field = terrain.height_field(p.terrain_type, p.terrain_params, False, p.seed, p.terrain_fields)
    return build_leg_model(p, field).model


def sphere_count(model) -> int:
    return sum(model.geom_type[g] == mujoco.mjtGeom.mjGEOM_SPHERE and model.geom_contype[g] for g in range(model.ngeom))


@pytest.mark.parametrize("mjx_ready_edits", [True, False])
def test_myoassists_rough_config_walks_myoassists_one_field(mjx_ready_edits):
    """MyoAssist draws one field from env_params.seed (1234) for all its envs: the same heights, node for node."""
    recorded = np.load(fixture_path("recorded/terrain_rough_eval.npz"))["terrain_seed1234"]
    model = rough_session_model(mjx_ready_edits)
    hfield, geom = model.hfield("terrain"), model.geom("terrain")
    assert (model.hfield_nrow[0], model.hfield_ncol[0]) == (ROWS, COLS)
    heights = hfield.data.reshape(ROWS, COLS) * hfield.size[2] + geom.pos[2]
    np.testing.assert_allclose(heights, recorded, atol=1e-7)
    np.testing.assert_allclose(geom.pos[:2], [40.0, 0.0])  # MyoAssist's place: x -10..90 m
    np.testing.assert_allclose(hfield.size[:2], [50.0, 10.0])
    pairs = {model.geom(int(g)).name for g in model.pair_geom1} | {model.geom(int(g)).name for g in model.pair_geom2}
    if mjx_ready_edits:
        assert not pairs and geom.conaffinity[0] == 1  # the foot spheres meet it by type/affinity
        middle = rough_session_model(True, "--config.env_params.foot_contact_rows", "middle")
        assert sphere_count(model) == 2 * sphere_count(middle) > 0  # 'auto': rows at the soles' edges
    else:  # MyoAssist's own pairs meet the field, and its ground plane stays at z = 0
        assert "terrain" in pairs and model.geom("ground-plane").pos[2] == 0.0


@pytest.fixture(scope="module")
def rough_env():
    overrides = ["--config.env_params.terrain_type", "random", "--config.env_params.terrain_params", "0.05",
                 "--config.env_params.terrain_curriculum_steps", "1000",
                 "--config.env_params.terrain_fields", str(FIELDS), "--config.env_params.physics_backend", "cpu",
                 "--config.env_params.num_envs", "16", "--config.ppo_params.batch_size", "16"]  # fmt: skip
    return make(load_config(CONFIGS / "test.json", overrides))


def test_terrain_model_is_mjx_ready_and_holds_the_curriculum_strip(rough_env):
    from mujoco import mjx

    assert rough_env.model.nhfield == 1
    mjx.put_model(rough_env.model)
    expected = terrain.strip("random", "0.05", curriculum=True, seed=rough_env.params.seed, fields=FIELDS)
    full = np.zeros((ROWS, COLS))
    last = FIELDS - 1
    full[:, terrain.FIRST_COL : terrain.FIRST_COL + terrain.SEGMENT_COLS] = expected[:, last * terrain.SEGMENT_COLS :]
    assert_model_heights(rough_env.model, full, last)
    assert surface(rough_env.model, myoassist_x(60), myoassist_y(50)) == pytest.approx(0.0, abs=1e-9)  # flat start
    floor = rough_env.model.geom("floor")
    assert floor.pos[2] < 0.0


def test_start_segment_follows_the_curriculum_level(rough_env):
    keys = jax.random.split(jax.random.PRNGKey(0), 16)

    def start_x(level):
        data = jax.vmap(lambda k: rough_env.reset(k, level))(keys).data
        return np.asarray(jax.vmap(rough_env.backend.view)(data).qpos[:, 0])

    segment = start_x(1.0) / terrain.SEGMENT_LENGTH
    np.testing.assert_allclose(segment, np.round(segment), atol=1e-5)  # MyoAssist's start (x = 0) of a segment
    assert np.all(start_x(0.0) == 0.0)  # level 0: the flat first segment only
    assert len(np.unique(np.round(segment))) >= 4  # per-env variation over all segments
    assert rough_env.reset(keys[0]).info["terrain_level"] == 0.0  # a curriculum starts flat


def test_training_progress_raises_the_level_and_auto_reset_keeps_it(rough_env):
    keys = jax.random.split(jax.random.PRNGKey(1), 16)
    state = jax.vmap(lambda k: prepare_auto_reset(rough_env.reset(k)))(keys)
    state = rough_env.with_training_progress(state, jnp.int32(500))
    np.testing.assert_allclose(state.info["terrain_level"], 0.5)
    step = jax.jit(jax.vmap(lambda s, a: step_with_auto_reset(rough_env, s, a)))
    for _ in range(4):
        state = step(state, jnp.ones((16, rough_env.action_size)))
    np.testing.assert_allclose(state.info["terrain_level"], 0.5)
    assert np.isfinite(np.asarray(state.obs)).all()
