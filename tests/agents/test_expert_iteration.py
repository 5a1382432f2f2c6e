"""Expert iteration on tic-tac-toe: self-play targets are visit distributions over legal moves,
and training on them moves the policy toward the search."""

from __future__ import annotations

import numpy as np
import torch
from gymnasium import spaces
from pettingzoo.classic import tictactoe_v3
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy

from agents.expert_iteration import distill, puct_search, self_play_targets
from agents.networks import sb3_policy_value
from agents.search.mcts import SearchConfig
from agents.search.states import AECState


def new_state() -> AECState:
    game = tictactoe_v3.env()
    game.reset(seed=0)
    return AECState(game, lambda obs: np.moveaxis(np.asarray(obs, dtype=np.float32), -1, 0))


def uniform(observations: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return masks / masks.sum(1, keepdims=True), np.zeros(len(masks))


def test_self_play_targets_are_visit_distributions_over_legal_moves() -> None:
    config = SearchConfig(simulations=32, noise_fraction=0.25, rollout_weight=1.0)
    obs, masks, targets = self_play_targets(
        new_state, puct_search(uniform, config), 3, sample_moves=2
    )
    assert obs.shape[1:] == (2, 3, 3) and len(obs) == len(masks) == len(targets)
    assert 3 * 5 <= len(obs) <= 3 * 9  # every move of three whole games
    assert np.allclose(targets.sum(1), 1.0)
    assert (targets[~masks] == 0).all()
    assert (masks.sum(1) >= 1).all()
    # The first position of each game is the empty board: all nine moves legal.
    assert masks.sum(1).max() == 9


def test_distill_moves_the_policy_toward_the_search() -> None:
    torch.manual_seed(0)
    policy = MaskableActorCriticPolicy(
        spaces.Box(0, 1, (2, 3, 3), np.float32), spaces.Discrete(9), lambda _: 3e-4
    )
    config = SearchConfig(simulations=64, rollout_weight=1.0)
    obs, masks, targets = self_play_targets(
        new_state, puct_search(uniform, config), 4, sample_moves=9
    )
    before, after = distill(policy, obs, masks, targets, epochs=30, batch_size=16,
                            learning_rate=3e-3)  # fmt: skip
    assert after < before - 0.1, (before, after)
    priors, _ = sb3_policy_value(policy)(obs, masks)
    assert (priors[~masks] < 1e-6).all()  # illegal moves stay out
    agreement = (priors.argmax(1) == targets.argmax(1)).mean()
    assert agreement > 0.5, agreement
