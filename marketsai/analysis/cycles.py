"""Limit cycles of greedy play in a finite repeated game.

Why here: the limit cycle is where profit gain, impulse responses and the equilibrium
check are measured, for tabular and deep learners alike. Given greedy strategies
``(S, n, n_states)`` (each agent's action index in each state), play from a start
state is deterministic (one exogenous state only) and must enter a cycle within
``n_states`` periods.

The state encoding is the :class:`~marketsai.finite_game.FiniteGame` one: with memory
``k`` and ``M = m**n`` joint actions, after joint action ``j`` the memory state ``s``
becomes ``(s * M) % M**k + j`` (and stays 0 when ``k == 0``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from marketsai.finite_game import FiniteGame


@nb.njit(cache=True, inline="always")
def joint_of(strategies_s, state, n, m):
    """Joint-action integer of the greedy actions of one session at ``state``."""
    j = 0
    for i in range(n):
        j = j * m + strategies_s[i, state]
    return j


@nb.njit(cache=True, inline="always")
def next_state(state, j, n_mem, joint):
    """Memory-state transition: drop the oldest joint action, append ``j``."""
    if n_mem == 1:
        return 0
    return (state * joint) % n_mem + j


@nb.njit(cache=True, parallel=True)
def find_cycles(strategies, start, m):
    n_sessions, n, n_states = strategies.shape
    joint = m**n
    entry = np.empty(n_sessions, np.int64)
    length = np.empty(n_sessions, np.int64)
    for b in nb.prange(n_sessions):
        seen = np.full(n_states, -1, np.int64)
        s = start[b]
        t = 0
        while seen[s] < 0:
            seen[s] = t
            s = next_state(s, joint_of(strategies[b], s, n, m), n_states, joint)
            t += 1
        entry[b] = s
        length[b] = t - seen[s]
    return entry, length


@nb.njit(cache=True, parallel=True)
def _cycle_means(strategies, entry, length, prices, payoffs, m):
    n_sessions, n, n_states = strategies.shape
    joint = m**n
    mean_price = np.zeros((n_sessions, n))
    mean_payoff = np.zeros((n_sessions, n))
    for b in nb.prange(n_sessions):
        s = entry[b]
        for _ in range(length[b]):
            j = joint_of(strategies[b], s, n, m)
            for i in range(n):
                mean_price[b, i] += prices[j, i]
                mean_payoff[b, i] += payoffs[j, i]
            s = next_state(s, j, n_states, joint)
        for i in range(n):
            mean_price[b, i] /= length[b]
            mean_payoff[b, i] /= length[b]
    return mean_price, mean_payoff


@dataclass(frozen=True)
class LimitCycles:
    """Limit cycles of a batch of sessions.

    Attributes
    ----------
    entry : (S,) int64
        A state on each session's cycle (the first one reached from the start state).
    length : (S,) int64
        Cycle length in periods (1 = a fixed point).
    mean_price, mean_payoff : (S, n) float64
        Per-agent averages over the cycle.
    """

    entry: np.ndarray
    length: np.ndarray
    mean_price: np.ndarray
    mean_payoff: np.ndarray

    def states(self, session: int, game: FiniteGame, strategies: np.ndarray) -> list[int]:
        """The states of one session's cycle, in the order they are visited."""
        out, s = [], int(self.entry[session])
        for _ in range(int(self.length[session])):
            out.append(s)
            j = game.joint_index(strategies[session, :, s])
            s = 0 if game.n_states == 1 else (s * game.n_joint) % game.n_states + j
        return out


