"""Tree search finds what a position demands, with a crude evaluator and no training."""

from __future__ import annotations

import numpy as np
from pettingzoo.classic import tictactoe_v3

from agents.search.mcts import MCTS, SearchConfig
from agents.search.states import AECState, clone_env
from envs.go import env as go_env
from envs.go.game import gtp_to_action


def uniform(observations: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return masks / masks.sum(1, keepdims=True), np.zeros(len(masks))


def material(observations: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Uniform priors; value = stone balance of the player to move (planes 0 and 1)."""
    balance = observations[:, 0].sum((1, 2)) - observations[:, 1].sum((1, 2))
    return masks / masks.sum(1, keepdims=True), np.tanh(balance / 3)


def go_position(moves: list[str], size: int = 7) -> AECState:
    game = go_env(board_size=size, komi=0.5)
    game.reset()
    for vertex in moves:
        game.step(size * size if vertex == "pass" else gtp_to_action(vertex, size))
    return AECState(game)


def best(state: AECState, evaluate, simulations: int = 400) -> int:
    search = MCTS(evaluate, SearchConfig(simulations=simulations, batch_size=8), seed=0)
    return search.choose(search.search(state))


def test_tictactoe_takes_the_win_and_blocks_the_loss() -> None:
    game = tictactoe_v3.env()
    game.reset()
    for action in (0, 3, 1, 4):  # X on 0 and 1, O on 3 and 4; X to move wins at 2
        game.step(action)
    assert best(AECState(game), uniform, 200) == 2
    game.reset()
    for action in (0, 3, 8):  # O to move must block X's diagonal at 4
        game.step(action)
    assert best(AECState(game), uniform, 300) == 4


def test_go_captures_the_group_in_atari() -> None:
    # White's two stones C4 D4 are in atari at E4; capturing is worth four stones of balance.
    moves = ["C5", "C4", "D5", "D4", "B4", "A1", "C3", "A2", "D3", "A3"]
    state = go_position(moves)
    assert best(state, material) == gtp_to_action("E4", 7)


def test_go_saves_its_own_group_from_capture() -> None:
    # Black's C4 D4 have one liberty left (E4) with White to threaten: Black must extend.
    moves = ["C4", "C5", "D4", "D5", "G1", "B4", "G2", "C3", "G3", "D3"]
    state = go_position(moves)
    # Seeing White's capture takes two plies over ~37 moves each with flat priors.
    assert best(state, material, simulations=1600) == gtp_to_action("E4", 7)


def test_search_leaves_the_root_position_untouched() -> None:
    state = go_position(["D4", "C3"])
    before = clone_env(state.env).unwrapped.game.board().copy()
    MCTS(material, SearchConfig(simulations=50)).search(state)
    assert (state.env.unwrapped.game.board() == before).all()
    assert state.to_play() == 0


def best_by_playouts(state: AECState, simulations: int) -> int:
    config = SearchConfig(simulations=simulations, batch_size=8, rollout_weight=1.0)
    search = MCTS(uniform, config, seed=0)
    return search.choose(search.search(state))


def test_playouts_alone_find_the_tictactoe_win_and_block() -> None:
    # uniform() knows nothing: every judgement comes from random playouts (generic AEC path).
    game = tictactoe_v3.env()
    game.reset()
    for action in (0, 3, 8):  # O to move must block X's diagonal at 4
        game.step(action)
    assert best_by_playouts(AECState(game), 300) == 4


def test_playouts_alone_find_the_go_capture() -> None:
    # Go's own fast playout: capturing C4 D4 at E4 is what random play-outs reward most.
    moves = ["C5", "C4", "D5", "D4", "B4", "A1", "C3", "A2", "D3", "A3"]
    assert best_by_playouts(go_position(moves), 1000) == gtp_to_action("E4", 7)


def test_prior_mix_blends_a_uniform_prior_into_the_network_prior() -> None:
    def misled(observations: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        priors = np.where(masks, 1e-6, 0.0)  # all faith in the lowest legal square
        priors[np.arange(len(masks)), masks.argmax(1)] = 1.0
        return priors / priors.sum(1, keepdims=True), np.zeros(len(masks))

    game = tictactoe_v3.env()
    game.reset()
    game.step(0)

    def counts(evaluate, mix: float) -> np.ndarray:
        return MCTS(evaluate, SearchConfig(simulations=200, prior_mix=mix), seed=0).search(
            AECState(game)
        )

    # A full mix is the uniform prior, whatever the network says; none keeps the network's.
    assert (counts(misled, 1.0) == counts(uniform, 0.0)).all()
    assert counts(misled, 0.0)[1] > counts(misled, 0.5)[1] > counts(uniform, 0.0)[1]
