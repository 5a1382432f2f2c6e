"""Pictures of a Go board: GNU Go-style text, and an RGB array drawn with numpy alone."""

from __future__ import annotations

import numpy as np

from envs.go.game import BLACK, WHITE, GoGame

WOOD = (220, 179, 92)
LINE = (40, 30, 20)
BLACK_STONE = (25, 25, 25)
WHITE_STONE = (240, 240, 235)


def star_points(board_size: int) -> list[tuple[int, int]]:
    """Return the (row, col) of the hoshi drawn on a board of this size."""
    if board_size < 7:
        return [(board_size // 2, board_size // 2)] if board_size % 2 else []
    edge = 3 if board_size >= 13 else 2
    lines = [edge, board_size - 1 - edge]
    if board_size % 2 and board_size >= 9:
        lines.insert(1, board_size // 2)
    points = [(r, c) for r in lines for c in lines]
    if board_size % 2 and board_size < 9:
        points.append((board_size // 2, board_size // 2))
    return points


def board_rgb(board: np.ndarray, cell: int = 32) -> np.ndarray:
    """Return an (H, W, 3) uint8 picture of an (N, N) board: wood, grid lines, stones."""
    n = board.shape[0]
    size = (n + 1) * cell
    image = np.empty((size, size, 3), dtype=np.uint8)
    image[:] = WOOD
    lo, hi = cell, n * cell  # pixel positions of the first and last lines
    width = max(1, cell // 16)
    for i in range(n):
        at = cell + i * cell
        image[at : at + width, lo : hi + width] = LINE
        image[lo : hi + width, at : at + width] = LINE
    yy, xx = np.mgrid[0:size, 0:size]
    for row, col in star_points(n):
        _disc(image, yy, xx, (row, col), cell, cell * 0.1, LINE)
    for (row, col), value in np.ndenumerate(board):
        if value == BLACK:
            _disc(image, yy, xx, (row, col), cell, cell * 0.47, BLACK_STONE)
        elif value == WHITE:
            _disc(image, yy, xx, (row, col), cell, cell * 0.47, LINE)  # outline
            _disc(image, yy, xx, (row, col), cell, cell * 0.47 - width, WHITE_STONE)
    return image


def _disc(image, yy, xx, point, cell, radius, color) -> None:  # noqa: ANN001
    cy = cell + point[0] * cell + 0.5
    cx = cell + point[1] * cell + 0.5
    top, left = int(cy - radius - 1), int(cx - radius - 1)
    bottom, right = int(cy + radius + 2), int(cx + radius + 2)
    patch_y, patch_x = yy[top:bottom, left:right], xx[top:bottom, left:right]
    inside = (patch_y - cy) ** 2 + (patch_x - cx) ** 2 <= radius**2
    image[top:bottom, left:right][inside] = color


def render_frame(game: GoGame, render_mode: str) -> str | np.ndarray:
    """Return ``game``'s board as text ("ansi") or an RGB array ("rgb_array")."""
    if render_mode == "ansi":
        side = "Black (X)" if game.to_play == BLACK else "White (O)"
        return f"{game.to_ascii()}\n{side} to play, move {game.move_count}\n"
    return board_rgb(game.board())
