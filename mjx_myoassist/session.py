"""A training session on disk: folders, logs, TensorBoard, checkpoints, resume.

``results/train_session_<time>/`` holds ``session_config.json``, ``train_log.json``
(one entry per log: step, returns, episode length, every ``reward/<term>``, losses,
KL, steps/s, compile time), ``tensorboard/`` and ``trained_models/<env_steps>/``.
The host runs once per PPO update (epoch); everything else is one compiled call.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional, Union

import jax
from tqdm import tqdm

from mjx_myoassist.config import TrainSessionConfigBase, config_from_dict
from mjx_myoassist.evaluate import Evaluator
from mjx_myoassist.ppo import checkpoint, sb3_import
from mjx_myoassist.ppo.train import Trainer

CONFIG_FILE, LOG_FILE, EVAL_FILE = "session_config.json", "train_log.json", "evaluations.json"


def new_session_dir(results_dir: Union[str, Path]) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(results_dir) / f"train_session_{stamp}"
    suffix = 1
    while path.exists():
        path = Path(results_dir) / f"train_session_{stamp}_{suffix}"
        suffix += 1
    path.mkdir(parents=True)
    return path


def load_session_config(session: Union[str, Path]) -> TrainSessionConfigBase:
    path = Path(session) / CONFIG_FILE
    if not path.is_file():
        raise checkpoint.CheckpointError(f"'{session}' is not a training session: {CONFIG_FILE} is missing.")
    return config_from_dict(json.loads(path.read_text()))


def _with_warm_start_head(config: TrainSessionConfigBase) -> TrainSessionConfigBase:
    """A warm start from a MyoAssist SB3 policy trains with that policy's head (tanh outputs, raw observations)."""
    path = config.env_params.prev_trained_policy_path
    if not path or not checkpoint.resolve_checkpoint(path).is_file():
        return config
    adopted = sb3_import.with_myoassist_head(config)
    if adopted != config:
        warnings.warn(
            f"prev_trained_policy_path '{path}' is a MyoAssist policy: training with its head "
            "(policy_params.custom_policy_params.activation and actor_output_activation 'tanh', "
            "ppo_params.normalize_observation false).",
            stacklevel=3,
        )
    return adopted


def _warm_start(trainer: Trainer, path: str):
    """Params (actors, critic, log_std) and normalizer of another session's or MyoAssist's policy."""
    layout, params, normalizer, _ = checkpoint.restore_policy(path)
    if layout != trainer.layout:
        raise checkpoint.CheckpointError(
            f"prev_trained_policy_path '{path}' has a different network (observation/action sizes, net_arch, "
            "net_indexing_info or activations) from this config; warm-starting needs the same architecture."
        )
    return params, normalizer


def _to_floats(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in jax.device_get(metrics).items()}


