"""Compiled path distances on the warehouse floor, and each robot's job as a feature vector.

A robot's state is ``(heading, y, x)``; each step it moves forward or turns, at a cost of one
step. :func:`distance_map` gives the steps-to-target from every state on the static map
(backward breadth-first search). :func:`jobs` gives every robot a job, as the greedy
controller does (``agents.baselines.warehouse``): carrying a requested shelf, to the nearest
goal; carrying another shelf, to the nearest free slot; empty-handed, to a resting request,
matched to the robots closest pair first so that no two robots chase the same shelf. It
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
def _write(o, k, dist, h, y, x, passable, span, carrying_request):
    """The features of a robot at (h, y, x) whose job's distance map is ``dist``."""
    height, width = passable.shape
    o[k] = carrying_request
    here = dist[h, y, x]
    if here >= UNREACHABLE:
        o[k + 2] = 1.0
        return -1.0
    o[k + 1] = 1.0
    o[k + 2] = here / span
    nx, ny = x + DX[h], y + DY[h]
    after_forward = UNREACHABLE
    if 0 <= nx < width and 0 <= ny < height and passable[ny, nx]:
        after_forward = dist[h, ny, nx]
    for j, after in enumerate((after_forward, dist[TURN_LEFT[h], y, x], dist[TURN_RIGHT[h], y, x])):
        o[k + 3 + j] = max(-1.0, min(1.0, float(after - here)))
    return here / span


@numba.njit(cache=True)
def jobs(x, y, heading, shelf, shelf_x, shelf_y, requested, shelf_grid, corridor, goals, out, k,
         potential):  # fmt: skip
    """Write each robot's job features to ``out[b, i, k:k + PATH_FEATURES]`` and its shaping
    potential (its job's start value less the steps left over ``2 * (height + width)``; -1
    more with no job) to ``potential[b, i]``."""
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
        free_slots = clear & ~corridor
        to_goal = distance_map(clear, goal_cells)
        to_slot = distance_map(clear, free_slots)
        # Resting requests, and every empty robot's distance to each.
        resting = np.zeros(requested.shape[1], dtype=np.bool_)
        for s in range(requested.shape[1]):
            resting[s] = requested[b, s]
        for i in range(n):
            if shelf[b, i] >= 0:
                resting[shelf[b, i]] = False
        wanted = np.flatnonzero(resting)
        maps = np.empty((wanted.size, 4, height, width), dtype=np.int64)
        for r in range(wanted.size):
            cell = np.zeros((height, width), dtype=np.bool_)
            cell[shelf_y[b, wanted[r]], shelf_x[b, wanted[r]]] = True
            maps[r] = distance_map(anywhere, cell)
        # Closest pair first: robot i takes request r while both are free.
        match = np.full(n, -1, dtype=np.int64)
        taken = np.zeros(wanted.size, dtype=np.bool_)
        while True:
            best, bi, br = UNREACHABLE, -1, -1
            for i in range(n):
                if shelf[b, i] >= 0 or match[i] >= 0:
                    continue
                for r in range(wanted.size):
                    d = maps[r, heading[b, i], y[b, i], x[b, i]]
                    if not taken[r] and d < best:
                        best, bi, br = d, i, r
            if bi < 0:
                break
            match[bi], taken[br] = br, True
        for i in range(n):
            o = out[b, i]
            h, ry, rx = heading[b, i], y[b, i], x[b, i]
            for j in range(PATH_FEATURES):
                o[k + j] = 0.0
            if shelf[b, i] >= 0 and requested[b, shelf[b, i]]:
                left = _write(o, k, to_goal, h, ry, rx, clear, span, 1.0)
                start = PHASE_REQUEST
            elif shelf[b, i] >= 0:
                left = _write(o, k, to_slot, h, ry, rx, clear, span, 0.0)
                start = PHASE_OTHER
            elif match[i] >= 0:
                left = _write(o, k, maps[match[i]], h, ry, rx, anywhere, span, 0.0)
                start = PHASE_EMPTY
            else:
                o[k + 2] = 1.0
                left, start = -1.0, PHASE_EMPTY
            potential[b, i] = start - (1.0 if left < 0 else left)
