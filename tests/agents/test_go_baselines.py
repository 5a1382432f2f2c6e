"""The Go heuristic opponent does what its docstring promises, on drawn boards."""

from __future__ import annotations

import numpy as np

from agents.baselines.go import HeuristicGoPlayer
from envs.go.game import WHITE, GoGame, gtp_to_action


def heuristic_on(board: str, to_play: int = 1, seed: int = 0) -> tuple[HeuristicGoPlayer, GoGame]:
    game = GoGame.from_ascii(board, to_play=to_play, komi=0.5)
    player = HeuristicGoPlayer(game.board_size, 0.5, seed=seed)
    player.game = game
    return player, game


def move(player: HeuristicGoPlayer, game: GoGame) -> int:
    return player(None, game.legal_mask())


def test_heuristic_captures_the_larger_group() -> None:
    # Black to play: C5 would take White's B5 (one stone), C2 takes D2 E2 (two).
    board = """
        X O . . .
        . X . . .
        . . . X X
        . . . O O
        . . . X X
    """
    player, game = heuristic_on(board)
    assert move(player, game) == gtp_to_action("C2", 5)
    game.play(gtp_to_action("C2", 5))  # take the two; White passes; the single stone is next
    game.play(game.pass_action)
    player.game = game
    assert move(player, game) == gtp_to_action("C5", 5)


def test_heuristic_saves_its_group_in_atari() -> None:
    # White to play; White C3 is in atari (last liberty C2); extending gives it three.
    board = """
        . . . . .
        . . X . .
        . X O X .
        . . . . .
        . . . . .
    """
    player, game = heuristic_on(board, to_play=WHITE)
    assert move(player, game) == gtp_to_action("C2", 5)


def test_heuristic_never_fills_its_own_eye_and_passes_when_only_eyes_are_left() -> None:
    board = """
        . X X X X
        X X X X X
        X X X X X
        X X X X X
        X X X X .
    """
    player, game = heuristic_on(board)
    assert move(player, game) == game.pass_action
    rng = np.random.default_rng(0)
    for seed in range(20):  # random positions: the move is never an own one-point eye
        game = GoGame(7, komi=0.5)
        for _ in range(int(rng.integers(10, 40))):
            legal = np.flatnonzero(game.legal_mask())
            game.play(int(rng.choice(legal)))
            if game.is_over():
                break
        if game.is_over():
            continue
        player = HeuristicGoPlayer(7, 0.5, seed=seed)
        player.game = game
        action = move(player, game)
        assert game.legal_mask()[action]
        if action < 49:
            from envs.go.gtp import own_eye_mask

            assert not own_eye_mask(game.board(), game.to_play)[action]
