"""GoGame API: coordinates, drawings, sizes, copies, and a cross-check against sgfmill."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sgfmill import boards

from envs.go.game import (
    BLACK,
    WHITE,
    GoGame,
    action_to_gtp,
    gtp_to_action,
    tromp_taylor_score,
)


def test_gtp_coordinates_skip_i_and_count_rows_from_the_bottom() -> None:
    assert action_to_gtp(0, 9) == "A9"
    assert action_to_gtp(8, 9) == "J9"
    assert action_to_gtp(72, 9) == "A1"
    assert action_to_gtp(81, 9) == "pass"
    assert action_to_gtp(18, 19) == "T19"
    assert gtp_to_action("j9", 9) == 8
    assert gtp_to_action(" PASS ", 9) == 81
    assert gtp_to_action("T1", 19) == 360
    for vertex in range(26):
        assert gtp_to_action(action_to_gtp(vertex, 5), 5) == vertex


@pytest.mark.parametrize("vertex", ["I5", "K1", "A10", "A0", "", "resign", "B"])
def test_bad_vertices_raise(vertex: str) -> None:
    with pytest.raises(ValueError, match="not a vertex"):
        gtp_to_action(vertex, 9)


def test_bad_actions_raise() -> None:
    with pytest.raises(ValueError, match="outside 0..81"):
        action_to_gtp(82, 9)


@pytest.mark.parametrize("size", [4, 20, 0, 9.0, True, "9"])
def test_unsupported_board_sizes_raise(size: object) -> None:
    with pytest.raises(ValueError, match="board_size"):
        GoGame(size)  # type: ignore[arg-type]


def test_bad_komi_and_move_cap_raise() -> None:
    with pytest.raises(ValueError, match="komi"):
        GoGame(9, komi=float("nan"))
    with pytest.raises(ValueError, match="max_moves"):
        GoGame(9, max_moves=0)


def test_two_sizes_alive_in_one_process_do_not_interfere() -> None:
    small, big = GoGame(5), GoGame(19)
    rng = random.Random(0)
    moves: dict[int, list[int]] = {5: [], 19: []}
    for _ in range(30):
        for game in (small, big):
            legal = game.legal_moves()
            action = int(legal[rng.randrange(len(legal) - 1)]) if len(legal) > 1 else legal[-1]
            game.play(action)
            moves[game.board_size].append(action)
    assert small.legal_mask().shape == (26,) and big.legal_mask().shape == (362,)
    for game in (small, big):
        alone = GoGame(game.board_size)
        for action in moves[game.board_size]:
            alone.play(action)
        assert np.array_equal(alone.board(), game.board())
        assert np.array_equal(alone.legal_mask(), game.legal_mask())


def test_ascii_round_trip_with_gnugo_labels() -> None:
    shown = """
   A B C D E F G H J
 9 . . . . . . . . . 9
 8 . . X . . . . . . 8
 7 . . + . . . + . . 7     WHITE (O) has captured 0 stones
 6 . . . O . . . . . 6     BLACK (X) has captured 0 stones
 5 . . . . + . . . . 5
 4 . . . . . . . . . 4
 3 . . + . . . + . . 3
 2 . . . . . . . . . 2
 1 X . . . . . . . O 1
   A B C D E F G H J
