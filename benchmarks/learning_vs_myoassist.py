"""Our trainer on a MyoAssist preset beside MyoAssist's own training curve.

Trains the published partial-obs tutorial preset (unchanged but for the reference, and the
physics backend) for ``--steps`` env steps, logging after every PPO update, and regroups the
log into MyoAssist's windows (its callback logs after rollout 1, 9, 17, ...). Compares mean
episode length and reward per episode with MyoAssist's trainer run on the same reference
(``recorded/myoassist_training_policy_gait_reference.json``, ±20% is the issue's bar) and shows
the published tutorial run (trained on a reference that is gone upstream) for context.

    python -m benchmarks.learning_vs_myoassist   # 540,672 steps, as far as MyoAssist's run goes
    python -m benchmarks.learning_vs_myoassist --resume /tmp/learning_vs_myoassist/train_session_<time> \
        --steps 1000000                          # the same run continued beside the published curve

Writes ``benchmarks/results/learning_vs_myoassist.json`` (rewritten after every update, so a
long run can be read while it goes) and ``.png``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import RESULTS, header, make_parser, write_json
from mjx_myoassist.analysis import learning_curve
from mjx_myoassist.config import load_config
from mjx_myoassist.session import Session

PRESET = "myoassist/rl_train/train/train_configs/imitation_tutorial_22_separated_net_partial_obs.json"
SAME_REFERENCE_LOG = "recorded/myoassist_training_policy_gait_reference.json"
PUBLISHED_SESSION = "myoassist/docs/assets/tutorial_rl_models/train_session_20250728-161129_tutorial_partial_obs"
TOLERANCE = 0.2


def parse_args() -> argparse.Namespace:
    parser = make_parser(__doc__.splitlines()[0], fixtures=True)
    parser.add_argument(
        "--steps", type=int, default=540_672, help="env steps to train (default: the length of MyoAssist's run)"
    )
    parser.add_argument("--backend", default="cpu", help="physics backend (cpu, mjx, warp, auto)")
    parser.add_argument("--seed", type=int, default=None, help="env_params.seed (default: the preset's)")
    parser.add_argument("--out", type=Path, default=RESULTS / "learning_vs_myoassist", help="results path stem")
    parser.add_argument("--results-dir", type=Path, default=Path("/tmp/learning_vs_myoassist"))
    parser.add_argument("--resume", type=Path, default=None, help="continue this session of an earlier run to --steps")
    return parser.parse_args()


def preset_overrides(args: argparse.Namespace) -> list[str]:
    pairs = {
        "env_params.myoassist_root": str(args.fixtures / "myoassist"),
        "env_params.reference_data_path": str(args.fixtures / "recorded" / "policy_gait_reference.npz"),
        "env_params.physics_backend": args.backend,
        "total_timesteps": str(args.steps),
        "logger_params.logging_frequency": "1",
    }
    if args.seed is not None:
        pairs["env_params.seed"] = str(args.seed)
    return [item for key, value in pairs.items() for item in (f"--config.{key}", value)]


def report(args, session_dir: Path, same_ref, published, settings, started: float) -> dict:
    """The JSON written after every update: curves, the ±20% comparison, throughput."""
    log = json.loads((session_dir / "train_log.json").read_text())
    ours = learning_curve.read_session_log(session_dir, at_steps=published.steps, label="ours (this project)")
    rows = learning_curve.compare(ours, same_ref, TOLERANCE)
    return {
        **header(settings),
        "benchmark": "learning_vs_myoassist",
        "session": str(session_dir),
        "env_steps": log[-1]["step"],
        "wall_s": time.perf_counter() - started,
        "compile_s": log[-1]["compile_time"],
        "env_steps_per_s_mean": float(np.mean([e["sps"] for e in log])),
        "curves": {
            "ours": ours.to_json(),
            "myoassist_same_reference": same_ref.to_json(),
            "myoassist_published": published.up_to(max(args.steps, ours.steps.max())).to_json(),
        },  # fmt: skip
        "comparison_same_reference": rows,
        "tolerance": TOLERANCE,
        "all_within_tolerance": learning_curve.all_within(rows),
    }


def main() -> None:
    args = parse_args()
    config_path = args.fixtures / PRESET
    if args.resume is not None:
        session = Session.resume(args.resume, overrides=["--config.total_timesteps", str(args.steps)])
        config = session.config
    else:
        config = load_config(config_path, preset_overrides(args))
        session = Session.new(config, results_dir=args.results_dir)
    same_ref = learning_curve.read_myoassist_log(args.fixtures / SAME_REFERENCE_LOG, "MyoAssist, same reference")
    published = learning_curve.read_myoassist_log(args.fixtures / PUBLISHED_SESSION, "MyoAssist published run")
    settings = {
        "preset": str(config_path.relative_to(args.fixtures)),
        "overrides": preset_overrides(args),
        "num_envs": config.env_params.num_envs,
        "n_steps": config.ppo_params.n_steps,
        "batch_size": config.ppo_params.batch_size,
        "n_epochs": config.ppo_params.n_epochs,
        "normalize_observation": config.ppo_params.normalize_observation,
        "actor_output_activation": config.policy_params.custom_policy_params.actor_output_activation,
        "weight_init": config.policy_params.custom_policy_params.weight_init,
        "seed": config.env_params.seed,
        "resumed_at_env_steps": session.env_steps if args.resume is not None else None,
    }
    out_json = args.out.with_suffix(".json")
    earlier = json.loads(out_json.read_text()) if args.resume is not None and out_json.is_file() else {}
    earlier_wall = earlier.get("wall_s", 0.0) if earlier.get("session") == str(session.dir) else 0.0
    started = time.perf_counter() - earlier_wall  # wall time of the whole run when the earlier part is known
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def write(_log) -> None:
        result = report(args, session.dir, same_ref, published, settings, started)
        write_json(args.out.with_suffix(".json"), result, quiet=True)
        ours = learning_curve.read_session_log(session.dir, at_steps=published.steps, label="ours (this project)")
        learning_curve.plot([ours, same_ref, published.up_to(ours.steps.max())], args.out.with_suffix(".png"),
                            tolerance_band=same_ref, tolerance=TOLERANCE)  # fmt: skip

    session.run(progress=False, on_log=write)
    result = json.loads(args.out.with_suffix(".json").read_text())
    for row in result["comparison_same_reference"]:
        cells = [f"{m} {row[m]['ours']:.3f} vs {row[m]['myoassist']:.3f}" for m in learning_curve.METRICS]
        print(row["step"], *cells)
    print("within ±20% at every step MyoAssist's run covers:", result["all_within_tolerance"])


if __name__ == "__main__":
    main()
