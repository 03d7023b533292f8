"""MyoAssist's own model files: where they are found and how they load.

A MyoAssist JSON names its model by ``model_path`` relative to the MyoAssist checkout
(``models/22muscle_2D/myoLeg22_2D_<DEVICE>.xml``, ``models/26muscle_3D/myoLeg26_<DEVICE>.xml``).
One rule resolves it (``config.model_search_dirs`` with the config's path rule ``config.find_path``):
an absolute path as it is; otherwise the first existing file among

1. the MyoAssist root given on the command line (``--myoassist-root``) or in the config
   (``env_params.myoassist_root``),
2. the folder of the config file,
3. the working directory.

Each MyoAssist model also has a model id (``myoleg22_2d_tutorial``, ``myoleg26_dephy``, ...):
the file stem in lower case, found under a MyoAssist root (argument, or the
``MYOASSIST_ROOT`` environment variable).

The model loads as MyoAssist runs it (:func:`original_spec`: timestep from the config,
terrain height field at z = 0 as MyoAssist's terrain manager sets it) and, by default,
through the MJX-ready edits of :mod:`.edits` (:func:`mjx_ready_spec`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import mujoco

MYOASSIST_ROOT_ENV = "MYOASSIST_ROOT"
DEVICES = ("BASELINE", "DEPHY", "HMEDI", "HUMOTECH", "OPENEXO", "OSL_A", "TUTORIAL")
MODEL_FILES = {
    **{f"myoleg22_2d_{d.lower()}": f"models/22muscle_2D/myoLeg22_2D_{d}.xml" for d in DEVICES},
    **{f"myoleg26_{d.lower()}": f"models/26muscle_3D/myoLeg26_{d}.xml" for d in DEVICES},
}
MYOASSIST_MODEL_IDS: tuple[str, ...] = tuple(MODEL_FILES)
TERRAIN_GEOM = "terrain"
_MYOASSIST_PATH = re.compile(r"(22muscle_2D/myoLeg22_2D|26muscle_3D/myoLeg26)_([A-Za-z_]+)\.xml$")


class MyoAssistModelError(FileNotFoundError):
    """A MyoAssist model file is missing or does not load."""


def is_myoassist_model_path(model_path: str) -> bool:
    """True for paths shaped like MyoAssist's ``models/.../myoLeg*.xml``."""
    return bool(_MYOASSIST_PATH.search(model_path.replace("\\", "/")))


def model_file_for_id(model_id: str, myoassist_root: str | Path | None = None) -> Path:
    """The XML file of a MyoAssist model id under the given root (or ``$MYOASSIST_ROOT``)."""
    root = myoassist_root or os.environ.get(MYOASSIST_ROOT_ENV)
    if not root:
        raise MyoAssistModelError(
            f"Model '{model_id}' is one of MyoAssist's own models: give the MyoAssist checkout with "
            f"env_params.myoassist_root (or --myoassist-root, or the {MYOASSIST_ROOT_ENV} environment variable)."
        )
    path = Path(root) / MODEL_FILES[model_id]
    if not path.is_file():
        raise MyoAssistModelError(f"Model '{model_id}': {path} does not exist (MyoAssist root '{root}').")
    return path


def original_spec(xml_path: str | Path, timestep: float) -> mujoco.MjSpec:
    """MyoAssist's model as its env runs it: config timestep, flat terrain height field at z = 0."""
    try:
        spec = mujoco.MjSpec.from_file(str(xml_path))
        spec.compile()
    except ValueError as err:
        raise MyoAssistModelError(
            f"MyoAssist model {xml_path} does not load: {err}. Check that the MyoAssist checkout has the "
            "model's meshes (models/mesh/...)."
        ) from err
    spec.option.timestep = timestep
    for geom in spec.geoms:
        if geom.name == TERRAIN_GEOM:
            geom.pos = [geom.pos[0], geom.pos[1], 0.0]
    return spec


def myoassist_spec(
    xml_path: str | Path, timestep: float, mjx_ready: bool = True, sole_edges: bool = False
) -> mujoco.MjSpec:
    """MyoAssist's model with the MJX-ready edits (``sole_edges``: foot sphere rows at the soles' edges), or
    (``mjx_ready=False``) with its original contacts.

    Either way the sensors are replaced by their description (``edits.sensor_targets``), so
    both variants are read by the same touch and joint-limit code.
    """
    from mjx_myoassist.models.edits import make_mjx_ready, replace_sensors

    spec = original_spec(xml_path, timestep)
    if mjx_ready:
        return make_mjx_ready(spec, sole_edges=sole_edges)
    replace_sensors(spec, spec.compile())
    return spec
