"""The PettingZoo AEC Go env: API compliance, observations, rewards, endings, rendering."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import api_test

import envs.go
from envs.go.game import WHITE, GoGame, IllegalMoveError, gtp_to_action


def play(env, *vertices: str) -> None:  # noqa: ANN001
    """Step the env through GTP vertices, one per agent turn."""
    size = env.unwrapped.game.board_size
    for vertex in vertices:
        env.step(gtp_to_action(vertex, size))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("size", [5, 9, 19])
def test_pettingzoo_api_test(size: int) -> None:
    api_test(envs.go.env(board_size=size), num_cycles=200)


def test_raw_env_is_the_class_and_env_wraps_it() -> None:
    assert envs.go.raw_env is envs.go.GoEnv
    env = envs.go.env(board_size=5)
    assert isinstance(env.unwrapped, envs.go.GoEnv)
    with pytest.raises(ValueError, match="board_size"):
        envs.go.env(board_size=4)


def test_observation_planes_are_from_the_observers_side() -> None:
    env = envs.go.env(board_size=5, history=2)
    env.reset()
    play(env, "C3")
    c3 = np.unravel_index(gtp_to_action("C3", 5), (5, 5))
    white = env.observe("white_0")
    planes = white["observation"]
    assert planes.shape == (5, 5, 5) and planes.dtype == np.float32
    assert planes[1][c3] == 1 and planes[0].sum() == 0  # Black's stone is White's opponent's
    assert planes[3].sum() == 0  # one move ago the board was empty
    assert planes[4].sum() == 0  # White's colour plane
    assert white["action_mask"].dtype == np.int8 and white["action_mask"][12] == 0
    black = env.observe("black_0")
    assert black["observation"][0][c3] == 1 and black["observation"][4].all()
    assert not black["action_mask"].any()  # not Black's turn
    play(env, "B2")
    assert env.observe("black_0")["observation"][2][c3] == 1  # history plane


def test_illegal_action_raises_with_the_gtp_move() -> None:
    env = envs.go.env(board_size=5)
    env.reset()
    play(env, "C3")
    with pytest.raises(IllegalMoveError, match="white_0: illegal move C3: occupied"):
        play(env, "C3")
    with pytest.raises(ValueError, match="0..25"):
        env.step(26)


def test_illegal_action_can_lose_instead() -> None:
    env = envs.go.env(board_size=5, illegal_action="lose")
    env.reset()
    play(env, "C3", "C3")
    _, reward, terminated, _, info = env.last()
    assert terminated and reward == 1.0  # Black, to move, collects the win
    assert env.unwrapped._cumulative_rewards["white_0"] == -1.0
    assert "occupied" in info["illegal_move"]


@pytest.mark.parametrize(
    ("komi", "black_reward", "winner"), [(0.0, 0.0, "draw"), (0.5, -1.0, "white")]
)
def test_two_passes_end_with_the_area_score(komi: float, black_reward: float, winner: str) -> None:
    env = envs.go.env(board_size=5, komi=komi)
    env.reset()
    play(env, "pass", "pass")
    rewards = env.unwrapped._cumulative_rewards
    assert rewards == {"black_0": black_reward, "white_0": -black_reward}
    assert all(env.terminations.values()) and not any(env.truncations.values())
    assert env.infos["black_0"]["winner"] == winner


def test_a_captured_board_scores_for_its_owner() -> None:
    env = envs.go.env(board_size=5, komi=7.5)
    env.reset()
    play(env, "C3", "pass", "pass")
    assert env.unwrapped._cumulative_rewards == {"black_0": 1.0, "white_0": -1.0}


def test_move_cap_truncates_with_zero_reward() -> None:
    env = envs.go.env(board_size=5, max_moves=3)
    env.reset()
    play(env, "A1", "B1", "C1")
    assert all(env.truncations.values()) and not any(env.terminations.values())
    assert env.unwrapped._cumulative_rewards == {"black_0": 0.0, "white_0": 0.0}
    assert (
        env.infos["white_0"]["score"]
        == GoGame.from_ascii("\n".join([". . . . ."] * 4 + ["X O X . ."]), komi=7.5).score()
    )


def test_render_modes() -> None:
    env = envs.go.env(board_size=5, render_mode="ansi")
    env.reset()
    play(env, "C3")
    text = env.render()
    assert " 3 . . X . . 3" in text and "White (O) to play" in text
    picture = envs.go.env(board_size=9, render_mode="rgb_array")
    picture.reset()
    frame = picture.render()
    assert frame.shape == (320, 320, 3) and frame.dtype == np.uint8
    with pytest.raises(ValueError, match="render_mode"):
        envs.go.env(render_mode="human")


def test_reset_starts_a_fresh_game() -> None:
    env = envs.go.env(board_size=5)
    env.reset()
    play(env, "C3", "pass", "pass")
    env.reset(seed=1)
    assert env.agent_selection == "black_0"
    assert not env.unwrapped.game.board().any()
    assert env.observe("black_0")["action_mask"].sum() == 26
    assert env.unwrapped.game.to_play != WHITE


def test_score_at_cap_rewards_the_capped_game_by_its_score() -> None:
    from envs.go import env as go_env

    for scored in (False, True):
        game = go_env(board_size=5, komi=0.5, max_moves=3, score_at_cap=scored)
        game.reset()
        for action in (12, 0, 24):  # Black C3, White A5, Black E1: cap reached, Black ahead
            game.step(action)
        _, reward, terminated, truncated, info = game.last()
        assert info["winner"] == "black"
        if scored:
            assert terminated and not truncated and reward == -1.0  # White to move: it lost
        else:
            assert truncated and not terminated and reward == 0.0


def test_margin_reward_grows_with_the_score_and_keeps_the_result_sign() -> None:
    from envs.go import env as go_env

    game = go_env(board_size=5, komi=0.5, margin_reward=0.5)
    game.reset()
    for action in (12, 25, 25):  # Black C3, both pass: Black owns all 25 points, 24.5 after komi
        game.step(action)
    _, reward, terminated, _, info = game.last()
    assert terminated and info["winner"] == "black"
    assert reward == pytest.approx(-(1.0 + 0.5 * 24.5 / 25))  # White to move: it lost by 24.5
    assert game.rewards["black_0"] == pytest.approx(1.0 + 0.5 * 24.5 / 25)
    with pytest.raises(ValueError, match="margin_reward"):
        go_env(board_size=5, margin_reward=-1.0)


def test_rgb_array_draws_the_stones_where_they_are() -> None:
    from envs.go.render import BLACK_STONE, WHITE_STONE, WOOD, board_rgb

    game = GoGame.from_ascii("\n".join([". . . . ."] * 3 + [". X . . .", ". . . . O"]))
    frame = board_rgb(game.board(), cell=20)
    assert frame.shape == (120, 120, 3)

    def centre(row: int, col: int) -> tuple[int, ...]:
        return tuple(frame[20 + 20 * row + 3, 20 + 20 * col + 3])

    assert centre(3, 1) == BLACK_STONE  # B2
    assert centre(4, 4) == WHITE_STONE  # E1
    assert centre(0, 0) == WOOD  # off the lines, no stone


def test_clone_is_independent_of_the_original() -> None:
    from envs.go import env as go_env

    game = go_env(board_size=5)
    game.reset()
    game.step(12)
    copy = game.unwrapped.clone()
    copy.step(0)
    copy.step(24)
    assert game.unwrapped.game.move_count == 1 and copy.game.move_count == 3
    assert game.agent_selection == "white_0" and copy.agent_selection == "white_0"
    original = game.observe("white_0")["observation"]
    assert original[1].sum() == 1, "the clone's moves never reach the original's planes"


def test_playout_keeps_two_eyed_groups_alive_and_scores_the_end() -> None:
    from envs.go import env as go_env

    # Black's wall with two one-point eyes (A5, E1) owns the whole 5x5 board: in a random
    # playout White has no legal move and Black never fills its own eyes, so both pass.
    board = "\n".join([". X X X X", "X X X X X", "X X X X X", "X X X X X", "X X X X ."])
    game = go_env(board_size=5, komi=7.5)
    game.reset()
    game.unwrapped.game = GoGame.from_ascii(board, komi=7.5)
    scores = {game.unwrapped.playout(u) for u in np.linspace(0.0, 0.99, 20)}
    assert scores == {25 - 7.5}
    assert game.unwrapped.game.board()[0, 0] == 0  # the playout ran on a copy


def test_playouts_of_the_empty_board_end_in_both_results() -> None:
    from envs.go import env as go_env

    game = go_env(board_size=5, komi=0.5)
    game.reset()
    scores = [game.unwrapped.playout(u) for u in np.linspace(0.0, 0.99, 40)]
    assert min(scores) < 0 < max(scores)  # random play: either side may win
    assert all(abs(s) <= 25.5 for s in scores)


def test_tactics_planes_mark_ataris_and_the_points_that_settle_them() -> None:
    from envs.go import env as go_env

    game = go_env(board_size=5, features="tactics")
    game.reset()
    # Black C4 B5, White C5 A1: White C5 is in atari, its last liberty D5.
    for vertex in ("C4", "C5", "B5", "A1"):
        game.step(gtp_to_action(vertex, 5))
    planes = game.observe("black_0")["observation"]
    assert planes.shape == (9, 5, 5)
    own_atari, their_atari, captures, escapes = planes[-4:]
    assert their_atari[0, 2] == 1 and their_atari.sum() == 1  # White C5
    assert captures[0, 3] == 1 and captures.sum() == 1  # D5 captures it
    assert own_atari.sum() == 0 and escapes.sum() == 0
    white = game.observe("white_0")["observation"][-4:]
    assert white[0, 0, 2] == 1 and white[3, 0, 3] == 1  # White sees its own atari and D5
    with pytest.raises(ValueError, match="features"):
        go_env(board_size=5, features="ladders")


def test_liberty_planes_count_each_chain_exactly() -> None:
    from envs.go.game import GoGame
    from envs.go.kernels import BLACK, liberty_planes_into

    # Black A5-B5 has two liberties (A4, C5: B4 is White's); White B4 has three (A4 C4 B3);
    # Black E1 has two (D1, E2); White D5-E5 has three (C5, D4, E4).
    game = GoGame.from_ascii(
        """
        X X . O O
        . O . . .
        . . . . .
        . . . . .
        . . . . X
        """,
        komi=0.5,
    )
    out = np.zeros((4, 5, 5), dtype=np.float32)
    liberty_planes_into(game.state, BLACK, out)
    own_two, their_two, own_more, their_more = out
    assert own_two[0, 0] == own_two[0, 1] == own_two[4, 4] == 1 and own_two.sum() == 3
    assert their_two.sum() == 0 and own_more.sum() == 0
    assert their_more[1, 1] == their_more[0, 3] == their_more[0, 4] == 1
    assert their_more.sum() == 3


def area(board: str, color: int) -> np.ndarray:
    from envs.go.game import GoGame
    from envs.go.kernels import pass_alive_into

    game = GoGame.from_ascii(board, komi=0.5)
    out = np.zeros(game.board().shape, dtype=np.float32)
    pass_alive_into(game.state, color, out)
    return out


def test_pass_alive_area_is_a_two_eyed_group_and_its_eyes() -> None:
    from envs.go.kernels import BLACK, WHITE

    # Black's wall has three one-point eyes: alive with them; White's lone stone is not.
    board = """
        . X . X .
        X X X X X
        . . . . .
        . . O . .
        . . . . .
        """
    black = area(board, BLACK)
    assert black[:2].sum() == 10 and black[2:].sum() == 0
    assert area(board, WHITE).sum() == 0


def test_pass_alive_area_takes_in_a_dead_stone_inside_an_eye() -> None:
    from envs.go.kernels import BLACK, WHITE

    # White B5 sits in Black's eye A5-C5, whose empty points are all Black's liberties:
    # White can never make an eye there, so the whole eye is Black's, the stone included.
    board = """
        . O . X .
        X X X X X
        . . . . .
        . . . . .
        . . . . .
        """
    black = area(board, BLACK)
    assert black[0, :3].sum() == 3 and black[0, 4] == 1 and black[:2].sum() == 10
    assert area(board, WHITE).sum() == 0


def test_one_eye_or_a_false_eye_is_not_pass_alive() -> None:
    from envs.go.kernels import BLACK, WHITE

    one_eye = """
        . X O . .
        X X O . .
        O O O . .
        . . . . .
        . . . . .
        """
    assert area(one_eye, BLACK).sum() == 0 and area(one_eye, WHITE).sum() == 0
    # A5 and C5 look like two eyes, but White's B4 cuts the stones around them into three
    # chains: A4-A3 has one eye (A5), so it is not alive, and with it the rest falls.
    false_eye = """
        . X . X X
        X O X X .
        X . . . .
        . . . . .
        . . . . .
        """
    assert area(false_eye, BLACK).sum() == 0 and area(false_eye, WHITE).sum() == 0


def test_benson_planes_follow_the_observer() -> None:
    game = envs.go.env(board_size=5, features="benson")
    game.reset()
    for move in ("B5", "A1", "A4", "E1", "B4", "E2", "C4", "D1", "D4", "D2", "E4", "C1", "D5"):
        game.step(gtp_to_action(move, 5))
    # Black's wall on row 4 has A5, C5 and E5 as eyes: 7 stones and 3 eyes, pass-alive.
    white = game.observe("white_0")["observation"]
    black = game.observe("black_0")["observation"]
    assert white.shape[0] == 2 * 2 + 1 + 10
    assert white[-2].sum() == 0 and white[-1].sum() == 10
    assert black[-2].sum() == 10 and black[-1].sum() == 0
