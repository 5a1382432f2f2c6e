"""The robots warehouse as PettingZoo envs: API compliance, spaces, episode end, state, seeding."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test

import envs.warehouse
from envs.warehouse.layout import named_layout
from envs.warehouse.robots import RobotsEnv


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("rules", ["learnloop", "rware"])
def test_pettingzoo_parallel_api_test(rules: str) -> None:
    parallel_api_test(envs.warehouse.parallel_env(n_robots=3, rules=rules), num_cycles=600)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_pettingzoo_aec_api_test() -> None:
    env = envs.warehouse.env(n_robots=2, max_steps=60, observe_targets=True, observe_paths=True)
    api_test(env, num_cycles=200)
    assert isinstance(env.unwrapped, envs.warehouse.raw_env)


def test_named_sizes_match_rware_grids() -> None:
    shapes = {
        name: named_layout(name).corridor.shape for name in ("tiny", "small", "medium", "large")
    }
    assert shapes == {"tiny": (11, 10), "small": (20, 10), "medium": (20, 16), "large": (29, 16)}
    assert len(named_layout("tiny").shelves) == 32
    assert named_layout("tiny").goals == ((4, 10), (5, 10))


def test_observation_has_71_values_and_lies_in_its_space() -> None:
    for kwargs in ({}, {"rules": "rware"}, {"observe_targets": True}, {"sensor_range": 2}):
        env = RobotsEnv(size="small", n_robots=4, **kwargs)
        observations, _ = env.reset(seed=1)
        space = env.observation_space("robot_0")
        for _ in range(50):
            for obs in observations.values():
                assert obs.dtype == np.float32 and space.contains(obs)
            observations, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})
    assert RobotsEnv(rules="rware").observation_space("robot_0").shape == (71,)
    assert RobotsEnv(observe_targets=True).observation_space("robot_0").shape == (78,)


def test_step_limit_truncates_and_never_terminates() -> None:
    env = RobotsEnv(max_steps=5)
    env.reset(seed=0)
    for _ in range(4):
        _, rewards, terminated, truncated, _ = env.step({a: 1 for a in env.agents})
        assert not any(terminated.values()) and not any(truncated.values())
    _, rewards, terminated, truncated, infos = env.step({a: 1 for a in env.agents})
    assert all(truncated.values()) and not any(terminated.values())
    assert env.agents == [] and infos["robot_0"]["episode"]["steps"] == 5.0
    assert all(type(value) is float for value in rewards.values())


def test_inactivity_limit_truncates() -> None:
    env = RobotsEnv(max_inactivity_steps=3)
    env.reset(seed=0)
    for _ in range(3):
        *_, truncated, _ = env.step({})
    assert all(truncated.values())


def test_masks_are_in_infos_and_mark_effective_actions() -> None:
    env = RobotsEnv(n_robots=4)
    _, infos = env.reset(seed=2)
    masks = np.stack([infos[a]["action_mask"] for a in env.agents])
    assert masks.dtype == np.int8 and masks.shape == (4, 5)
    np.testing.assert_array_equal(masks, env.action_masks())
    assert (masks[:, [0, 2, 3]] == 1).all()


def test_state_is_the_global_picture() -> None:
    env = RobotsEnv(n_robots=2)
    env.reset(seed=0)
    state = env.state()
    assert env.state_space.contains(state)
    planes = state.reshape(env.state_shape)
    assert planes[2].sum() == 2  # robots
    assert planes[0].sum() == 32  # shelves
    assert planes[1].sum() == 2  # requests
    assert planes[8].sum() == 2  # goals
    y, x = int(env.core.y[0, 0]), int(env.core.x[0, 0])
    assert planes[2, y, x] == 1  # rows then columns, not transposed


def test_same_seed_same_episode() -> None:
    def episode(seed: int) -> list:
        env = RobotsEnv(n_robots=3)
        env.reset(seed=seed)
        rng = np.random.default_rng(0)
        trace = []
        while env.agents:
            obs, *_ = env.step({a: int(rng.integers(5)) for a in env.agents})
            trace.append(np.stack(list(obs.values())).sum())
        return trace

    assert episode(4) == episode(4)
    assert episode(4) != episode(5)


def test_difficulty_sets_the_request_queue_as_rware() -> None:
    queues = {
        d: RobotsEnv(n_robots=4, difficulty=d).core.request_queue
        for d in ("easy", "normal", "hard")
    }
    assert queues == {"easy": 8, "normal": 4, "hard": 2}
    assert RobotsEnv(n_robots=3, request_queue=5).core.request_queue == 5
    for size in ("medium", "large"):
        env = RobotsEnv(size=size, n_robots=10)
        env.reset(seed=0)
        env.step({a: 1 for a in env.agents})
        assert env.state_shape[1:] == {"medium": (20, 16), "large": (29, 16)}[size]
