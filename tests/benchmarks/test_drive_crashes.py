"""The drive_highway crash diagnostic names what the car was doing when it crashed."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tests.benchmarks import load_benchmark
from tests.optional import require


def load_script() -> ModuleType:
    """benchmarks/drive_crashes.py as a module."""
    return load_benchmark("drive_crashes")


def crash_with(offset: float, speed: float, action: str) -> tuple[str, bool]:
    """Clear the road, put one constant-speed car ``offset`` metres from the ego car on its
    lane, repeat ``action`` until the crash; the crash's kind and whether the car was at its
    lowest target speed."""
    from highway_env.vehicle.kinematics import Vehicle

    from agents.base import EPISODE_METRICS
    from tasks.config import load_config
    from tasks.drive import DriveConfig, make_highway

    crashes = load_script()
    cfg = load_config(DriveConfig, "drive_highway", None, ["env.duration=20"])
    env = crashes.CrashKinds(make_highway(cfg))
    env.reset(seed=0)
    road_env = env.unwrapped
    ego = road_env.vehicle
    road_env.road.vehicles = [ego]
    other = Vehicle(road_env.road, ego.position + np.array([offset, 0.0]), ego.heading, speed)
    road_env.road.vehicles.append(other)
    index = road_env.action_type.actions_indexes[action]
    for _ in range(20):
        _, _, done, truncated, info = env.step(index)
        if done or truncated:
            break
    assert info["crashed"], "the scene should end in a crash"
    metrics = info[EPISODE_METRICS]
    (kind,) = [name for name in crashes.KINDS if metrics[name] == 1.0]
    return kind, metrics["at_lowest_speed"] == 1.0


def test_a_stopped_car_ahead_is_a_rear_end_crash_at_the_lowest_speed() -> None:
    require("highway_env")
    # Braking all the way (SLOWER) still cannot stop under 20 m/s: the lowest target speed.
    assert crash_with(40.0, 0.0, "SLOWER") == ("rear-end", True)


def test_a_fast_car_from_behind_hits_us() -> None:
    require("highway_env")
    assert crash_with(-30.0, 45.0, "IDLE") == ("hit from behind", False)


def test_a_lane_change_is_named_and_a_clean_episode_is_refused() -> None:
    crashes = load_script()
    ego = type("Car", (), {})()
    ego.position, ego.lane_index, ego.target_lane_index = np.zeros(2), ("a", "b", 1), ("a", "b", 0)
    hit = type("Car", (), {})()
    hit.position, hit.crashed = np.array([-3.0, -4.0]), True
    road_env = type("Env", (), {})()
    road_env.vehicle = ego
    road_env.road = type("Road", (), {"vehicles": [ego, hit]})()
    before = {id(ego): 0.0, id(hit): -3.0}  # where they were when the last step began
    assert crashes.crash_kind(road_env, ["IDLE"], before) == "lane change, car beside or behind"
    before[id(hit)] = 6.0
    assert crashes.crash_kind(road_env, ["IDLE"], before) == "lane change, car ahead"
    ego.target_lane_index = ego.lane_index
    assert crashes.crash_kind(road_env, ["LANE_LEFT", "IDLE"], before) == "lane change, car ahead"
    assert crashes.crash_kind(road_env, ["LANE_LEFT", "IDLE", "IDLE"], before) == "rear-end"
    hit.crashed = False
    with pytest.raises(ValueError, match="did not end in a crash"):
        crashes.crash_kind(road_env, ["IDLE"], before)


def test_a_folder_that_is_not_a_run_is_named(tmp_path: Path) -> None:
    require("highway_env")
    with pytest.raises(SystemExit, match="not a drive_highway run folder"):
        load_script().main([str(tmp_path)])
