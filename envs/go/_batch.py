"""Numba kernels for the envs: board history, observation planes, and stepping many boards.

A board's recent positions are kept in ``past`` (history, N*N) int8, row 0 the current board, so
an observation can be built without touching the engine state. The ``vec_*`` kernels loop over
a batch of state arrays ``S`` (B, L) so a vector env advances every board in one call.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envs.go._kernels import (
    BLACK,
    BORDER,
    COLOR,
    EMPTY,
    HEAD,
    MAX_MOVES,
    MOVES,
    NEXT,
    OVER,
    PASSES,
    SIZE,
    TO_PLAY,
    WIDTH,
    _empty_point_legal,
    _grid,
    _point,
    board_into,
    check,
    legal_mask_into,
    play,
    random_legal,
    tactics_into,
)
from envs.go._scoring import state_area_difference


@njit(cache=True)
def record(s, past):
    """Shift the history one step back and store the current board as ``past[0]``."""
    for k in range(past.shape[0] - 1, 0, -1):
        past[k, :] = past[k - 1, :]
    n = s[SIZE]
    board_into(s, past[0].reshape((n, n)))


@njit(cache=True)
def play_record(s, zob, action, past):
    """``play`` and, if the move was legal, ``record`` the new board."""
    code = play(s, zob, action)
    if code >= 0:
        record(s, past)
    return code


@njit(cache=True)
def observe_into(s, zob, past, color, with_mask, obs, mask):
    """Fill planes ``obs`` (2*history+1, N, N) for ``color`` and, if asked, the legal ``mask``.

    Plane 2k holds ``color``'s stones k moves ago, plane 2k+1 the opponent's, the last plane
    is 1 everywhere when ``color`` is Black.
    """
    n = s[SIZE]
    opponent = 3 - color
    for k in range(past.shape[0]):
        for row in range(n):
            for col in range(n):
                v = past[k, row * n + col]
                obs[2 * k, row, col] = v == color
                obs[2 * k + 1, row, col] = v == opponent
    obs[-1, :, :] = color == BLACK
    if with_mask:
        legal_mask_into(s, zob, mask)
    else:
        mask[:] = 0


@njit(cache=True)
def outcome(s, color, komi, score_at_cap):
    """Return (reward for ``color``, terminated, truncated) of a board's current state.

    Two passes end the game (terminated, +1 win / -1 loss / 0 draw by area score); reaching
    the move cap without them truncates it with reward 0, or with ``score_at_cap`` ends it
    like two passes.
    """
    if not s[OVER]:
        return 0.0, False, False
    if s[PASSES] < 2 and s[MOVES] >= s[MAX_MOVES] and not score_at_cap:
        return 0.0, False, True
    score = state_area_difference(s) - komi
    black_reward = 1.0 if score > 0 else -1.0 if score < 0 else 0.0
    return (black_reward if color == BLACK else -black_reward), True, False


@njit(cache=True)
def vec_advance(
    S, zob, PAST, actions, active, colors, random_reply, uniforms, komi, score_at_cap,
    lose_on_illegal, out,
):  # fmt: skip
    """Play ``actions`` on the ``active`` boards, then a random reply where asked.

    Every action is checked first: if one is illegal and ``lose_on_illegal`` is False, nothing
    is played and that board's index is returned (else -1). ``out`` (B, 4) float64 receives per
    board: reward for ``colors``, terminated, truncated, and the illegal-move code (0 if legal).
    """
    for i in range(S.shape[0]):
        out[i, 3] = check(S[i], zob, actions[i]) if active[i] else 0
        if out[i, 3] < 0 and not lose_on_illegal:
            return i
    for i in range(S.shape[0]):
        if not active[i]:
            continue
        s = S[i]
        if out[i, 3] < 0:
            out[i, 0], out[i, 1], out[i, 2] = -1.0, 1.0, 0.0
            continue
        play_record(s, zob, actions[i], PAST[i])
        if random_reply and not s[OVER]:
            play_record(s, zob, random_legal(s, zob, uniforms[i]), PAST[i])
        reward, terminated, truncated = outcome(s, colors[i], komi, score_at_cap)
        out[i, 0], out[i, 1], out[i, 2] = reward, terminated, truncated
    return -1


@njit(cache=True)
def vec_reset(S, zob, PAST, template, which, colors, alternate, random_reply, uniforms):
    """Reset the boards flagged in ``which``; switch their colour if ``alternate``; where the
    agent is now White and ``random_reply``, play Black's random first move."""
    for i in range(S.shape[0]):
        if not which[i]:
            continue
        S[i, :] = template
        PAST[i, :, :] = 0
        if alternate:
            colors[i] = 3 - colors[i]
        if random_reply and colors[i] != BLACK:
            play_record(S[i], zob, random_legal(S[i], zob, uniforms[i]), PAST[i])


