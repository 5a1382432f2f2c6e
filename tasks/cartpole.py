"""cartpole: PPO on CartPole-v1, the smallest complete loop: the ``gym`` task with CartPole-v1
preset (tasks/gym_env.py), plus whether the run solved it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tasks.config import describe, section
from tasks.gym_env import GymConfig, GymEnvConfig, GymTask
from tasks.runner.base import EvalResult

SOLVED_RETURN = 475.0


@dataclass
class CartPoleEnvConfig(GymEnvConfig):
    """The CartPole env."""

    id: str = describe("The Gymnasium id (cartpole is CartPole-v1).", "CartPole-v1",
                       choices=("CartPole-v1",))  # fmt: skip
    max_episode_steps: int = describe("Steps before an episode is truncated.", 500, min=1)


@dataclass
class CartPoleConfig(GymConfig):
    """Config of the cartpole task."""

    env: CartPoleEnvConfig = section(CartPoleEnvConfig, "The environment.")


class CartPoleTask(GymTask):
    """Balance a pole: a learned policy against a random one, over the same seeds."""

    name = "cartpole"
    config_cls = CartPoleConfig

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> EvalResult:
        result = super().evaluate(cfg, agent, run)
        result.metrics["solved"] = float(result.metrics["episode_return"] >= SOLVED_RETURN)
        result.notes.append(
            f"solved means a mean return >= {SOLVED_RETURN:g} over {cfg.eval.episodes} episodes"
        )
        return result
