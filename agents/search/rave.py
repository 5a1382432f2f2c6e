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

Playouts (``playouts``): "light" plays uniformly among the moves that fill none of the
mover's one-point eyes. "tactics" first answers the last move (captures a chain next to it
that is in atari, or extends its own chain in atari when that gives two liberties or more),
and refuses, 7 times in 8, random moves that leave the mover's chain one liberty. "shapes"
(the default) then tries the empty points next to the last move whose 3x3 neighbourhood is
one of michi's / MoGo's shapes (hane, cuts, edge moves) before a random move.

New tree nodes start with prior results (``prior_even`` simulations at half a win, more wins
for captures and shapes, losses for self-atari), as Fuego and michi seed theirs.

A playout's result mixes win/loss with the score: ``(1 - w) * win + w * (1 + tanh(margin /
scale)) / 2``. At komi 9 on 7x7 almost every playout from a fair position ends the same way,
so win/loss alone cannot tell Black's moves apart; the margin can.

The trained network can bias the root: ``prior`` (probabilities over the moves) adds
``prior_weight * prior[a] * 10 / (10 + n)`` to a root move's score, fading as it is visited.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from agents.baselines.go import GamePlayer
from envs.go.game import GoGame
from envs.go.kernels import (
    BLACK,
    BORDER,
    COLOR,
    EMPTY,
    HEAD,
    LIB_SUM,
    LIBS,
    NEXT,
    OVER,
    POINTS,
    SIZE,
    TO_PLAY,
    WHITE,
    WIDTH,
    empty_point_legal,
    grid,
    in_atari,
    legal_mask_into,
    non_eye_points,
    play,
    point,
    state_area_difference,
)

# Simulations' tree size cap: beyond it, leaves are played out without adding nodes.
MAX_NODES = 400_000

# 3x3 shapes worth playing next to the last move: michi's playout patterns (after MoGo's
# hane, cut and edge patterns). The centre is the move; X and O are the two colours either way
# round, "x" is anything but X (empty, O or off the board), "o" anything but O, "." empty,
# " " off the board, "?" anything.
SHAPES = (
    ("XOX", "...", "???"),  # hane: enclosing
    ("XO.", "...", "?.?"),  # hane: non-cutting
    ("XO?", "X..", "x.?"),  # hane: magari
    (".O.", "X..", "..."),  # katatsuke or diagonal attachment
    ("XO?", "O.o", "?o?"),  # cut: unprotected
    ("XO?", "O.X", "???"),  # cut: peeped
    ("?X?", "O.O", "ooo"),  # cut: de
    ("OX?", "o.O", "???"),  # cut: keima
    ("X.?", "O.?", "   "),  # edge: chase
    ("OX?", "X.O", "   "),  # edge: block the side cut
    ("?X?", "x.O", "   "),  # edge: block the side connection
    ("?XO", "x.x", "   "),  # edge: sagari
    ("?OX", "X.O", "   "),  # edge: cut
)


def shape_table() -> np.ndarray:
    """A bool per 3x3 neighbourhood code (see ``_neighbourhood``): does it match a shape?

    Every shape is taken in its 8 rotations and reflections and with the colours swapped.
    """
    wild = {"?": ".XO ", "x": ".O ", "o": ".X ", ".": ".", "X": "X", "O": "O", " ": " "}
    swap = str.maketrans("XOxo", "OXox")
    code = {".": EMPTY, "X": BLACK, "O": WHITE, " ": BORDER}
    table = np.zeros(1 << 16, dtype=np.bool_)
    for rows in SHAPES:
        grid = np.array([list(row) for row in rows])
        for turns in range(4):
            for flipped in (grid, grid[:, ::-1]):
                cells = "".join(np.rot90(flipped, turns).ravel())
                for text in (cells, cells.translate(swap)):
                    around = text[:4] + text[5:]  # without the centre
                    for fill in itertools.product(*(wild[c] for c in around)):
                        table[sum(code[c] << 2 * i for i, c in enumerate(fill))] = True
    return table


SHAPE_TABLE = shape_table()
PLAYOUTS = ("light", "tactics", "shapes")


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


@njit(cache=True, inline="always")
def _next_random(x):
    """One step of a 64-bit LCG: (new state, 31 random bits)."""
    x = x * 6364136223846793005 + 1442695040888963407  # wraps around: fine for an LCG
    return x, (x >> 33) & 0x7FFFFFFF


@njit(cache=True, nogil=True, inline="always")
def _neighbourhood(g, p, width):
    """The colours of the 8 points around padded point ``p``, 2 bits each, row by row."""
    above, below = p - width, p + width
    return (
        g[COLOR, above - 1] | g[COLOR, above] << 2 | g[COLOR, above + 1] << 4
        | g[COLOR, p - 1] << 6 | g[COLOR, p + 1] << 8
        | g[COLOR, below - 1] << 10 | g[COLOR, below] << 12 | g[COLOR, below + 1] << 14
    )  # fmt: skip


