"""GoVectorEnv: many boards of learnloop/Go-v0 stepped by one kernel call."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import envs  # noqa: F401  (registers learnloop/Go-v0)
from envs.go.game import IllegalMoveError
from envs.go.vector import GoVectorEnv


def random_actions(masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniformly random legal action per row of ``masks``."""
    scores = np.where(masks, rng.random(masks.shape), -1.0)
    return scores.argmax(axis=1)


def always_pass(obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """A batched opponent that passes on every board."""
    return np.full(len(masks), masks.shape[1] - 1)


@pytest.mark.parametrize("mode", ["next_step", "same_step"])
def test_random_play_smoke(mode: str) -> None:
    env = GoVectorEnv(num_envs=6, board_size=5, autoreset_mode=mode, agent_color="alternate")
    obs, info = env.reset(seed=0)
    assert obs.shape == (6, 5, 5, 5) and env.observation_space.contains(obs)
    rng = np.random.default_rng(0)
    ended = finals = 0
    for _ in range(300):
        obs, rewards, terminated, truncated, info = env.step(
            random_actions(env.action_masks(), rng)
        )
        assert set(np.unique(rewards)) <= {-1.0, 0.0, 1.0}
        assert not rewards[~terminated].any()  # rewards only at a terminal step
        assert np.array_equal(info["action_mask"].astype(bool), env.action_masks())
        ended += int((terminated | truncated).sum())
        if "final_obs" in info:
            finals += int(info["_final_obs"].sum())
            fresh = obs[info["_final_obs"], :4].sum(axis=(1, 2, 3))
            assert (fresh <= 1).all()  # new games: at most the opponent's opening stone
    assert ended > 10
    assert finals == (ended if mode == "same_step" else 0)


def test_next_step_mode_resets_on_the_following_step() -> None:
    env = GoVectorEnv(num_envs=2, board_size=5, opponent=always_pass, komi=0.5)
    env.reset(seed=0)
    obs, rewards, terminated, _, info = env.step(np.array([25, 12]))
    assert list(terminated) == [True, False] and rewards[0] == -1.0
    assert info["_score"][0] and info["score"][0] == -0.5
    assert env.action_masks()[0].sum() == 1  # only pass, which is ignored
    obs, rewards, terminated, _, _ = env.step(np.array([25, 25]))
    assert rewards[0] == 0.0 and not terminated[0] and obs[0, :4].sum() == 0  # fresh board
    assert rewards[1] == 1.0 and terminated[1]  # Black's stone owns the board


def test_white_agents_face_the_opening_move() -> None:
    env = GoVectorEnv(num_envs=4, board_size=5, agent_color="white")
    obs, _ = env.reset(seed=0)
    assert not obs[:, -1].any()  # colour plane: White
    stones_or_pass = obs[:, 1].sum(axis=(1, 2))
    assert (stones_or_pass <= 1).all()


def test_illegal_actions_raise_naming_the_board() -> None:
    env = GoVectorEnv(num_envs=3, board_size=5, opponent=always_pass)
    env.reset(seed=0)
    env.step(np.array([12, 12, 12]))
    with pytest.raises(IllegalMoveError, match="board 1: illegal move C3: occupied"):
        env.step(np.array([0, 12, 0]))
    with pytest.raises(ValueError, match="3 ints"):
        env.step(np.array([0, 1]))
    lose = GoVectorEnv(num_envs=2, board_size=5, illegal_action="lose", opponent=always_pass)
    lose.reset(seed=0)
    lose.step(np.array([12, 12]))
    _, rewards, terminated, _, _ = lose.step(np.array([12, 0]))
    assert list(rewards) == [-1.0, 0.0] and list(terminated) == [True, False]


def test_seeded_runs_repeat() -> None:
    def run(seed: int) -> np.ndarray:
        env = GoVectorEnv(num_envs=4, board_size=7)
        env.reset(seed=seed)
        rng = np.random.default_rng(1)
        for _ in range(40):
            obs, *_ = env.step(random_actions(env.action_masks(), rng))
        return obs

    assert np.array_equal(run(5), run(5))
    assert not np.array_equal(run(5), run(6))


def test_make_vec_uses_the_batched_env() -> None:
    env = gymnasium.make_vec(
        "learnloop/Go-v0", num_envs=3, vectorization_mode="vector_entry_point", board_size=7
    )
    assert isinstance(env, GoVectorEnv)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3, 5, 7, 7)
    with pytest.raises(ValueError, match="autoreset_mode"):
        GoVectorEnv(autoreset_mode="disabled")


def test_score_at_cap_in_the_batched_env() -> None:
    env = GoVectorEnv(
        num_envs=2, board_size=5, opponent=always_pass, max_moves=2, score_at_cap=True
    )
    env.reset(seed=0)
    _, rewards, terminated, truncated, _ = env.step(np.array([12, 25]))
    assert list(rewards) == [1.0, -1.0] and terminated.all() and not truncated.any()
