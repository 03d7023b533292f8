"""Trajectory export: a replayed episode as MJCF keyframes (seeds/004 generate_trajectories).

The written file is the full model with one ``<key>`` per control step (time, qpos,
qvel, act, ctrl), so ``python -m mujoco.viewer --mjcf=F.xml`` can step through it and
the ctrl of each key shows the torques/excitations the policy applied.
"""

from __future__ import annotations

from pathlib import Path

from mjx_myoassist.cpu.replay import Trajectory
from mjx_myoassist.models import load_spec


def export_keyframes(traj: Trajectory, model_id: str, path: str | Path) -> Path:
    spec = load_spec(model_id)
    for key in list(spec.keys):
        spec.delete(key)
    for t in range(traj.steps):
        spec.add_key(
            name=f"step_{t:04d}",
            time=(t + 1) * traj.dt,
            qpos=traj.qpos[t + 1],
            qvel=traj.qvel[t + 1],
            act=traj.act[t + 1],
            ctrl=traj.ctrl[t],
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(spec.to_xml())
    return path
