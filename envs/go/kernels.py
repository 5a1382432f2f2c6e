"""Go's public kernels: the engine's state layout and the compiled functions search code uses.

Code outside ``envs/go`` (the RAVE search, AlphaZero's search) imports from here, never from
the private modules, so the engine can change inside while this surface stays.

The engine state
----------------
One board lives in one flat int64 array ``s`` (``GoGame.state``); ``zob``
(``GoGame.zobrist``) holds the Zobrist keys of its board size. With N the board size,
W = N + 2 and P = W * W padded points:

- header slots ``s[SIZE]`` N, ``s[WIDTH]`` W, ``s[POINTS]`` P, ``s[TO_PLAY]`` BLACK or WHITE,
  ``s[MOVES]`` moves so far, ``s[PASSES]`` passes in a row, ``s[KO]`` the simple-ko point or
  -1, ``s[MAX_MOVES]``, ``s[SUPERKO]`` 0/1, ``s[HASH]`` the position's Zobrist hash,
  ``s[OVER]`` 1 once the game has ended;
- ``grid(s)``, an (8, P) view: row ``COLOR`` the colour of each padded point (BORDER around
  the board), and per chain, indexed by its head point (``HEAD``), its stones (``NEXT`` links
  them in a ring) and pseudo-liberty counts (``LIBS``, ``LIB_SUM``, ``LIB_SUM_SQ``);
- then a hash set of every earlier position, for positional superko.

Padded point ``p = (row + 1) * W + col + 1`` (``point(s, action)``); action ``a < N*N`` is
row ``a // N``, column ``a % N``, row 0 at the top; ``N*N`` is pass.

Positions for AlphaZero's search
--------------------------------
:class:`GoPositions` stores a position as one int64 row: the engine state followed by the
last ``history`` boards (row-major, 0 empty, 1 black, 2 white; the current board first), which
is all the network's input planes need. It implements ``agents.zero.game.Positions``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envs.go._batch import (
    FEATURE_LEVELS,
    FEATURE_PLANES,
    features_into,
    liberty_planes_into,
    non_eye_points,
    observe_into,
    pass_alive_into,
    play_record,
    record,
)
from envs.go._kernels import (
    BLACK,
    BORDER,
    COLOR,
    EMPTY,
    HEAD,
    HEADER,
    KO,
    LIB_SUM,
    LIB_SUM_SQ,
    LIBS,
    MAX_MOVES,
    MOVES,
    NEXT,
    OVER,
    PASSES,
    POINTS,
    SIZE,
    TO_PLAY,
    WHITE,
    WIDTH,
    board_into,
    check,
    legal_mask_into,
    new_state,
    play,
    random_legal,
    tactics_into,
    zobrist_keys,
)
from envs.go._kernels import _empty_point_legal as empty_point_legal
from envs.go._kernels import _grid as grid
from envs.go._kernels import _in_atari as in_atari
from envs.go._kernels import _point as point
from envs.go._scoring import area_difference, area_ownership_into, state_area_difference
from envs.go.game import REASONS, GoGame, IllegalMoveError, action_to_gtp

__all__ = [
    "BLACK", "BORDER", "COLOR", "EMPTY", "HEAD", "HEADER", "KO", "LIB_SUM", "LIB_SUM_SQ", "LIBS",
    "MAX_MOVES", "MOVES", "NEXT", "OVER", "PASSES", "POINTS", "SIZE", "TO_PLAY", "WHITE", "WIDTH",
    "FEATURE_LEVELS", "FEATURE_PLANES", "GoPositions", "area_difference", "area_ownership_into",
    "board_into", "check", "empty_point_legal", "features_into", "grid", "liberty_planes_into", "in_atari", "legal_mask_into", "new_state", "non_eye_points",
    "observe_into", "pass_alive_into", "play", "play_record", "point", "random_legal", "record",
    "state_area_difference", "tactics_into", "zobrist_keys",
]  # fmt: skip


@njit(cache=True, inline="always")
def _terminal_value(s, komi):
    """NaN while the game is on; at the end the result for the side to move (cap scored)."""
    if not s[OVER]:
        return np.nan
    score = state_area_difference(s) - komi
    black = 1.0 if score > 0 else -1.0 if score < 0 else 0.0
    return black if s[TO_PLAY] == BLACK else -black


@njit(cache=True)
def _atari_liberties(s, color, out):
    """Write the last liberty (as an action) of each of ``color``'s chains in atari into
    ``out``; return how many."""
    g = grid(s)
    n, width = s[SIZE], s[WIDTH]
    count = 0
    for action in range(n * n):
        p = (action // n + 1) * width + action % n + 1
        if g[COLOR, p] == color and g[HEAD, p] == p and in_atari(g, p):
            liberty = g[LIB_SUM, p] // g[LIBS, p]
            out[count] = (liberty // width - 1) * n + liberty % width - 1
            count += 1
    return count


@njit(cache=True)
def _observe_row(row, zob, length, history, level, obs, mask):
    s = row[:length]
    n = s[SIZE]
    past = row[length : length + history * n * n].reshape((history, n * n))
    color = s[TO_PLAY]
    observe_into(s, zob, past, color, True, obs[: 2 * history + 1], mask)
    if level > 0:
        features_into(s, color, level, obs[2 * history + 1 :])


@njit(cache=True)
def _play_row(row, zob, length, history, action):
    s = row[:length]
    n = s[SIZE]
    past = row[length : length + history * n * n].reshape((history, n * n))
    return play_record(s, zob, action, past)


@njit(cache=True)
def _observe_nodes(states, zob, length, history, level, games, nodes, obs, masks):
    for i in range(games.shape[0]):
        _observe_row(states[games[i], nodes[i]], zob, length, history, level, obs[i], masks[i])


@njit(cache=True)
def _expand_nodes(
    states, zob, length, history, level, komi, games, parents, children, actions, obs, masks,
    terminal,
):  # fmt: skip
    for i in range(games.shape[0]):
        child = states[games[i], children[i]]
        child[:] = states[games[i], parents[i]]
        _play_row(child, zob, length, history, actions[i])
        _observe_row(child, zob, length, history, level, obs[i], masks[i])
        terminal[i] = _terminal_value(child[:length], komi)


@njit(cache=True)
def _row_ownership(row, length, out):
    s = row[:length]
    n = s[SIZE]
    board = np.empty((n, n), dtype=np.int8)
    board_into(s, board)
    area_ownership_into(board, out)


class GoPositions:
    """Go positions as int64 rows for batched search (``agents.zero.game.Positions``).

    A row is ``[engine state | history boards]`` (see the module docstring). The rules are the
    env's (``envs.go.aec.GoEnv``) with ``score_at_cap=True``: the move cap ends the game and
    scores it. The planes are the env's observation for the side to move, ``features``
    included, so a network trained on rows plays the env unchanged.
    """

    symmetry_codes = tuple(range(8))
    has_ownership = True

    def __init__(
        self,
        board_size: int = 9,
        komi: float = 7.5,
        max_moves: int | None = None,
        history: int = 2,
        features: str = "stones",
        superko: bool = True,
    ) -> None:
        if features not in FEATURE_PLANES:
            raise ValueError(f"features must be one of {tuple(FEATURE_PLANES)}, got {features!r}")
        self.game = GoGame(board_size, komi=komi, max_moves=max_moves, superko=superko)
        n = self.game.board_size
        self.board_size, self.komi, self.history = n, float(komi), int(history)
        self.level = FEATURE_LEVELS[features]
        self.engine_size = len(self.game.state)
        self.state_size = self.engine_size + self.history * n * n
        self.num_actions = n * n + 1
        planes = 2 * self.history + 1 + FEATURE_PLANES[features]
        self.obs_shape = (planes, n, n)
        self.board_shape = (n, n)
        self._zob = self.game.zobrist
        self._initial = np.zeros(self.state_size, dtype=np.int64)
        self._initial[: self.engine_size] = self.game.state

    def initial(self) -> np.ndarray:
        """The empty board, Black to play."""
        return self._initial.copy()

    def play(self, row: np.ndarray, action: int) -> None:
        """Play ``action``; IllegalMoveError (a ValueError) names the move and the reason."""
        code = _play_row(row, self._zob, self.engine_size, self.history, int(action))
        if code < 0:
            name = (
                action_to_gtp(action, self.board_size) if 0 <= action < self.num_actions else action
            )
            raise IllegalMoveError(f"illegal move {name}: {REASONS[code]}")

    def legal_mask(self, row: np.ndarray) -> np.ndarray:
        """Legal actions of the side to move (pass last)."""
        mask = np.empty(self.num_actions, dtype=np.bool_)
        legal_mask_into(row[: self.engine_size], self._zob, mask)
        return mask

    def first_pass_forbidden(self, row: np.ndarray) -> np.ndarray | None:
        """Moves a player that does not pass first keeps out of its search: pass, unless the
        opponent just passed or every legal move would fill one of the mover's one-point eyes
        while none of its chains is in atari (None: nothing to forbid). A chain in atari whose
        last liberty looks like an eye sits on a false eye: passing gives it away."""
        s = row[: self.engine_size]
        if s[PASSES] > 0 or s[OVER]:
            return None
        mask = self.legal_mask(row)
        points = np.empty(self.num_actions - 1, dtype=np.int64)
        count = non_eye_points(s, grid(s), s[TO_PLAY], points)
        if not mask[points[:count]].any():
            count = _atari_liberties(s, s[TO_PLAY], points)
            if not mask[points[:count]].any():
                return None
        forbidden = np.zeros(self.num_actions, dtype=np.bool_)
        forbidden[self.num_actions - 1] = True
        return forbidden

    def to_play(self, row: np.ndarray) -> int:
        """0 for Black, 1 for White."""
        return int(row[TO_PLAY] != BLACK)

    def terminal_value(self, row: np.ndarray) -> float:
        """NaN while on; then +1 / -1 / 0 for the side to move, by area score and komi."""
        return float(_terminal_value(row[: self.engine_size], self.komi))

    def observe(self, states, games, nodes, obs, masks) -> None:  # noqa: ANN001
        """Planes and legal masks of ``states[games[i], nodes[i]]``."""
        _observe_nodes(states, self._zob, self.engine_size, self.history, self.level,
                       games, nodes, obs, masks)  # fmt: skip

    def expand(self, states, games, parents, children, actions, obs, masks, terminal) -> None:  # noqa: ANN001
        """Children rows from parents by one move each, with planes, masks and results."""
        _expand_nodes(states, self._zob, self.engine_size, self.history, self.level,
                      self.komi, games, parents, children, actions, obs, masks, terminal)  # fmt: skip

    def outcome_targets(self, row: np.ndarray) -> tuple[float, np.ndarray]:
        """Black's area margin after komi, and Tromp-Taylor ownership from Black's side."""
        ownership = np.empty(self.board_shape, dtype=np.float32)
        _row_ownership(row, self.engine_size, ownership)
        return float(state_area_difference(row[: self.engine_size])) - self.komi, ownership

    def action_permutation(self, code: int) -> np.ndarray:
        """Where each point goes under dihedral ``code``; pass stays."""
        n = self.board_size
        index = np.arange(n * n).reshape(n, n)
        moved = np.rot90(index, code & 3)
        if code & 4:
            moved = np.flip(moved, axis=-1)
        perm = np.empty(n * n + 1, dtype=np.int64)
        perm[moved.reshape(-1)] = np.arange(n * n)
        perm[n * n] = n * n
        return perm
