"""The fast path: the Q-learning period loop specialised to two agents, simultaneous
moves, no exogenous states and no controls (the Calvano et al. 2020 baseline).

Why: most runs are of this case, and the general loop in :mod:`marketsai.tabular.kernel`
pays for its generality. Measured on the baseline, three things pay (each checked to
leave results unchanged):

* **No unpredictable branches in the hot path.** Mid-run, while ``eps_t`` is near 1/2,
  whether an agent explores is a coin flip the CPU cannot predict; here both outcomes are
  computed and one is selected (the uniform draw is made either way and *kept* - RNG
  state included - only when exploring, so the stream is exactly the branchy loop's).
* **A row rescan without branches.** The greedy entry falls in about half the updates
  mid-run, and the rescan (argmax, its multiplicity for tie-breaking) is written as
  selects rather than data-dependent jumps.
* **A second cache**, the largest entry other than the greedy one (``other``): a greedy
  entry that falls but stays above it is still the unique argmax, with no rescan.

Plus the two agents unrolled, rates in registers, and the exploration schedule checked
once per block of ``EPS_RESYNC`` periods rather than every period.

It is the *same algorithm*: the same floating-point operations in the same order and
the same random draws (explore decision and action of agent 0, then of agent 1, one more
only for an exact tie in a rescan), so results are bit-identical to the general kernel
and to the plain-Python twin (``tests/test_tabular_fastpath.py``).
:func:`fast_path_eligible` decides, per :func:`~marketsai.tabular.kernel.advance_kernel`
call, whether it applies; NaN or infinite values fall back to the general loop (its
comparisons with NaN would differ from the selects here).

Examples
--------
>>> import numpy as np
>>> no = np.array([-1, -1]); nf = np.array([-1.0, -1.0]); yes = np.array([True, True])
>>> cap = np.array([14, 14]); pay = np.zeros((1, 225, 2))
>>> fast_path_eligible(pay, 1, False, EXP_DECAY, no, nf, yes, cap, 15, 0, 8)
True
>>> fast_path_eligible(pay, 1, True, EXP_DECAY, no, nf, yes, cap, 15, 0, 8)  # alternating
False
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from marketsai.tabular.kernel_parts import (
    BOLTZMANN,
    EPS_RESYNC,
    EXP_DECAY,
    eps_at,
    kth_tie,
    row_caches,
)
from marketsai.tabular.rng import to_unit, xoshiro


@njit(cache=True)
def fast_path_eligible(payoffs, n_exo, alternating, mode, forced, eps_override, learn, cap, m,
                       n_rec, itemsize):
    """True when :func:`run_duopoly` computes exactly what the general loop would.

    Two agents, one exogenous state, simultaneous moves, epsilon-greedy exploration
    (decaying or constant), float64 tables, no recording, finite payoffs, and no
    control in effect: no forced action, no epsilon override, both agents learning, no
    action cap. (Finite Q-tables are checked per session: :func:`finite_table`.)
    """
    n = payoffs.shape[2]
    if n != 2 or n_exo != 1 or alternating or mode == BOLTZMANN or n_rec != 0 or itemsize != 8:
        return False
    for i in range(2):
        if forced[i] >= 0 or eps_override[i] >= 0.0 or not learn[i] or cap[i] != m - 1:
            return False
    return finite_table(payoffs)


@njit(cache=True)
def finite_table(x):
    """No NaN or infinite entry in ``x`` (any shape)."""
    for v in x.ravel():
        if not math.isfinite(v):
            return False
    return True


@njit(cache=True, inline="always")
def max_except(q, i, s, m, g):
    """``max_{a != g} q[i, s, a]`` (-inf when ``m == 1``), without branches."""
    best = -np.inf
    for a in range(m):
        v = q[i, s, a]
        best = v if (a != g) & (v > best) else best
    return best


@njit(cache=True)
def _others_max(q, strategy):
    """Per (agent, state) the largest entry other than the greedy one (the second cache)."""
    n, n_states, m = q.shape
    out = np.empty((n, n_states))
    for i in range(n):
        for s in range(n_states):
            out[i, s] = max_except(q, i, s, m, strategy[i, s])
    return out


@njit(cache=True, inline="always")
def rescan_row(q, i, s, m):
    """First argmax, maximum, its multiplicity, and the largest other entry of a row.

    The first three are exactly :func:`~marketsai.tabular.kernel_parts.argmax_count`'s
    (first index where the running maximum strictly increased; entries equal to it
    counted), written as selects. The fourth is the second largest value counted with
    multiplicity (the maximum itself when it is tied).
    """
    best = q[i, s, 0]
    first = 0
    count = 1
    second = -np.inf
    for b in range(1, m):
        v = q[i, s, b]
        gt = v > best
        lo = best if gt else v
        second = lo if lo > second else second
        count = 1 if gt else count + (v == best)
        first = b if gt else first
        best = v if gt else best
    second = best if count > 1 else second
    return first, best, count, second


@njit(cache=True, inline="always")
def explore_select(eps, g, m, s0, s1, s2, s3):
    """One agent's epsilon-greedy choice as selects: the explore draw, then a uniform action
    drawn either way and *kept* (action and RNG state) only when exploring, so the stream
    is exactly the branchy loop's. Returns ``(a, s0, s1, s2, s3)``."""
    x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
    y, r0, r1, r2, r3 = xoshiro(s0, s1, s2, s3)
    ex = to_unit(x) < eps
    a = np.int64(to_unit(y) * m) if ex else g
    return a, (r0 if ex else s0), (r1 if ex else s1), (r2 if ex else s2), (r3 if ex else s3)


