"""Pictures of a warehouse with NumPy alone (no pyglet): one RGB frame per state.

Colours: corridors light grey, slots darker grey, goals dark slate; shelves blue, requested
shelves red; robots orange discs (dark orange when loaded) with a white notch for the heading.
A loaded robot is drawn on its shelf.
"""

from __future__ import annotations

import numpy as np

CORRIDOR = (232, 232, 232)
SLOT = (200, 200, 200)
GOAL = (60, 70, 90)
SHELF = (72, 118, 196)
REQUESTED = (214, 69, 65)
ROBOT = (247, 160, 40)
ROBOT_LOADED = (196, 100, 0)
NOTCH = (255, 255, 255)
GRID = (150, 150, 150)
_NOTCH_DIRECTIONS = ((0, -1), (0, 1), (-1, 0), (1, 0))  # up, down, left, right as (dx, dy)


def render_rgb(
    corridor: np.ndarray,
    goals: np.ndarray,
    shelf_grid: np.ndarray,
    requested: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    headings: np.ndarray,
    loaded: np.ndarray,
    cell: int = 24,
) -> np.ndarray:
    """An (H * cell, W * cell, 3) uint8 image of one warehouse."""
    height, width = corridor.shape
    colours = np.where(corridor[..., None], CORRIDOR, SLOT).astype(np.uint8)
    for x, y in goals:
        colours[y, x] = GOAL
    shelf_mask = shelf_grid > 0
    wanted = np.zeros_like(shelf_mask)
    wanted[shelf_mask] = requested[shelf_grid[shelf_mask] - 1]
    image = np.repeat(np.repeat(colours, cell, axis=0), cell, axis=1)
    inset = max(1, cell // 8)
    for y, x in zip(*np.nonzero(shelf_mask), strict=True):
        colour = REQUESTED if wanted[y, x] else SHELF
        image[
            y * cell + inset : (y + 1) * cell - inset, x * cell + inset : (x + 1) * cell - inset
        ] = colour
    offsets = np.arange(cell) - (cell - 1) / 2
    disc = offsets[None, :] ** 2 + offsets[:, None] ** 2 <= (cell * 0.36) ** 2
    for x, y, heading, has_shelf in zip(xs, ys, headings, loaded, strict=True):
        block = image[y * cell : (y + 1) * cell, x * cell : (x + 1) * cell]
        block[disc] = ROBOT_LOADED if has_shelf else ROBOT
        dx, dy = _NOTCH_DIRECTIONS[int(heading)]
        centre = (cell - 1) / 2
        for step in range(int(cell * 0.12), int(cell * 0.36)):
            px, py = int(round(centre + dx * step)), int(round(centre + dy * step))
            block[max(py - 1, 0) : py + 2, max(px - 1, 0) : px + 2] = NOTCH
    image[::cell, :] = GRID
    image[:, ::cell] = GRID
    return image
