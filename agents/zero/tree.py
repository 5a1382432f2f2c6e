"""Many search trees at once, in numba: AlphaZero's PUCT and Gumbel AlphaZero's root.

One :class:`Trees` holds B trees of at most M nodes over A actions, as arrays (node 0 is each
tree's root). A search step selects one leaf per tree (:meth:`Trees.select`); the game fills the
leaves' positions (``Positions.expand``), the network evaluates all of them in one batch, and
:meth:`Trees.expand` backs the values up. The tree code never sees a game's rules.

Statistics per node: ``n`` visits, ``w`` the summed values from the side of the player who
moved *into* the node (so ``w / n`` is the Q of the move that leads there), ``value`` the
network's value for the player to move there, ``logits`` the log prior of each move (``-inf``
for illegal ones), ``terminal`` the result for the player to move when the game is over there.

Selection (``kind``):

- ``"puct"`` (AlphaZero): ``argmax Q + c_puct * P * sqrt(sum N) / (1 + N)``, unvisited moves
  valued at the node's network value minus ``fpu``; Dirichlet noise on the root priors in
  self-play; the policy target is the root's visit distribution.
- ``"gumbel"`` (Danihelka et al. 2022, "Policy improvement by planning with Gumbel"): at the
  root, sequential halving over the ``considered`` moves of highest ``g + logits`` (``g``
  Gumbel noise in self-play, 0 for play), each round keeping the half with the highest
  ``g + logits + sigma(q)``; inside the tree, the deterministic choice that moves the visit
  distribution towards the improved policy ``softmax(logits + sigma(completed q))``. The
  policy target is that improved policy, which improves on the prior even with 8 simulations.
  ``sigma(q) = (c_visit + max N) * c_scale * q`` with q rescaled to [0, 1] over the moves and
  unvisited moves completed by the mixed value (the paper's Appendix D).

Subtree reuse: after a move, :meth:`Trees.advance` keeps the chosen child's subtree as the new
tree (compacted to the front of the arrays, positions included), so its visits carry over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from agents.zero.scores import (
    _improved_policy,
    _select_gumbel_interior,
    _select_gumbel_root,
    _select_puct,
    _sigma,
)

UNUSED = -1
# Kinds of selected leaves.
IDLE, EVALUATE, DONE = 0, 1, 2


@dataclass
class SearchSettings:
    """How a search selects, scores and chooses (see the module docstring)."""

    kind: str = "gumbel"
    simulations: int = 32
    considered: int = 16  # gumbel: moves sampled at the root
    c_visit: float = 50.0  # gumbel: sigma's visit offset
    c_scale: float = 0.1  # gumbel: sigma's scale
    c_puct: float = 1.5  # puct: exploration constant
    fpu: float = 0.2  # puct: unvisited moves are valued at the node's value minus this
    dirichlet_alpha: float = 0.3  # puct: root noise in self-play
    noise_fraction: float = 0.25  # puct: share of the noise in the root priors (self-play)
    leaves: int = 1  # leaves per tree sent to the network together (virtual loss when > 1)

    def __post_init__(self) -> None:
        if self.kind not in ("gumbel", "puct"):
            raise ValueError(f"search kind must be 'gumbel' or 'puct', got {self.kind!r}")
        if self.simulations < 1:
            raise ValueError(f"simulations must be at least 1, got {self.simulations}")
        if self.considered < 1:
            raise ValueError(f"considered must be at least 1, got {self.considered}")


def halving_table(considered: int, simulations: int) -> np.ndarray:
    """(considered + 1, simulations) int32: for m moves in play, the visit count (since the
    search began) that the root move of simulation i must have: sequential halving, each
    round giving every remaining move the same number of visits, then halving the moves."""
    table = np.zeros((considered + 1, max(simulations, 1)), dtype=np.int32)
    for m in range(1, considered + 1):
        if m == 1:
            table[m] = np.arange(simulations)
            continue
        rounds = math.ceil(math.log2(m))
        sequence: list[int] = []
        visits, alive = [0] * m, m
        while len(sequence) < simulations:
            extra = max(1, simulations // (rounds * alive))
            for _ in range(extra):
                sequence.extend(visits[:alive])
                visits[:alive] = [v + 1 for v in visits[:alive]]
            alive = max(2, alive // 2)
        table[m] = sequence[:simulations]
    return table


# ---------------------------------------------------------------------------------------------
# Kernels (one tree b of the batch; arrays as in Trees)
# ---------------------------------------------------------------------------------------------


@njit(cache=True)
def _backup(parent, n, w, b, leaf, leaf_value):
    """Add a value (for the player to move at ``leaf``) to the path from ``leaf`` to the root."""
    node, x = leaf, leaf_value
    while node != UNUSED:
        n[b, node] += 1
        w[b, node] -= x
        x = -x
        node = parent[b, node]


@njit(cache=True)
def _select(parent, action_in, children, logits, n, w, pending, value, terminal, expanded,
            num_nodes,
            active, gumbel, start, noise, targets, puct, c_visit, c_scale, c_puct, fpu,
            virtual, out_parent, out_action, out_leaf, out_kind, buf):  # fmt: skip
    """One leaf per active tree: walk down to a move never tried (a new node is allocated for
    it: EVALUATE) or to a finished game (its result is backed up here: DONE).

    With ``virtual``, several leaves of one tree wait for the network together: each EVALUATE
    path carries a virtual loss (a visit that counts as a loss for every mover on it) until
    :func:`_expand` takes it back, so the next selection looks elsewhere; reaching a node that
    another selection of this step made (not evaluated yet) gives up (IDLE)."""
    for b in range(parent.shape[0]):
        out_kind[b] = IDLE
        if not active[b]:
            continue
        node = 0
        while True:
            if puct:
                a = _select_puct(children, logits, n, w, pending, value, b, node, noise, c_puct,
                                 fpu)  # fmt: skip
            elif node == 0:
                a = _select_gumbel_root(children, logits, n, w, pending, value, b, gumbel, start,
                                        targets[b], c_visit, c_scale, buf)  # fmt: skip
            else:
                a = _select_gumbel_interior(children, logits, n, w, pending, value, b, node,
                                            c_visit, c_scale, buf)  # fmt: skip
            child = children[b, node, a]
            if child < 0:
                child = num_nodes[b]
                num_nodes[b] += 1
                children[b, node, a] = child
                parent[b, child], action_in[b, child] = node, a
                n[b, child], w[b, child], pending[b, child] = 0, 0.0, 0
                expanded[b, child], terminal[b, child] = False, np.nan
                children[b, child, :] = UNUSED
                out_parent[b], out_action[b], out_leaf[b], out_kind[b] = node, a, child, EVALUATE
                if virtual:
                    _backup(parent, n, w, b, child, 1.0)  # +1 for the leaf's mover: -1 above
                    _flip_losses(parent, w, pending, b, child)
                break
            if not np.isnan(terminal[b, child]):
                _backup(parent, n, w, b, child, terminal[b, child])
                out_kind[b] = DONE
                break
            if not expanded[b, child]:  # waiting for the network in this step
                break
            node = child


@njit(cache=True)
def _flip_losses(parent, w, pending, b, leaf):
    """Turn the alternating +-1 that ``_backup`` added along a path into -1 everywhere (a
    virtual loss for every mover on it): add -2 where it added +1. Count them as pending."""
    node, sign = leaf, -1.0
    while node != UNUSED:
        pending[b, node] += 1
        if sign > 0:
            w[b, node] -= 2.0
        sign = -sign
        node = parent[b, node]


@njit(cache=True)
def _take_back_losses(parent, n, w, pending, b, leaf):
    """Remove the virtual loss that :func:`_select` put on the path to ``leaf``."""
    node = leaf
    while node != UNUSED:
        pending[b, node] -= 1
        n[b, node] -= 1
        w[b, node] += 1.0
        node = parent[b, node]


@njit(cache=True)
def _expand(parent, logits, n, w, pending, value, terminal, expanded, games, leaves, leaf_logits,
            leaf_values, leaf_terminal, virtual):  # fmt: skip
    """Give evaluated leaves their priors and values (or results) and back them up (taking
    back their virtual losses first, with ``virtual``)."""
    for i in range(games.shape[0]):
        b, leaf = games[i], leaves[i]
        if virtual:
            _take_back_losses(parent, n, w, pending, b, leaf)
        expanded[b, leaf] = True
        if not np.isnan(leaf_terminal[i]):
            terminal[b, leaf] = leaf_terminal[i]
            logits[b, leaf, :] = -np.inf
            _backup(parent, n, w, b, leaf, leaf_terminal[i])
            continue
        logits[b, leaf, :] = leaf_logits[i]
        value[b, leaf] = leaf_values[i]
        _backup(parent, n, w, b, leaf, leaf_values[i])


@njit(cache=True)
def _results(children, logits, n, w, pending, value, games, gumbel, start, puct, c_visit, c_scale,
             chosen, policy, root_values, buf):  # fmt: skip
    """For each listed tree: the move to play (gumbel: the survivor of sequential halving with
    the best score; puct: the most visited) and the policy target, and the root's mean value."""
    for i in range(games.shape[0]):
        b = games[i]
        actions = logits.shape[2]
        total = 0.0
        for a in range(actions):
            child = children[b, 0, a]
            visits = n[b, child] if child >= 0 else 0
            policy[i, a] = visits
            total += visits
        root_values[i] = -w[b, 0] / max(n[b, 0], 1)
        if puct:
            best = 0
            for a in range(actions):
                if policy[i, a] > policy[i, best]:
                    best = a
            chosen[i] = best
            for a in range(actions):
                policy[i, a] /= max(total, 1.0)
            continue
        most = -1
        for a in range(actions):
            child = children[b, 0, a]
            if logits[b, 0, a] != -np.inf and child >= 0:
                most = max(most, n[b, child] - start[b, a])
        sigma = buf[1]
        _sigma(children, logits, n, w, pending, False, value, b, 0, c_visit, c_scale, sigma)
        best, best_score = -1, -np.inf
        for a in range(actions):
            if logits[b, 0, a] == -np.inf:
                continue
            child = children[b, 0, a]
            since = (n[b, child] if child >= 0 else 0) - start[b, a]
            score = gumbel[b, a] + logits[b, 0, a] + sigma[a]
            if since == most and score > best_score:
                best, best_score = a, score
        chosen[i] = best
        _improved_policy(children, logits, n, w, pending, value, b, 0, c_visit, c_scale, sigma,
                         policy[i])  # fmt: skip


