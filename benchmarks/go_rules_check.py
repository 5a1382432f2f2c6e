"""Check learnloop's Go rules engine against GNU Go and sgfmill on random games.

Our engine plays random legal moves (mostly not filling its own eyes, so games end; often
preferring captures, so ko fights happen) and every move is mirrored into GNU Go over GTP.
After each move we compare:

- legality: GNU Go's ``is_legal`` for the move played, every point our engine refuses for
  suicide, ko or superko, and a few random other points (empty and occupied);
- the board: GNU Go's ``list_stones`` and an sgfmill ``Board`` replaying the same moves;

and at the end of each game our Tromp-Taylor score against sgfmill's ``area_score()`` (always)
and GNU Go's ``final_score`` (only for played-out games, i.e. ended by two passes with no
non-eye-filling move left and no capture held back by a ko or superko ban: otherwise GNU Go
removes stones it judges dead, which Tromp-Taylor never does; such games are counted apart).

Superko: GNU Go 3.8 has ``--positional-superko``, which its ``is_legal`` and ``play`` obey, so
we run it that way and superko refusals are compared like any other rule (the summary counts
them on their own line, apart from simple ko recaptures). One known GNU Go limit: once a game
passes 500 moves its history is folded and its superko check misses repetitions, so there a
superko refusal GNU Go allows is counted apart (not as a mismatch) after we confirm it by
looking the resulting position up in the game's own history. sgfmill has no legality rules;
it only replays captures.

Usage: ``python benchmarks/go_rules_check.py --games 1000 --sizes 5,7,9 --seed 0``.
Exit codes: 0 all agree, 1 mismatches, 2 GNU Go missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sgfmill import boards

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from envs.go.game import BLACK, EMPTY, WHITE, GoGame, action_to_gtp  # noqa: E402
from envs.go.gtp import own_eye_mask, random_non_eye_move  # noqa: E402
from envs.go.sgf import format_result, save_sgf  # noqa: E402

INSTALL_HINT = "GNU Go not found: install it with `apt-get install gnugo` (or set GNUGO=/path)."
RANDOM_POINTS = 3  # extra points whose legality is checked at every move
EYE_FILL_RATE = 0.03  # how often a move may fill an own eye (exercises those captures too)
CAPTURE_RATE = 0.5  # how often a capturing move, when there is one, is preferred
VERDICTS = {
    "legal": "legal for us",
    "occupied": "occupied",
    "suicide": "suicide",
    "ko": "ko recapture",
    "superko": "superko, not simple ko",
}
# GNU Go keeps 500 moves of history (MAX_MOVE_HISTORY); when full, play_move() in board.c folds
# the oldest 51 into its starting position. Measured here: from then on its superko check misses
# repetitions even of positions a few moves old (GNU Go allowed a move at 502 that recreated
# the position after move 497). Only boards whose move cap passes 500 (16x16 and up) get there.
GNUGO_HISTORY = 500
PLAYED_OUT, KO_BAN, MOVE_CAP = "played out", "passed under a ko/superko ban", "move cap"


class GnuGo:
    """One GNU Go process spoken to over GTP, reused for every game."""

    def __init__(self, path: str) -> None:
        command = [path, "--mode", "gtp", "--chinese-rules", "--positional-superko"]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def ask(self, command: str) -> tuple[bool, str]:
        """Send one command; return (success, response text without the status sign)."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        lines = []
        while (line := self.process.stdout.readline()) not in ("\n", ""):
            lines.append(line.rstrip("\n"))
        if not lines:
            raise RuntimeError(f"GNU Go stopped answering (after {command!r})")
        text = "\n".join(lines)
        return text.startswith("="), text[1:].strip()

    def must(self, command: str) -> str:
        """Send a command that has to succeed."""
        ok, text = self.ask(command)
        if not ok:
            raise RuntimeError(f"GNU Go refused {command!r}: {text}")
        return text

    def new_game(self, board_size: int, komi: float) -> None:
        """Start an empty board of this size and komi."""
        self.must(f"boardsize {board_size}")
        self.must("clear_board")
        self.must(f"komi {komi}")

    def close(self) -> None:
        """Quit GNU Go and wait for it."""
        try:
            self.ask("quit")
        finally:
            self.process.wait(timeout=10)


@dataclass
class Tally:
    """Counts of what was compared and what disagreed, per board size."""

    games: int = 0
    moves: int = 0
    checks: Counter = field(default_factory=Counter)  # legality checks by our verdict
    boards: int = 0
    sgfmill_scores: int = 0
    gnugo_scores: int = 0
    endings: Counter = field(default_factory=Counter)  # PLAYED_OUT, KO_BAN or MOVE_CAP
    beyond_gnugo_memory: int = 0  # confirmed superko refusals GNU Go allows, see GNUGO_HISTORY
    mismatches: Counter = field(default_factory=Counter)


