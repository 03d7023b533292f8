"""A training session on disk: folders, logs, TensorBoard, checkpoints, resume.

``results/train_session_<time>/`` holds ``session_config.json``, ``train_log.json``
(one entry per log: step, returns, episode length, every ``reward/<term>``, losses,
KL, steps/s, compile time), ``tensorboard/`` and ``trained_models/<env_steps>/``.
The host runs once per PPO update (epoch); everything else is one compiled call.

``Session.new(config)`` starts a session, ``Session.resume(path, overrides)`` continues one.
Every log entry covers all the updates since the previous one.  Logs are replaced
atomically (``<name>.tmp-<pid>`` + rename) and checkpoints are written the same way, so
a process killed at any moment leaves a resumable session; resuming removes the
leftovers.  A resume may extend ``total_timesteps`` and change the settings in
:data:`RESUME_OVERRIDABLE`; it may start from an older checkpoint, whose newer ones are
set aside.  Ctrl-C or SIGTERM is acknowledged at once and stops after the current update
and saves (:mod:`mjx_myoassist.interrupts`); a NaN in the loss or the parameters stops the
run (:class:`TrainingDiverged`) before anything is saved.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
from tqdm import tqdm

from mjx_myoassist.config import ConfigError, TrainSessionConfigBase
from mjx_myoassist.evaluator import Evaluator, WalkTest, walk_score
from mjx_myoassist.interrupts import StopRequests, run_interruptible
from mjx_myoassist.ppo import checkpoint, sb3_import
from mjx_myoassist.ppo.train import PARAMS_FINITE, Trainer, TrainingDiverged, merge_metrics, nonfinite
from mjx_myoassist.session_files import (
    CONFIG_FILE,
    EVAL_FILE,
    FIRST_WALK_FILE,
    LOG_FILE,
    clean_leftovers,
    new_session_dir,
    read_json_list,
    resume_target,
    write_json,
)
from mjx_myoassist.session_files import RESUME_OVERRIDABLE as RESUME_OVERRIDABLE  # re-exported
from mjx_myoassist.session_files import load_session_config as load_session_config  # re-exported


def _with_warm_start_head(config: TrainSessionConfigBase) -> TrainSessionConfigBase:
    """A warm start from a MyoAssist SB3 policy trains with that policy's head (tanh outputs, raw observations)."""
    path = config.env_params.prev_trained_policy_path
    if not path or not checkpoint.resolve_source(path).is_file():
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
    layout, params, normalizer, _ = checkpoint.restore_policy(path, with_config=False)
    if layout != trainer.layout:
        raise checkpoint.CheckpointError(
            f"prev_trained_policy_path '{path}' has a different network (observation/action sizes, net_arch, "
            "net_indexing_info or activations) from this config; warm-starting needs the same architecture."
        )
    return params, normalizer


def _to_floats(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in jax.device_get(metrics).items()}


def _mean_return(evaluation: dict[str, Any]) -> float:
    return sum(row["return"] for row in evaluation["entries"]) / max(len(evaluation["entries"]), 1)


def evaluation_score(evaluation: dict[str, Any]) -> tuple[float, ...]:
    """How evaluations rank for the best checkpoint: the walk test first (when it ran), then mean return."""
    walk = evaluation.get("walk")
    return (*(walk_score(walk) if walk else ()), _mean_return(evaluation))


def walk_log_fields(walk: dict[str, Any]) -> dict[str, float]:
    """The walk test's figures as log scalars (train_log.json, TensorBoard)."""
    keys = ("fraction", "distance_mean", "distance_min", "speed_mean", "torso_height_mean")
    return {f"walk/{k}": float(walk[k]) for k in keys if k in walk}


def progress_text(entry: dict[str, float]) -> str:
    """The progress bar's postfix: return, episode length (control steps), steps/s, and the walk test (for the
    humanoid's pose test: the episodes that lasted and their mean torso height)."""
    text = f"ret={entry['episode/return']:.2f} len={entry['episode/length']:.1f} sps={entry['sps']:.0f}"
    if "walk/torso_height_mean" in entry:
        text += f" lasted={entry['walk/fraction']:.0%} torso={entry['walk/torso_height_mean']:.2f}m"
    elif "walk/fraction" in entry:
        text += f" walk={entry['walk/fraction']:.0%}"
        if "walk/distance_mean" in entry:
            text += f" {entry['walk/distance_mean']:.1f}m"
    return text


