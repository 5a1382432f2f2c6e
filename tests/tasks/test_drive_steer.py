"""drive_steer: the pure-pursuit controller keeps the road, the metrics of a tiny run, bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import REPO, run_cli
from tests.optional import require

# Short episodes keep tiny runs quick (5 actions a second; a lap takes ~35 s).
SHORT = ["env.duration=6"]


def _config(overrides: list[str]):  # noqa: ANN202  (DriveSteerConfig, imported lazily)
    from tasks.config import load_config
    from tasks.drive_steer import DriveSteerConfig

    return load_config(DriveSteerConfig, "drive_steer", None, overrides)


def test_missing_highway_env_prints_one_line_and_makes_no_run_folder(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], runs_dir: Path
) -> None:
    from tasks import run

    monkeypatch.setitem(sys.modules, "highway_env", None)  # `import highway_env` now fails
    code = run.main(["drive_steer", f"runs_dir={runs_dir}"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1 and "pip install learnloop[drive]" in lines[0], lines
    assert list(runs_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("algo.name=dqn", "continuous actions"),  # a discrete-action algorithm
        ("env.env_id=racetrack-v9", "racetrack-v0"),
        ("controller.lookahed=5", "controller.lookahead"),
        ("env.throttle=3", "env.throttle"),
    ],
)
def test_bad_option_is_one_line_and_makes_no_run_folder(
    capsys: pytest.CaptureFixture[str], runs_dir: Path, override: str, named: str
) -> None:
    require("highway_env")
    from tasks import run

    code = run.main(["drive_steer", f"runs_dir={runs_dir}", override])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1 and named in lines[0], lines
    assert list(runs_dir.iterdir()) == []


def test_controller_keeps_the_road_and_passes_the_car_ahead() -> None:
    """Over whole laps with a slower car ahead: pure pursuit stays on the road in every
    episode; without overtaking it runs into that car; random steering leaves the road."""
    require("highway_env")
    from tasks.drive_steer import baseline_rows

    cfg = _config(["env.duration=36"])  # a lap
    controller, random = baseline_rows(cfg, episodes=3)
    assert controller["policy"] == "pure_pursuit" and random["policy"] == "random"
    assert controller["on_road_rate"] == 1.0
    assert controller["mean_lateral_offset"] < 1.0  # m; lanes are 5 m wide
    assert controller["mean_speed"] == pytest.approx(10.0)
    assert random["on_road_rate"] == 0.0
    cfg.controller.overtake_gap = 0.0
    no_overtaking = baseline_rows(cfg, episodes=3)[0]
    assert no_overtaking["crash_rate"] > 0


def test_throttle_adds_an_action_the_controller_leaves_at_zero() -> None:
    require("highway_env")
    from tasks.drive_steer import make_racetrack, pure_pursuit_action

    env = make_racetrack(_config(["env.throttle=true", *SHORT]))
    try:
        env.reset(seed=0)
        assert env.action_space.shape == (2,)
        action = pure_pursuit_action(env, lookahead=8.0, overtake_gap=25.0)
        assert action.shape == (2,) and action[0] == 0.0
        assert np.all(np.abs(action) <= 1.0)
    finally:
        env.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    "config",
    [
        ["drive_steer", "algo.kwargs={buffer_size: 1000, learning_starts: 50, ent_coef: auto}"],
        [str(REPO / "configs" / "drive_steer_ppo.yaml"), "algo.n_steps=64"],
    ],
    ids=["sac", "ppo"],
)
def test_tiny_run_writes_the_metrics_of_every_policy_and_frames(
    runs_dir: Path, config: list[str]
) -> None:
    require("highway_env")
    result = run_cli(
        *config,
        f"runs_dir={runs_dir}",
        "algo.vec_env=dummy",
        "algo.batch_size=32",
        "train.total_steps=200",
        "train.checkpoint_every=0",
        "eval.episodes=2",
        "eval.every=100",
        "eval.validation_episodes=1",
        "report.strip_frames=3",
        "report.frame_every=5",
        *SHORT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (run,) = (runs_dir / "drive_steer").iterdir()
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    driving = [r for r in records if "charts/on_road_rate" in r]
    assert driving and all(0 <= r["charts/on_road_rate"] <= 1 for r in driving)
    assert all(r["charts/mean_lateral_offset"] >= 0 for r in driving)
    metrics = json.loads((run / "eval" / "results.json").read_text())["metrics"]
    for prefix in ("", "baseline/pure_pursuit/", "baseline/random/"):
        for name in ("on_road_rate", "mean_lateral_offset", "mean_speed", "crash_rate"):
            assert prefix + name in metrics
    assert metrics["baseline/pure_pursuit/on_road_rate"] == 1.0
    assert "meets_goal" in metrics
    # Validated during training; evaluation played the weights that validated best.
    validated = {r["step"]: r["eval_periodic/val_return"] for r in records
                 if "eval_periodic/val_return" in r}  # fmt: skip
    assert validated and all(0 <= r["eval_periodic/val_on_road_rate"] <= 1 for r in records
                             if "eval_periodic/val_on_road_rate" in r)  # fmt: skip
    assert metrics["selected_step"] == max(validated, key=lambda k: (validated[k], -k))
    report = (run / "report.md").read_text()
    assert "![frames](eval/frames.png)" in report and "| pure_pursuit |" in report
    assert f"evaluated the weights of step {int(metrics['selected_step']):,}" in report

    import matplotlib.image

    strip = matplotlib.image.imread(run / "eval" / "frames.png")
    assert strip.std() > 0.05, "the frames came out blank"


@pytest.mark.slow
def test_evaluation_plays_the_critics_pick_of_the_last_checkpoints_actions(
    runs_dir: Path,
) -> None:
    """eval.ensemble=2 with SAC: each of the last two checkpoints proposes its greedy steering;
    evaluation plays the proposal the two critics (each the smaller of its twin Q-heads) rate
    best on average, and the report says so."""
    require("highway_env")
    import torch

    from agents.ensemble import CriticEnsemble
    from tasks.config import load_config
    from tasks.drive_steer import DriveSteerConfig, make_racetrack
    from tasks.registry import load_task
    from tasks.runner.session import load_checkpoint

    result = run_cli(
        "drive_steer", f"runs_dir={runs_dir}", "algo.vec_env=dummy", "algo.batch_size=32",
        "algo.kwargs={buffer_size: 1000, learning_starts: 50, ent_coef: auto}",
        "train.total_steps=300", "train.checkpoint_every=100", "eval.episodes=2", "eval.every=0",
        "eval.validation_episodes=0", "eval.ensemble=2", "report.strip_frames=0", *SHORT,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (run,) = (runs_dir / "drive_steer").iterdir()
    metrics = json.loads((run / "eval" / "results.json").read_text())["metrics"]
    assert (metrics["ensemble_size"], metrics["ensemble_first_step"]) == (2, 200)
    assert "critics rate best on average, among the actors' own, of the checkpoints of steps " \
        "200, 300" in (run / "report.md").read_text()  # fmt: skip
    cfg = load_config(DriveSteerConfig, "drive_steer", run / "config.yaml", [])
    task = load_task("drive_steer")
    members = [load_checkpoint(task, cfg, run / "checkpoints" / f"step_{s}") for s in (200, 300)]
    env = make_racetrack(cfg)
    obs = np.stack([env.reset(seed=seed)[0] for seed in range(10)])
    proposals = [member.act_batch(obs) for member in members]
    assert not np.allclose(*proposals)  # the two checkpoints steer differently
    policy = members[0].model.policy
    with torch.no_grad():
        twins = policy.critic(torch.as_tensor(obs), torch.as_tensor(proposals[1]))
    assert np.allclose(
        members[0].action_values(obs, proposals[1]), torch.min(*twins).squeeze(1).numpy()
    )
    scores = [sum(m.action_values(obs, p) for m in members) for p in proposals]
    picked = np.where((scores[0] >= scores[1])[:, None], *proposals)
    assert np.allclose(CriticEnsemble(members).act_batch(obs), picked)


@pytest.mark.slow
def test_the_checkpoint_ensemble_evaluates_under_rllib(ray_session: Any, runs_dir: Path) -> None:
    """backend=rllib with drive_steer's SAC and eval.ensemble: the run trains, keeps its
    checkpoints and evaluates the critics' pick among their greedy actions."""
    require("highway_env")
    from tasks.run import main

    overrides = ["backend=rllib", f"runs_dir={runs_dir}", "algo.n_envs=1", "algo.batch_size=32",
                 "algo.kwargs={buffer_size: 1000, learning_starts: 50, ent_coef: auto}",
                 "train.total_steps=300", "train.checkpoint_every=100", "eval.episodes=1",
                 "eval.every=0", "eval.validation_episodes=0", "eval.ensemble=2",
                 "report.strip_frames=0", *SHORT]  # fmt: skip
    assert main(["drive_steer", *overrides]) == 0
    (run,) = (runs_dir / "drive_steer").iterdir()
    metrics = json.loads((run / "eval" / "results.json").read_text())["metrics"]
    assert metrics["ensemble_size"] == 2 and 0 <= metrics["on_road_rate"] <= 1
    assert "critics rate best on average" in (run / "report.md").read_text()


