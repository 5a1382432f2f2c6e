"""The batched robots env steps every warehouse exactly as the single env would."""

from __future__ import annotations

import numpy as np
import pytest

from agents.baselines.warehouse import GreedyController
from envs.warehouse.robots import RobotsEnv
from envs.warehouse.vector import RobotsVectorEnv


def test_each_warehouse_of_a_batch_follows_the_single_env_rules() -> None:
    batch = RobotsVectorEnv(3, size="tiny", n_robots=4, max_steps=1000)
    batch.reset(seed=0)
    singles = [RobotsEnv(size="tiny", n_robots=4, max_steps=1000) for _ in range(3)]
    batch.np_random = np.random.default_rng(7)
    shared = np.random.default_rng(7)  # singles draw from one copy in the batch's order
    for b, env in enumerate(singles):
        env.reset(seed=0)
        for name in ("x", "y", "heading", "shelf", "shelf_x", "shelf_y", "requested", "order_of"):
            getattr(env.core, name)[0] = getattr(batch.core, name)[b]
        env.core.robot_grid[0] = batch.core.robot_grid[b]
        env.core.shelf_grid[0] = batch.core.shelf_grid[b]
        env.np_random = shared
    controller = GreedyController()
    for _ in range(300):
        actions = np.stack([controller.actions(batch.core, b) for b in range(3)])
        obs, rewards, _, _, info = batch.step(actions)
        for b, env in enumerate(singles):
            chosen = dict(zip(env.agents, actions[b].tolist(), strict=True))
            single_obs, single_rewards, *_ = env.step(chosen)
            np.testing.assert_array_equal(obs[b], np.stack(list(single_obs.values())))
            assert rewards[b].tolist() == list(single_rewards.values())
            np.testing.assert_array_equal(info["action_mask"][b], env.action_masks())
    assert batch.core.deliveries.min() >= 10


def test_ended_warehouses_restart_in_the_same_call() -> None:
    batch = RobotsVectorEnv(4, n_robots=2, max_steps=3)
    obs, info = batch.reset(seed=1)
    assert obs.shape == (4, 2, 71) and info["action_mask"].shape == (4, 2, 5)
    for _ in range(3):
        obs, rewards, terminated, truncated, info = batch.step(np.ones((4, 2), dtype=np.int64))
    assert truncated.all() and not terminated.any() and rewards.dtype == np.float32
    assert info["final_observation"].shape == (4, 2, 71)
    assert info["episode"]["steps"].tolist() == [3.0] * 4
    assert (batch.steps == 0).all()
    with pytest.raises(ValueError, match="0-4"):
        batch.step(np.full((4, 2), 5))
