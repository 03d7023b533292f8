"""End-to-end training speed: our trainer vs Stable-Baselines3 PPO + SubprocVecEnv, same run.

Both sides train the same task with the same PPO settings (network sizes, n_steps,
batch_size, n_epochs, learning rate, gamma, lambda, clip) for the same wall-clock budget:

* ours: ``Trainer`` (one compiled call per update; CPU physics backend on this machine);
* SB3: ``PPO("MlpPolicy")`` over ``SubprocVecEnv`` (one process per env, as MyoAssist and
  seeds/004 do) of a Gymnasium wrapper around the *same* env (same model, rewards,
  terminations; stepped through its jitted single-env functions on CPU MuJoCo).

Reported: environment steps/s during training, the ratio ours/SB3, and for humanoid
``stand`` the wall-clock time until the mean episode return reaches ``--threshold``.
Needs ``pip install -e ".[bench]"`` (stable-baselines3, gymnasium, torch).

Usage: ``python benchmarks/train_vs_sb3.py [--task stand|leg|both] [--budget 240]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import deque
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

TASKS = {
    "stand": {
        "config": "configs/humanoid_stand.json",
        "overrides": ["--config.env_params.num_envs", "8", "--config.ppo_params.n_steps", "256",
                      "--config.ppo_params.batch_size", "512", "--config.ppo_params.n_epochs", "4",
                      "--config.ppo_params.learning_rate", "0.0003", "--config.env_params.physics_backend", "cpu"],
        "threshold": 60.0,
    },
    "leg": {
        "config": "configs/imitation_tutorial_22_separated_net_partial_obs.json",
        "overrides": ["--config.env_params.num_envs", "8", "--config.ppo_params.n_steps", "64",
                      "--config.ppo_params.batch_size", "256", "--config.ppo_params.n_epochs", "4",
                      "--config.env_params.physics_backend", "cpu"],
        "threshold": None,
    },
}  # fmt: skip


def load(task: str):
    from mjx_myoassist.config import load_config

    return load_config(ROOT / TASKS[task]["config"], TASKS[task]["overrides"])


# ----------------------------------------------------------------------------- ours


def run_ours(task: str, budget: float, threshold: float | None) -> dict:
    import jax

    from mjx_myoassist.ppo.train import Trainer

    config = load(task)
    trainer = Trainer(config)
    state = trainer.init()
    t0 = time.perf_counter()
    epoch = trainer.train_epoch.lower(state).compile()
    compile_s = time.perf_counter() - t0
    start, steps, reached, curve = time.perf_counter(), 0, None, []
    while time.perf_counter() - start < budget:
        state, metrics = epoch(state)
        metrics = jax.device_get(metrics)
        steps += config.rollout_size
        elapsed = time.perf_counter() - start
        ret = float(metrics["episode/return"]) if metrics["episode/count"] > 0 else float("nan")
        curve.append((steps, elapsed, ret))
        if threshold is not None and reached is None and ret >= threshold:
            reached = elapsed
    seconds = time.perf_counter() - start
    return {"steps": steps, "seconds": seconds, "compile_s": compile_s, "steps_per_s": steps / seconds,
            "time_to_threshold_s": reached, "curve": curve}  # fmt: skip


# ----------------------------------------------------------------------------- SB3


def make_gym_env(task: str, seed: int):
    """A Gymnasium env stepping our env's jitted single-env functions (CPU MuJoCo)."""

    def build():
        import gymnasium as gym
        import jax

        from mjx_myoassist.envs import make

        class JaxEnvGym(gym.Env):
            def __init__(self):
                self.env = make(load(task))
                n_obs, n_act = self.env.observation_size, self.env.action_size
                self.observation_space = gym.spaces.Box(-np.inf, np.inf, (n_obs,), np.float32)
                self.action_space = gym.spaces.Box(-1.0, 1.0, (n_act,), np.float32)
                self._reset, self._step = jax.jit(self.env.reset), jax.jit(self.env.step)
                self._key = jax.random.PRNGKey(seed)

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


