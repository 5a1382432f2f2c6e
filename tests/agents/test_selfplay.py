"""The opponent pool and the self-play env, on tic-tac-toe."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.classic import tictactoe_v3
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from agents.baselines.minimax import MinimaxPlayer
from agents.selfplay import OpponentPool, RandomPolicy, SelfPlayEnv, play_match
from envs.classic.tictactoe import TicTacToePositions
from tests.players import FirstLegal, LastLegal


def channels_first(obs: np.ndarray) -> np.ndarray:
    return np.moveaxis(obs, -1, 0)


def make_env(pool: OpponentPool, **kwargs) -> SelfPlayEnv:
    return SelfPlayEnv(tictactoe_v3.env, pool, channels_first, **kwargs)


def test_pool_draws_fixed_players_until_snapshots_exist_then_mixes() -> None:
    pool = OpponentPool({"random": RandomPolicy}, fixed_share=0.25, max_snapshots=2, seed=0)
    assert {pool.sample()[0] for _ in range(20)} == {"random"}
    for name in ("a", "b", "c"):
        pool.add_snapshot(name, RandomPolicy(0))
    assert [name for name, _ in pool.snapshots] == ["b", "c"], "oldest snapshot dropped"
    draws = [pool.sample()[0] for _ in range(2000)]
    assert "a" not in draws
    assert 0.2 < draws.count("random") / len(draws) < 0.3


def test_pool_rejects_bad_share() -> None:
    with pytest.raises(ValueError, match="fixed_share must be in"):
        OpponentPool({"random": RandomPolicy}, fixed_share=1.5)


def test_selfplay_env_passes_gymnasium_and_sb3_checks() -> None:
    pool = OpponentPool({"random": RandomPolicy}, fixed_share=1.0)
    check_env(make_env(pool, illegal_action="lose"), skip_render_check=True)
    sb3_check_env(make_env(pool, illegal_action="lose"), warn=False)


def test_learner_plays_both_seats_and_reward_is_the_game_result() -> None:
    pool = OpponentPool({"random": RandomPolicy}, fixed_share=1.0)
    env = make_env(pool)
    rng = np.random.default_rng(0)
    seats, results = [], []
    for episode in range(200):
        env.reset(seed=episode)
        done = False
        while not done:
            action = rng.choice(np.flatnonzero(env.action_masks()))
            _, reward, terminated, truncated, info = env.step(action)
            done = terminated or truncated
        seats.append(info["learner_seat"])
        results.append((info["learner_seat"], reward))
    assert 60 < sum(seats) < 140, "the learner sits in both seats"
    first = np.mean([r for s, r in results if s == 0])
    assert first > 0.1, "random play favours the first player at tic-tac-toe"


def test_illegal_action_raises_naming_it() -> None:
    env = make_env(OpponentPool({"random": RandomPolicy}, fixed_share=1.0), seat="first")
    env.reset(seed=0)
    env.step(4)
    taken = [a for a in range(9) if not env.action_masks()[a]]
    with pytest.raises(ValueError, match=f"illegal action {taken[0]}"):
        env.step(taken[0])


def test_stateful_opponents_are_not_shared_between_envs() -> None:
    positions = TicTacToePositions()
    pool = OpponentPool({"minimax": lambda seed: MinimaxPlayer(positions, seed=seed)},
                        fixed_share=1.0)  # fmt: skip
    envs = [make_env(pool) for _ in range(2)]
    for seed, env in enumerate(envs):
        env.reset(seed=seed)
    # Interleaved games: a shared minimax would follow the wrong board and move illegally.
    done = [False, False]
    for _ in range(2):
        for i, env in enumerate(envs):
            if not done[i]:
                done[i] = env.step(int(np.flatnonzero(env.action_masks())[-1]))[2]
    assert envs[0].opponent is not envs[1].opponent
    for env in envs:  # each opponent's own board is its env's board
        board = env.game.observe(env.game.possible_agents[0])["observation"]
        occupied = env.opponent.row[:9].reshape(3, 3) > 0
        np.testing.assert_array_equal(occupied, board.sum(axis=-1) > 0)


def test_minimax_never_loses_and_beats_random() -> None:
    positions = TicTacToePositions()
    perfect = MinimaxPlayer(positions, seed=0)
    result = play_match(tictactoe_v3.env, perfect, RandomPolicy(1), 20)
    assert result["losses"] == 0 and result["wins"] >= 14
    mirror = play_match(tictactoe_v3.env, perfect, MinimaxPlayer(positions, seed=3), 4)
    assert mirror["draws"] == 4, "perfect play against itself draws"


def test_match_counts_each_seat_apart() -> None:
    # Tic-tac-toe without an opening: whoever plays the first legal square every move or the
    # last, the first mover completes a line first (0-1-2 or 8-7-6) and wins every game.
    result = play_match(tictactoe_v3.env, FirstLegal(), LastLegal(), 4)
    assert (result["wins"], result["draws"], result["losses"]) == (2, 0, 2)
    assert (result["first_wins"], result["first_draws"], result["first_losses"]) == (2, 0, 0)


def test_frozen_snapshot_acts_like_the_live_policy_and_ignores_later_training() -> None:
    import torch
    from sb3_contrib import MaskablePPO

    from agents.networks import board_policy_kwargs
    from agents.players import NetworkPlayer

    env = make_env(OpponentPool({"random": RandomPolicy}, 1.0))
    mlp = MaskablePPO("MlpPolicy", env, policy_kwargs={"net_arch": [32, 32]}, device="cpu")
    frozen = NetworkPlayer.frozen_copy(mlp.policy)
    assert frozen.layers is not None  # the MLP actor runs in numpy
    live = NetworkPlayer(mlp.policy)
    rng = np.random.default_rng(0)
    observations = (rng.random((20, *env.observation_space.shape)) > 0.5).astype(np.float32)
    mask = np.array([True, False] * 4 + [True])
    for obs in observations:
        expected = live.logits(obs, mask)
        assert np.allclose(frozen.logits(obs, mask), expected, atol=1e-5)
        assert np.isneginf(expected[~mask]).all()
    with torch.no_grad():  # training moves the live weights, not the snapshot's
        for parameter in mlp.policy.parameters():
            parameter.add_(1.0)
    assert not np.allclose(frozen.logits(observations[0], mask), live.logits(observations[0], mask))
    cnn = MaskablePPO("MlpPolicy", env, policy_kwargs=board_policy_kwargs(4, 1, 8), device="cpu")
    assert NetworkPlayer.frozen_copy(cnn.policy).layers is None  # other nets stay in torch
