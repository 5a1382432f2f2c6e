"""The GTP engine as a controller (GoGui, KGS, GNU Go's twogtp) would drive it."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from envs.go.game import BLACK, WHITE, GoGame, gtp_to_action
from envs.go.gtp import RESIGN, GtpEngine, random_non_eye_move

REQUIRED = [
    *("protocol_version", "name", "version", "known_command", "list_commands", "quit"),
    *("boardsize", "clear_board", "komi", "play", "genmove", "undo", "showboard"),
    *("final_score", "loadsgf", "printsgf"),
]


def ask(engine: GtpEngine, line: str) -> str | None:
    """Send one line and return the response."""
    return engine.handle(line)


def ok(engine: GtpEngine, line: str) -> str:
    """Send a command that must succeed; return the response text after '= '."""
    response = engine.handle(line)
    assert response is not None and response.startswith("="), f"{line!r} -> {response!r}"
    assert response.endswith("\n\n")
    return response[1:].strip()


def board_rows(engine: GtpEngine) -> list[str]:
    """The showboard drawing's point rows, e.g. ['. . X . .', ...] top row first."""
    lines = ok(engine, "showboard").splitlines()[1:-1]
    return [" ".join(line.split()[1:-1]) for line in lines]


@pytest.fixture
def engine() -> GtpEngine:
    """A 5x5 engine with komi 0 and a fixed seed."""
    engine = GtpEngine(board_size=5, komi=0.0, seed=0, log=io.StringIO())
    ok(engine, "komi 0")
    return engine


def test_ids_are_echoed_and_comments_blank_lines_crlf_and_control_chars_handled(engine):
    assert ask(engine, "12 protocol_version\r\n") == "=12 2\n\n"
    assert ask(engine, "# just a comment\n") is None
    assert ask(engine, "   \r\n") is None
    assert ask(engine, "name # trailing comment") == "= learnloop\n\n"
    assert ask(engine, "na\x01me\x7f") == "= learnloop\n\n"
    assert ask(engine, "7\tknown_command\tplay") == "=7 true\n\n"
    assert ask(engine, "known_command fly") == "= false\n\n"
    assert ask(engine, "3 clear_board") == "=3\n\n"


def test_every_required_command_is_listed_and_known(engine):
    listed = ok(engine, "list_commands").splitlines()
    for command in REQUIRED:
        assert command in listed
        assert ok(engine, f"known_command {command}") == "true"


def test_unknown_command_fails_with_its_id(engine):
    assert ask(engine, "5 fly_to_moon") == "?5 unknown command\n\n"


@pytest.mark.parametrize(
    "line, message",
    [
        ("play b", "syntax error"),
        ("play b C3 D4", "syntax error"),
        ("play purple C3", "invalid color"),
        ("play b Z9", "invalid coordinate"),
        ("play b I3", "invalid coordinate"),  # GTP columns skip I
        ("play b F1", "invalid coordinate"),  # off a 5x5 board
        ("genmove", "syntax error"),
        ("genmove x", "invalid color"),
        ("boardsize 4", "unacceptable size"),
        ("boardsize 20", "unacceptable size"),
        ("boardsize nine", "not an integer"),
        ("komi lots", "not a float"),
        ("known_command", "syntax error"),
        ("loadsgf", "syntax error"),
    ],
)
def test_bad_arguments_fail_and_leave_the_engine_working(engine, line, message):
    ok(engine, "play b C3")
    response = ask(engine, f"9 {line}")
    assert response.startswith("?9 ") and message in response and response.endswith("\n\n")
    assert board_rows(engine)[2] == ". . X . ."  # the position is untouched
    assert ok(engine, "play w D4") == ""


def test_boardsize_changes_the_board(engine):
    ok(engine, "boardsize 9")
    assert len(board_rows(engine)) == 9
    ok(engine, "play b J9")
    assert board_rows(engine)[0].endswith("X")


def test_occupied_and_suicide_moves_are_refused(engine):
    ok(engine, "play b C3")
    assert ask(engine, "3 play w C3") == "?3 illegal move\n\n"
    ok(engine, "play b A2")
    ok(engine, "play b B1")
    assert ask(engine, "play w A1") == "? illegal move\n\n"  # no liberty, captures nothing
    assert board_rows(engine)[4] == ". X . . ."


def test_ko_recapture_is_illegal(engine):
    # Black D3 captures the white stone at C3; White may not retake at C3 at once.
    for move in ("b C4", "w D4", "b B3", "w E3", "b C2", "w D2", "w C3", "b D3"):
        ok(engine, f"play {move}")
    assert board_rows(engine)[2] == ". X . X O"
    assert ask(engine, "play w C3") == "? illegal move\n\n"
    ok(engine, "play w A5")  # a ko threat elsewhere, then the retake is legal
    ok(engine, "play b A4")
    assert ok(engine, "play w C3") == ""


def test_play_undo_and_showboard(engine):
    ok(engine, "play b C3")
    ok(engine, "play w D3")
    assert board_rows(engine)[2] == ". . X O ."
    ok(engine, "undo")
    assert board_rows(engine)[2] == ". . X . ."
    ok(engine, "undo")
    assert board_rows(engine)[2] == ". . . . ."
    assert ask(engine, "undo") == "? cannot undo\n\n"


