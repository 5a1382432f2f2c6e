"""warehouse_robots: PPO with one policy shared by every robot; evaluated on deliveries per
episode and pick rate against the greedy planning controller and random robots, with a picture
of the warehouse. The problem is an :class:`agents.base.ParallelAgents`: the robots env with
its options (job masks, shaping) set from the config, which RLlib wraps as a multi-agent env
and SB3 trains as one slot per robot (``agents.backends.sb3_slots``); both train exactly the
env the config describes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tasks.config import EvalConfig, TaskConfig, describe, section
from tasks.runner.base import EvalResult, Task

PICTURE_FILE = "warehouse.png"


@dataclass
class RobotsEnvConfig:
    """The robots warehouse (``envs.warehouse.robots.RobotsEnv``)."""

    size: str = describe(
        "Warehouse size, as RWARE's.", "tiny", choices=("tiny", "small", "medium", "large")
    )
    n_robots: int = describe("Robots.", 2, min=1, max=20)
    difficulty: str = describe(
        "Requests at a time: 2x, 1x or 0.5x the robots.",
        "normal",
        choices=("easy", "normal", "hard"),
    )
    rules: str = describe(
        "learnloop, or rware (RWARE 2.0 exactly).", "learnloop", choices=("learnloop", "rware")
    )
    reward: str = describe(
        "Who is paid for a delivery.", "individual", choices=("individual", "global", "two_stage")
    )
    sensor_range: int = describe(
        "Cells seen around each robot (the window is 2r+1 wide).", 1, min=0, max=5
    )
    observe_targets: bool = describe(
        "Append 7 features: carrying a request; offsets to the nearest request, goal, free slot.",
        True,
    )
    observe_paths: bool = describe(
        "Append 6 features of the robot's job (greedy controller's assignment): steps to it and "
        "their change after FORWARD, LEFT, RIGHT.",
        True,
    )
    max_steps: int = describe("Steps per episode.", 500, min=1)
    job_masks: bool = describe(
        "Mask TOGGLE_LOAD unless it lifts a requested shelf or puts back another one (with "
        "algo.name=maskable_ppo).",
        True,
    )
    shaping: float = describe(
        "Weight of potential-based shaping by each robot's path distance to its next target "
        "(0: off).",
        1.0,
        min=0.0,
    )


@dataclass
class RobotsEvalConfig(EvalConfig):
    """Evaluation: the trained robots, the greedy controller and random robots, same seeds."""

    episodes: int = describe("Episodes per policy in the final evaluation.", 5, min=1)
    greedy_horizon: int = describe("Planning horizon of the greedy controller (steps).", 24, min=1)
    temperature: float = describe(
        "With deterministic=false, sample the robots' actions from the policy's probabilities "
        "raised to 1/temperature (1: as trained; toward 0: argmax, where robots deadlock).",
        1.0,
        min=0.01,
    )


@dataclass
class RobotsConfig(TaskConfig):
    """Config of the warehouse_robots task."""

    env: RobotsEnvConfig = section(RobotsEnvConfig, "The warehouse.")
    eval: RobotsEvalConfig = section(RobotsEvalConfig, "Evaluation.")


def robots_env_kwargs(cfg: Any) -> dict[str, Any]:
    """RobotsEnv keyword arguments from the env section; shaping assumes the learner's discount."""
    env = cfg.env
    return {
        "size": env.size, "n_robots": env.n_robots, "difficulty": env.difficulty,
        "rules": env.rules, "reward": env.reward, "sensor_range": env.sensor_range,
        "observe_targets": env.observe_targets, "observe_paths": env.observe_paths,
        "max_steps": env.max_steps, "job_masks": env.job_masks, "shaping": env.shaping,
        "shaping_gamma": cfg.algo.gamma,
    }  # fmt: skip


