"""One test per rule of envs.go.game, with boards drawn in GTP coordinates (row 1 at the bottom)."""

from __future__ import annotations

import numpy as np
import pytest

from envs.go.game import BLACK, EMPTY, WHITE, GoGame, IllegalMoveError, gtp_to_action


def play(game: GoGame, *vertices: str) -> list[int]:
    """Play GTP vertices in turn; return the captures of each move."""
    return [game.play(gtp_to_action(v, game.board_size)) for v in vertices]


def at(game: GoGame, vertex: str) -> int:
    """Return the colour on a GTP vertex."""
    return int(game.board().flat[gtp_to_action(vertex, game.board_size)])


def test_single_stone_capture() -> None:
    game = GoGame.from_ascii(
        """
          A B C D E
        5 . . . . . 5
        4 . . X . . 4
        3 . X O . . 3
        2 . . X . . 2
        1 . . . . . 1
          A B C D E
        """
    )
    assert play(game, "D3") == [1]
    assert at(game, "C3") == EMPTY
    assert at(game, "D3") == BLACK


def test_multi_group_capture_on_the_edge() -> None:
    # C5 takes the last liberty of two separate white stones at once.
    game = GoGame.from_ascii(
        """
        X O . O X
        . X . X .
        . . . . .
        . . . . .
        . . . . .
        """
    )
    assert play(game, "C5") == [2]
    assert at(game, "B5") == at(game, "D5") == EMPTY
    assert int((game.board() == WHITE).sum()) == 0


def test_capture_in_the_corner_and_on_the_edge() -> None:
    game = GoGame.from_ascii(
        """
        O X O X .
        . . . . .
        . . . . .
        . . . . .
        . . . . .
        """
    )
    assert play(game, "A4") == [1]  # corner: A5 had only A4
    assert at(game, "A5") == EMPTY
    play(game, "pass")
    assert play(game, "C4") == [1]  # edge: C5 had only C4
    assert at(game, "C5") == EMPTY


def test_suicide_is_illegal() -> None:
    game = GoGame.from_ascii(
        """
        . X . . .
        X X . . .
        . . . . .
        . . . . .
        . . . . .
        """,
        to_play=WHITE,
    )
    a5 = gtp_to_action("A5", 5)
    assert game.illegal_reason(a5) == "suicide"
    assert not game.legal_mask()[a5]
    with pytest.raises(IllegalMoveError, match="illegal move A5: suicide"):
        game.play(a5)
    assert at(game, "A5") == EMPTY and game.to_play == WHITE  # nothing changed


def test_multi_stone_suicide_is_illegal_but_capturing_is_not() -> None:
    game = GoGame.from_ascii(
        """
        . O X . .
        O O X . .
        X X X . .
        . . . . .
        . . . . .
        """,
        to_play=WHITE,
    )
    assert game.illegal_reason(gtp_to_action("A5", 5)) == "suicide"
    game.play(game.pass_action)
    assert play(game, "A5") == [3]  # the same point is a capture for Black


def test_snapback() -> None:
    game = GoGame.from_ascii(
        """
        . . . . .
        X . . . .
        O X . . .
        . O X . .
        . O X . .
        """
    )
    assert play(game, "A1") == [0]  # throw-in: self-atari
    assert play(game, "A2") == [1]  # White takes it ...
    assert play(game, "A1") == [4]  # ... and Black takes four back at once
    for vertex in ("A3", "A2", "B2", "B1"):
        assert at(game, vertex) == EMPTY


KO = """
. . . . .
. X O . .
X O . O .
. X O . .
. . . . .
"""


@pytest.mark.parametrize(("superko", "reason"), [(True, "superko"), (False, "ko")])
def test_simple_ko_forbids_only_the_immediate_recapture(superko: bool, reason: str) -> None:
    game = GoGame.from_ascii(KO, superko=superko)
    assert play(game, "C3") == [1]
    b3 = gtp_to_action("B3", 5)
    assert game.illegal_reason(b3) == reason
    with pytest.raises(IllegalMoveError, match=f"illegal move B3: {reason}"):
        game.play(b3)
    play(game, "E1", "E5")  # ko threats elsewhere
    assert play(game, "B3") == [1]


