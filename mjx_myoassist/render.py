"""Replay a trained policy on CPU MuJoCo: video, gait analysis, trajectory export.

``mjx-render <session dir or checkpoint dir> [--out F.mp4]`` (also ``python -m mjx_myoassist.render``
or, in a checkout, ``python render.py``) writes the video
(MyoAssist's cam_type camera, muscles coloured by activation) and ``analyze_results/`` (plots and
``gait_metrics.json``) next to the session.  Works without a display and without system packages beyond
an EGL or OSMesa library (tried in that order; ffmpeg comes with the imageio-ffmpeg wheel).
A MyoAssist session folder or SB3 zip works too (a bare zip needs ``--config F``); ``--config.<key> V``
overrides the config.  As MyoAssist's evaluator does, the off-trajectory termination is off (the episode
ends on a fall or after ``--steps``) unless ``--keep-trajectory-termination``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from mjx_myoassist import cli  # imports neither MuJoCo nor JAX: GL is chosen first
from mjx_myoassist.analysis import headless  # neither does this


def _headless_gl() -> None:
    """Picks an offscreen GL backend that works (the user's MUJOCO_GL, else EGL, else OSMesa) before MuJoCo is
    imported; raises RenderSetupError (one line naming the apt package) when none does."""
    headless.choose_gl()


def has_display() -> bool:
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def parse_args(argv) -> tuple[argparse.Namespace, list[str]]:
    """(arguments, ``--config.<key> VALUE`` overrides, ``--myoassist-root`` included) of the command line."""
    parser = cli.parser("render.py", __doc__)
    parser.add_argument(
        "path",
        help="results/train_session_<time>, one of its trained_models/<step>, a MyoAssist session folder or SB3 zip "
        "(.zip may be left out)",
    )
    parser.add_argument("--config", default=None, help="config JSON to run under (needed for a bare SB3 zip)")
    parser.add_argument("--keep-trajectory-termination", action="store_true",
                        help="keep the off-trajectory termination (off by default, as in MyoAssist)")  # fmt: skip
    parser.add_argument("--out", default=None, help="video file (.mp4), or a folder for the video and the analysis "
                        "(default: <session>/analyze_results/, video replay_<step>.mp4)")  # fmt: skip
    parser.add_argument("--steps", type=int, default=None, help="control steps (default: evaluate_param_list[0])")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=int, default=480)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--no-video", action="store_true")
    parser.add_argument(
        "--compare-myoassist",
        default=None,
        metavar="SESSION",
        help="a MyoAssist session (or its train_log.json): plot our learning curve beside it",
    )
    parser.add_argument("--export-trajectory", default=None, help="write the episode as MJCF keyframes to this file")
    parser.add_argument(
        "--realtime", action="store_true", help="show the replay in the MuJoCo viewer (needs a display)"
    )
    return cli.parse(parser, argv)


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
    return cli.run(lambda: run_command(sys.argv[1:] if argv is None else argv),
                   errors={headless.RenderSetupError: cli.EXIT_ERROR})  # fmt: skip


def run_command(argv: list[str]) -> int:
    """The command line's work: replay, then the video, the analysis and the keyframes it asks for."""
    args, overrides = parse_args(argv)
    if args.realtime and not has_display():
        return cli.fail("--realtime opens the MuJoCo viewer and needs a display (none found: DISPLAY is unset). "
                        "Run without --realtime to write a video instead.")  # fmt: skip
    if not (args.realtime or args.no_video):
        _headless_gl()
    from mjx_myoassist import enable_compilation_cache
    from mjx_myoassist.analysis.session_report import render_session

    enable_compilation_cache()
    result = render_session(
        args.path, out=args.out, steps=args.steps, seed=args.seed, width=args.width, height=args.height,
        video=not (args.no_video or args.realtime), export_trajectory=args.export_trajectory,
        config_file=args.config, overrides=overrides, keep_trajectory_termination=args.keep_trajectory_termination,
        compare_myoassist=args.compare_myoassist,
    )  # fmt: skip
    traj = result.trajectory
    ending = "terminated" if traj.terminated else "truncated" if traj.truncated else "ran to the step limit"
    print(f"replayed {traj.steps} steps on CPU MuJoCo: return {traj.reward.sum():.3f}, {ending}")
    if args.realtime:
        run_realtime(traj)
        return 0
    if result.video:
        print(f"video: {result.video}")
    print(f"analysis: {result.analysis_dir} ({', '.join(result.report['files'])})")
    if result.keyframes:
        print(f"trajectory: {result.keyframes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
