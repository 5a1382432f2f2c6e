"""The state of B warehouses with the same floor plan, and the rules that advance them.

:class:`Warehouses` owns the arrays the kernels in ``envs.warehouse._kernels`` work on; the
PettingZoo env (``robots.RobotsEnv``) is a batch of one and the batched env
(``vector.RobotsVectorEnv``) a batch of many, so both follow exactly the same rules.

Rules. Each step every robot acts at once: NOOP, FORWARD (one cell along its heading), LEFT /
RIGHT (turn in place), TOGGLE_LOAD (lift the shelf it stands under, or put its shelf down on a
slot; never in a corridor). An unloaded robot drives under shelves; a loaded one does not.
Conflicts resolve as in RWARE: chains of robots move together, cycles of three or more move,
head-on swaps do not, and of several chains converging on a free cell only the longest moves.
When a requested shelf stands on a goal it is delivered: it stops being requested and a new
request is drawn uniformly among the shelves not requested.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.warehouse import _kernels as k
from envs.warehouse import _paths, _views
from envs.warehouse._rware_ties import rware_moves
from envs.warehouse.layout import HEADINGS, Layout

RULES = ("learnloop", "rware")
REWARDS = {
    "individual": k.REWARD_INDIVIDUAL,
    "global": k.REWARD_GLOBAL,
    "two_stage": k.REWARD_TWO_STAGE,
}
STATE_PLANES = 10


def _heading(value: Any) -> int:
    if isinstance(value, str) and value in HEADINGS:
        return HEADINGS.index(value)
    if isinstance(value, int | np.integer) and 0 <= value < 4:
        return int(value)
    raise ValueError(f"heading must be one of {HEADINGS} or 0-3, got {value!r}")


class Warehouses:
    """B warehouses on one floor plan: robots, shelves, requests, orders and counters."""

    def __init__(
        self,
        layout: Layout,
        n_robots: int,
        request_queue: int,
        batch: int = 1,
        rules: str = "learnloop",
        reward: str = "individual",
        sensor_range: int = 1,
        observe_targets: bool = False,
        order_lines: int = 1,
        observe_paths: bool = False,
    ) -> None:
        if rules not in RULES:
            raise ValueError(f"rules must be one of {RULES}, got {rules!r}")
        if reward not in REWARDS:
            raise ValueError(f"reward must be one of {tuple(REWARDS)}, got {reward!r}")
        cells = layout.height * layout.width
        if not isinstance(n_robots, int) or not 1 <= n_robots <= cells:
            raise ValueError(f"n_robots must be an int from 1 to {cells}, got {n_robots!r}")
        shelves = len(layout.shelves)
        if not isinstance(request_queue, int) or not 1 <= request_queue < shelves:
            raise ValueError(
                f"request_queue must be an int from 1 to {shelves - 1} (one less than the "
                f"{shelves} shelves), got {request_queue!r}"
            )
        if not isinstance(sensor_range, int) or sensor_range < 0:
            raise ValueError(f"sensor_range must be an int >= 0, got {sensor_range!r}")
        if not isinstance(order_lines, int) or order_lines < 1:
            raise ValueError(f"order_lines must be an int >= 1, got {order_lines!r}")
        self.layout, self.batch, self.rules = layout, batch, rules
        self.n_robots, self.n_shelves, self.request_queue = n_robots, shelves, request_queue
        self.reward_mode, self.sensor_range = REWARDS[reward], sensor_range
        self.observe_targets, self.order_lines = observe_targets, order_lines
        self.observe_paths = observe_paths
        self.corridor = np.ascontiguousarray(layout.corridor, dtype=np.bool_)
        self.goals = np.array(layout.goals, dtype=np.int64).reshape(-1, 2)
        window = (2 * sensor_range + 1) ** 2
        self.obs_size = k.SELF_FEATURES + window * k.CELL_FEATURES
        self.obs_size += k.TARGET_FEATURES if observe_targets else 0
        self.obs_size += _paths.PATH_FEATURES if observe_paths else 0
        robots, h, w = (batch, n_robots), layout.height, layout.width
        self.x = np.zeros(robots, dtype=np.int64)
        self.y = np.zeros(robots, dtype=np.int64)
        self.heading = np.zeros(robots, dtype=np.int64)
        self.shelf = np.full(robots, -1, dtype=np.int64)
        self.delivered = np.zeros(robots, dtype=np.bool_)
        self.shelf_x = np.zeros((batch, shelves), dtype=np.int64)
        self.shelf_y = np.zeros((batch, shelves), dtype=np.int64)
        self.requested = np.zeros((batch, shelves), dtype=np.bool_)
        self.order_of = np.full((batch, shelves), -1, dtype=np.int64)
        self.open_order = np.zeros(batch, dtype=np.int64)
        self.open_lines = np.zeros(batch, dtype=np.int64)
        self.robot_grid = np.zeros((batch, h, w), dtype=np.int32)
        self.shelf_grid = np.zeros((batch, h, w), dtype=np.int32)
        self.rewards = np.zeros(robots, dtype=np.float64)
        self.pending = np.zeros(batch, dtype=np.bool_)
        self.deliveries = np.zeros(batch, dtype=np.int64)
        self.orders_completed = np.zeros(batch, dtype=np.int64)
        self._index_order = np.arange(n_robots, dtype=np.int64)
        self._version = 0  # counts resets and steps: the job features are cached per version
        self._job_cache: tuple[int, np.ndarray, np.ndarray] | None = None
        self._open_map_cache: np.ndarray | None = None

    # -- reset ----------------------------------------------------------------------------

    def reset(self, b: int, rng: np.random.Generator, options: dict | None = None) -> None:
        """Start warehouse ``b`` afresh, drawing what the layout and ``options`` leave open.

        ``options`` may fix ``robots`` (a list of ``(x, y, heading[, loaded])``) and
        ``requests`` (a list of shelf cells). Random draws are RWARE's, in RWARE's order:
        robot cells, headings, then requests.
        """
        self._version += 1
        options = options or {}
        layout, n = self.layout, self.n_robots
        h, w = layout.height, layout.width
        self.shelf_grid[b] = 0
        self.robot_grid[b] = 0
        for s, (sx, sy) in enumerate(layout.shelves):
            self.shelf_x[b, s], self.shelf_y[b, s] = sx, sy
            self.shelf_grid[b, sy, sx] = s + 1
        starts = options.get("robots")
        if starts is None and layout.robots:
            starts = [(r.x, r.y, r.heading, r.loaded) for r in layout.robots]
        if starts is None:
            cells = rng.choice(h * w, size=n, replace=False)
            ys, xs = np.unravel_index(cells, (h, w))
            headings = rng.choice(4, size=n)
            starts = list(
                zip(xs.tolist(), ys.tolist(), headings.tolist(), [False] * n, strict=True)
            )
        self._place_robots(b, starts)
        wanted = options.get("requests")
        if wanted is None and layout.requested:
            wanted = layout.requested
        if wanted is None:
            chosen = rng.choice(self.n_shelves, size=self.request_queue, replace=False).tolist()
        else:
            chosen = [self._shelf_at(b, cell) for cell in wanted]
            if len(set(chosen)) != self.request_queue:
                raise ValueError(
                    f"requests must name {self.request_queue} different shelves, got {wanted!r}"
                )
        self.requested[b] = False
        self.order_of[b] = -1
        self.open_order[b] = self.open_lines[b] = 0
        for s in chosen:
            k.assign_request(
                b, s, self.requested, self.order_of, self.open_order, self.open_lines,
                self.order_lines,
            )  # fmt: skip
        self.deliveries[b] = self.orders_completed[b] = 0

    def _place_robots(self, b: int, starts: list) -> None:
        if len(starts) != self.n_robots:
            raise ValueError(f"robots must list {self.n_robots} robots, got {len(starts)}")
        h, w = self.layout.height, self.layout.width
        for i, start in enumerate(starts):
            x, y, heading = int(start[0]), int(start[1]), _heading(start[2])
            loaded = bool(start[3]) if len(start) > 3 else False
            if not (0 <= x < w and 0 <= y < h) or self.robot_grid[b, y, x]:
                raise ValueError(f"robot {i} at {(x, y)} is off the map or on another robot")
            self.x[b, i], self.y[b, i], self.heading[b, i] = x, y, heading
            self.robot_grid[b, y, x] = i + 1
            self.delivered[b, i] = False
            self.shelf[b, i] = self.shelf_grid[b, y, x] - 1 if loaded else -1
            if loaded and self.shelf[b, i] < 0:
                raise ValueError(f"robot {i} is loaded but no shelf stands at {(x, y)}")

    def _shelf_at(self, b: int, cell: Any) -> int:
        x, y = int(cell[0]), int(cell[1])
        inside = 0 <= x < self.layout.width and 0 <= y < self.layout.height
        if not inside or self.shelf_grid[b, y, x] == 0:
            raise ValueError(f"requests: no shelf at {(x, y)}")
        return int(self.shelf_grid[b, y, x]) - 1

    # -- step -----------------------------------------------------------------------------

    def step(self, actions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Advance every warehouse by one step; returns the (B, N) rewards (a view)."""
        self._version += 1
        if self.rules == "rware":
            self.rewards[:] = 0.0
            for b in range(self.batch):
                self._step_rware(b, actions[b])
        else:
            k.step_batch(
                actions, self.x, self.y, self.heading, self.shelf, self.delivered, self.shelf_x,
                self.shelf_y, self.requested, self.robot_grid, self.shelf_grid, self.corridor,
                self.goals, self.rewards, self.reward_mode, self.pending,
            )  # fmt: skip
        if self.pending.any():
            k.deliver(
                self.pending, rng, self.x, self.y, self.shelf, self.delivered, self.requested,
                self.order_of, self.open_order, self.open_lines, self.order_lines,
                self.robot_grid, self.shelf_grid, self.goals, self.rewards, self.reward_mode,
                self.deliveries, self.orders_completed,
            )  # fmt: skip
        return self.rewards

    def _step_rware(self, b: int, actions: np.ndarray) -> None:
        n = self.n_robots
        tx, ty = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
        effective, moved = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.bool_)
        x, y = self.x[b], self.y[b]
        k.targets(
            actions, x, y, self.heading[b], self.shelf[b], self.robot_grid[b],
            self.shelf_grid[b], tx, ty, effective,
        )  # fmt: skip
        order = k.rware_node_order(x, y, tx, ty)
        if k.resolve(x, y, tx, ty, self.robot_grid[b], order, True, moved):
            starts = list(zip(x.tolist(), y.tolist(), strict=True))
            moved[:] = rware_moves(starts, list(zip(tx.tolist(), ty.tolist(), strict=True)))
        self.pending[b] = k.apply_moves(
            b, moved, effective, tx, ty, self.x, self.y, self.heading, self.shelf,
            self.delivered, self.shelf_x, self.shelf_y, self.robot_grid, self.shelf_grid,
            self.corridor, self.goals, self.rewards, self.reward_mode, self.requested,
        )  # fmt: skip

    # -- views ----------------------------------------------------------------------------

    def observe(self) -> np.ndarray:
        """Every robot's observation vector, (B, N, obs_size) float32 (a fresh array)."""
        out = np.empty((self.batch, self.n_robots, self.obs_size), dtype=np.float32)
        _views.observe(
            self.x, self.y, self.heading, self.shelf, self.shelf_x, self.shelf_y, self.requested,
            self.robot_grid, self.shelf_grid, self.corridor, self.goals, self.sensor_range,
            self.rules == "rware", self.observe_targets, out,
        )  # fmt: skip
        if self.observe_paths:
            out[..., -_paths.PATH_FEATURES :] = self._jobs()[0]
        return out

    def job_potential(self) -> np.ndarray:
        """(B, N) float: each robot's progress through its job cycle (``_paths.jobs``), a
        potential for reward shaping."""
        return self._jobs()[1].copy()

    def _open_maps(self) -> np.ndarray:
        """Distance maps to each cell on the open floor, filled in by ``_paths.jobs`` as needed."""
        if self._open_map_cache is None:
            h, w = self.layout.height, self.layout.width
            self._open_map_cache = np.full((h * w, 4, h, w), -1, dtype=np.int64)
        return self._open_map_cache

    def _jobs(self) -> tuple[np.ndarray, np.ndarray]:
        """Job features (B, N, PATH_FEATURES) and potentials (B, N), computed once per state."""
        if self._job_cache is None or self._job_cache[0] != self._version:
            features = np.zeros((self.batch, self.n_robots, _paths.PATH_FEATURES), np.float32)
            potential = np.empty((self.batch, self.n_robots))
            _paths.jobs(
                self.x, self.y, self.heading, self.shelf, self.shelf_x, self.shelf_y,
                self.requested, self.shelf_grid, self.corridor, self.goals, features, potential,
                self._open_maps(),
            )  # fmt: skip
            self._job_cache = (self._version, features, potential)
        return self._job_cache[1], self._job_cache[2]

    def observation_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Elementwise low and high of an observation vector."""
        low = np.zeros(self.obs_size, dtype=np.float32)
        high = np.ones(self.obs_size, dtype=np.float32)
        if self.rules == "rware":
            high[0], high[1] = self.layout.width - 1, self.layout.height - 1
        if self.observe_targets:
            end = self.obs_size - (_paths.PATH_FEATURES if self.observe_paths else 0)
            low[end - 6 : end] = -1.0
        if self.observe_paths:
            low[-3:] = -1.0
        return low, high

    def action_masks(self) -> np.ndarray:
        """(B, N, 5) int8: 1 where an action can change something (see the kernel)."""
        out = np.empty((self.batch, self.n_robots, 5), dtype=np.int8)
        _views.action_masks(
            self.x, self.y, self.heading, self.shelf, self.robot_grid, self.shelf_grid,
            self.corridor, out,
        )  # fmt: skip
        return out

    def job_masks(self) -> np.ndarray:
        """(B, N, 5) int8: :meth:`action_masks` with TOGGLE_LOAD kept only where it serves a
        job: lifting a requested shelf, or putting down a shelf that is not requested."""
        masks = self.action_masks()
        b = np.arange(self.batch)[:, None]
        under = self.shelf_grid[b, self.y, self.x] - 1
        carried = self.shelf
        lift = (carried < 0) & (under >= 0) & self.requested[b, np.maximum(under, 0)]
        drop = (carried >= 0) & ~self.requested[b, np.maximum(carried, 0)]
        masks[..., k.TOGGLE_LOAD] &= lift | drop
        return masks

    def global_state(self) -> np.ndarray:
        """(B, 10, H, W) float32 planes: shelf, requested, robot, loaded, heading (4), goal,
        corridor."""
        shape = (self.batch, STATE_PLANES, self.layout.height, self.layout.width)
        out = np.empty(shape, dtype=np.float32)
        _views.global_state(
            self.x, self.y, self.heading, self.shelf, self.requested, self.robot_grid,
            self.shelf_grid, self.corridor, self.goals, out,
        )  # fmt: skip
        return out
