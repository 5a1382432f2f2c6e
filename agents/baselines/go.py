"""Go opponents: a capture/save heuristic, and GNU Go over GTP.

Both keep their own copy of the game through ``reset()`` and ``observe(action)`` (see
:func:`agents.selfplay.play_game`), since the board planes alone do not carry ko history.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from agents.base import Player, PlayerUnavailable
from envs.go.game import BLACK, EMPTY, GoGame, action_to_gtp, gtp_to_action
from envs.go.gtp import own_eye_mask

GNUGO_PATHS = ("gnugo", "/usr/games/gnugo", "/usr/bin/gnugo")
INSTALL_HINT = "GNU Go is not installed; install it with: sudo apt-get install gnugo"


class EngineMissing(PlayerUnavailable):
    """GNU Go is not installed; the message says how to install it."""


class GamePlayer(Player):
    """A player that follows the game on its own GoGame."""

    def __init__(self, board_size: int, komi: float, max_moves: int | None = None) -> None:
        self.board_size, self.komi, self.max_moves = board_size, komi, max_moves
        self.game = GoGame(board_size, komi=komi, max_moves=max_moves)

    def reset(self) -> None:
        self.game = GoGame(self.board_size, komi=self.komi, max_moves=self.max_moves)

    def observe(self, action: int) -> None:
        self.game.play(int(action))


def neighbours(point: int, n: int) -> list[int]:
    """The up to four points next to ``point`` on an n x n board."""
    row, col = divmod(point, n)
    out = []
    if row > 0:
        out.append(point - n)
    if row < n - 1:
        out.append(point + n)
    if col > 0:
        out.append(point - 1)
    if col < n - 1:
        out.append(point + 1)
    return out


def group_and_liberties(board: np.ndarray, point: int) -> tuple[set[int], set[int]]:
    """The group holding ``point`` and its liberties (flat indices)."""
    n = board.shape[0]
    flat = board.ravel()
    color = flat[point]
    group, liberties, frontier = {point}, set(), [point]
    while frontier:
        for nb in neighbours(frontier.pop(), n):
            if flat[nb] == EMPTY:
                liberties.add(nb)
            elif flat[nb] == color and nb not in group:
                group.add(nb)
                frontier.append(nb)
    return group, liberties


class HeuristicGoPlayer(GamePlayer):
    """Captures when it can (the most stones), else saves a group in atari, else plays at
    random, never filling its own one-point eyes; passes when nothing else is left."""

    def __init__(self, board_size: int, komi: float, max_moves: int | None = None, seed: int = 0):
        super().__init__(board_size, komi, max_moves)
        self.rng = np.random.default_rng(seed)

    def seed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def __call__(self, obs: Any, mask: np.ndarray) -> int:
        game, n = self.game, self.board_size
        legal = [int(a) for a in np.flatnonzero(mask) if a < n * n]
        board = game.board()
        # The engine knows which chains are in atari and where their last liberty is, so only
        # those few points need a trial move (not every legal one).
        own_atari, _, capture_points, _ = game.atari_planes()
        best, best_captures = None, 0
        for action in np.flatnonzero(capture_points.ravel()):
            if not mask[action]:
                continue
            captures = game.copy().play(int(action))
            if captures > best_captures:
                best, best_captures = int(action), captures
        if best is not None:
            return best
        save = self._save_atari(board, legal) if own_atari.any() else None
        if save is not None:
            return save
        eyes = own_eye_mask(board, game.to_play)
        candidates = [a for a in legal if not eyes[a]]
        if not candidates:
            return game.pass_action
        return int(self.rng.choice(candidates))

    def _save_atari(self, board: np.ndarray, legal: list[int]) -> int | None:
        """Extend a group in atari to a point where it has two or more liberties."""
        me, seen = self.game.to_play, set()
        for point in np.flatnonzero(board.ravel() == me):
            if point in seen:
                continue
            group, liberties = group_and_liberties(board, int(point))
            seen |= group
            if len(liberties) != 1:
                continue
            (escape,) = liberties
            if escape not in legal:
                continue
            trial = self.game.copy()
            trial.play(escape)
            if len(group_and_liberties(trial.board(), escape)[1]) >= 2:
                return escape
        return None


def find_gnugo() -> str | None:
    """The GNU Go executable, or None when it is not installed."""
    for candidate in GNUGO_PATHS:
        found = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if found:
            return found
    return None


class GnuGoPlayer(GamePlayer):
    """GNU Go 3.8 at a given level, driven over GTP (Chinese rules: area scoring).

    Moves are mirrored into GNU Go with ``play``. Its own move comes from
    ``kgs-genmove_cleanup``, which plays on until dead stones are captured instead of passing
    over them, as Tromp-Taylor scoring (stones on the board count) needs; it runs with
    ``--positional-superko`` like learnloop's rules. A move it suggests that learnloop still
    forbids (its superko memory ends at move 500) is taken back and becomes a pass; so does a
    resignation; the game is scored at its end.
    """

    def __init__(
        self, board_size: int, komi: float, level: int = 1, max_moves: int | None = None
    ) -> None:
        super().__init__(board_size, komi, max_moves)
        executable = find_gnugo()
        if executable is None:
            raise EngineMissing(INSTALL_HINT)
        self.level = level
        self.process = subprocess.Popen(
            [
                executable,
                "--mode",
                "gtp",
                "--level",
                str(level),
                "--chinese-rules",
                "--positional-superko",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.reset()

    def command(self, text: str) -> str:
        """Send one GTP command; returns the answer without '= '; RuntimeError on '?'."""
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(text + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            code = self.process.poll()
            raise RuntimeError(f"GNU Go exited (code {code}) before {text!r}") from None
        lines = []
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"GNU Go exited during {text!r}")
            if line.strip() == "" and lines:
                break
            if line.strip():
                lines.append(line.strip())
        answer = "\n".join(lines)
        if answer.startswith("?"):
            raise RuntimeError(f"GNU Go refused {text!r}: {answer}")
        return answer[1:].strip()

    def reset(self) -> None:
        super().reset()
        self._played: int | None = None
        self.command(f"boardsize {self.board_size}")
        self.command("clear_board")
        self.command(f"komi {self.komi}")

    def _color(self) -> str:
        return "black" if self.game.to_play == BLACK else "white"

    def observe(self, action: int) -> None:
        color = self._color()
        super().observe(action)
        if self._played is not None:  # GNU Go already has its own move on its board
            played, self._played = self._played, None
            if played == action:
                return
            if played >= 0:
                self.command("undo")
        self.command(f"play {color} {action_to_gtp(int(action), self.board_size)}")

    def __call__(self, obs: Any, mask: np.ndarray) -> int:
        answer = self.command(f"kgs-genmove_cleanup {self._color()}").lower()
        if answer == "resign":
            self._played = -1  # nothing was played on GNU Go's board
            return self.game.pass_action
        action = gtp_to_action(answer, self.board_size)
        self._played = action
        return action if mask[action] else self.game.pass_action

    def close(self) -> None:
        """Quit GNU Go."""
        if self.process.poll() is None:
            with contextlib.suppress(RuntimeError, BrokenPipeError):
                self.command("quit")
            self.process.wait(timeout=5)

    def __del__(self) -> None:
        try:
            if self.process.poll() is None:
                self.process.kill()
        except Exception:
            pass
