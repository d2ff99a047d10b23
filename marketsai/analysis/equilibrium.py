"""Are learned strategies an equilibrium of the repeated game?

Fix the rivals' greedy strategies; what remains for agent ``i`` is a finite MDP over the
game's states. Its optimal action values ``Q*_i(s, a)`` follow by value iteration (the
Bellman equation with the game's discount factor). Agent ``i`` best-responds at state
``s`` when its greedy action attains ``max_a Q*_i(s, a)`` (within a tolerance).

Following Calvano et al. (2020, Section V.B) we report two shares of sessions: those in
which every agent best-responds at all states of the limit cycle (a Nash equilibrium on
the path of play), and those in which every agent best-responds at every state (a
subgame-perfect equilibrium).
"""

from __future__ import annotations

import numba as nb
import numpy as np
import pandas as pd

from marketsai.analysis.cycles import (
    check_strategies,
    find_cycles,
    joint_of,
    next_state,
    start_states_of,
)
from marketsai.finite_game import FiniteGame


@nb.njit(cache=True)
def _state_groups(strategies_b, agent, n, m, n_states, joint, stride):
    """States whose Bellman maximisation for ``agent`` is the same computation.

    At state ``s`` agent ``agent`` chooses among joint actions ``base(s) + a * stride``
    (``base``: the rivals' greedy part of the joint index) leading to states
    ``r(s) + j`` (``r(s) = (s * joint) % n_states``: the memory kept). States with equal
    ``(base, r)`` therefore have the same ``max_a`` at every iteration. Returns
    ``(group of each state, a representative state of each group, base of each state,
    number of groups)``; groups are numbered by their smallest state.
    """
    base = np.empty(n_states, np.int64)
    key = np.empty(n_states, np.int64)
    for s in range(n_states):
        base[s] = joint_of(strategies_b, s, n, m) - strategies_b[agent, s] * stride
        r = 0 if n_states == 1 else (s * joint) % n_states
        key[s] = base[s] * n_states + r
    order = np.argsort(key, kind="mergesort")
    group = np.empty(n_states, np.int64)
    rep = np.empty(n_states, np.int64)
    n_groups = 0
    for k in range(n_states):
        s = order[k]
        if k == 0 or key[s] != key[order[k - 1]]:
            rep[n_groups] = s
            n_groups += 1
        group[s] = n_groups - 1
    return group, rep, base, n_groups


@nb.njit(cache=True, parallel=True)
def _best_response_q(strategies, payoffs, m, agent, discount, tol, max_iter):
    """Value iteration ``V(s) = max_a [pi(s, a) + discount V(s'(s, a))]``, once per group.

    The same floating-point operations, in the same order, as iterating over every
    state (the readable twin in ``tests/test_analysis.py``), so the results are
    bit-identical; but states with the same Bellman maximisation (see
    :func:`_state_groups`: with memory 1 and two agents, the states where the rival
    plays the same action) are computed once, ``m`` times fewer for a duopoly.
    """
    n_sessions, n, n_states = strategies.shape
    joint = m**n
    stride = m ** (n - 1 - agent)
    q = np.zeros((n_sessions, n_states, m))
    for b in nb.prange(n_sessions):
        group, rep, base, n_groups = _state_groups(strategies[b], agent, n, m, n_states,
                                                   joint, stride)
        vg = np.zeros(n_groups)  # V is constant on a group: V(s) = vg[group[s]]
        vg_new = np.zeros(n_groups)
        for _ in range(max_iter):
            diff = 0.0
            for g in range(n_groups):
                s = rep[g]
                best = -np.inf
                for a in range(m):
                    j = base[s] + a * stride
                    x = payoffs[j, agent] + discount * vg[group[next_state(s, j, n_states, joint)]]
                    if x > best:
                        best = x
                vg_new[g] = best
                diff = max(diff, abs(best - vg[g]))
            vg[:] = vg_new
            if diff < tol:
                break
        for s in range(n_states):  # Q from the final V: error <= discount * tol
            for a in range(m):
                j = base[s] + a * stride
                q[b, s, a] = payoffs[j, agent] + discount * vg[group[next_state(s, j, n_states, joint)]]
    return q


@nb.njit(cache=True, parallel=True)
def _profile_q(strategies, payoffs, m, agent, discount, tol, max_iter):
    n_sessions, n, n_states = strategies.shape
    joint = m**n
    stride = m ** (n - 1 - agent)
    q = np.zeros((n_sessions, n_states, m))
    for b in nb.prange(n_sessions):
        pay = np.empty(n_states)  # the profile's payoff and successor of each state, once
        nxt = np.empty(n_states, np.int64)
        for s in range(n_states):
            j = joint_of(strategies[b], s, n, m)
            pay[s] = payoffs[j, agent]
            nxt[s] = next_state(s, j, n_states, joint)
        v = np.zeros(n_states)  # value of following the profile from each state
        v_new = np.zeros(n_states)
        for _ in range(max_iter):
            diff = 0.0
            for s in range(n_states):
                v_new[s] = pay[s] + discount * v[nxt[s]]
                diff = max(diff, abs(v_new[s] - v[s]))
            v[:] = v_new
            if diff < tol:
                break
        for s in range(n_states):
            base = joint_of(strategies[b], s, n, m) - strategies[b, agent, s] * stride
            for a in range(m):
                j = base + a * stride
                q[b, s, a] = payoffs[j, agent] + discount * v[next_state(s, j, n_states, joint)]
    return q


