"""The game of Go under Tromp-Taylor rules with positional superko.

Vocabulary
----------
- **point**: an intersection of the N x N grid; empty or holding a black or white stone.
- **group** (chain): a maximal set of same-coloured stones connected through horizontally or
  vertically adjacent points.
- **liberty**: an empty point adjacent to a group. A group with one liberty is in **atari**.
- **capture**: after a stone is placed, every opposing group left without liberties is removed
  (several at once is a multi-group capture); only then is the mover's own group checked.
- **suicide**: a move that leaves the mover's own group without liberties and captures
  nothing. It is illegal here.
- **ko**: a single-stone capture that the opponent could immediately answer by recapturing,
  restoring the previous board. Plain ("simple") ko forbids only that immediate recapture.
- **superko**: the wider rule used here by default (*positional* superko): a move may not
  recreate any whole-board arrangement of stones that occurred earlier in the game, whoever
  was to play. It also forbids long cycles (triple ko, sending-two-returning-one) that simple
  ko misses. Positions are compared through 64-bit Zobrist hashes. ``superko=False`` falls
  back to simple ko.
- **pass**: always legal while the game is on. The game ends after two consecutive passes,
  or when the move cap (``max_moves``, default 2 * N * N, passes included) is reached.
- **area score** (Tromp-Taylor): a player's stones plus the empty regions that reach only that
  player's stones. Stones are never declared dead: what is on the board counts. Empty
  regions touching both colours (dame, and the eyes shared in seki) count for nobody. Komi is
  added to White; an integer komi allows a draw.

Coordinates
-----------
Action ``a`` in ``0 .. N*N-1`` is the point at row ``a // N`` (row 0 at the **top**) and column
``a % N``; ``N*N`` is pass. GTP vertices name columns ``A`` to ``T`` skipping ``I`` and number
rows from **1 at the bottom**, so on 9x9 action 0 is ``A9`` and action 72 is ``A1``.
"""

from __future__ import annotations

import math
import operator
import re
from functools import cache
from numbers import Integral, Real

import numpy as np

from envs.go import _kernels as k
from envs.go._scoring import area_difference, state_area_difference

EMPTY, BLACK, WHITE = k.EMPTY, k.BLACK, k.WHITE
MIN_SIZE, MAX_SIZE = 5, 19
COLUMNS = "ABCDEFGHJKLMNOPQRST"  # GTP skips I
REASONS = {
    k.OCCUPIED: "occupied",
    k.SUICIDE: "suicide",
    k.SUPERKO_REPEAT: "superko",
    k.KO_RECAPTURE: "ko",
    k.GAME_OVER: "game over",
    k.OFF_BOARD: "off board",
}
_STONE_CHARS = {".": EMPTY, "+": EMPTY, "X": BLACK, "x": BLACK, "O": WHITE, "o": WHITE}


class IllegalMoveError(ValueError):
    """A move the rules forbid; the message names the move in GTP coordinates and the reason."""


def check_board_size(board_size: int) -> int:
    """Return ``board_size`` if it is an int from 5 to 19, else raise ValueError."""
    if isinstance(board_size, bool) or not isinstance(board_size, (int, np.integer)):
        raise ValueError(f"board_size must be an int from 5 to 19, got {board_size!r}")
    if not MIN_SIZE <= board_size <= MAX_SIZE:
        raise ValueError(f"board_size must be from 5 to 19, got {board_size}")
    return int(board_size)


def action_to_gtp(action: int, board_size: int) -> str:
    """Return the GTP vertex (e.g. ``"C3"``, or ``"pass"``) of an action index."""
    n = check_board_size(board_size)
    if not 0 <= action <= n * n:
        raise ValueError(f"action {action} is outside 0..{n * n} on a {n}x{n} board")
    if action == n * n:
        return "pass"
    return f"{COLUMNS[action % n]}{n - action // n}"


def gtp_to_action(vertex: str, board_size: int) -> int:
    """Return the action index of a GTP vertex such as ``"c3"`` or ``"PASS"``."""
    n = check_board_size(board_size)
    text = vertex.strip().upper() if isinstance(vertex, str) else ""
    if text == "PASS":
        return n * n
    match = re.fullmatch(r"([A-HJ-T])(\d{1,2})", text)
    if match is None or COLUMNS.index(match[1]) >= n or not 1 <= int(match[2]) <= n:
        raise ValueError(f"{vertex!r} is not a vertex of a {n}x{n} board (e.g. A1, pass)")
    return (n - int(match[2])) * n + COLUMNS.index(match[1])


def tromp_taylor_score(board: np.ndarray, komi: float) -> float:
    """Return Black's area minus White's area minus ``komi`` for an (N, N) board."""
    array = np.asarray(board)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError(f"board must be a square 2-D array, got shape {array.shape}")
    if array.size and not np.isin(array, (EMPTY, BLACK, WHITE)).all():
        raise ValueError("board values must be EMPTY (0), BLACK (1) or WHITE (2)")
    return float(area_difference(array.astype(np.int8))) - float(komi)


