"""A player that searches before each move: any policy-value network plus the batched search.

It follows the game it plays (``reset`` before a game, ``observe`` after every move, its own
included) in its own position row, keeps the subtree of each move it sees, and on its turn
runs ``settings.simulations`` simulations without noise and plays the chosen move. With a
Gumbel root that is the survivor of sequential halving; with PUCT the most visited move.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from agents.base import Player
from agents.zero.game import Positions, move_actions, transform_planes
from agents.zero.search import BatchedSearch, Evaluate, Mix
from agents.zero.tree import SearchSettings

# (planes (B, ...), masks (B, A)) -> (probabilities (B, A), values (B,)) for the player to move.
PolicyValue = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def as_evaluate(policy_value: PolicyValue, prior_mix: float = 0.0) -> Evaluate:
    """The search's ``evaluate`` (log priors) from a network's probabilities, with a share
    ``prior_mix`` of the uniform prior over the legal moves mixed in (a small network often puts
    ~0 on the one move that matters, and the search then never tries it)."""

    def evaluate(planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        priors, values = policy_value(planes, masks)
        priors = np.where(masks, np.asarray(priors, dtype=np.float64), 0.0)
        total = priors.sum(axis=1, keepdims=True)
        legal = masks.sum(axis=1, keepdims=True)
        uniform = masks / np.maximum(legal, 1)
        priors = np.where(total > 0, priors / np.maximum(total, 1e-300), uniform)
        if prior_mix > 0:
            priors = (1 - prior_mix) * priors + prior_mix * uniform
        with np.errstate(divide="ignore"):
            logits = np.where(masks, np.log(priors), -np.inf)
        return logits.astype(np.float32), np.asarray(values, dtype=np.float32)

    return evaluate


def averaged(evaluate: Evaluate, positions: Positions, count: int) -> Evaluate:
    """``evaluate`` averaged over the first ``count`` of the board's symmetries (the identity
    first), in one network call: priors averaged as probabilities, values as values. Evaluation
    time only: it costs ``count`` positions a leaf and takes out part of the network's error
    (AlphaGo Zero's evaluation averaged all 8 symmetries of Go)."""
    codes = positions.symmetry_codes[: max(1, count)]
    perms = [positions.action_permutation(code) for code in codes]

    def evaluate_every_way(planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = len(planes)
        logits, values = evaluate(
            np.concatenate([transform_planes(planes, code) for code in codes]),
            np.concatenate([move_actions(masks, perm) for perm in perms]),
        )
        priors = sum(np.exp(logits[i * k : (i + 1) * k][:, perm].astype(np.float64))
                     for i, perm in enumerate(perms))  # fmt: skip
        with np.errstate(divide="ignore"):
            mean_logits = np.log(priors / len(codes)).astype(np.float32)
        return mean_logits, values.reshape(len(codes), k).mean(axis=0).astype(np.float32)

    return evaluate_every_way


class SearchPlayer(Player):
    """Plays by searching from the game's current position (see the module docstring)."""

    def __init__(
        self,
        positions: Positions,
        evaluate: Evaluate,
        settings: SearchSettings,
        seed: int = 0,
        forbid: Callable[[np.ndarray], np.ndarray | None] | None = None,
        mix: Mix | None = None,
    ) -> None:
        """``forbid(row)``: legal moves this player will not search at the position ``row``
        (None: any), e.g. Go's ``GoPositions.first_pass_forbidden``; ``mix``: the leaves'
        values from the network's (``BatchedSearch``), e.g. Go's playouts mixed in."""
        self.positions, self.settings, self.forbid = positions, settings, forbid
        self.search = BatchedSearch(positions, evaluate, settings, games=1, seed=seed, mix=mix)
        self.seconds = 0.0  # time spent searching, for time-per-move comparisons
        self.moves = 0
        self.reset()

    def reset(self) -> None:
        """Start a new game from the initial position."""
        self.search.reset(0)

    def seed(self, seed: int) -> None:
        """Restart the random stream (ties between equal moves)."""
        self.search.rng = np.random.default_rng(seed)

    def observe(self, action: int) -> None:
        """A move was played, by either side."""
        self.search.advance(np.zeros(1, dtype=np.int64), np.array([int(action)]))

    def close(self) -> None:
        """Nothing to release."""

    def time_per_move(self) -> float:
        """Mean seconds a search took so far (0 before the first)."""
        return self.seconds / self.moves if self.moves else 0.0

    def __call__(self, obs: object, mask: np.ndarray) -> int:
        started = time.perf_counter()
        forbidden = None if self.forbid is None else self.forbid(self.search.row(0))
        result = self.search.run(
            np.zeros(1, dtype=np.int64), forbidden=None if forbidden is None else forbidden[None]
        )
        self.seconds += time.perf_counter() - started
        self.moves += 1
        action = int(result.actions[0])
        if not np.asarray(mask, dtype=bool)[action]:  # the game and this player disagree
            raise RuntimeError(
                f"search chose action {action}, illegal in the game it was asked about: "
                "the player missed a move (observe) or a reset"
            )
        return action
