"""Tic-tac-toe as int64 position rows, with the rules and observations of PettingZoo's
``tictactoe_v3``.

Layout of a row (``STATE_SIZE`` = 12 int64 values):

- ``row[0:9]``: the cells row-major over the (3, 3) observation board: cell ``3 * r + c`` is
  ``(r, c)`` of the observation and is also the action that marks it (PettingZoo's
  ``board.squares`` reshaped to (3, 3)). 0 empty, 1 the first player's mark (X, ``player_1``),
  2 the second player's (O, ``player_2``).
- ``row[TO_PLAY]`` (9): 0 when the first player is to move, 1 otherwise.
- ``row[MOVES]`` (10): marks on the board.
- ``row[RESULT]`` (11): ``ONGOING`` (0), ``FIRST_WON`` (1), ``SECOND_WON`` (2) or ``DRAW`` (3).

The observation of a row is (2, 3, 3) float32: plane 0 the marks of the player to move, plane 1
the opponent's, i.e. ``np.moveaxis(pettingzoo_obs, -1, 0)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SIZE = 3
CELLS = SIZE * SIZE
TO_PLAY, MOVES, RESULT = CELLS, CELLS + 1, CELLS + 2
STATE_SIZE = CELLS + 3
ONGOING, FIRST_WON, SECOND_WON, DRAW = 0, 1, 2, 3

# Reasons ``_play`` rejects a move (0 means it was played).
OUT_OF_RANGE, GAME_OVER, OCCUPIED = 1, 2, 3
_REASONS = {OUT_OF_RANGE: "is out of range 0..8", GAME_OVER: "the game is over"}


@njit(cache=True)
def _wins(row: np.ndarray, cell: int, mark: int) -> bool:
    """Whether ``mark`` on ``cell`` completes a line through it."""
    r, c = cell // SIZE, cell % SIZE
    if row[3 * r] == mark and row[3 * r + 1] == mark and row[3 * r + 2] == mark:
        return True
    if row[c] == mark and row[3 + c] == mark and row[6 + c] == mark:
        return True
    if r == c and row[0] == mark and row[4] == mark and row[8] == mark:
        return True
    return r + c == 2 and row[2] == mark and row[4] == mark and row[6] == mark


@njit(cache=True)
def _play(row: np.ndarray, action: int) -> int:
    """Mark ``action`` for the side to move in place; 0, or the reason it is illegal."""
    if action < 0 or action >= CELLS:
        return OUT_OF_RANGE
    if row[RESULT] != ONGOING:
        return GAME_OVER
    if row[action] != 0:
        return OCCUPIED
    mark = row[TO_PLAY] + 1
    row[action] = mark
    row[MOVES] += 1
    row[TO_PLAY] = 2 - mark
    if _wins(row, action, mark):
        row[RESULT] = mark  # FIRST_WON or SECOND_WON
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
    """The (2, 3, 3) planes of ``row`` into ``obs`` and its legal moves into ``mask``."""
    me = row[TO_PLAY] + 1
    on = row[RESULT] == ONGOING
    for cell in range(CELLS):
        v = row[cell]
        r, c = cell // SIZE, cell % SIZE
        obs[0, r, c] = 1.0 if v == me else 0.0
        obs[1, r, c] = 1.0 if v != 0 and v != me else 0.0
        mask[cell] = on and v == 0


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


def _permutation(code: int) -> np.ndarray:
    index = np.rot90(np.arange(CELLS).reshape(SIZE, SIZE), code & 3)
    if code & 4:
        index = np.flip(index, axis=-1)
    perm = np.empty(CELLS, dtype=np.int64)
    perm[index.reshape(-1)] = np.arange(CELLS)  # the cell now at (r, c) came from index[r, c]
    return perm


_PERMUTATIONS = tuple(_permutation(code) for code in range(8))


def _reason(row: np.ndarray, action: int, code: int) -> str:
    if code == OCCUPIED:
        return f"cell {divmod(action, SIZE)} is occupied"
    return _REASONS[code]


class TicTacToePositions:
    """PettingZoo ``tictactoe_v3`` as position rows (see the module docstring for the layout).

    The first player (``to_play`` 0) is PettingZoo's ``player_1`` (X). Action ``a`` marks cell
    ``(a // 3, a % 3)`` of the observation; every dihedral code is a symmetry.
    """

    num_actions = CELLS
    obs_shape = (2, SIZE, SIZE)
    state_size = STATE_SIZE
    board_shape = (SIZE, SIZE)
    symmetry_codes = tuple(range(8))
    has_ownership = False

    def initial(self) -> np.ndarray:
        """The empty board, X to move: (12,) int64 zeros."""
        return np.zeros(STATE_SIZE, dtype=np.int64)

    def play(self, row: np.ndarray, action: int) -> None:
        """Mark ``action`` for the side to move in place; ValueError if it is illegal."""
        action = int(action)
        code = _play(row, action) if 0 <= action < CELLS else OUT_OF_RANGE
        if code:
            raise ValueError(
                f"tic-tac-toe action {action} is illegal: {_reason(row, action, code)}"
            )

    def legal_mask(self, row: np.ndarray) -> np.ndarray:
        """(9,) bool: the empty cells; all False once the game is over."""
        if row[RESULT] != ONGOING:
            return np.zeros(CELLS, dtype=bool)
        return row[:CELLS] == 0

    def to_play(self, row: np.ndarray) -> int:
        """0 when X (``player_1``) is to move, else 1."""
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
        """For each i: planes of ``states[games[i], nodes[i]]`` into ``obs[i]`` (2, 3, 3) float32
        and its legal mask into ``masks[i]`` (9,) bool."""
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
            row = states[g, parent]
            code = _play(row.copy(), action)
            raise ValueError(
                f"expand item {bad} (game {g}, node {parent}): tic-tac-toe action {action} is "
                f"illegal: {_reason(row, action, code)}"
            )

    def outcome_targets(self, row: np.ndarray) -> tuple[float, np.ndarray]:
        """Tic-tac-toe has no score margin nor ownership: (0.0, (3, 3) float32 zeros)."""
        return 0.0, np.zeros((SIZE, SIZE), dtype=np.float32)

    def first_pass_forbidden(self, row: np.ndarray) -> None:
        """Nothing to forbid: the game has no pass."""
        return None

    def action_permutation(self, code: int) -> np.ndarray:
        """(9,) int64: ``perm[a]`` is the cell that cell ``a`` moves to under dihedral ``code``
        (``code & 3`` quarter turns as ``np.rot90``, then a left-right flip when ``code & 4``)."""
        if code not in self.symmetry_codes:
            raise ValueError(f"tic-tac-toe has no symmetry code {code}; codes are 0..7")
        return _PERMUTATIONS[code].copy()
