"""Time iteration for the growth model: an independent cross-check of the EGM.

Why: the endogenous grid method inverts the Euler equation analytically; time iteration
solves it numerically, point by point on a fixed capital grid, for next period's policy
taken from the previous iterate (Coleman 1990). Both land on the same fixed point up to
interpolation error, so agreement checks the EGM's algebra for any ``(gamma, delta)``
where no closed form exists. It is slower (a root per grid point and iteration) and
meant for tests and audits, not production.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from marketsai.solvers.growth import (
    GrowthModel,
    GrowthPolicy,
    check_grid,
    growth_policy,
    interp_savings,
)

__all__ = ["solve_time_iteration"]


@nb.njit(cache=True)
def _euler_gap(kp, y, e, Yn, kpn, zv, P, alpha, beta, delta, gamma):
    """u'(y - k') - beta E[u'(c') (1 + alpha z' k'^(alpha-1) - delta)]: increasing in k'."""
    m = 0.0
    for e2 in range(zv.shape[0]):
        y2 = zv[e2] * kp**alpha + (1.0 - delta) * kp
        c2 = y2 - interp_savings(y2, Yn[e2], kpn[e2])
        if c2 <= 0.0:
            return -np.inf  # saving so much that tomorrow's plan starves: too little today
        m += P[e, e2] * c2 ** (-gamma) * (alpha * zv[e2] * kp ** (alpha - 1.0) + 1.0 - delta)
    return (y - kp) ** (-gamma) - beta * m


@nb.njit(cache=True)
def _root(y, guess, e, Yn, kpn, zv, P, alpha, beta, delta, gamma):
    """The k' in (0, y) solving the Euler equation: Illinois regula falsi on a bracket."""
    a = max(guess * 0.99, 1e-12 * y)
    b = min(guess * 1.01, y * (1.0 - 1e-12))
    fa = _euler_gap(a, y, e, Yn, kpn, zv, P, alpha, beta, delta, gamma)
    fb = _euler_gap(b, y, e, Yn, kpn, zv, P, alpha, beta, delta, gamma)
    while fa > 0.0 and a > 1e-12 * y:  # widen until the bracket holds the root
        a = max(a * 0.5, 1e-12 * y)
        fa = _euler_gap(a, y, e, Yn, kpn, zv, P, alpha, beta, delta, gamma)
    while fb < 0.0 and b < y * (1.0 - 1e-12):
        b = min(b + 0.5 * (y - b), y * (1.0 - 1e-12))
        fb = _euler_gap(b, y, e, Yn, kpn, zv, P, alpha, beta, delta, gamma)
    if not (np.isfinite(fa) and np.isfinite(fb)) or fa > 0.0 or fb < 0.0:
        lo, hi = a, b  # no finite bracket: plain bisection on the sign
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if _euler_gap(mid, y, e, Yn, kpn, zv, P, alpha, beta, delta, gamma) < 0.0:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)
    c = a
    side = 0
    for _ in range(200):
        c_new = (a * fb - b * fa) / (fb - fa)
        fc = _euler_gap(c_new, y, e, Yn, kpn, zv, P, alpha, beta, delta, gamma)
        if abs(c_new - c) <= 1e-15 * y or fc == 0.0:
            return c_new
        c = c_new
        if fc < 0.0:
            a, fa = c, fc
            if side == -1:
                fb *= 0.5
            side = -1
        else:
            b, fb = c, fc
            if side == 1:
                fa *= 0.5
            side = 1
    return c


@nb.njit(cache=True)
def _time_iteration(Yg, kp, zv, P, alpha, beta, delta, gamma, tol, max_iter):
    n_z, n = kp.shape
    new = np.empty((n_z, n))
    for it in range(1, max_iter + 1):
        diff = 0.0
        for e in range(n_z):
            for i in range(n):
                new[e, i] = _root(Yg[e, i], kp[e, i], e, Yg, kp, zv, P, alpha, beta, delta, gamma)
                diff = max(diff, abs(new[e, i] - kp[e, i]) / new[e, i])
        kp[:, :] = new
        if diff < tol:
            return kp, it, True
    return kp, max_iter, False


def solve_time_iteration(model: GrowthModel, k_grid, tol: float = 1e-12,
                         max_iter: int = 100_000) -> GrowthPolicy:
    """Solve the Euler equation at every ``(k_grid[i], z_e)`` given last iterate's policy.

    Next period's savings are interpolated exactly as a :class:`GrowthPolicy` does
    (linear in cash on hand, nodes ``y(k_grid, z_e)``); stops when ``k'`` changes by less
    than ``tol`` (relative) everywhere. Starts from the steady-state saving share.

    >>> from marketsai.solvers.growth import brock_mirman_calibration, brock_mirman_policy
    >>> m = brock_mirman_calibration()
    >>> g = np.linspace(0.5, 1.5, 30) * m.steady_state()[0]
    >>> pol = solve_time_iteration(m, g)
    >>> exact = brock_mirman_policy(m, g, m.z_values[1])
    >>> bool(np.allclose(pol.kp[1], exact, rtol=1e-10))
    True
    """
    g = check_grid(k_grid)
    zv = model.z_values
    Yg = np.ascontiguousarray(model.cash_on_hand(g[None, :], zv[:, None]))
    k_ss, c_ss, _ = model.steady_state()
    share = 1.0 - c_ss / float(model.cash_on_hand(k_ss, 1.0))
    kp, it, ok = _time_iteration(Yg, share * Yg, zv, model.P, model.alpha, model.beta, model.delta,
                                 model.gamma, float(tol), int(max_iter))
    return growth_policy(model, g, Yg, kp, it, ok, "time_iteration")
