"""The slow twin: the kernel's algorithm in plain Python, for parity tests and the benchmark.

Same state, same RNG stream, same order of random draws and the same floating-point
operations as :mod:`marketsai.tabular.kernel`, so on the same seeds it must produce
bit-identical Q-tables, strategies, clocks and states. It is ~1000x slower: use it
only on small runs.

Both functions also take a :class:`~marketsai.finite_model.FiniteModel`; they then
follow :mod:`marketsai.tabular.model_kernel` (transitions ``next_x``, feasible actions
``n_feasible``, initial ``x ~ x_initial``), read straight from the model's arrays with
no flattening (``_model_init``, ``_model_advance``). On games nothing changes.

Examples
--------
>>> from marketsai.tabular import QLearningConfig, init_sessions, advance
>>> from marketsai.tabular.games import prisoners_dilemma
>>> game = prisoners_dilemma(memory=1, discount=0.9)
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

from marketsai.finite_model import FiniteModel
from marketsai.tabular.config import EXPLORATION, PROTOCOL
from marketsai.tabular.kernel import BOLTZMANN, EPS_RESYNC, EXP_DECAY
from marketsai.tabular.kernel_parts import exploration_rate
from marketsai.tabular.models import (
    check_protocol,
    check_solver_options,
    model_controls,
    model_q0_table,
)
from marketsai.tabular.rng import py_uniform
from marketsai.tabular.sessions import (
    SessionState,
    game_arrays,
    game_controls,
    game_q0_table,
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


def _session(states, w):
    """Session w: its arrays (views, updated in place), its RNG words and scalars as Python
    values: ``(q, strategy, st, s, t, stable, pend_s, pend_a, pend_r)``."""
    return (states.q[w], states.strategy[w], [int(v) for v in states.rng[w]],
            int(states.state[w]), int(states.t[w]), int(states.stable[w]),
            states.pend_s[w], states.pend_a[w], states.pend_r[w])


def _store(states, w, s, t, stable, st):
    """Write session w's scalars and RNG words back."""
    states.state[w], states.t[w], states.stable[w] = s, t, stable
    states.rng[w] = np.array(st, dtype=np.uint64)


def _caches(q, strategy, last, st):
    """Row maxima over ``q[i, x, 0..last(i, x)]``, with the kernels' repair on entry: a
    greedy action out of range or below the maximum is redrawn (argmax, random ties)."""
    n, n_states = q.shape[0], q.shape[1]
    maxq = [[0.0] * n_states for _ in range(n)]
    for i in range(n):
        for x in range(n_states):
            hi = last(i, x)
            row = q[i, x, :hi + 1].tolist()
            mx = max(row)
            g = int(strategy[i, x])
            if g < 0 or g > hi or row[g] < mx:
                strategy[i, x] = _argmax_ties(row, hi, st)[0]
            maxq[i][x] = float(mx)
    return maxq


def _stopped(cfg, until_converged, periods, stable, t, done):
    """The kernels' stops: converged or at ``max_periods`` (when stopping at convergence),
    or this call's ``periods`` run."""
    return bool(until_converged and (stable >= cfg.stable_periods or t >= cfg.max_periods)) \
        or (periods is not None and done >= periods)


def _rates(beta, t, mode, epsilon):
    """Per agent ``eps_t`` and ``exp(-beta)``."""
    n = len(beta)
    eps = [(exploration_rate(beta[i], t) if mode == EXP_DECAY else float(epsilon)) for i in range(n)]
    return eps, [math.exp(-beta[i]) for i in range(n)]