@njit(cache=True, nogil=True)
def _liberties_after(s, g, p, color, mark, stamp):
    """Liberties of ``color``'s chain after a stone on empty ``p`` (9 when the stone captures).

    Counts distinct empty points next to the new stone or to the chains it joins; ``mark``
    (per padded point) holds ``stamp`` for the points counted so far.
    """
    width = s[WIDTH]
    count = 0
    mark[p] = stamp
    for nb in (p - width, p - 1, p + 1, p + width):
        c = g[COLOR, nb]
        if c == EMPTY:
            if mark[nb] != stamp:
                mark[nb] = stamp
                count += 1
        elif c == 3 - color and in_atari(g, g[HEAD, nb]):
            return 9
    for nb in (p - width, p - 1, p + 1, p + width):
        if g[COLOR, nb] != color:
            continue
        head = g[HEAD, nb]
        q = head
        while True:
            for nn in (q - width, q - 1, q + 1, q + width):
                if g[COLOR, nn] == EMPTY and mark[nn] != stamp:
                    mark[nn] = stamp
                    count += 1
            q = g[NEXT, q]
            if q == head:
                break
    return count


@njit(cache=True, nogil=True)
def _answer(s, g, zob, last, color, mark, stamp):
    """A move answering the stone at padded point ``last``: the liberty of a chain in atari on
    or next to it, if playing there captures or leaves ``color`` two liberties; else -1."""
    if last < 0:
        return -1
    width = s[WIDTH]
    for nb in (last, last - width, last - 1, last + 1, last + width):
        c = g[COLOR, nb]
        if c != BLACK and c != WHITE:
            continue
        head = g[HEAD, nb]
        if not in_atari(g, head):
            continue
        liberty = g[LIB_SUM, head] // g[LIBS, head]
        if not empty_point_legal(s, g, zob, liberty, color):
            continue
        if _liberties_after(s, g, liberty, color, mark, stamp + 1) >= 2:
            return liberty
    return -1


@njit(cache=True, nogil=True)
def _shape_move(s, g, zob, last, color, shapes, x, mark, stamp):
    """A random empty point next to padded point ``last`` whose 3x3 neighbourhood is one of
    the shapes, legal and, 9 times in 10, no self-atari; -1 if none. Returns (point, x,
    stamp)."""
    width = s[WIDTH]
    around = np.empty(8, dtype=np.int64)
    k = 0
    for q in (last - width - 1, last - width, last - width + 1, last - 1, last + 1,
              last + width - 1, last + width, last + width + 1):  # fmt: skip
        if g[COLOR, q] == EMPTY and shapes[_neighbourhood(g, q, width)]:
            around[k] = q
            k += 1
    while k > 0:
        x, r = _next_random(x)
        i = r % k
        q = around[i]
        if empty_point_legal(s, g, zob, q, color):
            stamp += 1
            if _liberties_after(s, g, q, color, mark, stamp) != 1:
                return q, x, stamp
            x, r = _next_random(x)
            if r % 10 == 0:
                return q, x, stamp
        k -= 1
        around[i] = around[k]
    return -1, x, stamp


@njit(cache=True, nogil=True)
def _playout(s, zob, x, moves, colors, count, heavy, shapes, mark, stamp):
    """Play ``s`` out to the end (see the module docstring), appending the moves and their
    colours to ``moves`` / ``colors`` from ``count``; returns (count, x, stamp). ``heavy``:
    0 light, 1 answer ataris and shun self-atari, 2 also play shapes next to the last move."""
    n = s[SIZE]
    width = s[WIDTH]
    g = grid(s)
    candidates = np.empty(n * n, dtype=np.int64)
    last = -1
    if count > 0 and moves[count - 1] < n * n:
        last = point(s, moves[count - 1])
    while not s[OVER]:
        color = s[TO_PLAY]
        p = -1
        if heavy and last >= 0:
            stamp += 2
            p = _answer(s, g, zob, last, color, mark, stamp)
            if p < 0 and heavy > 1:
                p, x, stamp = _shape_move(s, g, zob, last, color, shapes, x, mark, stamp)
        chosen = -1 if p < 0 else (p // width - 1) * n + p % width - 1
        if chosen < 0:
            k = non_eye_points(s, g, color, candidates)
            chosen = n * n  # pass when nothing is left
            while k > 0:  # draw without replacement until an acceptable move turns up
                x, r = _next_random(x)
                i = r % k
                p = point(s, candidates[i])
                ok = empty_point_legal(s, g, zob, p, color)
                if ok and heavy:
                    stamp += 1
                    if _liberties_after(s, g, p, color, mark, stamp) == 1:
                        x, r = _next_random(x)
                        ok = r % 8 == 0  # self-atari: allowed once in 8 (throw-ins)
                if ok:
                    chosen = candidates[i]
                    break
                k -= 1
                candidates[i] = candidates[k]
        play(s, zob, chosen)
        moves[count] = chosen
        colors[count] = color
        count += 1
        last = point(s, chosen) if chosen < n * n else -1
    return count, x, stamp


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
        margin = state_area_difference(s) - komi
        black = 1.0 if margin > 0 else 0.0 if margin < 0 else 0.5
        if margin_weight > 0:
            black = (1 - margin_weight) * black + margin_weight * 0.5 * (
                1.0 + np.tanh(margin / margin_scale)
            )
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
