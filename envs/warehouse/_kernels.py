"""Compiled inner loops of the robots warehouse, over a batch of B warehouses at once.

State arrays (B first): robot ``x, y, heading`` and ``shelf`` (index carried, -1 none) of
shape (B, N); shelf ``x, y`` and ``requested`` of shape (B, S); ``robot_grid`` and
``shelf_grid`` (B, H, W) hold index + 1 of the robot / shelf in each cell (0: none). The single
env is a batch of one, so both share every rule here.

A step has two halves. :func:`step_batch` moves, turns, picks up and puts down, then flags the
warehouses where a requested shelf stands on a goal; only those go through :func:`deliver`,
which draws new requests from a NumPy ``Generator`` (passing one into compiled code costs
about 15 us, so it is done only when a delivery happened).
"""

from __future__ import annotations

import numba
import numpy as np

NOOP, FORWARD, LEFT, RIGHT, TOGGLE_LOAD = 0, 1, 2, 3, 4
# Headings in RWARE's numbering: 0 up, 1 down, 2 left, 3 right.
DX = np.array([0, 0, -1, 1], dtype=np.int64)
DY = np.array([-1, 1, 0, 0], dtype=np.int64)
TURN_LEFT = np.array([2, 3, 1, 0], dtype=np.int64)
TURN_RIGHT = np.array([3, 2, 0, 1], dtype=np.int64)
REWARD_INDIVIDUAL, REWARD_GLOBAL, REWARD_TWO_STAGE = 0, 1, 2
SELF_FEATURES = 8  # x, y, carrying, heading one-hot (4), on corridor
CELL_FEATURES = 7  # robot, its heading one-hot (4), shelf, requested
TARGET_FEATURES = 7  # carrying a requested shelf; offsets to a request, a goal, a free slot


@numba.njit(cache=True)
def targets(actions, x, y, heading, shelf, robot_grid, shelf_grid, tx, ty, effective):
    """Each robot's wanted cell; a loaded robot's move under a resting shelf becomes NOOP.

    As in RWARE, a loaded robot may move into a cell whose shelf is carried by a robot there
    (that robot may move away); the edge of the map clamps a move to the robot's own cell.
    """
    height, width = robot_grid.shape
    for i in range(actions.shape[0]):
        effective[i] = actions[i]
        tx[i], ty[i] = x[i], y[i]
        if actions[i] != FORWARD:
            continue
        nx = min(max(x[i] + DX[heading[i]], 0), width - 1)
        ny = min(max(y[i] + DY[heading[i]], 0), height - 1)
        if shelf[i] >= 0 and (nx != x[i] or ny != y[i]) and shelf_grid[ny, nx] != 0:
            other = robot_grid[ny, nx]
            if other == 0 or shelf[other - 1] < 0:
                effective[i] = NOOP
                continue
        tx[i], ty[i] = nx, ny