# Three kos: Black can take at C8 and C4, White at G8. Taking them in turn
# (C8, G8, C4, B8, H8, B4) returns to this position after six moves, none of which
# is an immediate recapture, so simple ko never stops the cycle.
TRIPLE_KO = """
   A B C D E F G H J
 9 . X O . . . X O . 9
 8 X O . O . X . X O 8
 7 . X O . . . X O . 7
 6 . . . . . . . . . 6
 5 . X O . . . . . . 5
 4 X O . O . . . . . 4
 3 . X O . . . . . . 3
 2 . . . . . . . . . 2
 1 . . . . . . . . . 1
   A B C D E F G H J
"""


def test_positional_superko_stops_a_triple_ko_cycle() -> None:
    game = GoGame.from_ascii(TRIPLE_KO)
    start = game.board()
    assert play(game, "C8", "G8", "C4", "B8", "H8") == [1] * 5
    b4 = gtp_to_action("B4", 9)
    assert game.illegal_reason(b4) == "superko"
    with pytest.raises(IllegalMoveError, match="B4: superko"):
        game.play(b4)
    # Under simple ko the same move is legal and the whole board repeats.
    simple = GoGame.from_ascii(TRIPLE_KO, superko=False)
    assert play(simple, "C8", "G8", "C4", "B8", "H8", "B4") == [1] * 6
    assert np.array_equal(simple.board(), start)


def test_undo_restores_board_turn_and_superko_history() -> None:
    game = GoGame.from_ascii(TRIPLE_KO)
    before = (game.board(), game.legal_mask())
    play(game, "C8", "G8", "C4", "B8", "H8")
    game.undo()
    game.undo()
    assert game.to_play == WHITE and game.move_count == 3
    play(game, "B8", "H8")
    assert game.illegal_reason(gtp_to_action("B4", 9)) == "superko"
    for _ in range(5):
        game.undo()
    assert np.array_equal(game.board(), before[0])
    assert np.array_equal(game.legal_mask(), before[1])
    with pytest.raises(ValueError, match="no move to undo"):
        game.undo()


# Black C7-C5-D5 and White E7-E5 share their only liberties D7 and D6: whoever fills
# one is captured, so both live in seki. The two outer groups each have two eyes.
SEKI = """
   A B C D E F G
 7 . O X . O X . 7
 6 O O X . O X X 6
 5 . O X X O X . 5
 4 O O O O X X X 4
 3 O O O O X X X 3
 2 . . . . . . . 2
 1 . . . . . . . 1
   A B C D E F G
"""


def test_seki_and_dame_count_for_nobody() -> None:
    game = GoGame.from_ascii(SEKI, komi=0)
    # Black: 14 stones + eyes G7, G5. White: 15 stones + eyes A7, A5. D7, D6 (seki)
    # and rows 1-2 (dame) touch both colours.
    assert game.score() == 16 - 17
    filled = game.copy()
    play(filled, "D7")
    assert play(filled, "D6") == [5]  # Black filled a shared liberty and died
    game.play(game.pass_action)
    assert play(game, "D7", "D6") == [0, 4]  # and so does White


def test_two_passes_end_the_game() -> None:
    game = GoGame(5)
    play(game, "pass", "C3", "pass")
    assert not game.is_over() and game.consecutive_passes == 1
    play(game, "pass")
    assert game.is_over()
    assert not game.legal_mask().any()
    assert game.illegal_reason(game.pass_action) == "game over"
    with pytest.raises(IllegalMoveError, match="game over"):
        game.play(game.pass_action)


def test_move_cap_ends_the_game() -> None:
    assert GoGame(7).max_moves == 98
    game = GoGame(5, max_moves=3)
    play(game, "A1", "B1", "C1")
    assert game.is_over() and game.move_count == 3


def test_integer_komi_allows_a_draw() -> None:
    halves = """
    X X . O O
    X X . O O
    X X . O O
    X X . O O
    X X . O O
    """
    assert GoGame.from_ascii(halves, komi=0).winner() == EMPTY
    assert GoGame.from_ascii(halves, komi=1).winner() == WHITE
    assert GoGame.from_ascii(halves, komi=-1).winner() == BLACK
    assert GoGame.from_ascii(halves, komi=0.5).score() == -0.5


def test_occupied_and_off_board() -> None:
    game = GoGame(5)
    play(game, "C3")
    assert game.illegal_reason(gtp_to_action("C3", 5)) == "occupied"
    assert game.illegal_reason(26) == "off board"
    assert game.illegal_reason(-1) == "off board"
    with pytest.raises(IllegalMoveError, match="26"):
        game.play(26)
