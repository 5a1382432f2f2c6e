"""Warehouse environments: robots picking orders, and a supply chain's inventory.

- ``parallel_env(**kwargs)`` / ``env(**kwargs)`` / ``raw_env``: robots fetching requested
  shelves (PettingZoo ParallelEnv / AEC; ``envs.warehouse.robots``), RWARE's task with
  ``rules="rware"`` matching rware 2.0 step for step. Job masks and reward shaping
  (``job_masks``, ``shaping``) are options of the env, so every trainer sees the same problem.
- ``envs.warehouse.vector.RobotsVectorEnv``: many warehouses stepped in one call.
- ``envs.warehouse.kernels``: the state layout and compiled path functions for planners
  outside ``envs`` (the private ``_*`` modules are the engine's own).
- ``learnloop/Inventory-v0``: a serial multi-echelon supply chain (Gymnasium;
  ``envs.warehouse.inventory``), with one agent per stage in ``InventoryStagesEnv``.

PettingZoo and numba load only when an env is asked for.
"""

from __future__ import annotations

from typing import Any


def parallel_env(**kwargs: Any) -> Any:
    """The robots warehouse as a PettingZoo ParallelEnv (see ``robots.RobotsEnv``)."""
    from envs.warehouse.robots import parallel_env as make

    return make(**kwargs)


def env(**kwargs: Any) -> Any:
    """The robots warehouse as a PettingZoo AEC env."""
    from envs.warehouse.robots import env as make

    return make(**kwargs)


def __getattr__(name: str) -> Any:
    if name in ("raw_env", "RobotsEnv"):
        from envs.warehouse.robots import RobotsEnv

        return RobotsEnv
    raise AttributeError(f"module 'envs.warehouse' has no attribute {name!r}")
