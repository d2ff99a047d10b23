"""Value iteration and (modified) policy iteration on a single-agent :class:`FiniteModel`.

Why: these are the exact twins of tabular Q-learning on the same grid. A Q-learner that
has converged should reproduce ``DPSolution.q`` and its greedy policy; any gap is the
learner's, not the grid's.

Layout (the :mod:`marketsai.finite_model` contract): state ``s = e * n_x + x``; in state
``s`` action ``j`` pays ``rewards[e, x, j, 0]`` and moves to ``(e', next_x[e, x, j])``
with ``e' ~ exo_transition[e]``. Only actions ``0..n_feasible[e, x, 0]-1`` may be chosen;
their ``q`` is ``-inf`` elsewhere. Ties go to the lowest action index (as ``np.argmax``
and ``quantecon.markov.DiscreteDP``).

Stopping rule of value iteration: MacQueen--Porteus bounds. With ``d = TV - V``,
``V* `` lies in ``[TV + b min d, TV + b max d]``, ``b = beta / (1 - beta)``; we stop when
that interval is narrower than ``2 tol`` and return its midpoint, so
``|value - V*| <= tol`` in every state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

__all__ = ["DPSolution", "value_iteration", "policy_iteration", "modified_policy_iteration",
           "evaluate_policy", "q_values", "best_response_values"]


@dataclass(frozen=True, eq=False)
class DPSolution:
    """Optimal values, a greedy policy and action values of a finite MDP.

    Attributes
    ----------
    value : (n_states,) float64, state ``s = e * n_x + x``.
    policy : (n_states,) int64, a greedy (optimal) action; lowest index on ties.
    q : (n_states, n_actions) float64, ``r + beta E V``; ``-inf`` for infeasible actions.
    iterations : Bellman (or improvement) steps taken.
    converged : whether the stopping rule was met before ``max_iter``.
    """

    value: np.ndarray
    policy: np.ndarray
    q: np.ndarray
    iterations: int
    converged: bool


# ----------------------------------------------------------------------------- kernels
@nb.njit(cache=True)
def _expect(P, V, n_x):
    """EV[e, x'] = sum_e2 P[e, e2] V[e2 * n_x + x']."""
    n_exo = P.shape[0]
    EV = np.zeros((n_exo, n_x))
    for e in range(n_exo):
        for e2 in range(n_exo):
            p = P[e, e2]
            if p != 0.0:
                for x in range(n_x):
                    EV[e, x] += p * V[e2 * n_x + x]
    return EV


@nb.njit(cache=True)
def _greedy(R, nxt, nfeas, P, beta, V, TV, policy):
    """One Bellman step: TV = max_j r + beta E V; policy = first argmax."""
    n_exo, n_x = nxt.shape[0], nxt.shape[1]
    one_x = R.shape[1] == 1
    EV = _expect(P, V, n_x)
    for e in range(n_exo):
        for x in range(n_x):
            rx = 0 if one_x else x
            best = -np.inf
            arg = 0
            for j in range(nfeas[e, x]):
                q = R[e, rx, j] + beta * EV[e, nxt[e, x, j]]
                if q > best:
                    best = q
                    arg = j
            s = e * n_x + x
            TV[s] = best
            policy[s] = arg


@nb.njit(cache=True)
def _apply_policy(R, nxt, P, beta, policy, V, out):
    """out = r_sigma + beta P_sigma V."""
    n_exo, n_x = nxt.shape[0], nxt.shape[1]
    one_x = R.shape[1] == 1
    EV = _expect(P, V, n_x)
    for e in range(n_exo):
        for x in range(n_x):
            s = e * n_x + x
            j = policy[s]
            out[s] = R[e, 0 if one_x else x, j] + beta * EV[e, nxt[e, x, j]]


@nb.njit(cache=True)
def _span_stop(TV, V, beta, tol):
    """MacQueen-Porteus: (stop?, midpoint correction)."""
    lo = np.inf
    hi = -np.inf
    for s in range(TV.shape[0]):
        d = TV[s] - V[s]
        lo = min(lo, d)
        hi = max(hi, d)
    b = beta / (1.0 - beta)
    return b * (hi - lo) <= 2.0 * tol, b * 0.5 * (hi + lo)


@nb.njit(cache=True)
def _mpi(R, nxt, nfeas, P, beta, V, m, tol, max_iter):
    """Modified policy iteration (m = 0: value iteration). Returns (V, policy, it, ok)."""
    n = V.shape[0]
    TV = np.empty(n)
    W = np.empty(n)
    policy = np.zeros(n, np.int64)
    for it in range(1, max_iter + 1):
        _greedy(R, nxt, nfeas, P, beta, V, TV, policy)
        stop, corr = _span_stop(TV, V, beta, tol)
        if stop:
            for s in range(n):
                V[s] = TV[s] + corr
            _greedy(R, nxt, nfeas, P, beta, V, TV, policy)  # policy greedy for returned V
            return V, policy, it, True
        V[:] = TV
        for _ in range(m):
            _apply_policy(R, nxt, P, beta, policy, V, W)
            V[:] = W
    return V, policy, max_iter, False


@nb.njit(cache=True)
def _evaluate_iter(R, nxt, P, beta, policy, V, tol, max_iter):
    """Iterate V <- r_sigma + beta P_sigma V with MacQueen-Porteus stopping."""
    W = np.empty(V.shape[0])
    for it in range(1, max_iter + 1):
        _apply_policy(R, nxt, P, beta, policy, V, W)
        stop, corr = _span_stop(W, V, beta, tol)
        if stop:
            for s in range(V.shape[0]):
                V[s] = W[s] + corr
            return V, it, True
        V[:] = W
    return V, max_iter, False


@nb.njit(cache=True)
def _q_table(R, nxt, nfeas, P, beta, V, n_actions):
    n_exo, n_x = nxt.shape[0], nxt.shape[1]
    one_x = R.shape[1] == 1
    EV = _expect(P, V, n_x)
    q = np.full((n_exo * n_x, n_actions), -np.inf)
    for e in range(n_exo):
        for x in range(n_x):
            for j in range(nfeas[e, x]):
                q[e * n_x + x, j] = R[e, 0 if one_x else x, j] + beta * EV[e, nxt[e, x, j]]
    return q


# --------------------------------------------------------------------------- front end
def _arrays(model):
    """(R (n_exo, n_x|1, M), next_x, n_feasible (n_exo, n_x), P, beta) of a 1-agent model."""
    if model.n_agents != 1:
        raise ValueError(f"DP solvers take a single-agent FiniteModel, got {model.n_agents} agents "
                         "(use best_response_values for one agent of a game)")
    R = np.ascontiguousarray(model.rewards[..., 0])
    if model.n_feasible is None:
        nfeas = np.full((model.n_exo, model.n_x), model.n_joint, np.int64)
    else:
        nfeas = np.ascontiguousarray(model.n_feasible[..., 0])
    return R, model.next_x, nfeas, model.exo_transition, model.discount


def q_values(model, value) -> np.ndarray:
    """Action values ``r + beta E V`` of a value vector; ``-inf`` for infeasible actions.

    >>> from marketsai.finite_model import FiniteModel
    >>> r = np.array([[[[0.0], [0.0]], [[1.0], [1.0]]]])
    >>> m = FiniteModel(agents=("a",), n_actions=[2], rewards=r,
    ...                 next_x=np.array([[[0, 1], [1, 0]]]), discount=0.5)
    >>> q_values(m, np.array([1.0, 2.0]))
    array([[0.5, 1. ],
           [2. , 1.5]])
    """
    R, nxt, nfeas, P, beta = _arrays(model)
    return _q_table(R, nxt, nfeas, P, beta, np.asarray(value, np.float64), model.n_joint)


def _solution(model, V, policy, it, ok):
    return DPSolution(value=V, policy=policy, q=q_values(model, V), iterations=int(it),
                      converged=bool(ok))


def value_iteration(model, tol: float = 1e-10, max_iter: int = 100_000, v0=None) -> DPSolution:
    """Optimal values by value iteration; ``|value - V*| <= tol`` in every state.

    The policy is greedy for the returned value, hence optimal unless two actions' values
    differ by less than about ``2 beta tol`` (use :func:`policy_iteration` to break such
    near-ties exactly).

    Examples
    --------
    Stay or switch between two states, being in state 1 pays 1 (``V* = (9, 10)``
    at ``beta = 0.9``: switch once, then stay):

    >>> from marketsai.finite_model import FiniteModel
    >>> r = np.array([[[[0.0], [0.0]], [[1.0], [1.0]]]])
    >>> m = FiniteModel(agents=("a",), n_actions=[2], rewards=r,
    ...                 next_x=np.array([[[0, 1], [1, 0]]]), discount=0.9)
    >>> sol = value_iteration(m)
    >>> np.round(sol.value, 8), sol.policy
    (array([ 9., 10.]), array([1, 0]))
    """
    R, nxt, nfeas, P, beta = _arrays(model)
    V = np.zeros(model.n_states) if v0 is None else np.array(v0, np.float64)
    return _solution(model, *_mpi(R, nxt, nfeas, P, beta, V, 0, float(tol), int(max_iter)))


def modified_policy_iteration(model, m: int = 20, tol: float = 1e-10, max_iter: int = 100_000,
                              v0=None) -> DPSolution:
    """Modified policy iteration: each greedy step is followed by ``m`` evaluation sweeps.

    Same stopping rule and guarantee as :func:`value_iteration` (``m = 0`` is value
    iteration); much faster when ``beta`` is close to 1 and the maximisation is costly.
    """
    R, nxt, nfeas, P, beta = _arrays(model)
    V = np.zeros(model.n_states) if v0 is None else np.array(v0, np.float64)
    return _solution(model, *_mpi(R, nxt, nfeas, P, beta, V, int(m), float(tol), int(max_iter)))


def evaluate_policy(model, policy, method: str = "auto", tol: float = 1e-12,
                    max_iter: int = 1_000_000) -> np.ndarray:
    """The value ``(I - beta P_sigma)^{-1} r_sigma`` of a stationary policy.

    ``method="direct"`` solves the dense linear system (exact to rounding; used up to
    2000 states by ``"auto"``); ``"iterative"`` iterates the policy's Bellman operator
    to ``|error| <= tol`` (MacQueen--Porteus bounds) and needs no dense matrix.

    >>> from marketsai.finite_model import FiniteModel
    >>> r = np.array([[[[0.0], [0.0]], [[1.0], [1.0]]]])
    >>> m = FiniteModel(agents=("a",), n_actions=[2], rewards=r,
    ...                 next_x=np.array([[[0, 1], [1, 0]]]), discount=0.9)
    >>> evaluate_policy(m, [0, 0])   # never switch: 0 forever, or 1 forever
    array([ 0., 10.])
    """
    R, nxt, nfeas, P, beta = _arrays(model)
    policy = np.asarray(policy, np.int64).reshape(-1)
    if policy.shape != (model.n_states,):
        raise ValueError(f"policy must have {model.n_states} entries, got {policy.shape}")
    if np.any(policy < 0) or np.any(policy >= nfeas.reshape(-1)):
        raise ValueError("policy chooses an infeasible action (>= n_feasible) in some state")
    n_exo, n_x = model.n_exo, model.n_x
    if method == "auto":
        method = "direct" if model.n_states <= 2000 else "iterative"
    if method == "iterative":
        V, _, ok = _evaluate_iter(R, nxt, P, beta, policy, np.zeros(model.n_states), float(tol),
                                  int(max_iter))
        if not ok:
            raise RuntimeError("iterative policy evaluation did not converge")
        return V
    if method != "direct":
        raise ValueError(f"method must be 'auto', 'direct' or 'iterative', got {method!r}")
    e = np.repeat(np.arange(n_exo), n_x)
    x = np.tile(np.arange(n_x), n_exo)
    r = R[e, x if R.shape[1] > 1 else 0, policy]
    x_next = nxt[e, x, policy]  # (n_states,)
    A = np.eye(model.n_states)
    cols = np.arange(n_exo)[None, :] * n_x + x_next[:, None]  # (n_states, n_exo)
    np.add.at(A, (np.arange(model.n_states)[:, None], cols), -beta * P[e])
    return np.linalg.solve(A, r)


def policy_iteration(model, max_iter: int = 10_000, method: str = "auto",
                     tol: float = 1e-12) -> DPSolution:
    """Howard policy iteration: evaluate, improve greedily, until the policy is stable.

    Starts from the greedy policy of ``V = 0``. Evaluation is ``"direct"`` (dense linear
    solve; ``"auto"`` up to 1000 states) or ``"iterative"`` (warm-started from the last
    value, to ``|error| <= tol``). The current action is kept where it is still optimal to
    within rounding, so ties cannot make it cycle.
    """
    R, nxt, nfeas, P, beta = _arrays(model)
    if method == "auto":
        method = "direct" if model.n_states <= 1000 else "iterative"
    n = model.n_states
    V = np.zeros(n)
    TV = np.empty(n)
    cur = np.empty(n)
    policy = np.zeros(n, np.int64)
    _greedy(R, nxt, nfeas, P, beta, V, TV, policy)
    for it in range(1, max_iter + 1):
        if method == "iterative":
            V, _, ok = _evaluate_iter(R, nxt, P, beta, policy, V, float(tol), 1_000_000)
            if not ok:
                raise RuntimeError("iterative policy evaluation did not converge")
        else:
            V = evaluate_policy(model, policy, method=method)
        new = np.empty_like(policy)
        _greedy(R, nxt, nfeas, P, beta, V, TV, new)
        _apply_policy(R, nxt, P, beta, policy, V, cur)
        keep = cur >= TV - 1e-12 * max(1.0, float(np.abs(TV).max()))
        new[keep] = policy[keep]
        if np.array_equal(new, policy):
            return _solution(model, V, policy, it, True)
        policy = new
    return _solution(model, V, policy, max_iter, False)


def best_response_values(model, agent: int, others_policy) -> DPSolution:
    """Agent ``agent``'s optimal values against fixed stationary policies of the others.

    ``others_policy`` is ``(n_agents, n_states)`` action indices (row ``agent`` is
    ignored). The others' actions fix the joint action given the agent's own, so what is
    left is a single-agent MDP, solved by policy iteration.
    """
    from marketsai.finite_model import FiniteModel

    pol = np.asarray(others_policy, np.int64)
    n, n_exo, n_x = model.n_agents, model.n_exo, model.n_x
    if pol.shape != (n, model.n_states):
        raise ValueError(f"others_policy must be ({n}, {model.n_states}), got {pol.shape}")
    m = int(model.n_actions[agent])
    strides = np.array([int(np.prod(model.n_actions[i + 1:])) for i in range(n)], np.int64)
    base = sum(pol[i] * strides[i] for i in range(n) if i != agent)  # (n_states,)
    joint = base[:, None] + np.arange(m)[None, :] * strides[agent]  # (n_states, m)
    joint = joint.reshape(n_exo, n_x, m)
    e = np.arange(n_exo)[:, None, None]
    x = np.arange(n_x)[None, :, None]
    rx = x if model.rewards.shape[1] > 1 else 0
    rewards = model.rewards[e, rx, joint, agent][..., None]
    nfeas = None if model.n_feasible is None else model.n_feasible[..., agent:agent + 1]
    single = FiniteModel(agents=(model.agents[agent],), n_actions=[m], rewards=rewards,
                         next_x=model.next_x[e, x, joint], discount=model.discount,
                         exo_transition=model.exo_transition, n_feasible=nfeas)
    return policy_iteration(single)
