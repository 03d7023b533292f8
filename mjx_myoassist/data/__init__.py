"""Data shipped with the package: reference gaits and policies trained by this project (``policies/<name>``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

POLICIES = ("humanoid_stand", "humanoid_kneel")  # benchmarks/README.md, humanoid: how each was trained


def policies_root() -> Path:
    """The folder of the shipped policies."""
    return Path(str(resources.files("mjx_myoassist.data") / "policies"))


def policy_path(name: str) -> Path:
    """Folder of a shipped policy (weights and ``session_config.json``), which ``python -m mjx_myoassist.evaluate``,
    ``render.py`` and :func:`mjx_myoassist.ppo.policy.load_trained` read."""
    if name not in POLICIES:
        raise ValueError(f"no shipped policy '{name}'; there are {list(POLICIES)}.")
    return policies_root() / name
