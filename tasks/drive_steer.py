"""drive_steer: steer a car round highway-env's ``racetrack-v0`` with continuous actions.

The car drives at 10 m/s; the agent turns the steering wheel (one number in [-1, 1], for
+-``env.steering_range`` degrees), five times a second, and with ``env.throttle=true`` also
presses the throttle or the brake (then the action is ``[throttle, steering]``). It sees the
racetrack's occupancy grid around it, aligned with its heading: a 12x12 grid of 3 m cells with
two layers, other vehicles (``presence``) and the lanes' centre lines (``on_road``); with
``env.lane_position`` also its offset across the road and its heading error, with
``env.lane_traffic`` also the gap along each lane to the nearest car ahead. One slower car
drives ahead on the same lane (plus up to ``other_vehicles - 1`` more placed at random), so
keeping the lane is not enough: the car must overtake. Training may put more cars on the track
(``env.train_other_vehicles``: more passing per step of experience); evaluation always drives
``other_vehicles``. highway-env's reward pays for staying near the lane centre and punishes
steering effort and collisions (``env.headway_cost`` adds a cost for closing in on a car ahead
on the lane); the episode ends when the car leaves the road or crashes, or after
``env.duration`` seconds (a lap is about 350 m, 35 s at 10 m/s). One fix to highway-env's
track: on the straight f-g its two lanes leave an 8.7 cm strip between them that highway-env
counts as off the road, so changing lanes there could end an episode; the lanes there are
widened to meet (:func:`close_lane_gaps`).

Vocabulary of the metrics (``SteeringStats`` reports them per episode, every backend logs them
as ``charts/<name>``, evaluation as their means):

- ``on_road_rate``: 1 for an episode that reached its time limit without leaving the road or
  crashing, else 0.
- ``crash_rate``: 1 for an episode that ended in a collision.
- ``mean_lateral_offset``: mean distance (m) of the car's centre from the centre line of the
  lane it is on, over the episode's steps (a lane is 5 m wide; the road two lanes).
- ``mean_speed``: mean speed (m/s) over the episode's steps.

Evaluation plays the trained agent, a pure-pursuit controller that reads the lanes from the
road network and changes lanes to pass a car ahead (a rule-based controller, nothing
learned: :func:`pure_pursuit_action`), and random steering, over the same held-out env seeds; the
baselines' numbers go to ``baseline/<name>/<metric>``.

highway-env is an optional extra: ``pip install learnloop[drive]``.
"""

from __future__ import annotations

import itertools
import math
import warnings
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

TASK = "drive_steer"
METRICS = ("on_road_rate", "crash_rate", "mean_lateral_offset", "mean_speed")
# The metrics each policy's row reports in results.json (and under baseline/<name>/).
HEADLINE = (*METRICS, "episode_return")
# The algorithms that output continuous actions (under backend=rllib: sac and ppo).
CONTINUOUS = ("sac", "ppo", "a2c")


# ---------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------