def run_sb3(task: str, budget: float, threshold: float | None) -> dict:
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import SubprocVecEnv, VecMonitor

    config = load(task)
    hp, arch = config.ppo_params, config.policy_params.custom_policy_params
    pi = arch.net_arch.get("pi", arch.net_arch.get("human_actor"))
    vf = arch.net_arch.get("vf", arch.net_arch.get("common_critic"))
    torch.set_num_threads(1)
    venv = VecMonitor(SubprocVecEnv([make_gym_env(task, i) for i in range(config.env_params.num_envs)]))

    class Budget(BaseCallback):
        def __init__(self):
            super().__init__()
            self.returns, self.start, self.reached, self.curve = deque(maxlen=20), None, None, []

        def _on_training_start(self):
            self.start = time.perf_counter()

        def _on_step(self):
            for info in self.locals["infos"]:
                if "episode" in info:
                    self.returns.append(info["episode"]["r"])
            elapsed = time.perf_counter() - self.start
            if self.returns and self.n_calls % 64 == 0:
                mean = float(np.mean(self.returns))
                self.curve.append((self.num_timesteps, elapsed, mean))
                if threshold is not None and self.reached is None and mean >= threshold:
                    self.reached = elapsed
            return elapsed < budget

    model = PPO(
        "MlpPolicy", venv, learning_rate=hp.learning_rate, n_steps=hp.n_steps, batch_size=hp.batch_size,
        n_epochs=hp.n_epochs, gamma=hp.gamma, gae_lambda=hp.gae_lambda, clip_range=hp.clip_range,
        ent_coef=hp.ent_coef, vf_coef=hp.vf_coef, max_grad_norm=hp.max_grad_norm, target_kl=hp.target_kl,
        policy_kwargs={"net_arch": {"pi": list(pi), "vf": list(vf)}, "log_std_init": arch.log_std_init,
                       "activation_fn": torch.nn.ReLU if arch.activation == "relu" else torch.nn.Tanh},
        device="cpu", seed=0, verbose=0,
    )  # fmt: skip
    callback = Budget()
    model.learn(total_timesteps=10**9, callback=callback)
    seconds = time.perf_counter() - callback.start
    venv.close()
    return {"steps": model.num_timesteps, "seconds": seconds, "steps_per_s": model.num_timesteps / seconds,
            "time_to_threshold_s": callback.reached, "curve": callback.curve}  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=["stand", "leg", "both"], default="both")
    parser.add_argument("--budget", type=float, default=240.0, help="wall-clock seconds of training per side")
    args = parser.parse_args(argv)
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        print('error: SB3 is not installed; run pip install -e ".[bench]"', file=sys.stderr)
        return 2
    import jax
    import mujoco

    from mjx_myoassist import enable_compilation_cache

    enable_compilation_cache()
    tasks = ["stand", "leg"] if args.task == "both" else [args.task]
    results = {}
    for task in tasks:
        threshold = TASKS[task]["threshold"]
        ours = run_ours(task, args.budget, threshold)
        sb3 = run_sb3(task, args.budget, threshold)
        results[task] = {"ours": ours, "sb3": sb3, "threshold": threshold,
                         "ratio_steps_per_s": ours["steps_per_s"] / sb3["steps_per_s"]}  # fmt: skip
        print(f"{task}: ours {ours['steps_per_s']:.0f} steps/s (compile {ours['compile_s']:.1f} s), "
              f"SB3 {sb3['steps_per_s']:.0f} steps/s, ratio {results[task]['ratio_steps_per_s']:.2f}")  # fmt: skip
        print(f"  time to return {threshold}: ours {ours['time_to_threshold_s']}, SB3 {sb3['time_to_threshold_s']}")
    out = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "jax_backend": jax.default_backend()},
        "versions": {"jax": jax.__version__, "mujoco": mujoco.__version__, "sb3": stable_baselines3.__version__},
        "budget_s": args.budget,
        "settings": {task: TASKS[task] for task in tasks},
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "train_vs_sb3.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
