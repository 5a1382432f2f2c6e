"""Compiled path distances on the warehouse floor, and each robot's job as a feature vector.

A robot's state is ``(heading, y, x)``; each step it moves forward or turns, at a cost of one
step. :func:`distance_map` gives the steps-to-target from every state on the static map
(backward breadth-first search). :func:`jobs` gives every robot a job, as the greedy
controller does (``agents.baselines.warehouse``): carrying a requested shelf, to the nearest
goal; carrying another shelf, to a free slot; empty-handed, to a resting request. Shelves and
slots are matched to robots closest pair first, so that no two robots head for the same one. It
writes, per robot, ``PATH_FEATURES`` values (``observe_paths``) and a potential for reward
shaping.
"""

from __future__ import annotations

import numba
import numpy as np

from envs.warehouse._kernels import DX, DY, TURN_LEFT, TURN_RIGHT

UNREACHABLE = 1 << 30
PATH_FEATURES = 6  # carrying a request; has a job; steps to it; change after FORWARD, LEFT, RIGHT
PHASE_EMPTY, PHASE_REQUEST, PHASE_OTHER = 0.0, 0.5, -0.25  # potential of each job's start


@numba.njit(cache=True)
def distance_map(passable, target):
    """Steps from each (heading, y, x) to any target cell, on passable cells (static map)."""
    height, width = passable.shape
    dist = np.full((4, height, width), UNREACHABLE, dtype=np.int64)
    queue = np.empty(4 * height * width, dtype=np.int64)
    head = tail = 0
    for y in range(height):
        for x in range(width):
            if target[y, x]:
                for h in range(4):
                    dist[h, y, x] = 0
                    queue[tail] = (h * height + y) * width + x
                    tail += 1
    while head < tail:
        state = queue[head]
        head += 1
        h, rest = state // (height * width), state % (height * width)
        y, x = rest // width, rest % width
        d = dist[h, y, x] + 1
        # Predecessors: a forward move from the cell behind, or a turn into this heading.
        px, py = x - DX[h], y - DY[h]
        if 0 <= px < width and 0 <= py < height and passable[py, px] and dist[h, py, px] > d:
            dist[h, py, px] = d
            queue[tail] = (h * height + py) * width + px
            tail += 1
        for p in range(4):
            if (TURN_LEFT[p] == h or TURN_RIGHT[p] == h) and dist[p, y, x] > d:
                dist[p, y, x] = d
                queue[tail] = (p * height + y) * width + x
                tail += 1
    return dist


@numba.njit(cache=True)
def reach_map(passable, h0, y0, x0):
    """Steps from (h0, y0, x0) to each (heading, y, x), on passable cells (forward search).

    The mirror of :func:`distance_map`, kept as its own loop: one search shared by both
    (direction as an argument) made ``distance_map`` 15% slower in numba."""
    height, width = passable.shape
    dist = np.full((4, height, width), UNREACHABLE, dtype=np.int64)
    queue = np.empty(4 * height * width, dtype=np.int64)
    dist[h0, y0, x0] = 0
    queue[0] = (h0 * height + y0) * width + x0
    head, tail = 0, 1
    while head < tail:
        state = queue[head]
        head += 1
        h, rest = state // (height * width), state % (height * width)
        y, x = rest // width, rest % width
        d = dist[h, y, x] + 1
        nx, ny = x + DX[h], y + DY[h]
        if 0 <= nx < width and 0 <= ny < height and passable[ny, nx] and dist[h, ny, nx] > d:
            dist[h, ny, nx] = d
            queue[tail] = (h * height + ny) * width + nx
            tail += 1
        for nh in (TURN_LEFT[h], TURN_RIGHT[h]):
            if dist[nh, y, x] > d:
                dist[nh, y, x] = d
                queue[tail] = (nh * height + y) * width + x
                tail += 1
    return dist


@numba.njit(cache=True)
def _closest_pairs(distance, match):
    """Match rows (robots, ``match[i] < 0`` if still free) to columns (targets) by taking the
    closest free pair first, until none is left at a finite distance."""
    taken = np.zeros(distance.shape[1], dtype=np.bool_)
    while True:
        best, bi, bj = UNREACHABLE, -1, -1
        for i in range(distance.shape[0]):
            if match[i] >= 0:
                continue
            for j in range(distance.shape[1]):
                if not taken[j] and distance[i, j] < best:
                    best, bi, bj = distance[i, j], i, j
        if bi < 0:
            return
        match[bi], taken[bj] = bj, True


