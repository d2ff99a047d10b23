"""What a session converged to: the limit cycle of greedy play and the profit gain.

``profit_gain`` is the generic formula (shared with ``marketsai.analysis``):
``Delta = (mean profit - Nash profit) / (cooperative profit - Nash profit)``.

The limit cycle is found by iterating greedy play (every agent plays its greedy action
``strategy[i, s]``) from a start state until a state repeats (Brent's algorithm, O(1)
memory). With exogenous states (``n_exo > 1``) greedy play is made deterministic by
letting the exogenous state follow its *most likely* transition
(``argmax exo_transition[e]``, lowest index on ties); with ``n_exo == 1`` this is
exact. Under the alternating protocol the map acts on (state, mover) pairs, so a
cycle's length is counted in periods.

Examples
--------
>>> profit_gain(0.3, 0.22293, 0.33749).round(3)
np.float64(0.673)
>>> from marketsai.finite_game import FiniteGame
>>> pd = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)
>>> g = FiniteGame.from_matrix(pd, memory=1)
>>> always_defect = np.ones((2, 4), dtype=np.int32)
>>> limit_cycle(g, always_defect, start_state=0)   # state 3 = (D, D)
array([3])
"""

from __future__ import annotations

import numpy as np
from numba import njit


def profit_gain(mean_profit, nash_payoff, coop_payoff):
    """Profit gain ``(mean_profit - nash) / (coop - nash)`` (elementwise, broadcasting)."""
    mean_profit = np.asarray(mean_profit, dtype=float)
    nash = np.asarray(nash_payoff, dtype=float)
    coop = np.asarray(coop_payoff, dtype=float)
    return (mean_profit - nash) / (coop - nash)


@njit(cache=True, inline="always")
def _node(c, n, alternating):
    """A play node ``c`` as (state, agent to move): alternating play walks (state, mover)
    pairs, simultaneous play the states themselves (mover 0)."""
    if alternating:
        return c // n, c % n
    return c, 0


