"""Terrain for the leg envs: MyoAssist's height field, laid out as a strip of segments for MJX.

MyoAssist fills one height field (its ``models/terrain_config.xml``: 100 rows along y over
-10..10 m, 500 columns along x over -10..90 m, heights in m) once per env, from
``terrain_type`` and ``terrain_params`` (space-separated numbers):

* ``flat``, ``dev``: flat ground at z = 0; numbers, if given, are ignored.
* ``random``: ``amplitude``: every node uniform in [0, amplitude] m, then the safe zone.
* ``harmonic_sinusoidal``: groups of ``amplitude_row period_row amplitude_col period_col``:
  the sum of ``amplitude_row * sin(2 pi row / period_row)`` and
  ``-amplitude_col * cos(2 pi col / period_col)`` over the groups, with periods counted in
  nodes (cells of 0.2 m) from the field's first row/column, raised so its minimum is 0
  when it is negative, then the safe zone.
* ``slope``: ``slope``: rise over run (a tan value, not degrees): flat up to the column
  5 cells past the start, then rising ``slope * 0.2`` m per column (negative: descending).

The safe zone scales the heights near the start node (row 50, column 50) by
``min(1, sqrt(dy**4 + dx**4) / 3)`` (dy, dx in cells of 0.2 m, within 15 cells).

``random`` draws come from ``myoassist-terrains``' random generator (uniform per node, seeded)
and ``slope`` heights from its slope surface (``tan(deg)`` per m, here ``deg = atan(slope)``);
its sinusoid is a single x-wave of another amplitude and period unit, so
``harmonic_sinusoidal`` and the safe zone are computed here.

How many fields (``env_params.terrain_fields``):

* 1 (default, MyoAssist's): one field drawn from ``env_params.seed`` when the env is built,
  shared by every env, all of it at MyoAssist's place (x -10..90 m); episodes start at x = 0.
* N > 1 (variety; this project's option): N copies of the field's columns ``FIRST_COL`` ..
  ``FIRST_COL + SEGMENT_COLS - 1`` (all rows), laid end to end along x; segment k holds
  MyoAssist's x = 0 at ``segment_start(k)``, where an env starting on it is placed.  Each
  segment of ``random`` is a new draw (seeds from ``env_params.seed``).  With a curriculum
  segment k is scaled by k / (N - 1) (segment 0 flat, the last one full).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from mjx_myoassist.config import ConfigError
from mjx_myoassist.models.leg import HeightField

# MyoAssist's height field (models/terrain_config.xml): half-sizes 50 x 10 m, centred at x = 40
FIELD_ROWS = 100  # along y
FIELD_COLS = 500  # along x
FIELD_HALF_X, FIELD_HALF_Y = 50.0, 10.0
FIELD_X = 40.0
CELL = 2 * FIELD_HALF_X / FIELD_COLS  # m, the cell size MyoAssist's formulas use (0.2 on both axes)
COL_PITCH = 2 * FIELD_HALF_X / (FIELD_COLS - 1)  # m between node columns, as MuJoCo lays them out
START_COL = int((FIELD_HALF_X - FIELD_X) / CELL)  # 50: the column MyoAssist counts as the start
START_ROW = FIELD_ROWS // 2
SAFE_RADIUS = 3.0  # m
SLOPE_OFFSET = 5  # columns past START_COL where MyoAssist's slope begins

# the strip of several fields
FIRST_COL = 40  # each segment starts 2 m behind the start
SEGMENT_COLS = 200  # about 40 m of MyoAssist's field per segment
SEGMENT_LENGTH = SEGMENT_COLS * COL_PITCH  # m
BASE_DEPTH = 0.1  # m of solid below the lowest point
FLAT_TYPES = ("flat", "dev")

_USAGE = {
    "random": ("1 number 'amplitude' (m; heights uniform in [0, amplitude])", "0.05"),
    "harmonic_sinusoidal": (
        "groups of 4 numbers 'amplitude_row period_row amplitude_col period_col' (amplitudes in m, periods in "
        "cells of 0.2 m)",
        "0.02 20 0.03 10",
    ),
    "slope": ("1 number 'slope' (rise over run, a tan value: 0.1 climbs 10 cm per m)", "0.1"),
}


class TerrainError(ConfigError):
    """Bad terrain_type or terrain_params; the message says what is expected."""


def _bad(terrain_type: str, text: str, why: str) -> TerrainError:
    usage, example = _USAGE[terrain_type]
    return TerrainError(
        f"env_params.terrain_params '{text}' for terrain_type '{terrain_type}': {why}. Give {usage}, e.g. '{example}'."
    )


def parse_params(terrain_type: str, text: str) -> list[float]:
    """``terrain_params`` -> numbers, checked against MyoAssist's meaning of ``terrain_type``."""
    try:
        values = [float(v) for v in text.split()]
    except ValueError as err:
        raise TerrainError(
            f"env_params.terrain_params '{text}' must be space-separated numbers (MyoAssist's format)."
        ) from err
    if not all(math.isfinite(v) for v in values):
        raise TerrainError(f"env_params.terrain_params '{text}' must be finite numbers.")
    if terrain_type in FLAT_TYPES:
        if values:
            warnings.warn(
                f"terrain_type '{terrain_type}' is flat ground (as in MyoAssist); env_params.terrain_params "
                f"'{text}' is ignored.",
                stacklevel=2,
            )
        return values
    if terrain_type not in _USAGE:
        raise TerrainError(f"Unknown terrain_type '{terrain_type}'; use one of {FLAT_TYPES + tuple(_USAGE)}.")
    _check_count(terrain_type, text, values)
    if terrain_type == "random" and values[0] <= 0:
        raise _bad(terrain_type, text, "the amplitude must be > 0 (terrain_type 'flat' is flat ground)")
    if terrain_type == "harmonic_sinusoidal" and 0.0 in values[1::2]:
        raise _bad(terrain_type, text, "a period is 0")
    return values


