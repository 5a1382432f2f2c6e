"""Compiled path planning for the greedy warehouse controller.

A robot's state is ``(heading, y, x)``; each step it waits, moves forward, or turns, all at a
cost of one step. :func:`distance_map` (``envs.warehouse.kernels``) gives the steps-to-target
from every state on the static map. :func:`plan_path` searches space-time states up to a
horizon (windowed cooperative A*, here plain breadth-first as every action costs 1), avoiding
cells that higher-priority robots reserved (``reservations[t, y, x]`` = robot + 1) and head-on
swaps with them, and returns the first action of the best path.
"""

from __future__ import annotations

import numba
import numpy as np

from envs.warehouse.kernels import (
    DX,
    DY,
    FORWARD,
    LEFT,
    NOOP,
    RIGHT,
    TOGGLE_LOAD,
    TURN_LEFT,
    TURN_RIGHT,
    UNREACHABLE,
    distance_map,
)

__all__ = ["NOOP", "TOGGLE_LOAD", "UNREACHABLE", "distance_map", "plan_path"]


@numba.njit(cache=True)
def _free_from(reservations, t, y, x, me):
    for u in range(t, reservations.shape[0]):
        r = reservations[u, y, x]
        if r != 0 and r != me + 1:
            return False
    return True


@numba.njit(cache=True)
def plan_path(x0, y0, h0, me, passable, target, dist, reservations, path):
    """Best path from (x0, y0, h0) within the horizon; returns (first action, last time).

    The best path reaches a target cell it can then hold until the horizon, earliest first;
    failing that, it ends where ``dist`` is smallest. ``path[t] = (x, y)`` is filled for
    ``t <= last time``. The first action is NOOP when the robot cannot move at all.
    """
    horizon = reservations.shape[0] - 1
    height, width = passable.shape
    layer = 4 * height * width
    parent = np.full((horizon + 1, layer), -1, dtype=np.int64)
    moved_by = np.zeros((horizon + 1, layer), dtype=np.int64)
    frontier = np.empty(layer, dtype=np.int64)
    nxt = np.empty(layer, dtype=np.int64)
    start = (h0 * height + y0) * width + x0
    frontier[0], size, parent[0, start] = start, 1, start
    best_t, best_state, best_score = 0, start, dist[h0, y0, x0]
    found = target[y0, x0] and _free_from(reservations, 0, y0, x0, me)
    t = 0
    while not found and t < horizon and size > 0:
        count = 0
        for f in range(size):
            state = frontier[f]
            h, rest = state // (height * width), state % (height * width)
            y, x = rest // width, rest % width
            for action in (FORWARD, LEFT, RIGHT, NOOP):  # moving early wins ties
                nh, ny, nx = h, y, x
                if action == FORWARD:
                    nx, ny = x + DX[h], y + DY[h]
                    if not (0 <= nx < width and 0 <= ny < height) or not passable[ny, nx]:
                        continue
                    other = reservations[t, ny, nx]
                    if other != 0 and other != me + 1 and reservations[t + 1, y, x] == other:
                        continue  # a head-on swap, which the warehouse blocks
                elif action == LEFT:
                    nh = TURN_LEFT[h]
                elif action == RIGHT:
                    nh = TURN_RIGHT[h]
                r = reservations[t + 1, ny, nx]
                if r != 0 and r != me + 1:
                    continue
                code = (nh * height + ny) * width + nx
                if parent[t + 1, code] >= 0:
                    continue
                parent[t + 1, code] = state
                moved_by[t + 1, code] = action
                nxt[count] = code
                count += 1
        t += 1
        frontier[:count] = nxt[:count]
        size = count
        for f in range(size):
            code = frontier[f]
            h, rest = code // (height * width), code % (height * width)
            y, x = rest // width, rest % width
            if target[y, x] and _free_from(reservations, t, y, x, me):
                best_t, best_state, found = t, code, True
                break
            if dist[h, y, x] < best_score or (dist[h, y, x] == best_score and t > best_t):
                best_t, best_state, best_score = t, code, dist[h, y, x]
    first = NOOP
    code = best_state
    for u in range(best_t, -1, -1):
        rest = code % (height * width)
        path[u, 0], path[u, 1] = rest % width, rest // width
        if u > 0:
            if u == 1:
                first = moved_by[1, code]
            code = parent[u, code]
    return first, best_t, found