def check_strategies(game: FiniteGame, strategies) -> np.ndarray:
    if game.n_exo != 1:
        raise ValueError("limit cycles need a game without exogenous states (n_exo == 1)")
    strategies = np.ascontiguousarray(strategies, dtype=np.int64)
    expected = (game.n_agents, game.n_states)
    if strategies.ndim != 3 or strategies.shape[1:] != expected:
        raise ValueError(f"strategies must have shape (S, {expected[0]}, {expected[1]}), "
                         f"got {strategies.shape}")
    if strategies.size and (strategies.min() < 0 or strategies.max() >= game.n_actions):
        raise ValueError(f"strategies hold action indices outside 0..{game.n_actions - 1}")
    return strategies


def start_states_of(start_states, n_sessions: int) -> np.ndarray:
    if start_states is None:
        return np.zeros(n_sessions, np.int64)
    start = np.ascontiguousarray(start_states, dtype=np.int64)
    if start.shape != (n_sessions,):
        raise ValueError(f"start_states must have shape ({n_sessions},), got {start.shape}")
    return start


def limit_cycles(game: FiniteGame, strategies, start_states=None) -> LimitCycles:
    """Find the cycle greedy play enters from ``start_states`` (default: state 0).

    Examples
    --------
    Tit-for-tat in a prisoner's dilemma (0 = cooperate) cycles with period 2 after one
    unilateral defection, and stays put after mutual cooperation:

    >>> pd = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)
    >>> g = FiniteGame.from_matrix(pd, memory=1, discount=0.9)
    >>> tft = np.array([[[0, 1, 0, 1], [0, 0, 1, 1]]])  # copy the rival's last action
    >>> limit_cycles(g, tft, start_states=[g.joint_index([0, 0])]).length.tolist()
    [1]
    >>> cyc = limit_cycles(g, tft, start_states=[g.joint_index([1, 0])])
    >>> cyc.length.tolist(), cyc.mean_payoff.tolist()
    ([2], [[2.5, 2.5]])
    """
    strategies = check_strategies(game, strategies)
    start = start_states_of(start_states, strategies.shape[0])
    entry, length = find_cycles(strategies, start, game.n_actions)
    price, payoff = _cycle_means(strategies, entry, length, game.prices[0], game.payoffs[0],
                                 game.n_actions)
    return LimitCycles(entry, length, price, payoff)


def trajectory_cycles(actions, values=None, atol: float = 0.0, min_repeats: int = 2) -> dict:
    """Terminal cycle of recorded play, for learners without a tabular strategy.

    ``actions`` is ``(S, T, n)`` (action indices or continuous prices) from greedy play
    of any learner. The cycle length of a session is the smallest ``L`` such that the
    last ``min_repeats * L`` periods repeat with period ``L`` (within ``atol``); 0 when
    there is none. ``values`` (e.g. prices or profits, ``(S, T, n)``) are averaged over
    the last ``L`` periods (over the second half of the path when there is no cycle).

    Returns ``{"cycle_length": (S,), "mean": (S, n) or None}``.

    Examples
    --------
    >>> a = np.array([[[0, 0], [1, 0], [0, 1], [1, 0], [0, 1]]])  # alternation after t = 0
    >>> out = trajectory_cycles(a, values=a.astype(float))
    >>> out["cycle_length"].tolist(), out["mean"].tolist()
    ([2], [[0.5, 0.5]])
    """
    a = np.asarray(actions, dtype=float)
    if a.ndim != 3:
        raise ValueError(f"actions must have shape (S, T, n), got {a.shape}")
    s_count, periods, _ = a.shape
    length = np.zeros(s_count, dtype=np.int64)
    for b in range(s_count):
        for cand in range(1, periods // min_repeats + 1):
            tail = a[b, periods - min_repeats * cand:]
            if np.all(np.abs(tail[cand:] - tail[:-cand]) <= atol):
                length[b] = cand
                break
    mean = None
    if values is not None:
        v = np.asarray(values, dtype=float)
        mean = np.empty((s_count, v.shape[2]))
        for b in range(s_count):
            span = length[b] if length[b] else max(1, periods // 2)
            mean[b] = v[b, periods - span:].mean(axis=0)
    return {"cycle_length": length, "mean": mean}
