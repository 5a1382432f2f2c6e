"""The robots warehouse's public kernels: its state layout and the compiled functions planners use.

Code outside ``envs/warehouse`` (the greedy controller in ``agents.baselines``) imports from here
and reads the state through a ``Warehouses`` object (``env.core``), never from the private
modules, so the engine can change inside while this surface stays.

The state
---------
``Warehouses`` (``envs.warehouse.core``) holds B warehouses of one floor plan, N robots and S
shelves each, as NumPy arrays with the warehouse first and the robot (or shelf) second:

- robots, (B, N) int64: ``x``, ``y`` (column, row; row 0 at the top), ``heading`` (0 up,
  1 down, 2 left, 3 right: RWARE's numbering, ``DX[heading]``/``DY[heading]`` is one step
  forward) and ``shelf`` (the index of the carried shelf, -1 for none);
- shelves, (B, S): ``shelf_x``, ``shelf_y`` int64 (where each shelf stands or is carried) and
  ``requested`` bool;
- grids, (B, H, W) int32: ``robot_grid`` and ``shelf_grid`` hold index + 1 of the robot / the
  shelf in each cell, 0 for none (a carried shelf moves with its robot);
- the plan, shared by the batch: ``corridor`` (H, W) bool (no shelf may be put down there),
  ``goals`` (G, 2) int64 ``(x, y)`` cells where requested shelves are delivered, and
  ``layout`` (its ``height`` and ``width``).

A robot's pose for path planning is ``(heading, y, x)``; moving forward and turning each cost
one step. Actions are ``NOOP``, ``FORWARD``, ``LEFT``, ``RIGHT``, ``TOGGLE_LOAD`` (0-4);
``TURN_LEFT[heading]`` and ``TURN_RIGHT[heading]`` give the heading after a turn.

The functions (numba-compiled; arrays as above)
-----------------------------------------------
- ``distance_map(passable, target)``: (4, H, W) int64 steps from every pose to the nearest
  ``target`` cell moving on ``passable`` cells (both (H, W) bool), ``UNREACHABLE`` where none.
- ``reach_map(passable, heading, y, x)``: (4, H, W) int64 steps from one pose to every pose.
"""

from __future__ import annotations

from envs.warehouse._kernels import (
    DX,
    DY,
    FORWARD,
    LEFT,
    NOOP,
    RIGHT,
    TOGGLE_LOAD,
    TURN_LEFT,
    TURN_RIGHT,
)
from envs.warehouse._paths import UNREACHABLE, distance_map, reach_map

__all__ = [
    "DX",
    "DY",
    "FORWARD",
    "LEFT",
    "NOOP",
    "RIGHT",
    "TOGGLE_LOAD",
    "TURN_LEFT",
    "TURN_RIGHT",
    "UNREACHABLE",
    "distance_map",
    "reach_map",
]
