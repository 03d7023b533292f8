"""Train a policy: ``mjx-train --config PRESET_OR_FILE [--config.a.b VALUE ...]``.

The same command is ``python -m mjx_myoassist.train`` or, in a checkout, ``python train_mjx.py``.
``--config`` takes a JSON file or a packaged preset name (``test``, ``pointmass``, ...); MyoAssist's
``--config_file_path F`` is the same.  ``--resume results/train_session_<time>`` continues a session from
its newest checkpoint (``--resume .../trained_models/<step>`` from that one); ``--config.total_timesteps N``
extends it (the other overrides a resume allows are listed at the end of ``--help``).
Ctrl-C or SIGTERM save a checkpoint and exit.  Results go to ``results/train_session_<time>/``.
Across hosts, start one process per host with ``--coordinator HOST:PORT --num-processes N --process-id I``.
"""

from __future__ import annotations

import argparse
import sys

from mjx_myoassist import cli
from mjx_myoassist.errors import ConfigError

DEFAULT_CONFIG = "imitation_tutorial_22_separated_net_partial_obs"
EXIT_DIVERGED = 3  # the loss or the parameters became NaN: the last good checkpoint is kept
RENDERING_NOTE = (
    "note: --flag_rendering (MyoAssist's viewer while training) has no equivalent here, where thousands of envs "
    "step in one compiled batch; training goes on. Watch a checkpoint with: python render.py <session> [--realtime]"
)


def resume_help() -> str:
    """The keys a resume may override, for ``--help`` (read from the session module only when asked)."""
    from mjx_myoassist.session import RESUME_OVERRIDABLE

    keys = ", ".join(f"--config.{key}" for key in RESUME_OVERRIDABLE)
    return f"With --resume only these overrides are allowed (a section covers all its keys): {keys}."


def build_parser() -> cli.Parser:
    parser = cli.parser("train_mjx.py", __doc__)
    parser.add_argument("--config", "--config_file_path", dest="config", default=DEFAULT_CONFIG, metavar="F",
                        help="JSON config (MyoAssist schema) or preset name, e.g. test (default %(default)s); "
                        "MyoAssist's --config_file_path F is the same")  # fmt: skip
    parser.add_argument("--resume", default=None, help="session folder, or one of its checkpoints, to continue")
    parser.add_argument("--results-dir", default="results", help="where new sessions are created")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--coordinator", default=None, help="host:port of process 0, to train across hosts")
    parser.add_argument("--num-processes", type=int, default=1, help="processes (hosts) taking part")
    parser.add_argument("--process-id", type=int, default=0, help="this process's index, 0 .. num-processes-1")
    parser.add_argument("--flag_rendering", action=argparse.BooleanOptionalAction, default=False,
                        help="MyoAssist's viewer while training: not available here (a note is printed, training "
                        "goes on); watch a checkpoint with render.py SESSION --realtime")  # fmt: skip
    parser.add_argument("--flag_realtime_evaluate", action=argparse.BooleanOptionalAction, default=False,
                        help="MyoAssist's: instead of training, show env_params.prev_trained_policy_path in the "
                        "viewer; here that runs render.py PREV_TRAINED_POLICY_PATH --config F --realtime")  # fmt: skip
    return parser


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """(arguments, overrides); ``--myoassist-root`` becomes an override unless resuming (the session keeps its
    own config)."""
    parser = build_parser()
    if {"-h", "--help"} & set(argv):
        parser.epilog = f"{resume_help()}\n\n{parser.epilog}"
    args, overrides = cli.parse(parser, argv, with_root=False)
    return args, overrides + ([] if args.resume else cli.myoassist_root_override(args))


def realtime_evaluate(config: str, overrides: list[str]) -> int:
    """MyoAssist's ``--flag_realtime_evaluate``: the config's ``prev_trained_policy_path`` in the MuJoCo viewer,
    as ``render.py <it> --config F --realtime`` (which needs a display)."""
    from mjx_myoassist import render
    from mjx_myoassist.config import load_config

    path = load_config(config, overrides).env_params.prev_trained_policy_path
    if not path:
        raise ConfigError(
            "--flag_realtime_evaluate shows env_params.prev_trained_policy_path in the viewer, and this config has "
            "none: add --config.env_params.prev_trained_policy_path PATH, or run python render.py <session or "
            "model zip> --realtime."
        )
    print(f"--flag_realtime_evaluate: python render.py {path} --config {config} --realtime", flush=True)
    return render.main([path, "--config", str(config), "--realtime", *overrides])


def train(args: argparse.Namespace, overrides: list[str]) -> int:
    """Starts or resumes the session and runs it to the end (or to Ctrl-C)."""
    if args.flag_rendering:
        print(RENDERING_NOTE, file=sys.stderr)
    if args.coordinator:
        from mjx_myoassist.ppo.train import init_distributed

        init_distributed(args.coordinator, args.num_processes, args.process_id)
    from mjx_myoassist import enable_compilation_cache
    from mjx_myoassist.config import load_config
    from mjx_myoassist.envs import set_precision
    from mjx_myoassist.session import Session, load_session_config

    enable_compilation_cache()
    if args.resume:
        set_precision(load_session_config(args.resume, overrides))
        session = Session.resume(args.resume, overrides=overrides)
        print(f"resuming from {session.resumed_from} ({session.env_steps} steps)")
    else:
        config = load_config(args.config, overrides)
        set_precision(config)
        session = Session.new(config, results_dir=args.results_dir)
    print(f"session: {session.dir}", flush=True)
    path = session.run(progress=not args.no_progress)
    print(f"done: {path}")
    return cli.EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)

    def body() -> int:
        args, overrides = parse_args(argv)
        if args.flag_realtime_evaluate:
            return realtime_evaluate(args.config, overrides)
        from mjx_myoassist.ppo.train import TrainingDiverged

        return cli.run(lambda: train(args, overrides), {TrainingDiverged: EXIT_DIVERGED})

    return cli.run(body)


if __name__ == "__main__":
    sys.exit(main())
