"""The warehouse tasks: each backend trains the env the config describes; end to end runs.

The training envs are built as each backend builds them (SB3's ``make_vec_env``; RLlib's env
creator, as ``agents.backends.rllib_trainer.Trainer`` wraps the task's factory, without Ray)
and must give the same observations, rewards and masks for the same seed and actions.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from tasks.config import load_config
from tasks.registry import load_task
from tasks.run import main
from tasks.runner.session import load_context
from tests.conftest import REPO
from tests.optional import require


def results(runs_dir: Path, task: str) -> dict:
    (run,) = (runs_dir / task).iterdir()
    return json.loads((run / "eval" / "results.json").read_text())


def task_config(name: str, overrides: list[str]) -> tuple[Any, Any]:
    """The task and its config from the shipped YAML and ``overrides``."""
    task = load_task(name)
    return task, load_config(task.config_cls, name, REPO / "configs" / f"{name}.yaml", overrides)


def sb3_training_env(task: Any, cfg: Any) -> Any:
    """The VecEnv the SB3 backend trains on."""
    return task.backend(cfg, "sb3").make_vec_env(load_context(task, cfg))


def rllib_training_env(task: Any, cfg: Any) -> Any:
    """Env 0 of RLlib's env runners, wrapped as the RLlib backend's Trainer wraps it."""
    require("ray.rllib")
    from agents.backends.rllib_algorithms import FlatBoxes
    from agents.backends.rllib_config import EnvCreator
    from agents.backends.rllib_parallel import ParallelEnvCreator, is_parallel_env
    from agents.backends.rllib_trainer import flattens_boxes

    ctx = load_context(task, cfg)
    probe, wrap = ctx.make_env(0), None
    if is_parallel_env(probe):
        wrap = ParallelEnvCreator(cfg.ray.policies, cfg.ray.central_critic)
    elif flattens_boxes(ctx, probe):
        wrap = FlatBoxes
    return EnvCreator(ctx.make_env, 1, wrap)(SimpleNamespace(worker_index=0))


def test_robots_train_the_same_env_under_sb3_and_rllib() -> None:
    from sb3_contrib.common.maskable.utils import get_action_masks

    from agents.baselines.warehouse import GreedyController

    task, cfg = task_config("warehouse_robots", ["algo.n_envs=1", "env.max_steps=40"])
    assert cfg.env.job_masks and cfg.env.shaping > 0  # the options under test are on
    sb3, rllib = sb3_training_env(task, cfg), rllib_training_env(task, cfg)
    agents = rllib.possible_agents
    obs = sb3.reset()
    found, _ = rllib.reset(seed=cfg.seed)
    greedy, rng = GreedyController(), np.random.default_rng(0)
    deliveries = 0
    for step in range(100):  # two episodes and a half
        masks = get_action_masks(sb3)
        np.testing.assert_array_equal(np.stack([found[a]["observations"] for a in agents]), obs)
        np.testing.assert_array_equal(np.stack([found[a]["action_mask"] for a in agents]), masks)
        actions = greedy.actions(rllib.env.core, 0)
        random = rng.random(len(agents)) < 0.3
        actions[random] = [rng.choice(np.flatnonzero(m)) for m in masks[random]]
        obs, rewards, dones, infos = sb3.step(actions)
        chosen = dict(zip(agents, actions.tolist(), strict=True))
        found, found_rewards, _, truncated, _ = rllib.step(chosen)
        assert np.float32([found_rewards[a] for a in agents]).tolist() == rewards.tolist()
        assert truncated["__all__"] == dones.all() == ((step + 1) % 40 == 0)
        if truncated["__all__"]:
            deliveries += rllib.env.deliveries
            final = np.stack([info["terminal_observation"] for info in infos])
            np.testing.assert_array_equal(
                np.stack([found[a]["observations"] for a in agents]), final
            )
            found, _ = rllib.reset()  # RLlib's env runner resets without a seed
            greedy.reset()
    assert deliveries >= 2


def test_inventory_trains_the_same_env_under_sb3_and_rllib() -> None:
    overrides = ["algo.n_envs=1", "eval.tuning_seeds=3"]
    task, cfg = task_config("warehouse_inventory", overrides)
    sb3, rllib = sb3_training_env(task, cfg), rllib_training_env(task, cfg)
    obs = sb3.reset()
    found, _ = rllib.reset(seed=cfg.seed)  # SB3 seeds env i with seed + i
    rng, ends = np.random.default_rng(0), 0
    for _ in range(70):  # two episodes of 30 periods and more
        np.testing.assert_array_equal(found, obs[0])
        action = rng.uniform(-1.0, 1.0, size=rllib.action_space.shape).astype(np.float32)
        obs, rewards, dones, infos = sb3.step(action[None])
        found, reward, terminated, truncated, _ = rllib.step(action)
        assert np.float32(reward) == rewards[0]
        assert (terminated or truncated) == dones[0]
        if dones[0]:
            np.testing.assert_array_equal(found, infos[0]["terminal_observation"])
            found, _ = rllib.reset()
            ends += 1
    assert ends == 2


def test_inventory_policy_settings_reach_rllib_s_default_module() -> None:
    require("ray.rllib")
    from agents.backends.rllib_algorithms import default_ppo_module

    task, cfg = task_config("warehouse_inventory", ["eval.tuning_seeds=3"])
    ctx = dataclasses.replace(load_context(task, cfg), policy_kwargs=task.policy_kwargs(cfg))
    probe = ctx.make_env(0)
    spec = default_ppo_module(ctx, probe)["rl_module_spec"]
    spec.observation_space, spec.action_space = probe.observation_space, probe.action_space
    module = spec.build()
    assert module.pi.log_std.tolist() == [cfg.policy.log_std_init] * 3 == [-2.0] * 3


def test_inventory_policy_settings_reach_the_module_rllib_trains() -> None:
    require("ray.rllib")
    from agents.backends.rllib_config import build_config

    task, cfg = task_config("warehouse_inventory", ["backend=rllib", "eval.tuning_seeds=3"])
    ctx = dataclasses.replace(load_context(task, cfg), policy_kwargs=task.policy_kwargs(cfg))
    probe = ctx.make_env(0)
    module = build_config(ctx, probe, "unused").get_rl_module_spec(env=probe).build()
    log_std = getattr(module.pi, "log_std", None)
    assert log_std is not None and log_std.tolist() == [-2.0] * 3


def test_agent_slots_present_every_robot_as_one_env() -> None:
    from agents.backends.sb3_slots import make_agent_slots
    from envs.warehouse.vector import RobotsVectorEnv

    kwargs = {"n_robots": 3, "max_steps": 4, "observe_targets": True, "shaping": 1.0}
    slots = make_agent_slots(RobotsVectorEnv(2, **kwargs))
    slots.seed(0)
    obs = slots.reset()
    assert slots.num_envs == 6 and obs.shape == (6, 78)
    assert slots.action_masks().shape == (6, 5)
    for _ in range(4):
        slots.step_async(np.ones(6, dtype=np.int64))
        obs, rewards, dones, infos = slots.step_wait()
        assert rewards.dtype == np.float32 and obs.shape == (6, 78)
    assert dones.all() and all(info["TimeLimit.truncated"] for info in infos)
    assert all(info["terminal_observation"].shape == (78,) for info in infos)


@pytest.mark.slow
def test_warehouse_robots_runs_end_to_end(runs_dir: Path) -> None:
    budget = ["train.total_steps=1024", "algo.n_envs=2", "algo.n_steps=128", "algo.batch_size=128"]
    args = [f"runs_dir={runs_dir}", "env.max_steps=100", "eval.episodes=1", *budget]
    assert main(["warehouse_robots", *args]) == 0
    found = results(runs_dir, "warehouse_robots")
    assert found["metrics"]["baseline/greedy/deliveries"] > 3
    assert found["metrics"]["baseline/random/deliveries"] <= 1
    (run,) = (runs_dir / "warehouse_robots").iterdir()
    assert (run / "eval" / "warehouse.png").is_file()
    assert "eval/warehouse.png" in (run / "report.md").read_text()
    assert main(["warehouse_robots", "eval", *args]) == 0  # reloads the checkpoint


STOCK_POLICIES = ("base_stock", "time_aware_base_stock", "capped_base_stock", "s_S")


@pytest.mark.slow
@pytest.mark.parametrize("action", ["residual", "scaled"])
def test_warehouse_inventory_runs_end_to_end(runs_dir: Path, action: str) -> None:
    args = [f"runs_dir={runs_dir}", "train.total_steps=1000", "algo.n_envs=2", "algo.n_steps=60"]
    args += ["algo.batch_size=60", "eval.episodes=5", "eval.tuning_seeds=5", f"env.action={action}"]
    assert main(["warehouse_inventory", *args]) == 0
    metrics = results(runs_dir, "warehouse_inventory")["metrics"]
    baselines = (*STOCK_POLICIES, "perfect_information")  # the bound: a reference result too
    profit = {name: metrics[f"baseline/{name}/profit"] for name in baselines}
    assert profit["time_aware_base_stock"] > profit["base_stock"] > 300
    assert profit["capped_base_stock"] > profit["time_aware_base_stock"]
    assert 0 <= metrics["service_level"] <= 1
    assert all(0 <= metrics[f"baseline/{name}/service_level"] <= 1 for name in STOCK_POLICIES)
    if action == "residual":  # barely trained, a residual agent is still its base-stock policy
        assert metrics["profit"] == pytest.approx(profit["capped_base_stock"], abs=5)
    bound = profit["perfect_information"]
    assert profit["capped_base_stock"] < bound < profit["capped_base_stock"] + 60
    (run,) = (runs_dir / "warehouse_inventory").iterdir()
    assert (run / "eval" / "inventory.png").is_file()
    report = (run / "report.md").read_text()
    assert "](eval/inventory.png)" in report and "perfect-information bound" in report


def test_trained_robots_sample_from_sharpened_probabilities() -> None:
    from sb3_contrib import MaskablePPO
    from stable_baselines3 import PPO

    from agents.backends.sb3 import SB3Agent
    from agents.backends.sb3_slots import make_agent_slots
    from envs.warehouse.vector import RobotsVectorEnv

    slots = make_agent_slots(RobotsVectorEnv(1, n_robots=2, observe_paths=True, job_masks=True))
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
