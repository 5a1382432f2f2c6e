"""Reading and writing Go games as SGF (Smart Game Format, FF[4]) with sgfmill.

Vocabulary: a *record* is what an SGF file holds beyond the position itself: the setup stones
(AB/AW), the moves in order with their colours, komi (KM), the result (RE) and the players'
names (PB/PW). Only the main line of an SGF file is read; variations are ignored.

Coordinates: our actions number the points row-major from the top-left corner, while sgfmill's
``(row, col)`` has row 0 on the bottom edge, so rows are flipped on the way in and out.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sgfmill import boards, sgf, sgf_moves

from envs.go.game import BLACK, EMPTY, WHITE, GoGame, IllegalMoveError

_SGF_COLOUR = {BLACK: "b", WHITE: "w"}
_COLOUR_FROM_SGF = {"b": BLACK, "w": WHITE}


@dataclass
class SgfRecord:
    """A game read from SGF: the replayed game, the record it came from and root properties.

    ``setup`` is the starting board (row 0 on top), ``first_player`` the colour to move there,
    and ``moves`` the main line as ``(colour, action)`` pairs, exactly as the file has them.
    """

    game: GoGame
    setup: np.ndarray
    first_player: int
    moves: list[tuple[int, int]]
    result: str | None = None
    player_black: str | None = None
    player_white: str | None = None


def format_result(score: float) -> str:
    """Format a Black-minus-White score the way GTP and SGF write results: B+3, W+0.5, 0."""
    if score == 0:
        return "0"
    return f"{'B' if score > 0 else 'W'}+{abs(score):g}"


def ensure_turn(game: GoGame, color: int) -> None:
    """Make ``color`` the side to move, even out of turn or after the game has ended.

    SGF records and GTP controllers may give one colour two moves in a row (handicap stones,
    edited games) and may go on after two passes (clean-up phases). The engine's history holds
    alternating moves only, so the other colour's turn becomes a pass when that keeps the game
    going; otherwise (the game is over, or a pass would end it) the game restarts from the
    current position with ``color`` to move. That restart forgets the superko history and the
    moves before it, so callers that need the full record keep it themselves (as GtpEngine does).
    """
    if game.to_play == color and not game.is_over():
        return
    pass_keeps_going = game.consecutive_passes == 0 and game.move_count + 1 < game.max_moves
    if game.to_play != color and not game.is_over() and pass_keeps_going:
        game.play(game.pass_action)
    else:
        game.set_position(game.board(), color)


def play_as(game: GoGame, color: int, action: int) -> None:
    """Play ``action`` for ``color`` whoever is to move (see ``ensure_turn``).

    Raises:
        IllegalMoveError: the move is illegal; ``game`` may then have had its turn changed.
    """
    ensure_turn(game, color)
    game.play(action)


def moves_to_sgf(
    board_size: int,
    komi: float,
    moves: Sequence[tuple[int, int]],
    setup: np.ndarray | None = None,
    first_player: int = BLACK,
    result: str | None = None,
    player_black: str | None = None,
    player_white: str | None = None,
) -> bytes:
    """Serialise a record given as ``(colour, action)`` pairs after optional setup stones.

    ``setup`` is an (N, N) board (row 0 on top) whose stones become AB/AW in the root node;
    ``first_player`` becomes PL when it is White, so an empty record still says who moves.
    """
    sgf_game = sgf.Sgf_game(size=board_size)
    root = sgf_game.get_root()
    root.set("KM", float(komi))
    root.set("RU", "Chinese")
    if result:
        root.set("RE", result)
    if player_black:
        root.set("PB", player_black)
    if player_white:
        root.set("PW", player_white)
    if setup is not None and np.any(setup != EMPTY):
        root.set_setup_stones(_points_of(setup, BLACK), _points_of(setup, WHITE))
    if first_player == WHITE:
        root.set("PL", "w")
    node = root
    for colour, action in moves:
        node = node.new_child()
        point = _action_to_point(action, board_size)
        if point is None:  # FF[4] writes a pass as an empty value; sgfmill would write "tt"
            node.set_raw(_SGF_COLOUR[colour].upper(), b"")
        else:
            node.set_move(_SGF_COLOUR[colour], point)
    return sgf_game.serialise()


def game_to_sgf(
    game: GoGame,
    result: str | None = None,
    player_black: str | None = None,
    player_white: str | None = None,
) -> bytes:
    """Serialise ``game`` (its starting position and every move so far) as SGF bytes.

    When ``result`` is None and the game is over, the Tromp-Taylor result is written.
    """
    start = game.copy()
    # Rewind to the position the moves were played from. GoGame.undo replays the game, so this
    # is quadratic in the moves: 15 ms for a 133-move 9x9 game, 0.16 s for 544 moves on 19x19.
    while start.moves:
        start.undo()
    colour = start.to_play
    moves = []
    for action in game.moves:
        moves.append((colour, action))
        colour = WHITE if colour == BLACK else BLACK
    if result is None and game.is_over():
        result = format_result(game.score())
    return moves_to_sgf(
        game.board_size,
        game.komi,
        moves,
        start.board(),
        start.to_play,
        result,
        player_black,
        player_white,
    )


def read_sgf(data: bytes, max_moves: int | None = None) -> SgfRecord:
    """Parse SGF bytes and replay the main line; ValueError says what is wrong with the file."""
    try:
        sgf_game = sgf.Sgf_game.from_bytes(data)
        komi = sgf_game.get_komi()
        setup_board, plays = sgf_moves.get_setup_and_moves(sgf_game)
    except (ValueError, IndexError, KeyError) as error:
        raise ValueError(f"corrupt SGF: {error or type(error).__name__}") from error
    size = sgf_game.get_size()
    if max_moves is None:  # a long record must not hit the engine's default move cap
        max_moves = max(2 * size * size, len(plays) + 1)
    try:
        game = GoGame(board_size=size, komi=komi, max_moves=max_moves)
    except ValueError as error:
        raise ValueError(f"SGF board size {size} is not supported: {error}") from error
    first = _first_player(sgf_game, plays)
    setup = _board_from_sgfmill(setup_board, size)
    if not setup_board.is_empty() or first != BLACK:
        game.set_position(setup, first)
    moves = [(_COLOUR_FROM_SGF[colour], _point_to_action(point, size)) for colour, point in plays]
    for number, (colour, action) in enumerate(moves, start=1):
        try:
            play_as(game, colour, action)
        except IllegalMoveError as error:
            raise ValueError(f"SGF move {number} is illegal: {error}") from error
    return SgfRecord(
        game=game,
        setup=setup,
        first_player=first,
        moves=moves,
        result=_root_text(sgf_game, "RE"),
        player_black=sgf_game.get_player_name("b"),
        player_white=sgf_game.get_player_name("w"),
    )


def game_from_sgf(data: bytes, max_moves: int | None = None) -> GoGame:
    """Replay an SGF game's main line into a new GoGame (see ``read_sgf`` for the metadata)."""
    return read_sgf(data, max_moves=max_moves).game