def reference_init(game, cfg, seed=0, sessions=range(4)) -> SessionState:
    """Python twin of :func:`marketsai.tabular.init_sessions`."""
    if cfg.solver_options and not isinstance(game, FiniteModel):
        game = FiniteModel.from_game(game)
    if isinstance(game, FiniteModel):
        return _model_init(game, cfg, seed, sessions)
    ga = game_arrays(game)
    q0, q0_div = game_q0_table(game, cfg)
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
    if cfg.solver_options and not isinstance(game, FiniteModel):
        game = FiniteModel.from_game(game)
    if isinstance(game, FiniteModel):
        return _model_advance(game, cfg, states, periods, forced_action, epsilon_override,
                              learn, action_cap, until_converged, record)
    ga = game_arrays(game)
    forced, eps_ov, lrn, cap = game_controls(game, forced_action, epsilon_override, learn, action_cap)
    alpha = cfg.per_agent("alpha", ga.n)
    beta = cfg.per_agent("beta", ga.n)
    mode = EXPLORATION[cfg.exploration]
    alternating = PROTOCOL[cfg.protocol] == 1
    n, m, Mk, M = ga.n, ga.m, ga.Mk, ga.M
    payoffs, prices, delta, dpow = ga.payoffs, ga.prices, ga.delta, ga.dpow
    S = states.n_sessions
    rec = np.full((S, int(record), n), np.nan)
    for w in range(S):
        q, strategy, st, s, t, stable, pend_s, pend_a, pend_r = _session(states, w)
        maxq = _caches(q, strategy, lambda i, x: m - 1, st)
        eps, decay = _rates(beta, t, mode, cfg.epsilon)
        e = s // Mk
        done = 0
        while not _stopped(cfg, until_converged, periods, stable, t, done):
            mem = s - e * Mk
            qs = mem if ga.hide_exo else s  # unobserved e: Q-rows are memory states
            changed = False
            if not alternating:
                acts = [_choose(q, strategy, maxq, i, qs, int(forced[i]), float(eps_ov[i]), eps[i],
                                mode, cfg.temperature, int(cap[i]), m, st) for i in range(n)]
                j = 0
                for a in acts:
                    j = j * m + a
                e2 = _sample_cdf(ga.exo_cdf[e], py_uniform(st)) if ga.exo_cdf.shape[0] > 1 else 0
                s2 = e2 * Mk + (j if Mk == M else (mem * M + j) % Mk)
                q2 = s2 - e2 * Mk if ga.hide_exo else s2
                for i in range(n):
                    if lrn[i]:
                        target = float(payoffs[e, j, i]) + delta * maxq[i][q2]
                        changed |= _update(q, strategy, maxq, i, qs, acts[i], target, alpha[i], m, st)
            else:
                p = t % n
                if pend_s[p] >= 0 and lrn[p]:
                    target = float(pend_r[p]) + dpow[n] * maxq[p][qs]
                    changed |= _update(q, strategy, maxq, p, int(pend_s[p]), int(pend_a[p]),
                                       target, alpha[p], m, st)
                a = _choose(q, strategy, maxq, p, qs, int(forced[p]), float(eps_ov[p]), eps[p],
                            mode, cfg.temperature, int(cap[p]), m, st)
                last = mem % M
                pw = m ** (n - 1 - p)
                j = last + (a - (last // pw) % m) * pw
                for i in range(n):
                    if i == p:
                        pend_s[p], pend_a[p], pend_r[p] = qs, a, payoffs[e, j, p]
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
                eps = _next_eps(eps, t, beta, decay, n)
        _store(states, w, s, t, stable, st)
    states.converged[:] = states.stable >= cfg.stable_periods
    return rec if record else None



# ---------------------------------------------------------------- FiniteModel
def _cdf_list(p):
    c = np.cumsum(np.asarray(p, dtype=np.float64))
    c[-1] = 1.0
    return c


def _fresh_state(S, n, n_states, m, dtype, sessions, seed):
    return SessionState(
        q=np.zeros((S, n, n_states, m), dtype=dtype), strategy=np.empty((S, n, n_states), np.int32),
        state=np.empty(S, np.int64), t=np.zeros(S, np.int64), rng=np.empty((S, 4), np.uint64),
        stable=np.zeros(S, np.int64), converged=np.zeros(S, bool),
        pend_s=np.full((S, n), -1, np.int64), pend_a=np.full((S, n), -1, np.int64),
        pend_r=np.zeros((S, n)), sessions=sessions, seed=int(seed))


def _feasible(model, s, i):
    """How many actions agent i may choose in full state s."""
    if model.n_feasible is None:
        return int(model.n_actions[i])
    e, x = divmod(s, model.n_x)
    return int(model.n_feasible[e, x, i])


def _model_init(model, cfg, seed, sessions) -> SessionState:
    check_protocol(model, cfg.protocol)
    q0, q0_div = model_q0_table(model, cfg)
    sessions = np.asarray(list(sessions), dtype=np.int64)
    n, n_x, n_states = model.n_agents, model.n_x, model.n_states
    out = _fresh_state(sessions.size, n, n_states, model.max_actions, cfg.np_dtype, sessions, seed)
    x_init = model.x_initial
    x_uniform = bool(np.all(x_init == x_init[0]))
    for w, k in enumerate(sessions):
        st = [int(v) for v in session_rng_state(seed, k)]
        u = py_uniform(st)  # x ~ x_initial: floor(u n_x) when uniform (the memory draw)
        x = int(u * n_x) if x_uniform else _sample_cdf(_cdf_list(x_init), u)
        e = _sample_cdf(_cdf_list(model.exo_initial), py_uniform(st)) if model.n_exo > 1 else 0
        out.state[w] = e * n_x + x
        for y in range(n_states):
            out.q[w, :, y, :] = q0[:, y // q0_div, :]
        for i in range(n):
            for y in range(n_states):
                hi = _feasible(model, y, i) - 1
                out.strategy[w, i, y] = _argmax_ties(out.q[w, i, y].tolist(), hi, st)[0]
        out.rng[w] = np.array(st, dtype=np.uint64)
    _model_solver_state(model, cfg, out)
    return out


def _model_solver_state(model, cfg, states):
    """Visit counts at zero; J and nu (enhanced PI) from the table, state by state."""
    S, n, n_states, m = states.q.shape
    if cfg.step_size == "visits" and states.visits is None:
        states.visits = np.zeros((S, n, n_states, m), np.int64)
    if cfg.update == "enhanced_pi" and states.pi_value is None:
        states.pi_value = np.zeros((S, n, n_states))
        states.pi_policy = np.zeros((S, n, n_states), np.int32)
        for w in range(S):
            for i in range(n):
                for y in range(n_states):
                    hi = _feasible(model, y, i) - 1
                    states.pi_value[w, i, y] = max(float(v) for v in states.q[w, i, y, :hi + 1])
                    states.pi_policy[w, i, y] = states.strategy[w, i, y]


def _model_advance(model, cfg, states, periods, forced_action, epsilon_override, learn,
                   action_cap, until_converged, record):
    check_protocol(model, cfg.protocol)
    check_solver_options(model, cfg)
    _model_solver_state(model, cfg, states)
    visits_on = cfg.step_size == "visits"
    expected = cfg.target == "expected"
    epi = cfg.update == "enhanced_pi"
    P = model.exo_transition
    forced, eps_ov, lrn, cap = model_controls(model, forced_action, epsilon_override, learn,
                                              action_cap)
    alpha = cfg.per_agent("alpha", model.n_agents)
    beta = cfg.per_agent("beta", model.n_agents)
    mode = EXPLORATION[cfg.exploration]
    alternating = PROTOCOL[cfg.protocol] == 1
    n, n_x, M = model.n_agents, model.n_x, model.n_joint
    delta = model.discount
    dpow = [delta ** k for k in range(n + 1)]
    exo_cdf = [_cdf_list(row) for row in model.exo_transition]

    def reward(e, x, j):  # the length-1 x axis broadcasts
        return model.rewards[e, x if model.rewards.shape[1] > 1 else 0, j]

    def outcome(e, x, j):
        return model.outcomes[e, x if model.outcomes.shape[1] > 1 else 0, j]

    def step(w, i, s, a):
        """alpha of this update: constant, or a / (b + n(s, a))^omega after counting it."""
        if not visits_on:
            return alpha[i]
        states.visits[w, i, s, a] += 1
        return cfg.step_a / (cfg.step_b + int(states.visits[w, i, s, a])) ** cfg.step_omega

    def value(w, q, maxq, i, y):
        """V(y): max_a Q(y, a), or Bertsekas-Yu's max(J(y), Q(y, nu(y)))."""
        if epi:
            return max(float(states.pi_value[w, i, y]),
                       float(q[i, y, int(states.pi_policy[w, i, y])]))
        return maxq[i][y]

    def continuation(w, q, maxq, i, e, s2):
        """V(s'), or with expected targets sum_e' P(e, e') V(e', x') in order from 0.0."""
        if not expected:
            return value(w, q, maxq, i, s2)
        x2 = s2 % n_x
        acc = 0.0
        for f in range(model.n_exo):
            acc += float(P[e, f]) * value(w, q, maxq, i, f * n_x + x2)
        return acc

    def choose(q, strategy, maxq, i, s, st):
        nfi = _feasible(model, s, i)
        if forced[i] >= 0:
            return min(int(forced[i]), nfi - 1)
        return _choose(q, strategy, maxq, i, s, -1, float(eps_ov[i]), eps[i], mode,
                       cfg.temperature, min(int(cap[i]), nfi - 1), nfi, st)

    S = states.n_sessions
    rec = np.full((S, int(record), n), np.nan)
    for w in range(S):
        q, strategy, st, s, t, stable, pend_s, pend_a, pend_r = _session(states, w)
        maxq = _caches(q, strategy, lambda i, y: _feasible(model, y, i) - 1, st)
        eps, decay = _rates(beta, t, mode, cfg.epsilon)
        done = 0
        while not _stopped(cfg, until_converged, periods, stable, t, done):
            if epi and t % cfg.improve_every == 0:  # policy improvement (Bertsekas-Yu)
                for i in range(n):
                    for y in range(model.n_states):
                        states.pi_value[w, i, y] = maxq[i][y]
                        states.pi_policy[w, i, y] = strategy[i, y]
            e, x = divmod(s, n_x)
            changed = False
            if not alternating:
                acts = [choose(q, strategy, maxq, i, s, st) for i in range(n)]
                j = model.joint_index(acts)
                e2 = _sample_cdf(exo_cdf[e], py_uniform(st)) if model.n_exo > 1 else 0
                s2 = e2 * n_x + int(model.next_x[e, x, j])
                r = reward(e, x, j)
                for i in range(n):
                    if lrn[i]:
                        target = float(r[i]) + delta * continuation(w, q, maxq, i, e, s2)
                        changed |= _update(q, strategy, maxq, i, s, acts[i], target,
                                           step(w, i, s, acts[i]), _feasible(model, s, i), st)
            else:  # memory models only: x mod M is the joint action in force
                p = t % n
                if pend_s[p] >= 0 and lrn[p]:
                    target = float(pend_r[p]) + dpow[n] * maxq[p][s]
                    changed |= _update(q, strategy, maxq, p, int(pend_s[p]), int(pend_a[p]),
                                       target, step(w, p, int(pend_s[p]), int(pend_a[p])),
                                       _feasible(model, int(pend_s[p]), p), st)
                a = choose(q, strategy, maxq, p, s, st)
                acts = list(model.joint_actions(x % M))
                acts[p] = a
                j = model.joint_index(acts)
                r = reward(e, x, j)
                for i in range(n):
                    if i == p:
                        pend_s[p], pend_a[p], pend_r[p] = s, a, r[p]
                    elif pend_s[i] >= 0:
                        pend_r[i] += dpow[(t - i) % n] * r[i]
                e2 = _sample_cdf(exo_cdf[e], py_uniform(st)) if model.n_exo > 1 else 0
                s2 = e2 * n_x + int(model.next_x[e, x, j])
            if done < record:
                rec[w, done] = outcome(e, x, j)
            stable = 0 if changed else stable + 1
            t += 1
            done += 1
            s = s2
            if mode == EXP_DECAY:
                eps = _next_eps(eps, t, beta, decay, n)
        _store(states, w, s, t, stable, st)
    states.converged[:] = states.stable >= cfg.stable_periods
    return rec if record else None


def _next_eps(eps, t, beta, decay, n):
    """``eps_t = exp(-beta t)`` as the kernels compute it: multiplied by ``exp(-beta)`` each
    period and resynchronised every ``EPS_RESYNC`` periods (see kernel.py)."""
    if t % EPS_RESYNC == 0:
        return [math.exp(-beta[i] * t) for i in range(n)]
    return [eps[i] * decay[i] for i in range(n)]
