"""Numba kernels for Q-learning on any :class:`~marketsai.finite_model.FiniteModel`.

Why a second kernel: :mod:`marketsai.tabular.kernel` computes the next memory state
arithmetically and is tuned for repeated games; economies with endogenous state (a
planner choosing next capital on a grid, a monopolist with no memory) give their
transitions as data. This kernel reads them from the model's arrays:

* full state ``s = e n_x + x``; after joint action ``j`` the endogenous state becomes
  ``x' = next_x[e, x, j]`` (``next_x`` is passed flattened to ``(n_exo n_x, M)`` and read
  as ``next_x[s, j]``) and ``e' ~ exo_transition[e]``;
* rewards and outcomes are flattened to ``(n_exo R, M, n)`` with ``R`` their x-axis
  length (1 or ``n_x``); the row of state ``(e, x)`` is ``e R + (x if R > 1 else 0)``;
* agent ``i`` has ``n_actions[i]`` actions (Q-tables are padded to the largest) and may
  choose only ``0..nf(s, i) - 1`` in state ``s``, with ``nf`` the model's ``n_feasible``
  (passed as ``(n_states, n)``, or as one row ``(1, n)`` of ``n_actions`` when every
  action is always feasible). Exploration draws uniformly among the feasible actions;
  greedy choice, the row maximum and tie-breaking look at feasible entries only, so
  infeasible and padding entries of ``Q`` are never read.

Everything else -- the Q-update, exploration schedules, convergence rule, controls,
RNG and the order of draws, tie-breaking, session slicing -- is the memory kernel's:
the per-step building blocks (argmax with random ties, the cached Q-update, action
choice, sampling from a CDF, ``eps_at``, the cache repair on entry) are the very
functions of :mod:`marketsai.tabular.kernel_parts`, called with the feasible count
where the memory kernel passes ``m``; only the period loop, which reads transitions,
rewards and feasible sets from the model's arrays, is written here.
On ``FiniteModel.from_game(game)`` every array this kernel reads holds the same numbers
the memory kernel computes, and every draw happens in the same order, so the two give
bit-identical sessions (``tests/test_tabular_model.py``).

Kernels take arrays and scalars only; the front end is :mod:`marketsai.tabular.sessions`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from marketsai.tabular.kernel_parts import (
    BOLTZMANN,
    EPS_RESYNC,
    EXP_DECAY,
    argmax_count,
    argmax_random_ties,
    choose_action,
    exploration_rates,
    feasible_row_caches,
    kth_tie,
    period_limits,
    q_update,
    sample_cdf,
)
from marketsai.tabular.rng import to_unit, uniform, xoshiro


@njit(cache=True)
def _next_value(q, maxq, i, e, s_next, n_x, w, exo_p, pi_value, pi_policy):
    """The continuation value in agent i's target under the solver options.

    ``exo_p`` given (expected targets): ``sum_e' P(e, e') V(e' n_x + x')``, summed over
    e' in order from 0.0 -- the post-decision value (Ma, Stachurski and Toda 2020's
    Q-transform); else ``V(s_next)``. ``V`` is ``max_a Q`` (cached) or, with
    ``pi_value`` given, Bertsekas and Yu's ``max(J(s'), Q(s', nu(s')))`` (session w's J, nu).
    """
    if exo_p is None:
        if pi_value is not None:
            return max(pi_value[w, i, s_next], np.float64(q[i, s_next, pi_policy[w, i, s_next]]))
        return maxq[i, s_next]
    x2 = s_next % n_x
    acc = 0.0
    for f in range(exo_p.shape[0]):
        y = f * n_x + x2
        if pi_value is not None:
            v = max(pi_value[w, i, y], np.float64(q[i, y, pi_policy[w, i, y]]))
        else:
            v = maxq[i, y]
        acc += exo_p[e, f] * v
    return acc


@njit(cache=True)
def run_model_session(rewards, outcomes, next_x, exo_cdf, n_x, n_rx, n_ox, n_actions, nf,
                      delta, dpow, alpha, beta, mode, epsilon, temperature, alternating, q,
                      strategy, st, s, t, stable, pend_s, pend_a, pend_r, forced,
                      eps_override, learn, cap, budget, stop_converged, stable_periods,
                      max_periods, rec, rec_pos, sw, visits, step_a, step_b, step_omega, exo_p,
                      pi_value, pi_policy, improve_every):
    """Run one session from (s, t, stable) for at most ``budget`` periods (-1: no limit).

    Returns the new (s, t, stable, periods run); ``q, strategy, st, pend_*`` are updated
    in place. ``alternating`` is allowed only on memory models (``x % M`` is the joint
    action in force), which the front end checks.

    Solver options (docs/q_learning_solver.md; none draws a random number, so the
    simulated path only changes through the Q-table). Each is off when its array is
    None, and numba then compiles it away (dead-branch pruning on None arguments: the
    default loop is the plain one, at its old speed). ``sw`` is the session's row in them.

    * ``visits`` (S, n, n_states, m): Robbins-Monro step
      ``alpha = step_a / (step_b + n(s, a))^step_omega``, ``n(s, a)`` counted there (this
      update included);
    * ``exo_p`` (n_exo, n_exo), expected targets: ``r + delta sum_e' P(e, e') V(e' n_x + x')``
      with ``x' = next_x[s, j]`` -- the exact conditional expectation over the known chain
      instead of the sampled ``V(s')`` (simultaneous moves only);
    * ``pi_value``, ``pi_policy`` (S, n, n_states): Bertsekas and Yu (2012) enhanced policy
      iteration: ``V(s') = max(J(s'), Q(s', nu(s')))`` instead of ``max_a Q(s', a)``, with
      ``J`` and ``nu`` set to the row maxima and greedy actions of ``Q`` at every period
      ``t`` that is a multiple of ``improve_every`` (policy improvement).
    """
    n, n_states, m = q.shape
    n_exo = exo_cdf.shape[0]
    M = next_x.shape[1]
    nf_full = nf.shape[0] > 1 or n_states == 1
    # caches: row maxima over feasible entries; repair stale greedy actions (q edited)
    maxq = feasible_row_caches(q, strategy, st, nf)
    # small per-session scratch padded by 64 bytes each side (no false sharing)
    eps, decay = exploration_rates(beta, t, mode, epsilon)
    acts = np.empty(n + 16, dtype=np.int64)[8:8 + n]
    w = np.empty(m + 16)[8:8 + m]
    n_rec = rec.shape[0]
    e = s // n_x
    s0 = st[0]
    s1 = st[1]
    s2 = st[2]
    s3 = st[3]
    t_stop, stable_stop = period_limits(t, budget, stop_converged, stable_periods, max_periods)
    t_begin = t
    t_rec_end = t + max(n_rec - rec_pos, 0)
    plain = np.empty(n + 16, dtype=np.bool_)[8:8 + n]  # epsilon-greedy, no control: hot path
    for i in range(n):
        plain[i] = forced[i] < 0 and cap[i] >= n_actions[i] - 1 \
            and not (mode == BOLTZMANN and eps_override[i] < 0)
    while t < t_stop and stable < stable_stop:
        if pi_value is not None:
            if t % improve_every == 0:  # B&Y policy improvement: J = max Q, nu = greedy
                for i in range(n):
                    for y in range(n_states):
                        pi_value[sw, i, y] = maxq[i, y]
                        pi_policy[sw, i, y] = strategy[i, y]
        x = s - e * n_x
        row = s if nf_full else 0
        rrow = e * n_rx + (x if n_rx > 1 else 0)
        changed = False
        if not alternating:
            j = 0
            for i in range(n):
                nfi = nf[row, i]
                ov = eps_override[i]
                if not plain[i]:
                    a, s0, s1, s2, s3 = choose_action(q, strategy, maxq, i, s, forced[i], ov, eps[i],
                                                mode, temperature, min(cap[i], nfi - 1), nfi, w,
                                                s0, s1, s2, s3)
                else:  # hot path: epsilon-greedy with the cached greedy action
                    x_, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                    if to_unit(x_) < (ov if ov >= 0.0 else eps[i]):
                        x_, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                        a = np.int64(to_unit(x_) * nfi)  # explore: uniform feasible action
                    else:
                        a = np.int64(strategy[i, s])
                acts[i] = a
                j = j * n_actions[i] + a
            e2 = 0
            if n_exo > 1:  # e' ~ P(e, .)
                x_, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                e2 = sample_cdf(exo_cdf[e], to_unit(x_))
            s_next = e2 * n_x + next_x[s, j]
            for i in range(n):
                if learn[i]:
                    a = acts[i]
                    if exo_p is None and pi_value is None:
                        # Q_i(s, a_i) <- (1 - alpha) Q_i(s, a_i) + alpha [r_i + delta max_a Q_i(s', a)]
                        target = rewards[rrow, j, i] + delta * maxq[i, s_next]
                    else:  # expected targets / enhanced PI: the continuation value
                        target = rewards[rrow, j, i] + delta * _next_value(
                            q, maxq, i, e, s_next, n_x, sw, exo_p, pi_value, pi_policy)
                    if visits is None:
                        q[i, s, a] = (1.0 - alpha[i]) * q[i, s, a] + alpha[i] * target
                    else:  # Robbins-Monro: alpha_n = a / (b + n(s, a))^omega
                        visits[sw, i, s, a] += 1
                        al = step_a / (step_b + visits[sw, i, s, a]) ** step_omega
                        q[i, s, a] = (1.0 - al) * q[i, s, a] + al * target
                    new = np.float64(q[i, s, a])  # read back: rounded to the table's dtype
                    g = strategy[i, s]
                    mx = maxq[i, s]
                    # keep the caches: kernel_parts.q_update's steps, written out as in
                    # kernel.run_session (a call here halves the speed)
                    rescan = False
                    if a == g:
                        if new >= mx:
                            maxq[i, s] = new
                        else:
                            rescan = True
                    elif new > mx:
                        strategy[i, s] = a
                        maxq[i, s] = new
                        changed = True
                    elif new == mx:
                        rescan = True
                    if rescan:  # argmax over the feasible entries, ties at random
                        hi = nf[row, i] - 1
                        g2, mx2, count = argmax_count(q, i, s, hi)
                        if count > 1:
                            x_, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                            g2 = kth_tie(q, i, s, hi, g2, mx2, np.int64(to_unit(x_) * count))
                        strategy[i, s] = g2
                        maxq[i, s] = mx2
                        if g2 != g:
                            changed = True
        else:
            # alternating moves (Klein 2021): agent p = t mod n revises, others keep theirs
            p = t % n
            if pend_s[p] >= 0 and learn[p]:
                target = pend_r[p] + dpow[n] * maxq[p, s]
                ps = pend_s[p]
                al = alpha[p]
                if visits is not None:
                    visits[sw, p, ps, pend_a[p]] += 1
                    al = step_a / (step_b + visits[sw, p, ps, pend_a[p]]) ** step_omega
                ch, s0, s1, s2, s3 = q_update(q, strategy, maxq, p, ps, pend_a[p], target,
                                             al, nf[ps if nf_full else 0, p],
                                             s0, s1, s2, s3)
                changed |= ch
            nfp = nf[row, p]
            a, s0, s1, s2, s3 = choose_action(q, strategy, maxq, p, s, forced[p], eps_override[p],
                                        eps[p], mode, temperature, min(cap[p], nfp - 1), nfp, w,
                                        s0, s1, s2, s3)
            last = x % M  # the joint action in force (memory models only)
            pw = 1
            for ll in range(p + 1, n):
                pw *= n_actions[ll]
            j = last + (a - (last // pw) % n_actions[p]) * pw
            for i in range(n):
                if i == p:
                    pend_s[p] = s
                    pend_a[p] = a
                    pend_r[p] = rewards[rrow, j, p]
                elif pend_s[i] >= 0:
                    pend_r[i] += dpow[(t - i) % n] * rewards[rrow, j, i]
            e2 = 0
            if n_exo > 1:
                x_, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                e2 = sample_cdf(exo_cdf[e], to_unit(x_))
            s_next = e2 * n_x + next_x[s, j]
        if t < t_rec_end:
            orow = e * n_ox + (x if n_ox > 1 else 0)
            for i in range(n):
                rec[rec_pos + t - t_begin, i] = outcomes[orow, j, i]
        stable = 0 if changed else stable + 1
        t += 1
        s = s_next
        e = e2
        if mode == EXP_DECAY:
            if t % EPS_RESYNC == 0:
                for i in range(n):
                    eps[i] = math.exp(-beta[i] * t)
            else:
                for i in range(n):
                    eps[i] *= decay[i]
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    return s, t, stable, t - t_begin


@njit(parallel=True, cache=True)
def advance_model_kernel(active, rewards, outcomes, next_x, exo_cdf, n_x, n_rx, n_ox,
                         n_actions, nf, delta, dpow, alpha, beta, mode, epsilon, temperature,
                         alternating, q, strategy, state, t, rng, stable, pend_s, pend_a,
                         pend_r, forced, eps_override, learn, cap, budget, stop_converged,
                         stable_periods, max_periods, rec, rec_pos, done_out, visits, step_a,
                         step_b, step_omega, exo_p, pi_value, pi_policy, improve_every):
    """Advance the sessions listed in ``active``; each prange iteration is one whole session.

    ``visits``, ``pi_value``, ``pi_policy``, ``exo_p``: the solver options' arrays, or
    None when off (see :func:`run_model_session`).
    """
    n = q.shape[1]
    for k in prange(active.shape[0]):
        w = active[k]
        st = np.empty(20, dtype=np.uint64)[8:12]
        st[:] = rng[w]
        ps = np.empty(n + 16, dtype=np.int64)[8:8 + n]
        pa = np.empty(n + 16, dtype=np.int64)[8:8 + n]
        pr = np.empty(n + 16)[8:8 + n]
        ps[:] = pend_s[w]
        pa[:] = pend_a[w]
        pr[:] = pend_r[w]
        s, tt, stb, done = run_model_session(
            rewards, outcomes, next_x, exo_cdf, n_x, n_rx, n_ox, n_actions, nf, delta, dpow,
            alpha, beta, mode, epsilon, temperature, alternating, q[w], strategy[w], st,
            state[w], t[w], stable[w], ps, pa, pr, forced, eps_override, learn, cap, budget[w],
            stop_converged, stable_periods, max_periods, rec[w], rec_pos[w], w, visits, step_a,
            step_b, step_omega, exo_p, pi_value, pi_policy, improve_every)
        rng[w] = st
        pend_s[w] = ps
        pend_a[w] = pa
        pend_r[w] = pr
        state[w] = s
        t[w] = tt
        stable[w] = stb
        done_out[w] = done


@njit(cache=True)
def init_model_kernel(q0, q0_div, n_x, x_uniform, x_init_cdf, exo_init_cdf, nf, q, strategy,
                      state, rng):
    """Fresh sessions: initial state, Q = Q0 (row ``s // q0_div``), greedy actions with random ties.

    Draw order per session (the memory kernel's on a game): one uniform for ``x`` --
    ``floor(u n_x)`` when ``x_initial`` is uniform, else the inverse CDF -- then one for
    ``e`` if ``n_exo > 1``, then one per tied argmax, agent by agent, state by state.
    """
    S, n, n_states, m = q.shape
    nf_full = nf.shape[0] > 1 or n_states == 1
    for w in range(S):
        st = rng[w]
        u = uniform(st)
        x = np.int64(u * n_x) if x_uniform else sample_cdf(x_init_cdf, u)
        e = sample_cdf(exo_init_cdf, uniform(st)) if exo_init_cdf.shape[0] > 1 else 0
        state[w] = e * n_x + x
        qw = q[w]
        for i in range(n):
            for y in range(n_states):
                r = y // q0_div
                for a in range(m):
                    qw[i, y, a] = q0[i, r, a]
        for i in range(n):
            for y in range(n_states):
                strategy[w, i, y] = argmax_random_ties(qw, i, y, nf[y if nf_full else 0, i] - 1, st)[0]
