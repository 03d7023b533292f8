"""Terrain for the leg envs: a height field strip of segments, each with a flat safe zone.

The strip runs along +x from the origin: ``SEGMENTS`` segments of ``SEGMENT_LENGTH`` m, each
starting with ``SAFE_ZONE`` m of flat ground.  At reset an env starts at the safe zone of
one segment, drawn among the first ``1 + level * (SEGMENTS - 1)``, so envs walk on
different terrain (per-env variation).  With a curriculum, segment k is scaled by
k / (SEGMENTS - 1): segment 0 is flat and the last one is the full terrain; ``level``
grows from 0 to 1 over ``terrain_curriculum_steps`` training steps.

``terrain_params`` (space-separated, MyoAssist style):

* ``random``: ``amplitude [cell]``: bumps up to ``amplitude`` m on cells of ``cell`` m (0.2).
* ``harmonic_sinusoidal``: ``amplitude wavelength``: amplitude * (1 + sin(2 pi x / wavelength)) / 2.
* ``slope``: ``angle_deg``: a ramp rising at that angle after the safe zone.
* ``dev``: ``amplitude``: stairs of ``amplitude`` m steps every 0.6 m, up then down.
"""

from __future__ import annotations

import numpy as np

SEGMENTS = 8
SEGMENT_LENGTH = 12.0  # m
SAFE_ZONE = 2.0  # m
RESOLUTION = 0.05  # m per height-field column
WIDTH = 1.0  # m, half-width of the strip (the leg is planar)
DEFAULTS = {"random": [0.05, 0.2], "harmonic_sinusoidal": [0.05, 1.0], "slope": [3.0], "dev": [0.05]}


class TerrainError(ValueError):
    """Bad terrain_type or terrain_params; the message says what is expected."""


def parse_params(terrain_type: str, text: str) -> list[float]:
    """``terrain_params`` string -> numbers, with the defaults filling what is missing."""
    try:
        given = [float(v) for v in text.split()]
    except ValueError as err:
        raise TerrainError(f"env_params.terrain_params '{text}' must be space-separated numbers.") from err
    defaults = DEFAULTS.get(terrain_type, [])
    if len(given) > len(defaults):
        raise TerrainError(f"terrain '{terrain_type}' takes at most {len(defaults)} parameters, got '{text}'.")
    return given + defaults[len(given) :]


def profile(terrain_type: str, params: list[float], x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Height (m, >= 0) of one rough segment at positions ``x`` measured from its rough start."""
    if terrain_type == "flat":
        return np.zeros_like(x)
    if terrain_type == "random":
        amplitude, cell = params
        cells = rng.uniform(0.0, amplitude, int(np.ceil(x.max() / cell)) + 1)
        return cells[(x // cell).astype(int)]
    if terrain_type == "harmonic_sinusoidal":
        amplitude, wavelength = params
        return amplitude * (1 - np.cos(2 * np.pi * x / wavelength)) / 2
    if terrain_type == "slope":
        return np.tan(np.radians(params[0])) * x
    if terrain_type == "dev":
        step = params[0]
        n = (x // 0.6).astype(int)
        half = int(np.ceil(x.max() / 0.6)) // 2
        return step * np.where(n <= half, n, 2 * half - n).clip(min=0)
    raise TerrainError(f"Unknown terrain_type '{terrain_type}'.")


def strip(terrain_type: str, text_params: str, curriculum: bool, seed: int = 0) -> np.ndarray:
    """Heights (m) along x of the whole strip, one value per ``RESOLUTION``."""
    params = parse_params(terrain_type, text_params)
    rng = np.random.default_rng(seed)
    per_segment = int(round(SEGMENT_LENGTH / RESOLUTION))
    x = np.arange(per_segment) * RESOLUTION
    rough = x >= SAFE_ZONE
    segments = []
    for k in range(SEGMENTS):
        scale = k / (SEGMENTS - 1) if curriculum else 1.0
        h = np.zeros(per_segment)
        h[rough] = scale * profile(terrain_type, params, x[rough] - SAFE_ZONE, rng)
        segments.append(h)
    return np.concatenate(segments)


def segment_start(k) -> float:
    """x (m) where segment ``k``'s safe zone begins."""
    return k * SEGMENT_LENGTH


def add_height_field(spec, heights: np.ndarray) -> None:
    """Adds the strip to a MjSpec as an hfield geom starting at x = 0."""
    import mujoco

    from mjx_myoassist.models.edits import CONTACT

    top = max(float(heights.max()), 1e-3)
    length = len(heights) * RESOLUTION
    field = spec.add_hfield(name="terrain", size=[length / 2, WIDTH, top, 0.1], nrow=2, ncol=len(heights))
    field.userdata = np.tile(heights / top, 2).tolist()  # rows along y (2), columns along x
    geom = spec.worldbody.add_geom(
        name="terrain",
        type=mujoco.mjtGeom.mjGEOM_HFIELD,
        pos=[length / 2, 0, 0],
        contype=0,
        conaffinity=1,
        rgba=[0.55, 0.5, 0.45, 1],
        **CONTACT,
    )
    geom.hfieldname = "terrain"