class WarehouseRobotsTask(Task):
    """Robots fetching requested shelves; one PPO policy shared by all robots."""

    name = "warehouse_robots"
    config_cls = RobotsConfig
    headline = "charts/episode_return"

    def make_env(self, cfg: Any, index: int) -> Any:
        from envs.warehouse.robots import RobotsEnv

        return RobotsEnv(**robots_env_kwargs(cfg))

    def parallel_agents(self, cfg: Any) -> Any:
        """The problem: the robots env of the config, one and batched."""
        from envs.warehouse.vector import RobotsVectorEnv

        batched = functools.partial(RobotsVectorEnv, **robots_env_kwargs(cfg))
        from agents.base import ParallelAgents

        return ParallelAgents(self.make_env_factory(cfg), batched)

    def periodic(self, cfg: Any, run: Any) -> list[Any]:
        from agents.base import Periodic

        if not cfg.eval.every:
            return []

        def hook(step: int, agent: Any) -> dict[str, float]:
            seeds = range(50_000, 50_000 + cfg.eval.periodic_episodes)
            found = [self._episode(cfg, self._learned(agent, cfg), s) for s in seeds]
            return {"eval_periodic/deliveries": float(np.mean([f["deliveries"] for f in found]))}

        return [Periodic(cfg.eval.every, hook)]

    @staticmethod
    def _learned(agent: Any, cfg: Any) -> Any:
        rng = np.random.default_rng(cfg.seed)
        sharpen = not cfg.eval.deterministic and cfg.eval.temperature != 1.0

        def act(env: Any) -> np.ndarray:
            obs = env.core.observe()[0]
            masks = env.action_masks() > 0  # the env's own: job masks where the config says
            if sharpen:
                weights = agent.action_probabilities(obs, masks) ** (1.0 / cfg.eval.temperature)
                cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
                draws = rng.random((len(obs), 1))
                return np.minimum((cumulative < draws).sum(axis=1), masks.shape[1] - 1)
            chosen = agent.act_batch(obs, masks, cfg.eval.deterministic)
            return np.asarray(chosen).reshape(-1)

        return act

    def _episode(self, cfg: Any, policy: Any, seed: int, picture: Path | None = None) -> dict:
        env = self.make_env(cfg, 0)
        env.render_mode = "rgb_array"
        env.reset(seed=seed)
        while env.agents:
            if picture is not None and env.steps == env.max_steps // 2:
                save_picture(env.render(), picture)
            env.step(dict(zip(env.agents, policy(env).tolist(), strict=True)))
        return env.summary()

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> EvalResult:
        from agents.baselines.warehouse import GreedyController, RandomController

        seeds = [10_000 + cfg.seed * 1_000 + i for i in range(cfg.eval.episodes)]
        greedy, random = GreedyController(cfg.eval.greedy_horizon), RandomController(cfg.seed)
        run.eval_dir.mkdir(parents=True, exist_ok=True)
        picture = run.eval_dir / PICTURE_FILE
        policies = {
            "trained": self._learned(agent, cfg),
            "greedy": lambda env: greedy.actions(env.core, 0),
            "random": lambda env: random.actions(env.core, 0),
        }
        rows = []
        for name, policy in policies.items():
            greedy.reset()
            found = [
                self._episode(cfg, policy, s, picture if name == "trained" and i == 0 else None)
                for i, s in enumerate(seeds)
            ]
            rows.append(_summary_row(name, found))
        by_name = {row["policy"]: row for row in rows}
        metrics = {
            "deliveries": by_name["trained"]["deliveries_mean"],
            "pick_rate": by_name["trained"]["pick_rate_mean"],
            **{
                f"baseline/{name}/{key}": by_name[name][f"{key}_mean"]
                for name in ("greedy", "random")
                for key in ("deliveries", "pick_rate")
            },
            "deterministic": float(cfg.eval.deterministic),
            "temperature": float(cfg.eval.temperature),
            "fraction_of_greedy": by_name["trained"]["deliveries_mean"]
            / max(by_name["greedy"]["deliveries_mean"], 1e-9),
        }
        env = cfg.env
        notes = [
            f"{env.size} warehouse, {env.n_robots} robots, {env.max_steps} steps per episode, "
            f"rules={env.rules}; deliveries are the team's per episode, pick rate is order lines "
            "per hour at one second per step",
            "training steps count robot-steps (each robot's step counts once, as an SB3 slot "
            "or an RLlib agent-step)",
            f"the trained robots halfway through evaluation episode 1: ![warehouse](eval/{PICTURE_FILE})",
        ]
        return EvalResult(metrics=metrics, tables={"policies": rows}, notes=notes)


def _summary_row(name: str, episodes: list[dict]) -> dict[str, Any]:
    row: dict[str, Any] = {"policy": name, "episodes": len(episodes)}
    for key in ("deliveries", "pick_rate", "orders_completed"):
        values = [e[key] for e in episodes]
        row[f"{key}_mean"] = float(np.mean(values))
        row[f"{key}_std"] = float(np.std(values))
    return row


def save_picture(frame: np.ndarray, path: Path) -> None:
    """Write an RGB frame as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.imsave(path, frame)


# ---------------------------------------------------------------------------------------------
# Inventory
# ---------------------------------------------------------------------------------------------