"""
    game = GoGame.from_ascii(shown, to_play=WHITE)
    assert game.board_size == 9 and game.to_play == WHITE
    board = game.board()
    assert board[1, 2] == BLACK and board[3, 3] == WHITE
    assert board[8, 0] == BLACK and board[8, 8] == WHITE
    again = GoGame.from_ascii(game.to_ascii())
    assert np.array_equal(again.board(), board)
    assert game.to_ascii().splitlines()[1] == " 9 . . . . . . . . . 9"


def test_bad_drawings_and_positions_raise() -> None:
    with pytest.raises(ValueError, match="square board"):
        GoGame.from_ascii(". . .\n. . .\n. . .")
    with pytest.raises(ValueError, match="square board"):
        GoGame.from_ascii("\n".join([". . . . ."] * 4 + [". . . ."]))
    with pytest.raises(ValueError, match="A5 has no liberty"):
        GoGame.from_ascii("O X . . .\nX . . . .\n" + ". . . . .\n" * 3)
    with pytest.raises(ValueError, match="shape"):
        GoGame(5).set_position(np.zeros((6, 6), np.int8), BLACK)
    with pytest.raises(ValueError, match="to_play"):
        GoGame(5).set_position(np.zeros((5, 5), np.int8), 3)


def test_copy_is_independent() -> None:
    game = GoGame(5)
    game.play(12)
    twin = game.copy()
    twin.play(13)
    assert game.move_count == 1 and twin.move_count == 2
    assert game.board().flat[13] == 0 and game.moves == [12]


def test_tromp_taylor_score_is_a_free_function() -> None:
    board = np.zeros((5, 5), np.int8)
    assert tromp_taylor_score(board, 7.5) == -7.5  # empty board reaches nobody
    board[2, 2] = BLACK
    assert tromp_taylor_score(board, 0.5) == 24.5
    with pytest.raises(ValueError, match="square"):
        tromp_taylor_score(np.zeros((5, 4)), 0)


def _reference_mask(board: boards.Board, colour: str, seen: set[bytes], n: int) -> np.ndarray:
    """Legal moves by brute force: play on a copy; suicide and repeated boards are illegal."""
    mask = np.zeros(n * n + 1, bool)
    mask[n * n] = True
    for action in range(n * n):
        row, col = n - 1 - action // n, action % n  # sgfmill row 0 is the bottom
        if board.get(row, col) is not None:
            continue
        trial = board.copy()
        trial.play(row, col, colour)
        if trial.get(row, col) is None:
            continue  # suicide
        mask[action] = _key(trial, n) not in seen
    return mask


def _key(board: boards.Board, n: int) -> bytes:
    return bytes("".join(board.get(r, c) or "." for r in range(n) for c in range(n)), "ascii")


@pytest.mark.parametrize(("size", "games"), [(5, 6), (7, 2)])
def test_random_games_match_a_brute_force_reference(size: int, games: int) -> None:
    rng = random.Random(size)
    for _ in range(games):
        game = GoGame(size, komi=0.5, max_moves=3 * size * size)
        ref = boards.Board(size)
        seen = {_key(ref, size)}
        while not game.is_over():
            colour = "b" if game.to_play == BLACK else "w"
            assert np.array_equal(game.legal_mask(), _reference_mask(ref, colour, seen, size))
            legal = list(game.legal_moves())
            action = int(
                rng.choice(legal[:-1] if len(legal) > 1 and rng.random() < 0.97 else legal)
            )
            game.play(action)
            if action < size * size:
                ref.play(size - 1 - action // size, action % size, colour)
                seen.add(_key(ref, size))
        assert game.score() == ref.area_score() - 0.5


def test_the_random_opponents_pick_is_uniform_over_legal_moves() -> None:
    from collections import Counter

    from envs.go import _kernels

    game = GoGame.from_ascii(
        """
        X X . O O
        X X . O O
        X . X O .
        X X . O O
        X X . O O
        """
    )
    legal = set(np.flatnonzero(game.legal_mask()).tolist())
    assert legal == {2, 7, 11, 17, 22, 25}  # E3 is suicide for Black
    rng = np.random.default_rng(0)
    draws = Counter(_kernels.random_legal(game._s, game._zob, rng.random()) for _ in range(6000))
    assert set(draws) == legal
    assert all(900 < count < 1100 for count in draws.values())


def test_importing_the_go_envs_does_not_import_torch() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = str(Path(__file__).resolve().parents[3])
    path = os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))
    code = (
        "import sys, gymnasium, envs, envs.go.aec, envs.go.single, envs.go.vector;"
        "gymnasium.make('learnloop/Go-v0', board_size=5).reset(seed=0);"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=repo,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert result.stdout.strip() == "False"