@numba.njit(cache=True)
def resolve(x, y, tx, ty, robot_grid, order, rware, moved):
    """Which robots move: chains move, cycles of three or more move, head-on swaps do not.

    Robots point at the robot in their wanted cell (or at themselves when staying). A cycle
    moves whole if it has three robots or more. Robots converging on one free cell form a tree;
    only its longest chain moves, ties going to the robot with the lowest ``order`` (RWARE's
    graph node order under ``rware``, else the robot index). Returns True when, under
    ``rware``, a tie falls where RWARE's networkx graph orders nodes by a Python set, which
    only an exact emulation (``envs.warehouse._rware_ties``) decides.
    """
    n = x.shape[0]
    nxt = np.empty(n, dtype=np.int64)
    for i in range(n):
        if tx[i] == x[i] and ty[i] == y[i]:
            nxt[i] = i
        else:
            nxt[i] = robot_grid[ty[i], tx[i]] - 1  # -1: a free cell
    moved[:] = False
    in_cycle = np.zeros(n, dtype=np.bool_)
    status = np.zeros(n, dtype=np.int64)  # 0 unseen, 1 on the current walk, 2 done
    walk = np.empty(n, dtype=np.int64)
    for start in range(n):
        length, j = 0, start
        while j >= 0 and status[j] == 0:
            status[j] = 1
            walk[length] = j
            length += 1
            j = nxt[j]
        if j >= 0 and status[j] == 1:
            first = length - 1
            while walk[first] != j:
                first -= 1
            for q in range(first, length):
                in_cycle[walk[q]] = True
                moved[walk[q]] = length - first >= 3
        for q in range(length):
            status[walk[q]] = 2
    # Trees: depth[i] is the longest chain of robots queued behind robot i.
    head = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        j = i
        while j >= 0 and not in_cycle[j] and nxt[j] >= 0:
            j = nxt[j]
        if j >= 0 and not in_cycle[j]:
            head[i] = j
    depth = np.zeros(n, dtype=np.int64)
    for _ in range(n):
        for p in range(n):
            if head[p] >= 0 and nxt[p] >= 0:
                depth[nxt[p]] = max(depth[nxt[p]], depth[p] + 1)
    free_targets = 0
    for i in range(n):
        if nxt[i] == -1:
            free_targets += 1
            for j in range(i):
                if nxt[j] == -1 and tx[j] == tx[i] and ty[j] == ty[i]:
                    free_targets -= 1
                    break
    ambiguous = False
    for h in range(n):
        if head[h] != h:
            continue
        seen = False  # each free cell is settled once, at the first robot heading into it
        for j in range(h):
            if head[j] == j and tx[j] == tx[h] and ty[j] == ty[h]:
                seen = True
        if seen:
            continue
        tree = 0
        for j in range(n):
            if head[j] >= 0 and tx[head[j]] == tx[h] and ty[head[j]] == ty[h]:
                tree += 1
        set_ordered = 2 * (tree + 1) < n + free_targets
        # Walk back from the free cell: at each node take the deepest predecessor.
        cell_x, cell_y, node = tx[h], ty[h], -1
        while True:
            best, ties = -1, 0
            for p in range(n):
                if head[p] < 0:
                    continue
                if node >= 0:
                    is_pred = nxt[p] == node
                else:
                    is_pred = nxt[p] == -1 and tx[p] == cell_x and ty[p] == cell_y
                if not is_pred:
                    continue
                if best < 0 or depth[p] > depth[best]:
                    best, ties = p, 1
                elif depth[p] == depth[best]:
                    ties += 1
                    if order[p] < order[best]:
                        best = p
            if best < 0:
                break
            if ties > 1 and set_ordered and rware:
                ambiguous = True
            moved[best] = True
            node = best
    return ambiguous


@numba.njit(cache=True)
def rware_node_order(x, y, tx, ty):
    """Position of each robot's cell in RWARE's graph: cells in order of first mention in
    (start 0, target 0, start 1, target 1, ...)."""
    n = x.shape[0]
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        order[i] = 2 * i
        for j in range(i):
            if tx[j] == x[i] and ty[j] == y[i]:
                order[i] = min(order[i], 2 * j + 1)
    return order


@numba.njit(cache=True)
def apply_moves(
    b, moved, effective, tx, ty, x, y, heading, shelf, delivered, shelf_x, shelf_y,
    robot_grid, shelf_grid, corridor, goals, rewards, reward_mode, requested,
):  # fmt: skip
    """Move, turn, pick up and put down in warehouse ``b``; True if a goal holds a request."""
    n = moved.shape[0]
    for i in range(n):
        if moved[i]:
            robot_grid[b, y[b, i], x[b, i]] = 0
            if shelf[b, i] >= 0:
                shelf_grid[b, y[b, i], x[b, i]] = 0
    for i in range(n):
        if moved[i]:
            x[b, i], y[b, i] = tx[i], ty[i]
            robot_grid[b, ty[i], tx[i]] = i + 1
            s = shelf[b, i]
            if s >= 0:
                shelf_x[b, s], shelf_y[b, s] = tx[i], ty[i]
                shelf_grid[b, ty[i], tx[i]] = s + 1
    for i in range(n):
        action = effective[i]
        if action == LEFT:
            heading[b, i] = TURN_LEFT[heading[b, i]]
        elif action == RIGHT:
            heading[b, i] = TURN_RIGHT[heading[b, i]]
        elif action == TOGGLE_LOAD:
            if shelf[b, i] < 0:
                shelf[b, i] = shelf_grid[b, y[b, i], x[b, i]] - 1
            elif not corridor[y[b, i], x[b, i]]:
                shelf[b, i] = -1
                if delivered[b, i] and reward_mode == REWARD_TWO_STAGE:
                    rewards[b, i] += 0.5
                delivered[b, i] = False
    for g in range(goals.shape[0]):
        s = shelf_grid[b, goals[g, 1], goals[g, 0]]
        if s != 0 and requested[b, s - 1]:
            return True
    return False