@cache
def _zobrist(board_size: int) -> np.ndarray:
    # Keyed by size and never written, so games sharing it cannot interfere. (It stays writeable:
    # numba's dispatcher takes a slow path of ~0.3 us per call for read-only arrays.)
    return k.zobrist_keys(board_size)


class GoGame:
    """A Go game: the board, whose turn it is, the move history and the rules above.

    Args:
        board_size: N, from 5 to 19.
        komi: points added to White's area score.
        max_moves: moves (passes included) after which the game ends; default 2 * N * N.
        superko: forbid any repeated whole-board position (positional superko); False keeps
            only simple ko.
    """

    def __init__(
        self,
        board_size: int = 9,
        komi: float = 7.5,
        max_moves: int | None = None,
        superko: bool = True,
    ) -> None:
        self.board_size = check_board_size(board_size)
        if isinstance(komi, bool) or not isinstance(komi, Real) or not math.isfinite(komi):
            raise ValueError(f"komi must be a finite number, got {komi!r}")
        if max_moves is None:
            max_moves = 2 * self.board_size**2
        if isinstance(max_moves, bool) or not isinstance(max_moves, Integral) or max_moves < 1:
            raise ValueError(f"max_moves must be a positive int or None, got {max_moves!r}")
        self.komi = float(komi)
        self.max_moves = int(max_moves)
        self.superko = bool(superko)
        self.pass_action = self.board_size**2
        self.num_actions = self.pass_action + 1
        self._zob = _zobrist(self.board_size)
        self._empty = k.new_state(self.board_size, max_moves, self.superko)
        self._s = self._empty.copy()
        self._setup: tuple[np.ndarray, int] | None = None  # start position other than empty
        self.moves: list[int] = []

    @property
    def state(self) -> np.ndarray:
        """The engine's state array (layout in ``envs.go.kernels``); compiled search code reads
        and copies it. Writing to it directly bypasses the rules."""
        return self._s

    @property
    def zobrist(self) -> np.ndarray:
        """The Zobrist keys of this board size (``envs.go.kernels.zobrist_keys``)."""
        return self._zob

    @property
    def to_play(self) -> int:
        """BLACK or WHITE: the colour whose move it is."""
        return int(self._s[k.TO_PLAY])

    @property
    def move_count(self) -> int:
        """Moves played so far, passes included."""
        return int(self._s[k.MOVES])

    @property
    def consecutive_passes(self) -> int:
        """Passes played in a row just before now."""
        return int(self._s[k.PASSES])

    def reset(self) -> None:
        """Return to the empty board with Black to play, forgetting the history."""
        self._s[:] = self._empty
        self._setup = None
        self.moves = []

    def board(self) -> np.ndarray:
        """Return an (N, N) int8 copy of the board, row 0 at the top."""
        out = np.empty((self.board_size, self.board_size), dtype=np.int8)
        k.board_into(self._s, out)
        return out

    def legal_mask(self) -> np.ndarray:
        """Return an (N*N+1,) bool mask of legal actions; all False once the game is over."""
        mask = np.empty(self.num_actions, dtype=np.int8)
        k.legal_mask_into(self._s, self._zob, mask)
        return mask.view(np.bool_)

    def atari_planes(self, color: int | None = None) -> np.ndarray:
        """Return (4, N, N) float32 planes of atari facts for ``color`` (default: the side to
        move): its stones in atari, the opponent's stones in atari, the points that capture,
        and the points that extend its chains in atari (``_kernels.tactics_into``)."""
        out = np.empty((4, self.board_size, self.board_size), dtype=np.float32)
        k.tactics_into(self._s, self.to_play if color is None else int(color), out)
        return out

    def legal_moves(self) -> np.ndarray:
        """Return the legal actions as int indices, pass last."""
        return np.flatnonzero(self.legal_mask())

    def _code(self, action: int) -> int:
        return k.check(self._s, self._zob, operator.index(action))

    def is_legal(self, action: int) -> bool:
        """Return whether the side to move may play ``action`` now."""
        return self._code(action) == 0

    def illegal_reason(self, action: int) -> str | None:
        """Return None if ``action`` is legal, else "occupied", "suicide", "superko", "ko",
        "off board" or "game over"."""
        return REASONS.get(self._code(action))

    def _move_name(self, action: int) -> str:
        if 0 <= action <= self.pass_action:
            return action_to_gtp(action, self.board_size)
        return f"{action} (actions are 0..{self.pass_action})"

    def play(self, action: int) -> int:
        """Play ``action`` for the side to move; return the number of stones captured.

        Raises:
            IllegalMoveError: e.g. ``illegal move C3: suicide``; the game is unchanged.
        """
        action = operator.index(action)
        code = k.play(self._s, self._zob, action)
        if code < 0:
            raise IllegalMoveError(f"illegal move {self._move_name(action)}: {REASONS[code]}")
        self.moves.append(action)
        return code

    def undo(self) -> None:
        """Take back the last move (replaying the game up to it, so O(moves))."""
        if not self.moves:
            raise ValueError("no move to undo")
        moves = self.moves[:-1]
        self._restart()
        for action in moves:
            k.play(self._s, self._zob, action)
        self.moves = moves

    def _restart(self) -> None:
        self._s[:] = self._empty
        if self._setup is not None:
            k.setup(self._s, self._zob, *self._setup)

    def is_over(self) -> bool:
        """Return whether the game has ended (two passes in a row, or the move cap)."""
        return bool(self._s[k.OVER])

    def score(self) -> float:
        """Return the Tromp-Taylor score of the current board: Black minus White minus komi."""
        return float(state_area_difference(self._s)) - self.komi

    def winner(self) -> int:
        """Return BLACK or WHITE by the current score, or EMPTY for a draw."""
        score = self.score()
        return BLACK if score > 0 else WHITE if score < 0 else EMPTY

    def copy(self) -> GoGame:
        """Return an independent copy with the same position and history."""
        other = object.__new__(GoGame)
        other.__dict__.update(self.__dict__)
        other._s = self._s.copy()
        other.moves = list(self.moves)
        return other

    def set_position(self, board: np.ndarray, to_play: int) -> None:
        """Replace the game by ``board`` (N, N) with ``to_play`` to move; clears the history."""
        array = np.asarray(board)
        n = self.board_size
        if array.shape != (n, n):
            raise ValueError(f"board must have shape ({n}, {n}), got {array.shape}")
        if not np.isin(array, (EMPTY, BLACK, WHITE)).all():
            raise ValueError("board values must be EMPTY (0), BLACK (1) or WHITE (2)")
        if to_play not in (BLACK, WHITE):
            raise ValueError(f"to_play must be BLACK (1) or WHITE (2), got {to_play!r}")
        setup = (array.astype(np.int8), int(to_play))
        trial = self._empty.copy()
        bad = k.setup(trial, self._zob, *setup)
        if bad >= 0:
            raise ValueError(
                f"invalid position: the group at {action_to_gtp(bad, n)} has no liberty"
            )
        self._s, self._setup, self.moves = trial, setup, []

    @classmethod
    def from_ascii(cls, text: str, to_play: int = BLACK, **kwargs: object) -> GoGame:
        """Build a game from a drawn board: ``.`` or ``+`` empty, ``X`` black, ``O`` white.

        Row and column labels as printed by GNU Go's showboard (and ``to_ascii``) are allowed.
        The board size comes from the drawing; other keyword arguments go to ``GoGame``.
        """
        board = parse_ascii(text)
        if kwargs.setdefault("board_size", len(board)) != len(board):
            raise ValueError(f"drawing is {len(board)}x{len(board)}, not {kwargs['board_size']}")
        game = cls(**kwargs)  # type: ignore[arg-type]
        game.set_position(board, to_play)
        return game

    def to_ascii(self) -> str:
        """Return the board as GNU Go's showboard draws it: labels on all four sides."""
        return board_to_ascii(self.board())

    def __repr__(self) -> str:
        side = "Black" if self.to_play == BLACK else "White"
        return (
            f"GoGame({self.board_size}x{self.board_size}, {side} to play, move {self.move_count})"
        )


