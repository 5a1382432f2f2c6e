"""``observe_paths``: each robot's job (as the greedy controller assigns it) as 6 features.

Features: carrying a request, has a job, steps to the job's cell over 2 * (H + W), and the
change in those steps after FORWARD, LEFT and RIGHT (clipped to -1..1; +1 when blocked).
"""

from __future__ import annotations

import numpy as np
import pytest

from envs.warehouse.robots import RobotsEnv


def job_features(env: RobotsEnv) -> np.ndarray:
    return env.core.observe()[0, :, -6:]


def test_the_closer_robot_gets_the_request_and_the_other_no_job() -> None:
    env = RobotsEnv(layout="xXx\n..^\n^..\n.g.", observe_paths=True, request_queue=1)
    env.reset(seed=0)
    span = 2.0 * (4 + 3)
    near, far = job_features(env)  # robots in reading order
    # Robot 0 at (2, 1) facing up: forward, left, forward = 3 steps; robot 1 needs 4 (it
    # drives under the shelf at (0, 0)).
    assert near.tolist() == pytest.approx([0, 1, 3 / span, -1, 0, 1])
    assert far.tolist() == [0, 0, 1, 0, 0, 0]
    assert env.core.job_potential()[0].tolist() == pytest.approx([-3 / span, -1.0])


def test_a_loaded_robot_is_steered_to_a_goal_around_shelves() -> None:
    env = RobotsEnv(layout="xx_\n.N.\n.g.", observe_paths=True, request_queue=1)
    env.reset(seed=0, options={"requests": [(1, 1)]})
    (robot,) = job_features(env)
    # Facing a shelf it cannot pass under (+1); the goal is behind it: two turns and a move.
    assert robot.tolist() == pytest.approx([1, 1, 3 / 12, 1, -1, -1])
    env.step({"robot_0": 2})
    assert job_features(env)[0, 2] == pytest.approx(2 / 12)
    env.step({"robot_0": 2})
    _, rewards, *_ = env.step({"robot_0": 1})
    assert rewards["robot_0"] == 1.0  # delivered; now the job is a free slot for the shelf
    assert job_features(env)[0, :2].tolist() == [0, 1]


def test_path_features_lie_in_the_observation_space() -> None:
    env = RobotsEnv(size="small", n_robots=4, observe_targets=True, observe_paths=True)
    observations, _ = env.reset(seed=2)
    space = env.observation_space("robot_0")
    assert space.shape == (71 + 7 + 6,)
    for _ in range(100):
        assert all(space.contains(obs) for obs in observations.values())
        observations, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})


def test_two_robots_bringing_shelves_back_never_head_for_the_same_slot() -> None:
    env = RobotsEnv(layout="_xx\nN.N\n.g.", observe_paths=True, request_queue=1)
    env.reset(seed=0, options={"requests": [(1, 0)]})
    near, far = job_features(env)
    assert near.tolist() == pytest.approx([0, 1, 1 / 12, -1, 1, 1])  # the slot just ahead
    assert far.tolist() == [0, 0, 1, 0, 0, 0]  # the only free slot is taken: no job
