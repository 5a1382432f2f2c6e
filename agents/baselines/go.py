"""Go opponents: a capture/save heuristic, and GNU Go over GTP.

Both keep their own copy of the game through ``reset()`` and ``observe(action)`` (see
:func:`agents.selfplay.play_game`), since the board planes alone do not carry ko history.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from agents.base import Player, PlayerUnavailable
from envs.go.game import BLACK, EMPTY, GoGame, action_to_gtp, gtp_to_action
from envs.go.gtp import own_eye_mask

GNUGO_PATHS = ("gnugo", "/usr/games/gnugo", "/usr/bin/gnugo")
INSTALL_HINT = "GNU Go is not installed; install it with: sudo apt-get install gnugo"


class EngineDied(RuntimeError):
    """An outside engine's process ended mid-conversation."""


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
    resignation; the game is scored at its end. A GNU Go that dies (a crash, a broken pipe) is
    restarted once per match with the game's moves replayed, with a warning; a second death is
    an error naming the game it happened in. Before each of its moves GNU Go's random seed is
    set from ``seed`` and the moves so far, so a position gets the same answer in every run
    (GNU Go seeds itself from the clock otherwise: two runs of GNU Go 10 against itself from
    the same 50 openings on 7x7 differed in 7 games) and evaluations replay exactly.
    """

    def __init__(
        self,
        board_size: int,
        komi: float,
        level: int = 1,
        max_moves: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(board_size, komi, max_moves)
        executable = find_gnugo()
        if executable is None:
            raise EngineMissing(INSTALL_HINT)
        self.level, self.executable, self.seed = level, executable, seed
        self.restarts, self.games = 0, -1  # games the match has started, for error messages
        self._start()
        self.reset()

    def _start(self) -> None:
        self.process = subprocess.Popen(
            [self.executable, "--mode", "gtp", "--level", str(self.level), "--chinese-rules",
             "--positional-superko"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip

    def command(self, text: str) -> str:
        """Send one GTP command; returns the answer without '= '; RuntimeError on '?'.
        A GNU Go that dies is restarted once, at the game's position, and asked again."""
        try:
            return self._command(text)
        except EngineDied:
            self._revive()
            return self._command(text)

    def _revive(self) -> None:
        """Restart a GNU Go that died and replay the game so far on its board (once)."""
        code = self.process.poll()
        if self.restarts >= 1:
            raise RuntimeError(
                f"GNU Go (level {self.level}) died again (exit code {code}) in game "
                f"{self.games} of the match, after a restart"
            )
        self.restarts += 1
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                pipe.close()  # type: ignore[union-attr]
        warnings.warn(
            f"GNU Go (level {self.level}) died (exit code {code}) in game {self.games}; "
            "restarted at the game's position",
            stacklevel=3,
        )
        self._start()
        self._setup_board()
        self._played = None
        for index, action in enumerate(self.game.moves):
            color = "black" if index % 2 == 0 else "white"
            self._command(f"play {color} {action_to_gtp(int(action), self.board_size)}")

    def _command(self, text: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(text + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            raise EngineDied(f"GNU Go exited before {text!r}") from None
        lines = []
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise EngineDied(f"GNU Go exited during {text!r}")
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
        self.games += 1
        self._played: int | None = None
        try:
            self._setup_board()
        except EngineDied:
            self._revive()

    def _setup_board(self) -> None:
        self._command(f"boardsize {self.board_size}")
        self._command("clear_board")
        self._command(f"komi {self.komi}")

    def _color(self) -> str:
        return "black" if self.game.to_play == BLACK else "white"

    def observe(self, action: int) -> None:
        color = self._color()
        super().observe(action)
        try:
            if self._played is not None:  # GNU Go already has its own move on its board
                played, self._played = self._played, None
                if played == action:
                    return
                if played >= 0:
                    self._command("undo")
            self._command(f"play {color} {action_to_gtp(int(action), self.board_size)}")
        except EngineDied:
            self._revive()  # the replay includes this move

    def move_seed(self) -> int:
        """GNU Go's random seed for its next move: a function of ``seed`` and the moves so far,
        in 1 .. 2**31 - 1 (GNU Go seeds itself from the clock otherwise, so that the same
        position could get another move in another run)."""
        moves = np.asarray(self.game.moves, dtype=np.int64).tobytes()
        return zlib.crc32(moves, self.seed & 0xFFFFFFFF) % (2**31 - 1) + 1

    def __call__(self, obs: Any, mask: np.ndarray) -> int:
        self.command(f"set_random_seed {self.move_seed()}")
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
                self._command("quit")
            self.process.wait(timeout=5)

    def __del__(self) -> None:
        try:
            if self.process.poll() is None:
                self.process.kill()
        except Exception:
            pass