@njit(cache=True)
def _step(strategy, c, n, m, M, Mk, alternating, exo_next):
    """Greedy play one period from node ``c``; returns (next node, joint action, exo state)."""
    s, p = _node(c, n, alternating)
    e = s // Mk
    mem = s - e * Mk
    if alternating:
        last = mem % M
        pw = 1
        for _ in range(n - 1 - p):
            pw *= m
        j = last + (strategy[p, s] - (last // pw) % m) * pw
    else:
        j = 0
        for i in range(n):
            j = j * m + strategy[i, s]
    s2 = exo_next[e] * Mk + (j if Mk == M else (mem * M + j) % Mk)
    c2 = s2 * n + (p + 1) % n if alternating else s2
    return c2, j, e


@njit(cache=True)
def _cycle(strategy, c0, n, m, M, Mk, alternating, exo_next):
    """Brent's cycle detection: (first node on the cycle, cycle length)."""
    power = 1
    lam = 1
    tortoise = c0
    hare = _step(strategy, c0, n, m, M, Mk, alternating, exo_next)[0]
    while tortoise != hare:
        if power == lam:
            tortoise = hare
            power *= 2
            lam = 0
        hare = _step(strategy, hare, n, m, M, Mk, alternating, exo_next)[0]
        lam += 1
    tortoise = c0
    hare = c0
    for _ in range(lam):
        hare = _step(strategy, hare, n, m, M, Mk, alternating, exo_next)[0]
    while tortoise != hare:
        tortoise = _step(strategy, tortoise, n, m, M, Mk, alternating, exo_next)[0]
        hare = _step(strategy, hare, n, m, M, Mk, alternating, exo_next)[0]
    return tortoise, lam


@njit(cache=True)
def _cycle_path(strategy, c0, n, m, M, Mk, alternating, exo_next, payoffs, prices):
    """States, prices and payoffs along the limit cycle reached from node ``c0``."""
    c, lam = _cycle(strategy, c0, n, m, M, Mk, alternating, exo_next)
    states = np.empty(lam, dtype=np.int64)
    pr = np.empty((lam, n))
    pay = np.empty((lam, n))
    for k in range(lam):
        states[k] = c // n if alternating else c
        c2, j, e = _step(strategy, c, n, m, M, Mk, alternating, exo_next)
        for i in range(n):
            pr[k, i] = prices[e, j, i]
            pay[k, i] = payoffs[e, j, i]
        c = c2
    return states, pr, pay


def _exo_next(game) -> np.ndarray:
    return np.argmax(np.asarray(game.exo_transition), axis=1).astype(np.int64)


def cycle_path(game, strategy, start_state, protocol="simultaneous", phase=0):
    """(states, prices (L, n), payoffs (L, n)) along the limit cycle of greedy play.

    ``phase`` is the agent to move first under the alternating protocol (``t mod n``).
    A game whose agents do not observe the exogenous state is followed on its
    :meth:`~marketsai.finite_game.FiniteGame.marginal` (stationary mean payoffs) from the
    memory part of ``start_state``.
    """
    if not game.exo_observed:
        start_state = int(start_state) % game.n_memory_states
        game = game.marginal()
    strategy = np.ascontiguousarray(strategy, dtype=np.int32)
    n, m = game.n_agents, game.n_actions
    if strategy.shape != (n, game.n_states):
        raise ValueError(f"strategy must have shape {(n, game.n_states)}, got {strategy.shape}")
    alternating = protocol == "alternating"
    c0 = int(start_state) * n + int(phase) % n if alternating else int(start_state)
    return _cycle_path(strategy, c0, n, m, game.n_joint, game.n_memory_states, alternating,
                       _exo_next(game), np.ascontiguousarray(game.payoffs),
                       np.ascontiguousarray(game.prices))


def limit_cycle(game, strategy, start_state, protocol="simultaneous", phase=0) -> np.ndarray:
    """State indices of the limit cycle of greedy play from ``start_state`` (in play order)."""
    return cycle_path(game, strategy, start_state, protocol, phase)[0]


# ---------------------------------------------------------------- FiniteModel
@njit(cache=True)
def _model_step(strategy, c, n, n_actions, M, alternating, next_x):
    """Greedy play one period from node ``c`` of a model with one exogenous state."""
    s, p = _node(c, n, alternating)
    if alternating:  # memory models only: s mod M is the joint action in force
        last = s % M
        pw = 1
        for ll in range(p + 1, n):
            pw *= n_actions[ll]
        j = last + (strategy[p, s] - (last // pw) % n_actions[p]) * pw
    else:
        j = 0
        for i in range(n):
            j = j * n_actions[i] + strategy[i, s]
    s2 = next_x[s, j]
    c2 = s2 * n + (p + 1) % n if alternating else s2
    return c2, j, s


@njit(cache=True)
def _model_cycle_path(strategy, c0, n, n_actions, M, alternating, next_x, rewards, outcomes):
    """Brent's cycle detection on greedy play, then the states/outcomes/rewards on the cycle."""
    power = 1
    lam = 1
    tortoise = c0
    hare = _model_step(strategy, c0, n, n_actions, M, alternating, next_x)[0]
    while tortoise != hare:
        if power == lam:
            tortoise = hare
            power *= 2
            lam = 0
        hare = _model_step(strategy, hare, n, n_actions, M, alternating, next_x)[0]
        lam += 1
    tortoise = c0
    hare = c0
    for _ in range(lam):
        hare = _model_step(strategy, hare, n, n_actions, M, alternating, next_x)[0]
    while tortoise != hare:
        tortoise = _model_step(strategy, tortoise, n, n_actions, M, alternating, next_x)[0]
        hare = _model_step(strategy, hare, n, n_actions, M, alternating, next_x)[0]
    c = tortoise
    states = np.empty(lam, dtype=np.int64)
    out = np.empty((lam, n))
    pay = np.empty((lam, n))
    R = rewards.shape[0]
    n_o = outcomes.shape[0]
    for k in range(lam):
        c2, j, s = _model_step(strategy, c, n, n_actions, M, alternating, next_x)
        states[k] = s
        for i in range(n):
            out[k, i] = outcomes[s if n_o > 1 else 0, j, i]
            pay[k, i] = rewards[s if R > 1 else 0, j, i]
        c = c2
    return states, out, pay


def model_cycle_path(model, strategy, start_state, protocol="simultaneous", phase=0):
    """(states, outcomes (L, n), rewards (L, n)) on the limit cycle of greedy play in a model.

    Defined for models with one exogenous state (``n_exo == 1``), where greedy play is
    deterministic; with exogenous shocks there is no single path to follow, and callers
    report the greedy policy table (``strategy``) instead.

    >>> from marketsai.finite_model import FiniteModel
    >>> r = np.array([[[[0.0], [0.0]], [[1.0], [1.0]]]])
    >>> nx = np.array([[[0, 1], [1, 0]]])      # action 0 stays, 1 switches
    >>> mdp = FiniteModel(agents=("a",), n_actions=[2], rewards=r, next_x=nx, discount=0.9)
    >>> model_cycle_path(mdp, np.array([[1, 0]]), start_state=0)[0]   # switch to 1, stay
    array([1])
    """
    if model.n_exo != 1:
        raise ValueError("model_cycle_path needs a model without exogenous states (n_exo == 1)")
    n = model.n_agents
    strategy = np.ascontiguousarray(strategy, dtype=np.int32)
    if strategy.shape != (n, model.n_states):
        raise ValueError(f"strategy must have shape {(n, model.n_states)}, got {strategy.shape}")
    alternating = protocol == "alternating"
    c0 = int(start_state) * n + int(phase) % n if alternating else int(start_state)
    M = model.n_joint
    return _model_cycle_path(strategy, c0, n, np.ascontiguousarray(model.n_actions), M,
                             alternating, np.ascontiguousarray(model.next_x.reshape(-1, M)),
                             np.ascontiguousarray(model.rewards[0]),
                             np.ascontiguousarray(model.outcomes[0]))
