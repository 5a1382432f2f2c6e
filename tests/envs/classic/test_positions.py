"""The compiled classic games against PettingZoo's own envs, their batched kernels against
``play``, and their symmetries against games played with permuted moves."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pytest
from pettingzoo.classic.connect_four import connect_four as connect_four_v3
from pettingzoo.classic.tictactoe import tictactoe as tictactoe_v3

from envs.classic.connect_four import ConnectFourPositions
from envs.classic.tictactoe import TicTacToePositions

# ``pettingzoo.classic.tictactoe_v3.env`` and ``connect_four_v3.env`` are these functions; the
# ``*_v3`` modules add only a DeprecationWarning.

GAMES = {
    "tictactoe": (TicTacToePositions, tictactoe_v3.env),
    "connect_four": (ConnectFourPositions, connect_four_v3.env),
}
Positions = TicTacToePositions | ConnectFourPositions


@pytest.fixture(params=sorted(GAMES))
def name(request: pytest.FixtureRequest) -> str:
    return request.param


def planes(positions: Positions, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``observe`` of one row: its (C, H, W) planes and its legal mask."""
    obs = np.full((1, *positions.obs_shape), -1.0, dtype=np.float32)
    masks = np.ones((1, positions.num_actions), dtype=bool)
    index = np.zeros(1, dtype=np.int64)
    positions.observe(row[None, None], index, index, obs, masks)
    return obs[0], masks[0]


def transform(planes: np.ndarray, code: int) -> np.ndarray:
    out = np.rot90(planes, code & 3, axes=(-2, -1))
    return np.flip(out, axis=-1) if code & 4 else out


def lockstep(name: str, choose: Callable[[np.ndarray], int]) -> np.ndarray:
    """Play one game on PettingZoo's env and on a row side by side, asserting that they agree
    at every step; ``choose(mask)`` picks the moves. Returns the final row."""
    positions, env = GAMES[name][0](), GAMES[name][1]()
    env.reset()
    agents = env.possible_agents
    row = positions.initial()
    while True:
        observation, _, done, truncated, _ = env.last()
        obs, mask = planes(positions, row)
        assert obs.dtype == np.float32 and mask.dtype == bool and not truncated
        assert positions.to_play(row) == agents.index(env.agent_selection)
        np.testing.assert_array_equal(obs, np.moveaxis(observation["observation"], -1, 0))
        np.testing.assert_array_equal(mask, positions.legal_mask(row))
        assert done == (not np.isnan(positions.terminal_value(row)))
        if done:
            break  # PettingZoo still lists the empty cells here; the rows list none
        np.testing.assert_array_equal(mask, observation["action_mask"].astype(bool))
        action = choose(mask)
        env.step(action)
        positions.play(row, action)
    assert not mask.any()
    value = positions.terminal_value(row)
    mover = env.agent_selection
    other = agents[1 - agents.index(mover)]
    assert (env.rewards[mover], env.rewards[other]) == (value, -value)
    assert env.terminations[mover] and env.terminations[other]
    return row


def scripted(moves: Iterable[int]) -> Callable[[np.ndarray], int]:
    it = iter(moves)
    return lambda mask: next(it)


def test_declared_shapes(name: str) -> None:
    positions = GAMES[name][0]()
    row = positions.initial()
    assert row.shape == (positions.state_size,) and row.dtype == np.int64
    assert positions.obs_shape == (2, *positions.board_shape)
    assert positions.legal_mask(row).shape == (positions.num_actions,)
    assert positions.to_play(row) == 0 and np.isnan(positions.terminal_value(row))
    margin, ownership = positions.outcome_targets(row)
    assert margin == 0.0 and not positions.has_ownership
    assert ownership.shape == positions.board_shape and ownership.dtype == np.float32
    for code in range(8):
        if code in positions.symmetry_codes:
            perm = positions.action_permutation(code)
            assert sorted(perm.tolist()) == list(range(positions.num_actions))
        else:
            with pytest.raises(ValueError, match=f"no symmetry code {code}"):
                positions.action_permutation(code)


@pytest.mark.parametrize("seed", range(3))
def test_random_games_match_pettingzoo(name: str, seed: int) -> None:
    positions, rng = GAMES[name][0](), np.random.default_rng(seed)
    first_player_results = set()
    for _ in range(100):
        row = lockstep(name, lambda mask: int(rng.choice(np.flatnonzero(mask))))
        sign = 1 - 2 * positions.to_play(row)
        first_player_results.add(positions.terminal_value(row) * sign)
    assert first_player_results >= {1.0, -1.0}


# Per game: the moves to two starting positions (game 1 has a winning move among its first
# four legal ones, so expand meets a terminal child).
SETUPS = {"tictactoe": ([4, 0, 8], [0, 3, 1, 4]), "connect_four": ([3, 3, 2], [0, 1] * 3)}


