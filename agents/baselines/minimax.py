"""A small minimax player for two-player games with compiled positions (exact on tic-tac-toe).

Negamax over the game's position rows (``agents.zero.game.Positions``), memoised on the row
(every value exact, so the cache serves all later games of the same player); with ``depth``
it looks that many moves ahead and scores unfinished positions as 0, which is enough to take
an immediate win and block an immediate loss in connect four. Ties are broken at random
(seeded), so it does not play one fixed game.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import Player
from agents.zero.game import Positions


class MinimaxPlayer(Player):
    """Perfect play within ``depth`` moves (``None``: to the end of the game).

    It follows the game through ``reset()`` and ``observe(action)`` on its own row.
    """

    def __init__(self, positions: Positions, depth: int | None = None, seed: int = 0) -> None:
        self.positions = positions
        self.depth = depth if depth is not None else 10**6
        self.rng = np.random.default_rng(seed)
        self.cache: dict[tuple[bytes, int], dict[int, float]] = {}
        self.reset()

    def seed(self, seed: int) -> None:
        """Restart the tie-breaking stream."""
        self.rng = np.random.default_rng(seed)

    def reset(self) -> None:
        """Start a new game."""
        self.row = self.positions.initial()

    def observe(self, action: int) -> None:
        """A move was played, by either side."""
        self.positions.play(self.row, int(action))

    def close(self) -> None:
        """Nothing to release."""

    def _values(self, row: np.ndarray, depth: int) -> dict[int, float]:
        """The value of each legal action for the player to move (memoised)."""
        key = (row.tobytes(), min(depth, 10**6))
        if key in self.cache:
            return self.cache[key]
        values = {}
        for action in np.flatnonzero(self.positions.legal_mask(row)):
            child = row.copy()
            self.positions.play(child, int(action))
            result = self.positions.terminal_value(child)  # for the player to move there
            if not np.isnan(result):
                values[int(action)] = -result
            elif depth <= 1:
                values[int(action)] = 0.0
            else:
                values[int(action)] = -max(self._values(child, depth - 1).values())
        self.cache[key] = values
        return values

    def __call__(self, obs: Any, mask: np.ndarray) -> int:
        values = self._values(self.row, self.depth)
        top = max(values.values())
        return int(self.rng.choice([a for a, v in values.items() if v == top]))
