"""Compiled views of the robots warehouse: per-robot observations, action masks, global state.

Arrays as in ``envs.warehouse._kernels`` (warehouse first, robot second).
"""

from __future__ import annotations

import numba

from envs.warehouse._kernels import (
    CELL_FEATURES,
    DX,
    DY,
    FORWARD,
    LEFT,
    NOOP,
    RIGHT,
    SELF_FEATURES,
    TOGGLE_LOAD,
)


@numba.njit(cache=True)
def observe(
    x, y, heading, shelf, shelf_x, shelf_y, requested, robot_grid, shelf_grid, corridor, goals,
    sensor_range, rware_style, with_targets, out,
):  # fmt: skip
    """Each robot's vector: itself, then a (2r+1)^2 window in reading order, then targets.

    ``rware_style``: RWARE 2.0's exact vector (raw coordinates; an empty cell's heading reads
    as "up"). Otherwise coordinates are scaled to [0, 1] and an empty cell's heading is zero.
    """
    batch, n = x.shape
    height, width = corridor.shape
    scale_x = 1.0 if rware_style else 1.0 / max(width - 1, 1)
    scale_y = 1.0 if rware_style else 1.0 / max(height - 1, 1)
    out[:] = 0.0
    for b in range(batch):
        for i in range(n):
            o = out[b, i]
            o[0] = x[b, i] * scale_x
            o[1] = y[b, i] * scale_y
            o[2] = shelf[b, i] >= 0
            o[3 + heading[b, i]] = 1.0
            o[7] = corridor[y[b, i], x[b, i]]
            k = SELF_FEATURES
            for cy in range(y[b, i] - sensor_range, y[b, i] + sensor_range + 1):
                for cx in range(x[b, i] - sensor_range, x[b, i] + sensor_range + 1):
                    inside = 0 <= cx < width and 0 <= cy < height
                    r = robot_grid[b, cy, cx] if inside else 0
                    s = shelf_grid[b, cy, cx] if inside else 0
                    if r != 0:
                        o[k] = 1.0
                        o[k + 1 + heading[b, r - 1]] = 1.0
                    elif rware_style:
                        o[k + 1] = 1.0
                    if s != 0:
                        o[k + 5] = 1.0
                        o[k + 6] = requested[b, s - 1]
                    k += CELL_FEATURES
            if with_targets:
                _write_targets(
                    b, i, x, y, heading, shelf, shelf_x, shelf_y, requested, robot_grid,
                    shelf_grid, corridor, goals, o, k,
                )  # fmt: skip


@numba.njit(cache=True)
def _offset(o, k, heading, dx, dy, span):
    """Write (dx, dy) in the robot's frame, (ahead, to the right), divided by ``span``."""
    fx, fy = DX[heading], DY[heading]
    o[k] = (dx * fx + dy * fy) / span
    o[k + 1] = (dx * -fy + dy * fx) / span


@numba.njit(cache=True)
def _write_targets(
    b, i, x, y, heading, shelf, shelf_x, shelf_y, requested, robot_grid, shelf_grid, corridor,
    goals, o, k,
):  # fmt: skip
    """Carrying a request?; offsets to the nearest resting request, goal and free slot, in the
    robot's frame (ahead, right) and divided by the longer side of the map less one."""
    height, width = corridor.shape
    span = max(max(width, height) - 1, 1)
    rx, ry, h = x[b, i], y[b, i], heading[b, i]
    carried = shelf[b, i]
    o[k] = carried >= 0 and requested[b, carried]
    best = -1
    for s in range(requested.shape[1]):
        sx, sy = shelf_x[b, s], shelf_y[b, s]
        carrier = robot_grid[b, sy, sx] - 1
        if not requested[b, s] or (carrier >= 0 and shelf[b, carrier] == s):
            continue
        d = abs(sx - rx) + abs(sy - ry)
        if best < 0 or d < best:
            best = d
            _offset(o, k + 1, h, sx - rx, sy - ry, span)
    best = -1
    for g in range(goals.shape[0]):
        d = abs(goals[g, 0] - rx) + abs(goals[g, 1] - ry)
        if best < 0 or d < best:
            best = d
            _offset(o, k + 3, h, goals[g, 0] - rx, goals[g, 1] - ry, span)
    best = -1
    for cy in range(height):
        for cx in range(width):
            if not corridor[cy, cx] and shelf_grid[b, cy, cx] == 0:
                d = abs(cx - rx) + abs(cy - ry)
                if best < 0 or d < best:
                    best = d
                    _offset(o, k + 5, h, cx - rx, cy - ry, span)


@numba.njit(cache=True)
def action_masks(x, y, heading, shelf, robot_grid, shelf_grid, corridor, out):
    """1 where an action can change something: FORWARD off the map edge and, when loaded,
    not under a resting shelf; TOGGLE_LOAD onto a shelf or down onto a slot."""
    batch, n = x.shape
    height, width = corridor.shape
    for b in range(batch):
        for i in range(n):
            m = out[b, i]
            m[NOOP] = m[LEFT] = m[RIGHT] = 1
            nx, ny = x[b, i] + DX[heading[b, i]], y[b, i] + DY[heading[b, i]]
            ok = 0 <= nx < width and 0 <= ny < height
            if ok and shelf[b, i] >= 0 and shelf_grid[b, ny, nx] != 0:
                other = robot_grid[b, ny, nx]
                ok = other != 0 and shelf[b, other - 1] >= 0
            m[FORWARD] = ok
            if shelf[b, i] < 0:
                m[TOGGLE_LOAD] = shelf_grid[b, y[b, i], x[b, i]] != 0
            else:
                m[TOGGLE_LOAD] = not corridor[y[b, i], x[b, i]]


@numba.njit(cache=True)
def global_state(x, y, heading, shelf, requested, robot_grid, shelf_grid, corridor, goals, out):
    """Planes (B, 10, H, W): shelf, requested shelf, robot, loaded robot, heading one-hot (4),
    goal, corridor."""
    batch, n = x.shape
    out[:] = 0.0
    for b in range(batch):
        o = out[b]
        height, width = corridor.shape
        for cy in range(height):
            for cx in range(width):
                s = shelf_grid[b, cy, cx]
                if s != 0:
                    o[0, cy, cx] = 1.0
                    o[1, cy, cx] = requested[b, s - 1]
                o[9, cy, cx] = corridor[cy, cx]
        for i in range(n):
            o[2, y[b, i], x[b, i]] = 1.0
            o[3, y[b, i], x[b, i]] = shelf[b, i] >= 0
            o[4 + heading[b, i], y[b, i], x[b, i]] = 1.0
        for g in range(goals.shape[0]):
            o[8, goals[g, 1], goals[g, 0]] = 1.0
