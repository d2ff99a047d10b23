"""Discretisations that build :class:`~marketsai.processes.chain.MarkovChain` s.

Why: continuous AR(1) processes are discretised here once (Rouwenhorst, Tauchen), and the
Krusell--Smith ``(z, e)`` chain is built here from its calibration targets, so every
learner, solver and simulator uses the same grids and transition matrices.

Examples
--------
>>> mc = rouwenhorst(5, rho=0.9, sigma=0.1)
>>> mc.n_states, mc.fields
(5, ('z',))
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from marketsai.processes.chain import MarkovChain


def _check_ar1(n, rho, sigma):
    if not (isinstance(n, int | np.integer) and n >= 2):
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    if not abs(rho) < 1:
        raise ValueError(f"rho must satisfy |rho| < 1, got {rho!r}")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")


def rouwenhorst(n: int, rho: float, sigma: float, mean: float = 0.0, field: str = "z",
                log: bool = False) -> MarkovChain:
    """Rouwenhorst (1995) discretisation of ``y' = (1 - rho) mean + rho y + sigma eps``.

    The grid is ``mean + linspace(-psi, psi, n)`` with ``psi = sigma_y sqrt(n - 1)``,
    ``sigma_y = sigma / sqrt(1 - rho^2)``; state ``i`` is ``i`` "high" coins out of
    ``n - 1``, each staying high with probability ``p = (1 + rho) / 2`` and each low coin
    turning high with ``1 - p``.  So row ``i`` of ``P`` is the law of
    ``Bin(i, p) + Bin(n - 1 - i, 1 - p)`` (a convolution of two binomials, all terms
    positive: exact to rounding), the stationary law is ``Bin(n - 1, 1/2)``, and the chain's
    variance and autocorrelation equal the AR(1)'s exactly for every ``n``.  Cost about
    ``n^3 / 12`` multiply-adds (n = 1000: 0.06 s, n = 4000: 2 s).
    ``log=True`` makes the values ``exp(y)`` (e.g. TFP with ``y = log z``).

    >>> mc = rouwenhorst(3, 0.5, 1.0)
    >>> mc.P.round(4).tolist()
    [[0.5625, 0.375, 0.0625], [0.1875, 0.625, 0.1875], [0.0625, 0.375, 0.5625]]
    """
    _check_ar1(n, rho, sigma)
    p = (1.0 + rho) / 2.0
    B = np.zeros((n, n))  # B[b, k] = Pr(Bin(b, p) = k)
    B[0, 0] = 1.0
    for b in range(1, n):
        B[b, :b + 1] = (1.0 - p) * B[b - 1, :b + 1]
        B[b, 1:b + 1] += p * B[b - 1, :b]
    P = np.empty((n, n))
    for i in range((n + 1) // 2):  # Bin(n-1-i, 1-p) is Bin(n-1-i, p) reversed
        P[i] = np.convolve(B[i, :i + 1], B[n - 1 - i, :n - i][::-1])
    P[(n + 1) // 2:] = P[:n // 2][::-1, ::-1]  # the chain is symmetric: P[n-1-i, n-1-j] = P[i, j]
    psi = sigma / math.sqrt(1.0 - rho**2) * math.sqrt(n - 1)
    y = mean + np.linspace(-psi, psi, n)
    k = np.arange(n)
    logpi = np.array([math.lgamma(n) - math.lgamma(j + 1) - math.lgamma(n - j) for j in k])
    pi = np.exp(logpi - (n - 1) * math.log(2.0))
    return MarkovChain(np.exp(y) if log else y, P / P.sum(axis=1, keepdims=True), pi / pi.sum(), (field,))


@njit(cache=True)
def _tauchen_P(y, rho, sigma, step):
    n = y.shape[0]
    P = np.empty((n, n))
    r2 = math.sqrt(2.0)
    for i in range(n):
        for j in range(n):
            lo = -np.inf if j == 0 else (y[j] - rho * y[i] - step / 2) / sigma
            hi = np.inf if j == n - 1 else (y[j] - rho * y[i] + step / 2) / sigma
            if lo > 0:  # upper tail: difference of survival functions keeps the digits
                P[i, j] = 0.5 * (math.erfc(lo / r2) - math.erfc(hi / r2))
            else:
                P[i, j] = 0.5 * (math.erfc(-hi / r2) - math.erfc(-lo / r2))
    return P


def tauchen(n: int, rho: float, sigma: float, mean: float = 0.0, n_std: float = 3.0,
            field: str = "z", log: bool = False) -> MarkovChain:
    """Tauchen (1986) discretisation of ``y' = (1 - rho) mean + rho y + sigma eps``.

    Evenly spaced grid over ``mean +- n_std sigma_y`` (``sigma_y = sigma / sqrt(1 - rho^2)``);
    ``P[i, j]`` is the normal probability of landing in the cell around ``y_j`` (end cells
    open).  Its variance is biased (upward for coarse grids); the bias shrinks as ``n``
    grows -- prefer :func:`rouwenhorst` for persistent processes.

    >>> mc = tauchen(5, 0.5, 1.0)
    >>> bool(np.allclose(mc.P.sum(axis=1), 1)), round(mc.mean("z"), 12)
    (True, 0.0)
    """
    _check_ar1(n, rho, sigma)
    if not n_std > 0:
        raise ValueError(f"n_std must be > 0, got {n_std!r}")
    half = n_std * sigma / math.sqrt(1.0 - rho**2)
    dev = np.linspace(-half, half, n)
    P = _tauchen_P(dev, float(rho), float(sigma), float(dev[1] - dev[0]))
    y = mean + dev
    return MarkovChain(np.exp(y) if log else y, P / P.sum(axis=1, keepdims=True), None, (field,))


def krusell_smith_chain(z_values=(0.99, 1.01), unemployment=(0.10, 0.04), duration_z: float = 8.0,
                        duration_unemployment=(2.5, 1.5), ratio_bad_good: float = 0.75,
                        ratio_good_bad: float = 1.25) -> MarkovChain:
    """The 4-state ``(z, e)`` chain of Krusell & Smith (1998).

    States ``(bad, u), (bad, e), (good, u), (good, e)``; fields ``("z", "e")`` with
    ``e = 0`` unemployed, ``1`` employed; ``z`` aggregate.  ``P[(z,e), (z',e')] =
    pi(z'|z) p(e'|e, z, z')`` with

    * ``pi(z|z) = 1 - 1/duration_z`` (mean duration of a regime; 8 -> 0.875);
    * ``p(u'|u, z, z) = 1 - 1/duration_unemployment[z]`` (mean spell 2.5 / 1.5 -> 0.6, 1/3);
    * KS's conventions across regimes: ``p(u'|u, b->g) = ratio_bad_good p(u'|u, g->g)``
      (0.75 * 1/3 = 0.25), ``p(u'|u, g->b) = ratio_good_bad p(u'|u, b->b)`` (1.25 * 0.6 = 0.75);
    * ``p(u'|e, z, z')`` set so that unemployment after the move is exactly ``u(z')``:
      ``u_z p(u'|u,z,z') + (1 - u_z) p(u'|e,z,z') = u_z'`` (0.0444, 0.0278, 0.0167, 0.0729
      for bb, gg, bg, gb).

    Raises ValueError when the targets imply a probability outside [0, 1].

    >>> ks = krusell_smith_chain()
    >>> ks.P.round(4).tolist()[0], ks.fields, ks.aggregate
    ([0.525, 0.35, 0.0312, 0.0938], ('z', 'e'), ('z',))
    >>> ks.marginal("z").P.tolist()
    [[0.875, 0.125], [0.125, 0.875]]
    """
    (zb, zg), u = map(float, z_values), tuple(map(float, unemployment))
    if zb == zg or not all(0 < v < 1 for v in u) or duration_z < 1 or min(duration_unemployment) < 1:
        raise ValueError("need distinct z values, unemployment rates in (0, 1) and durations >= 1")
    stay_z = 1.0 - 1.0 / duration_z
    pi_z = np.array([[stay_z, 1 - stay_z], [1 - stay_z, stay_z]])
    stay_u = [1.0 - 1.0 / d for d in duration_unemployment]
    puu = np.array([[stay_u[0], ratio_bad_good * stay_u[1]], [ratio_good_bad * stay_u[0], stay_u[1]]])
    P = np.zeros((4, 4))
    for z in (0, 1):
        for z2 in (0, 1):
            peu = (u[z2] - u[z] * puu[z, z2]) / (1.0 - u[z])
            if not (0 <= puu[z, z2] <= 1 and 0 <= peu <= 1):
                raise ValueError(f"targets imply p(u'|u)={puu[z, z2]:.4g}, p(u'|e)={peu:.4g} "
                                 f"for z={z} -> z'={z2}: not probabilities")
            block = [[puu[z, z2], 1 - puu[z, z2]], [peu, 1 - peu]]
            P[2 * z:2 * z + 2, 2 * z2:2 * z2 + 2] = pi_z[z, z2] * np.array(block)
    values = [[zb, 0.0], [zb, 1.0], [zg, 0.0], [zg, 1.0]]
    return MarkovChain(values, P, None, ("z", "e"), ("z",))
