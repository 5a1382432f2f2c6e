"""Fixed players for match tests: each move the first, or the last, legal action."""

from __future__ import annotations

import numpy as np

from agents.base import Player


class FirstLegal(Player):
    def __call__(self, obs: object, mask: np.ndarray) -> int:
        return int(np.flatnonzero(mask)[0])


class LastLegal(Player):
    def __call__(self, obs: object, mask: np.ndarray) -> int:
        return int(np.flatnonzero(mask)[-1])