class Session:
    """Runs (or resumes) training for a config and keeps its folder up to date."""

    def __init__(
        self,
        config: Optional[TrainSessionConfigBase] = None,
        results_dir: Union[str, Path] = "results",
        resume: Optional[Union[str, Path]] = None,
    ):
        self.main = jax.process_index() == 0
        if resume is not None:
            self.dir = Path(resume)
            self.config = load_session_config(self.dir)
        else:
            if config is None:
                raise ValueError("Give a config or a session to resume.")
            self.config = _with_warm_start_head(config)
            if self.main:
                self.dir = new_session_dir(results_dir)
                (self.dir / CONFIG_FILE).write_text(json.dumps(self.config.to_dict(), indent=2))
            else:  # with jax.distributed only process 0 writes
                self.dir = Path(results_dir) / f"train_session_process_{jax.process_index()}"
        self.trainer = Trainer(self.config)
        self.log: list[dict[str, float]] = []
        self._evaluator: Optional[Evaluator] = None
        self.state = self._initial_state(resume)

    def _initial_state(self, resume):
        env = self.config.env_params
        if resume is not None:
            template = self.trainer.init()
            ckpt = checkpoint.latest_checkpoint(self.dir)
            log_path = self.dir / LOG_FILE
            self.log = json.loads(log_path.read_text()) if log_path.is_file() else []
            return self.trainer.place(checkpoint.restore_state(ckpt, template))
        if env.prev_trained_policy_path:
            params, normalizer = _warm_start(self.trainer, env.prev_trained_policy_path)
            return self.trainer.init(params=params, normalizer=normalizer)
        return self.trainer.init()

    @property
    def env_steps(self) -> int:
        return int(jax.device_get(self.state.env_steps))

    def save_checkpoint(self) -> Path:
        return checkpoint.save(
            self.dir / "trained_models" / str(self.env_steps), self.state, self.config, self.trainer.layout
        )

    def _write_log(self, entry: dict[str, float], writer) -> None:
        self.log.append(entry)
        if writer is None:
            return
        (self.dir / LOG_FILE).write_text(json.dumps(self.log, indent=1))
        for key, value in entry.items():
            if key != "step" and math.isfinite(value):
                writer.add_scalar(key, value, entry["step"])
        writer.flush()

    def evaluate(self, writer=None) -> list[dict[str, float]]:
        """Runs the evaluation batches on the current policy; appends them to evaluations.json."""
        if self._evaluator is None:
            self._evaluator = Evaluator(self.config, self.trainer.layout, self.trainer.env)
        results = self._evaluator.run(self.state.params, self.state.normalizer, seed=self.config.env_params.seed)
        if not self.main:
            return results
        path = self.dir / EVAL_FILE
        history = json.loads(path.read_text()) if path.is_file() else []
        history.append({"step": self.env_steps, "entries": results})
        path.write_text(json.dumps(history, indent=1))
        for row in results if writer is not None else []:
            for key in ("return", "episode_length", "falls"):
                writer.add_scalar(f"eval/{row['entry']}/{key}", row[key], self.env_steps)
        return results

    def _record(self, update: int, metrics, compile_time: float, writer, bar, on_log=None) -> None:
        """Logs one update's metrics (train_log.json, TensorBoard) and writes a checkpoint."""
        metrics = _to_floats(metrics)
        started, steps = self._window
        sps = steps / max(time.perf_counter() - started, 1e-9)
        entry = {"step": self.env_steps, "update": update, "sps": sps, "compile_time": compile_time, **metrics}
        self._write_log(entry, writer)
        self.save_checkpoint()
        if on_log is not None:
            on_log(self.log)
        bar.set_postfix(ret=f"{metrics['episode/return']:.2f}", sps=f"{sps:.0f}")
        self._window = (time.perf_counter(), 0)

    def run(self, progress: bool = True, on_log: Optional[Callable[[list[dict]], None]] = None) -> Path:
        """Trains to ``total_timesteps``; Ctrl-C saves a checkpoint and returns cleanly.

        ``on_log(train_log)`` is called after every log entry (e.g. to refresh a live plot).
        """
        from tensorboardX import SummaryWriter

        cfg = self.config
        start = int(jax.device_get(self.state.update))
        total = cfg.num_updates
        t0 = time.perf_counter()
        compiled = self.trainer.train_epoch.lower(self.state).compile()
        compile_time = time.perf_counter() - t0
        writer = SummaryWriter(str(self.dir / "tensorboard")) if self.main else None
        bar = tqdm(total=total * cfg.rollout_size, initial=start * cfg.rollout_size, unit="step", disable=not progress)
        self._window = (time.perf_counter(), 0)
        pending = None  # (update, metrics) not yet logged and checkpointed
        try:
            for update in range(start, total):
                self.state, metrics = compiled(self.state)
                pending = (update + 1, metrics)
                self._window = (self._window[0], self._window[1] + cfg.rollout_size)
                if (update + 1) % cfg.logger_params.logging_frequency == 0 or update + 1 == total:
                    self._record(*pending, compile_time, writer, bar, on_log)
                    pending = None
                every = cfg.logger_params.evaluate_frequency
                if (every and (update + 1) % every == 0) or update + 1 == total:
                    self.evaluate(writer)
                bar.update(cfg.rollout_size)
        except KeyboardInterrupt:
            print(f"\nInterrupted: saving a checkpoint at {self.env_steps} steps to {self.dir}/trained_models/")
        finally:
            bar.close()
            if pending is not None:
                self._record(*pending, compile_time, writer, bar, on_log)
            if writer is not None:
                writer.close()
        return self.dir