def test_one_colour_may_move_twice_and_play_goes_on_after_two_passes(engine):
    ok(engine, "play b C3")
    ok(engine, "play b D3")
    assert board_rows(engine)[2] == ". . X X ."
    ok(engine, "play w pass")
    ok(engine, "play b pass")
    ok(engine, "play w A1")
    assert board_rows(engine)[4] == "O . . . ."
    for _ in range(3):
        ok(engine, "undo")
    assert board_rows(engine)[4] == ". . . . ." and board_rows(engine)[2] == ". . X X ."


@pytest.mark.parametrize(
    "komi, moves, expected",
    [
        (0, [], "0"),
        (9, [], "W+9"),
        (0, ["b C3"], "B+25"),
        (24.5, ["b C3"], "B+0.5"),
        (25, ["b C3"], "0"),  # integer komi: a draw
        (0, ["b C3", "w C2"], "0"),  # the rest is dame: one stone each
        (0.5, ["b C3", "w C2"], "W+0.5"),
    ],
)
def test_final_score_is_tromp_taylor(engine, komi, moves, expected):
    ok(engine, f"komi {komi}")
    for move in moves:
        ok(engine, f"play {move}")
    assert ok(engine, "final_score") == expected


def test_genmove_plays_what_the_policy_returns_for_the_colour_asked():
    seen = []

    def policy(game: GoGame) -> int:
        seen.append(game.to_play)
        return gtp_to_action("C3", game.board_size)

    engine = GtpEngine(policy, board_size=5)
    assert ask(engine, "4 genmove w") == "=4 C3\n\n"
    assert seen == [WHITE]  # White asked first: the policy saw White to move
    assert board_rows(engine)[2] == ". . O . ."
    assert ok(engine, "kgs-genmove_cleanup b") == "pass"  # C3 is taken now: illegal -> pass


def test_reg_genmove_does_not_play():
    engine = GtpEngine(lambda game: 0, board_size=5)
    assert ok(engine, "reg_genmove b") == "A5"
    assert board_rows(engine)[0] == ". . . . ."


def test_policy_resigns_with_resign_and_illegal_choices_become_passes():
    log = io.StringIO()
    engine = GtpEngine(lambda game: RESIGN, board_size=5, log=log)
    assert ok(engine, "genmove b") == "resign"
    engine = GtpEngine(lambda game: 999, board_size=5, log=log)
    assert ok(engine, "genmove b") == "pass"
    assert "illegal action 999" in log.getvalue()


def test_a_failing_policy_gives_a_failure_response_not_a_crash():
    def broken(game: GoGame) -> int:
        raise RuntimeError("network exploded")

    engine = GtpEngine(broken, board_size=5, log=io.StringIO())
    response = ask(engine, "2 genmove b")
    assert response.startswith("?2 ") and "network exploded" in response
    assert ok(engine, "name") == "learnloop"


def test_random_engine_says_so_once_and_plays_a_game_to_the_end():
    log = io.StringIO()
    engine = GtpEngine(board_size=5, seed=3, log=log)
    moves = []
    for turn in range(200):
        moves.append(ok(engine, f"genmove {'bw'[turn % 2]}"))
        if moves[-2:] == ["pass", "pass"]:
            break
    assert moves[-2:] == ["pass", "pass"], "random games must end"
    assert log.getvalue().count("random") == 1


def test_random_moves_never_fill_own_eyes():
    game = GoGame.from_ascii(
        """
        . X . X .
        X X X X X
        O O O O O
        O . O . O
        O O O O O
        """,
        to_play=BLACK,
    )
    rng = np.random.default_rng(0)
    # Black's only non-eye moves would be suicide; White's only empty points are its own eyes.
    assert {random_non_eye_move(game, rng) for _ in range(20)} == {game.pass_action}
    game.set_position(game.board(), WHITE)
    assert {random_non_eye_move(game, rng) for _ in range(20)} == {game.pass_action}


def test_printsgf_and_loadsgf_round_trip_through_a_file(engine, tmp_path: Path):
    ok(engine, "komi 6.5")
    for move in ("b C3", "w D3", "b B2", "b D2", "w pass", "b E3", "w B3", "b D4"):
        ok(engine, f"play {move}")  # black captures D3 and moves twice in a row
    before, score = board_rows(engine), ok(engine, "final_score")
    path = tmp_path / "game.sgf"
    ok(engine, f"printsgf {path}")
    text = ok(engine, "printsgf")
    assert text.startswith("(;") and "KM[6.5]" in text and ";W[]" in text
    ok(engine, "boardsize 7")
    assert ok(engine, f"loadsgf {path}") == "white"
    assert board_rows(engine) == before
    assert ok(engine, "final_score") == score
    assert ok(engine, f"loadsgf {path} 3") == "black"  # position before move 3
    assert board_rows(engine)[2] == ". . X O ."
    ok(engine, "undo")
    ok(engine, "undo")
    assert ask(engine, "undo") == "? cannot undo\n\n"