def _check_count(terrain_type: str, text: str, values: list[float]) -> None:
    if terrain_type == "harmonic_sinusoidal":
        if not values or len(values) % 4:
            raise _bad(terrain_type, text, f"got {len(values)} numbers")
    elif len(values) != 1:
        raise _bad(terrain_type, text, f"got {len(values)} numbers")


def _node_grid() -> tuple[np.ndarray, np.ndarray]:
    """(row, column) indices of MyoAssist's field, broadcastable to (FIELD_ROWS, FIELD_COLS)."""
    return np.arange(FIELD_ROWS)[:, None], np.arange(FIELD_COLS)[None, :]


def safe_zone_scale() -> np.ndarray:
    """MyoAssist's safe-zone factor per node: 0 at the start node, 1 from about 1.7 m away."""
    n = math.ceil(SAFE_RADIUS / CELL)
    rows, cols = _node_grid()
    near = (rows >= START_ROW - n) & (rows < START_ROW + n) & (cols >= START_COL - n) & (cols < START_COL + n)
    distance = np.sqrt(((rows - START_ROW) * CELL) ** 4 + ((cols - START_COL) * CELL) ** 4)
    return np.where(near, np.clip(distance / SAFE_RADIUS, 0.0, 1.0), 1.0)


def _random(amplitude: float, seed: int) -> np.ndarray:
    from myoassist_terrains.uniform import generate_random_field

    noise = generate_random_field(
        FIELD_ROWS, FIELD_COLS, FIELD_HALF_X, FIELD_HALF_Y, amplitude=amplitude, safe_radius=0.0, seed=seed
    )
    return noise * safe_zone_scale()


def _harmonic(params: list[float]) -> np.ndarray:
    rows, cols = _node_grid()
    heights = np.zeros((FIELD_ROWS, FIELD_COLS))
    for amp_row, period_row, amp_col, period_col in np.reshape(params, (-1, 4)):
        heights = heights + amp_row * np.sin(2 * np.pi * rows / period_row)
        heights = heights - amp_col * np.cos(2 * np.pi * cols / period_col)
    low = heights.min()
    if low < 0:
        heights = heights - low
    return heights * safe_zone_scale()


def _slope(slope: float) -> np.ndarray:
    from myoassist_terrains.config import UniformTerrainConfig
    from myoassist_terrains.surface import TerrainSurface

    try:
        plane = TerrainSurface(UniformTerrainConfig(terrain="slope", deg=math.degrees(math.atan(slope))))
    except ValueError as err:
        raise _bad("slope", str(slope), str(err)) from err
    run = np.maximum(np.arange(FIELD_COLS) - (START_COL + SLOPE_OFFSET), 0) * CELL  # m past the slope's foot
    profile = np.array([plane.height_at(float(x), 0.0) for x in run])
    return np.broadcast_to(profile, (FIELD_ROWS, FIELD_COLS)).copy()


def field(terrain_type: str, params: list[float], seed: int = 0) -> np.ndarray:
    """MyoAssist's height field (m, rows along y, columns along x) for one env; ``seed`` draws ``random``."""
    if terrain_type in FLAT_TYPES:
        return np.zeros((FIELD_ROWS, FIELD_COLS))
    if terrain_type == "random":
        return _random(params[0], seed)
    if terrain_type == "harmonic_sinusoidal":
        return _harmonic(params)
    if terrain_type == "slope":
        return _slope(params[0])
    raise TerrainError(f"Unknown terrain_type '{terrain_type}'.")


def strip(terrain_type: str, text_params: str, curriculum: bool, seed: int = 0, fields: int = 1) -> np.ndarray:
    """Heights (m), columns along x: MyoAssist's whole field for ``fields`` = 1 (the one ``seed`` draws), else
    (FIELD_ROWS, fields * SEGMENT_COLS) segments of fields drawn from seeds ``seed`` generates."""
    params = parse_params(terrain_type, text_params)
    if fields == 1:
        return field(terrain_type, params, seed)
    seeds = np.random.SeedSequence(seed).generate_state(fields)
    window = slice(FIRST_COL, FIRST_COL + SEGMENT_COLS)
    segments = []
    for k in range(fields):
        scale = k / (fields - 1) if curriculum else 1.0
        segments.append(scale * field(terrain_type, params, int(seeds[k]))[:, window])
    return np.concatenate(segments, axis=1)


def segment_start(k):
    """x (m) where segment ``k`` holds MyoAssist's start (x = 0); works on ints and jax arrays."""
    return k * SEGMENT_LENGTH


def placed(heights: np.ndarray) -> HeightField:
    """A strip of :func:`strip` as the model's height field, at MyoAssist's x: the whole field where it is one,
    else segment 0's first column at MyoAssist's x of FIRST_COL."""
    first_col = 0 if heights.shape[1] == FIELD_COLS else FIRST_COL
    first_x = FIELD_X - FIELD_HALF_X + first_col * COL_PITCH
    return HeightField(heights, first_x, COL_PITCH, FIELD_HALF_Y, BASE_DEPTH)


def height_field(
    terrain_type: str, text_params: str, curriculum: bool, seed: int = 0, fields: int = 1
) -> HeightField | None:
    """The strip a leg model carries for this terrain, or None for flat ground (numbers still checked)."""
    if terrain_type in FLAT_TYPES:
        parse_params(terrain_type, text_params)  # numbers, as MyoAssist requires (ConfigError)
        return None
    return placed(strip(terrain_type, text_params, curriculum, seed, fields))
