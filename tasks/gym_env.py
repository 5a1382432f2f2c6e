"""gym: any registered Gymnasium id through the runner, as RL Zoo's ``--env`` does.

    python -m tasks.run gym env.id=Acrobot-v1
    python -m tasks.run gym env.id=Pendulum-v1 algo.name=sac
    python -m tasks.run gym env.id=MountainCar-v0 algo.name=dqn backend=rllib

Everything a task gets comes with it: the run folder, TensorBoard, checkpoints, ``resume``, and
an evaluation of the trained agent against a random policy over the same held-out seeds (mean
and a 95% bootstrap interval of the return) in the report. ``cartpole`` is this task with
CartPole-v1 preset (tasks/cartpole.py).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.config import ConfigError, TaskConfig, describe, section
from tasks.runner.base import EvalResult, Task
from tasks.runner.evaluation import random_policy, run_episodes, summarize


@dataclass
class GymEnvConfig:
    """The Gymnasium env."""

    id: str = describe(
        "A registered Gymnasium id (Acrobot-v1, Pendulum-v1, learnloop/Inventory-v0 ...).",
        "CartPole-v1",
    )
    max_episode_steps: int = describe(
        "Steps before an episode is truncated (0: the id's own limit).", 0, min=0
    )
    kwargs: dict[str, Any] = describe("Keyword arguments for gymnasium.make.", factory=dict)


@dataclass
class GymConfig(TaskConfig):
    """Config of the gym task."""

    env: GymEnvConfig = section(GymEnvConfig, "The environment.")


def bootstrap_interval(
    values: list[float], seed: int = 0, draws: int = 2000
) -> tuple[float, float]:
    """A 95% percentile-bootstrap interval of the mean of ``values``."""
    data = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(len(data), size=(draws, len(data)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


class GymTask(Task):
    """A registered Gymnasium env: a learned policy against a random one, same seeds."""

    name = "gym"
    config_cls = GymConfig

    def validate(self, cfg: Any) -> None:
        import gymnasium as gym

        import envs  # noqa: F401  (registers learnloop's ids)

        if cfg.env.id not in gym.registry:
            close = difflib.get_close_matches(cfg.env.id, list(gym.registry), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"env.id: {cfg.env.id!r} is not a registered Gymnasium id{hint}")

    def make_env(self, cfg: Any, index: int) -> Any:
        import gymnasium as gym

        import envs  # noqa: F401  (registers learnloop's ids)

        kwargs = dict(cfg.env.kwargs)
        if cfg.env.max_episode_steps:
            kwargs["max_episode_steps"] = cfg.env.max_episode_steps
        return gym.make(cfg.env.id, **kwargs)

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> EvalResult:
        seed = 10_000 + cfg.seed * 1_000  # evaluation seeds never overlap training's

        def make() -> Any:
            return self.make_env(cfg, 0)

        def learned(obs: Any, env: Any) -> Any:
            return agent.act(obs, deterministic=cfg.eval.deterministic)

        trained = run_episodes(make, learned, cfg.eval.episodes, seed)
        baseline = run_episodes(make, random_policy, cfg.eval.episodes, seed)
        rows = [summarize("trained", trained), summarize("random", baseline)]
        for row, returns in zip(rows, (trained, baseline), strict=True):
            low, high = bootstrap_interval(returns["episode_return"], seed)
            row["episode_return_ci95"] = f"{low:.1f} to {high:.1f}"
        metrics = {
            "episode_return": rows[0]["episode_return_mean"],
            "episode_length": rows[0]["episode_length_mean"],
            "baseline/random/episode_return": rows[1]["episode_return_mean"],
            "baseline/random/episode_length": rows[1]["episode_length_mean"],
        }
        note = f"{cfg.env.id}: {cfg.eval.episodes} episodes each, seeds from {seed}"
        return EvalResult(metrics=metrics, tables={"policies": rows}, notes=[note])
