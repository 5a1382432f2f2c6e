"""A small minimax player for any two-player AEC game (exact on tic-tac-toe).

Negamax over copies of the env, memoised on the position (every value exact, so the cache
serves all later games); with ``depth`` it
looks that many moves ahead and scores unfinished positions as 0, which is enough to take an
immediate win and block an immediate loss in connect four. Ties are broken at random
(seeded), so it does not play one fixed game.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from agents.search.states import AECState

# Action values by position, shared by every player of the same game and depth: a fresh
# evaluation player starts with everything earlier players worked out.
_CACHES: dict[tuple[str, int], dict[tuple[bytes, int], dict[int, float]]] = {}


class MinimaxPlayer:
    """Perfect play within ``depth`` moves (``None``: to the end of the game)."""

    def __init__(self, make_game: Callable[[], Any], depth: int | None = None, seed: int = 0):
        self.make_game = make_game
        self.depth = depth if depth is not None else 10**6
        self.rng = np.random.default_rng(seed)
        self.reset()
        name = type(self.state.env.unwrapped).__module__
        self.cache = _CACHES.setdefault((name, self.depth), {})

    def seed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def reset(self) -> None:
        game = self.make_game()
        game.reset(seed=0)
        self.state = AECState(game)

    def observe(self, action: int) -> None:
        self.state.play(int(action))

    def _values(self, state: AECState, depth: int) -> dict[int, float]:
        """The value of each legal action for the player to move (memoised)."""
        key = (state.observation().tobytes() + bytes([depth % 256]), state.to_play())
        if key in self.cache:
            return self.cache[key]
        values = {}
        for action in np.flatnonzero(state.legal_mask()):
            child = state.copy()
            mover = child.to_play()
            child.play(int(action))
            if child.is_over():
                values[int(action)] = child.outcome(mover)
            elif depth <= 1:
                values[int(action)] = 0.0
            else:
                values[int(action)] = -max(self._values(child, depth - 1).values())
        self.cache[key] = values
        return values

    def __call__(self, obs: Any, mask: np.ndarray) -> int:
        values = self._values(self.state, self.depth)
        top = max(values.values())
        return int(self.rng.choice([a for a, v in values.items() if v == top]))
