"""End-to-end training speed: our trainer vs Stable-Baselines3 PPO + SubprocVecEnv, same settings, several seeds.

Both sides train the same task with the same PPO settings (network sizes, activation, log-std init, n_steps,
batch_size, n_epochs, learning rate, gamma, lambda, clip ranges, entropy/value coefficients, grad clip,
target KL, Adam eps; on our side a linear action mean and scaled orthogonal init, as SB3's MlpPolicy) and
the same observation normalisation (``--normalize-observation``: ours
``ppo_params.normalize_observation``; SB3 ``VecNormalize(norm_obs=True, norm_reward=False)`` or no wrapper),
for the same wall-clock budget per seed:

* ours: ``Trainer`` (one compiled call per update; cpu physics backend on this machine);
* SB3: ``PPO("MlpPolicy")`` over ``SubprocVecEnv`` (one process per env, as MyoAssist does) of a
  Gymnasium wrapper around the *same* env (same model, rewards, terminations; stepped through its jitted
  single-env functions on CPU MuJoCo).

Compile time is outside both timed windows: ours is compiled ahead of time; each SB3 env process compiles
its jitted reset and step (one warm-up call each) before training starts.  The return curve uses one
statistic on both sides: after each update, the mean return of the episodes that ended in the most recent
updates, taking whole updates until at least ``--window`` episodes are in it.  Reported per seed and as
mean, min and max over seeds: env steps/s and, with a threshold, the seconds until that return.

Needs ``pip install -e ".[bench]"`` (stable-baselines3, gymnasium, torch).

Task ``walk`` sets the two sides up differently, on purpose: ours is the many-envs preset that learned to walk
from scratch (``benchmarks/walk_from_scratch.py``: 1024 envs, 600 Hz, MJX-ready contacts) on MyoAssist's
TUTORIAL model, SB3 is MyoAssist's own setup of that task (one env process per core, 16,384 steps per update
as MyoAssist's 32 x 512, 1200 Hz, MyoAssist's original contacts and solver, raw observations).

Usage: ``python -m benchmarks.train_vs_sb3 [--task stand|leg|walk|both] [--budget 180] [--seeds 0 1 2]
[--normalize-observation task|true|false] [--out F]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from benchmarks.harness import FIXTURES, RESULTS, header, make_parser, spread, write_json

# What SB3's MlpPolicy does (the humanoid preset has it already): a linear action mean, orthogonal init with gain
# sqrt(2) on hidden layers, 0.01 on the action output, 1 on the value output; Adam's eps is passed to SB3.
SB3_HEAD = ["--config.policy_params.custom_policy_params.actor_output_activation", "none",
            "--config.policy_params.custom_policy_params.weight_init", "scaled"]  # fmt: skip
TASKS = {
    "stand": {
        "config": "humanoid_stand",
        "overrides": ["--config.env_params.num_envs", "8", "--config.ppo_params.n_steps", "256",
                      "--config.ppo_params.batch_size", "512", "--config.ppo_params.n_epochs", "4",
                      "--config.ppo_params.learning_rate", "0.0003", "--config.env_params.physics_backend", "cpu"],
        "threshold": 60.0,
        "normalize_observation": True,  # the humanoid preset's choice
    },
    "leg": {
        "config": "imitation_tutorial_22_separated_net_partial_obs",
        "overrides": ["--config.env_params.num_envs", "8", "--config.ppo_params.n_steps", "64",
                      "--config.ppo_params.batch_size", "256", "--config.ppo_params.n_epochs", "4",
                      "--config.env_params.physics_backend", "cpu", *SB3_HEAD],
        "threshold": None,
        "normalize_observation": False,  # MyoAssist trains on raw observations
    },
    "walk": {  # the from-scratch walking recipe vs MyoAssist's own training of the same task (MyoAssist's physics)
        "config": "imitation_tutorial_22_partial_obs_many_envs",
        "overrides": ["--config.env_params.physics_backend", "cpu",
                      "--config.env_params.myoassist_root", str(FIXTURES / "myoassist")],
        "sb3_overrides": ["--config.env_params.num_envs", str(os.cpu_count() or 1),
                          "--config.ppo_params.n_steps", str(16384 // (os.cpu_count() or 1)),
                          "--config.env_params.physics_sim_framerate", "1200",
                          "--config.env_params.mjx_ready_edits", "false", *SB3_HEAD],
        "threshold": None,
        "normalize_observation": False,
    },
}  # fmt: skip
POLICY_MATCHING = (
    "ours: actor_output_activation none, weight_init scaled (SB3_HEAD); SB3: MlpPolicy, ortho_init, "
    "Adam eps = ppo_params.adam_eps; leg: one SB3 MLP (pi = human_actor, vf = common_critic sizes)"
)
DEFAULT_OUT, WALK_OUT = RESULTS / "train_vs_sb3.json", RESULTS / "train_vs_sb3_walk.json"
STATISTIC = "mean return of the episodes ended in the latest whole updates holding >= window episodes"


def task_overrides(task: str, normalize: bool, side: str = "ours") -> list[str]:
    """The task's overrides; the SB3 side adds its own where the task has them (``walk``: MyoAssist's setup)."""
    extra = TASKS[task].get("sb3_overrides", []) if side == "sb3" else []
    return [*TASKS[task]["overrides"], *extra, "--config.ppo_params.normalize_observation", str(normalize).lower()]


def load(task: str, normalize: bool, side: str = "ours"):
    from mjx_myoassist.config import load_config

    return load_config(TASKS[task]["config"], task_overrides(task, normalize, side))


def windowed_return(history: Sequence[tuple[float, int]], window: int) -> float:
    """Mean return over the latest updates' episodes: ``history`` holds (return sum, episode count) per
    update; whole updates are taken from the newest back until ``window`` episodes (or all there are)."""
    total, count = 0.0, 0
    for ret_sum, n in reversed(history):
        total, count = total + ret_sum, count + n
        if count >= window:
            break
    return total / count if count else float("nan")


def first_reached(curve: Sequence[Sequence[float]], threshold: float | None) -> float | None:
    """Seconds of the first curve point (steps, seconds, return) at or above ``threshold``."""
    if threshold is None:
        return None
    return next((seconds for _, seconds, ret in curve if ret >= threshold), None)


# ----------------------------------------------------------------------------- ours


def run_ours(task: str, normalize: bool, seeds: Sequence[int], budget: float, window: int) -> list[dict]:
    """One ahead-of-time compile (not timed), then a budget of training per seed."""
    import jax

    from mjx_myoassist.ppo.train import Trainer

    config = load(task, normalize)
    trainer = Trainer(config)
    t0 = time.perf_counter()
    epoch = trainer.train_epoch.lower(trainer.init(seed=seeds[0])).compile()
    compile_s = time.perf_counter() - t0
    runs = []
    for seed in seeds:
        state = trainer.init(seed=seed)
        start, steps, history, curve = time.perf_counter(), 0, [], []
        while time.perf_counter() - start < budget:
            state, metrics = epoch(state)
            metrics = jax.device_get(metrics)
            steps += config.rollout_size
            count = int(metrics["episode/count"])
            history.append((float(metrics["episode/return"]) * count, count))
            curve.append((steps, time.perf_counter() - start, windowed_return(history, window)))
        seconds = time.perf_counter() - start
        runs.append({"seed": seed, "steps": steps, "seconds": seconds, "steps_per_s": steps / seconds,
                     "compile_s_not_timed": compile_s, "curve": curve})  # fmt: skip
    return runs


# ----------------------------------------------------------------------------- SB3


def make_gym_env(task: str, normalize: bool, seed: int):
    """A Gymnasium env stepping our env's jitted single-env functions (CPU MuJoCo); its reset and step are
    compiled (one call each) when the env is built, before training starts."""

    def build():
        import gymnasium as gym
        import jax

        from mjx_myoassist.envs import make

        class JaxEnvGym(gym.Env):
            def __init__(self):
                self.env = make(load(task, normalize, "sb3"))
                n_obs, n_act = self.env.observation_size, self.env.action_size
                self.observation_space = gym.spaces.Box(-np.inf, np.inf, (n_obs,), np.float32)
                self.action_space = gym.spaces.Box(-1.0, 1.0, (n_act,), np.float32)
                self._reset, self._step = jax.jit(self.env.reset), jax.jit(self.env.step)
                self._key = jax.random.PRNGKey(seed)
                warm = self._reset(jax.random.PRNGKey(seed + 10**6))  # compile outside the timed window
                jax.block_until_ready(self._step(warm, np.zeros(n_act, np.float32)))

            def reset(self, *, seed=None, options=None):
                self._key, key = jax.random.split(self._key)
                self.state = self._reset(key)
                return np.asarray(self.state.obs), {}

            def step(self, action):
                self.state = self._step(self.state, np.asarray(action, np.float32))
                s = self.state
                return np.asarray(s.obs), float(s.reward), bool(s.terminated), bool(s.truncated), {}

        return JaxEnvGym()

    return build


def _sb3_policy_kwargs(config) -> dict[str, Any]:
    """SB3 MlpPolicy arguments for the same network sizes, activation, log-std init and Adam eps as ours."""
    import torch

    arch = config.policy_params.custom_policy_params
    if (arch.actor_output_activation, arch.weight_init) != ("none", "scaled"):
        raise SystemExit("error: SB3's MlpPolicy has a linear action mean and scaled orthogonal init; set "
                         "actor_output_activation 'none' and weight_init 'scaled' on our side (SB3_HEAD).")  # fmt: skip
    pi = arch.net_arch.get("pi", arch.net_arch.get("human_actor"))
    vf = arch.net_arch.get("vf", arch.net_arch.get("common_critic"))
    activation = torch.nn.ReLU if arch.activation == "relu" else torch.nn.Tanh
    return {"net_arch": {"pi": list(pi), "vf": list(vf)}, "log_std_init": arch.log_std_init,
            "activation_fn": activation, "ortho_init": True,
            "optimizer_kwargs": {"eps": config.ppo_params.adam_eps}}  # fmt: skip


def run_sb3_seed(task: str, normalize: bool, seed: int, budget: float, window: int,
                 after_update: Callable[[Any, float], bool] | None = None) -> dict[str, Any]:  # fmt: skip
    """One SB3 run; timing starts when training starts, after every env process has compiled.
    ``after_update(model, elapsed_s)`` runs after each update (inside the timed window); True stops the run."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import SubprocVecEnv, VecMonitor, VecNormalize

    config = load(task, normalize, "sb3")
    hp = config.ppo_params
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    n_envs = config.env_params.num_envs
    venv = VecMonitor(SubprocVecEnv([make_gym_env(task, normalize, seed * 1000 + i) for i in range(n_envs)]))
    venv.reset()  # waits for every env process: built and compiled
    setup_s = time.perf_counter() - t0
    if normalize:
        venv = VecNormalize(venv, norm_obs=True, norm_reward=False, gamma=hp.gamma)

    class Budget(BaseCallback):
        """Stops at the budget; after each update, records the same windowed return as ours."""

        def __init__(self):
            super().__init__()
            self.start, self.history, self.curve, self.rollout, self.pending = None, [], [], [], False
            self.done = False

        def _on_training_start(self):
            self.start = time.perf_counter()

        def _on_rollout_start(self):  # the previous update (rollout + SGD) is complete here
            self._record()

        def _on_rollout_end(self):
            self.history.append((float(np.sum(self.rollout)), len(self.rollout)))
            self.rollout, self.pending = [], True

        def _record(self):
            if self.pending:
                elapsed = time.perf_counter() - self.start
                self.curve.append((self.num_timesteps, elapsed, windowed_return(self.history, window)))
                self.pending = False
                self.done = after_update is not None and after_update(self.model, elapsed)

        def _on_step(self):
            self.rollout += [info["episode"]["r"] for info in self.locals["infos"] if "episode" in info]
            return time.perf_counter() - self.start < budget and not self.done

    model = PPO(
        "MlpPolicy", venv, learning_rate=hp.learning_rate, n_steps=hp.n_steps, batch_size=hp.batch_size,
        n_epochs=hp.n_epochs, gamma=hp.gamma, gae_lambda=hp.gae_lambda, clip_range=hp.clip_range,
        clip_range_vf=hp.clip_range_vf, ent_coef=hp.ent_coef, vf_coef=hp.vf_coef, max_grad_norm=hp.max_grad_norm,
        target_kl=hp.target_kl, policy_kwargs=_sb3_policy_kwargs(config), device="cpu", seed=seed, verbose=0,
    )  # fmt: skip
    callback = Budget()
    model.learn(total_timesteps=10**9, callback=callback)
    seconds = time.perf_counter() - callback.start
    venv.close()
    return {"seed": seed, "steps": model.num_timesteps, "seconds": seconds,
            "steps_per_s": model.num_timesteps / seconds, "setup_and_compile_s_not_timed": setup_s,
            "curve": callback.curve}  # fmt: skip


