"""Go positions for search (envs.go.kernels.GoPositions) against the AEC env, move by move."""

from __future__ import annotations

import numpy as np
import pytest

from envs.go import env as go_env
from envs.go.game import GoGame, IllegalMoveError
from envs.go.kernels import GoPositions, area_ownership_into


def one(positions: GoPositions, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    obs = np.zeros((1, *positions.obs_shape), dtype=np.float32)
    masks = np.zeros((1, positions.num_actions), dtype=bool)
    index = np.zeros(1, dtype=np.int64)
    positions.observe(row[None, None], index, index, obs, masks)
    return obs[0], masks[0]


@pytest.mark.parametrize("features", ["stones", "tactics", "liberties", "benson"])
def test_random_games_match_the_env(features: str) -> None:
    positions = GoPositions(7, komi=9.0, history=2, features=features)
    rng = np.random.default_rng(0)
    for _ in range(15):
        env = go_env(board_size=7, komi=9.0, history=2, features=features, score_at_cap=True)
        env.reset()
        table = np.zeros((1, 2, positions.state_size), dtype=np.int64)
        table[0, 0] = positions.initial()
        obs, mask = one(positions, table[0, 0])
        out_obs = np.zeros((1, *positions.obs_shape), dtype=np.float32)
        out_mask = np.zeros((1, positions.num_actions), dtype=bool)
        terminal = np.zeros(1, dtype=np.float32)
        while True:
            seen = env.observe(env.agent_selection)
            np.testing.assert_array_equal(seen["observation"], obs)
            np.testing.assert_array_equal(seen["action_mask"].astype(bool), mask)
            action = int(rng.choice(np.flatnonzero(mask)))
            zero = np.zeros(1, dtype=np.int64)
            positions.expand(table, zero, zero, np.ones(1, np.int64), np.array([action]),
                             out_obs, out_mask, terminal)  # fmt: skip
            table[0, 0] = table[0, 1]
            obs, mask = out_obs[0].copy(), out_mask[0].copy()
            env.step(action)
            if not np.isnan(terminal[0]):
                _, reward, *_, info = env.last()
                assert terminal[0] == np.sign(reward)  # for the player to move at the end
                margin, ownership = positions.outcome_targets(table[0, 0])
                assert margin == info["score"]
                assert ownership.sum() - 9.0 == margin
                assert not mask.any()
                break


def test_ownership_counts_regions_reaching_one_colour() -> None:
    game = GoGame.from_ascii(
        """
        . X O . .
        X X O . .
        . X O O O
        X X O . O
        . X O O .
        """,
        komi=0,
    )
    out = np.zeros((5, 5), dtype=np.float32)
    area_ownership_into(game.board(), out)
    assert out[0, 0] == 1 and out[2, 0] == 1 and out[4, 0] == 1  # Black's eyes
    assert out[0, 4] == -1 and out[4, 4] == -1 and out[3, 3] == -1
    assert out.sum() == game.score()


def test_illegal_move_names_the_point_and_the_reason() -> None:
    positions = GoPositions(5, komi=0.5)
    row = positions.initial()
    positions.play(row, 12)
    before = row.copy()
    with pytest.raises(IllegalMoveError, match="illegal move C3: occupied"):
        positions.play(row, 12)
    np.testing.assert_array_equal(row, before)


def test_symmetries_commute_with_play() -> None:
    positions = GoPositions(7, komi=9.0)
    rng = np.random.default_rng(1)
    moves = []
    row = positions.initial()
    for _ in range(20):
        action = int(rng.choice(np.flatnonzero(positions.legal_mask(row))))
        positions.play(row, action)
        moves.append(action)
    obs, mask = one(positions, row)
    for code in positions.symmetry_codes:
        perm = positions.action_permutation(code)
        moved = positions.initial()
        for action in moves:
            positions.play(moved, int(perm[action]))
        moved_obs, moved_mask = one(positions, moved)
        expected = np.rot90(obs, code & 3, axes=(-2, -1))
        expected = np.flip(expected, axis=-1) if code & 4 else expected
        np.testing.assert_array_equal(moved_obs, expected)
        np.testing.assert_array_equal(moved_mask[perm], mask)
