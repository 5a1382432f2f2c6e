"""learnloop/Go-v0: the one-agent Gymnasium view against a fixed opponent."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401  (registers learnloop/Go-v0)
from envs.go.game import IllegalMoveError, gtp_to_action
from envs.go.single import GoSingleEnv
from tests.optional import require


def always_pass(obs: np.ndarray, mask: np.ndarray) -> int:
    """An opponent that passes at every turn."""
    return len(mask) - 1


def test_make_from_the_registry() -> None:
    env = gymnasium.make("learnloop/Go-v0", board_size=7, opponent="random")
    obs, info = env.reset(seed=0)
    assert obs.shape == (5, 7, 7) and env.observation_space.contains(obs)
    assert env.action_space.n == 50
    assert np.array_equal(info["action_mask"].astype(bool), env.unwrapped.action_masks())


def test_gymnasium_and_sb3_env_checkers_pass() -> None:
    # Random actions from the checkers are often illegal: "lose" keeps them from raising.
    check_env(GoSingleEnv(board_size=7, illegal_action="lose"), skip_render_check=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "looks like an image": planes are not pixels
        sb3_check_env(GoSingleEnv(board_size=7, illegal_action="lose"))


def test_episodes_are_deterministic_under_a_seed() -> None:
    def trajectory(seed: int) -> list[int]:
        env = GoSingleEnv(board_size=7, agent_color="white")
        env.reset(seed=seed)
        rng = np.random.default_rng(0)
        for _ in range(30):
            legal = np.flatnonzero(env.action_masks())
            action = rng.choice(legal[:-1]) if len(legal) > 1 else legal[0]  # avoid passing
            _, _, terminated, truncated, _ = env.step(int(action))
            if terminated or truncated:
                break
        return env.game.moves

    assert trajectory(3) == trajectory(3)
    assert trajectory(3) != trajectory(4)


def test_agent_colors() -> None:
    white = GoSingleEnv(board_size=5, agent_color="white")
    obs, info = white.reset(seed=0)
    assert info["agent_color"] == "white" and len(white.game.moves) == 1
    assert obs[-1].sum() == 0  # colour plane: the agent is White
    alternate = GoSingleEnv(board_size=5, agent_color="alternate")
    colors = [alternate.reset(seed=i)[1]["agent_color"] for i in range(3)]
    assert colors == ["black", "white", "black"]
    with pytest.raises(ValueError, match="agent_color"):
        GoSingleEnv(agent_color="red")


@pytest.mark.parametrize(("komi", "reward"), [(7.5, -1.0), (-0.5, 1.0), (0, 0.0)])
def test_rewards_at_the_end(komi: float, reward: float) -> None:
    env = GoSingleEnv(board_size=5, komi=komi, opponent=always_pass)
    env.reset(seed=0)
    _, r, terminated, truncated, info = env.step(25)  # pass, pass: the empty board is scored
    assert (r, terminated, truncated) == (reward, True, False)
    assert info["score"] == -komi
    with pytest.raises(ValueError, match="reset"):
        env.step(0)


def test_capture_wins_and_cap_truncates() -> None:
    env = GoSingleEnv(board_size=5, opponent=always_pass)
    env.reset(seed=0)
    _, r, terminated, _, _ = env.step(gtp_to_action("C3", 5))
    assert (r, terminated) == (0.0, False)
    _, r, terminated, _, _ = env.step(25)
    assert (r, terminated) == (1.0, True)
    capped = GoSingleEnv(board_size=5, opponent=always_pass, max_moves=3)
    capped.reset(seed=0)
    capped.step(0)
    _, r, terminated, truncated, _ = capped.step(1)
    assert (r, terminated, truncated) == (0.0, False, True)


def test_illegal_actions() -> None:
    env = GoSingleEnv(board_size=5, opponent=always_pass)
    env.reset(seed=0)
    env.step(gtp_to_action("C3", 5))
    with pytest.raises(IllegalMoveError, match="illegal move C3: occupied"):
        env.step(gtp_to_action("C3", 5))
    with pytest.raises(ValueError, match="0..25"):
        env.step(-1)
    loser = GoSingleEnv(board_size=5, opponent=always_pass, illegal_action="lose")
    loser.reset(seed=0)
    loser.step(12)
    _, r, terminated, _, info = loser.step(12)
    assert (r, terminated) == (-1.0, True) and "occupied" in info["illegal_move"]


def test_a_callable_opponent_sees_its_own_side() -> None:
    seen = []

    def opponent(obs: np.ndarray, mask: np.ndarray) -> int:
        seen.append((obs[-1].max(), obs[1].sum(), int(mask.sum())))
        return int(np.flatnonzero(mask)[0])

    env = GoSingleEnv(board_size=5, opponent=opponent)
    env.reset(seed=0)
    env.step(12)
    assert seen == [(0.0, 1.0, 25)]  # White's planes: Black's one stone; 24 points + pass
    with pytest.raises(ValueError, match="opponent"):
        GoSingleEnv(opponent="gnugo")


def test_maskable_ppo_runs_on_it() -> None:
    sb3_contrib = require("sb3_contrib")
    env = GoSingleEnv(board_size=5)
    model = sb3_contrib.MaskablePPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=1)
    model.learn(64)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, action_masks=env.action_masks())
    assert env.action_masks()[int(action)]


@pytest.mark.parametrize("scored", [False, True])
def test_score_at_cap(scored: bool) -> None:
    env = GoSingleEnv(board_size=5, opponent=always_pass, max_moves=2, score_at_cap=scored)
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(12)  # C3 and a pass reach the cap
    assert info["winner"] == "black"
    assert (reward, terminated, truncated) == ((1.0, True, False) if scored else (0.0, False, True))
