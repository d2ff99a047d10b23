"""Accuracy of any savings policy of the growth model: Euler errors, policy and welfare gaps.

Why: a tabular Q-learner, a neural network and EGM all produce a savings rule
``k' = savings(k, iz)``; these measures put them on one unit-free scale.

* :func:`euler_errors` -- Judd's (1992) unit-free Euler-equation error in log10: the
  relative consumption mistake of a one-period deviation, ``-4`` meaning $1 per $10,000;
* :func:`euler_error_stats` (a box of ``k`` times every ``z``) and
  :func:`ergodic_euler_stats` (a long simulated path: the ergodic set);
* :func:`ergodic_policy_error` -- relative error of ``k'`` against a reference policy;
* :func:`lifetime_utility`, :func:`welfare_loss` -- the consumption-equivalent cost of
  following the policy instead of the reference.

``savings(k, iz)`` must accept arrays (broadcasting ``k`` with integer TFP indices
``iz``) and return ``k'`` of the same shape; expectations over ``z'`` use the chain's
transition row ``P[iz]``, so the measures are exact for the discrete-shock model.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["euler_errors", "euler_error_stats", "simulate_path", "ergodic_euler_stats",
           "ergodic_policy_error", "lifetime_utility", "welfare_loss"]

#: log10 error reported for an exact zero (rounding makes any smaller number meaningless)
FLOOR = 1e-17


def euler_errors(model, savings, k, iz):
    """``log10 |1 - u'^{-1}(beta E[u'(c') (1 + alpha z' k'^(alpha-1) - delta)]) / c|``.

    ``+inf`` where the policy leaves ``c <= 0`` today or in some state tomorrow; exact
    zeros are reported as ``log10(1e-17)``.

    >>> from marketsai.solvers.growth import brock_mirman_calibration, brock_mirman_policy
    >>> m = brock_mirman_calibration()
    >>> exact = lambda k, iz: brock_mirman_policy(m, k, m.z_values[iz])
    >>> bool(np.all(euler_errors(m, exact, np.array([0.15, 0.2]), np.array([0, 4])) < -12))
    True
    """
    k, iz = np.broadcast_arrays(np.asarray(k, np.float64), np.asarray(iz, np.int64))
    zv, P, n_z = model.z_values, model.P, model.z.n_states
    kp = np.asarray(savings(k, iz), np.float64)
    c = model.cash_on_hand(k, zv[iz]) - kp
    kp2 = np.repeat(kp[..., None], n_z, axis=-1)  # k' in each z' state (plain arrays for
    iz2 = np.broadcast_to(np.arange(n_z), kp2.shape).copy()  # policies that write or jit)
    kpp = np.asarray(savings(kp2, iz2), np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        c2 = model.cash_on_hand(kp2, zv) - kpp
        ret = 1.0 + model.alpha * zv * kp2 ** (model.alpha - 1.0) - model.delta
        e_mu = np.sum(P[iz] * model.marginal_utility(np.where(c2 > 0, c2, np.nan)) * ret, axis=-1)
        err = np.abs(1.0 - model.inverse_marginal_utility(model.beta * e_mu) / c)
        out = np.log10(np.maximum(err, FLOOR))
    bad = (c <= 0) | np.any(c2 <= 0, axis=-1) | ~np.isfinite(out)
    return np.where(bad, np.inf, out)


def _stats(errs):
    errs = np.asarray(errs).ravel()
    with np.errstate(over="ignore"):
        mean_abs = np.mean(10.0**errs)
    return {"mean": float(np.log10(mean_abs)), "max": float(errs.max()),
            "mean_log10": float(errs.mean())}


def euler_error_stats(model, savings, k_range=None, points: int = 1000):
    """Euler errors on ``points`` equally spaced ``k`` in ``k_range`` times every ``z`` state.

    ``k_range`` defaults to ``(0.8, 1.2) * k_ss``. Returns ``{"mean", "max", "mean_log10"}``:
    ``mean`` is ``log10`` of the mean absolute error (dominated by the worst points,
    as in Aruoba, Fernandez-Villaverde and Rubio-Ramirez 2006), ``max`` the largest
    log10 error, ``mean_log10`` the plain mean of the log10 errors (never larger than ``mean``).
    """
    if k_range is None:
        k_ss = model.steady_state()[0]
        k_range = (0.8 * k_ss, 1.2 * k_ss)
    k = np.linspace(k_range[0], k_range[1], int(points))
    iz = np.arange(model.z.n_states)
    return _stats(euler_errors(model, savings, k[None, :], iz[:, None]))


def simulate_path(model, savings, T: int, rng: np.random.Generator, k0: float | None = None,
                  iz0: int | None = None):
    """``(k, iz)``: ``T + 1`` capital stocks and TFP indices under the policy.

    ``k0`` defaults to the steady state, ``iz0`` is drawn from the stationary law; the
    TFP path is drawn by ``model.z.simulate`` (one ``rng``, reproducible).
    """
    iz = model.z.simulate(int(T) + 1, rng, init=iz0)
    k = np.empty(int(T) + 1)
    k[0] = model.steady_state()[0] if k0 is None else float(k0)
    for t in range(int(T)):
        k[t + 1] = float(np.asarray(savings(np.array([k[t]]), iz[t:t + 1]))[0])
    return k, iz


def ergodic_euler_stats(model, savings, T: int = 10_000, burn: int = 1000, seed: int = 0):
    """Euler-error statistics (as :func:`euler_error_stats`) on a simulated path after ``burn``."""
    k, iz = simulate_path(model, savings, T + burn, np.random.default_rng(seed))
    return _stats(euler_errors(model, savings, k[burn:], iz[burn:]))


def ergodic_policy_error(model, savings, reference_savings, T: int = 10_000, burn: int = 1000,
                         seed: int = 0):
    """``{"max", "mean"}`` of ``|k'/k'_ref - 1|`` on a path simulated under the *reference*.

    The reference's ergodic set is where the economy lives, so that is where a learned
    policy must be right.
    """
    k, iz = simulate_path(model, reference_savings, T + burn, np.random.default_rng(seed))
    k, iz = k[burn:], iz[burn:]
    rel = np.abs(np.asarray(savings(k, iz)) / np.asarray(reference_savings(k, iz)) - 1.0)
    return {"max": float(rel.max()), "mean": float(rel.mean())}


# ------------------------------------------------------------------------ welfare
@nb.njit(cache=True)
def _evaluate(u, lo, w, P, beta, tol, max_iter):
    """V[e, i] = u[e, i] + beta sum_e2 P[e, e2] ((1 - w) V[e2, lo] + w V[e2, lo + 1])."""
    n_z, n = u.shape
    V = np.zeros((n_z, n))
    W = np.empty((n_z, n))
    for _ in range(max_iter):
        for e in range(n_z):
            for i in range(n):
                j = lo[e, i]
                s = 0.0
                for e2 in range(n_z):
                    s += P[e, e2] * ((1.0 - w[e, i]) * V[e2, j] + w[e, i] * V[e2, j + 1])
                W[e, i] = u[e, i] + beta * s
        lo_d = np.inf
        hi_d = -np.inf
        for e in range(n_z):
            for i in range(n):
                d = W[e, i] - V[e, i]
                lo_d = min(lo_d, d)
                hi_d = max(hi_d, d)
        b = beta / (1.0 - beta)
        V[:, :] = W
        if b * (hi_d - lo_d) <= 2.0 * tol:  # MacQueen-Porteus bounds
            return V + b * 0.5 * (hi_d + lo_d), True
    return V, False


def _default_grid(model, policies, points):
    """Log grid covering where each policy's capital goes: fixed points at z_min and z_max."""
    n_z = model.z.n_states
    k_ss = model.steady_state()[0]
    lo, hi = k_ss, k_ss
    for f in policies:
        k = np.array([k_ss, k_ss])
        iz = np.array([0, n_z - 1])
        for _ in range(5000):
            k = np.asarray(f(k, iz), np.float64)
        lo, hi = min(lo, k[0]), max(hi, k[1])
    if not (np.isfinite(lo) and np.isfinite(hi) and lo > 0):
        raise ValueError("a policy drives capital to zero or infinity: pass k_grid explicitly")
    return np.geomspace(lo / 1.25, hi * 1.25, int(points))


def lifetime_utility(model, savings, k_grid, tol: float = 1e-10, max_iter: int = 1_000_000):
    """``V[iz, i]``: expected discounted utility of following ``savings`` from ``(k_grid[i], iz)``.

    Policy evaluation on the grid: ``V`` between grid points is linear in ``log k``
    (exact for Brock--Mirman, where ``V`` is affine in ``log k``; otherwise an
    interpolation error second order in the log spacing) and ``k'`` outside the grid is
    clamped to its ends. Iterated to ``|error| <= tol`` of the discrete operator.
    """
    g = np.ascontiguousarray(k_grid, np.float64)
    n_z = model.z.n_states
    iz = np.arange(n_z)[:, None]
    kp = np.asarray(savings(np.broadcast_to(g, (n_z, g.size)), np.broadcast_to(iz, (n_z, g.size))))
    u = model.utility(model.cash_on_hand(g[None, :], model.z_values[iz]) - kp)
    if not np.all(np.isfinite(u)):
        raise ValueError("the policy leaves non-positive consumption on the grid")
    lg, lkp = np.log(g), np.log(np.clip(kp, g[0], g[-1]))
    lo = np.clip(np.searchsorted(lg, lkp) - 1, 0, g.size - 2)
    w = (lkp - lg[lo]) / (lg[lo + 1] - lg[lo])
    V, ok = _evaluate(np.ascontiguousarray(u), np.ascontiguousarray(lo, np.int64),
                      np.ascontiguousarray(w), model.P, model.beta, float(tol), int(max_iter))
    if not ok:
        raise RuntimeError("policy evaluation did not converge")
    return V


def welfare_loss(model, savings, reference_savings, k0: float | None = None, k_grid=None,
                 points: int = 2000) -> float:
    """Consumption-equivalent welfare loss (percent) of ``savings`` relative to the reference.

    The permanent proportional increase ``lambda`` of consumption under ``savings`` that
    makes the agent indifferent to the reference, ex ante: at ``k0`` (default the steady
    state) with ``z`` drawn from the stationary law. Scaling consumption by ``1 + lambda``
    maps lifetime utility ``V`` to ``V + ln(1 + lambda) / (1 - beta)`` (log) or to
    ``(1 + lambda)^(1-gamma) (V + K) - K``, ``K = 1 / ((1 - gamma)(1 - beta))`` (CRRA),
    which is solved for ``lambda``. Lifetime utilities come from :func:`lifetime_utility`
    on ``k_grid`` (default: ``points`` log-spaced points covering both policies' ergodic
    sets with a 25% margin), interpolated linearly in ``log k`` at ``k0``.

    Examples
    --------
    Saving 90% of the optimal Brock--Mirman share costs, in every state,
    ``((1 - ab) / (1 - s)) (ab / s)^(ab / (1 - ab)) - 1`` of consumption:

    >>> from marketsai.solvers.growth import brock_mirman_calibration
    >>> m = brock_mirman_calibration()
    >>> ab = m.alpha * m.beta
    >>> rule = lambda s: (lambda k, iz: s * m.z_values[iz] * k ** m.alpha)
    >>> loss = welfare_loss(m, rule(0.9 * ab), rule(ab), points=200)
    >>> s = 0.9 * ab
    >>> exact = 100 * ((1 - ab) / (1 - s) * (ab / s) ** (ab / (1 - ab)) - 1)
    >>> round(loss, 6), round(exact, 6)
    (0.410023, 0.410023)
    """
    g = _default_grid(model, (savings, reference_savings), points) if k_grid is None else \
        np.asarray(k_grid, np.float64)
    k0 = model.steady_state()[0] if k0 is None else float(k0)
    pi = model.z.stationary()

    def ex_ante(f):
        V = lifetime_utility(model, f, g)
        return float(pi @ np.array([np.interp(np.log(k0), np.log(g), V[e]) for e in range(len(pi))]))

    v_pol, v_ref = ex_ante(savings), ex_ante(reference_savings)
    if model.gamma == 1.0:
        lam = np.expm1((1.0 - model.beta) * (v_ref - v_pol))
    else:
        K = 1.0 / ((1.0 - model.gamma) * (1.0 - model.beta))
        lam = ((v_ref + K) / (v_pol + K)) ** (1.0 / (1.0 - model.gamma)) - 1.0
    return float(100.0 * lam)
