"""MJX-ready MuJoCo models, built by name.

``load_model(model_id)`` returns a fresh ``mujoco.MjModel`` that MJX accepts;
``load_original(model_id)`` the unedited source model (for structure and parity
checks).  Two sources of leg models go through the same edits (:mod:`.edits`):
MyoAssist's own XML files from a MyoAssist checkout (ids in ``MYOASSIST_MODEL_IDS``,
:mod:`.myoassist`), and the embedded default composed by ``assist-sim`` (22-muscle
``myolegs22`` + an exo device, planar root).  The humanoid is the one shipped with the
``mujoco-mjx`` wheel.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path

import mujoco

from mjx_myoassist.errors import ConfigError
from mjx_myoassist.models.edits import (
    PHYSICS_TIMESTEP,
    LegModelSpec,
    build_humanoid_spec,
    build_leg_spec,
    compose_leg,
    humanoid_xml_path,
)
from mjx_myoassist.models.myoassist import MYOASSIST_MODEL_IDS, model_file_for_id, myoassist_spec, original_spec

LEG_MODELS: dict[str, LegModelSpec] = {
    "myolegs22_tutorial": LegModelSpec(msk="myolegs22", device="Tutorial_L1", keep_device=True),
    "myolegs22_baseline": LegModelSpec(msk="myolegs22", device="Tutorial_L1", keep_device=False),
}
MODEL_IDS: tuple[str, ...] = (*LEG_MODELS, "humanoid", "pointmass")  # embedded: need no MyoAssist checkout
EMBEDDED_DIFFERENCES = (
    "80.4 kg vs MyoAssist's 85.75 kg, no arms, a lumbar chain instead of a rigid torso, "
    "EDL/FDL 553/332 N vs 819/1082 N, left toe range +-0.52 vs [-0.0145, 0.2] rad"
)
PROJECT_MODELS_DIR = Path(__file__).resolve().parent  # the project's own model files (package data)

# MyoAssist model_path device names -> our model ids (None: not available yet).
_MYOASSIST_DEVICES = {
    "TUTORIAL": "myolegs22_tutorial",
    "BASELINE": "myolegs22_baseline",
    "DEPHY": None,
    "HUMOTECH": None,
    "OPENEXO": None,
    "HMEDI": None,
    "OSL_A": None,
}


class UnknownModelError(ConfigError):
    """The model id has no equivalent here (a config error: the command line prints it as one line)."""


def model_id_from_path(model_path: str) -> str:
    """Maps a MyoAssist ``model_path`` (or a model id) to a model id; a ConfigError naming
    ``env_params.model_path`` when there is none."""
    if model_path in MODEL_IDS:
        return model_path
    match = re.search(r"22muscle_2D/myoLeg22_2D_([A-Za-z_]+)\.xml$", model_path)
    if match:
        device = match.group(1).upper()
        if device not in _MYOASSIST_DEVICES:
            raise ConfigError(
                f"env_params.model_path '{model_path}': unknown MyoAssist device '{device}' (known: "
                f"{', '.join(_MYOASSIST_DEVICES)})."
            )
        model_id = _MYOASSIST_DEVICES[device]
        if model_id is None:
            raise ConfigError(
                f"env_params.model_path '{model_path}' (device {device}) was not found and has no embedded "
                "equivalent: give your MyoAssist checkout with --myoassist-root (or env_params.myoassist_root)."
            )
        return model_id
    if "26muscle_3D" in model_path:
        raise ConfigError(
            f"env_params.model_path '{model_path}' was not found and the 26-muscle 3D leg has no embedded "
            "equivalent: give your MyoAssist checkout with --myoassist-root (or env_params.myoassist_root)."
        )
    raise ConfigError(
        f"Cannot map env_params.model_path '{model_path}' to a model. Use a MyoAssist path such as "
        f"'models/22muscle_2D/myoLeg22_2D_TUTORIAL.xml' or a model id from {MODEL_IDS}."
    )


def _check_id(model_id: str) -> None:
    if model_id not in MODEL_IDS + MYOASSIST_MODEL_IDS:
        raise UnknownModelError(
            f"Unknown model id '{model_id}'. Embedded: {MODEL_IDS}; from a MyoAssist checkout: {MYOASSIST_MODEL_IDS}."
        )


def load_spec(model_id: str, myoassist_root: str | Path | None = None, sole_edges: bool = False) -> mujoco.MjSpec:
    """The MJX-ready model as an editable MjSpec (compiles to ``load_model(model_id)``).

    MyoAssist model ids are looked up under ``myoassist_root`` (or ``$MYOASSIST_ROOT``); ``sole_edges``
    puts a leg's foot spheres in rows at the soles' edges (for a height field).
    """
    _check_id(model_id)
    if model_id in MYOASSIST_MODEL_IDS:
        return myoassist_spec(model_file_for_id(model_id, myoassist_root), PHYSICS_TIMESTEP, sole_edges=sole_edges)
    if model_id == "humanoid":
        return build_humanoid_spec()
    if model_id == "pointmass":
        return mujoco.MjSpec.from_file(str(pointmass_xml_path()))
    return build_leg_spec(LEG_MODELS[model_id], sole_edges)


@functools.cache
def _cached_model(model_id: str, myoassist_root: str | None) -> mujoco.MjModel:
    return load_spec(model_id, myoassist_root).compile()


def load_model(model_id: str, myoassist_root: str | Path | None = None) -> mujoco.MjModel:
    """The MJX-ready model for ``model_id`` (a copy; building is cached per process)."""
    _check_id(model_id)
    return copy.copy(_cached_model(model_id, str(myoassist_root) if myoassist_root else None))


def load_original(model_id: str, myoassist_root: str | Path | None = None) -> mujoco.MjModel:
    """The unedited source model (MyoAssist's XML, the assist-sim composition or the packaged humanoid)."""
    _check_id(model_id)
    if model_id in MYOASSIST_MODEL_IDS:
        return original_spec(model_file_for_id(model_id, myoassist_root), PHYSICS_TIMESTEP).compile()
    if model_id == "humanoid":
        return mujoco.MjModel.from_xml_path(str(humanoid_xml_path()))
    if model_id == "pointmass":
        return mujoco.MjModel.from_xml_path(str(pointmass_xml_path()))
    return compose_leg(LEG_MODELS[model_id].msk, LEG_MODELS[model_id].device).compile()


def pointmass_xml_path() -> Path:
    """The project's point-mass test model."""
    return PROJECT_MODELS_DIR / "pointmass.xml"