@dataclass
class SteerEnvConfig:
    """The racetrack scenario (keys of highway-env's own config, passed through)."""

    env_id: str = describe("highway-env scenario.", "racetrack-v0", choices=("racetrack-v0",))
    duration: int = describe(
        "Episode length in seconds (5 actions a second); a lap takes about 35 s.", 40, min=1
    )
    throttle: bool = describe(
        "Also control the throttle (action [throttle, steering]); off: steering only at the "
        "initial 10 m/s, highway-env's racetrack default.",
        False,
    )
    other_vehicles: int = describe(
        "Other cars: one ahead on the car's lane, plus up to this many minus one at random "
        "(0: an empty track).",
        1,
        min=0,
    )
    train_other_vehicles: int = describe(
        "Other cars in the training episodes, as other_vehicles counts them (-1: as many as "
        "other_vehicles). More cars in training means more cars to pass per step of "
        "experience; evaluation always uses other_vehicles.",
        -1,
        min=-1,
    )
    collision_reward: float = describe(
        "Reward weight of a collision (which ends the episode).", -1.0
    )
    lane_centering_cost: float = describe(
        "How fast the centring reward 1 / (1 + cost * offset^2) falls off the lane centre.",
        4.0,
        min=0.0,
    )
    action_reward: float = describe("Reward weight of the action's size (steering effort).", -0.3)
    steering_range: float = describe(
        "Steering angle (degrees) of the action +-1 (highway-env's default: 45). The tightest "
        "curve (15 m radius) takes ~19 degrees of the kinematic bicycle.",
        45.0,
        min=1.0,
        max=90.0,
    )
    lane_position: bool = describe(
        "Ours, not highway-env's: besides the occupancy grid (flattened), observe where the car "
        "is across the road and its heading against the road's (LanePosition). The grid alone "
        "places the car only to its 3 m cells, on a road 10 m wide.",
        False,
    )
    headway_cost: float = describe(
        "Ours, not highway-env's: a cost per step of up to this much while a car ahead on the "
        "car's lane is closer than env.headway metres, growing linearly as the gap shrinks "
        "(0: off). A dense signal to move out before the crash, rather than only after it.",
        0.0,
        min=0.0,
    )
    headway: float = describe(
        "Gap (m, centre to centre along the lane) below which env.headway_cost applies.",
        20.0,
        min=1.0,
    )
    lane_traffic: float = describe(
        "Ours, not highway-env's: also observe, for each of the road's two lanes, the gap along "
        "that lane to the nearest car ahead (or alongside) as a fraction of this many metres "
        "(1: none that close) and how fast the car closes in on it (m/s over 10); 0: off "
        "(LaneTraffic). In curves the heading-aligned grid can show the car ahead on the car's "
        "own lane off to one side, as if on the other lane; these numbers do not bend.",
        0.0,
        min=0.0,
    )


@dataclass
class ControllerConfig:
    """The pure-pursuit baseline (a rule-based controller, it reads the road network)."""

    lookahead: float = describe(
        "Metres ahead along the lane where the controller aims.", 8.0, min=1.0, max=50.0
    )
    overtake_gap: float = describe(
        "Change lanes when a car ahead on the lane is closer than this many metres "
        "(0: never; it then follows its lane into the car ahead).",
        25.0,
        min=0.0,
    )


@dataclass
class SteerReportConfig(driving.StripConfig):
    """The strip of frames in the report."""

    frame_every: int = describe("Actions (0.2 s each) between two frames of the strip.", 25, min=1)


def _steer_algo() -> AlgoConfig:
    # SB3's SAC defaults, but 256x256 MLPs as in highway-env's racetrack example
    # (scripts/sb3_racetracks_ppo.py), gamma 0.95 (its 0.9 passed the car ahead less often,
    # configs/drive_steer.yaml), a 100k buffer and two envs in subprocesses (one per core).
    # ent_coef must be named here: the common algo.ent_coef (0) would fix SAC's entropy at 0.
    return AlgoConfig(
        name="sac",
        n_envs=2,
        vec_env="subproc",
        learning_rate=3e-4,
        batch_size=256,
        gamma=0.95,
        net_arch=[256, 256],
        kwargs={
            "buffer_size": 100_000,
            "learning_starts": 1_000,
            "train_freq": 1,
            "gradient_steps": 1,
            "ent_coef": "auto",
        },
    )


@dataclass
class DriveSteerConfig(TaskConfig):
    """Config of the drive_steer task."""

    env: SteerEnvConfig = section(SteerEnvConfig, "The racetrack scenario.")
    algo: AlgoConfig = section(_steer_algo, "Algorithm and hyperparameters.")
    controller: ControllerConfig = section(ControllerConfig, "The pure-pursuit baseline.")
    eval: driving.DrivingEvalConfig = section(
        driving.DrivingEvalConfig, "Evaluation and the checkpoint it plays."
    )
    report: SteerReportConfig = section(SteerReportConfig, "The frame strip.")


