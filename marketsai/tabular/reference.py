"""The slow twin: the kernel's algorithm in plain Python, for parity tests and the benchmark.

Same state, same RNG stream, same order of random draws and the same floating-point
operations as :mod:`marketsai.tabular.kernel`, so on the same seeds it must produce
bit-identical Q-tables, strategies, clocks and states. It is ~1000x slower: use it
only on small runs.

Examples
--------
>>> from marketsai.finite_game import FiniteGame
>>> from marketsai.tabular import QLearningConfig, init_sessions, advance
>>> pd = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)
>>> game = FiniteGame.from_matrix(pd, memory=1, discount=0.9)
>>> cfg = QLearningConfig(alpha=0.1, beta=1e-3, stable_periods=200)
>>> fast = init_sessions(game, cfg, seed=1, sessions=[0, 1])
>>> slow = reference_init(game, cfg, seed=1, sessions=[0, 1])
>>> _ = advance(game, cfg, fast, periods=3000); _ = reference_advance(game, cfg, slow, periods=3000)
>>> bool(np.array_equal(fast.q, slow.q) and np.array_equal(fast.t, slow.t))
True
"""

from __future__ import annotations

import math

import numpy as np

from marketsai.tabular.config import EXPLORATION, PROTOCOL
from marketsai.tabular.kernel import BOLTZMANN, EPS_RESYNC, EXP_DECAY
from marketsai.tabular.rng import py_uniform
from marketsai.tabular.sessions import (
    SessionState,
    _controls,
    _q0_table,
    game_arrays,
    session_rng_state,
)


def _argmax_ties(row, hi, st):
    best = row[0]
    first, count = 0, 1
    for a in range(1, hi + 1):
        v = row[a]
        if v > best:
            best, first, count = v, a, 1
        elif v == best:
            count += 1
    if count > 1:
        k = int(py_uniform(st) * count)
        for a in range(first, hi + 1):
            if row[a] == best:
                if k == 0:
                    first = a
                    break
                k -= 1
    return first, float(best)


def _sample_cdf(cdf_row, u):
    k = 0
    while u >= cdf_row[k] and k < len(cdf_row) - 1:
        k += 1
    return k


def _eps_at(beta, t):
    t0 = t - t % EPS_RESYNC
    e = math.exp(-beta * t0)
    d = math.exp(-beta)
    for _ in range(t - t0):
        e *= d
    return e