def test_training_traffic_is_its_own_setting_and_evaluation_keeps_the_scenario() -> None:
    require("highway_env")
    from tasks.config import load_config
    from tasks.drive_steer import DriveSteerConfig, DriveSteerTask, racetrack_config

    cfg = load_config(DriveSteerConfig, "drive_steer", REPO / "configs" / "drive_steer.yaml", [])
    assert racetrack_config(cfg)["other_vehicles"] == 1  # evaluation: one car to pass
    assert racetrack_config(cfg, training=True)["other_vehicles"] == 3
    env = DriveSteerTask().make_env(cfg, 0)
    assert env.unwrapped.config["other_vehicles"] == 3
    same = load_config(DriveSteerConfig, "drive_steer", None, [])  # -1: as in evaluation
    assert racetrack_config(same, training=True)["other_vehicles"] == 1


def test_numpy_road_layer_draws_highway_envs_own_grid() -> None:
    """The occupancy grid drawn with numpy is highway-env's, cell for cell, round a lap
    (straights and curves, both lanes) and after resets."""
    require("highway_env")
    from tasks import driving
    from tasks.drive_steer import make_racetrack, pure_pursuit_action, racetrack_config

    cfg = _config(["env.duration=36", "env.other_vehicles=3"])
    fast = make_racetrack(cfg)
    plain = driving.make_highway_env("drive_steer", "racetrack-v0", racetrack_config(cfg))
    assert type(fast.unwrapped.observation_type).__name__ == "FastOccupancyGrid"
    assert type(plain.unwrapped.observation_type).__name__ == "OccupancyGridObservation"
    noise = np.random.default_rng(0)
    steps = 0
    for seed in (3, 4):
        ours, _ = fast.reset(seed=seed)
        theirs, _ = plain.reset(seed=seed)
        np.testing.assert_array_equal(ours, theirs)
        for _ in range(180):
            action = pure_pursuit_action(fast, 8.0, 25.0) + noise.normal(0, 0.1, 1)
            ours, _, done, cut, _ = fast.step(action.astype(np.float32))
            theirs, *_ = plain.step(action.astype(np.float32))
            np.testing.assert_array_equal(ours, theirs)
            assert ours[1].sum() > 0  # the road is in view
            steps += 1
            if done or cut:
                break
    assert steps > 300


