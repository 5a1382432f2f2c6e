"""A Go Text Protocol (GTP version 2) engine over ``GoGame``, so any policy can play in GoGui,
Sabaki, KGS clients or against GNU Go.

The engine keeps the rules and the protocol; what to play comes from a ``genmove`` callable
that receives a copy of the game (the side to move is the one asked for) and returns an action:
an index ``0 .. N*N-1``, ``N*N`` to pass, or ``RESIGN``. Without one it plays uniformly random
legal moves that do not fill its own single-point eyes.

Protocol notes (GTP 2 draft, section 2): each command may start with a numeric id that the
response echoes (``=12 D4``); ``#`` starts a comment; control characters other than tab and
newline are dropped, so CRLF input works; every response ends with an empty line. GTP lets a
colour move twice in a row and keeps going after two passes; see ``envs.go.sgf.play_as`` for
how such moves map onto the engine. Positional superko holds over the whole session (since the
last ``clear_board``, ``boardsize`` or ``loadsgf``) whatever its length and order: the engine
keeps every whole-board position played, refuses a ``play`` that repeats one and never answers
``genmove`` with one (a policy's repeating choice becomes a pass).

Run ``python -m envs.go.gtp --size 9 --komi 7.5`` for the random-move engine.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

import numpy as np

from envs.go.game import (
    BLACK,
    EMPTY,
    MAX_SIZE,
    MIN_SIZE,
    WHITE,
    GoGame,
    IllegalMoveError,
    action_to_gtp,
    gtp_to_action,
    tromp_taylor_score,
)
from envs.go.sgf import ensure_turn, format_result, moves_to_sgf, play_as, read_sgf, write_atomic

RESIGN = -1
"""What a genmove callable returns to resign."""

GenMove = Callable[[GoGame], int]
_COLOURS = {"b": BLACK, "black": BLACK, "w": WHITE, "white": WHITE}


class GtpError(Exception):
    """A command that cannot be carried out; its message is the failure response text."""


def own_eye_mask(board: np.ndarray, color: int) -> np.ndarray:
    """Flat (N*N,) mask of single-point eyes of ``color``: empty points whose every
    orthogonal neighbour on the board is a ``color`` stone."""
    padded = np.pad(board, 1, constant_values=color)
    eye = board == EMPTY
    for neighbour in (padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]):
        eye &= neighbour == color
    return eye.ravel()


def random_non_eye_move(game: GoGame, rng: np.random.Generator) -> int:
    """A uniformly random legal move that does not fill the mover's own eye; pass if none."""
    legal = game.legal_mask()[: game.pass_action]
    candidates = np.flatnonzero(legal & ~own_eye_mask(game.board(), game.to_play))
    if candidates.size == 0:
        return game.pass_action
    return int(rng.choice(candidates))


def _default_version() -> str:
    try:
        from importlib.metadata import version

        return version("learnloop")
    except Exception:  # not installed: running from a checkout
        return "0.1.0"


