"""Replay a trained policy on CPU MuJoCo: video, gait analysis, trajectory export.

``python render.py <session dir or checkpoint dir> [--out F.mp4]`` writes the video
(follow camera, muscles coloured by activation) and ``analyze_results/`` (plots and
``gait_metrics.json``) next to the session.  Works without a display (OSMesa/EGL).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def _headless_gl() -> None:
    """Picks an offscreen GL backend before MuJoCo is imported, unless the user chose one."""
    if "MUJOCO_GL" not in os.environ and sys.platform.startswith("linux"):
        os.environ["MUJOCO_GL"] = "osmesa"
    if os.environ.get("MUJOCO_GL") in ("osmesa", "egl"):
        os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])


def has_display() -> bool:
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", help="results/train_session_<time> or one of its trained_models/<step>")
    parser.add_argument("--out", default=None, help="video file (default: <session>/analyze_results/replay_<step>.mp4)")
    parser.add_argument("--steps", type=int, default=None, help="control steps (default: evaluate_param_list[0])")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=int, default=480)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--no-video", action="store_true")
    parser.add_argument("--export-trajectory", default=None, help="write the episode as MJCF keyframes to this file")
    parser.add_argument(
        "--realtime", action="store_true", help="show the replay in the MuJoCo viewer (needs a display)"
    )
    return parser.parse_args(argv)


def session_of(checkpoint_dir: Path) -> Path:
    return checkpoint_dir.parents[1] if checkpoint_dir.parent.name == "trained_models" else checkpoint_dir


def run_realtime(traj) -> None:
    import mujoco
    import mujoco.viewer

    data = traj.mj_data(0)
    with mujoco.viewer.launch_passive(traj.model, data) as viewer:
        for t in range(len(traj.qpos)):
            if not viewer.is_running():
                break
            data.qpos[:], data.qvel[:], data.act[:] = traj.qpos[t], traj.qvel[t], traj.act[t]
            mujoco.mj_forward(traj.model, data)
            viewer.sync()
            time.sleep(traj.dt)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.realtime and not has_display():
        print("error: --realtime opens the MuJoCo viewer and needs a display (none found: DISPLAY is unset). "
              "Run without --realtime to write a video instead.", file=sys.stderr)  # fmt: skip
        return 2
    if not args.realtime:
        _headless_gl()
    import json

    from mjx_myoassist import enable_compilation_cache
    from mjx_myoassist.analysis.report import analyze
    from mjx_myoassist.analysis.trajectory import export_keyframes
    from mjx_myoassist.analysis.video import write_video
    from mjx_myoassist.cpu.replay import load_checkpoint_config, make, replay_config, run_episode
    from mjx_myoassist.ppo.checkpoint import CheckpointError, load_policy

    enable_compilation_cache()
    try:
        ckpt, config = load_checkpoint_config(args.path)
    except CheckpointError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    entry = config.evaluate_param_list[0] if config.evaluate_param_list else None
    steps = args.steps or (entry.num_timesteps if entry else 300)
    env = make(replay_config(config, steps))
    traj = run_episode(env, load_policy(ckpt), args.seed, steps)
    session = session_of(ckpt)
    out_dir = session / "analyze_results"
    ending = "terminated" if traj.terminated else "truncated" if traj.truncated else "ran to the step limit"
    print(f"replayed {traj.steps} steps on CPU MuJoCo: return {traj.reward.sum():.3f}, {ending}")
    if args.realtime:
        run_realtime(traj)
        return 0
    if not args.no_video:
        humanoid = config.env_params.env_id == "humanoid-v0"
        default = out_dir / ("episode_-1.mp4" if humanoid else f"replay_{ckpt.name}.mp4")
        video = write_video(
            traj, args.out or default, width=args.width, height=args.height,
            cam_type=entry.cam_type if entry else "follow", cam_distance=entry.cam_distance if entry else 2.5,
            visualize_activation=entry.visualize_activation if entry else True,
        )  # fmt: skip
        print(f"video: {video}")
    log_path = session / "train_log.json"
    train_log = json.loads(log_path.read_text()) if log_path.is_file() else []
    target = entry.max_target_velocity if entry else None
    report = analyze(traj, out_dir, traj.reference, train_log, target)
    print(f"analysis: {out_dir} ({', '.join(report['files'])})")
    if args.export_trajectory:
        model_id = getattr(env, "model_id", None) or config.env_params.model_id
        print(f"trajectory: {export_keyframes(traj, model_id, args.export_trajectory)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
