"""drive_highway: steer a car through highway traffic (highway-env's ``highway-fast-v0``).

The agent sees the kinematics observation (its own and the four nearest vehicles' presence,
position and velocity, a 5x5 array) and picks one of five meta-actions: LANE_LEFT, IDLE,
LANE_RIGHT, FASTER, SLOWER. The reward pays for speed (20-30 m/s) and the right lane and
punishes a collision, which ends the episode. Training logs ``charts/crash_rate`` and
``charts/mean_speed`` beside the common metrics; evaluation plays the trained agent, random
actions and keep-lane driving (IDLE) over the same seeds (the baselines' results as
``baseline/random/<metric>`` and ``baseline/keep_lane/<metric>``) and draws a strip of frames of
the trained agent into the report.

highway-env is an optional extra: ``pip install learnloop[drive]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from agents.base import EPISODE_METRICS
from tasks import driving
from tasks.config import AlgoConfig, TaskConfig, describe, section
from tasks.driving import FRAMES_FILE, Policy
from tasks.runner.base import EvalResult, Task
from tasks.runner.evaluation import random_policy

IDLE = "IDLE"


def require_highway_env() -> None:
    """Import highway-env (which registers its Gymnasium ids) or fail with one clear line."""
    driving.require_highway_env("drive_highway")


# ---------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------


@dataclass
class DriveEnvConfig:
    """The highway-env scenario (keys of highway-env's own config, passed through)."""

    env_id: str = describe(
        "highway-env scenario; the fast variant simulates at 5 Hz with fewer vehicles.",
        "highway-fast-v0",
        choices=("highway-fast-v0", "highway-v0"),
    )
    duration: int = describe("Episode length in seconds (one action per second).", 30, min=1)
    lanes_count: int = describe("Lanes on the road.", 3, min=1, max=8)
    vehicles_count: int = describe("Other vehicles on the road.", 20, min=0)
    vehicles_density: float = describe("Traffic density (1: highway-env's default).", 1.0, min=0.1)
    collision_reward: float = describe("Reward on a collision (which ends the episode).", -1.0)
    high_speed_reward: float = describe("Reward at full speed (30 m/s), linear from 20.", 0.4)
    right_lane_reward: float = describe("Reward for driving in the rightmost lane.", 0.1)


@dataclass
class DriveReportConfig(driving.StripConfig):
    """Driving charts during training and the strip of frames in the report."""

    frame_every: int = describe("Actions (seconds) between two frames of the strip.", 4, min=1)


def _drive_algo() -> AlgoConfig:
    # highway-env's own SB3 DQN example (scripts/sb3_highway_dqn.py), which trains in 20k steps.
    return AlgoConfig(
        name="dqn",
        n_envs=1,
        learning_rate=5e-4,
        batch_size=32,
        gamma=0.8,
        max_grad_norm=10.0,  # DQN's own default; the common 0.5 is PPO's
        net_arch=[256, 256],
        kwargs={
            "buffer_size": 15_000,
            "learning_starts": 200,
            "train_freq": 1,
            "gradient_steps": 1,
            "target_update_interval": 50,
            "exploration_fraction": 0.7,
        },
    )


@dataclass
class DriveConfig(TaskConfig):
    """Config of the drive_highway task."""

    env: DriveEnvConfig = section(DriveEnvConfig, "The highway scenario.")
    algo: AlgoConfig = section(_drive_algo, "Algorithm and hyperparameters.")
    report: DriveReportConfig = section(DriveReportConfig, "Driving charts and the frame strip.")


def highway_config(cfg: DriveConfig) -> dict[str, Any]:
    """The highway-env config dict for ``cfg.env`` (the kinematics observation, meta-actions)."""
    env = cfg.env
    return {
        "observation": {"type": "Kinematics"},
        "action": {"type": "DiscreteMetaAction"},
        "duration": env.duration,
        "lanes_count": env.lanes_count,
        "vehicles_count": env.vehicles_count,
        "vehicles_density": env.vehicles_density,
        "collision_reward": env.collision_reward,
        "high_speed_reward": env.high_speed_reward,
        "right_lane_reward": env.right_lane_reward,
    }


def make_highway(cfg: DriveConfig, render: bool = False) -> gym.Env:
    """A highway-env env for ``cfg``; ``render`` gives rgb_array frames without a display."""
    return driving.make_highway_env("drive_highway", cfg.env.env_id, highway_config(cfg), render)


# ---------------------------------------------------------------------------------------------
# Per-episode driving statistics
# ---------------------------------------------------------------------------------------------


class DrivingStats(gym.Wrapper):
    """Reports how each episode went under ``info[EPISODE_METRICS]`` on its last step:
    ``crash_rate`` (1 if the car crashed, else 0) and ``mean_speed`` (m/s). Every backend logs
    their means as ``charts/crash_rate`` and ``charts/mean_speed``, from any process."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._speeds: list[float] = []

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._speeds = []
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._speeds.append(float(info["speed"]))
        if terminated or truncated:
            info = {**info, EPISODE_METRICS: {
                "crash_rate": float(bool(info["crashed"])),
                "mean_speed": float(np.mean(self._speeds)),
            }}  # fmt: skip
            self._speeds = []
        return obs, reward, terminated, truncated, info


DRIVING = ("crash_rate", "mean_speed")  # what DrivingStats reports per episode


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def keep_lane_policy(obs: Any, env: Any) -> Any:
    """Keep the lane at the current target speed (IDLE)."""
    return env.unwrapped.action_type.actions_indexes[IDLE]


def evaluate_policy(cfg: DriveConfig, name: str, policy: Policy, episodes: int) -> dict[str, Any]:
    """Play ``episodes`` episodes over the task's fixed evaluation seeds; one table row (crash
    rate and mean speed: the mean over episodes, of each episode's mean speed)."""
    return driving.policy_row(
        lambda: DrivingStats(make_highway(cfg)), name, policy, episodes, eval_seed(cfg),
        DRIVING, "crash_rate",
    )  # fmt: skip


def eval_seed(cfg: DriveConfig) -> int:
    """The first evaluation seed; evaluation seeds never overlap training's."""
    return driving.eval_seed(cfg.seed)


def baseline_rows(cfg: DriveConfig, episodes: int) -> list[dict[str, Any]]:
    """The random and keep-lane baselines over the evaluation seeds."""
    return [
        evaluate_policy(cfg, "random", random_policy, episodes),
        evaluate_policy(cfg, "keep_lane", keep_lane_policy, episodes),
    ]


def draw_strip(cfg: DriveConfig, policy: Policy, path: Path) -> int:
    """Drive one episode (the first evaluation seed) and draw every ``frame_every``-th frame
    into a vertical strip at ``path``; returns the number of frames drawn."""
    return driving.draw_strip(
        lambda: make_highway(cfg, render=True), policy, eval_seed(cfg),
        cfg.report.strip_frames, cfg.report.frame_every, _frame_label, path,
    )  # fmt: skip


def _frame_label(step: int, info: dict[str, Any], env: Any) -> str:
    crashed = ", crashed" if info.get("crashed") else ""
    return f"t = {step} s, {info['speed']:.1f} m/s{crashed}"


# ---------------------------------------------------------------------------------------------
# The task
# ---------------------------------------------------------------------------------------------


class DriveTask(Task):
    """Drive fast without crashing; the trained agent against random and keep-lane driving."""

    name = "drive_highway"
    config_cls = DriveConfig
    curves = (
        "charts/episode_return",
        "charts/crash_rate",
        "charts/mean_speed",
        "charts/episode_length",
    )

    def __init__(self) -> None:
        # Fail before the runner makes a run folder, with the command that fixes it.
        require_highway_env()

    def make_env(self, cfg: Any, index: int) -> Any:
        return DrivingStats(make_highway(cfg))

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> EvalResult:
        episodes = cfg.eval.episodes

        def learned(obs: Any, env: Any) -> Any:
            return agent.act(obs, deterministic=cfg.eval.deterministic)

        rows = [evaluate_policy(cfg, "trained", learned, episodes), *baseline_rows(cfg, episodes)]
        metrics: dict[str, float] = {}
        for row in rows:
            prefix = "" if row["policy"] == "trained" else f"baseline/{row['policy']}/"
            for key in ("crash_rate", "mean_speed", "episode_return_mean"):
                metrics[prefix + key.removesuffix("_mean")] = row[key]
        trained, keep_lane = rows[0], rows[2]
        metrics["beats_keep_lane"] = float(
            trained["crash_rate"] < keep_lane["crash_rate"]
            and trained["mean_speed"] > keep_lane["mean_speed"]
        )
        seeds = f"{eval_seed(cfg)}-{eval_seed(cfg) + episodes - 1}"
        notes = [
            f"{episodes} episodes per policy over env seeds {seeds}; mean speed in m/s is the "
            "mean over episodes of each episode's mean speed",
            "beats_keep_lane = 1 when the trained agent crashes less often than keep-lane driving "
            "and drives faster on average",
        ]
        if cfg.report.strip_frames:
            run.eval_dir.mkdir(exist_ok=True)
            count = draw_strip(cfg, learned, run.eval_dir / FRAMES_FILE)
            notes.append(
                f"the trained agent on seed {eval_seed(cfg)}, {count} frames "
                f"{cfg.report.frame_every} s apart: ![frames](eval/{FRAMES_FILE})"
            )
        return EvalResult(metrics=metrics, tables={"policies": rows}, notes=notes)
