"""drive_highway: drive fast through highway traffic without crashing (highway-env's
``highway-fast-v0``).

The agent sees the kinematics observation (its own and the nearest vehicles' presence, position
and velocity) and picks one of five meta-actions: LANE_LEFT, IDLE, LANE_RIGHT, FASTER, SLOWER.
highway-env's reward pays for speed (``env.reward_speed_range``) and the right lane and
punishes a collision, which ends the episode; ``env.headway_time`` > 0 adds a cost for closing
in on the car ahead (:class:`tasks.driving.HeadwayCost` over :func:`time_headway`), which is
what made the learned driver safe. Training logs ``charts/crash_rate``, ``charts/mean_speed``
and ``charts/distance`` from every backend's env runners; evaluation plays the trained agent,
random actions, keep-lane driving (IDLE) and an IDM/MOBIL rule-based driver over the same
held-out seeds (the baselines' results as ``baseline/<name>/<metric>``) and draws a strip of
frames of the trained agent into the report. ``meets_goal`` is issue 19's goal: a crash rate of
at most 0.10 at keep-lane's mean speed or faster.

highway-env is an optional extra: ``pip install learnloop[drive]``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from agents.base import EPISODE_METRICS
from tasks import driving, highway_fast
from tasks.config import AlgoConfig, ConfigError, TaskConfig, describe, section
from tasks.driving import FRAMES_FILE, Policy
from tasks.runner.base import EvalResult, Task
from tasks.runner.evaluation import random_policy

IDLE = "IDLE"
LANE_WIDTH = 4.0  # m, highway-env's AbstractLane.DEFAULT_WIDTH
GOAL_CRASH_RATE = 0.10  # issue 19: a safe driver, as fast as keep-lane driving


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
    observed_vehicles: int = describe(
        "Rows of the kinematics observation: the car itself and the nearest others.", 5, min=1
    )
    see_behind: bool = describe("Also observe cars behind (highway-env: only ahead).", False)
    observed_distance: float = describe(
        "Relative positions along the road are scaled by this many metres into [-1, 1] "
        "(highway-env: 200).",
        200.0,
        min=1.0,
    )
    observed_speed: float = describe(
        "Relative velocities are scaled by this many m/s into [-1, 1] (highway-env: 80, where "
        "a car 3 m/s slower than ours shows as 0.04).",
        80.0,
        min=1.0,
    )
    collision_reward: float = describe("Reward on a collision (which ends the episode).", -1.0)
    high_speed_reward: float = describe("Reward at full speed (30 m/s), linear from 20.", 0.4)
    right_lane_reward: float = describe("Reward for driving in the rightmost lane.", 0.1)
    reward_speed_range: list[float] = describe(
        "Speeds (m/s) between which the speed reward grows from 0 to high_speed_reward.",
        factory=lambda: [20.0, 30.0],
    )
    target_speeds: list[float] = describe(
        "Speeds (m/s) that the 'faster' and 'slower' actions step between (highway-env: 20, 25, "
        "30); the car starts at the one nearest its initial speed.",
        factory=lambda: [20.0, 25.0, 30.0],
    )
    headway_time: float = describe(
        "Time headway (s) under which following the car ahead costs reward: the gap to it "
        "divided by the car's own speed, on its lane and on the lane it is changing to "
        "(0: no headway cost, highway-env's reward alone).",
        0.0,
        min=0.0,
    )
    headway_cost: float = describe(
        "Reward taken per step at zero headway, falling linearly to 0 at headway_time.",
        0.5,
        min=0.0,
    )
    lane_change_cost: float = describe(
        "Reward taken for each lane change the car starts (0: none; highway-env's merge "
        "scenario charges 0.05 for each lane-change action).",
        0.0,
        min=0.0,
    )


@dataclass
class DriveNetworkConfig:
    """The network under the Q-values (or policy): algo.net_arch's MLP on the flattened
    observation, or on ego-attention features."""

    kind: str = describe(
        "mlp: algo.net_arch over the flattened kinematics rows; ego_attention: the car's row "
        "attends to the other vehicles' (rl-agents' ego-attention network), then algo.net_arch "
        "(backend=sb3; dqn or ppo under backend=rllib)",
        "mlp",
        choices=("mlp", "ego_attention"),
    )
    embed_dim: int = describe("ego_attention: width of each vehicle's embedding.", 64, min=8)
    heads: int = describe("ego_attention: attention heads (they split embed_dim).", 2, min=1)


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
    network: DriveNetworkConfig = section(DriveNetworkConfig, "The network.")
    algo: AlgoConfig = section(_drive_algo, "Algorithm and hyperparameters.")
    eval: driving.DrivingEvalConfig = section(
        driving.DrivingEvalConfig, "Evaluation and the checkpoint it plays."
    )
    report: DriveReportConfig = section(DriveReportConfig, "Driving charts and the frame strip.")


def highway_config(cfg: DriveConfig) -> dict[str, Any]:
    """The highway-env config dict for ``cfg.env`` (the kinematics observation, meta-actions)."""
    env = cfg.env
    return {
        "observation": {
            "type": "Kinematics",
            "vehicles_count": env.observed_vehicles,
            "see_behind": env.see_behind,
            "features_range": {
                "x": [-env.observed_distance, env.observed_distance],
                "y": [-LANE_WIDTH * env.lanes_count, LANE_WIDTH * env.lanes_count],
                "vx": [-env.observed_speed, env.observed_speed],
                "vy": [-env.observed_speed, env.observed_speed],
            },
        },
        "action": {"type": "DiscreteMetaAction", "target_speeds": list(env.target_speeds)},
        "duration": env.duration,
        "lanes_count": env.lanes_count,
        "vehicles_count": env.vehicles_count,
        "vehicles_density": env.vehicles_density,
        "collision_reward": env.collision_reward,
        "high_speed_reward": env.high_speed_reward,
        "right_lane_reward": env.right_lane_reward,
        "reward_speed_range": list(env.reward_speed_range),
    }


def make_highway(cfg: DriveConfig, render: bool = False) -> gym.Env:
    """A highway-env env for ``cfg`` (with the headway cost when ``env.headway_time`` > 0),
    its hot spots in numpy (:func:`tasks.highway_fast.speed_up`: the same episodes, ~1.7x
    faster); ``render`` gives rgb_array frames without a display."""
    env = driving.make_highway_env("drive_highway", cfg.env.env_id, highway_config(cfg), render)
    highway_fast.speed_up(env.unwrapped)
    if cfg.env.headway_time > 0:
        env = driving.HeadwayCost(env, time_headway, cfg.env.headway_time, cfg.env.headway_cost)
    if cfg.env.lane_change_cost > 0:
        env = driving.LaneChangeCost(env, cfg.env.lane_change_cost)
    return env


def time_headway(road_env: Any) -> float:
    """Seconds until the ego car reaches the rear of the nearest car ahead at its current speed,
    on its lane or the lane it is changing to (inf: no car ahead)."""
    ego, road = road_env.vehicle, road_env.road
    headway = math.inf
    for index in {ego.lane_index, getattr(ego, "target_lane_index", ego.lane_index)}:
        front, _ = road.neighbour_vehicles(ego, index)
        if front is not None:
            lane = road.network.get_lane(index)
            gap = (
                lane.local_coordinates(front.position)[0] - lane.local_coordinates(ego.position)[0]
            )
            headway = min(headway, (gap - front.LENGTH) / max(ego.speed, 1.0))
    return headway


# ---------------------------------------------------------------------------------------------
# Per-episode driving statistics
# ---------------------------------------------------------------------------------------------


class DrivingStats(gym.Wrapper):
    """Reports how each episode went under ``info[EPISODE_METRICS]`` on its last step:
    ``crash_rate`` (1 if the car crashed, else 0), ``mean_speed`` (m/s) and ``distance`` (metres
    driven along the road). Every backend logs their means as ``charts/<name>``, from any
    process."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._speeds: list[float] = []
        self._start = 0.0

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._speeds = []
        obs, info = self.env.reset(**kwargs)
        self._start = float(self.env.unwrapped.vehicle.position[0])
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._speeds.append(float(info["speed"]))
        if terminated or truncated:
            info = {**info, EPISODE_METRICS: {
                "crash_rate": float(bool(info["crashed"])),
                "mean_speed": float(np.mean(self._speeds)),
                "distance": float(self.env.unwrapped.vehicle.position[0]) - self._start,
            }}  # fmt: skip
            self._speeds = []
        return obs, reward, terminated, truncated, info