# ----------------------------------------------------------------------------- summary and main


def summarize(runs: list[dict[str, Any]], threshold: float | None) -> dict[str, Any]:
    """Per-side summary over seeds: steps/s spread, time to threshold, first and last point of the curve."""
    for run in runs:
        run["time_to_threshold_s"] = first_reached(run["curve"], threshold)
    times = [r["time_to_threshold_s"] for r in runs if r["time_to_threshold_s"] is not None]
    ends = [(r["curve"][0][2], r["curve"][-1][2]) for r in runs if r["curve"]]
    return {
        "steps_per_s": spread([r["steps_per_s"] for r in runs]),
        "time_to_threshold_s": spread(times) if times else None,
        "reached_threshold": len(times),
        "seeds": len(runs),
        "return_first": [a for a, _ in ends],
        "return_last": [b for _, b in ends],
        "runs": runs,
    }


def run_task(task: str, normalize: bool, seeds: Sequence[int], budget: float, window: int) -> dict[str, Any]:
    threshold = TASKS[task]["threshold"]
    ours = summarize(run_ours(task, normalize, seeds, budget, window), threshold)
    sb3 = summarize([run_sb3_seed(task, normalize, s, budget, window) for s in seeds], threshold)
    ratio = ours["steps_per_s"]["mean"] / sb3["steps_per_s"]["mean"]
    print(f"{task}: env steps/s ours {ours['steps_per_s']['mean']:.0f} ({ours['steps_per_s']['min']:.0f}-"
          f"{ours['steps_per_s']['max']:.0f}), SB3 {sb3['steps_per_s']['mean']:.0f} ({sb3['steps_per_s']['min']:.0f}-"
          f"{sb3['steps_per_s']['max']:.0f}), ratio of means {ratio:.2f}")  # fmt: skip
    for name, side in (("ours", ours), ("SB3", sb3)) if threshold is not None else ():
        t = side["time_to_threshold_s"]
        reached = f"mean {t['mean']:.1f} s ({t['min']:.1f}-{t['max']:.1f})" if t else "-"
        print(f"  {name}: time to return {threshold}: {side['reached_threshold']}/{side['seeds']} seeds, {reached}")
    return {"threshold": threshold, "ours": ours, "sb3": sb3, "ratio_mean_steps_per_s": ratio}