def _update_and_fetch(compiled: Callable, state: Any) -> tuple[Any, dict[str, float]]:
    """One compiled update, with its metrics brought to the host (where the wait for the device happens)."""
    state, metrics = compiled(state)
    return state, _to_floats(metrics)


def _session_dir(config: TrainSessionConfigBase, results_dir: str | Path) -> Path:
    """A new ``train_session_<time>`` folder holding the config (with jax.distributed only process 0 writes)."""
    if jax.process_index() != 0:
        return Path(results_dir) / f"train_session_process_{jax.process_index()}"
    path = new_session_dir(results_dir)
    (path / CONFIG_FILE).write_text(json.dumps(config.to_dict(), indent=2))
    return path


def _initial_state(trainer: Trainer, config: TrainSessionConfigBase):
    """A fresh training state, warm-started from ``env_params.prev_trained_policy_path`` when it is set."""
    if config.env_params.prev_trained_policy_path:
        params, normalizer = _warm_start(trainer, config.env_params.prev_trained_policy_path)
        return trainer.init(params=params, normalizer=normalizer)
    return trainer.init()


def _restore(trainer: Trainer, directory: Path, ckpt: Path):
    """The state saved in ``ckpt``; an unreadable one names an older checkpoint to resume from."""
    try:
        return checkpoint.restore_state(ckpt, trainer.init())
    except checkpoint.CheckpointError as err:
        older = [path for step, path in checkpoint.list_checkpoints(directory) if step < int(ckpt.name)]
        hint = f" Resume from an older checkpoint: --resume {older[-1]}" if older else ""
        raise checkpoint.CheckpointError(f"{err}{hint}") from err


