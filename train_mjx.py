"""Train a policy: ``python train_mjx.py --config configs/X.json [--config.a.b VALUE ...]``.

``--resume results/train_session_<time>`` continues a session from its newest
checkpoint.  Results go to ``results/train_session_<time>/``.
"""

from __future__ import annotations

import argparse
import sys

DEFAULT_CONFIG = "configs/imitation_tutorial_22_separated_net_partial_obs.json"


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="JSON preset (MyoAssist schema)")
    parser.add_argument("--resume", default=None, help="session folder to continue")
    parser.add_argument("--results-dir", default="results", help="where new sessions are created")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_known_args(argv)


def main(argv: list[str] | None = None) -> int:
    args, overrides = parse_args(sys.argv[1:] if argv is None else argv)
    from mjx_myoassist import enable_compilation_cache
    from mjx_myoassist.config import ConfigError, load_config
    from mjx_myoassist.ppo.checkpoint import CheckpointError
    from mjx_myoassist.session import Session

    enable_compilation_cache()
    try:
        if args.resume:
            if overrides:
                raise ConfigError("--resume continues a session with its saved config; drop the --config.* overrides.")
            session = Session(resume=args.resume)
        else:
            session = Session(load_config(args.config, overrides), results_dir=args.results_dir)
        print(f"session: {session.dir}")
        path = session.run(progress=not args.no_progress)
    except (ConfigError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"done: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