@numba.njit(cache=True)
def _write(o, dist, h, y, x, passable, span, carrying_request):
    """The features of a robot at (h, y, x) whose job's distance map is ``dist``."""
    height, width = passable.shape
    o[0] = carrying_request
    here = dist[h, y, x]
    if here >= UNREACHABLE:
        o[2] = 1.0
        return -1.0
    o[1] = 1.0
    o[2] = here / span
    nx, ny = x + DX[h], y + DY[h]
    after_forward = UNREACHABLE
    if 0 <= nx < width and 0 <= ny < height and passable[ny, nx]:
        after_forward = dist[h, ny, nx]
    for j, after in enumerate((after_forward, dist[TURN_LEFT[h], y, x], dist[TURN_RIGHT[h], y, x])):
        o[3 + j] = max(-1.0, min(1.0, float(after - here)))
    return here / span


@numba.njit(cache=True)
def jobs(x, y, heading, shelf, shelf_x, shelf_y, requested, shelf_grid, corridor, goals, out,
         potential, open_maps):  # fmt: skip
    """Write each robot's ``PATH_FEATURES`` job features to ``out[b, i]`` and its shaping
    potential (its job's start value less the steps left over ``2 * (height + width)``; -1
    more with no job) to ``potential[b, i]``.

    ``open_maps`` (H * W, 4, H, W), filled with -1 at first, keeps the distance map to each cell
    for an empty robot, which drives under shelves: those never change, so each is searched once.
    """
    batch, n = x.shape
    height, width = corridor.shape
    span = 2.0 * (height + width)
    anywhere = np.ones((height, width), dtype=np.bool_)
    goal_cells = np.zeros((height, width), dtype=np.bool_)
    for g in range(goals.shape[0]):
        goal_cells[goals[g, 1], goals[g, 0]] = True
    for b in range(batch):
        clear = shelf_grid[b] == 0
        for i in range(n):  # a carried shelf is not in the way
            if shelf[b, i] >= 0:
                clear[y[b, i], x[b, i]] = True
        to_goal = distance_map(clear, goal_cells)
        # Empty robots x resting requests, and robots carrying another shelf x free slots.
        resting = np.zeros(requested.shape[1], dtype=np.bool_)
        for s in range(requested.shape[1]):
            resting[s] = requested[b, s]
        for i in range(n):
            if shelf[b, i] >= 0:
                resting[shelf[b, i]] = False
        wanted = np.flatnonzero(resting)
        cells = np.empty(wanted.size, dtype=np.int64)
        for r in range(wanted.size):
            sy, sx = shelf_y[b, wanted[r]], shelf_x[b, wanted[r]]
            cells[r] = sy * width + sx
            if open_maps[cells[r], 0, sy, sx] < 0:
                cell = np.zeros((height, width), dtype=np.bool_)
                cell[sy, sx] = True
                open_maps[cells[r]] = distance_map(anywhere, cell)
        slot_y, slot_x = np.nonzero(clear & ~corridor)
        fetch = np.full((n, wanted.size), UNREACHABLE, dtype=np.int64)
        put = np.full((n, slot_y.size), UNREACHABLE, dtype=np.int64)
        fetching = np.full(n, -2, dtype=np.int64)  # -2: not in this matching, -1: free
        putting = np.full(n, -2, dtype=np.int64)
        for i in range(n):
            if shelf[b, i] < 0:
                fetching[i] = -1
                for r in range(wanted.size):
                    fetch[i, r] = open_maps[cells[r], heading[b, i], y[b, i], x[b, i]]
            elif not requested[b, shelf[b, i]]:
                putting[i] = -1
                reach = reach_map(clear, heading[b, i], y[b, i], x[b, i])
                for j in range(slot_y.size):
                    put[i, j] = reach[:, slot_y[j], slot_x[j]].min()
        _closest_pairs(fetch, fetching)
        _closest_pairs(put, putting)
        for i in range(n):
            o = out[b, i]
            h, ry, rx = heading[b, i], y[b, i], x[b, i]
            o[:] = 0.0
            if shelf[b, i] >= 0 and requested[b, shelf[b, i]]:
                left = _write(o, to_goal, h, ry, rx, clear, span, 1.0)
                start = PHASE_REQUEST
            elif putting[i] >= 0:
                slot = np.zeros((height, width), dtype=np.bool_)
                slot[slot_y[putting[i]], slot_x[putting[i]]] = True
                to_slot = distance_map(clear, slot)
                left = _write(o, to_slot, h, ry, rx, clear, span, 0.0)
                start = PHASE_OTHER
            elif fetching[i] >= 0:
                to_shelf = open_maps[cells[fetching[i]]]
                left = _write(o, to_shelf, h, ry, rx, anywhere, span, 0.0)
                start = PHASE_EMPTY
            else:  # no job left to take
                o[2] = 1.0
                left, start = -1.0, (PHASE_EMPTY if shelf[b, i] < 0 else PHASE_OTHER)
            potential[b, i] = start - (1.0 if left < 0 else left)
