"""Numba kernels for Tromp-Taylor area scoring."""

from __future__ import annotations

import numpy as np
from numba import njit

from envs.go._kernels import BLACK, EMPTY, SIZE, WHITE, board_into


@njit(cache=True)
def area_difference(board):
    """Tromp-Taylor area of Black minus White for an (N, N) board of EMPTY/BLACK/WHITE."""
    rows, cols = board.shape
    visited = np.zeros((rows, cols), dtype=np.bool_)
    stack = np.empty(rows * cols, dtype=np.int64)
    diff = 0
    for r0 in range(rows):
        for c0 in range(cols):
            if board[r0, c0] == BLACK:
                diff += 1
            elif board[r0, c0] == WHITE:
                diff -= 1
            elif not visited[r0, c0]:
                # Flood the empty region, noting which colours it touches.
                size, reaches, top = 0, 0, 0
                stack[0] = r0 * cols + c0
                top = 1
                visited[r0, c0] = True
                while top > 0:
                    top -= 1
                    r, c = divmod(stack[top], cols)
                    size += 1
                    for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                        rr, cc = r + dr, c + dc
                        if 0 <= rr < rows and 0 <= cc < cols:
                            v = board[rr, cc]
                            if v == EMPTY and not visited[rr, cc]:
                                visited[rr, cc] = True
                                stack[top] = rr * cols + cc
                                top += 1
                            elif v != EMPTY:
                                reaches |= v
                if reaches == BLACK:
                    diff += size
                elif reaches == WHITE:
                    diff -= size
    return diff


@njit(cache=True)
def state_area_difference(s):
    """``area_difference`` of the board held in state ``s``."""
    n = s[SIZE]
    board = np.empty((n, n), dtype=np.int8)
    board_into(s, board)
    return area_difference(board)


@njit(cache=True)
def area_ownership_into(board, out):
    """Tromp-Taylor ownership of each point of an (N, N) board into ``out`` (N, N): +1 Black's
    (a black stone, or an empty region reaching only black stones), -1 White's, 0 neither."""
    rows, cols = board.shape
    out[:] = 0
    region = np.full((rows, cols), -1, dtype=np.int64)
    stack = np.empty(rows * cols, dtype=np.int64)
    members = np.empty(rows * cols, dtype=np.int64)
    for r0 in range(rows):
        for c0 in range(cols):
            v0 = board[r0, c0]
            if v0 == BLACK:
                out[r0, c0] = 1
            elif v0 == WHITE:
                out[r0, c0] = -1
            elif region[r0, c0] < 0:
                reaches, top, count = 0, 1, 0
                stack[0] = r0 * cols + c0
                region[r0, c0] = 1
                while top > 0:
                    top -= 1
                    r, c = divmod(stack[top], cols)
                    members[count] = stack[top]
                    count += 1
                    for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                        rr, cc = r + dr, c + dc
                        if 0 <= rr < rows and 0 <= cc < cols:
                            v = board[rr, cc]
                            if v == EMPTY and region[rr, cc] < 0:
                                region[rr, cc] = 1
                                stack[top] = rr * cols + cc
                                top += 1
                            elif v != EMPTY:
                                reaches |= v
                owner = 1 if reaches == BLACK else -1 if reaches == WHITE else 0
                for i in range(count):
                    out[members[i] // cols, members[i] % cols] = owner
