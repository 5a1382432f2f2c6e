"""Options that change the robots' problem (job masks, shaping) are the env's own.

They used to be added by the SB3 training path (tasks/warehouse_sb3.py); the env now computes
them, in the single and the batched env alike. ``old_job_masks`` and ``old_shaped`` below are
that path's computation, kept here to check that the env reproduces it bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from agents.baselines.warehouse import GreedyController
from envs.warehouse.robots import RobotsEnv
from envs.warehouse.vector import RobotsVectorEnv

TASK_ENV = {"sensor_range": 2, "observe_targets": True, "observe_paths": True}


def old_job_masks(core: Any) -> np.ndarray:
    """(B, N, 5) bool: the SB3 path's job masks before the env owned them."""
    masks = core.action_masks().astype(bool)
    b, _ = np.indices(core.shelf.shape)
    under = core.shelf_grid[b, core.y, core.x] - 1
    carried = core.shelf
    lift = (carried < 0) & (under >= 0) & core.requested[b, np.maximum(under, 0)]
    drop = (carried >= 0) & ~core.requested[b, np.maximum(carried, 0)]
    masks[..., 4] &= lift | drop
    return masks


def old_shaped(
    rewards: np.ndarray, now: np.ndarray, before: np.ndarray, ended: np.ndarray, weight: float,
    gamma: float,
) -> np.ndarray:  # fmt: skip
    """The SB3 path's shaped rewards, per slot (float32, the last step of an episode unshaped)."""
    flat = rewards.reshape(-1).astype(np.float32)
    dones = np.repeat(ended, rewards.shape[1])
    flat += weight * np.where(dones, 0.0, gamma * now.reshape(-1) - before.reshape(-1))
    return flat


def play(core: Any, masks: np.ndarray, rng: np.random.Generator, greedy: list) -> np.ndarray:
    """Mostly the greedy controller's actions (so shelves get lifted and delivered), some
    random allowed ones."""
    actions = np.stack([g.actions(core, b) for b, g in enumerate(greedy)])
    for index in zip(*np.nonzero(rng.random(actions.shape) < 0.3), strict=True):
        actions[index] = rng.choice(np.flatnonzero(masks[index]))
    return actions


@pytest.mark.parametrize(
    ("kwargs", "weight", "gamma"),
    [({"n_robots": 2, **TASK_ENV}, 1.0, 0.99),
     ({"n_robots": 4, "reward": "global", "rules": "rware"}, 0.5, 0.9)],
)  # fmt: skip
def test_env_options_reproduce_the_sb3_path_computation(
    kwargs: dict, weight: float, gamma: float
) -> None:
    plain = RobotsVectorEnv(2, max_steps=40, **kwargs)
    shaped = RobotsVectorEnv(
        2, max_steps=40, job_masks=True, shaping=weight, shaping_gamma=gamma, **kwargs
    )
    obs, _ = plain.reset(seed=3)
    found, info = shaped.reset(seed=3)
    before = plain.core.job_potential()
    rng, greedy = np.random.default_rng(0), [GreedyController(), GreedyController()]
    np.testing.assert_array_equal(found, obs)
    delivered = 0.0
    for _ in range(120):
        masks = old_job_masks(plain.core)
        np.testing.assert_array_equal(info["action_mask"].astype(bool), masks)
        actions = play(plain.core, masks, rng, greedy)
        obs, rewards, _, ended, _ = plain.step(actions)
        found, shaped_rewards, _, found_ended, info = shaped.step(actions)
        now = plain.core.job_potential()
        np.testing.assert_array_equal(found, obs)
        np.testing.assert_array_equal(found_ended, ended)
        assert shaped_rewards.dtype == np.float32
        expected = old_shaped(rewards, now, before, ended, weight, gamma)
        np.testing.assert_array_equal(shaped_rewards.reshape(-1), expected)
        before, delivered = now, delivered + rewards.sum()
    assert delivered >= 2  # the trajectories lift and deliver shelves


def test_the_single_env_is_warehouse_zero_of_the_batch() -> None:
    options = {"n_robots": 3, "max_steps": 30, "job_masks": True, "shaping": 1.0, **TASK_ENV}
    single = RobotsEnv(shaping_gamma=0.95, **options)
    batch = RobotsVectorEnv(1, shaping_gamma=0.95, **options)
    observations, infos = single.reset(seed=5)
    obs, info = batch.reset(seed=5)
    rng, greedy = np.random.default_rng(1), [GreedyController()]
    for _ in range(75):  # two episodes and a half; the single env is reset as RLlib resets it
        np.testing.assert_array_equal(np.stack(list(observations.values())), obs[0])
        masks = np.stack([i["action_mask"] for i in infos.values()])
        np.testing.assert_array_equal(masks, info["action_mask"][0])
        np.testing.assert_array_equal(single.action_masks(), masks)
        actions = play(batch.core, info["action_mask"].astype(bool), rng, greedy)
        observations, rewards, _, truncated, infos = single.step(
            dict(zip(single.agents, actions[0].tolist(), strict=True))
        )
        obs, batch_rewards, _, batch_truncated, info = batch.step(actions)
        assert np.float32(list(rewards.values())).tolist() == batch_rewards[0].tolist()
        assert all(truncated.values()) == batch_truncated[0]
        if batch_truncated[0]:
            final = info["final_observation"][0]
            np.testing.assert_array_equal(np.stack(list(observations.values())), final)
            observations, infos = single.reset()


def test_job_masks_keep_only_useful_toggles() -> None:
    env = RobotsEnv(layout="xX\n..\n.g\nxx", n_robots=2, job_masks=True)
    plain = RobotsEnv(layout="xX\n..\n.g\nxx", n_robots=2)
    start = {"robots": [(0, 0, "up"), (1, 0, "up")]}
    plain.reset(seed=0, options=start)
    _, infos = env.reset(seed=0, options=start)
    assert plain.action_masks()[:, 4].tolist() == [1, 1]  # both could lift
    assert env.action_masks()[:, 4].tolist() == [0, 1]  # only the request serves a job
    assert [i["action_mask"][4] for i in infos.values()] == [0, 1]
    env.step({"robot_0": 4, "robot_1": 4})  # the env still lets robot 0 lift its shelf
    assert env.action_masks()[:, 4].tolist() == [1, 0]  # put back: yes; drop the request: no


def test_shaping_potential_counts_steps_to_the_next_target() -> None:
    env = RobotsEnv(layout="_X\nS.\ng.\nxx", request_queue=1, shaping=1.0, shaping_gamma=0.9)
    env.reset(seed=0, options={"requests": [(0, 1)]})
    span = 2.0 * (4 + 2)
    assert env.core.job_potential()[0, 0] == pytest.approx(0.5 - 1 / span)  # one step to the goal
    _, rewards, *_ = env.step({"robot_0": 1})  # delivered; the free slot is two turns and two
    after = -0.25 - 4 / span  # moves away
    assert env.core.job_potential()[0, 0] == pytest.approx(after)
    assert rewards["robot_0"] == pytest.approx(1.0 + 0.9 * after - (0.5 - 1 / span))
    env.step({"robot_0": 2})
    assert env.core.job_potential()[0, 0] == pytest.approx(-0.25 - 3 / span)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"shaping": -1.0}, "shaping"), ({"shaping": float("nan")}, "shaping"),
     ({"shaping_gamma": 1.5}, "shaping_gamma")],
)  # fmt: skip
def test_bad_option_values_raise_value_errors_naming_them(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RobotsEnv(**kwargs)