class GtpEngine:
    """A GTP 2 engine: feed it lines with ``handle`` or let ``run`` serve a stream.

    Args:
        genmove: the policy, ``genmove(game) -> action`` with ``game.to_play`` the colour asked
            for; return ``RESIGN`` to resign. None plays random legal non-eye-filling moves.
        name: answer to ``name``.
        version: answer to ``version``; defaults to the installed learnloop version.
        board_size: the board size before any ``boardsize`` command.
        komi: the komi before any ``komi`` command.
        seed: seeds the random-move policy.
        log: where warnings go (stderr by default; never the protocol stream).
    """

    def __init__(
        self,
        genmove: GenMove | None = None,
        name: str = "learnloop",
        version: str | None = None,
        board_size: int = 7,
        komi: float = 9.0,
        seed: int | None = None,
        log: TextIO | None = None,
    ) -> None:
        self.name = name
        self.version = version or _default_version()
        self._policy = genmove
        self._rng = np.random.default_rng(seed)
        self._log = log
        self._announced_random = False
        self.board_size = board_size
        self.komi = float(komi)
        self.quit_requested = False
        self._commands: dict[str, Callable[[list[str]], str]] = {
            "protocol_version": lambda args: "2",
            "name": lambda args: self.name,
            "version": lambda args: self.version,
            "known_command": self._known_command,
            "list_commands": lambda args: "\n".join(self._commands),
            "quit": self._quit,
            "boardsize": self._boardsize,
            "clear_board": self._clear_board,
            "komi": self._komi,
            "play": self._play,
            "genmove": self._genmove,
            "kgs-genmove_cleanup": self._genmove,
            "reg_genmove": self._reg_genmove,
            "undo": self._undo,
            "showboard": self._showboard,
            "final_score": self._final_score,
            "loadsgf": self._loadsgf,
            "printsgf": self._printsgf,
            "time_settings": lambda args: "",
            "time_left": lambda args: "",
        }
        self._new_game(board_size)

    # -- state ---------------------------------------------------------------------------------

    @property
    def game(self) -> GoGame:
        """A copy of the current game."""
        return self._game.copy()

    def _new_game(
        self, board_size: int, setup: np.ndarray | None = None, first: int = BLACK
    ) -> None:
        # Undo restores whole snapshots rather than calling GoGame.undo: GTP moves may be out of
        # turn or follow the end of the game, which the engine's own history does not record.
        self._game = GoGame(board_size=board_size, komi=self.komi)
        if setup is not None:
            self._game.set_position(setup, first)
        self.board_size = board_size
        self._setup = self._game.board()
        self._first = self._game.to_play
        self._record: list[tuple[int, int]] = []  # (colour, action), for printsgf
        self._snapshots: list[GoGame] = []
        # Positional superko over the whole session: every whole-board position since the
        # session's start, counted (undo takes one back). The game's own history restarts when
        # a colour moves out of turn or play goes on after the game's end; this does not.
        self._positions: dict[bytes, int] = {self._setup.tobytes(): 1}
        self._boards: list[bytes] = []  # the position after each committed move, for undo

    def _after(self, color: int, action: int) -> GoGame:
        """The game after ``color`` plays ``action``; IllegalMoveError if the game's rules or
        the session's superko forbid it."""
        game = self._game.copy()
        play_as(game, color, action)  # raises IllegalMoveError, leaving self._game as it was
        if action != game.pass_action and game.board().tobytes() in self._positions:
            raise IllegalMoveError(f"{action_to_gtp(action, self.board_size)}: superko")
        return game

    def _commit(self, color: int, action: int) -> None:
        game = self._after(color, action)
        board = game.board().tobytes()
        self._snapshots.append(self._game)
        self._game = game
        self._record.append((color, action))
        self._boards.append(board)
        self._positions[board] = self._positions.get(board, 0) + 1

    # -- the protocol --------------------------------------------------------------------------

    def handle(self, line: str) -> str | None:
        """Answer one command line with a full response (ending in an empty line); None for
        blank and comment-only lines, which GTP says to ignore."""
        words = _clean(line).split()
        if not words:
            return None
        command_id = ""
        if words[0].isdigit():
            command_id, words = words[0], words[1:]
        if not words:
            return _response("?", command_id, "missing command")
        handler = self._commands.get(words[0].lower())
        if handler is None:
            return _response("?", command_id, "unknown command")
        try:
            return _response("=", command_id, handler(words[1:]))
        except GtpError as error:
            return _response("?", command_id, str(error))
        except Exception as error:  # a bad policy or file must not take the engine down
            self._warn(f"{words[0]} failed: {type(error).__name__}: {error}")
            return _response("?", command_id, f"internal error: {error}")

    def run(self, stdin: Iterable[str] | None = None, stdout: TextIO | None = None) -> None:
        """Serve GTP: read commands until ``quit`` or end of input, flushing each response."""
        stdin = sys.stdin if stdin is None else stdin
        stdout = sys.stdout if stdout is None else stdout
        for line in stdin:
            response = self.handle(line)
            if response is not None:
                stdout.write(response)
                stdout.flush()
            if self.quit_requested:
                break

    def _warn(self, message: str) -> None:
        print(f"{self.name}: {message}", file=self._log or sys.stderr, flush=True)

    # -- commands ------------------------------------------------------------------------------

    def _known_command(self, args: list[str]) -> str:
        _expect(args, 1, "known_command COMMAND")
        return "true" if args[0].lower() in self._commands else "false"

    def _quit(self, args: list[str]) -> str:
        self.quit_requested = True
        return ""

    def _boardsize(self, args: list[str]) -> str:
        _expect(args, 1, "boardsize SIZE")
        try:
            size = int(args[0])
        except ValueError:
            raise GtpError("boardsize is not an integer") from None
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise GtpError("unacceptable size")
        self._new_game(size)
        return ""

    def _clear_board(self, args: list[str]) -> str:
        self._new_game(self.board_size)
        return ""

    def _komi(self, args: list[str]) -> str:
        _expect(args, 1, "komi VALUE")
        try:
            komi = float(args[0])
        except ValueError:
            raise GtpError("komi is not a float") from None
        if not np.isfinite(komi):
            raise GtpError("komi is not a finite number")
        self.komi = self._game.komi = komi
        return ""

    def _play(self, args: list[str]) -> str:
        _expect(args, 2, "play COLOR VERTEX")
        color, action = _parse_color(args[0]), self._parse_vertex(args[1])
        try:
            self._commit(color, action)
        except IllegalMoveError:
            raise GtpError("illegal move") from None
        return ""

    def _genmove(self, args: list[str]) -> str:
        _expect(args, 1, "genmove COLOR")
        color = _parse_color(args[0])
        action = self._choose(color)
        if action == RESIGN:
            return "resign"
        self._commit(color, action)
        return action_to_gtp(action, self.board_size)

    def _reg_genmove(self, args: list[str]) -> str:
        _expect(args, 1, "reg_genmove COLOR")
        action = self._choose(_parse_color(args[0]))
        return "resign" if action == RESIGN else action_to_gtp(action, self.board_size)

    def _choose(self, color: int) -> int:
        """Ask the policy for ``color``'s move; an illegal answer (by the game's rules or the
        session's superko) becomes a pass."""
        game = self._game.copy()
        ensure_turn(game, color)
        if self._policy is None:
            if not self._announced_random:
                self._warn("no policy given: playing random legal moves that keep own eyes")
                self._announced_random = True
            action = random_non_eye_move(game, self._rng)
            if action == game.pass_action or self._allowed(color, action):
                return action
            # It repeats a position of the session: draw among the moves that do not.
            free = game.legal_mask()[: game.pass_action] & ~own_eye_mask(game.board(), color)
            allowed = [a for a in np.flatnonzero(free) if self._allowed(color, int(a))]
            return int(self._rng.choice(allowed)) if allowed else game.pass_action
        action = int(self._policy(game.copy()))  # a copy: the policy may play and undo on it
        if action != RESIGN and not (game.is_legal(action) and self._allowed(color, action)):
            self._warn(f"policy chose illegal action {action}; passing instead")
            action = game.pass_action
        return action

    def _allowed(self, color: int, action: int) -> bool:
        try:
            self._after(color, action)
        except IllegalMoveError:
            return False
        return True

    def _undo(self, args: list[str]) -> str:
        if not self._snapshots:
            raise GtpError("cannot undo")
        self._game = self._snapshots.pop()
        self._game.komi = self.komi
        self._record.pop()
        board = self._boards.pop()
        self._positions[board] -= 1
        if not self._positions[board]:
            del self._positions[board]
        return ""

    def _showboard(self, args: list[str]) -> str:
        # Starts on a new line so the board's columns line up below the "= ".
        return "\n" + self._game.to_ascii()

    def _final_score(self, args: list[str]) -> str:
        return format_result(tromp_taylor_score(self._game.board(), self.komi))

    def _loadsgf(self, args: list[str]) -> str:
        if len(args) not in (1, 2):
            raise GtpError("syntax error: loadsgf FILENAME [MOVE_NUMBER]")
        try:
            record = read_sgf(Path(args[0]).read_bytes())
            stop = int(args[1]) - 1 if len(args) == 2 else len(record.moves)
        except (OSError, ValueError) as error:
            raise GtpError(f"cannot load file: {error}") from None
        self.komi = record.game.komi
        self._new_game(record.game.board_size, record.setup, record.first_player)
        for color, action in record.moves[: max(stop, 0)]:
            self._commit(color, action)
        return "black" if self._game.to_play == BLACK else "white"

    def _printsgf(self, args: list[str]) -> str:
        if len(args) > 1:
            raise GtpError("syntax error: printsgf [FILENAME]")
        data = moves_to_sgf(
            self.board_size,
            self.komi,
            self._record,
            self._setup,
            self._first,
            player_black=None,
            player_white=None,
        )
        if args:
            write_atomic(args[0], data)
            return ""
        # An empty line would end the response early.
        return "\n".join(line for line in data.decode().splitlines() if line.strip())

    def _parse_vertex(self, text: str) -> int:
        try:
            return gtp_to_action(text, self.board_size)
        except ValueError:
            raise GtpError("invalid coordinate") from None


def _clean(line: str) -> str:
    """Apply GTP preprocessing: drop control characters, tabs to spaces, strip the comment."""
    line = line.replace("\t", " ")
    kept = "".join(ch for ch in line if ch >= " " and ch != "\x7f")  # also drops CR and LF
    return kept.split("#", 1)[0].strip()


def _response(status: str, command_id: str, text: str) -> str:
    head = f"{status}{command_id}"
    return f"{head} {text}\n\n" if text else f"{head}\n\n"


def _expect(args: list[str], count: int, usage: str) -> None:
    if len(args) != count:
        raise GtpError(f"syntax error: expected {usage}")


def _parse_color(text: str) -> int:
    try:
        return _COLOURS[text.lower()]
    except KeyError:
        raise GtpError("invalid color") from None


def main(argv: list[str] | None = None) -> None:
    """Serve the random-move engine on stdin/stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=7, help="board size before any boardsize")
    parser.add_argument("--komi", type=float, default=9.0, help="komi before any komi command")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random moves")
    options = parser.parse_args(argv)
    GtpEngine(board_size=options.size, komi=options.komi, seed=options.seed).run()


if __name__ == "__main__":
    main()
