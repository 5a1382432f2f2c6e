"""How much does learnloop's runner cost? The same PPO budget on CartPole, two ways, one process.

(a) ``tasks.run cartpole`` (config, run folder, TensorBoard + metrics.jsonl, progress, checkpoints,
evaluation, report) and (b) a plain SB3 script with the same hyperparameters (no logging). Each
is run ``--repeats`` times alternately; the best wall time of each counts. Prints a Markdown
table with environment steps per second and the ratio (goal: runner >= 0.9 of plain SB3), and
the start-up time of ``python -m tasks.run --list``.

    python benchmarks/runner_overhead.py [--steps 30000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def plain_sb3(steps: int, seed: int) -> float:
    """Train PPO with the cartpole config's hyperparameters in a bare SB3 script; wall seconds."""
    import gymnasium as gym
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    torch.set_num_threads(1)
    start = time.perf_counter()
    env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
    model = PPO(
        "MlpPolicy", env, n_steps=32, batch_size=256, n_epochs=20, gamma=0.98, gae_lambda=0.8,
        learning_rate=lambda p: p * 1e-3, clip_range=lambda p: p * 0.2, ent_coef=0.0,
        policy_kwargs={"net_arch": [64, 64]}, seed=seed, device="cpu", verbose=0,
    )  # fmt: skip
    model.learn(steps)
    with tempfile.TemporaryDirectory() as folder:
        model.save(Path(folder) / "model.zip")
    eval_env = gym.make("CartPole-v1")
    obs, _ = eval_env.reset(seed=seed)
    done = False
    while not done:
        action, _ = model.predict(obs, deterministic=True)
        obs, _, terminated, truncated, _ = eval_env.step(action)
        done = terminated or truncated
    return time.perf_counter() - start


def through_runner(steps: int, seed: int) -> float:
    """The same budget through ``tasks.run cartpole``; wall seconds."""
    from tasks.run import main

    with tempfile.TemporaryDirectory() as runs_dir:
        start = time.perf_counter()
        code = main([
            "cartpole", f"runs_dir={runs_dir}", f"seed={seed}", f"train.total_steps={steps}",
            "eval.episodes=1", "device=cpu",
        ])  # fmt: skip
        elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"tasks.run failed with exit code {code}")
    return elapsed


def list_startup(repeats: int = 5) -> float:
    """Best wall time of ``python -m tasks.run --list`` in a fresh interpreter."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tasks.run", "--list"], cwd=REPO, check=True,
                       capture_output=True)  # fmt: skip
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    plain, runner = [], []
    for repeat in range(args.repeats):
        plain.append(plain_sb3(args.steps, repeat))
        runner.append(through_runner(args.steps, repeat))
    plain_fps, runner_fps = args.steps / min(plain), args.steps / min(runner)
    print(f"PPO CartPole-v1, {args.steps:,} steps, best of {args.repeats}, 1 torch thread\n")
    print("| way | wall s | env steps/s |\n|---|---|---|")
    print(f"| plain SB3 script | {min(plain):.1f} | {plain_fps:,.0f} |")
    print(f"| python -m tasks.run cartpole | {min(runner):.1f} | {runner_fps:,.0f} |")
    print(f"\nratio runner / plain: {runner_fps / plain_fps:.2f} (goal >= 0.90)")
    print(f"`python -m tasks.run --list` start-up: {list_startup():.2f} s (goal < 1.5 s)")


if __name__ == "__main__":
    main()
