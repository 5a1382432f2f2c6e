"""Expert iteration: the tree search teaches the network (Anthony et al. 2017; AlphaZero).

A round plays self-play games with a tree search (by default MCTS over the current network,
with Dirichlet noise at the root; a game may supply a stronger one); moves are sampled in
proportion to the visit counts for the first ``sample_moves`` moves of a game, then the most
visited. Every position's visit distribution becomes a policy target, and the network's policy
head is trained toward those targets by cross-entropy. Between rounds the learner goes on with
PPO, so the search's improvements flow into the policy that PPO, the opponent pool and the
next round's search all use.

Works for any game seen through :class:`agents.search.mcts.SearchState` and any SB3
actor-critic policy (MaskablePPO's included); nothing here knows which game it plays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from agents.search.mcts import MCTS, PolicyValueFn, SearchConfig, SearchState

SearchFn = Callable[[SearchState], np.ndarray]  # a position -> visit counts per action


def puct_search(evaluate: PolicyValueFn, config: SearchConfig, seed: int = 0) -> SearchFn:
    """The generic expert: PUCT over the network (with root noise when the config has it)."""
    return MCTS(evaluate, config, seed).search


def self_play_targets(
    new_state: Callable[[], SearchState],
    search: SearchFn,
    games: int,
    sample_moves: int,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Play ``games`` games of the search against itself; return the positions'
    observations, legal masks and visit distributions (rows sum to 1 over legal actions)."""
    rng = np.random.default_rng(seed)
    observations, masks, targets = [], [], []
    for _ in range(games):
        state = new_state()
        moves = 0
        while not state.is_over():
            counts = search(state)
            target = counts / counts.sum()
            observations.append(state.observation())
            masks.append(state.legal_mask())
            targets.append(target)
            if moves < sample_moves:
                action = int(rng.choice(len(target), p=target))
            else:
                action = int(rng.choice(np.flatnonzero(counts == counts.max())))
            state.play(action)
            moves += 1
    return np.stack(observations), np.stack(masks).astype(bool), np.stack(targets)


def _policy_logits(policy: Any, obs: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    features = policy.extract_features(obs, policy.pi_features_extractor)
    logits = policy.action_net(policy.mlp_extractor.forward_actor(features))
    return logits.masked_fill(~masks, -1e9)


def distill(
    policy: Any,
    observations: np.ndarray,
    masks: np.ndarray,
    targets: np.ndarray,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int = 0,
) -> tuple[float, float]:
    """Train ``policy``'s action head (and the layers under it) toward ``targets`` by
    cross-entropy over minibatches; return the mean cross-entropy before and after."""
    device = policy.device
    obs = torch.as_tensor(observations, dtype=torch.float32, device=device)
    legal = torch.as_tensor(masks, dtype=torch.bool, device=device)
    goal = torch.as_tensor(targets, dtype=torch.float32, device=device)

    def cross_entropy(index: Any) -> torch.Tensor:
        log_probs = torch.log_softmax(_policy_logits(policy, obs[index], legal[index]), dim=-1)
        return -(goal[index] * log_probs).sum(-1).mean()

    everything = torch.arange(len(obs), device=device)
    with torch.no_grad():
        before = float(cross_entropy(everything))
    optimizer = torch.optim.Adam(policy.parameters(), lr=learning_rate)
    generator = torch.Generator().manual_seed(seed)
    policy.set_training_mode(True)
    for _ in range(epochs):
        for batch in torch.randperm(len(obs), generator=generator).split(batch_size):
            loss = cross_entropy(batch.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    policy.set_training_mode(False)
    with torch.no_grad():
        after = float(cross_entropy(everything))
    return before, after