@njit(cache=True)
def _compact(parent, action_in, children, logits, n, w, value, terminal, expanded, num_nodes,
             states, b, new_root, order):  # fmt: skip
    """Keep only the subtree of ``new_root`` in tree ``b``, renumbered from 0 in the order the
    nodes were made, positions moved along."""
    count, head = 1, 0
    order[0] = new_root
    while head < count:
        old = order[head]
        head += 1
        for a in range(children.shape[2]):
            if children[b, old, a] >= 0:
                order[count] = children[b, old, a]
                count += 1
    order[:count].sort()  # creation order: parents first, and no node moves up
    remap = np.full(num_nodes[b], -1, dtype=np.int32)
    for i in range(count):
        remap[order[i]] = i
    # The i-th oldest node kept had index >= i, so copying in order never overwrites a node
    # not yet copied.
    for i in range(count):
        old = order[i]
        if old != i:
            states[b, i] = states[b, old]
            logits[b, i] = logits[b, old]
            n[b, i], w[b, i], value[b, i] = n[b, old], w[b, old], value[b, old]
            terminal[b, i], expanded[b, i] = terminal[b, old], expanded[b, old]
        for a in range(children.shape[2]):
            child = children[b, old, a]
            children[b, i, a] = remap[child] if child >= 0 else UNUSED
        parent[b, i] = remap[parent[b, old]] if i > 0 else UNUSED
        action_in[b, i] = action_in[b, old] if i > 0 else UNUSED
    num_nodes[b] = count


