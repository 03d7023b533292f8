"""Train a policy: ``mjx-train --config PRESET_OR_FILE [--config.a.b VALUE ...]``.

The same command is ``python -m mjx_myoassist.train`` or, in a checkout, ``python train_mjx.py``.
``--config`` takes a JSON file or a packaged preset name (``test``, ``pointmass``, ...).
``--resume results/train_session_<time>`` continues a session from its newest
checkpoint (``--resume .../trained_models/<step>`` from that one); ``--config.total_timesteps N``
extends it (other overrides a resume allows: mjx_myoassist.session.RESUME_OVERRIDABLE).
Ctrl-C or SIGTERM save a checkpoint and exit.  Results go to ``results/train_session_<time>/``.
Across hosts, start one process per host with ``--coordinator HOST:PORT --num-processes N --process-id I``.
"""

from __future__ import annotations

import argparse
import sys

DEFAULT_CONFIG = "imitation_tutorial_22_separated_net_partial_obs"


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--config", default=DEFAULT_CONFIG, help="JSON config (MyoAssist schema) or preset name, e.g. test"
    )
    parser.add_argument("--resume", default=None, help="session folder, or one of its checkpoints, to continue")
    parser.add_argument(
        "--myoassist-root", default=None, help="MyoAssist checkout: the config's model_path is looked up there first"
    )
    parser.add_argument("--results-dir", default="results", help="where new sessions are created")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--coordinator", default=None, help="host:port of process 0, to train across hosts")
    parser.add_argument("--num-processes", type=int, default=1, help="processes (hosts) taking part")
    parser.add_argument("--process-id", type=int, default=0, help="this process's index, 0 .. num-processes-1")
    return parser.parse_known_args(argv)


def main(argv: list[str] | None = None) -> int:
    args, overrides = parse_args(sys.argv[1:] if argv is None else argv)
    if args.myoassist_root and not args.resume:
        overrides += ["--config.env_params.myoassist_root", args.myoassist_root]
    if args.coordinator:
        from mjx_myoassist.ppo.train import init_distributed

        init_distributed(args.coordinator, args.num_processes, args.process_id)
    from mjx_myoassist import enable_compilation_cache
    from mjx_myoassist.config import ConfigError, load_config
    from mjx_myoassist.ppo.checkpoint import CheckpointError
    from mjx_myoassist.ppo.train import TrainingDiverged
    from mjx_myoassist.session import Session

    enable_compilation_cache()
    try:
        if args.resume:
            session = Session(resume=args.resume, overrides=overrides)
            print(f"resuming from {session.resumed_from} ({session.env_steps} steps)")
        else:
            session = Session(load_config(args.config, overrides), results_dir=args.results_dir)
        print(f"session: {session.dir}", flush=True)
        path = session.run(progress=not args.no_progress)
    except (ConfigError, CheckpointError, TrainingDiverged) as err:
        print(f"error: {err}", file=sys.stderr)
        return 3 if isinstance(err, TrainingDiverged) else 2
    print(f"done: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