def test_loadsgf_of_a_missing_or_corrupt_file_fails_cleanly(engine, tmp_path: Path):
    assert ask(engine, f"loadsgf {tmp_path / 'nope.sgf'}").startswith("? cannot load file")
    bad = tmp_path / "bad.sgf"
    bad.write_bytes(b"(;SZ[5];B[cc];W[cc])")
    assert ask(engine, f"loadsgf {bad}").startswith("? cannot load file")
    ok(engine, "play b C3")


def test_run_serves_a_stream_until_quit():
    engine = GtpEngine(board_size=5)
    out = io.StringIO()
    engine.run(io.StringIO("1 name\n\n2 play b C3\n3 quit\n4 name\n"), out)
    assert out.getvalue() == "=1 learnloop\n\n=2\n\n=3\n\n"


# -- positional superko over a whole session, checked by a plain model of the board ----------


def _plain_group(board: list[int], start: int, n: int) -> tuple[set[int], int]:
    """The chain through ``start`` and how many liberties it has."""
    stones, liberties, todo = {start}, set(), [start]
    while todo:
        r, c = divmod(todo.pop(), n)
        for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= rr < n and 0 <= cc < n:
                q = rr * n + cc
                if board[q] == 0:
                    liberties.add(q)
                elif board[q] == board[start] and q not in stones:
                    stones.add(q)
                    todo.append(q)
    return stones, len(liberties)


def _plain_play(board: tuple[int, ...], color: int, point: int, n: int) -> tuple[int, ...] | None:
    """The board after ``color`` (1 black, 2 white) plays ``point``, or None: occupied or
    suicide. Superko is the caller's set of positions."""
    if board[point]:
        return None
    after = list(board)
    after[point] = color
    r, c = divmod(point, n)
    for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
        q = rr * n + cc
        if 0 <= rr < n and 0 <= cc < n and after[q] == 3 - color:
            stones, liberties = _plain_group(after, q, n)
            if liberties == 0:
                for s in stones:
                    after[s] = 0
    return tuple(after) if _plain_group(after, point, n)[1] else None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_long_sessions_keep_positional_superko_whatever_the_order_passes_and_undo(seed):
    n, rng = 5, np.random.default_rng(seed)
    engine = GtpEngine(board_size=n, komi=0.0, seed=seed, log=io.StringIO())
    empty = (0,) * (n * n)
    board, history = empty, []  # the plain model: the board and the positions after each move
    seen = {empty: 1}
    vertex = {p: "ABCDE"[p % n] + str(n - p // n) for p in range(n * n)}
    point = {v: p for p, v in vertex.items()}
    commands = moves = refused_for_superko = 0

    def commit(after: tuple[int, ...]) -> None:
        nonlocal board, moves
        moves += 1
        board = after
        history.append(after)
        seen[after] = seen.get(after, 0) + 1

    def ko_opening() -> None:  # Black captures at D3; White retaking at C3 repeats a position
        for move in ("b C4", "w D4", "b B3", "w E3", "b C2", "w D2", "w C3", "b D3"):
            ok(engine, f"play {move}")
            color, at = (1 if move[0] == "b" else 2), point[move[2:]]
            commit(_plain_play(board, color, at, n))

    ko_opening()

    while moves < 600:  # moves accepted (undone ones included), over ~1,000 commands
        color = int(rng.integers(1, 3))  # either colour, in or out of turn
        name = "b" if color == 1 else "w"
        roll = rng.random()
        if roll < 0.05 and history:
            ok(engine, "undo")
            undone = history.pop()
            seen[undone] -= 1
            if not seen[undone]:
                del seen[undone]
            board = history[-1] if history else empty
        elif roll < 0.12:
            ok(engine, f"play {name} pass")
            commit(board)  # a pass repeats the position, as it may
        elif roll < 0.22:
            answer = ok(engine, f"genmove {name}").upper()
            if answer == "PASS":
                commit(board)
            else:
                after = _plain_play(board, color, point[answer], n)
                assert after is not None and after not in seen, (answer, seen.get(after))
                commit(after)
        elif roll < 0.24:
            ok(engine, "clear_board")  # a new game: a new history
            board, history, seen = empty, [], {empty: 1}
            ko_opening()
        else:
            p = int(rng.integers(n * n))
            if roll < 0.4:  # look for a move that would repeat a position, and try that
                repeats = [q for q in range(n * n) if _plain_play(board, color, q, n) in seen]
                p = int(rng.choice(repeats)) if repeats else p
            after = _plain_play(board, color, p, n)
            legal = after is not None and after not in seen
            refused_for_superko += after is not None and after in seen
            response = engine.handle(f"play {name} {vertex[p]}")
            assert response.startswith("=") == legal, (vertex[p], response, commands)
            if legal:
                commit(after)
        commands += 1
        drawn = ["XO"[v - 1] if v else "." for v in board]
        expected = [" ".join(drawn[r * n : (r + 1) * n]) for r in range(n)]
        assert board_rows(engine) == expected
    assert refused_for_superko > 0  # the sessions did try to repeat positions