@njit(cache=True)
def _prune_to_root(children, n, w, num_nodes, b):
    """Forget everything below the root of tree ``b`` (its own evaluation stays)."""
    children[b, 0, :] = UNUSED
    n[b, 0], w[b, 0] = 1, 0.0
    num_nodes[b] = 1


class Trees:
    """B search trees of at most M nodes over A actions, with a position row per node.

    ``states`` (B, M, S) int64 holds each node's position (the game's ``Positions`` rows);
    everything else is the statistics described in the module docstring.
    """

    def __init__(self, games: int, max_nodes: int, num_actions: int, state_size: int) -> None:
        b, m, a = games, max_nodes, num_actions
        self.games, self.max_nodes, self.num_actions = b, m, a
        self.states = np.zeros((b, m, state_size), dtype=np.int64)
        self.parent = np.full((b, m), UNUSED, dtype=np.int32)
        self.action_in = np.full((b, m), UNUSED, dtype=np.int32)
        self.children = np.full((b, m, a), UNUSED, dtype=np.int32)
        self.logits = np.full((b, m, a), -np.inf, dtype=np.float32)
        self.n = np.zeros((b, m), dtype=np.int32)
        self.w = np.zeros((b, m), dtype=np.float32)
        self.pending = np.zeros((b, m), dtype=np.int32)  # virtual losses waiting for the network
        self.value = np.zeros((b, m), dtype=np.float32)
        self.terminal = np.full((b, m), np.nan, dtype=np.float32)
        self.expanded = np.zeros((b, m), dtype=np.bool_)
        self.num_nodes = np.ones(b, dtype=np.int32)
        self._order = np.zeros(m, dtype=np.int64)

    def reset(self, game: int, row: np.ndarray, terminal: float = np.nan) -> None:
        """Make tree ``game`` a single unevaluated root at position ``row``."""
        self.states[game, 0] = row
        self.children[game, 0] = UNUSED
        self.parent[game, 0] = self.action_in[game, 0] = UNUSED
        self.n[game, 0], self.w[game, 0], self.value[game, 0] = 0, 0.0, 0.0
        self.terminal[game, 0], self.expanded[game, 0] = terminal, False
        self.logits[game, 0] = -np.inf
        self.num_nodes[game] = 1

    def prune(self, game: int) -> None:
        """Drop tree ``game``'s subtree below the root (when reuse would overflow it)."""
        _prune_to_root(self.children, self.n, self.w, self.num_nodes, game)

    def move_root(self, game: int, child: int) -> None:
        """Make ``child`` the root of tree ``game``, keeping its subtree."""
        _compact(self.parent, self.action_in, self.children, self.logits, self.n, self.w,
                 self.value, self.terminal, self.expanded, self.num_nodes, self.states, game,
                 child, self._order)  # fmt: skip

    def add_child(self, game: int, action: int) -> int:
        """A new unevaluated node under the root of tree ``game`` for ``action``."""
        child = int(self.num_nodes[game])
        if child >= self.max_nodes:
            self.prune(game)
            child = 1
        self.num_nodes[game] = child + 1
        self.children[game, 0, action] = child
        self.parent[game, child], self.action_in[game, child] = 0, action
        self.children[game, child] = UNUSED
        self.n[game, child], self.w[game, child] = 0, 0.0
        self.terminal[game, child], self.expanded[game, child] = np.nan, False
        return child