def test_headway_cost_charges_for_the_car_ahead_on_the_lane_only() -> None:
    """Driving up to the slower car ahead costs env.headway_cost a step, more the closer it
    is; with no car near, the reward is highway-env's."""
    require("highway_env")
    from tasks.drive_steer import gap_ahead, make_racetrack, pure_pursuit_action

    plain = make_racetrack(_config(["env.duration=30"]))
    shaped = make_racetrack(_config(["env.duration=30", "env.headway_cost=2", "env.headway=30"]))
    plain.reset(seed=1)
    shaped.reset(seed=1)
    charged = []
    for _ in range(150):  # follow the lane, never overtake: the car ahead comes closer
        unwrapped = shaped.unwrapped
        steer = pure_pursuit_action(shaped, lookahead=8.0, overtake_gap=0.0)
        _, mine, done, cut, _ = shaped.step(steer)
        _, theirs, *_ = plain.step(steer)
        gap = gap_ahead(unwrapped.road, unwrapped.vehicle, unwrapped.vehicle.lane_index)
        expected = 2 * min(1.0, max(0.0, 1 - gap / 30))
        assert mine == pytest.approx(theirs - expected)
        charged.append(expected)
        if done or cut:
            break
    assert unwrapped.vehicle.crashed
    assert charged[0] < 1.5 < charged[-1]  # the gap shrank to the crash
    empty = make_racetrack(_config([*SHORT, "env.other_vehicles=0", "env.headway_cost=2"]))
    bare = make_racetrack(_config([*SHORT, "env.other_vehicles=0"]))
    empty.reset(seed=1)
    bare.reset(seed=1)
    for _ in range(10):
        steer = pure_pursuit_action(empty, lookahead=8.0, overtake_gap=0.0)
        assert empty.step(steer)[1] == bare.step(steer)[1]


