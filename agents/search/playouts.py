"""Playout policies of Monte Carlo Go (the RAVE search's, agents/search/rave.py), in numba.

"light" plays uniformly among the moves that fill none of the mover's one-point eyes.
"tactics" first answers the last move (captures a chain next to it that is in atari, or
extends its own chain in atari when that gives two liberties or more), and refuses, 7 times
in 8, random moves that leave the mover's chain one liberty. "shapes" then tries the empty
points next to the last move whose 3x3 neighbourhood is one of michi's / MoGo's shapes (hane,
cuts, edge moves) before a random move.

:class:`PlayoutValues` scores the leaves of AlphaZero's search (agents/zero/search.py) by
playouts too, and mixes each playout's result into the network's value (AlphaGo's leaf
evaluation, Silver et al. 2016).
"""

from __future__ import annotations

import itertools

import numpy as np
from numba import njit

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
    SIZE,
    TO_PLAY,
    WHITE,
    WIDTH,
    empty_point_legal,
    grid,
    in_atari,
    non_eye_points,
    play,
    point,
    state_area_difference,
)

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


@njit(cache=True, nogil=True, inline="always")
def playout_result(s, komi, margin_weight, margin_scale):
    """Black's result of the finished playout ``s``, in [0, 1]: win / loss (a draw 1/2) mixed
    with ``margin_weight`` of (1 + tanh(margin / margin_scale)) / 2, the margin by area after
    ``komi``."""
    margin = state_area_difference(s) - komi
    black = 1.0 if margin > 0 else 0.0 if margin < 0 else 0.5
    if margin_weight > 0:
        black = (1 - margin_weight) * black + margin_weight * 0.5 * (
            1.0 + np.tanh(margin / margin_scale)
        )
    return black


@njit(cache=True, nogil=True)
def playout_values(
    states, games, nodes, length, zob, komi, heavy, shapes, margin_weight, margin_scale, seed,
    out,
):  # fmt: skip
    """One playout from each position ``states[games[i], nodes[i], :length]`` (an engine
    state, left unchanged); ``out[i]`` its result in [-1, 1] for the side to move there: win
    / loss mixed with ``margin_weight`` of tanh(margin / margin_scale), as the RAVE search
    scores its playouts (:func:`playout_result`, from 0..1 to -1..1)."""
    x = np.int64(seed) * 2654435761 + 12345 | 1
    mark = np.zeros(states.shape[2], dtype=np.int64)
    stamp = 1
    n = states[games[0], nodes[0], SIZE] if len(games) else 0
    longest = length + 4 * (n * n + 1)  # more than any game's remaining moves
    moves = np.empty(longest, dtype=np.int64)
    colors = np.empty(longest, dtype=np.int64)
    for i in range(len(games)):
        s = states[games[i], nodes[i], :length].copy()
        mover = s[TO_PLAY]
        count, x, stamp = _playout(s, zob, x, moves, colors, 0, heavy, shapes, mark, stamp)
        black = 2.0 * playout_result(s, komi, margin_weight, margin_scale) - 1.0
        out[i] = black if mover == BLACK else -black


class PlayoutValues:
    """Leaf values for AlphaZero's search (``BatchedSearch``'s ``mix``): ``(1 - weight)`` of
    the network's value plus ``weight`` of one playout's result from the leaf (AlphaGo's
    lambda; ``playouts`` as the RAVE search's). Go positions of ``GoPositions`` rows: the engine
    state is the row's first ``engine_size`` numbers."""

    def __init__(
        self,
        engine_size: int,
        zobrist: np.ndarray,
        komi: float,
        weight: float,
        playouts: str = "shapes",
        margin_weight: float = 0.5,
        margin_scale: float = 10.0,
        seed: int = 0,
    ) -> None:
        if not 0.0 < weight <= 1.0:
            raise ValueError(f"playout weight must be in (0, 1], got {weight}")
        if playouts not in PLAYOUTS:
            raise ValueError(f"playouts must be one of {PLAYOUTS}, got {playouts!r}")
        self.engine_size, self.zobrist, self.komi = int(engine_size), zobrist, float(komi)
        self.weight, self.heavy = float(weight), PLAYOUTS.index(playouts)
        self.margin_weight, self.margin_scale = float(margin_weight), float(margin_scale)
        self.rng = np.random.default_rng(seed)

    def __call__(
        self, states: np.ndarray, games: np.ndarray, nodes: np.ndarray, values: np.ndarray
    ) -> np.ndarray:
        """The mixed values of the positions ``states[games[i], nodes[i]]``, whose network
        values are ``values`` (for the side to move)."""
        results = np.empty(len(games), dtype=np.float64)
        playout_values(states, np.asarray(games, dtype=np.int64),
                       np.asarray(nodes, dtype=np.int64), self.engine_size, self.zobrist,
                       self.komi, self.heavy, SHAPE_TABLE, self.margin_weight,
                       self.margin_scale, int(self.rng.integers(1, 2**62)), results)  # fmt: skip
        mixed = (1 - self.weight) * np.asarray(values, dtype=np.float64) + self.weight * results
        return mixed.astype(np.float32)
