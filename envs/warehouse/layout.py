"""Warehouse floor plans: named sizes in RWARE's shape, or ASCII maps.

Vocabulary. A **cell** is one grid square, addressed ``(x, y)`` with ``x`` the column (0 at the
left) and ``y`` the row (0 at the top). A **corridor** (RWARE: highway) is a cell where a robot
may not put a shelf down; a **slot** is any other cell, where shelves rest. A **goal** is a
corridor cell where requested shelves are delivered. A **heading** is one of ``UP, DOWN, LEFT,
RIGHT`` (0-3, RWARE's numbering).

ASCII maps, one character per cell, rows top to bottom (spaces are ignored)::

    .  corridor              x  slot holding a shelf     X  slot holding a requested shelf
    g  goal (also G)         _  empty slot
    ^ > v <  robot on a corridor, heading up/right/down/left, not carrying
    N E S W  robot on a corridor carrying a shelf, heading north(up)/east/south/west

Robots are numbered in reading order. A map with robots fixes their start cells; a map with
``X`` fixes the initial requests. ``render("ansi")`` writes maps in this language, so a
rendered warehouse can be read back. RWARE's maps (``x``, ``.``, ``g``) read unchanged, except
that RWARE treats ``X`` as a plain shelf.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3
HEADINGS = ("up", "down", "left", "right")
# Rows of RWARE's generated warehouses: (shelf rows, shelf columns) per named size.
SIZES = {"tiny": (1, 3), "small": (2, 3), "medium": (2, 5), "large": (3, 5)}
# Request queue length as a multiple of the number of robots (RWARE's -easy, plain, -hard).
DIFFICULTIES = {"easy": 2.0, "normal": 1.0, "hard": 0.5}

_ROBOT_GLYPHS = {"^": UP, ">": RIGHT, "v": DOWN, "<": LEFT}
_LOADED_GLYPHS = {"N": UP, "E": RIGHT, "S": DOWN, "W": LEFT}
_CELL_GLYPHS = set(".xX_gG") | set(_ROBOT_GLYPHS) | set(_LOADED_GLYPHS)


@dataclass(frozen=True)
class RobotStart:
    """Where a robot starts: its cell, heading and whether it carries a shelf."""

    x: int
    y: int
    heading: int
    loaded: bool = False


@dataclass(frozen=True, eq=False)
class Layout:
    """A floor plan: corridors, goals, initial shelves, and optionally robots and requests.

    ``corridor`` is a (height, width) bool array. ``shelves`` lists the cells holding shelves at
    reset in reading order (shelf ``i`` starts at ``shelves[i]``); ``requested`` and ``robots``
    are empty unless the map fixes them.
    """

    corridor: np.ndarray
    goals: tuple[tuple[int, int], ...]
    shelves: tuple[tuple[int, int], ...]
    requested: tuple[tuple[int, int], ...] = ()
    robots: tuple[RobotStart, ...] = ()

    @property
    def height(self) -> int:
        """Rows of the grid."""
        return int(self.corridor.shape[0])

    @property
    def width(self) -> int:
        """Columns of the grid."""
        return int(self.corridor.shape[1])


def rware_layout(shelf_rows: int, shelf_columns: int, column_height: int = 8) -> Layout:
    """The warehouse RWARE 2.0 generates: blocks of shelves two wide, goals bottom centre.

    The grid is ``(column_height + 1) * shelf_rows + 2`` rows by ``3 * shelf_columns + 1``
    columns; the two bottom-centre cells are goals and the two centre columns above them stay
    free as a queue to the goals.
    """
    for name, value in (("shelf_rows", shelf_rows), ("column_height", column_height)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if not isinstance(shelf_columns, int) or shelf_columns < 1 or shelf_columns % 2 == 0:
        raise ValueError(f"shelf_columns must be an odd int >= 1, got {shelf_columns!r}")
    height = (column_height + 1) * shelf_rows + 2
    width = 3 * shelf_columns + 1
    ys, xs = np.indices((height, width))
    queue = (ys > height - (column_height + 3)) & ((xs == width // 2 - 1) | (xs == width // 2))
    corridor = (
        (xs % 3 == 0) | (ys % (column_height + 1) == 0) | (ys == height - 1) | queue
    )  # fmt: skip
    goals = ((width // 2 - 1, height - 1), (width // 2, height - 1))
    shelves = tuple((int(x), int(y)) for y, x in zip(*np.nonzero(~corridor), strict=True))
    return Layout(corridor=corridor, goals=goals, shelves=shelves)


def named_layout(size: str) -> Layout:
    """RWARE's named sizes: tiny, small, medium, large (column height 8)."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    rows, columns = SIZES[size]
    return rware_layout(rows, columns)


def parse_layout(text: str) -> Layout:
    """Read an ASCII map (see the module docstring); raises ValueError naming a bad character."""
    lines = [line.replace(" ", "") for line in text.strip().splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise ValueError("layout is empty")
    width = len(lines[0])
    for number, line in enumerate(lines):
        if len(line) != width:
            raise ValueError(
                f"layout must be rectangular: row {number} has {len(line)} cells, row 0 {width}"
            )
    corridor = np.ones((len(lines), width), dtype=bool)
    goals, shelves, requested, robots = [], [], [], []
    for y, line in enumerate(lines):
        for x, glyph in enumerate(line):
            if glyph not in _CELL_GLYPHS:
                raise ValueError(
                    f"layout has unknown character {glyph!r} at column {x}, row {y}; "
                    "allowed: . x X _ g G ^ > v < N E S W"
                )
            if glyph in "xX_":
                corridor[y, x] = False
            if glyph in "xX":
                shelves.append((x, y))
            if glyph == "X":
                requested.append((x, y))
            if glyph in "gG":
                goals.append((x, y))
            if glyph in _ROBOT_GLYPHS:
                robots.append(RobotStart(x, y, _ROBOT_GLYPHS[glyph]))
            if glyph in _LOADED_GLYPHS:
                # A robot carrying a shelf in a corridor: the shelf starts where the robot is.
                robots.append(RobotStart(x, y, _LOADED_GLYPHS[glyph], loaded=True))
                shelves.append((x, y))
    if not goals:
        raise ValueError("layout needs at least one goal cell ('g')")
    order = sorted(range(len(shelves)), key=lambda i: (shelves[i][1], shelves[i][0]))
    return Layout(
        corridor=corridor,
        goals=tuple(goals),
        shelves=tuple(shelves[i] for i in order),
        requested=tuple(requested),
        robots=tuple(robots),
    )


def render_ascii(
    layout: Layout,
    shelf_cells: np.ndarray,
    requested: np.ndarray,
    robot_cells: np.ndarray,
    headings: np.ndarray,
    loaded: np.ndarray,
) -> str:
    """The map language for a state: shelves (``x``/``X``), then goals, then robots on top."""
    rows = [["." if c else "_" for c in row] for row in layout.corridor]
    for (x, y), wanted in zip(shelf_cells, requested, strict=True):
        rows[y][x] = "X" if wanted else "x"
    for x, y in layout.goals:
        if rows[y][x] == ".":
            rows[y][x] = "g"
    unloaded = {v: k for k, v in _ROBOT_GLYPHS.items()}
    carrying = {v: k for k, v in _LOADED_GLYPHS.items()}
    for (x, y), heading, has_shelf in zip(robot_cells, headings, loaded, strict=True):
        rows[y][x] = (carrying if has_shelf else unloaded)[int(heading)]
    return "\n".join("".join(row) for row in rows)