def racetrack_config(cfg: DriveSteerConfig, training: bool = False) -> dict[str, Any]:
    """highway-env's config dict for ``cfg.env`` (its racetrack observation, our action);
    ``training`` puts ``env.train_other_vehicles`` cars on the track."""
    env = cfg.env
    others = env.other_vehicles
    if training and env.train_other_vehicles >= 0:
        others = env.train_other_vehicles
    return {
        "action": {
            "type": "ContinuousAction",
            "longitudinal": env.throttle,
            "lateral": True,
            "target_speeds": [0, 5, 10],
            "steering_range": [-math.radians(env.steering_range), math.radians(env.steering_range)],
        },
        "duration": env.duration,
        "other_vehicles": others,
        "collision_reward": env.collision_reward,
        "lane_centering_cost": env.lane_centering_cost,
        "action_reward": env.action_reward,
    }


def make_racetrack(cfg: DriveSteerConfig, render: bool = False, training: bool = False) -> gym.Env:
    """The racetrack for ``cfg``, with :class:`SteeringStats`; ``render`` draws frames;
    ``training`` gives the training envs' traffic (``env.train_other_vehicles``)."""
    config = racetrack_config(cfg, training)
    with warnings.catch_warnings():
        # gymnasium calls racetrack-v0 "out of date" because a -v1 exists; v1 only changes how
        # the simulated cars look for neighbours across lane segments.
        warnings.filterwarnings("ignore", message=".*out of date.*")
        env = driving.make_highway_env(TASK, cfg.env.env_id, config, render)
    highway_fast.fast_road_layer(env.unwrapped)
    highway_fast.after_define_spaces(env.unwrapped, lambda: close_lane_gaps(env.unwrapped.road))
    if cfg.env.lane_position:
        env = LanePosition(env)
    if cfg.env.lane_traffic:
        env = LaneTraffic(env, cfg.env.lane_traffic)
    if cfg.env.headway_cost:
        env = driving.HeadwayCost(env, headway_gap, cfg.env.headway, cfg.env.headway_cost)
    return SteeringStats(env)


def close_lane_gaps(road: Any) -> None:
    """Widen side-by-side lanes that do not meet so that they do. racetrack-v0 builds its
    straight f-g with lane centres 5.087 m apart and lanes 5 m wide: a car changing lanes there
    crosses an 8.7 cm strip that is on neither lane, where highway-env calls it off the road
    (``Vehicle.on_road`` asks the closest lane only) and ends the episode. Each lane of such a
    pair grows by the gap, so each edge moves out by half of it (4.35 cm) and the two lanes
    meet; every other segment's lanes already do."""
    if road is None:
        return
    for ends in road.network.graph.values():
        for lanes in ends.values():
            for inner, outer in itertools.pairwise(lanes):
                _, lateral = inner.local_coordinates(outer.position(0.0, 0.0))
                gap = abs(lateral) - (inner.width_at(0.0) + outer.width_at(0.0)) / 2
                if gap > 1e-6:
                    inner.width += gap
                    outer.width += gap


class ExtraObservation(gym.ObservationWrapper):
    """The observation, flattened, and ``size`` numbers more: ``features(env.unwrapped)``."""

    def __init__(self, env: gym.Env, size: int, features: Any) -> None:
        super().__init__(env)
        self._features = features
        size += int(np.prod(env.observation_space.shape))
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (size,), np.float32)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        extra = self._features(self.env.unwrapped)
        return np.concatenate([np.ravel(observation), extra]).astype(np.float32)


