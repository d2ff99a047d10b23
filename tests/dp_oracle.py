"""The dynamic-programming tests' oracle and random MDPs.

Why a module: ``tests/test_solvers_dp.py`` checks the DP solvers against quantecon's
``DiscreteDP`` on these models, and ``experiments/growth/solver_accuracy.py`` writes the
same comparison to the committed table docs/solvers.md quotes -- one oracle for both.
"""

from __future__ import annotations

import numpy as np
import pytest

from marketsai.finite_model import FiniteModel


def quantecon_solution(model):
    """The same MDP as a quantecon DiscreteDP over feasible state-action pairs (the dev extra's
    oracle: skipped on a core install)."""
    qe = pytest.importorskip("quantecon")
    sp = pytest.importorskip("scipy.sparse")
    n_exo, n_x, M = model.n_exo, model.n_x, model.n_joint
    nf = np.full((n_exo, n_x), M) if model.n_feasible is None else model.n_feasible[..., 0]
    s_idx, a_idx, R, rows, cols, vals = [], [], [], [], [], []
    for e in range(n_exo):
        for x in range(n_x):
            for j in range(nf[e, x]):
                L = len(R)
                s_idx.append(e * n_x + x)
                a_idx.append(j)
                R.append(model.reward(e, x, j)[0])
                for e2 in range(n_exo):
                    if model.exo_transition[e, e2] > 0:
                        rows.append(L)
                        cols.append(e2 * n_x + model.next_x[e, x, j])
                        vals.append(model.exo_transition[e, e2])
    Q = sp.csr_matrix((vals, (rows, cols)), shape=(len(R), model.n_states))
    ddp = qe.markov.DiscreteDP(np.array(R), Q, model.discount, np.array(s_idx), np.array(a_idx))
    return ddp.solve(method="policy_iteration")


def random_mdp(seed, n_exo=3, n_x=15, M=6, beta=0.95, feasible=True, x_axis=True):
    rng = np.random.default_rng(seed)
    r = rng.normal(size=(n_exo, n_x if x_axis else 1, M, 1))
    P = rng.random((n_exo, n_exo)) ** 3
    P /= P.sum(axis=1, keepdims=True)
    nf = rng.integers(1, M + 1, size=(n_exo, n_x, 1)) if feasible else None
    return FiniteModel(agents=("a",), n_actions=[M], rewards=r,
                       next_x=rng.integers(0, n_x, size=(n_exo, n_x, M)), discount=beta,
                       exo_transition=P, n_feasible=nf)
