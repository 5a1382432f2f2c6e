"""Monte Carlo Go with RAVE: it reads the tactics a position demands, keeps the root intact,
plays whole legal games, and beats the capture/save heuristic."""

from __future__ import annotations

import numpy as np
import pytest

from agents.baselines.go import HeuristicGoPlayer
from agents.search.playouts import SHAPE_TABLE, _answer, _neighbourhood
from agents.search.rave import RaveConfig, RaveGoPlayer
from agents.selfplay import play_match
from envs.go import env as go_env
from envs.go._kernels import POINTS, WIDTH, _grid, _point
from envs.go.game import BLACK, WHITE, GoGame, action_to_gtp, gtp_to_action


def best(game: GoGame, simulations: int = 2000, **options: object) -> int:
    player = RaveGoPlayer(game.board_size, game.komi, config=RaveConfig(simulations, **options))
    return int(np.argmax(player.visits(game)))


CAPTURE = """
 . . . . . . .
 . . X X . . .
 . X O O . . .
 . . X X . . .
 . . . . . . .
 . . . . . . .
 . . . . . . .
"""


def test_search_captures_the_group_in_atari() -> None:
    # White's six stones on row 5 have one liberty, G5: Black to move takes them.
    game = GoGame.from_ascii(
        """
        . . . . . . .
        X X X X X X .
        O O O O O O .
        X X X X X X .
        . . . . . . .
        . . . . . . .
        . . . . . . .
        """,
        to_play=BLACK,
        komi=0.5,
    )
    assert best(game) == gtp_to_action("G5", 7)


def test_search_saves_its_own_group_in_atari() -> None:
    # White's C5 D5 have one liberty, E5: White to move extends there (three liberties).
    game = GoGame.from_ascii(CAPTURE, to_play=WHITE, komi=0.5)
    assert best(game) == gtp_to_action("E5", 7)


@pytest.mark.parametrize("playouts", ["light", "tactics", "shapes"])
def test_search_leaves_the_root_untouched_and_visits_only_legal_moves(playouts: str) -> None:
    game = GoGame.from_ascii(CAPTURE, to_play=WHITE, komi=0.5)
    before = game._s.copy()
    player = RaveGoPlayer(7, 0.5, config=RaveConfig(500, playouts=playouts, threads=2))
    visits = player.visits(game)
    assert (game._s == before).all()
    assert visits.sum() == 500  # the two trees' shares add up
    assert (visits[~game.legal_mask().astype(bool)] == 0).all()


LADDER = """
 . X . . . . .
 X O X . . . .
 X . X . . . .
 . . . . . . .
 . . . . . . .
 . . . . . . .
 . . . . . . .
"""