def colour_name(color: int) -> str:
    """GTP colour word."""
    return "black" if color == BLACK else "white"


def choose_move(game: GoGame, rng: np.random.Generator) -> int:
    """A random legal move: usually not filling own eyes, often a capture when one exists."""
    legal = np.flatnonzero(game.legal_mask()[: game.pass_action])
    if legal.size == 0:
        return game.pass_action
    if rng.random() < EYE_FILL_RATE:
        return int(rng.choice(legal))
    if rng.random() < CAPTURE_RATE:
        eyes = own_eye_mask(game.board(), game.to_play)
        captures = [a for a in legal if not eyes[a] and game.copy().play(int(a)) > 0]
        if captures:
            return int(rng.choice(captures))
    return random_non_eye_move(game, rng)


def points_to_check(
    game: GoGame, simple_ko: GoGame, played: int, rng: np.random.Generator
) -> dict[int, str]:
    """Points whose legality to compare, with our verdict: "legal" or the reason refused.

    ``simple_ko`` is the same game under simple ko only; it tells an immediate ko recapture
    ("ko") from a repetition only positional superko forbids ("superko").
    """
    n2 = game.pass_action
    board = game.board().ravel()
    chosen = {played} if played != n2 else set()
    chosen.update(int(a) for a in rng.choice(n2, size=RANDOM_POINTS, replace=False))
    refused = np.flatnonzero((board == EMPTY) & ~game.legal_mask()[:n2])
    chosen.update(int(a) for a in refused)  # every suicide, ko and superko point
    verdicts = {}
    for point in sorted(chosen):
        reason = game.illegal_reason(point) or "legal"
        if reason in ("ko", "superko"):
            reason = "ko" if simple_ko.illegal_reason(point) == "ko" else "superko"
        verdicts[point] = reason
    return verdicts


def stones_from_gnugo(gnugo: GnuGo, color: int) -> set[str]:
    """The vertices GNU Go has stones of ``color`` on."""
    return set(gnugo.must(f"list_stones {colour_name(color)}").upper().split())


def our_stones(board: np.ndarray, color: int) -> set[str]:
    """Our board's vertices holding ``color``."""
    n = board.shape[0]
    return {action_to_gtp(int(a), n) for a in np.flatnonzero(board.ravel() == color)}


def sgfmill_board_matches(reference: boards.Board, board: np.ndarray) -> bool:
    """Whether sgfmill's board (row 0 at the bottom) shows our position."""
    n = board.shape[0]
    names = {None: EMPTY, "b": BLACK, "w": WHITE}
    return all(
        names[reference.get(n - 1 - row, col)] == board[row, col]
        for row in range(n)
        for col in range(n)
    )


def parse_score(text: str) -> float:
    """GNU Go's final_score ("B+3.0", "W+0.5", "0") as Black minus White."""
    text = text.strip()
    if text.upper() in ("0", "DRAW"):
        return 0.0
    sign = 1.0 if text[0].upper() == "B" else -1.0
    return sign * float(text[2:])


class Mirror:
    """One game played by our engine and mirrored into GNU Go and an sgfmill board.

    Besides the game it keeps the same moves under simple ko only (to tell ko from superko
    refusals) and every position so far, to confirm superko refusals without GNU Go.
    """

    def __init__(self, gnugo: GnuGo, board_size: int, komi: float) -> None:
        self.gnugo = gnugo
        self.game = GoGame(board_size=board_size, komi=komi)
        self.simple_ko = GoGame(board_size=board_size, komi=komi, superko=False)
        self.reference = boards.Board(board_size)
        self.positions = {self.game.board().tobytes()}  # every position so far
        self.gnugo_collapsed = False  # whether GNU Go's move history has been folded
        gnugo.new_game(board_size, komi)

    def check_legality(self, checks: dict[int, str], where: str, tally: Tally) -> list[str]:
        """Ask GNU Go about each point; return the disagreements."""
        problems = []
        color = colour_name(self.game.to_play)
        for point, verdict in checks.items():
            tally.checks[verdict] += 1
            vertex = action_to_gtp(point, self.game.board_size)
            gnugo_legal = self.gnugo.must(f"is_legal {color} {vertex}") == "1"
            if gnugo_legal == (verdict == "legal"):
                continue
            if verdict == "superko" and self.gnugo_lost_track(point):
                tally.beyond_gnugo_memory += 1
                continue
            tally.mismatches[f"legality ({verdict} for us)"] += 1
            problems.append(f"{where}: {vertex} is {verdict} for us, GNU Go says {gnugo_legal}")
        return problems

    def gnugo_lost_track(self, point: int) -> bool:
        """Whether GNU Go's history has collapsed and ``point`` really repeats a position.

        We replay the move under simple ko and look the board up among every position of
        the game, so our superko verdict is confirmed without GNU Go.
        """
        if not self.gnugo_collapsed:
            return False
        trial = self.simple_ko.copy()
        trial.play(point)
        return trial.board().tobytes() in self.positions

    def play(self, move: int, where: str, tally: Tally) -> list[str]:
        """Play ``move`` everywhere; return disagreements about it and the boards after it."""
        game, size = self.game, self.game.board_size
        color = game.to_play
        self.gnugo_collapsed |= game.move_count >= GNUGO_HISTORY
        game.play(move)
        self.simple_ko.play(move)  # legal there too: simple ko forbids less than superko
        self.positions.add(game.board().tobytes())
        tally.moves += 1
        if move != game.pass_action:
            row, col = divmod(move, size)
            self.reference.play(size - 1 - row, col, "b" if color == BLACK else "w")
        vertex = action_to_gtp(move, size)
        ok, text = self.gnugo.ask(f"play {colour_name(color)} {vertex}")
        if not ok:
            tally.mismatches["GNU Go refused our move"] += 1
            return [f"{where}: GNU Go refused {vertex}: {text}"]
        return compare_boards(self.gnugo, game.board(), self.reference, where, tally)


