"""Evaluation of stored policies, and its command line (the batches run in :mod:`mjx_myoassist.evaluator`).

``python -m mjx_myoassist.evaluate SESSION_OR_ZIP [--episodes N] [--seconds S] [--json OUT]``
(:func:`evaluate_policy` from Python) runs N episodes of a session's policy, a MyoAssist
session or an SB3 zip in one such batch, on the config's terrain, and reports each: steps,
how it ended, distance walked, mean speed, return.  Like MyoAssist's evaluator, the
off-trajectory termination is off unless asked for: episodes end on a fall or at the time
limit.  ``--entries`` runs every ``evaluate_param_list`` entry as MyoAssist's evaluator does
instead (:mod:`mjx_myoassist.entries`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mjx_myoassist import cli, entries
from mjx_myoassist.config import PHYSICS_BACKENDS, ConfigError
from mjx_myoassist.envs import make
from mjx_myoassist.evaluator import Evaluator, load_for_evaluation, with_episodes
from mjx_myoassist.ppo.checkpoint import SOURCES


def evaluate_policy(
    path: str | Path,
    *,
    config: str | Path | None = None,
    overrides: Sequence[str] = (),
    episodes: int = 5,
    seconds: float = 10.0,
    backend: str | None = None,
    seed: int = 0,
    keep_trajectory_termination: bool = False,
) -> list[dict[str, Any]]:
    """Runs ``episodes`` deterministic episodes of a stored policy in one jitted batch; one row each.

    Episode i starts from its own RNG (``fold_in(seed, i)``: a random reference start, as
    MyoAssist) on the config's terrain (MyoAssist's one field for a rough config) and ends on a
    fall or after ``seconds``; the off-trajectory termination is off unless
    ``keep_trajectory_termination``.  ``backend`` ('cpu', 'mjx') replaces the config's physics
    backend.  Rows: see :func:`episode_rows`.
    """
    if episodes < 1 or seconds <= 0:
        raise ConfigError(f"Need at least one episode and a positive duration; got {episodes} episodes, {seconds} s.")
    trained, cfg = load_for_evaluation(path, config, overrides, backend, keep_trajectory_termination)
    env = make(cfg)
    cfg = with_episodes(cfg, episodes, seconds, env.dt)
    return Evaluator(cfg, trained.layout, env).episodes(trained.params, trained.stats, seed)


# ----------------------------------------------------------------------------- command line


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """(arguments, ``--config.<key> VALUE`` overrides, ``--myoassist-root`` included) of the command line."""
    parser = cli.parser(
        "python -m mjx_myoassist.evaluate",
        "Deterministic episodes of a trained policy in one jitted batch: steps, fall or time limit, "
        "distance walked, mean speed, return.",
    )
    parser.add_argument("path", help=f"{SOURCES}; a zip path may leave out .zip")
    parser.add_argument("--config", default=None, help="config JSON to run under (needed for a bare SB3 zip)")
    parser.add_argument("--episodes", type=int, default=5,
                        help="episodes, evaluated at once (default 5; with --entries: per entry)")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=10.0, help="time limit per episode in s (default 10)")
    parser.add_argument("--backend", choices=[b for b in PHYSICS_BACKENDS if b != "auto"], default=None,
                        help="physics backend (default: the config's)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="base seed; episode i uses its own RNG from it")
    parser.add_argument("--json", default=None, help="write the settings and per-episode rows to this file")
    parser.add_argument("--keep-trajectory-termination", action="store_true",
                        help="keep the off-trajectory termination (off by default, as in MyoAssist)")  # fmt: skip
    parser.add_argument("--entries", action="store_true",
                        help="run every evaluate_param_list entry as MyoAssist's evaluator (its speed schedule, "
                             "num_timesteps, start at the middle of its range), --episodes each, with the "
                             "target-speed tracking error; --json also writes the per-step series (.npz)")  # fmt: skip
    return cli.parse(parser, argv)


POSE_COLUMNS = {  # pose metric -> (column, format of (mean, final))
    "torso_height": ("height(m) mean/final", "{:.3f}/{:.3f}"),
    "upright_angle": ("upright(deg) final", "{1:.1f}"),
    "feet_contact": ("feet on floor", "{1:.0f}"),
    "knees_contact": ("knees on floor", "{1:.0f}"),
    "hands_contact": ("hands on floor", "{1:.0f}"),
}


def format_table(rows: list[dict[str, Any]]) -> str:
    """A short text table of :func:`episode_rows` (with the env's pose metrics where it has them)."""
    walked = "distance" in rows[0]
    pose = [k for k in POSE_COLUMNS if f"{k}_final" in rows[0]]
    header = "episode  steps  seconds  end              return" + ("  distance(m)  speed(m/s)" if walked else "")
    lines = [header + "".join(f"  {POSE_COLUMNS[k][0]:>20}" for k in pose)]
    for r in rows:
        line = f"{r['episode']:>7}  {r['steps']:>5}  {r['seconds']:>7.2f}  {r['end']:<15}  {r['return']:>6.2f}"
        line += f"  {r['distance']:>11.2f}  {r['mean_speed']:>10.3f}" if walked else ""
        line += "".join(f"  {POSE_COLUMNS[k][1].format(r[f'{k}_mean'], r[f'{k}_final']):>20}" for k in pose)
        lines.append(line)
    return "\n".join(lines)


def run_command(argv: Sequence[str]) -> int:
    """The command line's work: evaluate, print the table, write the JSON (and with --entries the series)."""
    from mjx_myoassist import enable_compilation_cache

    args, overrides = parse_args(argv)
    enable_compilation_cache()
    common = dict(config=args.config, overrides=overrides, episodes=args.episodes, backend=args.backend,
                  seed=args.seed, keep_trajectory_termination=args.keep_trajectory_termination)  # fmt: skip
    settings = {**{k: v for k, v in vars(args).items() if k != "json"}, "overrides": overrides}
    if args.entries:
        results, series = entries.evaluate_entries(args.path, **common)
        print(entries.format_entries(results))
        if args.json:
            series_path = entries.write_entries(results, series, args.json, settings)
            print(f"json: {args.json}\nseries: {series_path}")
        return cli.EXIT_OK
    rows = evaluate_policy(args.path, seconds=args.seconds, **common)
    print(format_table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps({"settings": settings, "episodes": rows}, indent=1))
        print(f"json: {args.json}")
    return cli.EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    import sys

    return cli.run(lambda: run_command(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    raise SystemExit(main())
