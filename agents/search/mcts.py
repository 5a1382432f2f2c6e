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

import math
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


class Node:
    """One position in the tree; its statistics are from the view of the player who moved in."""

    __slots__ = ("state", "prior", "visits", "value_sum", "children", "pending", "terminal")

    def __init__(self, prior: float) -> None:
        self.prior = prior
        self.state: Any = None
        self.visits = 0
        self.value_sum = 0.0
        self.children: dict[int, Node] = {}
        self.pending = 0
        self.terminal: float | None = None

    def q(self) -> float:
        return self.value_sum / self.visits if self.visits else 0.0


class MCTS:
    """PUCT search; ``search(state)`` returns visit counts over actions."""

    def __init__(self, evaluate: PolicyValueFn, config: SearchConfig | None = None, seed: int = 0):
        self.evaluate = evaluate
        self.config = config or SearchConfig()
        self.rng = np.random.default_rng(seed)

    def search(self, state: SearchState) -> np.ndarray:
        """Run the simulations from ``state``; returns visit counts per action."""
        root = Node(1.0)
        root.state = state.copy()
        counts = np.zeros(len(root.state.legal_mask()), dtype=np.float64)
        if root.state.is_over():
            return counts
        self._expand([(root, [root])])
        if self.config.noise_fraction > 0:
            self._add_noise(root)
        done = 0
        while done < self.config.simulations:
            batch: list[tuple[Node, list[Node]]] = []
            while len(batch) < self.config.batch_size and done < self.config.simulations:
                leaf, path = self._select(root)
                if leaf.terminal is not None:
                    done += 1
                    self._backup(path, leaf.terminal)
                    continue
                if leaf.pending:  # already waiting for the network in this batch
                    break
                done += 1
                for node in path:
                    node.pending += 1
                batch.append((leaf, path))
            if batch:
                self._expand(batch)
        for action, child in root.children.items():
            counts[action] = child.visits
        return counts

    def _select(self, root: Node) -> tuple[Node, list[Node]]:
        """Walk down by PUCT to a node not yet evaluated (or a terminal one)."""
        node, path = root, [root]
        while node.children:
            parent_visits = node.visits + node.pending
            scale = self.config.c_puct * math.sqrt(parent_visits + 1)
            best_action, best, best_score = -1, None, -math.inf
            for action, child in node.children.items():
                visits = child.visits + child.pending
                # Pending visits count as losses, steering a batch's simulations apart.
                loss = self.config.virtual_loss * child.pending
                q = (child.value_sum - loss) / visits if visits else 0.0
                score = q + scale * child.prior / (1 + visits)
                if score > best_score:
                    best_action, best, best_score = action, child, score
            path.append(best)
            if best.state is None:
                self._materialize(best, node, best_action)
                return best, path
            node = best
        return node, path

    def _materialize(self, leaf: Node, parent: Node, action: int) -> None:
        leaf.state = parent.state.copy()
        mover = leaf.state.to_play()
        leaf.state.play(action)
        if leaf.state.is_over():
            leaf.terminal = leaf.state.outcome(mover)

    def _expand(self, batch: list[tuple[Node, list[Node]]]) -> None:
        """Evaluate the leaves in one network call, give them children, back values up."""
        observations = np.stack([leaf.state.observation() for leaf, _ in batch])
        masks = np.stack([leaf.state.legal_mask() for leaf, _ in batch]).astype(bool)
        priors, values = self.evaluate(observations, masks)
        for (leaf, path), prior, mask, value in zip(batch, priors, masks, values, strict=True):
            legal = np.flatnonzero(mask)
            p = np.asarray(prior, dtype=np.float64)[legal]
            total = p.sum()
            p = p / total if total > 0 else np.full(len(legal), 1.0 / len(legal))
            leaf.children = {int(a): Node(float(pa)) for a, pa in zip(legal, p, strict=True)}
            for node in path:
                node.pending = max(0, node.pending - 1)
            # ``value`` is for the player to move at the leaf; nodes keep their statistics for
            # the player who moved into them.
            self._backup(path, -float(value))

    def _backup(self, path: list[Node], value: float) -> None:
        """Add ``value`` (for the player who moved into the last node) along the path."""
        for node in reversed(path):
            node.visits += 1
            node.value_sum += value
            value = -value

    def _add_noise(self, root: Node) -> None:
        actions = list(root.children)
        noise = self.rng.dirichlet([self.config.dirichlet_alpha] * len(actions))
        fraction = self.config.noise_fraction
        for action, eta in zip(actions, noise, strict=True):
            child = root.children[action]
            child.prior = (1 - fraction) * child.prior + fraction * eta

    def choose(self, counts: np.ndarray, temperature: float = 0.0) -> int:
        """An action from visit counts: the most visited, or sampled with a temperature."""
        if temperature <= 0:
            best = np.flatnonzero(counts == counts.max())
            return int(self.rng.choice(best))
        weights = counts ** (1.0 / temperature)
        return int(self.rng.choice(len(counts), p=weights / weights.sum()))
