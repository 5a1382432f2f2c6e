"""Pass-alive areas (envs.go.kernels.pass_alive_into) against Benson's algorithm written out
plainly with sets, on positions from random games on 5x5, 7x7 and 9x9."""

from __future__ import annotations

import numpy as np

from envs.go.kernels import BLACK, WHITE, GoPositions, board_into, pass_alive_into


def neighbours(point: tuple[int, int], n: int) -> list[tuple[int, int]]:
    r, c = point
    return [(r + dr, c + dc) for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1))
            if 0 <= r + dr < n and 0 <= c + dc < n]  # fmt: skip


def components(board: np.ndarray, inside: np.ndarray) -> list[set[tuple[int, int]]]:
    n, seen, found = board.shape[0], set(), []
    for start in zip(*np.nonzero(inside), strict=True):
        if start in seen:
            continue
        part, frontier = {start}, [start]
        while frontier:
            for nb in neighbours(frontier.pop(), n):
                if inside[nb] and nb not in part:
                    part.add(nb)
                    frontier.append(nb)
        seen |= part
        found.append(part)
    return found


def benson(board: np.ndarray, color: int) -> np.ndarray:
    """Benson's algorithm as the textbook states it."""
    n = board.shape[0]
    chains = components(board, board == color)
    regions = components(board, board != color)
    liberties = [{nb for p in ch for nb in neighbours(p, n) if board[nb] == 0} for ch in chains]
    chain_of = {p: i for i, ch in enumerate(chains) for p in ch}
    touching = [{chain_of[nb] for p in rg for nb in neighbours(p, n) if board[nb] == color}
                for rg in regions]  # fmt: skip
    vital = [{i for i in touching[r] if all(p in liberties[i] for p in rg if board[p] == 0)}
             for r, rg in enumerate(regions)]  # fmt: skip
    alive, kept = set(range(len(chains))), set(range(len(regions)))
    while True:
        new_alive = {i for i in alive if sum(i in vital[r] for r in kept) >= 2}
        new_kept = {r for r in kept if touching[r] <= new_alive}
        if (new_alive, new_kept) == (alive, kept):
            break
        alive, kept = new_alive, new_kept
    area = np.zeros((n, n), dtype=np.float32)
    for i in alive:
        for p in chains[i]:
            area[p] = 1
    for r in kept:
        if vital[r] & alive:
            for p in regions[r]:
                area[p] = 1
    return area


def test_pass_alive_area_matches_the_textbook_algorithm() -> None:
    rng = np.random.default_rng(1)
    checked = with_area = 0
    for n in (5, 7, 9):
        positions = GoPositions(n, komi=0.5, history=1)
        for _ in range(25):
            row = positions.initial()
            for move in range(3 * n * n):
                legal = np.flatnonzero(positions.legal_mask(row)[:-1])  # no passes
                if len(legal) == 0:
                    break
                positions.play(row, int(rng.choice(legal)))
                if move % 5:
                    continue
                state = row[: positions.engine_size]
                board = np.zeros((n, n), dtype=np.int64)
                board_into(state, board)
                for color in (BLACK, WHITE):
                    area = np.zeros((n, n), dtype=np.float32)
                    pass_alive_into(state, color, area)
                    expected = benson(board, color)
                    np.testing.assert_array_equal(area, expected, err_msg=f"{color}\n{board}")
                    checked += 1
                    with_area += bool(expected.any())
    assert checked > 2000 and with_area > 200  # the positions include living groups
