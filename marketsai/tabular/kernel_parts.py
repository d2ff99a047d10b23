"""Building blocks shared by the Q-learning kernels: argmax with random ties, the greedy
caches, the exploration schedule.

Why a module of its own: the general kernel (:mod:`marketsai.tabular.kernel`) and its
specialised fast path (:mod:`marketsai.tabular.fastpath`) must do these steps with the
same operations and the same random draws, so that they give bit-identical results;
sharing the code is what guarantees it.

Examples
--------
>>> q = np.array([[[1.0, 3.0, 3.0]]])
>>> st = np.array([1, 2, 3, 4], dtype=np.uint64)
>>> a, best = argmax_random_ties(q, 0, 0, 2, st)   # a tie between 1 and 2: one draw
>>> int(a) in (1, 2), float(best)
(True, 3.0)
>>> round(eps_at(0.5, 3), 12) == round(float(np.exp(-1.5)), 12)
True
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from marketsai.tabular.rng import to_unit, xoshiro

EXP_DECAY, CONSTANT, BOLTZMANN = 0, 1, 2
EPS_RESYNC = 1024


@njit(cache=True, inline="always")
def _argmax_count(q, i, s, hi):
    """First index, value and multiplicity of the largest ``q[i, s, 0..hi]``."""
    best = q[i, s, 0]
    first = 0
    count = 1
    for a in range(1, hi + 1):
        v = q[i, s, a]
        if v > best:
            best = v
            first = a
            count = 1
        elif v == best:
            count += 1
    return first, np.float64(best), count


@njit(cache=True)
def _kth_tie(q, i, s, hi, first, best, k):
    """The k-th (from 0) index in ``first..hi`` where ``q[i, s, .] == best``."""
    for a in range(first, hi + 1):
        if q[i, s, a] == best:
            if k == 0:
                return a
            k -= 1
    return first


@njit(cache=True)
def _argmax_ties(q, i, s, hi, s0, s1, s2, s3):
    """Argmax of ``q[i, s, 0..hi]`` with ties broken uniformly at random.

    Draws one random number only when there is a tie (the k-th tied index, k uniform).
    Returns ``(index, value, s0, s1, s2, s3)``.
    """
    first, best, count = _argmax_count(q, i, s, hi)
    if count > 1:
        x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
        first = _kth_tie(q, i, s, hi, first, best, np.int64(to_unit(x) * count))
    return first, best, s0, s1, s2, s3


@njit(cache=True)
def argmax_random_ties(q, i, s, hi, st):
    """:func:`_argmax_ties` with the RNG state in the array ``st`` (init and repair)."""
    a, best, s0, s1, s2, s3 = _argmax_ties(q, i, s, hi, st[0], st[1], st[2], st[3])
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    return a, best


@njit(cache=True)
def eps_at(beta, t):
    """``exp(-beta t)`` as the kernels compute it incrementally (see ``kernel``'s docstring)."""
    t0 = t - t % EPS_RESYNC
    e = math.exp(-beta * t0)
    d = math.exp(-beta)
    for _ in range(t - t0):
        e *= d
    return e


@njit(cache=True)
def row_caches(q, strategy, st):
    """Row maxima ``(n, n_states)``; repairs greedy actions that are no longer an argmax.

    Called on entry to every kernel call: ``q`` may have been edited by the user, so a
    cached greedy action that is out of range or below the row maximum is redrawn
    (argmax, ties at random, from the session's stream ``st``).
    """
    n, n_states, m = q.shape
    maxq = np.empty((n, n_states))
    for i in range(n):
        for x in range(n_states):
            g = strategy[i, x]
            mx = q[i, x, 0]
            for a in range(1, m):
                if q[i, x, a] > mx:
                    mx = q[i, x, a]
            if g < 0 or g >= m or q[i, x, g] < mx:
                g, mx2 = argmax_random_ties(q, i, x, m - 1, st)
                strategy[i, x] = g
            maxq[i, x] = mx
    return maxq