DRIVING = ("crash_rate", "mean_speed", "distance")  # what DrivingStats reports per episode


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def keep_lane_policy(obs: Any, env: Any) -> Any:
    """Keep the lane at the current target speed (IDLE)."""
    return env.unwrapped.action_type.actions_indexes[IDLE]


IDM_TARGET_SPEED = 30.0  # m/s: the top of the reward's speed range and the road's limit


def idm_mobil_policy(obs: Any, env: Any) -> Any:
    """A rule-based driver: highway-env's own IDM car-following model (brakes for the car
    ahead) with MOBIL lane changes (changes lane when that lets it go faster without making
    the car behind brake hard), aiming at 30 m/s. Nothing is learned. On the first step of an
    episode it puts highway-env's ``IDMVehicle`` in the ego car's place (same position, speed
    and lane); from then on the IDM car drives itself and the action (IDLE) is ignored."""
    from highway_env.vehicle.behavior import IDMVehicle

    road_env = env.unwrapped
    ego = road_env.vehicle
    if not isinstance(ego, IDMVehicle):
        driver = IDMVehicle.create_from(ego)
        driver.target_speed = IDM_TARGET_SPEED
        road_env.road.vehicles[road_env.road.vehicles.index(ego)] = driver
        road_env.controlled_vehicles[road_env.controlled_vehicles.index(ego)] = driver
        road_env.action_type.controlled_vehicle = driver
    return keep_lane_policy(obs, env)


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
    """The random, keep-lane and IDM/MOBIL baselines over the evaluation seeds."""
    return [
        evaluate_policy(cfg, "random", random_policy, episodes),
        evaluate_policy(cfg, "keep_lane", keep_lane_policy, episodes),
        evaluate_policy(cfg, "idm_mobil", idm_mobil_policy, episodes),
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

    def validate(self, cfg: Any) -> None:
        low_high = cfg.env.reward_speed_range
        if len(low_high) != 2 or not 0 <= low_high[0] < low_high[1]:
            raise ConfigError(
                f"env.reward_speed_range={low_high}: give two speeds in m/s, low < high "
                "(e.g. [20, 30])"
            )
        speeds = cfg.env.target_speeds
        if len(speeds) < 2 or any(b <= a for a, b in itertools.pairwise(speeds)) or speeds[0] < 0:
            raise ConfigError(
                f"env.target_speeds={speeds}: give two or more increasing speeds in m/s "
                "(e.g. [20, 25, 30])"
            )
        driving.check_eval_seeds(cfg)
        net = cfg.network
        if net.kind == "ego_attention" and net.embed_dim % net.heads:
            raise ConfigError(
                f"network.embed_dim={net.embed_dim} does not split into "
                f"network.heads={net.heads} equal heads"
            )

    def policy_kwargs(self, cfg: Any) -> dict[str, Any]:
        if cfg.network.kind == "mlp":
            return {}
        from agents.networks import EgoAttention

        kwargs = {"embed_dim": cfg.network.embed_dim, "heads": cfg.network.heads}
        return {"features_extractor_class": EgoAttention, "features_extractor_kwargs": kwargs}

    def make_env(self, cfg: Any, index: int) -> Any:
        return DrivingStats(make_highway(cfg))

    def periodic(self, cfg: Any, run: Any) -> list[Any]:
        return driving.validation_hooks(cfg, run, lambda: DrivingStats(make_highway(cfg)), DRIVING)

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> EvalResult:
        episodes = cfg.eval.episodes
        agent, selection, selection_note = driving.selected_agent(self, cfg, agent, run)

        def learned(obs: Any, env: Any) -> Any:
            return agent.act(obs, deterministic=cfg.eval.deterministic)

        rows = [evaluate_policy(cfg, "trained", learned, episodes), *baseline_rows(cfg, episodes)]
        metrics: dict[str, float] = dict(selection)
        for row in rows:
            prefix = "" if row["policy"] == "trained" else f"baseline/{row['policy']}/"
            for key in (*DRIVING, "episode_return_mean"):
                metrics[prefix + key.removesuffix("_mean")] = row[key]
        trained, keep_lane = rows[0], rows[2]
        metrics["meets_goal"] = float(
            trained["crash_rate"] <= GOAL_CRASH_RATE
            and trained["mean_speed"] >= keep_lane["mean_speed"]
        )
        seeds = f"{eval_seed(cfg)}-{eval_seed(cfg) + episodes - 1}"
        notes = [
            f"{episodes} episodes per policy over held-out env seeds {seeds}; mean speed in m/s "
            "is the mean over episodes of each episode's mean speed; distance in metres along "
            "the road",
            f"meets_goal = 1 when the trained agent crashes in at most {GOAL_CRASH_RATE:.0%} of "
            "the episodes at a mean speed at or above keep-lane driving's",
            selection_note,
        ]
        if cfg.report.strip_frames:
            run.eval_dir.mkdir(exist_ok=True)
            count = draw_strip(cfg, learned, run.eval_dir / FRAMES_FILE)
            notes.append(
                f"the trained agent on seed {eval_seed(cfg)}, {count} frames "
                f"{cfg.report.frame_every} s apart: ![frames](eval/{FRAMES_FILE})"
            )
        return EvalResult(metrics=metrics, tables={"policies": rows}, notes=notes)