def play_one_game(
    gnugo: GnuGo, board_size: int, komi: float, rng: np.random.Generator, tally: Tally
) -> tuple[GoGame, list[str]]:
    """Play and check one game; return it and its mismatches (empty when all agree)."""
    mirror = Mirror(gnugo, board_size, komi)
    game = mirror.game
    problems: list[str] = []
    clean_passes = 0  # passes with no move left but own-eye fills and suicides
    while not game.is_over() and not problems:
        move = choose_move(game, rng)
        where = f"move {game.move_count + 1}"
        checks = points_to_check(game, mirror.simple_ko, move, rng)
        problems += mirror.check_legality(checks, where, tally)
        ko_banned = any(verdict in ("ko", "superko") for verdict in checks.values())
        is_pass = move == game.pass_action
        clean_passes = clean_passes + 1 if is_pass and not ko_banned else 0
        problems += mirror.play(move, where, tally)
    if not problems:
        ending = MOVE_CAP if game.consecutive_passes < 2 else KO_BAN
        ending = PLAYED_OUT if clean_passes >= 2 else ending
        problems += compare_scores(gnugo, game, mirror.reference, ending, tally)
    tally.games += 1
    return game, problems


def compare_boards(
    gnugo: GnuGo, board: np.ndarray, reference: boards.Board, where: str, tally: Tally
) -> list[str]:
    """Compare our board with GNU Go's and sgfmill's after a move."""
    tally.boards += 1
    problems = []
    for color in (BLACK, WHITE):
        if stones_from_gnugo(gnugo, color) != our_stones(board, color):
            tally.mismatches["board (GNU Go)"] += 1
            problems.append(f"{where}: {colour_name(color)} stones differ from GNU Go's")
    if not sgfmill_board_matches(reference, board):
        tally.mismatches["board (sgfmill)"] += 1
        problems.append(f"{where}: board differs from sgfmill's replay")
    return problems


def compare_scores(
    gnugo: GnuGo, game: GoGame, reference: boards.Board, ending: str, tally: Tally
) -> list[str]:
    """Compare our final score with sgfmill's area score and, if played out, GNU Go's.

    Played out means both sides passed with nothing left but filling their own eyes or
    suicide. When the last passes were forced by a ko or superko ban, GNU Go's final_score
    treats the banned capture as available and calls the stones dead, which Tromp-Taylor
    never does, so those games (and games stopped by the move cap) are only counted.
    """
    tally.endings[ending] += 1
    problems = []
    ours = game.score()
    tally.sgfmill_scores += 1
    if reference.area_score() - game.komi != ours:
        tally.mismatches["score (sgfmill)"] += 1
        problems.append(f"score {ours} but sgfmill says {reference.area_score() - game.komi}")
    if ending != PLAYED_OUT:
        return problems
    tally.gnugo_scores += 1
    theirs = parse_score(gnugo.must("final_score"))
    if theirs != ours:
        tally.mismatches["score (GNU Go, played out)"] += 1
        problems.append(f"score {format_result(ours)} but GNU Go says {theirs:+g}")
    return problems


