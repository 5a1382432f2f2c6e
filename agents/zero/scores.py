"""How a search tree scores the moves out of a node: Gumbel AlphaZero's and PUCT's rules.

Numba kernels over the arrays of :class:`agents.zero.tree.Trees` (tree ``b``, node ``node``,
move ``a``; see that module for the statistics). ``pending`` counts the virtual losses that wait
for the network; ``real`` leaves them out (the Gumbel root ranks only what was evaluated).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _child_q(children, n, w, pending, real, b, node, a):
    """(Q, visits) of a move; ``real`` leaves out the virtual losses still pending on it."""
    child = children[b, node, a]
    if child < 0:
        return 0.0, 0
    visits, total = n[b, child], w[b, child]
    if real:
        visits, total = visits - pending[b, child], total + pending[b, child]
    if visits > 0:
        return total / visits, visits
    return 0.0, 0


@njit(cache=True)
def _sigma(children, logits, n, w, pending, real, value, b, node, c_visit, c_scale, out):
    """sigma(completed q) for every legal move of ``node`` into ``out`` (A,); returns max N."""
    actions = logits.shape[2]
    total_n, max_n, prob_sum, weighted = 0, 0, 0.0, 0.0
    for a in range(actions):
        if logits[b, node, a] == -np.inf:
            continue
        q, visits = _child_q(children, n, w, pending, real, b, node, a)
        if visits > 0:
            p = math.exp(logits[b, node, a])
            total_n += visits
            max_n = max(max_n, visits)
            prob_sum += p
            weighted += p * q
    mixed = value[b, node]
    if total_n > 0 and prob_sum > 0:
        mixed = (value[b, node] + total_n * weighted / prob_sum) / (1 + total_n)
    low, high = np.inf, -np.inf
    for a in range(actions):
        if logits[b, node, a] == -np.inf:
            out[a] = 0.0
            continue
        q, visits = _child_q(children, n, w, pending, real, b, node, a)
        out[a] = q if visits > 0 else mixed
        low, high = min(low, out[a]), max(high, out[a])
    scale = (c_visit + max_n) * c_scale
    span = max(high - low, 1e-8)
    for a in range(actions):
        if logits[b, node, a] != -np.inf:
            out[a] = scale * (out[a] - low) / span
    return max_n


@njit(cache=True)
def _improved_policy(children, logits, n, w, pending, value, b, node, c_visit, c_scale, sigma,
                     out):  # fmt: skip
    """softmax(logits + sigma(completed q)) over the legal moves into ``out``."""
    _sigma(children, logits, n, w, pending, False, value, b, node, c_visit, c_scale, sigma)
    top = -np.inf
    for a in range(out.shape[0]):
        if logits[b, node, a] != -np.inf:
            out[a] = logits[b, node, a] + sigma[a]
            top = max(top, out[a])
    total = 0.0
    for a in range(out.shape[0]):
        if logits[b, node, a] == -np.inf:
            out[a] = 0.0
        else:
            out[a] = math.exp(out[a] - top)
            total += out[a]
    for a in range(out.shape[0]):
        out[a] /= total


@njit(cache=True)
def _select_gumbel_interior(children, logits, n, w, pending, value, b, node, c_visit, c_scale,
                            buf):  # fmt: skip
    policy, sigma = buf[0], buf[1]
    _improved_policy(children, logits, n, w, pending, value, b, node, c_visit, c_scale, sigma,
                     policy)  # fmt: skip
    total = 0
    for a in range(policy.shape[0]):
        child = children[b, node, a]
        if child >= 0:
            total += n[b, child]
    best, best_score = -1, -np.inf
    for a in range(policy.shape[0]):
        if logits[b, node, a] == -np.inf:
            continue
        child = children[b, node, a]
        visits = n[b, child] if child >= 0 else 0
        score = policy[a] - visits / (1.0 + total)
        if score > best_score:
            best, best_score = a, score
    return best


@njit(cache=True)
def _select_gumbel_root(children, logits, n, w, pending, value, b, gumbel, start, target,
                        c_visit, c_scale, buf):  # fmt: skip
    # Halving's schedule counts pending visits; its ranking only what the network has judged.
    sigma = buf[1]
    _sigma(children, logits, n, w, pending, True, value, b, 0, c_visit, c_scale, sigma)
    best, best_score, fallback, fallback_score = -1, -np.inf, -1, -np.inf
    for a in range(sigma.shape[0]):
        if logits[b, 0, a] == -np.inf:
            continue
        child = children[b, 0, a]
        since = (n[b, child] if child >= 0 else 0) - start[b, a]
        score = gumbel[b, a] + logits[b, 0, a] + sigma[a]
        if since == target and score > best_score:
            best, best_score = a, score
        if score - 1e6 * since > fallback_score:  # fewest visits first, then the score
            fallback, fallback_score = a, score - 1e6 * since
    return best if best >= 0 else fallback


@njit(cache=True)
def _select_puct(children, logits, n, w, pending, value, b, node, noise, c_puct, fpu):
    total = 0
    for a in range(logits.shape[2]):
        child = children[b, node, a]
        if child >= 0:
            total += n[b, child]
    root_scale = math.sqrt(max(total, 1))
    best, best_score = -1, -np.inf
    for a in range(logits.shape[2]):
        if logits[b, node, a] == -np.inf:
            continue
        prior = math.exp(logits[b, node, a])
        if node == 0:
            prior = noise[b, a] if noise[b, a] >= 0 else prior
        q, visits = _child_q(children, n, w, pending, False, b, node, a)
        if visits == 0:
            q = value[b, node] - fpu
        score = q + c_puct * prior * root_scale / (1 + visits)
        if score > best_score:
            best, best_score = a, score
    return best
