"""rules="rware" against the rware 2.0 package: same seeds, same actions, same everything.

Observations, rewards and requests are compared at every step of random and of scripted
(greedy, delivery-heavy) trajectories. rware is a test-only dependency (the ``dev`` extra).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.optional import require

rware = require("rware")
nx = require("networkx")

from rware.warehouse import RewardType, Warehouse  # noqa: E402

import envs.warehouse.core  # noqa: E402
from agents.baselines.warehouse import GreedyController  # noqa: E402
from envs.warehouse._rware_ties import rware_moves  # noqa: E402
from envs.warehouse.layout import SIZES  # noqa: E402
from envs.warehouse.robots import RobotsEnv  # noqa: E402

REWARD_TYPES = {
    "individual": RewardType.INDIVIDUAL,
    "global": RewardType.GLOBAL,
    "two_stage": RewardType.TWO_STAGE,
}


def reference(size: str, n: int, reward: str = "individual") -> Warehouse:
    """rware's Warehouse with the settings of its registered rware-<size>-<n>ag-v2 ids."""
    rows, columns = SIZES[size]
    return Warehouse(
        shelf_columns=columns, column_height=8, shelf_rows=rows, n_agents=n, msg_bits=0,
        sensor_range=1, request_queue_size=n, max_inactivity_steps=None, max_steps=500,
        reward_type=REWARD_TYPES[reward],
    )  # fmt: skip


def compare(size: str, n: int, seed: int, policy, reward: str = "individual", steps: int = 500):
    """Step both envs with ``policy(env) -> actions``; assert they agree; return deliveries."""
    theirs = reference(size, n, reward)
    ours = RobotsEnv(size=size, n_robots=n, rules="rware", reward=reward)
    their_obs, _ = theirs.reset(seed=seed)
    our_obs, _ = ours.reset(seed=seed)
    for t in range(steps):
        for i, agent in enumerate(ours.possible_agents):
            np.testing.assert_array_equal(their_obs[i], our_obs[agent], err_msg=f"step {t}")
        their_requests = sorted(s.id - 1 for s in theirs.request_queue)
        assert their_requests == np.flatnonzero(ours.core.requested[0]).tolist(), f"step {t}"
        actions = policy(ours)
        their_obs, their_rewards, done, _, _ = theirs.step(actions.tolist())
        our_obs, our_rewards, _, truncated, _ = ours.step(
            dict(zip(ours.agents, actions.tolist(), strict=True))
        )
        assert [float(r) for r in their_rewards] == list(our_rewards.values()), f"step {t}"
        assert done == all(truncated.values())
    return ours.deliveries


def random_policy(seed: int):
    rng = np.random.default_rng(seed)
    return lambda env: rng.choice(5, size=env.core.n_robots, p=[0.1, 0.5, 0.15, 0.15, 0.1])


@pytest.mark.parametrize(("size", "n", "seed"), [("tiny", 2, 0), ("tiny", 4, 1), ("small", 8, 2)])
def test_random_trajectories_match(size: str, n: int, seed: int) -> None:
    compare(size, n, seed, random_policy(seed))


def test_crowded_trajectories_match_including_set_ordered_ties(monkeypatch) -> None:  # noqa: ANN001
    calls = []

    def counted(starts, targets):  # noqa: ANN001, ANN202
        calls.append(1)
        return rware_moves(starts, targets)

    monkeypatch.setattr(envs.warehouse.core, "rware_moves", counted)
    compare("tiny", 19, 0, random_policy(0), steps=200)
    assert calls  # the exact networkx emulation was needed, and agreed


@pytest.mark.parametrize(("size", "n", "reward"), [("tiny", 4, "individual"), ("small", 4, "global"), ("tiny", 2, "two_stage")])  # fmt: skip
def test_scripted_delivery_trajectories_match(size: str, n: int, reward: str) -> None:
    controller = GreedyController()
    deliveries = compare(size, n, 7, lambda env: controller.actions(env.core, 0), reward)
    assert deliveries >= 20


def networkx_moves(starts: list, targets: list) -> list[bool]:
    """RWARE 2.0's own resolution code, on networkx."""
    graph = nx.DiGraph()
    for start, target in zip(starts, targets, strict=True):
        graph.add_edge(start, target)
    robot_at = {cell: i for i, cell in enumerate(starts)}
    committed = set()
    for component in [graph.subgraph(c).copy() for c in nx.weakly_connected_components(graph)]:
        try:
            cycle = nx.algorithms.find_cycle(component)
            if len(cycle) != 2:
                committed |= {robot_at[edge[0]] for edge in cycle}
        except nx.NetworkXNoCycle:
            path = nx.algorithms.dag_longest_path(component)
            committed |= {robot_at[cell] for cell in path if cell in robot_at}
    return [i in committed for i in range(len(starts))]


def test_tie_emulation_matches_networkx_on_random_crowds() -> None:
    rng = np.random.default_rng(0)
    for _ in range(1000):
        width, height = rng.integers(3, 8, size=2)
        n = int(rng.integers(2, min(12, width * height)))
        cells = rng.choice(width * height, size=n, replace=False)
        starts = [(int(c % width), int(c // width)) for c in cells]
        targets = []
        for x, y in starts:
            d = int(rng.integers(0, 6))
            dx, dy = ((0, -1), (0, 1), (-1, 0), (1, 0), (0, 0), (0, 0))[d]
            targets.append((min(max(x + dx, 0), width - 1), min(max(y + dy, 0), height - 1)))
        assert rware_moves(starts, targets) == networkx_moves(starts, targets)