class LanePosition(ExtraObservation):
    """The occupancy grid, flattened, and two numbers more: the car's offset across the road
    from the centre of lane 0 in lane widths (0 on lane 0's centre line, 1 on lane 1's, the
    road's edges at -0.5 and 1.5) and its heading minus the road's there (radians, wrapped to
    [-pi, pi]; positive turns toward lane 1). On every segment of the racetrack lane 1 lies
    on the positive side of lane 0 (a test checks it), so both numbers mean the same
    everywhere on the track."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env, 2, lane_position)


class LaneTraffic(ExtraObservation):
    """The observation, flattened, and four numbers more, the traffic measured along the road
    (:func:`lane_traffic`): for lane 0, then lane 1, the gap to the nearest car ahead as a
    fraction of ``reach`` metres and the speed at which the car closes in on it."""

    def __init__(self, env: gym.Env, reach: float) -> None:
        super().__init__(env, 4, lambda unwrapped: lane_traffic(unwrapped, reach))


def lane_position(env: Any) -> np.ndarray:
    """``[offset, heading error]`` of ``env.vehicle`` as :class:`LanePosition` observes them."""
    vehicle, network = env.vehicle, env.road.network
    start, end, _ = vehicle.lane_index
    lane = network.get_lane((start, end, 0))
    s, lateral = lane.local_coordinates(vehicle.position)
    error = (vehicle.heading - lane.heading_at(s) + math.pi) % (2 * math.pi) - math.pi
    return np.array([lateral / lane.width_at(s), error])


# ---------------------------------------------------------------------------------------------
# Per-episode driving statistics
# ---------------------------------------------------------------------------------------------


class SteeringStats(gym.Wrapper):
    """Reports how each episode went under ``info[EPISODE_METRICS]`` on its last step:
    the metrics of the module docstring (``on_road_rate``, ``crash_rate``,
    ``mean_lateral_offset``, ``mean_speed``)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._offsets: list[float] = []
        self._speeds: list[float] = []

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._offsets, self._speeds = [], []
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        vehicle = self.env.unwrapped.vehicle
        self._offsets.append(abs(float(vehicle.lane.local_coordinates(vehicle.position)[1])))
        self._speeds.append(float(vehicle.speed))
        if terminated or truncated:
            crashed = bool(vehicle.crashed)
            info = {**info, EPISODE_METRICS: {
                "on_road_rate": float(vehicle.on_road and not crashed),
                "crash_rate": float(crashed),
                "mean_lateral_offset": float(np.mean(self._offsets)),
                "mean_speed": float(np.mean(self._speeds)),
            }}  # fmt: skip
        return obs, reward, terminated, truncated, info


# ---------------------------------------------------------------------------------------------
# Baselines: pure pursuit and random steering
# ---------------------------------------------------------------------------------------------

LaneIndex = tuple[str, str, int]


def _next_lane_index(network: Any, index: LaneIndex) -> LaneIndex:
    """The same lane on the road segment after ``index`` (the racetrack is one loop)."""
    _, end, lane_id = index
    following = next(iter(network.graph[end]))
    return end, following, min(lane_id, len(network.graph[end][following]) - 1)


def gap_ahead(road: Any, vehicle: Any, index: LaneIndex) -> float:
    """Metres along lane ``index`` (and the segment after it) from ``vehicle`` to the nearest
    other car on that lane ahead of it, or alongside (inf: none)."""
    return nearest_ahead(road, vehicle, index)[0]


def nearest_ahead(road: Any, vehicle: Any, index: LaneIndex) -> tuple[float, Any]:
    """:func:`gap_ahead` and the car at that gap (None: none)."""
    network = road.network
    lane = network.get_lane(index)
    own_s = lane.local_coordinates(vehicle.position)[0]
    segments = ((lane, 0.0), (network.get_lane(_next_lane_index(network, index)), lane.length))
    nearest, car = math.inf, None
    for other in road.vehicles:
        if other is vehicle:
            continue
        for segment, offset in segments:
            s, lateral = segment.local_coordinates(other.position)
            if abs(lateral) < segment.width / 2 + 1.0 and -vehicle.LENGTH <= s <= segment.length:
                gap = s + offset - own_s
                if -vehicle.LENGTH * 1.5 < gap < nearest:  # ahead, or alongside
                    nearest, car = gap, other
                break
    return nearest, car


