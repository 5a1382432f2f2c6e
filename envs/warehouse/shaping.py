"""Potential-based shaping of the robots' rewards by their progress through their jobs.

Shaping (Ng et al., 1999) adds ``weight * (gamma * phi(s') - phi(s))`` to each robot's reward,
which leaves the optimal policies of the discounted problem unchanged when ``gamma`` is the
learner's discount. ``phi`` is the robot's progress through its job cycle, less the steps
(moves and turns, around shelves when loaded) to its next target divided by twice the map's
height + width: empty-handed 0 (target: the resting request matched to it, closest pairs first;
-1 with none), carrying a request 0.5 (target: a goal), carrying another shelf -0.25 (target:
the free slot matched to it); see ``Warehouses.job_potential``. On RWARE's tiny map lifting a
request is then worth about +0.2, delivering (reward included) and putting the shelf back about
0, and the walks between the rest; a whole cycle adds nothing beyond the delivery reward.

The last step of an episode is not shaped: the vector env has already reset that warehouse
when the term would be computed, and the single env does the same so that both pay the same.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


class JobShaping:
    """Adds the shaping term to a batch of warehouses' rewards, step by step."""

    def __init__(self, weight: float, gamma: float) -> None:
        if not (isinstance(weight, int | float) and math.isfinite(weight) and weight >= 0):
            raise ValueError(f"shaping must be a finite number >= 0, got {weight!r}")
        if not (isinstance(gamma, int | float) and 0.0 <= gamma <= 1.0):
            raise ValueError(f"shaping_gamma must be a number in [0, 1], got {gamma!r}")
        self.weight, self.gamma = float(weight), float(gamma)
        self._phi = np.zeros(0)

    def start(self, core: Any) -> None:
        """Remember the potentials of ``core`` (a ``Warehouses``) after a reset."""
        self._phi = core.job_potential()

    def shape(self, core: Any, rewards: np.ndarray, ended: np.ndarray) -> None:
        """Add the term to ``rewards`` (B, N) in place; warehouses whose episode ``ended`` (B,)
        at this step get none. ``core`` holds the states after the step (after the reset of
        the ended warehouses, where the env resets them at once)."""
        now = core.job_potential()
        rewards += self.weight * np.where(ended[:, None], 0.0, self.gamma * now - self._phi)
        self._phi = now
