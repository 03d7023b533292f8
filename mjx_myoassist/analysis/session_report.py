"""Everything ``render.py`` does, as a function: replay, video, analysis, keyframes."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from mjx_myoassist.analysis import learning_curve
from mjx_myoassist.analysis.headless import check_output_folder, find_ffmpeg
from mjx_myoassist.analysis.realtime_plots import plot_realtime_info
from mjx_myoassist.analysis.report import analyze
from mjx_myoassist.analysis.trajectory import export_keyframes
from mjx_myoassist.analysis.video import use_ffmpeg, write_video
from mjx_myoassist.cpu.replay import Trajectory, replay_config, run_episode
from mjx_myoassist.data import policies_root
from mjx_myoassist.envs import make, set_precision
from mjx_myoassist.evaluator import entry_schedule, without_trajectory_termination
from mjx_myoassist.ppo.policy import load_trained

VIDEO_SUFFIXES = (".mp4", ".gif", ".webm", ".mov", ".mkv")


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
    if video:
        use_ffmpeg(find_ffmpeg())  # checks of the machine first: no encoder fails now, not after the replay
    if out is not None:
        check_output_folder(Path(out).parent if Path(out).suffix.lower() in VIDEO_SUFFIXES else Path(out))
    trained = load_trained(path, config_file, overrides)
    config = trained.config if keep_trajectory_termination else without_trajectory_termination(trained.config)
    entry = config.evaluate_param_list[0] if config.evaluate_param_list else None
    name = "episode_-1.mp4" if config.env_params.env_id == "humanoid-v0" else f"replay_{trained.source.stem}.mp4"
    out_dir, video_path = output_paths(trained.session, out, name if video else None)
    steps = steps or (entry.num_timesteps if entry else 300)
    set_precision(config)
    env = make(replay_config(config, steps))
    traj = run_episode(env, trained.policy(), seed, steps, entry_schedule(entry) if entry else None)
    with _removed_on_failure([out_dir, video_path]):
        if video_path is not None:
            write_video(traj, video_path, width=width, height=height, cam_type=entry.cam_type if entry else "follow",
                        cam_distance=entry.cam_distance if entry else 2.5,
                        visualize_activation=entry.visualize_activation if entry else True)  # fmt: skip
        report = _analysis(trained.session, traj, out_dir, entry, compare_myoassist)
        report["files"] += _realtime_plots(config, trained, traj, seed, out_dir)
        keyframes = None
        if export_trajectory:
            model_id = getattr(env, "model_id", None) or config.env_params.model_id
            keyframes = export_keyframes(traj, model_id, export_trajectory)
    return RenderResult(traj, trained.session, trained.source, video_path, out_dir, report, keyframes)


def default_analysis_dir(session: Path) -> Path:
    """``<session>/analyze_results``; for a policy shipped with the package (:func:`mjx_myoassist.data.policy_path`)
    ``<working directory>/<policy name>_analyze_results``, so the installed package is never written to."""
    shipped = policies_root()
    if session.resolve().is_relative_to(shipped.resolve()):
        return Path.cwd() / f"{session.name}_analyze_results"
    return session / "analyze_results"


def output_paths(session: Path, out: str | Path | None, video_name: str | None) -> tuple[Path, Path | None]:
    """(analysis folder, video file): ``out`` is a video file (``.mp4``; the analysis stays in
    :func:`default_analysis_dir`) or a folder for both.  Checks that each can be written, before the replay."""
    out_dir = default_analysis_dir(Path(session))
    video_path = out_dir / video_name if video_name else None
    if out is not None:
        out = Path(out)
        if out.suffix.lower() in VIDEO_SUFFIXES and not out.is_dir():
            video_path = out if video_name else None
        else:
            out_dir, video_path = out, out / video_name if video_name else None
    for folder in {out_dir, *([video_path.parent] if video_path else [])}:
        check_output_folder(folder)
    return out_dir, video_path


@contextlib.contextmanager
def _removed_on_failure(paths: Sequence[Path | None]):
    """Removes those of ``paths`` that did not exist before, when the block fails: nothing half-written."""
    new = [p for p in paths if p is not None and not p.exists()]
    try:
        yield
    except BaseException:
        for p in new:
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            elif p.exists():
                p.unlink()
        raise


def _realtime_plots(config, trained, traj: Trajectory, seed: int, out_dir: Path) -> list[str]:
    """Each entry's ``realtime_plotting_info`` figure: entry 0 from the replayed episode, any other from an episode
    of its own (its schedule and num_timesteps)."""
    files = []
    for i, entry in enumerate(config.evaluate_param_list):
        if not entry.realtime_plotting_info:
            continue
        if i:
            env = make(replay_config(config, entry.num_timesteps))
            episode = run_episode(env, trained.policy(), seed, entry.num_timesteps, entry_schedule(entry))
        else:
            episode = traj
        files.append(
            plot_realtime_info(episode, entry.realtime_plotting_info, out_dir / f"realtime_plots_entry{i}.png").name
        )
    return files


def _analysis(session: Path, traj: Trajectory, out_dir: Path, entry, compare_myoassist) -> dict:
    log_path = session / "train_log.json"
    train_log = json.loads(log_path.read_text()) if log_path.is_file() else []
    train_log = train_log if isinstance(train_log, list) else []  # MyoAssist's own log has another layout
    report = analyze(traj, out_dir, traj.reference, train_log, entry.max_target_velocity if entry else None)
    if compare_myoassist is not None and train_log:
        learning_curve.session_vs_myoassist(session, compare_myoassist, out_dir)
        report["files"] += ["learning_vs_myoassist.png", "learning_vs_myoassist.json"]
    return report