def lane_traffic(env: Any, reach: float) -> np.ndarray:
    """``[gap, closing speed]`` for lane 0 then lane 1 of the car's road segment, as
    :class:`LaneTraffic` observes them: the gap to the nearest car ahead on that lane
    (:func:`nearest_ahead`, 0 for one alongside) over ``reach``, capped at 1, and the car's
    speed minus that car's over 10 m/s (0 when none is within ``reach``)."""
    vehicle, road = env.vehicle, env.road
    start, end, _ = vehicle.lane_index
    lanes = len(road.network.graph[start][end])
    features = []
    for lane_id in (0, 1):
        gap, other = nearest_ahead(road, vehicle, (start, end, min(lane_id, lanes - 1)))
        near = other is not None and gap < reach
        closing = (vehicle.speed - other.speed) / 10.0 if near else 0.0
        features += [min(max(gap, 0.0), reach) / reach, closing]
    return np.array(features)


def headway_gap(env: Any) -> float:
    """Metres to the nearest car ahead on the car's lane (:func:`gap_ahead`), 0 for one
    alongside: env.headway_cost's measure."""
    vehicle = env.vehicle
    return max(0.0, gap_ahead(env.road, vehicle, vehicle.lane_index))


def pure_pursuit_action(env: Any, lookahead: float, overtake_gap: float) -> np.ndarray:
    """Steer toward the point ``lookahead`` metres ahead on the centre line of the car's lane,
    or of the other lane while a car ahead is closer than ``overtake_gap`` metres.

    Pure pursuit: the arc through that point has curvature 2 sin(alpha) / d (alpha the angle
    to the point, d its distance); highway-env's kinematic bicycle turns its centre on
    curvature 2 sin(beta) / length with slip angle beta = atan(tan(steering) / 2), which
    gives the steering angle."""
    unwrapped = env.unwrapped
    vehicle, network = unwrapped.vehicle, unwrapped.road.network
    target = vehicle.lane_index
    if overtake_gap > 0 and gap_ahead(unwrapped.road, vehicle, target) < overtake_gap:
        lanes = len(network.graph[target[0]][target[1]])
        target = (target[0], target[1], (target[2] + 1) % lanes)
    lane = network.get_lane(target)
    ahead = lane.local_coordinates(vehicle.position)[0] + lookahead
    if ahead > lane.length:
        point = network.get_lane(_next_lane_index(network, target)).position(ahead - lane.length, 0)
    else:
        point = lane.position(ahead, 0)
    to_point = point - vehicle.position
    alpha = math.atan2(to_point[1], to_point[0]) - vehicle.heading
    alpha = (alpha + math.pi) % (2 * math.pi) - math.pi
    sin_beta = np.clip(vehicle.LENGTH * math.sin(alpha) / np.linalg.norm(to_point), -1.0, 1.0)
    steering = math.atan(2 * math.tan(math.asin(sin_beta)))
    steer = float(np.clip(steering / unwrapped.action_type.steering_range[1], -1.0, 1.0))
    if unwrapped.action_type.longitudinal:  # hold the speed: no throttle, no brake
        return np.array([0.0, steer], dtype=np.float32)
    return np.array([steer], dtype=np.float32)


def baselines(cfg: DriveSteerConfig) -> dict[str, Policy]:
    """The baselines by name: the pure-pursuit controller and random steering."""
    control = cfg.controller

    def pure_pursuit(obs: Any, env: Any) -> Any:
        return pure_pursuit_action(env, control.lookahead, control.overtake_gap)

    return {"pure_pursuit": pure_pursuit, "random": random_policy}


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def eval_seed(cfg: DriveSteerConfig) -> int:
    """The first held-out evaluation seed: training envs take seeds ``seed, seed + 1, ...``
    (then run on without reseeding); tuning used seeds 1,000-1,999."""
    return driving.eval_seed(cfg.seed)


def evaluate_policy(
    cfg: DriveSteerConfig, name: str, policy: Policy, episodes: int
) -> dict[str, Any]:
    """Play ``episodes`` episodes over the held-out seeds; one table row."""
    return driving.policy_row(
        lambda: make_racetrack(cfg), name, policy, episodes, eval_seed(cfg),
        METRICS, "on_road_rate",
    )  # fmt: skip


def baseline_rows(cfg: DriveSteerConfig, episodes: int) -> list[dict[str, Any]]:
    """Every baseline's row over the held-out seeds."""
    return [evaluate_policy(cfg, name, p, episodes) for name, p in baselines(cfg).items()]


