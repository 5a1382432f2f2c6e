"""Monte Carlo Go: tree search with RAVE and playout policies, the method of the Go programs
before AlphaGo (MoGo, Fuego, Pachi, michi), in numba over learnloop's Go engine.

Each simulation copies the position, walks down the tree, adds one node, plays the game out
with a playout policy, scores it by area (Tromp-Taylor) and backs the result up. The move
chosen at a node maximises

    (1 - beta) * Q + beta * Q_amaf,   beta = n_amaf / (n_amaf + n + n * n_amaf / equivalence)

(the RAVE blend in Pachi's form): ``Q`` is the mean result of the simulations that played the
move here, ``Q_amaf`` that of every simulation in which the player to move here played the
move later, anywhere below ("all moves as first", Gelly & Silver 2007). AMAF gives each
simulation an opinion on most moves, so the tree learns from a few hundred simulations what
plain UCT needs thousands for.

Playouts (``playouts``: "light", "tactics" or the default "shapes") are in
agents/search/playouts.py.

New tree nodes start with prior results (``prior_even`` simulations at half a win, more wins
for captures and shapes, losses for self-atari), as Fuego and michi seed theirs.

A playout's result mixes win/loss with the score: ``(1 - w) * win + w * (1 + tanh(margin /
scale)) / 2``. At komi 9 on 7x7 almost every playout from a fair position ends the same way,
so win/loss alone cannot tell Black's moves apart; the margin can.

The trained network can bias the root: ``prior`` (probabilities over the moves) adds
``prior_weight * prior[a] * 10 / (10 + n)`` to a root move's score, fading as it is visited.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from agents.baselines.go import GamePlayer
from agents.search.playouts import (
    PLAYOUTS,
    SHAPE_TABLE,
    _liberties_after,
    _neighbourhood,
    _next_random,
    _playout,
    playout_result,
)
from envs.go.game import GoGame
from envs.go.kernels import (
    BLACK,
    OVER,
    POINTS,
    SIZE,
    TO_PLAY,
    WIDTH,
    grid,
    legal_mask_into,
    play,
)

# Simulations' tree size cap: beyond it, leaves are played out without adding nodes.
MAX_NODES = 400_000


@dataclass
class RaveConfig:
    """How the Monte Carlo search plays."""

    simulations: int = 10_000
    equivalence: float = 3000.0  # simulations after which AMAF and real results weigh equally
    exploration: float = 0.0  # UCB1 term; RAVE usually needs none
    playouts: str = "shapes"  # "light", "tactics" (answer ataris, shun self-atari), "shapes"
    prior_even: float = 10.0  # prior simulations per new move (see _seed_node); 0: none
    margin_weight: float = 0.5  # share of the score margin in a playout's result
    margin_scale: float = 10.0  # points of margin that make tanh(margin / scale) = 0.76
    prior_weight: float = 0.0  # weight of the root prior (the network's policy), 0: none
    threads: int = 1  # independent trees searched at once (root parallelisation), visits summed
    # > 0: search about this many seconds a move instead of a fixed number of simulations (the
    # count is set from the speed measured on the moves before; ``simulations`` is the first).
    seconds_per_move: float = 0.0


@njit(cache=True, nogil=True)
def _seed_node(s, zob, legal, visits, wins, shapes, even, mark, stamp):
    """Give a new node's moves prior results (michi's, after Fuego's): ``even`` simulations
    at half a win each, a capture 1.5 times as many wins, a self-atari as many losses, a shape
    (``shapes``) as many wins. Returns stamp."""
    n = s[SIZE]
    width = s[WIDTH]
    g = grid(s)
    color = s[TO_PLAY]
    legal_mask_into(s, zob, legal)
    for a in range(n * n + 1):
        if not legal[a] or even <= 0:
            continue
        v, w = even, 0.5 * even
        if a < n * n:
            p = (a // n + 1) * width + a % n + 1
            stamp += 1
            liberties = _liberties_after(s, g, p, color, mark, stamp)
            if liberties == 9:
                v += 1.5 * even
                w += 1.5 * even
            elif liberties == 1:
                v += even
            if shapes[_neighbourhood(g, p, width)]:
                v += even
                w += even
        visits[a] = v
        wins[a] = w
    return stamp


@njit(cache=True, nogil=True)
def search_visits(
    root, zob, komi, simulations, seed, equivalence, exploration, heavy, shapes, even,
    margin_weight, margin_scale, prior, prior_weight, out,
):  # fmt: skip
    """Run the search from state ``root`` (unchanged); write root visit counts per action into
    ``out`` and return the number of tree nodes made."""
    n = root[SIZE]
    actions = n * n + 1
    size = min(simulations + 2, MAX_NODES)
    child = np.full((size, actions), -1, dtype=np.int32)
    visits = np.zeros((size, actions), dtype=np.float32)
    wins = np.zeros((size, actions), dtype=np.float32)
    amaf_visits = np.zeros((size, actions), dtype=np.float32)
    amaf_wins = np.zeros((size, actions), dtype=np.float32)
    legal = np.zeros((size, actions), dtype=np.int8)
    total = np.zeros(size, dtype=np.float32)
    mark = np.zeros(root[POINTS], dtype=np.int64)
    stamp = _seed_node(root, zob, legal[0], visits[0], wins[0], shapes, even, mark, 1)
    seeded = visits[0].copy()  # the root's prior simulations, not counted in ``out``
    nodes = 1
    longest = root.shape[0] + 4 * actions  # more than any game's remaining moves
    moves = np.empty(longest, dtype=np.int64)
    colors = np.empty(longest, dtype=np.int64)
    path = np.empty(longest, dtype=np.int64)
    seen = np.zeros(actions, dtype=np.int64)
    x = np.int64(seed) * 2654435761 + 12345 | 1
    for _ in range(simulations):
        s = root.copy()
        node = 0
        depth = 0
        while not s[OVER]:
            best, best_score = -1, -1e30
            log_total = np.log(total[node] + 1.0)
            for a in range(actions):
                if not legal[node, a]:
                    continue
                na, ra = visits[node, a], amaf_visits[node, a]
                if na + ra == 0:
                    score = 1.1  # untried and unseen: first
                else:
                    q = wins[node, a] / na if na > 0 else 0.0
                    beta = ra / (ra + na + na * ra / equivalence) if ra > 0 else 0.0
                    score = (1 - beta) * q + (beta * amaf_wins[node, a] / ra if ra > 0 else 0.0)
                    if exploration > 0:
                        score += exploration * np.sqrt(log_total / (na + 1))
                if node == 0 and prior_weight > 0:
                    score += prior_weight * prior[a] * 10.0 / (10.0 + na)
                x, r = _next_random(x)
                score += r * 1e-12  # ties broken at random
                if score > best_score:
                    best, best_score = a, score
            path[depth] = node
            colors[depth] = s[TO_PLAY]
            moves[depth] = best
            depth += 1
            play(s, zob, best)
            following = child[node, best]
            if following < 0:
                if not s[OVER] and nodes < size:
                    child[node, best] = nodes
                    stamp = _seed_node(
                        s, zob, legal[nodes], visits[nodes], wins[nodes], shapes, even, mark,
                        stamp,
                    )  # fmt: skip
                    nodes += 1
                break
            node = following
        count, x, stamp = _playout(
            s, zob, x, moves, colors, depth, heavy, shapes, mark, stamp
        )  # fmt: skip
        black = playout_result(s, komi, margin_weight, margin_scale)
        for d in range(depth):
            node, mover = path[d], colors[d]
            result = black if mover == BLACK else 1.0 - black
            visits[node, moves[d]] += 1
            wins[node, moves[d]] += result
            total[node] += 1
            stamp += 1
            for j in range(d, count):  # AMAF: the mover's later moves, first play of each point
                a = moves[j]
                if colors[j] == mover and a < n * n and seen[a] != stamp:
                    seen[a] = stamp
                    amaf_visits[node, a] += 1
                    amaf_wins[node, a] += result
    for a in range(actions):
        out[a] = visits[0, a] - seeded[a]
    return nodes


PriorFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (observation, mask) -> probabilities


class RaveGoPlayer(GamePlayer):
    """Plays the move the Monte Carlo search visits most, following the game on its own board.

    ``prior(obs, mask)``, when given, returns probabilities over the moves (the trained
    network's policy) that bias the root with ``config.prior_weight``.
    """

    def __init__(
        self,
        board_size: int,
        komi: float,
        max_moves: int | None = None,
        config: RaveConfig | None = None,
        seed: int = 0,
        prior: PriorFn | None = None,
    ) -> None:
        super().__init__(board_size, komi, max_moves)
        self.config = config or RaveConfig()
        if self.config.simulations < 1:
            raise ValueError(f"simulations must be >= 1, got {self.config.simulations}")
        if self.config.playouts not in PLAYOUTS:
            raise ValueError(f"playouts must be one of {PLAYOUTS}, got {self.config.playouts!r}")
        self.prior = prior
        self.simulations = self.config.simulations
        self.seconds, self.moves = 0.0, 0  # time spent searching, moves searched
        self.seed(seed)

    def time_per_move(self) -> float:
        """Mean seconds a search took so far (0 before the first)."""
        return self.seconds / self.moves if self.moves else 0.0

    def seed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def visits(self, game: GoGame, obs: Any = None, mask: np.ndarray | None = None) -> np.ndarray:
        """Root visit counts per action after searching ``game``'s position."""
        c = self.config
        simulations = self.simulations
        started = time.perf_counter()
        prior = np.zeros(game.num_actions, dtype=np.float64)
        if self.prior is not None and c.prior_weight > 0 and obs is not None:
            prior = np.asarray(self.prior(obs, mask), dtype=np.float64)
        threads = max(1, min(c.threads, simulations))
        shares = [simulations // threads + (i < simulations % threads) for i in range(threads)]
        seeds = self.rng.integers(1, 2**62, size=threads)
        outs = np.zeros((threads, game.num_actions), dtype=np.float64)

        def run(i: int) -> None:
            search_visits(
                game.state, game.zobrist, float(game.komi), shares[i], int(seeds[i]),
                float(c.equivalence), float(c.exploration), PLAYOUTS.index(c.playouts),
                SHAPE_TABLE, float(c.prior_even), float(c.margin_weight), float(c.margin_scale),
                prior, float(c.prior_weight), outs[i],
            )  # fmt: skip

        if threads == 1:
            run(0)
        else:  # the kernel releases the GIL: the trees grow on separate cores
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(run, range(threads)))
        elapsed = time.perf_counter() - started
        self.seconds += elapsed
        self.moves += 1
        if c.seconds_per_move > 0:  # aim the next move's count at the time budget
            rate = simulations / max(elapsed, 1e-6)
            self.simulations = max(64, int(rate * c.seconds_per_move))
        return outs.sum(0)

    def __call__(self, obs: Any, mask: np.ndarray) -> int:
        legal = np.asarray(mask, dtype=bool)
        counts = np.where(legal, self.visits(self.game, obs, legal), -1.0)
        best = np.flatnonzero(counts == counts.max())
        return int(self.rng.choice(best))