def test_expand_matches_play_and_observe(name: str) -> None:
    positions = GAMES[name][0]()
    states = np.zeros((2, 5, positions.state_size), dtype=np.int64)
    for g, moves in enumerate(SETUPS[name]):
        states[g, 0] = positions.initial()
        for a in moves:
            positions.play(states[g, 0], a)
    states[:, 1:] = -7  # children get overwritten
    legal = [np.flatnonzero(positions.legal_mask(states[g, 0]))[:4] for g in range(2)]
    games = np.array([0, 1] * 4, dtype=np.int64)
    parents = np.zeros(8, dtype=np.int64)
    children = np.repeat(np.arange(1, 5), 2)
    actions = np.array([legal[g][k] for k in range(4) for g in range(2)], dtype=np.int64)
    before = states.copy()
    obs = np.full((8, *positions.obs_shape), -1.0, dtype=np.float32)
    masks = np.ones((8, positions.num_actions), dtype=bool)
    terminal = np.full(8, 5.0)
    positions.expand(states, games, parents, children, actions, obs, masks, terminal)
    np.testing.assert_array_equal(states[:, 0], before[:, 0])
    for i, (g, child, a) in enumerate(zip(games, children, actions, strict=True)):
        expected = before[g, 0].copy()
        positions.play(expected, int(a))
        np.testing.assert_array_equal(states[g, child], expected)
        want_obs, want_mask = planes(positions, expected)
        np.testing.assert_array_equal(obs[i], want_obs)
        np.testing.assert_array_equal(masks[i], want_mask)
        np.testing.assert_array_equal(terminal[i], positions.terminal_value(expected))
    assert np.isnan(terminal).sum() == 7 and -1.0 in terminal
    again_obs, again_masks = np.zeros_like(obs), np.zeros_like(masks)
    positions.observe(states, games, children, again_obs, again_masks)
    np.testing.assert_array_equal(again_obs, obs)
    np.testing.assert_array_equal(again_masks, masks)
    # An illegal action in expand is an error naming the item and the reason.
    over = int(children[np.flatnonzero(terminal == -1.0)[0]])  # game 1's winning child
    one = np.ones(1, dtype=np.int64)
    with pytest.raises(ValueError, match=rf"item 0 \(game 1, node {over}\).*game is over"):
        positions.expand(states, one, one * over, one * 4, one * 0, obs, masks, terminal)


def test_symmetries_commute_with_play(name: str) -> None:
    positions = GAMES[name][0]()
    rng = np.random.default_rng(7)
    for code in positions.symmetry_codes:
        perm = positions.action_permutation(code)
        for _ in range(30):
            row, moved = positions.initial(), positions.initial()
            while True:
                obs, mask = planes(positions, row)
                moved_obs, moved_mask = planes(positions, moved)
                np.testing.assert_array_equal(transform(obs, code), moved_obs)
                permuted = np.zeros_like(mask)
                permuted[perm] = mask
                np.testing.assert_array_equal(permuted, moved_mask)
                np.testing.assert_array_equal(
                    positions.terminal_value(row), positions.terminal_value(moved)
                )
                if not mask.any():
                    break
                action = int(rng.choice(np.flatnonzero(mask)))
                positions.play(row, action)
                positions.play(moved, int(perm[action]))


ILLEGAL = [
    ("tictactoe", [4], 4, r"action 4 is illegal: cell \(1, 1\) is occupied"),
    ("tictactoe", [], 9, r"action 9 is illegal: is out of range 0\.\.8"),
    ("tictactoe", [], -1, r"action -1 is illegal: is out of range"),
    ("tictactoe", [0, 3, 1, 4, 2], 5, r"action 5 is illegal: the game is over"),
    ("connect_four", [2] * 6, 2, r"action 2 is illegal: the column is full"),
    ("connect_four", [], 7, r"action 7 is illegal: is out of range 0\.\.6"),
    ("connect_four", [0, 1] * 3 + [0], 4, r"action 4 is illegal: the game is over"),
]


@pytest.mark.parametrize(("game", "moves", "action", "message"), ILLEGAL)
def test_illegal_moves_raise(game: str, moves: list[int], action: int, message: str) -> None:
    positions = GAMES[game][0]()
    row = positions.initial()
    for a in moves:
        positions.play(row, a)
    before = row.copy()
    with pytest.raises(ValueError, match=message):
        positions.play(row, action)
    np.testing.assert_array_equal(row, before)


@pytest.mark.parametrize(
    ("game", "moves", "to_play", "value"),
    [
        ("tictactoe", [2, 0, 4, 1, 6], 1, -1.0),  # X: 2, 4, 6
        ("tictactoe", [1, 0, 2, 4, 3, 8], 0, -1.0),  # O: 0, 4, 8
        ("tictactoe", [0, 1, 2, 4, 3, 5, 7, 6, 8], 1, 0.0),  # full board, no line
        ("connect_four", [0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3], 1, -1.0),  # player_0: / diagonal
        ("connect_four", [6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3], 1, -1.0),  # player_0: \ diagonal
        (
            "connect_four",
            [5, 5, 5, 0, 5, 4, 4, 6, 6, 3, 5, 1, 3, 5, 2, 1, 2, 3, 0, 4, 1]
            + [4, 3, 0, 2, 2, 2, 1, 0, 0, 0, 2, 1, 6, 1, 3, 4, 4, 3, 6, 6, 6],
            0,
            0.0,
        ),  # full board, no four
    ],
)
def test_scripted_endings(game: str, moves: list[int], to_play: int, value: float) -> None:
    positions = GAMES[game][0]()
    row = lockstep(game, scripted(moves))
    assert positions.to_play(row) == to_play and positions.terminal_value(row) == value
    pieces = int(np.count_nonzero(row[: np.prod(positions.board_shape)]))
    assert pieces == len(moves) and not positions.legal_mask(row).any()
    if value == 0.0:
        assert pieces == np.prod(positions.board_shape)
