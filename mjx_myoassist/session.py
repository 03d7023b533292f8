"""A training session on disk: folders, logs, TensorBoard, checkpoints, resume.

``results/train_session_<time>/`` holds ``session_config.json``, ``train_log.json``
(one entry per log: step, returns, episode length, every ``reward/<term>``, losses,
KL, steps/s, compile time), ``tensorboard/`` and ``trained_models/<env_steps>/``.
The host runs once per PPO update (epoch); everything else is one compiled call.

Every log entry covers all the updates since the previous one.  Logs are replaced
atomically (``<name>.tmp-<pid>`` + rename) and checkpoints are written the same way, so
a process killed at any moment leaves a resumable session; resuming removes the
leftovers.  A resume may extend ``total_timesteps`` and change the settings in
:data:`RESUME_OVERRIDABLE`; it may start from an older checkpoint, whose newer ones are
set aside.  Ctrl-C or SIGTERM stop after the current update and save; a NaN in the loss
or the parameters stops the run (:class:`TrainingDiverged`) before anything is saved.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np
from tqdm import tqdm

from mjx_myoassist.config import ConfigError, TrainSessionConfigBase, apply_overrides, config_from_dict
from mjx_myoassist.evaluate import Evaluator, WalkTest, walk_score
from mjx_myoassist.ppo import checkpoint, policy, sb3_import
from mjx_myoassist.ppo.train import PARAMS_FINITE, Trainer, TrainingDiverged, merge_metrics, nonfinite

CONFIG_FILE, LOG_FILE, EVAL_FILE = "session_config.json", "train_log.json", "evaluations.json"
FIRST_WALK_FILE = "first_walk.json"  # the first evaluation in which every walk-test episode lasted
TMP_TAG = ".tmp-"  # files and checkpoint folders being written are named <name>.tmp-<pid>

# Keys (and sections) a resume may override: they change neither the saved state's shapes nor the task.
RESUME_OVERRIDABLE = (
    "total_timesteps", "comment", "logger_params", "evaluate_param_list", "env_params.num_threads",
    "ppo_params.learning_rate", "ppo_params.ent_coef", "ppo_params.max_grad_norm", "ppo_params.target_kl",
    "ppo_params.clip_range",
)  # fmt: skip
RESUME_REFUSALS = {
    "env_params": "it changes the task, or the physics state, that the saved envs and policy belong to",
    "policy_params": "it changes the network, so the saved parameters no longer fit",
    "ppo_params": "it changes how rollouts are collected and batched (on resume only learning_rate, ent_coef, "
    "max_grad_norm, target_kl and clip_range may change)",
}


def new_session_dir(results_dir: str | Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(results_dir) / f"train_session_{stamp}"
    suffix = 1
    while path.exists():
        path = Path(results_dir) / f"train_session_{stamp}_{suffix}"
        suffix += 1
    path.mkdir(parents=True)
    return path


def write_json(path: Path, data: Any) -> None:
    """Replaces ``path`` atomically (temporary file + rename): a kill leaves the old or the new file, never half."""
    tmp = path.with_name(f"{path.name}{TMP_TAG}{os.getpid()}")
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_json_list(path: Path) -> list[dict[str, Any]]:
    try:
        return json.loads(path.read_text()) if path.is_file() else []
    except json.JSONDecodeError as err:
        raise checkpoint.CheckpointError(f"{path} is corrupted ({err}); repair or delete it to resume.") from err


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(session: Path) -> list[Path]:
    """Removes the ``*.tmp-<pid>`` files and folders that killed writes left in a session (not a live process's)."""
    removed = []
    for path in [*session.glob(f"*{TMP_TAG}*"), *(session / "trained_models").glob(f"*{TMP_TAG}*")]:
        pid = path.name.rpartition(TMP_TAG)[2]
        if pid.isdigit() and (int(pid) == os.getpid() or not _alive(int(pid))):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
            removed.append(path)
    return removed


def _resume_refusal(key: str) -> str | None:
    """Why ``key`` may not change on resume (None when it may)."""
    if any(key == ok or key.startswith(ok + ".") for ok in RESUME_OVERRIDABLE):
        return None
    return RESUME_REFUSALS.get(key.split(".")[0], "it is fixed for a session")


def load_session_config(session: str | Path, overrides: Sequence[str] = ()) -> TrainSessionConfigBase:
    """A session's saved config, with the ``--config.<key> VALUE`` overrides a resume allows
    (:data:`RESUME_OVERRIDABLE`); any other override raises ConfigError with the reason."""
    path = Path(session) / CONFIG_FILE
    if not path.is_file():
        raise checkpoint.CheckpointError(
            f"'{session}' is not a training session: {CONFIG_FILE} is missing. Give a results/train_session_<time> "
            "folder or one of its trained_models/<step> folders."
        )
    data = apply_overrides(json.loads(path.read_text()), overrides)
    for flag in overrides[0::2]:
        reason = _resume_refusal(flag[len("--config.") :])
        if reason:
            raise ConfigError(
                f"'{flag}' cannot change when resuming: {reason}. To train with it, start a new session with "
                f"--config.env_params.prev_trained_policy_path {Path(session) / 'trained_models'}/<step>."
            )
    return config_from_dict(data)


def resume_target(path: str | Path) -> tuple[Path, Path | None]:
    """(session folder, checkpoint) for ``--resume``: a session folder (checkpoint None: its newest) or one of
    its ``trained_models/<step>`` folders."""
    path = Path(path)
    if path.name.isdigit() and path.parent.name == "trained_models" and (path.parents[1] / CONFIG_FILE).is_file():
        checkpoint.read_meta(path)  # a precise error for an incomplete folder
        return path.parents[1], path
    return path, None


class _StopRequests:
    """While training, the first Ctrl-C (SIGINT) or SIGTERM asks to stop after the current update and save;
    a second one interrupts at once, without saving."""

    def __init__(self) -> None:
        self.requested: str | None = None
        self.forced = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopRequests:
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread
            self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.requested is not None:
            self.forced = True
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name
        print(f"\n{self.requested}: stopping after this update to save a checkpoint (again: quit without saving).")

    def __exit__(self, *_exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def agreed(self) -> bool:
        """Whether to stop now; with several processes, when any of them was asked (they stop at the same update)."""
        asked = self.requested is not None
        if jax.process_count() == 1:
            return asked
        from jax.experimental import multihost_utils

        return bool(multihost_utils.process_allgather(np.asarray(asked)).any())


def _with_warm_start_head(config: TrainSessionConfigBase) -> TrainSessionConfigBase:
    """A warm start from a MyoAssist SB3 policy trains with that policy's head (tanh outputs, raw observations)."""
    path = config.env_params.prev_trained_policy_path
    if not path or not policy.resolve_source(path).is_file():
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
    layout, params, normalizer, _ = policy.restore_policy(path, with_config=False)
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
    keys = ("fraction", "distance_mean", "distance_min", "speed_mean")
    return {f"walk/{k}": float(walk[k]) for k in keys if k in walk}


def progress_text(entry: dict[str, float]) -> str:
    """The progress bar's postfix: return, episode length (control steps), steps/s, and the walk test."""
    text = f"ret={entry['episode/return']:.2f} len={entry['episode/length']:.1f} sps={entry['sps']:.0f}"
    if "walk/fraction" in entry:
        text += f" walk={entry['walk/fraction']:.0%}"
        if "walk/distance_mean" in entry:
            text += f" {entry['walk/distance_mean']:.1f}m"
    return text


class Session:
    """Runs (or resumes) training for a config and keeps its folder up to date.

    ``resume``: a session folder (continues from its newest checkpoint) or one of its
    ``trained_models/<step>`` folders; ``overrides`` (``--config.<key> VALUE`` pairs) change
    the resumed config where :data:`RESUME_OVERRIDABLE` allows.
    """

    def __init__(
        self,
        config: TrainSessionConfigBase | None = None,
        results_dir: str | Path = "results",
        resume: str | Path | None = None,
        overrides: Sequence[str] = (),
    ):
        self.main = jax.process_index() == 0
        self.resumed_from: Path | None = None  # the checkpoint a resume started from
        if resume is not None:
            self.dir, self.resumed_from = resume_target(resume)
            self.config = load_session_config(self.dir, overrides)
        elif overrides:
            raise ValueError("overrides are for a resume; give them to load_config for a new session.")
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
        self.evaluations: list[dict[str, Any]] = []
        self._pending: list[dict[str, float]] = []  # metrics of the updates since the last log entry
        self._evaluator: Evaluator | None = None
        self._walk_test: WalkTest | None = None
        self._walk_fields: dict[str, float] = {}  # the latest walk test's figures, for the next log entry
        self.state = self._resume(overrides) if resume is not None else self._initial_state()
        last = self.log[-1] if self.log else {}
        self.wall_s = float(last.get("wall_s", 0.0))  # training wall time of the session, compile excluded
        self.compile_s = float(last.get("compile_s_total", 0.0))  # compile time of the session, all runs
        self.first_walk: dict[str, Any] | None = self._read_first_walk()
        self._window = (time.perf_counter(), 0)  # (start, env steps) of the current log window
        self._clock = time.perf_counter()  # when self.wall_s was last brought up to date

    def _restore(self, ckpt: Path):
        try:
            return checkpoint.restore_state(ckpt, self.trainer.init())
        except checkpoint.CheckpointError as err:
            older = [path for step, path in checkpoint.list_checkpoints(self.dir) if step < int(ckpt.name)]
            hint = f" Resume from an older checkpoint: --resume {older[-1]}" if older else ""
            raise checkpoint.CheckpointError(f"{err}{hint}") from err

    def _resume(self, overrides: Sequence[str]):
        """Restores the checkpoint; drops log entries and evaluations after it, sets newer checkpoints aside,
        removes leftovers of killed writes and saves the overridden config."""
        ckpt = self.resumed_from or checkpoint.latest_checkpoint(self.dir)
        state = self._restore(ckpt)
        step, update = int(state.env_steps), int(state.update)
        if "--config.total_timesteps" in overrides[0::2] and self.config.num_updates <= update:
            raise ConfigError(
                f"total_timesteps = {self.config.total_timesteps} is already reached: {ckpt} is at {step} steps. "
                "Give a larger --config.total_timesteps to extend the run."
            )
        self.log = [e for e in _read_json_list(self.dir / LOG_FILE) if e["step"] <= step]
        self.evaluations = [e for e in _read_json_list(self.dir / EVAL_FILE) if e["step"] <= step]
        if self.main:
            clean_leftovers(self.dir)
            if self.resumed_from is not None:
                checkpoint.set_aside_newer(self.dir, step)
            write_json(self.dir / LOG_FILE, self.log)
            write_json(self.dir / EVAL_FILE, self.evaluations)
            if overrides:
                write_json(self.dir / CONFIG_FILE, self.config.to_dict())
        self.resumed_from = ckpt
        return self.trainer.place(state)

    def _initial_state(self):
        env = self.config.env_params
        if env.prev_trained_policy_path:
            params, normalizer = _warm_start(self.trainer, env.prev_trained_policy_path)
            return self.trainer.init(params=params, normalizer=normalizer)
        return self.trainer.init()

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
        keep (the best evaluation's is always kept)."""
        params = self.config.logger_params
        path = checkpoint.save(
            self.dir / "trained_models" / str(self.env_steps), self.state, self.config, self.trainer.layout,
            env_state=params.save_env_state,
        )  # fmt: skip
        best = [self.best_evaluation()["step"]] if self.evaluations else []
        checkpoint.prune(self.dir, params.keep_last, keep_steps=best)
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
        return self._walk_test.run(self.state.params, self.state.normalizer, seed=self.config.env_params.seed)

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

    def _train_update(self, compiled, update: int) -> None:
        self.state, metrics = compiled(self.state)
        metrics = _to_floats(metrics)
        self._check_finite(metrics, update)
        self._pending.append(metrics)

    def _is_best(self, evaluation: dict[str, Any]) -> bool:
        return self.best_evaluation() is evaluation

    def run(self, progress: bool = True, on_log: Callable[[list[dict]], None] | None = None) -> Path:
        """Trains to ``total_timesteps``.  Ctrl-C or SIGTERM stop after the current update, save a
        checkpoint and return; a NaN loss or parameters raise TrainingDiverged without saving.

        ``on_log(train_log)`` is called after every log entry (e.g. to refresh a live plot).
        """
        from tensorboardX import SummaryWriter

        cfg = self.config
        start = int(jax.device_get(self.state.update))
        total = cfg.num_updates
        t0 = time.perf_counter()
        compiled = self.trainer.train_epoch.lower(self.state).compile()
        compile_time = time.perf_counter() - t0
        self.compile_s += compile_time
        self._clock = time.perf_counter()  # the session's wall time leaves compile out
        purge = self.env_steps + 1 if self.resumed_from is not None else None  # hide events after the checkpoint
        writer = SummaryWriter(str(self.dir / "tensorboard"), purge_step=purge) if self.main else None
        bar = tqdm(total=total * cfg.rollout_size, initial=start * cfg.rollout_size, unit="step", disable=not progress)
        self._window = (time.perf_counter(), 0)
        stop, diverged = _StopRequests(), False
        try:
            with stop:
                for update in range(start + 1, total + 1):
                    if stop.agreed():
                        break
                    self._train_update(compiled, update)
                    self._window = (self._window[0], self._window[1] + cfg.rollout_size)
                    logged = update % cfg.logger_params.logging_frequency == 0 or update == total
                    every = cfg.logger_params.evaluate_frequency
                    best = (every and update % every == 0) or update == total
                    best = best and self._is_best(self.evaluate(writer))  # evaluated before the log takes its walk
                    if logged:
                        self._record(update, compile_time, writer, bar, on_log)
                    elif best:
                        self.save_checkpoint()  # the best policy so far is always kept
                    bar.update(cfg.rollout_size)
            if stop.requested:
                print(f"{stop.requested}: saving a checkpoint at {self.env_steps} steps to {self.dir}/trained_models/")
        except KeyboardInterrupt:
            if stop.forced:
                raise
            print(f"\nInterrupted: saving a checkpoint at {self.env_steps} steps to {self.dir}/trained_models/")
        except TrainingDiverged:
            diverged = True
            raise
        finally:
            bar.close()
            if self._pending and not diverged and not stop.forced:
                self._record(int(jax.device_get(self.state.update)), compile_time, writer, bar, on_log)
            if writer is not None:
                writer.close()
        return self.dir