@njit(cache=True)
def vec_observe(S, zob, PAST, boards, colors, obs, masks):
    """Observe ``boards`` (indices) from ``colors`` (one per index) into rows of obs/masks."""
    for j in range(boards.shape[0]):
        i = boards[j]
        observe_into(S[i], zob, PAST[i], colors[j], True, obs[j], masks[j])


def empty_past(history: int, board_size: int) -> np.ndarray:
    """Return an all-empty history buffer."""
    return np.zeros((history, board_size * board_size), dtype=np.int8)


@njit(cache=True, nogil=True, inline="always")
def non_eye_points(s, g, color, out):
    """Write the empty points (as actions) that are not ``color``'s one-point eyes (all four
    neighbours its stones or the edge) into ``out``; return how many."""
    n = s[SIZE]
    width = s[WIDTH]
    count = 0
    for action in range(n * n):
        p = (action // n + 1) * width + action % n + 1
        if g[COLOR, p] != EMPTY:
            continue
        eye = True
        for nb in (p - width, p - 1, p + 1, p + width):
            c = g[COLOR, nb]
            eye &= (c == color) | (c == BORDER)
        if not eye:
            out[count] = action
            count += 1
    return count


@njit(cache=True)
def playout(s, zob, u):
    """Play random moves on ``s`` (changed in place) until the game ends; return Black's area
    minus White's. ``u`` in [0, 1) seeds the moves.

    Each side plays uniformly among its legal moves that fill none of its own one-point eyes
    (points whose four neighbours are its stones or the edge), and passes when none is left:
    the "light playout" of Monte Carlo Go, which keeps living groups alive so the final board
    says who owns what. The move cap applies as in a real game.
    """
    n = s[SIZE]
    g = _grid(s)
    candidates = np.empty(n * n, dtype=np.int64)
    x = np.int64(u * 9007199254740992.0) | 1  # u's 53 random bits seed an LCG
    while not s[OVER]:
        color = s[TO_PLAY]
        count = non_eye_points(s, g, color, candidates)
        chosen = n * n
        while count > 0:  # draw without replacement until a legal one turns up
            x = x * 6364136223846793005 + 1442695040888963407
            i = ((x >> 33) & 0x7FFFFFFF) % count
            p = _point(s, candidates[i])
            if _empty_point_legal(s, g, zob, p, color):
                chosen = candidates[i]
                break
            count -= 1
            candidates[i] = candidates[count]
        play(s, zob, chosen)
    return state_area_difference(s)


FEATURE_PLANES = {"stones": 0, "tactics": 4, "liberties": 8, "benson": 10}  # extra planes
FEATURE_LEVELS = {"stones": 0, "tactics": 1, "liberties": 2, "benson": 3}


@njit(cache=True)
def liberty_planes_into(s, color, out):
    """Write four (N, N) planes into ``out`` (4, N, N), zeroed here: ``color``'s stones in
    chains of exactly two liberties, the opponent's; ``color``'s stones in chains of three or
    more, the opponent's. Liberties are counted exactly (distinct empty points)."""
    n = s[SIZE]
    width = s[WIDTH]
    g = _grid(s)
    out[:] = 0
    mark = np.zeros(g.shape[1], dtype=np.int64)
    counted = np.full(g.shape[1], -1, dtype=np.int64)
    stamp = 0
    for row in range(n):
        for col in range(n):
            p = (row + 1) * width + col + 1
            stone = g[COLOR, p]
            if stone != BLACK and stone != 3 - BLACK:
                continue
            head = g[HEAD, p]
            if counted[head] < 0:
                stamp += 1
                libs, q = 0, head
                while True:
                    for nb in (q - width, q - 1, q + 1, q + width):
                        if g[COLOR, nb] == EMPTY and mark[nb] != stamp:
                            mark[nb] = stamp
                            libs += 1
                    q = g[NEXT, q]
                    if q == head:
                        break
                counted[head] = libs
            libs = counted[head]
            own = 0 if stone == color else 1
            if libs == 2:
                out[own, row, col] = 1
            elif libs >= 3:
                out[2 + own, row, col] = 1


@njit(cache=True)
def pass_alive_into(s, color, out):
    """Mark ``color``'s pass-alive area in ``out`` (N, N), zeroed here: its chains that no
    sequence of opponent moves can capture even if ``color`` always passes, and the regions
    they enclose in which the opponent can never make an eye (Benson's algorithm, 1976; KataGo
    feeds the same area to its network).

    Regions are the maximal connected sets of points not of ``color``. A region is vital to a
    chain when each of its empty points is a liberty of that chain. Repeatedly drop the chains
    with fewer than two vital regions left, and the regions that touch a dropped chain; what
    stays is pass-alive, with the remaining regions vital to one of its chains.
    """
    n = s[SIZE]
    width = s[WIDTH]
    g = _grid(s)
    out[:] = 0
    points, nn = g.shape[1], n * n
    # One allocation for all the tables (this runs at every leaf of a search): six per padded
    # point (chains are indexed by their head point), five per region (at most N*N of them) and
    # three per region-chain contact (at most 4 per point).
    work = np.empty(6 * points + 17 * nn + 1, dtype=np.int64)
    region = work[:points]  # per point: its region, -1 for ``color``'s stones
    seen = work[points : 2 * points]  # per chain: the last region found touching it
    stamp = work[2 * points : 3 * points]  # per chain: the last empty point counted
    touches = work[3 * points : 4 * points]  # per chain: empty points of that region it touches
    vital = work[4 * points : 5 * points]  # per chain: its vital regions still in
    chain_in = work[5 * points : 6 * points]  # per chain: 1 while it is still in
    rest = work[6 * points :]
    order = rest[:nn]  # the regions' points, region after region
    start = rest[nn : 2 * nn + 1]  # region r is order[start[r] : start[r + 1]]
    empties = rest[2 * nn + 1 : 3 * nn + 1]
    alive = rest[3 * nn + 1 : 4 * nn + 1]  # per region: 1 while it is still in
    enclosed = rest[4 * nn + 1 : 5 * nn + 1]
    pair_region = rest[5 * nn + 1 : 9 * nn + 1]
    pair_chain = rest[9 * nn + 1 : 13 * nn + 1]
    pair_vital = rest[13 * nn + 1 :]
    region[:] = -1
    seen[:] = -1
    stamp[:] = -1
    regions = filled = 0
    for row in range(n):  # label the regions by flood fill
        for col in range(n):
            p = (row + 1) * width + col + 1
            if g[COLOR, p] == color or region[p] >= 0:
                continue
            region[p] = regions
            start[regions] = filled
            empties[regions] = 0
            order[filled] = p
            done = filled
            filled += 1
            while done < filled:
                q = order[done]
                done += 1
                if g[COLOR, q] == EMPTY:
                    empties[regions] += 1
                for nb in (q - width, q - 1, q + 1, q + width):
                    c = g[COLOR, nb]
                    if c != BORDER and c != color and region[nb] < 0:
                        region[nb] = regions
                        order[filled] = nb
                        filled += 1
            regions += 1
    start[regions] = filled
    pairs = vitals = 0
    for r in range(regions):
        first = pairs
        for i in range(start[r], start[r + 1]):
            p = order[i]
            for nb in (p - width, p - 1, p + 1, p + width):
                if g[COLOR, nb] != color:
                    continue
                head = g[HEAD, nb]
                if seen[head] != r:
                    seen[head] = r
                    touches[head] = 0
                    pair_region[pairs] = r
                    pair_chain[pairs] = head
                    pairs += 1
                if g[COLOR, p] == EMPTY and stamp[head] != p:
                    stamp[head] = p
                    touches[head] += 1
        for k in range(first, pairs):
            pair_vital[k] = touches[pair_chain[k]] == empties[r]
            vitals += pair_vital[k]
    if vitals < 2:  # the usual case before the end: nothing is alive yet
        return
    alive[:regions] = 1
    for k in range(pairs):
        chain_in[pair_chain[k]] = 1
    changed = True
    while changed:
        changed = False
        for k in range(pairs):
            vital[pair_chain[k]] = 0
        for k in range(pairs):
            if pair_vital[k] and alive[pair_region[k]]:
                vital[pair_chain[k]] += 1
        for k in range(pairs):
            head = pair_chain[k]
            if chain_in[head] and vital[head] < 2:
                chain_in[head] = 0
                changed = True
        for k in range(pairs):
            if alive[pair_region[k]] and not chain_in[pair_chain[k]]:
                alive[pair_region[k]] = 0
                changed = True
    enclosed[:regions] = 0
    for k in range(pairs):
        r = pair_region[k]
        if pair_vital[k] and alive[r] and chain_in[pair_chain[k]]:
            enclosed[r] = 1
    for row in range(n):
        for col in range(n):
            p = (row + 1) * width + col + 1
            if g[COLOR, p] == color:
                out[row, col] = chain_in[g[HEAD, p]]
            else:
                out[row, col] = enclosed[region[p]]


@njit(cache=True)
def features_into(s, color, level, out):
    """The extra planes of a feature set (``FEATURE_LEVELS``) for ``color`` into ``out``:
    level 1 the four atari planes (``tactics_into``), level 2 those and the four liberty
    planes (``liberty_planes_into``), level 3 those and the pass-alive areas of ``color`` and
    of the opponent (``pass_alive_into``)."""
    if level >= 1:
        tactics_into(s, color, out[:4])
    if level >= 2:
        liberty_planes_into(s, color, out[4:8])
    if level >= 3:
        pass_alive_into(s, color, out[8])
        pass_alive_into(s, 3 - color, out[9])