def draw_strip(cfg: DriveSteerConfig, policy: Policy, path: Path) -> int:
    """Drive one episode (the first evaluation seed) into a strip of frames at ``path``."""
    return driving.draw_strip(
        lambda: make_racetrack(cfg, render=True), policy, eval_seed(cfg),
        cfg.report.strip_frames, cfg.report.frame_every, _frame_label, path,
    )  # fmt: skip


def _frame_label(step: int, info: dict[str, Any], env: Any) -> str:
    vehicle = env.unwrapped.vehicle
    offset = abs(float(vehicle.lane.local_coordinates(vehicle.position)[1]))
    state = ", crashed" if vehicle.crashed else "" if vehicle.on_road else ", off the road"
    return f"t = {step / 5:.1f} s, {vehicle.speed:.1f} m/s, {offset:.1f} m off centre{state}"


# ---------------------------------------------------------------------------------------------
# The task
# ---------------------------------------------------------------------------------------------


class DriveSteerTask(Task):
    """Steer round the racetrack and pass the car ahead; against pure pursuit and random."""

    name = TASK
    config_cls = DriveSteerConfig
    headline = "charts/on_road_rate"
    curves = (
        "charts/episode_return",
        "charts/on_road_rate",
        "charts/mean_lateral_offset",
        "charts/episode_length",
    )

    def __init__(self) -> None:
        # Fail before the runner makes a run folder, with the command that fixes it.
        driving.require_highway_env(TASK)

    def validate(self, cfg: Any) -> None:
        if cfg.algo.name not in CONTINUOUS:
            raise ConfigError(
                f"algo.name={cfg.algo.name!r}: drive_steer steers with continuous actions; "
                f"use one of: {', '.join(CONTINUOUS)}"
            )
        driving.check_eval_seeds(cfg)

    def make_env(self, cfg: Any, index: int) -> Any:
        return make_racetrack(cfg, training=True)

    def periodic(self, cfg: Any, run: Any) -> list[Any]:
        return driving.validation_hooks(cfg, run, lambda: make_racetrack(cfg), METRICS)

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> EvalResult:
        episodes = cfg.eval.episodes
        agent, selection, selection_note = driving.selected_agent(self, cfg, agent, run)

        def learned(obs: Any, env: Any) -> Any:
            return agent.act(obs, deterministic=cfg.eval.deterministic)

        rows = [evaluate_policy(cfg, "trained", learned, episodes), *baseline_rows(cfg, episodes)]
        metrics: dict[str, float] = dict(selection)
        for row in rows:
            prefix = "" if row["policy"] == "trained" else f"baseline/{row['policy']}/"
            for key in HEADLINE:
                metrics[prefix + key] = row[key] if key in row else row[f"{key}_mean"]
        controller = metrics["baseline/pure_pursuit/on_road_rate"]
        metrics["meets_goal"] = float(
            metrics["on_road_rate"] >= 0.9 and metrics["on_road_rate"] >= controller
        )
        seeds = f"{eval_seed(cfg)}-{eval_seed(cfg) + episodes - 1}"
        notes = [
            f"{episodes} episodes of {cfg.env.duration} s per policy over held-out env seeds "
            f"{seeds}; on_road_rate counts the episodes that reached the time limit on the road "
            "without a crash; offsets in m from the lane centre, speeds in m/s",
            "meets_goal = 1 when the trained agent's on_road_rate is >= 0.90 and >= the "
            "pure-pursuit controller's",
            selection_note,
        ]
        if cfg.report.strip_frames:
            run.eval_dir.mkdir(exist_ok=True)
            count = draw_strip(cfg, learned, run.eval_dir / FRAMES_FILE)
            notes.append(
                f"the trained agent on seed {eval_seed(cfg)}, {count} frames "
                f"{cfg.report.frame_every / 5:g} s apart: ![frames](eval/{FRAMES_FILE})"
            )
        return EvalResult(metrics=metrics, tables={"policies": rows}, notes=notes)