class Session:
    """Runs training for a config and keeps its folder up to date. Make one with :meth:`new` (a new session
    folder) or :meth:`resume` (continue a saved one); then :meth:`run`."""

    def __init__(
        self,
        config: TrainSessionConfigBase,
        directory: Path,
        trainer: Trainer,
        state: Any,
        *,
        resumed_from: Path | None = None,
        log: Sequence[dict[str, float]] = (),
        evaluations: Sequence[dict[str, Any]] = (),
    ):
        self.config, self.dir, self.trainer, self.state = config, directory, trainer, state
        self.main = jax.process_index() == 0
        self.resumed_from = resumed_from  # the checkpoint a resume started from
        self.log: list[dict[str, float]] = list(log)
        self.evaluations: list[dict[str, Any]] = list(evaluations)
        self._pending: list[dict[str, float]] = []  # metrics of the updates since the last log entry
        self._evaluator: Evaluator | None = None
        self._walk_test: WalkTest | None = None
        self._walk_fields: dict[str, float] = {}  # the latest walk test's figures, for the next log entry
        last = self.log[-1] if self.log else {}
        self.wall_s = float(last.get("wall_s", 0.0))  # training wall time of the session, compile excluded
        self.compile_s = float(last.get("compile_s_total", 0.0))  # compile time of the session, all runs
        self.first_walk: dict[str, Any] | None = self._read_first_walk()
        self.update_s: float | None = None  # how long the last training update took
        self.save_s: float | None = None  # how long the last checkpoint save took
        self._update_started: float | None = None  # when the running update began (None between updates)
        self._window = (time.perf_counter(), 0)  # (start, env steps) of the current log window
        self._clock = time.perf_counter()  # when self.wall_s was last brought up to date

    @classmethod
    def new(cls, config: TrainSessionConfigBase, results_dir: str | Path = "results") -> Session:
        """A new session folder ``results_dir/train_session_<time>`` for ``config``, at step 0 (warm-started
        from ``env_params.prev_trained_policy_path`` when it is set)."""
        config = _with_warm_start_head(config)
        directory = _session_dir(config, results_dir)
        trainer = Trainer(config)
        return cls(config, directory, trainer, _initial_state(trainer, config))

    @classmethod
    def resume(cls, path: str | Path, overrides: Sequence[str] = ()) -> Session:
        """Continues a session: ``path`` is its folder (from its newest checkpoint) or one of its
        ``trained_models/<step>`` folders (newer checkpoints are set aside). ``overrides`` (``--config.<key>
        VALUE`` pairs) change the saved config where :data:`RESUME_OVERRIDABLE` allows. Log entries and
        evaluations after the checkpoint are dropped, leftovers of killed writes removed."""
        directory, chosen = resume_target(path)
        config = load_session_config(directory, overrides)
        trainer = Trainer(config)
        ckpt = chosen or checkpoint.latest_checkpoint(directory)
        state = _restore(trainer, directory, ckpt)
        step, update = int(state.env_steps), int(state.update)
        if "--config.total_timesteps" in overrides[0::2] and config.num_updates <= update:
            raise ConfigError(
                f"total_timesteps = {config.total_timesteps} is already reached: {ckpt} is at {step} steps. "
                "Give a larger --config.total_timesteps to extend the run."
            )
        log = [e for e in read_json_list(directory / LOG_FILE) if e["step"] <= step]
        evaluations = [e for e in read_json_list(directory / EVAL_FILE) if e["step"] <= step]
        if jax.process_index() == 0:
            clean_leftovers(directory)
            if chosen is not None:
                checkpoint.set_aside_newer(directory, step)
            write_json(directory / LOG_FILE, log)
            write_json(directory / EVAL_FILE, evaluations)
            if overrides:
                write_json(directory / CONFIG_FILE, config.to_dict())
        return cls(config, directory, trainer, trainer.place(state), resumed_from=ckpt, log=log,
                   evaluations=evaluations)  # fmt: skip

    def _read_first_walk(self) -> dict[str, Any] | None:
        path = self.dir / FIRST_WALK_FILE
        if not path.is_file():
            return None
        first = json.loads(path.read_text())
        if first["step"] > self.env_steps:  # a resume from an older checkpoint forgets a later first walk
            if self.main:
                path.unlink()
            return None
        return first

    def _tick(self) -> float:
        """Adds the wall time since the last call to :attr:`wall_s`; returns it."""
        now = time.perf_counter()
        self.wall_s += now - self._clock
        self._clock = now
        return self.wall_s

    @property
    def env_steps(self) -> int:
        return int(jax.device_get(self.state.env_steps))

    def save_checkpoint(self) -> Path:
        """Saves ``trained_models/<env_steps>`` and deletes the checkpoints ``logger_params.keep_last`` does not
        keep (the best evaluation's and the first walk's are always kept); :attr:`save_s` is how long it took."""
        started, params = time.perf_counter(), self.config.logger_params
        path = checkpoint.save(
            self.dir / "trained_models" / str(self.env_steps), self.state, self.config, self.trainer.layout,
            env_state=params.save_env_state,
        )  # fmt: skip
        best = [self.best_evaluation()["step"]] if self.evaluations else []
        first_walk = [self.first_walk["step"]] if self.first_walk else []  # the policy that walked first
        checkpoint.prune(self.dir, params.keep_last, keep_steps=[*best, *first_walk])
        self.save_s = time.perf_counter() - started
        return path

    def _write_log(self, entry: dict[str, float], writer) -> None:
        self.log.append(entry)
        if writer is None:
            return
        write_json(self.dir / LOG_FILE, self.log)
        for key, value in entry.items():
            if key != "step" and math.isfinite(value):
                writer.add_scalar(key, value, entry["step"])
        writer.flush()

    def best_evaluation(self) -> dict[str, Any]:
        """The evaluation whose checkpoint is kept as the best (:func:`evaluation_score`; the later one on a tie)."""
        return max(reversed(self.evaluations), key=evaluation_score)

    def _run_walk_test(self) -> dict[str, Any] | None:
        logger = self.config.logger_params
        if not logger.walk_test_episodes:
            return None
        if self._walk_test is None:
            self._walk_test = WalkTest(self.config, self.trainer.layout, logger.walk_test_episodes,
                                       logger.walk_test_seconds, self.trainer.env.dt)  # fmt: skip
        seed = self.config.env_params.seed if logger.walk_test_seed is None else logger.walk_test_seed
        return self._walk_test.run(self.state.params, self.state.normalizer, seed=seed)

    def evaluate(self, writer=None) -> dict[str, Any]:
        """Runs the evaluation batches and the walk test on the current policy; appends the result
        ({step, wall_s, entries, walk}) to evaluations.json and returns it. The first walk test that every
        episode passes is recorded in first_walk.json (step, wall time with and without compile)."""
        if self._evaluator is None:
            self._evaluator = Evaluator(self.config, self.trainer.layout, self.trainer.env)
        seed = self.config.env_params.seed
        evaluation: dict[str, Any] = {
            "step": self.env_steps,
            "wall_s": self._tick(),
            "entries": self._evaluator.run(self.state.params, self.state.normalizer, seed),
        }
        walk = self._run_walk_test()
        if walk is not None:
            evaluation["walk"] = walk
            self._walk_fields = walk_log_fields(walk)
        self.evaluations.append(evaluation)
        if not self.main:
            return evaluation
        write_json(self.dir / EVAL_FILE, self.evaluations)
        if walk is not None and walk["all_walked"] and self.first_walk is None:
            self.first_walk = {"step": self.env_steps, "wall_s": evaluation["wall_s"],
                               "wall_s_with_compile": evaluation["wall_s"] + self.compile_s,
                               "walk": {k: v for k, v in walk.items() if k != "rows"}}  # fmt: skip
            write_json(self.dir / FIRST_WALK_FILE, self.first_walk)
        if writer is not None:
            for row in evaluation["entries"]:
                for key in ("return", "episode_length", "falls"):
                    writer.add_scalar(f"eval/{row['entry']}/{key}", row[key], self.env_steps)
            for key, value in self._walk_fields.items() if walk is not None else ():
                writer.add_scalar(key, value, self.env_steps)
        return evaluation

    def _record(self, update: int, compile_time: float, writer, bar, on_log=None) -> None:
        """Logs the updates since the previous entry as one (train_log.json, TensorBoard); writes a checkpoint."""
        metrics, self._pending = merge_metrics(self._pending), []
        started, steps = self._window
        sps = steps / max(time.perf_counter() - started, 1e-9)
        entry = {"step": self.env_steps, "update": update, "sps": sps, "compile_time": compile_time,
                 "wall_s": self._tick(), "compile_s_total": self.compile_s, **metrics, **self._walk_fields}  # fmt: skip
        self._walk_fields = {}
        self._write_log(entry, writer)
        self.save_checkpoint()
        if on_log is not None:
            on_log(self.log)
        bar.set_postfix_str(progress_text(entry))
        if bar.disable and self.main:  # --no-progress: a line per log entry instead of the bar
            print(f"step {entry['step']:,}: {progress_text(entry)}", flush=True)
        self._window = (time.perf_counter(), 0)

    def _check_finite(self, metrics: dict[str, float], update: int) -> None:
        """Raises TrainingDiverged when an update left NaN/inf in the loss or the parameters."""
        bad = nonfinite(metrics)
        metrics.pop(PARAMS_FINITE, None)
        if not bad:
            return
        found = checkpoint.list_checkpoints(self.dir)
        last = f"the last good checkpoint is {found[-1][1]}" if found else "no checkpoint had been saved yet"
        raise TrainingDiverged(
            f"Training diverged in update {update}: {', '.join(bad)} became NaN/inf, so nothing was saved after "
            f"it; {last}. Resume from there with smaller steps, e.g. --resume <that folder> "
            f"--config.ppo_params.learning_rate {self.config.ppo_params.learning_rate / 3:.3g} (or a lower "
            "max_grad_norm); docs/troubleshooting.md lists other causes."
        )

    def _train_update(self, compiled: Callable, update: int) -> None:
        """One compiled update, run so that a Ctrl-C meanwhile is answered at once (:func:`run_interruptible`)."""
        self._update_started = time.perf_counter()
        self.state, metrics = run_interruptible(_update_and_fetch, compiled, self.state)
        self.update_s, self._update_started = time.perf_counter() - self._update_started, None
        self._check_finite(metrics, update)
        self._pending.append(metrics)

    def _evaluation_due(self, update: int) -> bool:
        every = self.config.logger_params.evaluate_frequency
        return bool(every and update % every == 0) or update == self.config.num_updates

    def _log_due(self, update: int) -> bool:
        return update % self.config.logger_params.logging_frequency == 0 or update == self.config.num_updates

    def _stop_plan(self) -> str:
        """The Ctrl-C acknowledgement: how far the running update is, and how long a save takes."""
        plan = "stopping after the current update"
        if self._update_started is not None:
            plan += f" (running for {time.perf_counter() - self._update_started:.0f} s"
            plan += f"; the previous one took {self.update_s:.0f} s)" if self.update_s is not None else ")"
        if self.save_s is None:
            return plan + ", then saving a checkpoint (its time is printed after it)"
        return plan + f", then saving a checkpoint (the last save took {self.save_s:.1f} s)"

    def _save_on_exit(self, reason: str | None, compile_time: float, writer, bar, on_log) -> None:
        """Logs and saves the updates since the last log entry; after a stop request, says where and how long."""
        if reason:
            print(f"{reason}: saving a checkpoint at {self.env_steps} steps to {self.dir}/trained_models/", flush=True)
        if not self._pending:
            if reason:
                print("saved already, at the last log entry.", flush=True)
            return
        self._record(int(jax.device_get(self.state.update)), compile_time, writer, bar, on_log)
        if reason:
            print(f"saved in {self.save_s:.1f} s.", flush=True)

    def run(self, progress: bool = True, on_log: Callable[[list[dict]], None] | None = None) -> Path:
        """Trains to ``total_timesteps``: per update, train; when due, evaluate (which may make this the best
        checkpoint so far); when due, log and save. Ctrl-C or SIGTERM is acknowledged at once; the run stops
        after the current update, saves a checkpoint and returns (a second one quits without saving). A NaN
        loss or parameters raise TrainingDiverged without saving.

        ``on_log(train_log)`` is called after every log entry (e.g. to refresh a live plot).
        """
        from tensorboardX import SummaryWriter

        cfg = self.config
        start, total = int(jax.device_get(self.state.update)), cfg.num_updates
        t0 = time.perf_counter()
        compiled = run_interruptible(self.trainer.train_epoch.lower(self.state).compile)  # Ctrl-C: quit at once
        compile_time = time.perf_counter() - t0
        self.compile_s += compile_time
        self._clock = time.perf_counter()  # the session's wall time leaves compile out
        purge = self.env_steps + 1 if self.resumed_from is not None else None  # hide events after the checkpoint
        writer = SummaryWriter(str(self.dir / "tensorboard"), purge_step=purge) if self.main else None
        bar = tqdm(total=total * cfg.rollout_size, initial=start * cfg.rollout_size, unit="step", disable=not progress)
        self._window = (time.perf_counter(), 0)
        stop, reason, diverged = StopRequests(self._stop_plan), None, False
        try:
            with stop:
                for update in range(start + 1, total + 1):
                    if stop.agreed():
                        break
                    self._train_update(compiled, update)
                    self._window = (self._window[0], self._window[1] + cfg.rollout_size)
                    # evaluate before the log entry, which takes the walk test's figures
                    evaluation = self.evaluate(writer) if self._evaluation_due(update) else None
                    new_best = evaluation is not None and self.best_evaluation() is evaluation
                    if self._log_due(update):
                        self._record(update, compile_time, writer, bar, on_log)  # saves a checkpoint
                    elif new_best:
                        self.save_checkpoint()  # the best policy so far is always kept
                    bar.update(cfg.rollout_size)
            reason = stop.requested
        except KeyboardInterrupt:
            if stop.forced:
                raise
            reason = "\nInterrupted"
        except TrainingDiverged:
            diverged = True
            raise
        finally:
            bar.close()
            if not diverged and not stop.forced:
                self._save_on_exit(reason, compile_time, writer, bar, on_log)
            if writer is not None:
                writer.close()
        return self.dir
