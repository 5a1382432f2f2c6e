"""cartpole: PPO on CartPole-v1, the smallest complete loop (train, evaluate, report)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tasks.base import EvalResult, Task
from tasks.config import TaskConfig, describe, section
from tasks.evaluation import run_episodes, summarize

SOLVED_RETURN = 475.0


@dataclass
class CartPoleEnvConfig:
    """The CartPole env."""

    max_episode_steps: int = describe("Steps before an episode is truncated.", 500, min=1)


@dataclass
class CartPoleConfig(TaskConfig):
    """Config of the cartpole task."""

    env: CartPoleEnvConfig = section(CartPoleEnvConfig, "The environment.")


class CartPoleTask(Task):
    """Balance a pole: a learned policy against a random one, over the same seeds."""

    name = "cartpole"
    description = "PPO on CartPole-v1; the smallest loop, evaluated against a random policy"
    config_cls = CartPoleConfig

    def make_env(self, cfg: Any, index: int) -> Any:
        import gymnasium as gym

        return gym.make("CartPole-v1", max_episode_steps=cfg.env.max_episode_steps)

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> EvalResult:
        seed = 10_000 + cfg.seed * 1_000  # evaluation seeds never overlap training's

        def make() -> Any:
            return self.make_env(cfg, 0)

        def learned(obs: Any, env: Any) -> Any:
            return agent.act(obs, deterministic=cfg.eval.deterministic)

        def random_policy(obs: Any, env: Any) -> Any:
            return env.action_space.sample()

        trained = run_episodes(make, learned, cfg.eval.episodes, seed)
        baseline = run_episodes(make, random_policy, cfg.eval.episodes, seed)
        rows = [summarize("trained", trained), summarize("random", baseline)]
        mean_return = rows[0]["episode_return_mean"]
        metrics = {
            "episode_return": mean_return,
            "episode_length": rows[0]["episode_length_mean"],
            "random_episode_return": rows[1]["episode_return_mean"],
            "solved": float(mean_return >= SOLVED_RETURN),
        }
        note = f"solved means a mean return >= {SOLVED_RETURN:g} over {cfg.eval.episodes} episodes"
        return EvalResult(metrics=metrics, tables={"policies": rows}, notes=[note])