def test_lane_position_reads_the_same_across_the_road_on_every_segment() -> None:
    """env.lane_position: the grid flattened plus [offset across the road in lane widths,
    heading error]; lane 1 lies on lane 0's positive side on every segment, so a car on lane
    1's centre line reads 1 everywhere, and the controller stays between the road's edges."""
    require("highway_env")
    from tasks.drive_steer import make_racetrack, pure_pursuit_action

    env = make_racetrack(_config(["env.lane_position=true", "env.duration=36"]))
    obs, _ = env.reset(seed=0)
    assert env.observation_space.shape == obs.shape == (2 * 12 * 12 + 2,)
    network = env.unwrapped.road.network
    for ends in network.graph.values():
        for lane0, lane1 in ends.values():
            middle = lane1.position(lane1.length / 2, 0)
            assert lane0.local_coordinates(middle)[1] == pytest.approx(5.0, abs=0.2)
    for seed in (0, 1):  # the car starts on either lane's centre line, along the road
        obs, _ = env.reset(seed=seed)
        lane = env.unwrapped.vehicle.lane_index[2]
        assert obs[-2:] == pytest.approx([lane, 0.0], abs=1e-6)
    offsets = []
    for _ in range(180):  # a lap, passing the car ahead: both lanes, every curve
        obs, _, done, cut, _ = env.step(pure_pursuit_action(env, 8.0, 25.0))
        offsets.append(obs[-2])
        assert abs(obs[-1]) < 0.6
        if done or cut:
            break
    assert env.unwrapped.vehicle.on_road
    assert min(offsets) < 0.2 and max(offsets) > 0.8 and -0.5 < min(offsets) < max(offsets) < 1.5