def profile_q(game: FiniteGame, strategies, agent: int, tol: float = 1e-12,
              max_iter: int = 100_000) -> np.ndarray:
    """``Q^sigma(s, a)`` of ``agent``: play ``a`` once at ``s``, then everyone (the agent
    included) follows the strategies. ``(S, n_states, m)``.

    This is what the one-shot-deviation check of Calvano et al.'s code evaluates
    (``computeQCell`` in ``EquilibriumCheck.f90``).

    Examples
    --------
    Defecting once against grim trigger at (C, C) earns 5, then mutual defection:

    >>> pd_ = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)
    >>> g = FiniteGame.from_matrix(pd_, memory=1, discount=0.9)
    >>> grim = np.array([[[0, 1, 1, 1], [0, 1, 1, 1]]])
    >>> profile_q(g, grim, agent=0)[0, 0].round(6).tolist()   # [cooperate, defect]
    [30.0, 14.0]
    """
    strategies = check_strategies(game, strategies)
    if not 0 < game.discount < 1:
        raise ValueError(f"the check needs 0 < discount < 1, got {game.discount}")
    return _profile_q(strategies, game.payoffs[0], game.n_actions, int(agent),
                      float(game.discount), float(tol), int(max_iter))


def best_response_q(game: FiniteGame, strategies, agent: int, tol: float = 1e-12,
                    max_iter: int = 100_000) -> np.ndarray:
    """Optimal ``Q*(s, a)`` of ``agent`` against the others' fixed greedy strategies.

    Returns an array ``(S, n_states, m)``. Value iteration stops when the sup-norm change
    of the value function is below ``tol`` (so ``Q*`` is within ``tol * discount /
    (1 - discount)`` of the fixed point).

    Examples
    --------
    Against a rival who always cooperates, defecting for ever is worth 5 / (1 - 0.9):

    >>> pd_ = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)
    >>> g = FiniteGame.from_matrix(pd_, memory=1, discount=0.9)
    >>> allc = np.zeros((1, 2, 4), dtype=int)
    >>> round(float(best_response_q(g, allc, agent=0)[0, 0].max()), 6)
    50.0
    """
    strategies = check_strategies(game, strategies)
    if not 0 < game.discount < 1:
        raise ValueError(f"value iteration needs 0 < discount < 1, got {game.discount}")
    return _best_response_q(strategies, game.payoffs[0], game.n_actions, int(agent),
                            float(game.discount), float(tol), int(max_iter))


def equilibrium_check(game: FiniteGame, strategies, start_states=None, rtol: float = 1e-9,
                      ) -> pd.DataFrame:
    """Which sessions' strategies are equilibria, on the path of play and everywhere.

    Returns one row per session with columns

    * ``eq_on_path_<i>`` -- agent ``i`` best-responds at every state of the limit cycle;
    * ``eq_all_states_<i>`` -- ... at every state;
    * ``br_share_<i>`` -- share of all states at which agent ``i`` best-responds;
    * ``eq_on_path`` / ``eq_all_states`` -- the same for all agents at once
      (Nash equilibrium on path / subgame-perfect equilibrium);
    * ``osd_on_path[_<i>]``, ``osd_all_states[_<i>]`` -- the one-shot-deviation version,
      as in the authors' code: the greedy action is optimal among actions taken once at
      the state and followed by the strategies themselves (:func:`profile_q`). By the
      one-shot deviation principle ``osd_all_states == eq_all_states``; on path the
      one-shot check is weaker (it keeps the agent's own, possibly suboptimal,
      continuation).

    An action counts as optimal when ``Q*(s, a) >= max Q*(s, .) - rtol * (1 + |max Q*|)``.

    Examples
    --------
    Grim trigger is subgame perfect at discount 0.9; always-cooperate is not:

    >>> pd_ = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)
    >>> g = FiniteGame.from_matrix(pd_, memory=1, discount=0.9)
    >>> grim = np.array([[0, 1, 1, 1], [0, 1, 1, 1]])
    >>> allc = np.zeros((2, 4), dtype=int)
    >>> tab = equilibrium_check(g, np.stack([grim, allc]))
    >>> tab[["eq_on_path", "eq_all_states", "osd_on_path"]].values.tolist()
    [[True, True, True], [False, False, False]]
    """
    strategies = check_strategies(game, strategies)
    n_sessions, n, n_states = strategies.shape
    start = start_states_of(start_states, n_sessions)
    entry, length = find_cycles(strategies, start, game.n_actions)
    on_cycle = np.zeros((n_sessions, n_states), dtype=bool)
    for b in range(n_sessions):
        s = int(entry[b])
        for _ in range(int(length[b])):
            on_cycle[b, s] = True
            j = game.joint_index(strategies[b, :, s])
            s = 0 if n_states == 1 else (s * game.n_joint) % n_states + j
    out = {"session": np.arange(n_sessions)}
    for i in range(n):
        for prefix, q in (("eq", best_response_q(game, strategies, i)),
                          ("osd", profile_q(game, strategies, i))):
            best = q.max(axis=2)
            chosen = np.take_along_axis(q, strategies[:, i, :, None], axis=2)[..., 0]
            ok = chosen >= best - rtol * (1.0 + np.abs(best))
            out[f"{prefix}_on_path_{i}"] = np.all(ok | ~on_cycle, axis=1)
            out[f"{prefix}_all_states_{i}"] = ok.all(axis=1)
            if prefix == "eq":
                out[f"br_share_{i}"] = ok.mean(axis=1)
    frame = pd.DataFrame(out)
    for prefix in ("eq", "osd"):
        for where in ("on_path", "all_states"):
            frame[f"{prefix}_{where}"] = frame[[f"{prefix}_{where}_{i}" for i in range(n)]].all(axis=1)
    return frame
