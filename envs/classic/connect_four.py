"""Connect four as int64 position rows, with the rules and observations of PettingZoo's
``connect_four_v3``.

Layout of a row (``STATE_SIZE`` = 45 int64 values):

- ``row[0:42]``: the cells row-major over the (6, 7) observation board, row 0 at the top
  (PettingZoo's ``board``): cell ``7 * r + c`` is ``(r, c)``. 0 empty, 1 the first player's
  piece (``player_0``), 2 the second player's (``player_1``). A piece dropped in column ``c``
  lands in the lowest (largest ``r``) empty cell of it.
- ``row[TO_PLAY]`` (42): 0 when the first player is to move, 1 otherwise.
- ``row[MOVES]`` (43): pieces on the board.
- ``row[RESULT]`` (44): ``ONGOING`` (0), ``FIRST_WON`` (1), ``SECOND_WON`` (2) or ``DRAW`` (3).

The observation of a row is (2, 6, 7) float32: plane 0 the pieces of the player to move, plane 1
the opponent's, i.e. ``np.moveaxis(pettingzoo_obs, -1, 0)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

HEIGHT, WIDTH = 6, 7
CELLS = HEIGHT * WIDTH
TO_PLAY, MOVES, RESULT = CELLS, CELLS + 1, CELLS + 2
STATE_SIZE = CELLS + 3
ONGOING, FIRST_WON, SECOND_WON, DRAW = 0, 1, 2, 3

# Reasons ``_play`` rejects a move (0 means it was played).
OUT_OF_RANGE, GAME_OVER, COLUMN_FULL = 1, 2, 3
_REASONS = {
    OUT_OF_RANGE: "is out of range 0..6",
    GAME_OVER: "the game is over",
    COLUMN_FULL: "the column is full",
}


@njit(cache=True)
def _run(row: np.ndarray, r: int, c: int, dr: int, dc: int, piece: int) -> int:
    """How many of ``piece`` follow (r, c) in direction (dr, dc), at most 3."""
    n = 0
    r, c = r + dr, c + dc
    while n < 3 and 0 <= r < HEIGHT and 0 <= c < WIDTH and row[r * WIDTH + c] == piece:
        n += 1
        r, c = r + dr, c + dc
    return n


@njit(cache=True)
def _wins(row: np.ndarray, r: int, c: int, piece: int) -> bool:
    """Whether ``piece`` at (r, c) completes four in a row through it."""
    if _run(row, r, c, 1, 0, piece) >= 3:  # down the column
        return True
    if _run(row, r, c, 0, 1, piece) + _run(row, r, c, 0, -1, piece) >= 3:
        return True
    if _run(row, r, c, 1, 1, piece) + _run(row, r, c, -1, -1, piece) >= 3:
        return True
    return _run(row, r, c, 1, -1, piece) + _run(row, r, c, -1, 1, piece) >= 3


@njit(cache=True)
def _play(row: np.ndarray, action: int) -> int:
    """Drop a piece in column ``action`` for the side to move in place; 0, or the reason it
    is illegal."""
    if action < 0 or action >= WIDTH:
        return OUT_OF_RANGE
    if row[RESULT] != ONGOING:
        return GAME_OVER
    if row[action] != 0:
        return COLUMN_FULL
    r = HEIGHT - 1
    while row[r * WIDTH + action] != 0:
        r -= 1
    piece = row[TO_PLAY] + 1
    row[r * WIDTH + action] = piece
    row[MOVES] += 1
    row[TO_PLAY] = 2 - piece
    if _wins(row, r, action, piece):
        row[RESULT] = piece  # FIRST_WON or SECOND_WON
    elif row[MOVES] == CELLS:
        row[RESULT] = DRAW
    return 0


@njit(cache=True)
def _value(row: np.ndarray) -> float:
    """NaN while the game is on, else +1 / -1 / 0 for the player to move."""
    result = row[RESULT]
    if result == ONGOING:
        return np.nan
    if result == DRAW:
        return 0.0
    return 1.0 if result - 1 == row[TO_PLAY] else -1.0


@njit(cache=True)
def _write(row: np.ndarray, obs: np.ndarray, mask: np.ndarray) -> None:
    """The (2, 6, 7) planes of ``row`` into ``obs`` and its legal moves into ``mask``."""
    me = row[TO_PLAY] + 1
    for r in range(HEIGHT):
        for c in range(WIDTH):
            v = row[r * WIDTH + c]
            obs[0, r, c] = 1.0 if v == me else 0.0
            obs[1, r, c] = 1.0 if v != 0 and v != me else 0.0
    on = row[RESULT] == ONGOING
    for c in range(WIDTH):
        mask[c] = on and row[c] == 0


@njit(cache=True)
def _observe(
    states: np.ndarray, games: np.ndarray, nodes: np.ndarray, obs: np.ndarray, masks: np.ndarray
) -> None:
    for i in range(games.shape[0]):
        _write(states[games[i], nodes[i]], obs[i], masks[i])


@njit(cache=True)
def _expand(
    states: np.ndarray,
    games: np.ndarray,
    parents: np.ndarray,
    children: np.ndarray,
    actions: np.ndarray,
    obs: np.ndarray,
    masks: np.ndarray,
    terminal: np.ndarray,
) -> int:
    """Fill every child; return -1, or the first item whose action was illegal."""
    for i in range(games.shape[0]):
        g = games[i]
        child = states[g, children[i]]
        child[:] = states[g, parents[i]]
        if _play(child, actions[i]) != 0:
            return i
        _write(child, obs[i], masks[i])
        terminal[i] = _value(child)
    return -1


_IDENTITY = np.arange(WIDTH, dtype=np.int64)
_PERMUTATIONS = {0: _IDENTITY, 4: WIDTH - 1 - _IDENTITY}


class ConnectFourPositions:
    """PettingZoo ``connect_four_v3`` as position rows (see the module docstring for the layout).

    The first player (``to_play`` 0) is PettingZoo's ``player_0``. Action ``c`` drops a piece
    in column ``c`` of the observation; the symmetries are the identity (code 0) and the
    left-right flip (code 4, column ``c`` -> ``6 - c``).
    """

    num_actions = WIDTH
    obs_shape = (2, HEIGHT, WIDTH)
    state_size = STATE_SIZE
    board_shape = (HEIGHT, WIDTH)
    symmetry_codes = (0, 4)
    has_ownership = False

    def initial(self) -> np.ndarray:
        """The empty board, ``player_0`` to move: (45,) int64 zeros."""
        return np.zeros(STATE_SIZE, dtype=np.int64)

    def play(self, row: np.ndarray, action: int) -> None:
        """Drop a piece in column ``action`` for the side to move in place; ValueError if it
        is illegal."""
        action = int(action)
        code = _play(row, action) if 0 <= action < WIDTH else OUT_OF_RANGE
        if code:
            raise ValueError(f"connect four action {action} is illegal: {_REASONS[code]}")

    def legal_mask(self, row: np.ndarray) -> np.ndarray:
        """(7,) bool: the columns that are not full; all False once the game is over."""
        if row[RESULT] != ONGOING:
            return np.zeros(WIDTH, dtype=bool)
        return row[:WIDTH] == 0

    def to_play(self, row: np.ndarray) -> int:
        """0 when ``player_0`` is to move, else 1."""
        return int(row[TO_PLAY])

    def terminal_value(self, row: np.ndarray) -> float:
        """NaN while the game is on; at the end +1 / -1 / 0 for the player to move."""
        return float(_value(row))

    def observe(
        self,
        states: np.ndarray,
        games: np.ndarray,
        nodes: np.ndarray,
        obs: np.ndarray,
        masks: np.ndarray,
    ) -> None:
        """For each i: planes of ``states[games[i], nodes[i]]`` into ``obs[i]`` (2, 6, 7) float32
        and its legal mask into ``masks[i]`` (7,) bool."""
        _observe(states, games, nodes, obs, masks)

    def expand(
        self,
        states: np.ndarray,
        games: np.ndarray,
        parents: np.ndarray,
        children: np.ndarray,
        actions: np.ndarray,
        obs: np.ndarray,
        masks: np.ndarray,
        terminal: np.ndarray,
    ) -> None:
        """For each i: ``states[g, children[i]]`` = ``states[g, parents[i]]`` with ``actions[i]``
        played (``g = games[i]``), its planes into ``obs[i]``, its mask into ``masks[i]`` and
        its ``terminal_value`` into ``terminal[i]``; ValueError on an illegal action."""
        bad = _expand(states, games, parents, children, actions, obs, masks, terminal)
        if bad >= 0:
            g, parent, action = int(games[bad]), int(parents[bad]), int(actions[bad])
            code = _play(states[g, parent].copy(), action)
            raise ValueError(
                f"expand item {bad} (game {g}, node {parent}): connect four action {action} is "
                f"illegal: {_REASONS[code]}"
            )

    def outcome_targets(self, row: np.ndarray) -> tuple[float, np.ndarray]:
        """Connect four has no score margin nor ownership: (0.0, (6, 7) float32 zeros)."""
        return 0.0, np.zeros((HEIGHT, WIDTH), dtype=np.float32)

    def first_pass_forbidden(self, row: np.ndarray) -> None:
        """Nothing to forbid: the game has no pass."""
        return None

    def action_permutation(self, code: int) -> np.ndarray:
        """(7,) int64: ``perm[c]`` is the column that column ``c`` moves to under dihedral
        ``code``: the identity for 0, ``6 - c`` for the left-right flip 4."""
        if code not in _PERMUTATIONS:
            raise ValueError(
                f"connect four has no symmetry code {code}; codes are {self.symmetry_codes}"
            )
        return _PERMUTATIONS[code].copy()
