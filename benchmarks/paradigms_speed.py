"""Speed of the paradigm learners on digits: the batched env loop against a plain torch loop.

The **env loop** is what ``backend=learnloop`` runs (``LearnerBackend``): act on B observations
of ``learnloop/Classify-v0``'s batched twin, step it, hand the answer to ``learner.observe``.
The **plain loop** is the same learner doing the same updates on tensors with no env: index B
training samples, act on them (one forward pass), and make the learner's update on a minibatch
drawn straight from the training tensors. The ratio of the two is the env loop's cost.

    python benchmarks/paradigms_speed.py            # writes benchmarks/results/paradigms_speed.md

Both loops run in the same process, interleaved in short rounds, so machine load (2 shared
cores here) hits both alike; the table reports medians over rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gymnasium  # noqa: E402

import envs  # noqa: E402, F401
from agents.base import TrainContext  # noqa: E402
from agents.learners import learner_class  # noqa: E402
from agents.learners.backend import LearnerBackend, LearnerSettings  # noqa: E402
from envs.paradigms.datasets import get_split  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "paradigms_speed.md"
CASES = [  # (learner, arch, feedback, num_envs, batch_size), env steps per round
    (("supervised", "mlp", "label", 256, 256), 51_200),
    (("reward", "mlp", "reward", 256, 256), 51_200),
    (("supervised", "cnn", "label", 256, 256), 10_240),  # the CNN is ~20x slower
    (("supervised", "cnn", "label", 32, 64), 10_240),  # the configs' shape: more, smaller updates
]


class Quiet:
    """A logger that keeps nothing."""

    def log(self, step: int, metrics: dict) -> None:
        pass

    def progress(self, step: int) -> None:
        pass


def make_learner(name: str, arch: str, batch_size: int, spaces: tuple) -> object:
    hyper = {"arch": arch}
    if name == "supervised":
        hyper["batch_size"] = batch_size
    return learner_class(name)(*spaces, 0, "cpu", **hyper)


def env_loop(
    name: str, arch: str, feedback: str, num_envs: int, batch_size: int, steps: int
) -> float:
    """Env steps per second of LearnerBackend training for ``steps`` env steps."""

    def make_env(seed: int) -> object:
        return gymnasium.make_vec(
            "learnloop/Classify-v0", num_envs=num_envs, vectorization_mode="vector_entry_point",
            feedback=feedback,
        )  # fmt: skip

    backend = LearnerBackend(log_every=10**9)
    learner = LearnerSettings(
        lambda o, a, s, d: make_learner(name, arch, batch_size, (o, a)), make_env
    )
    ctx = TrainContext(
        make_env=lambda i: None, total_steps=steps, seed=0, device="cpu", algo=None,
        logger=Quiet(), save_checkpoint=lambda step, write: Path("."), checkpoint_every=0,
        settings=learner,
    )  # fmt: skip
    started = time.perf_counter()
    backend.train(ctx)
    return steps / (time.perf_counter() - started)


def plain_loop(
    name: str, arch: str, feedback: str, num_envs: int, batch_size: int, steps: int
) -> float:
    """Samples per second of the same learner and updates on plain tensors (no env)."""
    split = get_split("digits")
    x = torch.as_tensor(split.features("train")).view(-1, 1, 8, 8)
    y = torch.as_tensor(split.targets("train"))
    probe = gymnasium.make("learnloop/Classify-v0")
    learner = make_learner(name, arch, batch_size, (probe.observation_space, probe.action_space))
    generator = torch.Generator().manual_seed(0)
    feedback_mask = np.ones(num_envs, dtype=bool)
    started = time.perf_counter()
    for _ in range(steps // num_envs):
        picks = torch.randint(0, len(x), (num_envs,), generator=generator)
        obs = x[picks]
        actions = learner.act_batch(obs, None, deterministic=False)
        if name == "supervised":
            batch = torch.randint(0, len(x), (batch_size,), generator=generator)
            learner.update({"obs": x[batch], "target": y[batch]})
        else:  # the reward learner's update is its observe; rewards computed in torch
            rewards = (torch.as_tensor(actions) == y[picks]).float().numpy()
            learner.observe(obs.numpy(), actions, rewards, {"feedback": feedback_mask})
    return (steps // num_envs) * num_envs / (time.perf_counter() - started)


def bare_env(num_envs: int, steps: int) -> float:
    """Env steps per second of the batched env alone, with random actions."""
    env = gymnasium.make_vec(
        "learnloop/Classify-v0", num_envs=num_envs, vectorization_mode="vector_entry_point"
    )
    env.reset(seed=0)
    actions = np.zeros(num_envs, dtype=np.int64)
    started = time.perf_counter()
    for _ in range(steps // num_envs):
        env.step(actions)
    return (steps // num_envs) * num_envs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply env steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    rows = []
    for case, steps in CASES:
        steps = int(steps * args.scale)
        env_loop(*case, 2_560)  # warm up: first calls pay for lazy initialisation
        plain_loop(*case, 2_560)
        env_rates, plain_rates = [], []
        for _ in range(args.rounds):
            env_rates.append(env_loop(*case, steps))
            plain_rates.append(plain_loop(*case, steps))
        env_rate, plain_rate = statistics.median(env_rates), statistics.median(plain_rates)
        rows.append((*case, env_rate, plain_rate, plain_rate / env_rate - 1))
        print(rows[-1], flush=True)
    env_alone = bare_env(256, 204_800)
    lines = [
        "# Paradigm learners: batched env loop vs plain torch loop (digits)",
        "",
        f"`python benchmarks/paradigms_speed.py` ({args.rounds} rounds per case, medians; torch 1 "
        "thread; the env loop is LearnerBackend.train). Cost = plain rate / env rate - 1: the "
        f"share of extra time the env loop takes for the same updates. Load average {load}.",
        "",
        "| learner | network | num_envs | batch | env loop steps/s | plain loop steps/s | env loop cost |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, arch, _, num_envs, batch, env_rate, plain_rate, cost in rows:
        lines.append(
            f"| {name} | {arch} | {num_envs} | {batch} | {env_rate:,.0f} | {plain_rate:,.0f} | {cost:+.0%} |"
        )
    lines += ["", f"Bare batched env (256 slots, fixed actions): {env_alone:,.0f} env steps/s.", ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
