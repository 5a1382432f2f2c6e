"""SGF files that other Go programs can read, and that we read back unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sgfmill import sgf

from envs.go.game import BLACK, WHITE, GoGame, gtp_to_action
from envs.go.sgf import format_result, game_from_sgf, game_to_sgf, read_sgf, save_sgf


def play(game: GoGame, *vertices: str) -> GoGame:
    """Play GTP vertices in turn on ``game``."""
    for vertex in vertices:
        game.play(gtp_to_action(vertex, game.board_size))
    return game


def capture_game() -> GoGame:
    """A 5x5 game in which Black captures the white stone at D3, with a pass in between."""
    return play(GoGame(board_size=5, komi=6.5), "C3", "D3", "D2", "pass", "E3", "A1", "D4")


def test_round_trip_keeps_moves_passes_captures_komi_result_and_names():
    game = capture_game()
    assert game.board()[2, 3] == 0  # D3 was captured
    data = game_to_sgf(game, result="B+R", player_black="alice", player_white="bob")
    record = read_sgf(data)
    assert record.game.moves == game.moves
    assert np.array_equal(record.game.board(), game.board())
    assert record.game.komi == 6.5 and record.game.board_size == 5
    assert record.game.to_play == game.to_play
    assert (record.result, record.player_black, record.player_white) == ("B+R", "alice", "bob")


def test_other_programs_see_the_same_points_and_properties():
    data = game_to_sgf(play(GoGame(board_size=9, komi=7.0), "A1", "J9", "pass"))
    parsed = sgf.Sgf_game.from_bytes(data)
    assert parsed.get_size() == 9 and parsed.get_komi() == 7.0
    moves = [node.get_move() for node in parsed.get_main_sequence()[1:]]
    # sgfmill counts rows from the bottom: A1 is (0, 0), J9 is (8, 8).
    assert moves == [("b", (0, 0)), ("w", (8, 8)), ("b", None)]
    assert b";B[ai];W[ia];B[]" in data  # SGF letters count rows from the top


def test_a_finished_game_records_its_tromp_taylor_result():
    game = play(GoGame(board_size=5, komi=0.5), "C3", "pass", "pass")
    assert game.is_over()
    assert read_sgf(game_to_sgf(game)).result == "B+24.5"
    assert read_sgf(game_to_sgf(play(GoGame(board_size=5), "C3"))).result is None


@pytest.mark.parametrize(
    "score, text", [(3.0, "B+3"), (-0.5, "W+0.5"), (0.0, "0"), (12.5, "B+12.5"), (-7.0, "W+7")]
)
def test_format_result(score, text):
    assert format_result(score) == text


def test_setup_stones_and_player_to_move_are_read_and_written():
    data = b"(;GM[1]FF[4]SZ[7]KM[0]AB[cc][ee]AW[dd]PL[W];W[ab];B[ba])"
    game = game_from_sgf(data)
    assert game.board()[2, 2] == BLACK and game.board()[4, 4] == BLACK
    assert game.board()[3, 3] == WHITE
    assert game.board()[1, 0] == WHITE and game.board()[0, 1] == BLACK  # the two moves
    again = game_from_sgf(game_to_sgf(game))
    assert np.array_equal(again.board(), game.board())
    assert again.moves == game.moves


def test_a_white_first_setup_without_moves_keeps_white_to_move():
    game = GoGame.from_ascii(
        """
        . . . . .
        . X . . .
        . . . . .
        . . . O .
        . . . . .
        """,
        to_play=WHITE,
    )
    again = game_from_sgf(game_to_sgf(game))
    assert again.to_play == WHITE and np.array_equal(again.board(), game.board())


def test_one_colour_moving_twice_is_read():
    game = game_from_sgf(b"(;SZ[5];B[cc];B[dd];W[ee])")
    assert (game.board() != 0).sum() == 3 and game.to_play == BLACK


@pytest.mark.parametrize(
    "data, message",
    [
        (b"this is not sgf", "corrupt SGF"),
        (b"(;SZ[5];B[cc];W[cc])", "SGF move 2 is illegal"),
        (b"(;SZ[five];B[cc])", "corrupt SGF"),
        (b"(;SZ[5]KM[lots];B[cc])", "corrupt SGF"),
        (b"(;SZ[3];B[aa])", "board size 3"),
        (b"(;SZ[5];B[zz])", "corrupt SGF"),
    ],
)
def test_corrupt_or_illegal_sgf_raises_a_clear_value_error(data, message):
    with pytest.raises(ValueError, match=message):
        game_from_sgf(data)


def test_save_sgf_writes_atomically(tmp_path: Path):
    path = save_sgf(tmp_path / "games" / "g1.sgf", capture_game(), player_black="me")
    assert game_from_sgf(path.read_bytes()).moves == capture_game().moves
    assert [p.name for p in path.parent.iterdir()] == ["g1.sgf"]  # no temp file left
    save_sgf(path, GoGame(board_size=5))  # replacing an existing file
    assert game_from_sgf(path.read_bytes()).moves == []
