"""The batched search: sequential halving's schedule, forced wins and blocks found from a
uniform network, subtree reuse that keeps the statistics, and compaction."""

from __future__ import annotations

import numpy as np
import pytest

from agents.zero.player import as_evaluate
from agents.zero.search import BatchedSearch
from agents.zero.tree import SearchSettings, halving_table
from envs.classic.connect_four import ConnectFourPositions
from envs.classic.tictactoe import TicTacToePositions
from envs.go.game import gtp_to_action
from envs.go.kernels import GoPositions


def uniform(planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A network that knows nothing: equal priors over the legal moves, value 0."""
    logits = np.where(masks, -np.log(np.maximum(masks.sum(1, keepdims=True), 1)), -np.inf)
    return logits.astype(np.float32), np.zeros(len(planes), dtype=np.float32)


def row_after(positions, moves: list[int]) -> np.ndarray:  # noqa: ANN001
    row = positions.initial()
    for action in moves:
        positions.play(row, action)
    return row


def test_halving_table_gives_every_considered_move_its_turn() -> None:
    table = halving_table(16, 32)
    assert table[16, :16].tolist() == [0] * 16  # the first round visits all 16 once
    assert table[16, 16:24].tolist() == [1] * 8  # then the best 8 ...
    assert table[16, 24:].tolist() == [2, 2, 2, 2, 3, 3, 3, 3]  # the best 4 twice each
    assert table[4, :12].tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    assert table[1].tolist() == list(range(32))  # one move: it gets every simulation
    assert table[2, :4].tolist() == [0, 0, 1, 1]


# Tic-tac-toe cells, row-major: X has 0 and 1, O has 3 and 4; X to move wins at 2.
WIN_AT_2 = [0, 3, 1, 4]
# X at 0 and 8, O at 4 and 2: X must block at 6 (O threatens 2-4-6).
BLOCK_AT_6 = [0, 4, 8, 2]


@pytest.mark.parametrize("leaves", [1, 8])
@pytest.mark.parametrize("kind", ["gumbel", "puct"])
@pytest.mark.parametrize(("moves", "best"), [(WIN_AT_2, 2), (BLOCK_AT_6, 6)])
def test_search_finds_the_win_and_the_block(
    kind: str, moves: list[int], best: int, leaves: int
) -> None:
    positions = TicTacToePositions()
    settings = SearchSettings(kind=kind, simulations=200, considered=9, leaves=leaves)
    search = BatchedSearch(positions, uniform, settings, games=3, seed=0)
    for game in range(3):
        search.reset(game, row_after(positions, moves))
    result = search.run(np.arange(3))
    assert result.actions.tolist() == [best] * 3
    assert np.allclose(result.policy.sum(axis=1), 1.0, atol=1e-5)
    assert result.policy[0].argmax() == best


def test_connect_four_search_takes_the_column_that_wins() -> None:
    positions = ConnectFourPositions()
    # Player 0 has three in column 3 (rows from the bottom); player 1 plays elsewhere.
    row = row_after(positions, [3, 0, 3, 0, 3, 1])
    search = BatchedSearch(positions, uniform, SearchSettings("gumbel", 64, considered=7), 1)
    search.reset(0, row)
    assert search.run(np.zeros(1, np.int64)).actions[0] == 3


@pytest.mark.parametrize("leaves", [1, 4])
@pytest.mark.parametrize("kind", ["gumbel", "puct"])
def test_advance_keeps_the_subtree_and_its_statistics(kind: str, leaves: int) -> None:
    positions = TicTacToePositions()
    settings = SearchSettings(kind=kind, simulations=60, considered=9, leaves=leaves)
    search = BatchedSearch(positions, uniform, settings, games=2)
    for game in range(2):
        search.reset(game)
    result = search.run(np.arange(2), self_play=True)
    trees = search.trees
    chosen = int(result.actions[0])
    child = int(trees.children[0, 0, chosen])
    kept_visits, kept_value = int(trees.n[0, child]), float(trees.w[0, child])
    search.advance(np.arange(2), result.actions)
    assert trees.n[0, 0] == kept_visits and trees.w[0, 0] == pytest.approx(kept_value)
    np.testing.assert_array_equal(search.row(0), row_after(positions, [chosen]))
    assert (trees.n >= 0).all()
    for game in range(2):  # every node's visits = 1 + its children's, after compaction too
        for node in range(trees.num_nodes[game]):
            kids = trees.children[game, node]
            below = sum(int(trees.n[game, k]) for k in kids if k >= 0)
            if trees.expanded[game, node] and np.isnan(trees.terminal[game, node]):
                assert trees.n[game, node] == below + 1
            for k in kids[kids >= 0]:
                assert trees.parent[game, k] == node
    # A move the search never tried still advances (a fresh root to evaluate).
    untried = [a for a in np.flatnonzero(positions.legal_mask(search.row(1)))
               if trees.children[1, 0, a] < 0]  # fmt: skip
    if untried:
        search.advance(np.array([1]), np.array([untried[0]]))
        assert trees.num_nodes[1] == 1 and not trees.expanded[1, 0]


def test_illegal_advance_is_refused_with_the_reason() -> None:
    positions = TicTacToePositions()
    search = BatchedSearch(positions, uniform, SearchSettings(simulations=8), games=1)
    search.reset(0, row_after(positions, [4]))
    with pytest.raises(ValueError, match="occupied"):
        search.advance(np.zeros(1, np.int64), np.array([4]))


def test_self_play_gumbel_noise_varies_the_moves_and_play_does_not() -> None:
    positions = TicTacToePositions()
    settings = SearchSettings("gumbel", simulations=8, considered=9)
    search = BatchedSearch(positions, uniform, settings, games=16, seed=3)
    for game in range(16):
        search.reset(game)
    assert len(set(search.run(np.arange(16), self_play=True).actions.tolist())) > 2
    for game in range(16):
        search.reset(game)
    assert len(set(search.run(np.arange(16), self_play=False).actions.tolist())) == 1


def material(planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Uniform priors; value = the stone balance of the player to move (planes 0 and 1)."""
    logits, _ = uniform(planes, masks)
    balance = planes[:, 0].sum((1, 2)) - planes[:, 1].sum((1, 2))
    return logits, np.tanh(balance / 3).astype(np.float32)


def go_row(moves: list[str]) -> tuple[GoPositions, np.ndarray]:
    positions = GoPositions(7, komi=0.5)
    return positions, row_after(positions, [gtp_to_action(m, 7) for m in moves])


@pytest.mark.parametrize("kind", ["gumbel", "puct"])
def test_go_search_captures_the_group_in_atari(kind: str) -> None:
    # White's C4 D4 are in atari at E4; taking them is worth four stones of balance.
    positions, row = go_row(["C5", "C4", "D5", "D4", "B4", "A1", "C3", "A2", "D3", "A3"])
    search = BatchedSearch(positions, material, SearchSettings(kind, 400, considered=50), 1)
    search.reset(0, row)
    before = row.copy()
    assert search.run(np.zeros(1, np.int64)).actions[0] == gtp_to_action("E4", 7)
    np.testing.assert_array_equal(search.row(0), before)  # the root position is untouched


def test_prior_mix_blends_a_uniform_prior_into_the_network_prior() -> None:
    def misled(planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        priors = np.where(masks, 1e-6, 0.0)  # all faith in the lowest legal square
        priors[np.arange(len(masks)), masks.argmax(1)] = 1.0
        return priors / priors.sum(1, keepdims=True), np.zeros(len(masks))

    positions = TicTacToePositions()
    masks = positions.legal_mask(row_after(positions, [0]))[None]
    planes = np.zeros((1, *positions.obs_shape), dtype=np.float32)
    full, _ = as_evaluate(misled, prior_mix=1.0)(planes, masks)
    none, _ = as_evaluate(misled, prior_mix=0.0)(planes, masks)
    half, _ = as_evaluate(misled, prior_mix=0.5)(planes, masks)
    np.testing.assert_allclose(np.exp(full[0, masks[0]]), 1 / 8, rtol=1e-6)
    assert np.exp(none[0, 1]) > np.exp(half[0, 1]) > 1 / 8
    assert np.isneginf(full[0, 0])  # the occupied square stays impossible


def loves_pass(planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A network sure that passing is best (as one that never met a player who plays on)."""
    priors = np.where(masks, 1e-3, 0.0)
    priors[:, -1] = 1.0
    return priors / priors.sum(1, keepdims=True), np.zeros(len(planes), dtype=np.float32)


def drawn_row(drawing: str, to_play: int) -> tuple[GoPositions, np.ndarray]:
    from envs.go.game import GoGame

    game = GoGame.from_ascii(drawing, to_play=to_play)
    positions = GoPositions(game.board_size, komi=0.5)
    row = positions.initial()
    row[: positions.engine_size] = game.state
    return positions, row


def test_go_player_does_not_pass_first_while_a_move_outside_its_eyes_remains() -> None:
    from agents.zero.player import SearchPlayer
    from envs.go.game import BLACK, WHITE

    positions = GoPositions(5, komi=0.5)
    row = positions.initial()
    assert np.flatnonzero(positions.first_pass_forbidden(row)).tolist() == [25]
    positions.play(row, 25)  # Black passes: White may pass too, ending the game
    assert positions.first_pass_forbidden(row) is None
    dame = """
        X X X X X
        X . X . X
        X X X X X
        . . . . .
        O O O O O"""
    assert GoPositions.first_pass_forbidden(*drawn_row(dame, BLACK)) is not None
    eyes_only = """
        X X X X X
        X . X . X
        X X X X X
        X X X X X
        X X X . X"""
    for colour in (BLACK, WHITE):  # Black: own eyes only; White: suicides only
        assert GoPositions.first_pass_forbidden(*drawn_row(eyes_only, colour)) is None
    # From a game lost to GNU Go level 10: White's only legal moves are A5, G4 and G2, all
    # "eyes", but A7-A6 is in atari at A5 (a false eye): passing lets Black capture.
    false_eye = """
        O X X . X X O
        O X X X . X O
        . O X X X O O
        O O O O O O .
        O X X O X O O
        X X . X X O .
        . X X . X X O"""
    forbidden = GoPositions.first_pass_forbidden(*drawn_row(false_eye, WHITE))
    assert np.flatnonzero(forbidden).tolist() == [49]
    settings = SearchSettings(kind="gumbel", simulations=32, considered=8)
    for forbid, passes in ((None, True), (positions.first_pass_forbidden, False)):
        player = SearchPlayer(positions, as_evaluate(loves_pass), settings, forbid=forbid)
        assert (player(None, positions.legal_mask(positions.initial())) == 25) is passes


SETTLED = """
    . X . X X O .
    X X X X X O O
    . X . X X O .
    X X X X X O O
    . X . X X O .
    X X X X X O O
    . X . X X O ."""


@pytest.mark.parametrize("kind", ["gumbel", "puct"])
def test_playouts_mixed_into_the_leaf_values_are_what_the_search_backs_up(kind: str) -> None:
    """A network that knows nothing (value 0 everywhere) on a settled board Black wins by
    20.5 points: the search's root value is 0; with playouts as the leaves' values (weight 1)
    it is what every playout says, 0.5 + 0.5 * tanh(20.5 / 10) for Black."""
    from agents.search.playouts import PlayoutValues
    from envs.go.game import BLACK

    positions, row = drawn_row(SETTLED, BLACK)
    playouts = PlayoutValues(positions.engine_size, positions.game.zobrist, positions.komi, 1.0)
    mixed = []

    def mix(states, games, nodes, values):  # noqa: ANN001, ANN202
        assert not values.any()  # the network's values, before the mix
        mixed.append(len(games))
        return playouts(states, games, nodes, values)

    settings = SearchSettings(kind, 64, considered=16)
    for with_mix, expected in ((False, 0.0), (True, 0.5 + 0.5 * np.tanh(2.05))):
        search = BatchedSearch(positions, uniform, settings, 1, mix=mix if with_mix else None)
        search.reset(0, row)
        result = search.run(np.zeros(1, np.int64))
        assert result.root_values[0] == pytest.approx(expected, abs=0.02)
    assert sum(mixed) == result.evaluations - 1  # every leaf, not the root


@pytest.mark.parametrize("opening_moves", [0, 2])
def test_self_play_games_begin_with_up_to_that_many_random_moves(opening_moves: int) -> None:
    from agents.zero.selfplay import SelfPlay
    from envs.go.kernels import MOVES

    positions = GoPositions(5, komi=0.5)
    selfplay = SelfPlay(positions, uniform, SearchSettings("gumbel", 4, considered=4), 64, 4, 4,
                        1.0, seed=0, opening_moves=opening_moves)  # fmt: skip
    played = [int(selfplay.search.row(game)[MOVES]) for game in range(64)]
    assert set(played) == set(range(opening_moves + 1)), played
    assert len({selfplay.search.row(game).tobytes() for game in range(64)}) > 10 * opening_moves
    moves, finished = selfplay.step()  # and the games go on from there, recording as usual
    assert moves == 64 and finished == []
    assert all(len(records) == 1 for records in selfplay.records)


@pytest.mark.parametrize("first_pass", [True, False])
def test_self_play_without_first_passes_plays_on(first_pass: bool) -> None:
    """zero.first_pass=false: a network that loves passing still plays a move in every game
    until the opponent passes (here: the first move of 16 games)."""
    from agents.zero.selfplay import SelfPlay
    from envs.go.kernels import PASSES

    positions = GoPositions(5, komi=-0.5)  # two passes now win for Black: passing looks good
    forbid = None if first_pass else positions.first_pass_forbidden
    selfplay = SelfPlay(positions, as_evaluate(loves_pass), SearchSettings("gumbel", 8, considered=4),
                        16, 8, 8, 1.0, seed=0, forbid=forbid)  # fmt: skip
    selfplay.step()
    passed = [int(selfplay.search.row(game)[PASSES]) for game in range(16)]
    assert (sum(passed) > 8) is first_pass, passed


@pytest.mark.parametrize("value_q", [0.0, 0.5])
def test_value_targets_mix_the_search_value_into_the_result(value_q: float) -> None:
    """zero.value_q: each recorded value is (1 - q) * the game's result + q * the search's
    root value, both for the player to move; the winner's last position (a win in one, which
    the search finds) has a positive root value, so with q > 0 its target sits above 1 - q."""
    from agents.zero.selfplay import SelfPlay

    positions = TicTacToePositions()
    selfplay = SelfPlay(positions, uniform, SearchSettings("gumbel", 32, considered=9), 8, 32, 32,
                        1.0, seed=0, value_q=value_q)  # fmt: skip
    finished = []
    while not finished:
        finished = selfplay.step()[1]
    decisive = 0
    for samples in finished:
        last = float(samples.value[-1])  # the position before the game's last move
        if value_q == 0:
            assert set(np.abs(samples.value).tolist()) <= {0.0, 1.0}
        elif len(samples.value) < 9:  # every move recorded: won before the board filled
            assert 1 - value_q < last <= 1.0, samples.value
            decisive += 1
        assert np.all(np.abs(samples.value) <= 1.0)
    assert value_q == 0 or decisive > 0