@njit(cache=True)
def run_duopoly(payoffs, Mk, M, delta, alpha, beta, mode, epsilon, q, strategy, st, s, t,
                stable, budget, stop_converged, stable_periods, max_periods):
    """:func:`~marketsai.tabular.kernel.run_session` for an eligible call (see module).

    Returns the new (s, t, stable, periods run); ``q, strategy, st`` are this session's
    slices, updated in place.
    """
    m = q.shape[2]
    maxq = row_caches(q, strategy, st)  # the greedy entry's value (repairs stale actions)
    other = _others_max(q, strategy)  # the largest of the other entries
    pay = payoffs[0]
    k1 = Mk == M  # memory 1: the next state is the joint action
    rate0, rate1 = alpha[0], alpha[1]
    keep0, keep1 = 1.0 - alpha[0], 1.0 - alpha[1]
    decay = mode == EXP_DECAY
    d0 = math.exp(-beta[0]) if decay else 1.0  # constant exploration: eps * 1.0 == eps
    d1 = math.exp(-beta[1]) if decay else 1.0
    eps0 = eps_at(beta[0], t) if decay else epsilon
    eps1 = eps_at(beta[1], t) if decay else epsilon
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    t_stop = t + budget if budget >= 0 else np.int64(2**62)
    if stop_converged and max_periods < t_stop:
        t_stop = max_periods
    stable_stop = stable_periods if stop_converged else np.int64(2**62)
    t_begin = t
    while t < t_stop and stable < stable_stop:
        # a block of periods up to the next multiple of EPS_RESYNC: no schedule checks inside
        t_end = min(t_stop, (t // EPS_RESYNC + 1) * EPS_RESYNC)
        while t < t_end and stable < stable_stop:
            # explore (uniform action) or exploit, as selects: the second draw is kept
            # (action and RNG state r*) only when exploring
            g0 = np.int64(strategy[0, s])
            g1 = np.int64(strategy[1, s])
            a0, s0, s1, s2, s3 = explore_select(eps0, g0, m, s0, s1, s2, s3)
            a1, s0, s1, s2, s3 = explore_select(eps1, g1, m, s0, s1, s2, s3)
            j = a0 * m + a1
            s_next = j if k1 else (s * M + j) % Mk
            changed = False
            for i in range(2):
                # Q_i(s, a_i) <- (1 - alpha) Q_i(s, a_i) + alpha [pi_i + delta max_a Q_i(s', a)]
                if i == 0:
                    a = a0
                    g = g0
                    target = pay[j, 0] + delta * maxq[0, s_next]
                    old = q[0, s, a]
                    new = keep0 * old + rate0 * target
                else:
                    a = a1
                    g = g1
                    target = pay[j, 1] + delta * maxq[1, s_next]
                    old = q[1, s, a]
                    new = keep1 * old + rate1 * target
                q[i, s, a] = new
                mx = maxq[i, s]
                sec = other[i, s]
                rescan = False
                if a == g:
                    # the greedy entry stays the unique argmax while above all others
                    if (new >= mx) | (new > sec):
                        maxq[i, s] = new
                    else:
                        rescan = True
                elif new > mx:  # a new greedy action; the old one is now the best other
                    strategy[i, s] = a
                    maxq[i, s] = new
                    other[i, s] = mx
                    changed = True
                elif new == mx:
                    rescan = True
                elif new >= sec:
                    other[i, s] = new
                elif old == sec:  # a best non-greedy entry fell: max of the others again
                    other[i, s] = max_except(q, i, s, m, g)
                if rescan:  # as the general kernel: argmax, ties broken at random
                    g2, mx2, count, sec2 = rescan_row(q, i, s, m)
                    if count > 1:
                        x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                        g2 = kth_tie(q, i, s, m - 1, g2, mx2, np.int64(to_unit(x) * count))
                    strategy[i, s] = g2
                    maxq[i, s] = mx2
                    other[i, s] = sec2
                    if g2 != g:
                        changed = True
            stable = 0 if changed else stable + 1
            t += 1
            s = s_next
            eps0 *= d0  # eps_{t+1} = eps_t exp(-beta)
            eps1 *= d1
        if decay and t % EPS_RESYNC == 0:  # resynchronise: eps_t = exp(-beta t)
            eps0 = math.exp(-beta[0] * t)
            eps1 = math.exp(-beta[1] * t)
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3
    return s, t, stable, t - t_begin