def save_sgf(
    path: str | os.PathLike[str],
    game: GoGame,
    result: str | None = None,
    player_black: str | None = None,
    player_white: str | None = None,
) -> Path:
    """Write ``game`` as SGF to ``path`` atomically: a crash never leaves half a file there."""
    return write_atomic(path, game_to_sgf(game, result, player_black, player_white))


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def _first_player(sgf_game: sgf.Sgf_game, plays: list) -> int:
    """Who moves first: PL if given, else the first move's colour, else White after handicap."""
    root = sgf_game.get_root()
    if root.has_property("PL"):
        return _COLOUR_FROM_SGF[root.get("PL")]
    if plays:
        return _COLOUR_FROM_SGF[plays[0][0]]
    if root.has_property("AB") and not root.has_property("AW"):
        return WHITE
    return BLACK


def _root_text(sgf_game: sgf.Sgf_game, identifier: str) -> str | None:
    """A root property as text, or None when absent."""
    root = sgf_game.get_root()
    return root.get(identifier) if root.has_property(identifier) else None


def _points_of(board: np.ndarray, colour: int) -> list[tuple[int, int]]:
    """sgfmill points of every ``colour`` stone on ``board``."""
    size = board.shape[0]
    return [(size - 1 - int(row), int(col)) for row, col in np.argwhere(board == colour)]


def _board_from_sgfmill(sgf_board: boards.Board, size: int) -> np.ndarray:
    """Convert an sgfmill board (row 0 at the bottom) to our array (row 0 on top)."""
    board = np.zeros((size, size), dtype=np.int8)
    for colour, (row, col) in sgf_board.list_occupied_points():
        board[size - 1 - row, col] = _COLOUR_FROM_SGF[colour]
    return board


def _action_to_point(action: int, size: int) -> tuple[int, int] | None:
    """Our action to an sgfmill point; None for a pass."""
    if action == size * size:
        return None
    row, col = divmod(action, size)
    return size - 1 - row, col


def _point_to_action(point: tuple[int, int] | None, size: int) -> int:
    """An sgfmill point (None for a pass) to our action."""
    if point is None:
        return size * size
    row, col = point
    return (size - 1 - row) * size + col


__all__ = [
    "SgfRecord",
    "ensure_turn",
    "format_result",
    "game_from_sgf",
    "game_to_sgf",
    "moves_to_sgf",
    "play_as",
    "read_sgf",
    "save_sgf",
    "write_atomic",
]