@numba.njit(cache=True)
def step_batch(
    actions, x, y, heading, shelf, delivered, shelf_x, shelf_y, requested,
    robot_grid, shelf_grid, corridor, goals, rewards, reward_mode, pending,
):  # fmt: skip
    """One step of every warehouse (ties to the lower robot index); fills ``pending``."""
    batch, n = actions.shape
    tx = np.empty(n, dtype=np.int64)
    ty = np.empty(n, dtype=np.int64)
    effective = np.empty(n, dtype=np.int64)
    moved = np.empty(n, dtype=np.bool_)
    index_order = np.arange(n)
    rewards[:] = 0.0
    for b in range(batch):
        targets(
            actions[b], x[b], y[b], heading[b], shelf[b], robot_grid[b], shelf_grid[b],
            tx, ty, effective,
        )  # fmt: skip
        resolve(x[b], y[b], tx, ty, robot_grid[b], index_order, False, moved)
        pending[b] = apply_moves(
            b, moved, effective, tx, ty, x, y, heading, shelf, delivered, shelf_x, shelf_y,
            robot_grid, shelf_grid, corridor, goals, rewards, reward_mode, requested,
        )  # fmt: skip


@numba.njit(cache=True)
def assign_request(b, s, requested, order_of, open_order, open_lines, order_lines):
    """Request shelf ``s`` as the next line of the open order (closing it when full)."""
    requested[b, s] = True
    order_of[b, s] = open_order[b]
    open_lines[b] += 1
    if open_lines[b] == order_lines:
        open_order[b] += 1
        open_lines[b] = 0


@numba.njit(cache=True)
def deliver(
    pending, rng, x, y, shelf, delivered, requested, order_of, open_order, open_lines,
    order_lines, robot_grid, shelf_grid, goals, rewards, reward_mode, deliveries, orders_done,
):  # fmt: skip
    """Deliver requested shelves standing on goals (goals in order, as RWARE) and draw new
    requests uniformly among the shelves not requested, in shelf order (RWARE's draw)."""
    shelves = requested.shape[1]
    for b in range(pending.shape[0]):
        if not pending[b]:
            continue
        for g in range(goals.shape[0]):
            s = shelf_grid[b, goals[g, 1], goals[g, 0]] - 1
            if s < 0 or not requested[b, s]:
                continue
            free = 0
            for t in range(shelves):
                free += not requested[b, t]
            pick = rng.integers(0, free)
            for t in range(shelves):
                if not requested[b, t]:
                    if pick == 0:
                        break
                    pick -= 1
            order = order_of[b, s]
            requested[b, s] = False
            assign_request(b, t, requested, order_of, open_order, open_lines, order_lines)
            deliveries[b] += 1
            if order < open_order[b]:
                complete = True
                for u in range(shelves):
                    if requested[b, u] and order_of[b, u] == order:
                        complete = False
                orders_done[b] += complete
            robot = robot_grid[b, goals[g, 1], goals[g, 0]] - 1
            if reward_mode == REWARD_GLOBAL:
                rewards[b, :] += 1.0
            elif robot >= 0 and reward_mode == REWARD_INDIVIDUAL:
                rewards[b, robot] += 1.0
            elif robot >= 0:
                delivered[b, robot] = True
                rewards[b, robot] += 0.5
