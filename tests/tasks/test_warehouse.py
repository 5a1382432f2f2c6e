"""The warehouse tasks end to end on tiny budgets, and the robot-slots vector env."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tasks.run import main


def results(runs_dir: Path, task: str) -> dict:
    (run,) = (runs_dir / task).iterdir()
    return json.loads((run / "eval" / "results.json").read_text())


def test_robot_slots_present_every_robot_as_one_env() -> None:
    from tasks.warehouse_sb3 import make_robot_slots

    kwargs = {"n_robots": 3, "max_steps": 4, "observe_targets": True}
    slots = make_robot_slots(2, kwargs, shaping=1.0)
    slots.seed(0)
    obs = slots.reset()
    assert slots.num_envs == 6 and obs.shape == (6, 78)
    assert slots.action_masks().shape == (6, 5)
    for _ in range(4):
        slots.step_async(np.ones(6, dtype=np.int64))
        obs, rewards, dones, infos = slots.step_wait()
        assert rewards.dtype == np.float32 and obs.shape == (6, 78)
    assert dones.all() and all("terminal_observation" in info for info in infos)


def test_shaping_potential_counts_steps_to_the_next_target() -> None:
    from envs.warehouse.robots import RobotsEnv

    env = RobotsEnv(layout="_X\nS.\ng.\nxx", request_queue=1)
    env.reset(seed=0, options={"requests": [(0, 1)]})
    span = 2.0 * (4 + 2)
    assert env.core.job_potential()[0, 0] == pytest.approx(0.5 - 1 / span)  # one step to the goal
    env.step({"robot_0": 1})  # delivered; the free slot is two turns and two moves away
    assert env.core.job_potential()[0, 0] == pytest.approx(-0.25 - 4 / span)
    env.step({"robot_0": 2})
    assert env.core.job_potential()[0, 0] == pytest.approx(-0.25 - 3 / span)


def test_job_masks_keep_only_useful_toggles() -> None:
    from envs.warehouse.robots import RobotsEnv
    from tasks.warehouse_sb3 import job_masks

    env = RobotsEnv(layout="xX\n..\n.g\nxx", n_robots=2)
    env.reset(seed=0, options={"robots": [(0, 0, "up"), (1, 0, "up")]})
    assert env.action_masks()[:, 4].tolist() == [1, 1]  # both could lift
    assert job_masks(env.core)[0, :, 4].tolist() == [False, True]  # only the request serves
    env.step({"robot_0": 4, "robot_1": 4})  # the env still lets robot 0 lift it
    assert job_masks(env.core)[0, :, 4].tolist() == [True, False]  # put back: yes; drop: no


@pytest.mark.slow
def test_warehouse_robots_runs_end_to_end(runs_dir: Path) -> None:
    budget = ["train.total_steps=1024", "algo.n_envs=2", "algo.n_steps=128", "algo.batch_size=128"]
    args = [f"runs_dir={runs_dir}", "env.max_steps=100", "eval.episodes=1", *budget]
    assert main(["warehouse_robots", *args]) == 0
    found = results(runs_dir, "warehouse_robots")
    assert found["metrics"]["greedy_deliveries"] > 3
    assert found["metrics"]["random_deliveries"] <= 1
    (run,) = (runs_dir / "warehouse_robots").iterdir()
    assert (run / "eval" / "warehouse.png").is_file()
    assert "eval/warehouse.png" in (run / "report.md").read_text()
    assert main(["warehouse_robots", "eval", *args]) == 0  # reloads the checkpoint


@pytest.mark.slow
@pytest.mark.parametrize("action", ["residual", "scaled"])
def test_warehouse_inventory_runs_end_to_end(runs_dir: Path, action: str) -> None:
    args = [f"runs_dir={runs_dir}", "train.total_steps=1000", "algo.n_envs=2", "algo.n_steps=60"]
    args += ["algo.batch_size=60", "eval.episodes=5", "eval.tuning_seeds=5", f"env.action={action}"]
    assert main(["warehouse_inventory", *args]) == 0
    metrics = results(runs_dir, "warehouse_inventory")["metrics"]
    assert metrics["time_aware_base_stock_profit"] > metrics["base_stock_profit"] > 300
    assert metrics["capped_base_stock_profit"] > metrics["time_aware_base_stock_profit"]
    assert 0 <= metrics["service_level"] <= 1
    if action == "residual":  # barely trained, a residual agent is still its base-stock policy
        assert metrics["profit"] == pytest.approx(metrics["capped_base_stock_profit"], abs=5)
    bound = metrics["perfect_information_bound"]
    assert metrics["capped_base_stock_profit"] < bound < metrics["capped_base_stock_profit"] + 60
    (run,) = (runs_dir / "warehouse_inventory").iterdir()
    assert (run / "eval" / "inventory.png").is_file()
    report = (run / "report.md").read_text()
    assert "](eval/inventory.png)" in report and "perfect-information bound" in report


def test_trained_robots_sample_from_sharpened_probabilities() -> None:
    from sb3_contrib import MaskablePPO
    from stable_baselines3 import PPO

    from agents.backends.sb3 import SB3Agent
    from tasks.warehouse_sb3 import make_robot_slots

    slots = make_robot_slots(1, {"n_robots": 2, "observe_paths": True}, jobs_only=True)
    agent = SB3Agent(MaskablePPO("MlpPolicy", slots, n_steps=16, batch_size=16, seed=0))
    obs = slots.reset()
    masks = slots.action_masks()
    masks[:, 1] = False
    probabilities = agent.action_probabilities(obs, masks)
    assert probabilities.shape == (2, 5) and np.allclose(probabilities.sum(axis=1), 1)
    assert (probabilities[:, 1] == 0).all()
    pendulum = SB3Agent(PPO("MlpPolicy", "Pendulum-v1", n_steps=16, batch_size=16))
    with pytest.raises(ValueError, match="not categorical"):
        pendulum.action_probabilities(np.zeros((1, 3), np.float32))