def test_lane_traffic_reads_the_car_ahead_along_each_lane() -> None:
    """env.lane_traffic: four numbers after the lane position, [gap, closing speed] on lane 0
    then lane 1. Following the car ahead on its lane, the car's own lane reads that car's
    gap along the lane (shrinking, at the speed difference) and the other lane reads empty;
    once the controller has passed onto the other lane, the two swap."""
    require("highway_env")
    from tasks.drive_steer import gap_ahead, make_racetrack, pure_pursuit_action

    reach = 50.0
    env = make_racetrack(_config(["env.lane_position=true", f"env.lane_traffic={reach}"]))
    obs, _ = env.reset(seed=3)
    assert env.observation_space.shape == obs.shape == (2 * 12 * 12 + 2 + 4,)
    unwrapped = env.unwrapped
    own_lane, other_lane = [], []
    for _ in range(120):
        obs, _, done, cut, _ = env.step(pure_pursuit_action(env, 8.0, 25.0))
        vehicle = unwrapped.vehicle
        lane = vehicle.lane_index[2]
        gap = gap_ahead(unwrapped.road, vehicle, vehicle.lane_index)
        own = obs[-4 + 2 * lane : -2 + 2 * lane or None]
        other = obs[-2 - 2 * lane : -2 * lane or None]
        assert own[0] == pytest.approx(min(max(gap, 0.0), reach) / reach, abs=1e-6)
        own_lane.append((lane, *own))
        other_lane.append((lane, *other))
        assert not (done or cut)
    start = own_lane[0][0]
    before = [row for row in own_lane if row[0] == start and row[1] < 1]
    assert len(before) > 10  # the car ahead came within reach on the starting lane
    assert before[-1][1] < before[0][1] and all(0.1 < row[2] < 0.4 for row in before)
    passed = [row for row in other_lane if row[0] != start]
    assert passed and all(row[1] < 1 and row[2] > 0.1 for row in passed)  # the car passed
    assert all(row[1:] == (1.0, 0.0) for row in other_lane if row[0] == start)


def test_steering_range_scales_the_action_and_the_controller_follows_it() -> None:
    """env.steering_range sets the angle of the action +-1; the controller asks for the same
    angle under either range, so its action grows as the range shrinks."""
    require("highway_env")
    from tasks.drive_steer import make_racetrack, pure_pursuit_action

    wide, narrow = (make_racetrack(_config([*SHORT, f"env.steering_range={d}"])) for d in (45, 30))
    assert narrow.unwrapped.action_type.steering_range == pytest.approx((-np.pi / 6, np.pi / 6))
    for env in (wide, narrow):
        env.reset(seed=2)
        for _ in range(30):  # into the first curve
            env.step(pure_pursuit_action(env, 8.0, 25.0))
    wide_action = pure_pursuit_action(wide, 8.0, 25.0)[0]
    assert abs(wide_action) > 0.05
    assert pure_pursuit_action(narrow, 8.0, 25.0)[0] == pytest.approx(wide_action * 1.5, rel=0.05)


def test_lanes_side_by_side_meet_so_changing_lanes_stays_on_the_road() -> None:
    """racetrack-v0's straight f-g puts its lanes 5.087 m apart with 5 m widths; highway-env
    would call a car on the strip between them off the road and end the episode. Our racetrack
    widens both lanes there so every point between the road's edges is on a lane."""
    require("highway_env")
    from tasks import driving
    from tasks.drive_steer import make_racetrack, racetrack_config

    cfg = _config([])
    plain = driving.make_highway_env("drive_steer", "racetrack-v0", racetrack_config(cfg))
    ours = make_racetrack(cfg)
    for env in (plain, ours):
        env.reset(seed=0)
    lane0, lane1 = plain.unwrapped.road.network.graph["f"]["g"]
    between = (lane0.position(10.0, 0.0) + lane1.position(10.0, 0.0)) / 2  # on neither lane
    for env, on_road in ((plain, False), (ours, True)):  # highway-env's own track, then ours
        vehicle = env.unwrapped.vehicle
        vehicle.position, vehicle.heading = between, lane0.heading_at(10.0)
        vehicle.lane_index = ("f", "g", 0)
        vehicle.lane = env.unwrapped.road.network.get_lane(vehicle.lane_index)
        assert vehicle.on_road == on_road
    for env in (plain, ours):  # the outer edges move out by 4.35 cm at most
        network = env.unwrapped.road.network
        for ends in network.graph.values():
            for lane0, lane1 in ends.values():
                middle = lane1.position(lane1.length / 2, 0)
                distance = lane0.local_coordinates(middle)[1]
                meets = (lane0.width_at(0) + lane1.width_at(0)) / 2 >= abs(distance) - 1e-9
                assert meets or env is plain
                assert lane0.width_at(0) <= 5.09 and lane1.width_at(0) <= 5.09