def reference_init(game, cfg, seed=0, sessions=range(4)) -> SessionState:
    """Python twin of :func:`marketsai.tabular.init_sessions`."""
    ga = game_arrays(game)
    q0, q0_div = _q0_table(game, cfg)
    sessions = np.asarray(list(sessions), dtype=np.int64)
    S, n, m = sessions.size, ga.n, ga.m
    q = np.empty((S, n, ga.n_states, m), dtype=cfg.np_dtype)
    strategy = np.empty((S, n, ga.n_states), dtype=np.int32)
    state = np.empty(S, np.int64)
    rng = np.empty((S, 4), np.uint64)
    for w, k in enumerate(sessions):
        st = [int(x) for x in session_rng_state(seed, k)]
        mem = int(py_uniform(st) * ga.Mk)
        e = _sample_cdf(ga.exo_init_cdf, py_uniform(st)) if len(ga.exo_init_cdf) > 1 else 0
        state[w] = e * ga.Mk + mem
        for x in range(ga.n_states):
            q[w, :, x, :] = q0[:, x // q0_div, :]
        for i in range(n):
            for x in range(ga.n_states):
                strategy[w, i, x] = _argmax_ties(q[w, i, x].tolist(), m - 1, st)[0]
        rng[w] = np.array(st, dtype=np.uint64)
    return SessionState(
        q=q, strategy=strategy, state=state, t=np.zeros(S, np.int64), rng=rng,
        stable=np.zeros(S, np.int64), converged=np.zeros(S, bool),
        pend_s=np.full((S, n), -1, np.int64), pend_a=np.full((S, n), -1, np.int64),
        pend_r=np.zeros((S, n)), sessions=sessions, seed=int(seed))


def _choose(q, strategy, maxq, i, s, forced, ov, eps_i, mode, temperature, hi, m, st):
    if forced >= 0:
        return forced
    if mode == BOLTZMANN and ov < 0:
        mx = maxq[i][s]
        w = [math.exp((float(q[i, s, a]) - mx) / temperature) for a in range(hi + 1)]
        total = 0.0
        for v in w:
            total += v
        u = py_uniform(st) * total
        acc = 0.0
        for a in range(hi + 1):
            acc += w[a]
            if u < acc:
                return a
        return hi
    ep = ov if ov >= 0.0 else eps_i
    if py_uniform(st) < ep:
        return int(py_uniform(st) * (hi + 1))
    if hi == m - 1:
        return int(strategy[i, s])
    return _argmax_ties(q[i, s].tolist(), hi, st)[0]


def _update(q, strategy, maxq, i, s, a, target, alpha, m, st):
    q[i, s, a] = (1.0 - alpha) * float(q[i, s, a]) + alpha * target
    new = float(q[i, s, a])
    g = int(strategy[i, s])
    mx = maxq[i][s]
    if a == g:
        if new >= mx:
            maxq[i][s] = new
            return False
    elif new < mx:
        return False
    elif new > mx:
        strategy[i, s] = a
        maxq[i][s] = new
        return True
    g2, mx2 = _argmax_ties(q[i, s].tolist(), m - 1, st)
    strategy[i, s] = g2
    maxq[i][s] = mx2
    return g2 != g


def reference_advance(game, cfg, states: SessionState, periods=None, *, forced_action=None,
                      epsilon_override=None, learn=None, action_cap=None, until_converged=True,
                      record=0):
    """Python twin of :func:`marketsai.tabular.advance` (same arguments, same results)."""
    ga = game_arrays(game)
    forced, eps_ov, lrn, cap = _controls(game, forced_action, epsilon_override, learn, action_cap)
    alpha = cfg.per_agent("alpha", ga.n)
    beta = cfg.per_agent("beta", ga.n)
    mode = EXPLORATION[cfg.exploration]
    alternating = PROTOCOL[cfg.protocol] == 1
    n, m, Mk, M = ga.n, ga.m, ga.Mk, ga.M
    payoffs, prices, delta, dpow = ga.payoffs, ga.prices, ga.delta, ga.dpow
    S = states.n_sessions
    rec = np.full((S, int(record), n), np.nan)
    for w in range(S):
        q, strategy = states.q[w], states.strategy[w]
        st = [int(x) for x in states.rng[w]]
        s, t, stable = int(states.state[w]), int(states.t[w]), int(states.stable[w])
        pend_s, pend_a, pend_r = states.pend_s[w], states.pend_a[w], states.pend_r[w]
        maxq = [[0.0] * ga.n_states for _ in range(n)]
        for i in range(n):  # caches, with the kernel's repair of invalid greedy entries
            for x in range(ga.n_states):
                row = q[i, x].tolist()
                mx = max(row)
                g = int(strategy[i, x])
                if g < 0 or g >= m or row[g] < mx:
                    strategy[i, x] = _argmax_ties(row, m - 1, st)[0]
                maxq[i][x] = float(mx)
        eps = [(_eps_at(beta[i], t) if mode == EXP_DECAY else float(cfg.epsilon)) for i in range(n)]
        decay = [math.exp(-beta[i]) for i in range(n)]
        e = s // Mk
        done = 0
        while True:
            if until_converged and (stable >= cfg.stable_periods or t >= cfg.max_periods):
                break
            if periods is not None and done >= periods:
                break
            mem = s - e * Mk
            changed = False
            if not alternating:
                acts = [_choose(q, strategy, maxq, i, s, int(forced[i]), float(eps_ov[i]), eps[i],
                                mode, cfg.temperature, int(cap[i]), m, st) for i in range(n)]
                j = 0
                for a in acts:
                    j = j * m + a
                e2 = _sample_cdf(ga.exo_cdf[e], py_uniform(st)) if ga.exo_cdf.shape[0] > 1 else 0
                s2 = e2 * Mk + (j if Mk == M else (mem * M + j) % Mk)
                for i in range(n):
                    if lrn[i]:
                        target = float(payoffs[e, j, i]) + delta * maxq[i][s2]
                        changed |= _update(q, strategy, maxq, i, s, acts[i], target, alpha[i], m, st)
            else:
                p = t % n
                if pend_s[p] >= 0 and lrn[p]:
                    target = float(pend_r[p]) + dpow[n] * maxq[p][s]
                    changed |= _update(q, strategy, maxq, p, int(pend_s[p]), int(pend_a[p]),
                                       target, alpha[p], m, st)
                a = _choose(q, strategy, maxq, p, s, int(forced[p]), float(eps_ov[p]), eps[p],
                            mode, cfg.temperature, int(cap[p]), m, st)
                last = mem % M
                pw = m ** (n - 1 - p)
                j = last + (a - (last // pw) % m) * pw
                for i in range(n):
                    if i == p:
                        pend_s[p], pend_a[p], pend_r[p] = s, a, payoffs[e, j, p]
                    elif pend_s[i] >= 0:
                        pend_r[i] += dpow[(t - i) % n] * payoffs[e, j, i]
                e2 = _sample_cdf(ga.exo_cdf[e], py_uniform(st)) if ga.exo_cdf.shape[0] > 1 else 0
                s2 = e2 * Mk + (j if Mk == M else (mem * M + j) % Mk)
            if done < record:
                rec[w, done] = prices[e, j]
            stable = 0 if changed else stable + 1
            t += 1
            done += 1
            s, e = s2, e2
            if mode == EXP_DECAY:
                if t % EPS_RESYNC == 0:
                    eps = [math.exp(-beta[i] * t) for i in range(n)]
                else:
                    eps = [eps[i] * decay[i] for i in range(n)]
        states.state[w], states.t[w], states.stable[w] = s, t, stable
        states.rng[w] = np.array(st, dtype=np.uint64)
    states.converged[:] = states.stable >= cfg.stable_periods
    return rec if record else None

