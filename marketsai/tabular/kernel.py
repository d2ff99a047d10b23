"""The numba kernels: one Q-learning session per ``prange`` iteration.

Notation (Calvano, Calzolari, Denicolò & Pastorello 2020, Section I and II):
state ``s`` (last ``k`` joint actions, and the exogenous state ``e``), action ``a_i``,
per-period payoff ``pi_i``, discount ``delta``, learning rate ``alpha``,
exploration ``eps_t = exp(-beta t)``. Every period each agent updates the one
visited entry (Q-learning, Watkins):

    Q_i(s, a_i) <- (1 - alpha) Q_i(s, a_i) + alpha [pi_i + delta max_a Q_i(s', a)]

Speed: per (agent, state) the kernel caches the greedy action (``strategy``, part of
the session state) and the row maximum (``maxq``, scratch rebuilt on entry), so a
period costs O(1); only when the greedy entry decreases (or an exact tie appears)
is the row of ``m`` entries rescanned, with ties broken at random.

Exploration rates are computed incrementally, ``eps_{t+1} = eps_t * exp(-beta)``,
resynchronised to ``exp(-beta t)`` whenever ``t`` is a multiple of ``EPS_RESYNC``;
``eps_t`` is therefore a fixed function of ``t`` alone (relative drift < 1e-12),
identical in the Python twin, and independent of how a run is sliced.

Parallelism: ``advance_kernel`` is an outer ``prange`` over sessions, one whole session
per iteration. Numba splits a prange statically (``set_parallel_chunksize(1)`` did not
change the assignment under the OpenMP layer here), so the front end balances load by
running sessions in slices of periods and re-dispatching unfinished ones; each session's
state is complete after a slice, so results do not depend on slicing or thread count.

Fast path: calls with two agents, simultaneous moves, no exogenous states, no controls,
no recording and float64 tables (the Calvano baseline) run the specialised loop of
:mod:`marketsai.tabular.fastpath` instead of :func:`run_session` - the same algorithm,
bit for bit, ~1.7x faster; :func:`run_session` stays its checked twin. The building
blocks both use are in :mod:`marketsai.tabular.kernel_parts` (re-exported here).

Kernels take arrays and scalars only; Python front ends live in ``sessions.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from marketsai.tabular.fastpath import fast_path_eligible, finite_table, run_duopoly
from marketsai.tabular.kernel_parts import (  # noqa: F401 - re-exported for the other kernels
    BOLTZMANN,
    CONSTANT,
    EPS_RESYNC,
    EXP_DECAY,
    argmax_count,
    argmax_random_ties,
    argmax_ties,
    choose_action,
    eps_at,
    exploration_rates,
    kth_tie,
    period_limits,
    q_update,
    row_caches,
    sample_cdf,
)
from marketsai.tabular.rng import randint, to_unit, uniform, xoshiro


@njit(cache=True)
def run_session(payoffs, prices, exo_cdf, Mk, M, delta, dpow, alpha, beta, mode, epsilon,
                temperature, alternating, q, strategy, st, s, t, stable, pend_s, pend_a, pend_r,
                forced, eps_override, learn, cap, budget, stop_converged, stable_periods,
                max_periods, rec, rec_pos, hide_exo):
    """Run one session from (s, t, stable) for at most ``budget`` periods (-1: no limit).

    Returns the new (s, t, stable, periods run). ``q, strategy, st, pend_*`` are this
    session's slices and are updated in place. ``hide_exo``: the agents do not observe
    the exogenous state, so Q-rows (and caches) are indexed by the memory state alone
    while payoffs use the realised ``e`` (``s`` still carries it).
    """
    n, n_states, m = q.shape
    n_exo = exo_cdf.shape[0]
    maxq = row_caches(q, strategy, st)  # caches: row maxima; repaired greedy actions
    # small per-session scratch is padded by 64 bytes each side (no false sharing)
    eps, decay = exploration_rates(beta, t, mode, epsilon)
    acts = np.empty(n + 16, dtype=np.int64)[8:8 + n]
    w = np.empty(m + 16)[8:8 + m]
    n_rec = rec.shape[0]
    e = s // Mk
    s0 = st[0]  # RNG state lives in registers during the loop
    s1 = st[1]
    s2 = st[2]
    s3 = st[3]
    # the loop stops at t == t_stop (budget / cap) or when converged (if stop_converged)
    t_stop, stable_stop = period_limits(t, budget, stop_converged, stable_periods, max_periods)
    t_begin = t
    t_rec_end = t + max(n_rec - rec_pos, 0)
    plain = np.empty(n + 16, dtype=np.bool_)[8:8 + n]  # epsilon-greedy, no control: hot path
    for i in range(n):
        plain[i] = forced[i] < 0 and cap[i] == m - 1 and not (mode == BOLTZMANN and eps_override[i] < 0)
    while t < t_stop and stable < stable_stop:
        mem = s - e * Mk
        qs = mem if hide_exo else s  # the Q-row the agents condition on
        changed = False
        if not alternating:
            # simultaneous moves: every agent picks a_i in state s (epsilon-greedy)
            j = 0
            for i in range(n):
                ov = eps_override[i]
                if not plain[i]:
                    a, s0, s1, s2, s3 = choose_action(q, strategy, maxq, i, qs, forced[i], ov, eps[i],
                                                mode, temperature, cap[i], m, w, s0, s1, s2, s3)
                else:  # the hot path, written out: epsilon-greedy with the cached greedy action
                    x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                    if to_unit(x) < (ov if ov >= 0.0 else eps[i]):
                        x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                        a = np.int64(to_unit(x) * m)  # explore: a uniform action
                    else:
                        a = np.int64(strategy[i, qs])  # exploit
                acts[i] = a
                j = j * m + a
            e2 = 0
            if n_exo > 1:  # e' ~ P(e, .)
                x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                e2 = sample_cdf(exo_cdf[e], to_unit(x))
            # s' = (e', last k joint actions); k = 1 needs no division
            s_next = e2 * Mk + (j if Mk == M else (mem * M + j) % Mk)
            qn = s_next - e2 * Mk if hide_exo else s_next
            for i in range(n):
                if learn[i]:
                    # Q_i(s, a_i) <- (1 - alpha) Q_i(s, a_i) + alpha [pi_i + delta max_a Q_i(s', a)]
                    target = payoffs[e, j, i] + delta * maxq[i, qn]
                    a = acts[i]
                    q[i, qs, a] = (1.0 - alpha[i]) * q[i, qs, a] + alpha[i] * target
                    new = np.float64(q[i, qs, a])  # read back: rounded to the table's dtype
                    g = strategy[i, qs]
                    mx = maxq[i, qs]
                    # keep the caches: O(1) unless the greedy entry fell or a tie appeared
                    rescan = False
                    if a == g:
                        if new >= mx:
                            maxq[i, qs] = new
                        else:
                            rescan = True
                    elif new > mx:
                        strategy[i, qs] = a
                        maxq[i, qs] = new
                        changed = True
                    elif new == mx:
                        rescan = True
                    if rescan:
                        g2, mx2, count = argmax_count(q, i, qs, m - 1)
                        if count > 1:  # random tie-breaking
                            x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                            g2 = kth_tie(q, i, qs, m - 1, g2, mx2, np.int64(to_unit(x) * count))
                        strategy[i, qs] = g2
                        maxq[i, qs] = mx2
                        if g2 != g:
                            changed = True
        else:
            # alternating moves (Klein 2021): agent p = t mod n revises, others keep theirs.
            p = t % n
            if pend_s[p] >= 0 and learn[p]:
                # p's decision n periods ago: sum_l delta^l pi_p(t-n+l) + delta^n max_a Q_p(s_t, a)
                target = pend_r[p] + dpow[n] * maxq[p, qs]
                ch, s0, s1, s2, s3 = q_update(q, strategy, maxq, p, pend_s[p], pend_a[p], target,
                                             alpha[p], m, s0, s1, s2, s3)
                changed |= ch
            a, s0, s1, s2, s3 = choose_action(q, strategy, maxq, p, qs, forced[p], eps_override[p],
                                        eps[p], mode, temperature, cap[p], m, w, s0, s1, s2, s3)
            last = mem % M  # the joint action in force (most recent in memory)
            pw = 1
            for _ in range(n - 1 - p):
                pw *= m
            j = last + (a - (last // pw) % m) * pw
            for i in range(n):
                if i == p:
                    pend_s[p] = qs
                    pend_a[p] = a
                    pend_r[p] = payoffs[e, j, p]
                elif pend_s[i] >= 0:
                    pend_r[i] += dpow[(t - i) % n] * payoffs[e, j, i]
            e2 = 0
            if n_exo > 1:
                x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                e2 = sample_cdf(exo_cdf[e], to_unit(x))
            s_next = e2 * Mk + (j if Mk == M else (mem * M + j) % Mk)
        if t < t_rec_end:  # record this call's first periods
            for i in range(n):
                rec[rec_pos + t - t_begin, i] = prices[e, j, i]
        # convergence counter: periods in a row with no greedy action changed
        stable = 0 if changed else stable + 1
        t += 1
        s = s_next
        e = e2
        if mode == EXP_DECAY:
            if t % EPS_RESYNC == 0:
                for i in range(n):
                    eps[i] = math.exp(-beta[i] * t)  # eps_t = exp(-beta t) (Calvano et al. 2020)
            else:
                for i in range(n):
                    eps[i] *= decay[i]
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    return s, t, stable, t - t_begin


@njit(parallel=True, cache=True)
def advance_kernel(active, payoffs, prices, exo_cdf, Mk, M, delta, dpow, alpha, beta, mode,
                   epsilon, temperature, alternating, q, strategy, state, t, rng, stable,
                   pend_s, pend_a, pend_r, forced, eps_override, learn, cap, budget,
                   stop_converged, stable_periods, max_periods, rec, rec_pos, done_out,
                   allow_fast=True, hide_exo=False):
    """Advance the sessions listed in ``active``; each prange iteration is one whole session.

    Dispatch: when the call is eligible (:func:`~marketsai.tabular.fastpath.fast_path_eligible`:
    two agents, simultaneous moves, no exogenous states, no controls, no recording, float64)
    each session runs the specialised loop :func:`~marketsai.tabular.fastpath.run_duopoly`,
    else :func:`run_session`; both give the same results bit for bit. ``allow_fast=False``
    forces the general loop (tests compare the two).
    """
    n = q.shape[1]
    fast = allow_fast and fast_path_eligible(payoffs, exo_cdf.shape[0], alternating, mode,
                                             forced, eps_override, learn, cap, q.shape[3],
                                             rec.shape[1], q.itemsize)
    for k in prange(active.shape[0]):
        w = active[k]
        # private, padded copies of the small per-session rows (no false sharing)
        st = np.empty(20, dtype=np.uint64)[8:12]
        st[:] = rng[w]
        if fast and finite_table(q[w]):  # the specialised loop (fastpath.py): same results
            s, tt, stb, done = run_duopoly(
                payoffs, Mk, M, delta, alpha, beta, mode, epsilon, q[w], strategy[w], st,
                state[w], t[w], stable[w], budget[w], stop_converged, stable_periods,
                max_periods)
        else:
            ps = np.empty(n + 16, dtype=np.int64)[8:8 + n]
            pa = np.empty(n + 16, dtype=np.int64)[8:8 + n]
            pr = np.empty(n + 16)[8:8 + n]
            ps[:] = pend_s[w]
            pa[:] = pend_a[w]
            pr[:] = pend_r[w]
            s, tt, stb, done = run_session(
                payoffs, prices, exo_cdf, Mk, M, delta, dpow, alpha, beta, mode, epsilon,
                temperature, alternating, q[w], strategy[w], st, state[w], t[w], stable[w],
                ps, pa, pr, forced, eps_override, learn, cap, budget[w],
                stop_converged, stable_periods, max_periods, rec[w], rec_pos[w], hide_exo)
            pend_s[w] = ps
            pend_a[w] = pa
            pend_r[w] = pr
        rng[w] = st
        state[w] = s
        t[w] = tt
        stable[w] = stb
        done_out[w] = done


@njit(cache=True)
def init_kernel(q0, q0_div, Mk, exo_init_cdf, q, strategy, state, rng):
    """Fresh sessions: random initial state, Q = Q0, greedy strategy with random ties.

    Serial on purpose: it is memory-bound and cheap next to learning, and a second
    parallel kernel would add seconds of first-call compile time.
    """
    S, n, n_states, m = q.shape
    for w in range(S):
        st = rng[w]
        mem = randint(st, Mk)  # uniform over memory states
        e = sample_cdf(exo_init_cdf, uniform(st)) if exo_init_cdf.shape[0] > 1 else 0
        state[w] = e * Mk + mem
        qw = q[w]
        for i in range(n):
            for x in range(n_states):
                r = x // q0_div
                for a in range(m):
                    qw[i, x, a] = q0[i, r, a]
        for i in range(n):
            for x in range(n_states):
                strategy[w, i, x] = argmax_random_ties(qw, i, x, m - 1, st)[0]
