"""Evaluation helpers shared by single-agent Gymnasium tasks."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from agents.base import episode_metrics

# policy(obs, env) -> action; the env is passed so a baseline can sample its action space.
Policy = Callable[[Any, Any], Any]


def run_episodes(
    make_env: Callable[[], Any], policy: Policy, episodes: int, seed: int
) -> dict[str, list[float]]:
    """Play ``episodes`` episodes with seeds ``seed, seed+1, ...``; returns per-episode lists:
    return and length, and each metric the env reports under ``info[EPISODE_METRICS]``."""
    per_episode: dict[str, list[float]] = {"episode_return": [], "episode_length": []}
    env = make_env()
    try:
        for episode in range(episodes):
            obs, _ = env.reset(seed=seed + episode)
            env.action_space.seed(seed + episode)
            total, length, done = 0.0, 0, False
            while not done:
                obs, reward, terminated, truncated, info = env.step(policy(obs, env))
                total += float(reward)
                length += 1
                done = terminated or truncated
            per_episode["episode_return"].append(total)
            per_episode["episode_length"].append(float(length))
            for name, value in episode_metrics(info).items():
                per_episode.setdefault(name, []).append(value)
    finally:
        env.close()
    return per_episode


def random_policy(obs: Any, env: Any) -> Any:
    """A uniformly random action (``run_episodes`` seeds the action space per episode)."""
    return env.action_space.sample()


def summarize(name: str, per_episode: dict[str, list[float]]) -> dict[str, Any]:
    """One table row: mean and standard deviation of each per-episode list."""
    row: dict[str, Any] = {"policy": name, "episodes": len(next(iter(per_episode.values())))}
    for key, values in per_episode.items():
        row[f"{key}_mean"] = float(np.mean(values))
        row[f"{key}_std"] = float(np.std(values))
    return row


def wilson_interval(successes: float, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion (draws may count as half successes)."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
