"""Building blocks shared by the Q-learning kernels: argmax with random ties, the greedy
caches and the cached Q-update, action choice, sampling from a CDF, the exploration
schedule.

Why a module of its own: the memory kernel (:mod:`marketsai.tabular.kernel`), its
specialised fast path (:mod:`marketsai.tabular.fastpath`) and the model kernel
(:mod:`marketsai.tabular.model_kernel`) must do these steps with the same operations and
the same random draws, so that they give bit-identical results (the model kernel on
``FiniteModel.from_game`` included); sharing the code is what guarantees it.

The helpers that look at a row of ``Q`` take its last admissible index ``hi`` (or the
number of admissible actions): the memory kernel passes ``m - 1`` (``m``), the model
kernel its feasible-action count in the state, so infeasible and padding entries are
never read. The plain-Python twin (:mod:`marketsai.tabular.reference`) is written
separately on purpose: the parity tests check these functions against it.

Examples
--------
>>> q = np.array([[[1.0, 3.0, 3.0]]])
>>> st = np.array([1, 2, 3, 4], dtype=np.uint64)
>>> a, best = argmax_random_ties(q, 0, 0, 2, st)   # a tie between 1 and 2: one draw
>>> int(a) in (1, 2), float(best)
(True, 3.0)
>>> round(eps_at(0.5, 3), 12) == round(float(np.exp(-1.5)), 12)
True
>>> int(sample_cdf(np.array([0.25, 0.5, 1.0]), 0.3))   # first k with u < cdf[k]
1
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from marketsai.tabular.rng import to_unit, xoshiro

EXP_DECAY, CONSTANT, BOLTZMANN = 0, 1, 2
EPS_RESYNC = 1024


@njit(cache=True, inline="always")
def argmax_count(q, i, s, hi):
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
def kth_tie(q, i, s, hi, first, best, k):
    """The k-th (from 0) index in ``first..hi`` where ``q[i, s, .] == best``."""
    for a in range(first, hi + 1):
        if q[i, s, a] == best:
            if k == 0:
                return a
            k -= 1
    return first


@njit(cache=True)
def argmax_ties(q, i, s, hi, s0, s1, s2, s3):
    """Argmax of ``q[i, s, 0..hi]`` with ties broken uniformly at random.

    Draws one random number only when there is a tie (the k-th tied index, k uniform).
    Returns ``(index, value, s0, s1, s2, s3)``.
    """
    first, best, count = argmax_count(q, i, s, hi)
    if count > 1:
        x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
        first = kth_tie(q, i, s, hi, first, best, np.int64(to_unit(x) * count))
    return first, best, s0, s1, s2, s3


@njit(cache=True)
def argmax_random_ties(q, i, s, hi, st):
    """:func:`argmax_ties` with the RNG state in the array ``st`` (init and repair)."""
    a, best, s0, s1, s2, s3 = argmax_ties(q, i, s, hi, st[0], st[1], st[2], st[3])
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    return a, best


@njit(cache=True, inline="always")
def sample_cdf(cdf_row, u):
    """Inverse CDF: the first ``k`` with ``u < cdf_row[k]`` (the last index if none)."""
    k = 0
    while u >= cdf_row[k] and k < cdf_row.shape[0] - 1:
        k += 1
    return k


@njit(cache=True)
def q_update(q, strategy, maxq, i, s, a, target, alpha, n_act, s0, s1, s2, s3):
    """Q-update of one entry (Calvano et al. 2020, Sec. I), keeping the greedy/max caches.

    The caches cover actions ``0..n_act-1`` (``m`` in the memory kernel, the feasible
    count in the model kernel). O(1) unless the greedy entry fell or an exact tie
    appeared; then the row is rescanned, ties broken at random (one draw).
    Returns ``(greedy action changed, s0, s1, s2, s3)``.

    Used where one update happens per period (alternating moves). The simultaneous-move
    loops write the same steps out in place: called there per agent and period, this
    function (a plain call, or with ``inline="always"``) cut the model kernel's speed on
    the Calvano game by about half.
    """
    old = q[i, s, a]
    q[i, s, a] = (1.0 - alpha) * old + alpha * target
    new = np.float64(q[i, s, a])  # read back: rounded to the table's dtype
    g = strategy[i, s]
    mx = maxq[i, s]
    if a == g:
        if new >= mx:
            maxq[i, s] = new
            return False, s0, s1, s2, s3
    elif new < mx:
        return False, s0, s1, s2, s3
    elif new > mx:
        strategy[i, s] = a
        maxq[i, s] = new
        return True, s0, s1, s2, s3
    # the greedy entry fell, or an exact tie: rescan the (admissible part of the) row
    g2, mx2, s0, s1, s2, s3 = argmax_ties(q, i, s, n_act - 1, s0, s1, s2, s3)
    strategy[i, s] = g2
    maxq[i, s] = mx2
    return g2 != g, s0, s1, s2, s3



@njit(cache=True)
def choose_action(q, strategy, maxq, i, s, forced_i, ov, eps_i, mode, temperature, hi, n_act, w,
            s0, s1, s2, s3):
    """Agent i's action in state s among ``0..hi`` (``hi <= n_act - 1``: an action cap).

    Forced (clipped to ``n_act - 1``; the memory kernel's front end already keeps it
    below ``m``), Boltzmann, or epsilon-greedy: explore uniformly on ``0..hi``, else the
    cached greedy action when no cap is in effect, else the argmax of ``0..hi``.
    ``w`` is scratch of length >= hi + 1. Returns ``(a, s0, s1, s2, s3)``.
    """
    if forced_i >= 0:
        return min(forced_i, n_act - 1), s0, s1, s2, s3
    if mode == BOLTZMANN and ov < 0:
        mx = maxq[i, s]
        total = 0.0
        for a in range(hi + 1):
            w[a] = math.exp((q[i, s, a] - mx) / temperature)
            total += w[a]
        x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
        u = to_unit(x) * total
        acc = 0.0
        for a in range(hi + 1):
            acc += w[a]
            if u < acc:
                return a, s0, s1, s2, s3
        return hi, s0, s1, s2, s3
    ep = ov if ov >= 0.0 else eps_i
    x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
    if to_unit(x) < ep:  # explore: a uniform action
        x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
        return np.int64(to_unit(x) * (hi + 1)), s0, s1, s2, s3
    if hi == n_act - 1:  # exploit: the cached greedy action
        return np.int64(strategy[i, s]), s0, s1, s2, s3
    a, _, s0, s1, s2, s3 = argmax_ties(q, i, s, hi, s0, s1, s2, s3)
    return a, s0, s1, s2, s3


def exploration_rate(beta, t):
    """``exp(-beta t)`` as the kernels compute it incrementally (see ``kernel``'s docstring).

    Plain Python, compiled as :func:`eps_at` for the kernels and called as is by the
    slow twin: one definition of the schedule, so the two cannot drift apart.
    """
    t0 = t - t % EPS_RESYNC
    e = math.exp(-beta * t0)
    d = math.exp(-beta)
    for _ in range(t - t0):
        e *= d
    return e


eps_at = njit(cache=True)(exploration_rate)


@njit(cache=True, inline="always")
def feasible_row_caches(q, strategy, st, nf):
    """Row maxima ``(n, n_states)`` over ``q[i, x, 0..nf-1]``; repairs stale greedy actions.

    Called on entry to every kernel call: ``q`` may have been edited by the user, so a
    cached greedy action that is out of range or below the row maximum is redrawn
    (argmax, ties at random, from the session's stream ``st``). ``nf`` is the number of
    admissible actions, ``(n_states, n)`` per state or one row ``(1, n)`` for all states.

    Inlined (numba IR) so that ``maxq`` is allocated in the calling kernel: as a plain
    call the model kernel's period loop ran 3 % slower (measured; presumably LLVM then
    no longer sees that the fresh array aliases none of the others).
    """
    n, n_states, m = q.shape
    per_state = nf.shape[0] > 1
    maxq = np.empty((n, n_states))
    for i in range(n):
        for x in range(n_states):
            hi = nf[x if per_state else 0, i] - 1
            g = strategy[i, x]
            mx = q[i, x, 0]
            for a in range(1, hi + 1):
                if q[i, x, a] > mx:
                    mx = q[i, x, a]
            if g < 0 or g > hi or q[i, x, g] < mx:
                g, mx2 = argmax_random_ties(q, i, x, hi, st)
                strategy[i, x] = g
            maxq[i, x] = mx
    return maxq


@njit(cache=True)
def row_caches(q, strategy, st):
    """:func:`feasible_row_caches` with every action admissible (the memory kernel's case)."""
    n, n_states, m = q.shape
    return feasible_row_caches(q, strategy, st, np.full((1, n), m, dtype=np.int64))


# ------------------------------------------------------------ the period loops' shared setup
# Inlined (numba IR) into the memory kernel's general loop and the model kernel, before
# their period loops. The loop bodies stay written out in both kernels: as inlined helpers,
# steps inside the loop cost speed (measured on the Calvano game, general loop, millions of
# periods per CPU-second: the cache upkeep after a simultaneous-move update 22 -> 17, the
# end-of-period exploration-rate update 22 -> 18, the epsilon-greedy choice about -7 %).


@njit(cache=True, inline="always")
def period_limits(t, budget, stop_converged, stable_periods, max_periods):
    """The loop's stops: ``t == t_stop`` (budget, or ``max_periods`` when stopping at
    convergence) and ``stable == stable_stop`` (the convergence rule, if on)."""
    t_stop = t + budget if budget >= 0 else np.int64(2**62)
    if stop_converged and max_periods < t_stop:
        t_stop = max_periods
    stable_stop = stable_periods if stop_converged else np.int64(2**62)
    return t_stop, stable_stop


@njit(cache=True, inline="always")
def exploration_rates(beta, t, mode, epsilon):
    """Per agent ``eps_t`` and the per-period factor ``exp(-beta)``, in scratch padded by 64
    bytes each side (two threads never write to one cache line: false sharing halved the
    2-thread speed)."""
    n = beta.shape[0]
    eps = np.empty(n + 16)[8:8 + n]
    decay = np.empty(n + 16)[8:8 + n]
    for i in range(n):
        decay[i] = math.exp(-beta[i])
        eps[i] = eps_at(beta[i], t) if mode == EXP_DECAY else epsilon
    return eps, decay
