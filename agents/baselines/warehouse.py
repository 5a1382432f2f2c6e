"""Baselines for the robots warehouse: random robots, and a greedy full-map controller.

The greedy controller sees the whole warehouse (``env.core``, a ``Warehouses`` batch) and,
every step, gives each robot a job and plans its path around the others:

- carrying a requested shelf: to the nearest goal (the delivery happens on arrival);
- carrying any other shelf: to the nearest free slot it has claimed, then put it down;
- empty-handed: to the nearest requested shelf nobody else has claimed, then lift it;
- with nothing to do: off the corridors (under a shelf), out of the others' way.

Robots plan one after another, in priority order (a robot whose plan failed recently first,
for half a horizon, so two robots in each other's way do not take turns failing; then loaded
robots; then the rest), each by a space-time search that avoids the cells the
earlier ones reserved and head-on swaps with them (``_warehouse_planning``). Replanning every
step keeps the plans consistent with what actually happened.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.baselines import _warehouse_planning as planning

Cell = tuple[int, int]


class RandomController:
    """Uniformly random actions (optionally only unmasked ones)."""

    def __init__(self, seed: int = 0, masked: bool = False) -> None:
        self.rng = np.random.default_rng(seed)
        self.masked = masked

    def reset(self) -> None:
        """Nothing to forget between episodes."""

    def actions(self, core: Any, b: int = 0) -> np.ndarray:
        """One random action per robot of warehouse ``b``."""
        if not self.masked:
            return self.rng.integers(0, 5, size=core.n_robots)
        masks = core.action_masks()[b].astype(bool)
        return np.array([self.rng.choice(np.flatnonzero(m)) for m in masks])


class GreedyController:
    """Job assignment plus prioritised space-time planning with reservations (see module)."""

    def __init__(self, horizon: int = 24) -> None:
        if not isinstance(horizon, int) or horizon < 1:
            raise ValueError(f"horizon must be an int >= 1, got {horizon!r}")
        self.horizon = horizon
        self.reset()

    def reset(self) -> None:
        """Forget jobs and claims (call at every episode start)."""
        self.claims: dict[int, Cell] = {}  # robot -> the cell of its job
        self.boost: dict[int, int] = {}  # robot -> steps it keeps top priority after a failure

    def actions(self, core: Any, b: int = 0) -> np.ndarray:
        """One action per robot of warehouse ``b`` of ``core``."""
        n = core.n_robots
        h, w = core.layout.height, core.layout.width
        xs, ys, shelf = core.x[b], core.y[b], core.shelf[b]
        carried = set(shelf[shelf >= 0].tolist())
        resting = core.shelf_grid[b].copy()
        for s in carried:
            resting[core.shelf_y[b, s], core.shelf_x[b, s]] = 0
        jobs = self._jobs(core, b, carried, resting)
        reservations = np.zeros((self.horizon + 1, h, w), dtype=np.int32)
        reservations[0, ys, xs] = np.arange(1, n + 1)
        reservations[1, ys, xs] = np.arange(1, n + 1)  # until a robot plans, it stays put
        actions = np.zeros(n, dtype=np.int64)
        path = np.zeros((self.horizon + 1, 2), dtype=np.int64)
        passable_loaded = resting == 0
        passable_free = np.ones((h, w), dtype=np.bool_)
        self.boost = {i: left - 1 for i, left in self.boost.items() if left > 1}
        for i in self._priority(core, b, jobs):
            kind, target = jobs[i]
            here = (int(xs[i]), int(ys[i]))
            if reservations[1, here[1], here[0]] == i + 1:
                reservations[1, here[1], here[0]] = 0
            if kind in ("lift", "drop") and here == target:
                actions[i] = planning.TOGGLE_LOAD
                reservations[:, here[1], here[0]] = i + 1
                continue
            if kind == "stay":
                reservations[1:, here[1], here[0]] = np.where(
                    reservations[1:, here[1], here[0]] == 0,
                    i + 1,
                    reservations[1:, here[1], here[0]],
                )
                continue
            mask = np.zeros((h, w), dtype=np.bool_)
            cells = core.goals[:, ::-1] if kind == "deliver" else [target[::-1]]
            for y, x in cells:
                mask[y, x] = True
            passable = passable_loaded if shelf[i] >= 0 else passable_free
            passable = passable.copy()
            passable[here[1], here[0]] = True
            dist = planning.distance_map(passable, mask)
            first, last, found = planning.plan_path(
                here[0], here[1], int(core.heading[b, i]), i, passable, mask, dist, reservations,
                path,
            )  # fmt: skip
            for t in range(last + 1):
                reservations[t, path[t, 1], path[t, 0]] = i + 1
            end = reservations[last:, path[last, 1], path[last, 0]]
            end[end == 0] = i + 1
            actions[i] = first
            if (
                not found
                and first == planning.NOOP
                and dist[int(core.heading[b, i]), here[1], here[0]] > 0
            ):
                self.boost.setdefault(i, max(1, self.horizon // 2))
        return actions

    def _jobs(self, core: Any, b: int, carried: set, resting: np.ndarray) -> dict[int, tuple]:
        """Each robot's job: ("deliver", None), ("drop", slot), ("lift", cell) or ("stay", None)."""
        xs, ys, shelf = core.x[b], core.y[b], core.shelf[b]
        requested = core.requested[b]
        jobs: dict[int, tuple] = {}
        wanted = {
            (int(core.shelf_x[b, s]), int(core.shelf_y[b, s]))
            for s in np.flatnonzero(requested)
            if s not in carried
        }
        free_slots = {
            (int(x), int(y))
            for y, x in zip(*np.nonzero(~core.corridor & (resting == 0)), strict=True)
        }
        robot_cells = {(int(x), int(y)) for x, y in zip(xs, ys, strict=True)}
        claims = {}
        for i in range(core.n_robots):
            old = self.claims.get(i)
            if shelf[i] >= 0 and requested[shelf[i]]:
                jobs[i] = ("deliver", None)
            elif shelf[i] >= 0 and old in free_slots:
                jobs[i], claims[i] = ("drop", old), old
            elif shelf[i] < 0 and old in wanted:
                jobs[i], claims[i] = ("lift", old), old
        taken = set(claims.values())
        for i in range(core.n_robots):
            if i in jobs:
                continue
            here = (int(xs[i]), int(ys[i]))
            options = (free_slots if shelf[i] >= 0 else wanted) - taken
            if not options and shelf[i] < 0 and core.corridor[here[1], here[0]]:
                options = free_slots | {
                    (int(x), int(y)) for y, x in zip(*np.nonzero(~core.corridor), strict=True)
                }
                options -= taken | robot_cells
                kind = "park"
            else:
                kind = "drop" if shelf[i] >= 0 else "lift"
            if not options:
                jobs[i] = ("stay", None)
                continue
            cell = min(options, key=lambda c: (abs(c[0] - here[0]) + abs(c[1] - here[1]), c))
            jobs[i], claims[i] = (kind, cell), cell
            taken.add(cell)
        self.claims = claims
        return jobs

    def _priority(self, core: Any, b: int, jobs: dict[int, tuple]) -> list[int]:
        rank = {"deliver": 1, "drop": 2, "lift": 3, "park": 4, "stay": 5}
        boosted = sorted(self.boost, key=lambda i: self.boost[i])  # earliest failure first
        rest = sorted((i for i in jobs if i not in self.boost), key=lambda i: (rank[jobs[i][0]], i))
        return boosted + rest


def run_episode(env: Any, controller: Any, seed: int) -> dict[str, float]:
    """Play one episode of a ``RobotsEnv`` with a controller; returns the env's summary."""
    env.reset(seed=seed)
    controller.reset()
    while env.agents:
        chosen = controller.actions(env.core, 0)
        env.step(dict(zip(env.agents, chosen.tolist(), strict=True)))
    return env.summary()
