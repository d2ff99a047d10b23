"""Kernels the endogenous-grid (EGM) solvers share: one inverse-Euler sweep and the linear
interpolation of a policy stored on EGM nodes.

The growth, Aiyagari and Krusell--Smith solvers store a policy as values on nodes of cash on
hand and update it by inverting the Euler equation; written once here, the three cannot drift
apart in how they read a node or measure convergence.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["inverse_euler", "linear_above_first"]


@nb.njit(cache=True)
def inverse_euler(P, mu, beta, gamma, c_old, c_new):
    """One EGM sweep under CRRA utility: ``c_new[s, i] = (beta E[mu[s', i] | s])^(-1/gamma)``,
    the consumption that makes saving node ``i`` optimal in state ``s`` given next period's
    discounted marginal values ``mu[s', i]`` (``P[s, s']`` the transition matrix).

    Returns the largest relative change ``|c_new - c_old| / c_new`` (the stopping rule)."""
    n_s, n = c_new.shape
    diff = 0.0
    for s in range(n_s):
        for i in range(n):
            E = 0.0
            for s2 in range(n_s):
                E += P[s, s2] * mu[s2, i]
            c = (beta * E) ** (-1.0 / gamma)
            c_new[s, i] = c
            d = abs(c - c_old[s, i]) / c
            if d > diff:
                diff = d
    return diff


@nb.njit(cache=True)
def linear_above_first(x, xn, yn):
    """``y(x)`` from nodes ``(xn ascending, yn)`` for ``x`` above the first node: linear between
    nodes, the last segment extrapolated above the last node. (Below the first node each
    solver has its own rule, which it applies before calling this.)"""
    n = xn.shape[0]
    i = np.searchsorted(xn, x) - 1
    if i > n - 2:
        i = n - 2
    w = (x - xn[i]) / (xn[i + 1] - xn[i])
    return yn[i] + w * (yn[i + 1] - yn[i])