def parse_ascii(text: str) -> np.ndarray:
    """Return the (N, N) int8 board drawn in ``text`` (see ``GoGame.from_ascii``)."""
    rows = []
    for line in text.strip("\n").splitlines():
        tokens = line.split()
        if tokens and tokens[0].isdigit():
            tokens = tokens[1:]  # row label
        points = []
        for token in tokens:
            if not all(ch in _STONE_CHARS for ch in token):
                break  # trailing row label or GNU Go's capture counts
            points.extend(_STONE_CHARS[ch] for ch in token)
        if points:
            rows.append(points)
    n = len(rows)
    if not MIN_SIZE <= n <= MAX_SIZE or any(len(row) != n for row in rows):
        widths = sorted({len(row) for row in rows})
        raise ValueError(
            f"drawing must be a square board of 5 to 19 rows; got {n} rows of {widths}"
        )
    return np.array(rows, dtype=np.int8)


def board_to_ascii(board: np.ndarray) -> str:
    """Draw an (N, N) board with GTP column letters and row numbers, as GNU Go does."""
    n = board.shape[0]
    letters = "   " + " ".join(COLUMNS[:n])
    lines = [letters]
    for row in range(n):
        label = n - row
        cells = " ".join(".XO"[v] for v in board[row])
        lines.append(f"{label:2d} {cells} {label}")
    lines.append(letters)
    return "\n".join(lines)
