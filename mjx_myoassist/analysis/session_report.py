"""Everything ``render.py`` does, as a function: replay, video, analysis, keyframes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from mjx_myoassist.analysis import learning_curve
from mjx_myoassist.analysis.report import analyze
from mjx_myoassist.analysis.trajectory import export_keyframes
from mjx_myoassist.analysis.video import write_video
from mjx_myoassist.cpu.replay import Trajectory, replay_config, run_episode
from mjx_myoassist.envs import make
from mjx_myoassist.evaluate import without_trajectory_termination
from mjx_myoassist.ppo.policy import load_trained


@dataclasses.dataclass
class RenderResult:
    trajectory: Trajectory
    session: Path
    checkpoint: Path
    video: Path | None
    analysis_dir: Path
    report: dict
    keyframes: Path | None


def render_session(
    path: str | Path,
    out: str | Path | None = None,
    steps: int | None = None,
    seed: int = 0,
    width: int = 480,
    height: int = 360,
    video: bool = True,
    export_trajectory: str | Path | None = None,
    config_file: str | Path | None = None,
    overrides: Sequence[str] = (),
    keep_trajectory_termination: bool = False,
    compare_myoassist: str | Path | None = None,
) -> RenderResult:
    """Replays a session's newest checkpoint (or a checkpoint, a MyoAssist session or SB3 zip) on CPU MuJoCo
    and writes the outputs.  As in MyoAssist, the off-trajectory termination is off unless
    ``keep_trajectory_termination``: the episode ends on a fall or after ``steps``.  ``config_file`` and
    ``overrides`` as in :func:`mjx_myoassist.ppo.policy.load_trained`.  ``compare_myoassist`` (a MyoAssist
    session or its ``train_log.json``) adds the learning curves side by side (``learning_vs_myoassist.png``)."""
    trained = load_trained(path, config_file, overrides)
    config = trained.config if keep_trajectory_termination else without_trajectory_termination(trained.config)
    ckpt = trained.source
    entry = config.evaluate_param_list[0] if config.evaluate_param_list else None
    steps = steps or (entry.num_timesteps if entry else 300)
    env = make(replay_config(config, steps), trained.base_dir)
    traj = run_episode(env, trained.policy(), seed, steps)
    session = trained.session
    out_dir = session / "analyze_results"
    video_path = None
    if video:
        name = "episode_-1.mp4" if config.env_params.env_id == "humanoid-v0" else f"replay_{ckpt.stem}.mp4"
        video_path = write_video(
            traj,
            out or out_dir / name,
            width=width,
            height=height,
            cam_type=entry.cam_type if entry else "follow",
            cam_distance=entry.cam_distance if entry else 2.5,
            visualize_activation=entry.visualize_activation if entry else True,
        )
    log_path = session / "train_log.json"
    train_log = json.loads(log_path.read_text()) if log_path.is_file() else []
    train_log = train_log if isinstance(train_log, list) else []  # MyoAssist's own log has another layout
    report = analyze(traj, out_dir, traj.reference, train_log, entry.max_target_velocity if entry else None)
    if compare_myoassist is not None and train_log:
        learning_curve.session_vs_myoassist(session, compare_myoassist, out_dir)
        report["files"] += ["learning_vs_myoassist.png", "learning_vs_myoassist.json"]
    keyframes = None
    if export_trajectory:
        model_id = getattr(env, "model_id", None) or config.env_params.model_id
        keyframes = export_keyframes(traj, model_id, export_trajectory)
    return RenderResult(traj, session, ckpt, video_path, out_dir, report, keyframes)