def parse_args(argv=None) -> argparse.Namespace:
    parser = make_parser(__doc__, out=DEFAULT_OUT)
    parser.add_argument("--task", choices=["stand", "leg", "walk", "both"], default="both",
                        help="both = stand and leg; walk = the many-envs walking recipe (ours) vs MyoAssist's "
                             "own setup (module doc), written to train_vs_sb3_walk.json")  # fmt: skip
    parser.add_argument("--budget", type=float, default=180.0, help="wall-clock seconds of training per seed and side")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--window", type=int, default=20, help="episodes in the return statistic (both sides)")
    parser.add_argument(
        "--normalize-observation", choices=["task", "true", "false"], default="task",
        help="both sides: 'task' = stand true (the humanoid preset's), leg false (MyoAssist's raw observations)",
    )  # fmt: skip
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.task == "walk" and args.out == DEFAULT_OUT:
        args.out = WALK_OUT
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        print('error: SB3 is not installed; run pip install -e ".[bench]"', file=sys.stderr)
        return 2
    from mjx_myoassist import enable_compilation_cache

    enable_compilation_cache()
    tasks = ["stand", "leg"] if args.task == "both" else [args.task]
    norm = {t: TASKS[t]["normalize_observation"] if args.normalize_observation == "task"
            else args.normalize_observation == "true" for t in tasks}  # fmt: skip
    settings = {
        task: {
            "config": TASKS[task]["config"],
            "overrides": task_overrides(task, norm[task]),
            "sb3_overrides": task_overrides(task, norm[task], "sb3"),
            "threshold": TASKS[task]["threshold"],
            "normalize_observation": norm[task],
            "sb3_observation_wrapper": "VecNormalize(norm_obs=True, norm_reward=False)" if norm[task] else None,
        }
        for task in tasks
    }
    common = {"budget_s": args.budget, "seeds": args.seeds, "window_episodes": args.window,
              "return_statistic": STATISTIC, "compile_excluded": True, "cpu_count": os.cpu_count(),
              "policy_matching": POLICY_MATCHING,
              "tasks": settings}  # fmt: skip
    results = {task: run_task(task, norm[task], args.seeds, args.budget, args.window) for task in tasks}
    write_json(args.out, {**header(common, "stable-baselines3", "torch", "gymnasium"), "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