def answer(board: str, last: str, color: int) -> str | None:
    """The heavy playout's answer for ``color`` to the stone at ``last``."""
    game = GoGame.from_ascii(board, komi=0.5)
    s = game._s
    mark = np.zeros(s[POINTS], dtype=np.int64)
    p = _answer(s, _grid(s), game._zob, _point(s, gtp_to_action(last, 7)), color, mark, 1)
    return None if p < 0 else action_to_gtp((p // s[WIDTH] - 1) * 7 + p % s[WIDTH] - 1, 7)


def test_search_plays_a_whole_9x9_game_of_legal_moves_against_itself() -> None:
    game = GoGame(9, komi=7.5)
    player = RaveGoPlayer(9, 7.5, config=RaveConfig(200), seed=3)
    while not game.is_over():
        mask = game.legal_mask().astype(bool)
        action = player(None, mask)
        assert mask[action]
        game.play(action)
        player.observe(action)
    assert game.move_count >= 40  # the game was played out, not passed away


def test_playouts_answer_ataris_by_capturing_or_extending_to_two_liberties() -> None:
    assert answer(CAPTURE, "D5", BLACK) == "E5"  # take C5 D5
    assert answer(CAPTURE, "D5", WHITE) == "E5"  # extend: C5 D5 E5 has three liberties
    assert answer(LADDER, "B6", BLACK) == "B5"  # take B6
    assert answer(LADDER, "B6", WHITE) is None  # B5 would leave B6 B5 one liberty: no answer
    assert answer(CAPTURE, "G1", WHITE) is None  # nothing in atari there


def shape_at(board: str, vertex: str) -> bool:
    game = GoGame.from_ascii(board, komi=0.5)
    s = game._s
    return bool(
        SHAPE_TABLE[_neighbourhood(_grid(s), _point(s, gtp_to_action(vertex, 7)), s[WIDTH])]
    )


def test_playout_shapes_match_hane_and_cut_in_any_orientation_and_colour() -> None:
    hane = """
     . . . . . . .
     . . . . . . .
     . . X O X . .
     . . . . . . .
     . . . . . . .
     . . . . . . .
     . . . . . . .
    """
    assert shape_at(hane, "D4")  # under the O stone between two X: enclosing hane
    assert shape_at(hane.replace("X", "o").replace("O", "X").replace("o", "O"), "D4")
    assert not shape_at(hane, "D2")  # nothing around
    cut = """
     . . . . . . .
     . . . . . . .
     . . X O . . .
     . . O . . . .
     . . . . . . .
     . . . . . . .
     . . . . . . .
    """
    assert shape_at(cut, "D4")  # the cutting point
    rotated = """
     . . . . . . .
     . . . . . . .
     . . O . . . .
     . . X O . . .
     . . . . . . .
     . . . . . . .
     . . . . . . .
    """
    assert shape_at(rotated, "D5")
    protected = cut.replace(". . O . . . .\n     . . . . .", ". . O . O . .\n     . . . O .")
    assert not shape_at(protected, "D4")  # X O / O . O / . O . : the cut cannot live


def test_search_beats_the_heuristic() -> None:
    player = RaveGoPlayer(7, 9.0, config=RaveConfig(1000), seed=0)
    rival = HeuristicGoPlayer(7, 9.0, seed=0)
    result = play_match(lambda: go_env(board_size=7, komi=9.0), player, rival, 6, seed=5,
                        opening_moves=2)  # fmt: skip
    assert result["wins"] >= 5, result


def test_a_bad_config_is_refused() -> None:
    with pytest.raises(ValueError, match="simulations"):
        RaveGoPlayer(7, 9.0, config=RaveConfig(0))
    with pytest.raises(ValueError, match="playouts must be one of"):
        RaveGoPlayer(7, 9.0, config=RaveConfig(100, playouts="heavy"))


def test_playout_values_score_for_the_side_to_move_and_mix_with_the_network() -> None:
    """On a settled 7x7 board (Black 35 points, White 14, komi 9) every playout ends at once,
    a Black win by 12: worth 0.5 * 1 + 0.5 * tanh(12 / 10) to Black and the opposite to White;
    half of it mixed with the network's value at weight 0.5. The rows stay untouched."""
    from agents.search.playouts import PlayoutValues
    from envs.go.kernels import GoPositions
    from tests.agents.zero.test_search import SETTLED as settled

    positions = GoPositions(7, komi=9.0)
    states = np.zeros((1, 2, positions.state_size), dtype=np.int64)
    for node, colour in enumerate((BLACK, WHITE)):
        states[0, node, : positions.engine_size] = GoGame.from_ascii(settled, colour).state
    before = states.copy()
    black = 0.5 + 0.5 * np.tanh(1.2)
    for weight, network in ((1.0, 0.0), (0.5, 0.2)):
        values = PlayoutValues(positions.engine_size, positions.game.zobrist, 9.0, weight)(
            states, np.zeros(2, np.int64), np.arange(2), np.full(2, network, np.float32)
        )
        expected = (1 - weight) * network + weight * np.array([black, -black])
        np.testing.assert_allclose(values, expected, rtol=1e-5)
    np.testing.assert_array_equal(states, before)
    with pytest.raises(ValueError, match="playout weight must be in"):
        PlayoutValues(positions.engine_size, positions.game.zobrist, 9.0, 0.0)