def summary_table(tallies: dict[int, Tally], seconds: float) -> str:
    """A Markdown table of what was checked per board size and what disagreed."""
    kinds = sorted({kind for t in tallies.values() for kind in t.mismatches})
    rows = [
        ("games", lambda t: t.games),
        ("moves played and mirrored", lambda t: t.moves),
        ("boards compared (GNU Go + sgfmill)", lambda t: t.boards),
        *[(f"legality checks: {VERDICTS[v]}", lambda t, v=v: t.checks[v]) for v in VERDICTS],
        ("superko refusals GNU Go misses after move 500 (known)", lambda t: t.beyond_gnugo_memory),
        ("scores compared with sgfmill", lambda t: t.sgfmill_scores),
        *[
            (f"games ended: {e}", lambda t, e=e: t.endings[e])
            for e in (PLAYED_OUT, KO_BAN, MOVE_CAP)
        ],
        ("played-out scores compared with GNU Go", lambda t: t.gnugo_scores),
        *[(f"MISMATCH {kind}", lambda t, k=kind: t.mismatches[k]) for kind in kinds],
        ("mismatches (all kinds)", lambda t: sum(t.mismatches.values())),
    ]
    sizes = sorted(tallies)
    header = "| | " + " | ".join(f"{n}x{n}" for n in sizes) + " | total |"
    lines = [header, "|---" * (len(sizes) + 2) + "|"]
    for label, value in rows:
        counts = [value(tallies[n]) for n in sizes]
        lines.append(f"| {label} | " + " | ".join(map(str, counts)) + f" | {sum(counts)} |")
    lines.append(f"\n{sum(t.games for t in tallies.values())} games in {seconds:.1f} s")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=20, help="games in all, spread over sizes")
    parser.add_argument("--sizes", default="5,7,9", help="comma-separated board sizes")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random games")
    parser.add_argument("--komi", type=float, default=7.5, help="komi; odd games use its floor")
    parser.add_argument("--dump", type=Path, default=None, help="save mismatching games as SGF")
    parser.add_argument("--gnugo", default=os.environ.get("GNUGO", "gnugo"), help="GNU Go binary")
    parser.add_argument(
        "--write", action="store_true",
        help="put the table in BENCHMARKS.md (section go_rules_check_<sizes>)",
    )  # fmt: skip
    options = parser.parse_args(argv)
    try:
        options.sizes = [int(size) for size in options.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, got {options.sizes!r}")
    return options


def find_gnugo(name: str) -> str | None:
    """The GNU Go binary: on PATH, or Debian's /usr/games which is often not on PATH."""
    return shutil.which(name) or shutil.which(name, path="/usr/games")


def main(argv: list[str] | None = None) -> int:
    """Run the check; return the exit code (0 agree, 1 mismatches, 2 GNU Go missing)."""
    options = parse_args(argv)
    path = find_gnugo(options.gnugo)
    if path is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    tallies = {size: Tally() for size in options.sizes}
    gnugo, started = GnuGo(path), time.perf_counter()
    try:
        for index in range(options.games):
            size = options.sizes[index % len(options.sizes)]
            # An integer komi every other game, so draws are scored too.
            komi = float(np.floor(options.komi)) if index % 2 else options.komi
            rng = np.random.default_rng([options.seed, index])  # each game replays alone
            game, problems = play_one_game(gnugo, size, komi, rng, tallies[size])
            for problem in problems[:3]:
                print(f"game {index} ({size}x{size}, seed {options.seed}): {problem}")
            if problems and options.dump:
                save_sgf(options.dump / f"seed{options.seed}-game{index}.sgf", game)
    finally:
        gnugo.close()
    table = summary_table(tallies, time.perf_counter() - started)
    print(table)
    code = 1 if any(t.mismatches for t in tallies.values()) else 0
    if options.write:
        write_table(options, table, code)
    return code


def write_table(options: argparse.Namespace, table: str, code: int) -> None:
    """BENCHMARKS.md's section for these sizes: the command, what it ran on, the table."""
    import platform
    import subprocess

    import numba

    from benchmarks.sections import write_section

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=Path(__file__).parent).stdout.strip()  # fmt: skip
    version = subprocess.run([find_gnugo(options.gnugo), "--version"], capture_output=True,
                             text=True).stdout.splitlines()[0]  # fmt: skip
    sizes = ",".join(map(str, options.sizes))
    head = (
        f"`python benchmarks/go_rules_check.py --games {options.games} --sizes {sizes} "
        f"--seed {options.seed}` (exit code {code}), engine at commit {commit}, "
        f"{time.strftime('%Y-%m-%d')}, {version}, Python {platform.python_version()}, "
        f"numba {numba.__version__}, numpy {np.__version__}:"
    )
    write_section(f"go_rules_check_{sizes.replace(',', '_')}", head + "\n\n" + table)


if __name__ == "__main__":
    sys.exit(main())
