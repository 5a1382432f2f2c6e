"""Search many games at once: trees in numba, the network on one batch of leaves per step.

:class:`BatchedSearch` owns a :class:`~agents.zero.tree.Trees` and runs ``simulations`` steps
for any subset of its games: each step selects one leaf per game, lets the game fill the
leaves' positions, evaluates them all in one network call and backs the values up. Self-play
runs every game of a batch through it together; a player in a match is a batch of one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from agents.zero.game import Positions
from agents.zero.tree import (
    EVALUATE,
    IDLE,
    SearchSettings,
    Trees,
    _expand,
    _results,
    _select,
    halving_table,
)

# (planes (K, C, H, W) float32, legal masks (K, A) bool) -> (log priors (K, A) float32 with
# -inf on illegal moves, values (K,) float32 in [-1, 1] for the player to move).
Evaluate = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
# (position rows (B, M, S), games (K,), nodes (K,), network values (K,)) -> the leaves' values
# (K,) for the player to move, e.g. mixed with playouts (agents/search/playouts.PlayoutValues).
Mix = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass
class SearchResult:
    """What one search gave for each game searched (rows in the order of ``games``)."""

    games: np.ndarray
    actions: np.ndarray  # the move chosen
    policy: np.ndarray  # (K, A) the policy target (improved policy, or visit shares)
    root_values: np.ndarray  # the root's mean value for the player to move
    prior_values: np.ndarray  # the network's value of the root before searching
    evaluations: int  # network evaluations this search made (roots included)


class BatchedSearch:
    """Searches for up to ``games`` games over one game's :class:`Positions`."""

    def __init__(
        self,
        positions: Positions,
        evaluate: Evaluate,
        settings: SearchSettings,
        games: int,
        seed: int = 0,
        max_simulations: int | None = None,
        mix: Mix | None = None,
    ) -> None:
        """``mix``: what becomes of the network's values of the leaves (roots excepted)
        before they are backed up (None: used as they are)."""
        self.positions, self.evaluate, self.settings = positions, evaluate, settings
        self.mix = mix
        sims = max(max_simulations or 0, settings.simulations)
        # A reused subtree plus one search's new nodes (and the root's children made by moves).
        self.trees = Trees(games, 2 * sims + 4, positions.num_actions, positions.state_size)
        self.rng = np.random.default_rng(seed)
        a = positions.num_actions
        self.gumbel = np.zeros((games, a), dtype=np.float32)
        self.start = np.zeros((games, a), dtype=np.int32)
        self.noise = np.full((games, a), -1.0, dtype=np.float32)
        self.targets = np.zeros(games, dtype=np.int32)
        self._buf = np.zeros((2, a), dtype=np.float64)
        self._tables: dict[int, np.ndarray] = {}
        slots = games * max(1, settings.leaves)  # leaves evaluated together at most
        self._obs = np.zeros((slots, *positions.obs_shape), dtype=np.float32)
        self._masks = np.zeros((slots, a), dtype=np.bool_)
        self._terminal = np.zeros(slots, dtype=np.float32)
        self._out = [np.zeros(games, dtype=np.int32) for _ in range(4)]

    # -- following games ------------------------------------------------------------------------

    def reset(self, game: int, row: np.ndarray | None = None) -> None:
        """Start game ``game`` from ``row`` (default: the initial position)."""
        row = self.positions.initial() if row is None else row
        self.trees.reset(game, row, self.positions.terminal_value(row))

    def row(self, game: int) -> np.ndarray:
        """The current position of game ``game`` (its root's row; do not change it)."""
        return self.trees.states[game, 0]

    def advance(self, games: np.ndarray, actions: np.ndarray) -> None:
        """Play ``actions[i]`` in game ``games[i]``: the child becomes the root, its subtree
        kept (a new node when the search never tried the move)."""
        trees, fresh = self.trees, []
        for game, action in zip(games.tolist(), actions.tolist(), strict=True):
            row = trees.states[game, 0]
            if (
                not 0 <= action < self.positions.num_actions
                or not self.positions.legal_mask(row)[action]
            ):
                self.positions.play(row.copy(), action)  # raises, naming the move and why
                raise ValueError(f"illegal action {action} in game {game}")
            child = int(trees.children[game, 0, action])
            if child >= 0:
                trees.move_root(game, child)
            else:
                fresh.append((game, trees.add_child(game, action), action))
        if fresh:
            k = len(fresh)
            index, children, moves = (
                np.array(column, dtype=np.int64) for column in zip(*fresh, strict=True)
            )
            self.positions.expand(trees.states, index, np.zeros(k, np.int64), children, moves,
                                  self._obs[:k], self._masks[:k], self._terminal[:k])  # fmt: skip
            for i, (game, child, _) in enumerate(fresh):
                trees.terminal[game, child] = self._terminal[i]
                trees.move_root(game, child)

    # -- searching ------------------------------------------------------------------------------

    def _table(self, simulations: int) -> np.ndarray:
        if simulations not in self._tables:
            self._tables[simulations] = halving_table(self.settings.considered, simulations)
        return self._tables[simulations]

    def _evaluate_roots(self, games: np.ndarray) -> int:
        trees = self.trees
        todo = games[~trees.expanded[games, 0]]
        if len(todo) == 0:
            return 0
        k, zeros = len(todo), np.zeros(len(todo), dtype=np.int64)
        self.positions.observe(trees.states, todo, zeros, self._obs[:k], self._masks[:k])
        logits, values = self.evaluate(self._obs[:k], self._masks[:k])
        _expand(trees.parent, trees.logits, trees.n, trees.w, trees.pending, trees.value,
                trees.terminal, trees.expanded, todo, zeros.astype(np.int32), logits, values,
                np.full(k, np.nan, np.float32), False)  # fmt: skip
        return k

    def _forbid(self, games: np.ndarray, forbidden: np.ndarray) -> None:
        trees = self.trees
        for i, game in enumerate(games.tolist()):
            drop = forbidden[i] & np.isfinite(trees.logits[game, 0])
            if not drop.any():
                continue
            if not np.isfinite(trees.logits[game, 0][~drop]).any():
                raise ValueError(f"game {game}: every legal move at the root is forbidden")
            if (trees.children[game, 0][drop] >= 0).any():  # visits under a forbidden move
                trees.prune(game)
            trees.logits[game, 0][drop] = -np.inf

    def _prepare(self, games: np.ndarray, simulations: int, self_play: bool) -> None:
        trees, settings = self.trees, self.settings
        for game in games.tolist():
            if trees.num_nodes[game] + simulations + 2 > trees.max_nodes:
                trees.prune(game)
        children = trees.children[games, 0]
        visits = np.where(children >= 0, trees.n[games[:, None], np.maximum(children, 0)], 0)
        self.start[games] = visits
        legal = np.isfinite(trees.logits[games, 0])
        if settings.kind == "gumbel":
            noise = self.rng.gumbel(size=legal.shape) if self_play else np.zeros(legal.shape)
            self.gumbel[games] = noise
            considered = np.minimum(settings.considered, legal.sum(axis=1))
            self._considered = np.zeros(trees.games, dtype=np.int64)
            self._considered[games] = considered
        elif self_play and settings.noise_fraction > 0:
            for i, game in enumerate(games.tolist()):
                prior = np.exp(trees.logits[game, 0])
                dirichlet = self.rng.dirichlet([settings.dirichlet_alpha] * int(legal[i].sum()))
                mixed = (1 - settings.noise_fraction) * prior[legal[i]]
                self.noise[game] = -1.0
                self.noise[game, legal[i]] = mixed + settings.noise_fraction * dirichlet
        else:
            self.noise[games] = -1.0

    def _evaluate_leaves(
        self, games: np.ndarray, found: list[tuple[np.ndarray, ...]], virtual: bool
    ) -> int:
        """Fill, evaluate and back up the leaves of one step; returns network evaluations."""
        k = len(games)
        if k == 0:
            return 0
        trees = self.trees
        parents, leaves, actions = (np.concatenate(column) for column in zip(*found, strict=True))
        obs, masks, terminal = self._obs[:k], self._masks[:k], self._terminal[:k]
        self.positions.expand(trees.states, games, parents.astype(np.int64),
                              leaves.astype(np.int64), actions.astype(np.int64), obs, masks,
                              terminal)  # fmt: skip
        logits = np.full((k, self.positions.num_actions), -np.inf, dtype=np.float32)
        values = np.zeros(k, dtype=np.float32)
        live = np.flatnonzero(np.isnan(terminal))
        if len(live):
            logits[live], values[live] = self.evaluate(obs[live], masks[live])
            if self.mix is not None:
                values[live] = self.mix(trees.states, games[live], leaves[live], values[live])
        _expand(trees.parent, trees.logits, trees.n, trees.w, trees.pending, trees.value,
                trees.terminal, trees.expanded, games, leaves, logits, values, terminal,
                virtual)  # fmt: skip
        return len(live)

    def run(
        self,
        games: np.ndarray,
        simulations: int | None = None,
        self_play: bool = False,
        forbidden: np.ndarray | None = None,
    ) -> SearchResult:
        """Search the listed games (none of them over) and say what each would play;
        ``forbidden`` (K, A) bool keeps legal moves out of the search at each game's root (a
        player's own rule; at least one legal move must stay)."""
        games = np.asarray(games, dtype=np.int64)
        settings, trees = self.settings, self.trees
        simulations = settings.simulations if simulations is None else simulations
        evaluations = self._evaluate_roots(games)
        if forbidden is not None:
            self._forbid(games, np.asarray(forbidden, dtype=np.bool_))
        prior_values = trees.value[games, 0].copy()
        self._prepare(games, simulations, self_play)
        active = np.zeros(trees.games, dtype=np.bool_)
        active[games] = True
        puct = settings.kind == "puct"
        table = self._table(max(simulations, 1))
        out_parent, out_action, out_leaf, out_kind = self._out
        leaves_per_step = max(1, settings.leaves)
        virtual = leaves_per_step > 1
        done = np.zeros(trees.games, dtype=np.int64)  # simulations made, per tree
        while (done[games] < simulations).any():
            found_games, found = [], []
            for _ in range(leaves_per_step):  # each sees the virtual losses of those before
                active[:] = False
                active[games] = done[games] < simulations
                if not active.any():
                    break
                if not puct:
                    self.targets[games] = table[
                        self._considered[games], np.minimum(done[games], simulations - 1)
                    ]
                _select(trees.parent, trees.action_in, trees.children, trees.logits, trees.n,
                        trees.w, trees.pending, trees.value, trees.terminal, trees.expanded,
                        trees.num_nodes, active, self.gumbel, self.start, self.noise,
                        self.targets, puct, settings.c_visit, settings.c_scale,
                        settings.c_puct, settings.fpu, virtual, out_parent, out_action,
                        out_leaf, out_kind, self._buf)  # fmt: skip
                # A selection that met a leaf still waiting for the network (IDLE) did not
                # happen: its tree tries again, so the halving schedule stays exact.
                done += out_kind != IDLE
                todo = np.flatnonzero(out_kind == EVALUATE)
                found_games.append(todo)
                found.append((out_parent[todo].copy(), out_leaf[todo].copy(),
                              out_action[todo].copy()))  # fmt: skip
            evaluations += self._evaluate_leaves(np.concatenate(found_games), found, virtual)
        k = len(games)
        chosen = np.zeros(k, dtype=np.int64)
        policy = np.zeros((k, self.positions.num_actions), dtype=np.float64)
        root_values = np.zeros(k, dtype=np.float64)
        _results(trees.children, trees.logits, trees.n, trees.w, trees.pending, trees.value,
                 games, self.gumbel, self.start, puct, settings.c_visit, settings.c_scale, chosen,
                 policy, root_values, self._buf)  # fmt: skip
        return SearchResult(games, chosen, policy.astype(np.float32), root_values, prior_values,
                            evaluations)  # fmt: skip
