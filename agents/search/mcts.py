"""AlphaZero-style Monte Carlo tree search (PUCT) over any policy-value network.

The search sees a game only through :class:`SearchState` (copy, legal actions, play, whose
turn, outcome, observation) and the network only through :data:`PolicyValueFn`
(observations and masks in, priors and values out, batched). Nothing here knows which game
it plays.

Each simulation walks down the tree choosing ``argmax Q + U`` with
``U = c_puct * P * sqrt(N_parent) / (1 + N_child)``, expands the leaf with the network's
priors, and backs the leaf's value up, negating it at each level (two players, zero sum).
Leaves are gathered ``batch_size`` at a time under a virtual loss, so the network runs on
batches. Dirichlet noise at the root spreads self-play over more openings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class SearchState(Protocol):
    """A game position the search can copy and play forward."""

    def copy(self) -> SearchState: ...
    def legal_mask(self) -> np.ndarray: ...
    def play(self, action: int) -> None: ...
    def is_over(self) -> bool: ...
    def to_play(self) -> int: ...  # 0 or 1
    def outcome(self, player: int) -> float: ...  # +1 win, -1 loss, 0 draw; at the end
    def observation(self) -> np.ndarray: ...  # the network's input for the player to move
    # Only with SearchConfig.rollout_weight > 0: the result for the player to move after a
    # random playout seeded by u in [0, 1).
    def rollout(self, u: float) -> float: ...


# (observations (B, ...), masks (B, A)) -> (priors (B, A), values (B,)) for the player to move.
PolicyValueFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass
class SearchConfig:
    """How hard to search."""

    simulations: int = 100
    c_puct: float = 1.5
    batch_size: int = 8
    dirichlet_alpha: float = 0.3
    noise_fraction: float = 0.0  # 0.25 in self-play; 0 when playing for real
    virtual_loss: float = 1.0
    # AlphaGo's mixing: a leaf's value is (1 - w) * network value + w * the result of a random
    # playout from it (states need ``rollout(u)``); 0: the network alone, as in AlphaZero.
    rollout_weight: float = 0.0
    # Share of a uniform prior mixed into every node's network priors: a small network often
    # puts ~0 on the one move that matters (a block, a capture), and PUCT then never tries it.
    prior_mix: float = 0.0


class Node:
    """A position in the tree, with the statistics of the moves out of it as arrays.

    ``visits[k]``, ``values[k]`` (summed, from the view of the player to move here) and
    ``priors[k]`` belong to the move ``actions[k]``; ``children[k]`` is the position it leads
    to, made on first visit. Arrays let the selection score every move in one numpy call.
    """

    __slots__ = ("state", "actions", "priors", "visits", "values", "pending", "children",
                 "terminal")  # fmt: skip

    def __init__(self, state: Any) -> None:
        self.state = state
        self.actions: np.ndarray | None = None  # None until the network has evaluated it
        self.terminal: float | None = None  # the outcome for the player who moved in, at the end

    def expand(self, actions: np.ndarray, priors: np.ndarray) -> None:
        self.actions = actions
        self.priors = priors
        self.visits = np.zeros(len(actions))
        self.values = np.zeros(len(actions))
        self.pending = np.zeros(len(actions))
        self.children: list[Node | None] = [None] * len(actions)


Path = list[tuple[Node, int]]  # (node, index of the move taken from it)


class MCTS:
    """PUCT search; ``search(state)`` returns visit counts over actions."""

    def __init__(self, evaluate: PolicyValueFn, config: SearchConfig | None = None, seed: int = 0):
        self.evaluate = evaluate
        self.config = config or SearchConfig()
        self.rng = np.random.default_rng(seed)

    def search(self, state: SearchState) -> np.ndarray:
        """Run the simulations from ``state``; returns visit counts per action."""
        root = Node(state.copy())
        counts = np.zeros(len(root.state.legal_mask()), dtype=np.float64)
        if root.state.is_over():
            return counts
        self._expand([(root, [])])
        if self.config.noise_fraction > 0:
            self._add_noise(root)
        done = 0
        while done < self.config.simulations:
            batch: list[tuple[Node, Path]] = []
            while len(batch) < self.config.batch_size and done < self.config.simulations:
                leaf, path = self._select(root)
                if leaf.terminal is not None:
                    done += 1
                    self._backup(path, leaf.terminal)
                    continue
                parent, k = path[-1]
                if parent.pending[k]:
                    break  # this leaf already waits for the network in this batch
                done += 1
                for node, k in path:
                    node.pending[k] += 1
                batch.append((leaf, path))
            if batch:
                self._expand(batch)
        counts[root.actions] = root.visits
        return counts

    def _select(self, root: Node) -> tuple[Node, Path]:
        """Walk down by PUCT to a position not yet evaluated (or a finished one)."""
        node, path = root, []
        while node.actions is not None and len(node.actions):
            visits = node.visits + node.pending
            # Pending visits count as losses, steering a batch's simulations apart.
            losses = self.config.virtual_loss * node.pending
            q = np.divide(node.values - losses, visits, out=np.zeros_like(visits), where=visits > 0)
            u = self.config.c_puct * node.priors * np.sqrt(visits.sum() + 1) / (1 + visits)
            k = int(np.argmax(q + u))
            path.append((node, k))
            child = node.children[k]
            if child is None:
                child = node.children[k] = self._materialize(node, int(node.actions[k]))
                return child, path
            if child.terminal is not None or child.actions is None:
                return child, path
            node = child
        return node, path

    def _materialize(self, parent: Node, action: int) -> Node:
        state = parent.state.copy()
        mover = state.to_play()
        state.play(action)
        child = Node(state)
        if state.is_over():
            child.terminal = state.outcome(mover)
        return child

    def _expand(self, batch: list[tuple[Node, Path]]) -> None:
        """Evaluate the leaves in one network call, give them moves, back values up."""
        observations = np.stack([leaf.state.observation() for leaf, _ in batch])
        masks = np.stack([leaf.state.legal_mask() for leaf, _ in batch]).astype(bool)
        priors, values = self.evaluate(observations, masks)
        weight = self.config.rollout_weight
        if weight > 0:
            results = [leaf.state.rollout(self.rng.random()) for leaf, _ in batch]
            values = (1 - weight) * np.asarray(values, dtype=np.float64) + weight * np.array(
                results
            )
        for (leaf, path), prior, mask, value in zip(batch, priors, masks, values, strict=True):
            legal = np.flatnonzero(mask)
            p = np.asarray(prior, dtype=np.float64)[legal]
            total = p.sum()
            flat = np.full(len(legal), 1.0 / len(legal))
            p = p / total if total > 0 else flat
            mix = self.config.prior_mix
            leaf.expand(legal, (1 - mix) * p + mix * flat if mix > 0 else p)
            for node, k in path:
                node.pending[k] = max(0.0, node.pending[k] - 1)
            # ``value`` is for the player to move at the leaf; the move into it is scored for
            # the player who made it.
            self._backup(path, -float(value))

    def _backup(self, path: Path, value: float) -> None:
        """Add ``value`` (for the player who made the last move of the path) along the path."""
        for node, k in reversed(path):
            node.visits[k] += 1
            node.values[k] += value
            value = -value

    def _add_noise(self, root: Node) -> None:
        noise = self.rng.dirichlet([self.config.dirichlet_alpha] * len(root.actions))
        fraction = self.config.noise_fraction
        root.priors = (1 - fraction) * root.priors + fraction * noise

    def choose(self, counts: np.ndarray, temperature: float = 0.0) -> int:
        """An action from visit counts: the most visited, or sampled with a temperature."""
        if temperature <= 0:
            best = np.flatnonzero(counts == counts.max())
            return int(self.rng.choice(best))
        weights = counts ** (1.0 / temperature)
        return int(self.rng.choice(len(counts), p=weights / weights.sum()))
