"""Which robot RWARE 2.0 lets into a contested cell, decided exactly as its networkx code does.

RWARE resolves moves on a ``networkx.DiGraph`` of cells: per weakly connected component it
moves the agents on ``dag_longest_path``. When two chains into one free cell are equally long,
the winner is the first predecessor in the order networkx copies the component's subgraph; for
a component with fewer than half the graph's nodes that order is a Python ``set``'s iteration
order (``FilterAtlas.__iter__``), which depends on hashes and insertion history. This module
replays the same dict and set operations (networkx 3.x: ``_plain_bfs``, ``subgraph().copy()``,
``dag_longest_path``) with the same tuple nodes, so it reproduces that order without
networkx. ``envs.warehouse._kernels.resolve`` decides every other case; this runs only on such
ties under ``rules="rware"``.
"""

from __future__ import annotations

Cell = tuple[int, int]


def _plain_bfs(succ: dict, pred: dict, remaining: int, source: Cell) -> set:
    """networkx's weakly connected BFS, inserting into ``seen`` in the same order."""
    seen = {source}
    next_level = [source]
    while next_level:
        this_level, next_level = next_level, []
        for v in this_level:
            for w in succ[v]:
                if w not in seen:
                    seen.add(w)
                    next_level.append(w)
            for w in pred[v]:
                if w not in seen:
                    seen.add(w)
                    next_level.append(w)
            if len(seen) == remaining:
                return seen
    return seen


def _longest_path(succ: dict, component: set) -> list[Cell]:
    """``dag_longest_path(G.subgraph(component).copy())`` for a tree component."""
    nodes = set(n for n in component if n in succ)
    if 2 * len(nodes) < len(succ):
        order = [n for n in nodes if n in succ]
    else:
        order = [n for n in succ if n in nodes]
    copy_pred: dict[Cell, dict[Cell, None]] = {n: {} for n in order}
    for u in order:
        for v in succ[u]:
            if v in nodes:
                copy_pred[v][u] = None
    dist: dict[Cell, tuple[int, Cell]] = {}

    def settle(v: Cell) -> tuple[int, Cell]:
        if v not in dist:
            options = [(settle(u)[0] + 1, u) for u in copy_pred[v]]
            best = max(options, key=lambda pair: pair[0]) if options else (0, v)
            dist[v] = best if best[0] >= 0 else (0, v)
        return dist[v]

    for v in order:
        settle(v)
    v = max(order, key=lambda node: dist[node][0])
    path, u = [], None
    while u != v:
        path.append(v)
        u, v = v, dist[v][1]
    path.reverse()
    return path


def rware_moves(starts: list[Cell], targets: list[Cell]) -> list[bool]:
    """Whether each robot moves, given its cell and wanted cell (after the shelf rule)."""
    succ: dict[Cell, dict[Cell, None]] = {}
    pred: dict[Cell, dict[Cell, None]] = {}
    for start, target in zip(starts, targets, strict=True):
        for node in (start, target):
            if node not in succ:
                succ[node], pred[node] = {}, {}
        succ[start][target] = None
        pred[target][start] = None
    robot_at = {cell: i for i, cell in enumerate(starts)}
    moves = [False] * len(starts)
    seen: set = set()
    total = len(succ)
    components = []
    for v in succ:
        if v not in seen:
            component = _plain_bfs(succ, pred, total - len(seen), v)
            seen.update(component)
            components.append(component)
    for component in components:
        edges = sum(len(succ[v]) for v in component)
        if edges == len(component):  # one out-edge per robot: a cycle (perhaps a self-loop)
            node = next(iter(component))
            walk: list[Cell] = []
            while node not in walk:
                walk.append(node)
                node = next(iter(succ[node]))
            cycle = walk[walk.index(node) :]
            if len(cycle) != 2:
                for cell in cycle:
                    moves[robot_at[cell]] = True
        else:
            for cell in _longest_path(succ, component):
                if cell in robot_at:
                    moves[robot_at[cell]] = True
    return moves
