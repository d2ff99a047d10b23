"""Krusell & Smith (1998): the reference solution of the heterogeneous-household economy.

A continuum of households with capital ``k`` and employment ``e`` (0 unemployed, 1 employed)
faces aggregate TFP ``z`` (bad, good) and the 4-state ``(z, e)`` chain of
:func:`~marketsai.processes.krusell_smith_chain`.  Competitive factor prices are marginal
products of ``Y = z K^alpha L^(1-alpha)``, ``L = l_bar (1 - u_z)``:
``r = alpha z (K/L)^(alpha-1)``, ``w = (1-alpha) z (K/L)^alpha``.  A household's cash on hand
is

    m = (1 + r - delta) k + w [ (1 - tau_z) l_bar e + mu (1 - e) ],

with an unemployment benefit ``mu w`` financed by a labour-income tax
``tau_z = mu u_z / (l_bar (1 - u_z))`` (the budget balances every period; ``mu = 0`` is
KS's benchmark), and it chooses ``k' = m - c >= 0`` to maximise ``E sum beta^t u(c_t)``
(CRRA, log at ``gamma = 1``).  Households forecast ``K`` with the log-linear law of motion
``ln K' = b0(z) + b1(z) ln K``.

Algorithm (:func:`solve_krusell_smith`):

1. *Household problem* by the endogenous grid method (Carroll 2006) given the law of motion:
   consumption ``c(m; z, e, K)`` on an exogenous grid of savings ``a = k'`` for each
   ``(z, e)`` and each node of an aggregate-capital grid; linear in ``m`` between the
   endogenous nodes, linear in ``K`` between the ``K`` nodes, and ``k' = 0`` (``c = m``)
   below the first node (the borrowing constraint).  With ``mu = 0`` an unemployed household
   with nothing would consume nothing, so nobody ever saves zero and the constraint never
   binds (the first node is ``m = 0``).
2. *Simulation* by the non-stochastic histogram method (Young 2010) on a fine capital grid:
   a continuum of households, so aggregate capital has no sampling noise and the
   unemployment rate is exactly ``u_z`` every period; policies ``k'`` off the grid are split
   between the two neighbouring grid points in the proportions that preserve the mean
   (aggregate capital equals the integral of the policies exactly).  One path of ``z`` is
   drawn once from the chain and kept through the iterations.
3. *Regression* of ``ln K_{t+1}`` on ``ln K_t`` separately for ``z_t`` bad and good over the
   kept periods, and a damped update of ``(b0, b1)`` until the regression reproduces the
   coefficients households used.

Reported (:class:`KrusellSmithSolution`): the coefficients, R^2, the Den Haan (2010)
accuracy statistic (the law of motion iterated on its own along a fresh path of ``z``,
against the histogram's ``K``: mean and max absolute log difference in percent), the mean
and SD of ``K``, the wealth distribution (quantiles, Gini, top shares) and the wall time.

Labour endowment: KS's published coefficients (``docs/krusell_smith.md``) are for
``l_bar = 0.3271`` (hours; HARK's ``LbrInd``, recovered from KS's numbers), which puts ``K``
near 11.5; the den Haan, Judd & Juillard (2010) comparison uses ``l_bar = 1/0.9`` (so that
``L = 1`` in the bad state) with ``mu = 0.15``: :func:`jedc_calibration`.

>>> m = KrusellSmithModel()
>>> round(m.tau(0), 12), m.L.round(4).tolist()
(0.0, [0.2944, 0.314])
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numba as nb
import numpy as np

from marketsai.processes import MarkovChain, krusell_smith_chain
from marketsai.solvers.egm import linear_above_first

__all__ = ["KrusellSmithModel", "KrusellSmithPolicy", "KrusellSmithSolution", "jedc_calibration",
           "solve_household", "simulate_histogram", "solve_krusell_smith", "wealth_stats",
           "den_haan_error", "euler_errors", "euler_error_stats", "initial_distribution", "step_distribution", "PUBLISHED_ALM", "HARK_ALM"]

#: Krusell & Smith (1998): ``ln K' = b0 + b1 ln K``, rows bad / good (docs/references.md).
PUBLISHED_ALM = np.array([[0.085, 0.965], [0.095, 0.962]])
#: econ-ark HARK's replication (same source).
HARK_ALM = np.array([[0.0837, 0.9649], [0.0946, 0.9626]])


def _power_grid(lo, hi, n, curv):
    return lo + (hi - lo) * np.linspace(0.0, 1.0, n) ** curv


@dataclass(frozen=True, eq=False)
class KrusellSmithModel:
    """Parameters of the Krusell--Smith economy and of its numerical grids.

    Economics: ``beta, alpha, delta, gamma`` (CRRA; 1 = log); ``z_values`` (bad, good);
    ``unemployment`` rates (bad, good); ``duration_z`` (mean quarters in a regime);
    ``duration_unemployment`` (mean unemployment spell, bad, good); ``ratio_bad_good``,
    ``ratio_good_bad`` (KS's conventions for ``p(u'|u)`` across regimes, see
    :func:`~marketsai.processes.krusell_smith_chain`); ``l_bar`` (labour endowment of an
    employed household); ``mu`` (unemployment benefit as a fraction of the wage ``w``,
    financed by the balancing tax :meth:`tau`).

    Grids: ``n_a`` savings nodes of the EGM on ``[0, k_max]`` (power spacing ``a_curv``);
    ``n_K`` aggregate-capital nodes on ``K_bounds`` times :meth:`K_rep` (the
    representative-agent steady state); ``n_dist`` points of the histogram grid (spacing
    ``dist_curv``).  ``k_max`` defaults to ``8 K_rep`` (in the KS calibration the
    time-averaged mass above ``7 K_rep`` is about 1e-11).

    >>> m = KrusellSmithModel(mu=0.15, l_bar=1 / 0.9)
    >>> round(m.tau(0), 6), round(m.tau(1), 6)
    (0.015, 0.005625)
    """

    beta: float = 0.99
    alpha: float = 0.36
    delta: float = 0.025
    gamma: float = 1.0
    z_values: tuple = (0.99, 1.01)
    unemployment: tuple = (0.10, 0.04)
    duration_z: float = 8.0
    duration_unemployment: tuple = (2.5, 1.5)
    ratio_bad_good: float = 0.75
    ratio_good_bad: float = 1.25
    l_bar: float = 0.3271
    mu: float = 0.0
    n_a: int = 200
    a_curv: float = 3.0
    k_max: float | None = None
    n_K: int = 8
    K_bounds: tuple = (0.80, 1.20)
    n_dist: int = 1000
    dist_curv: float = 2.5
    chain: MarkovChain = field(init=False, repr=False)

    def __post_init__(self):
        for name, lo, hi in (("alpha", 0.0, 1.0), ("beta", 0.0, 1.0), ("delta", 0.0, 1.0)):
            v = float(getattr(self, name))
            if not lo < v <= hi or (name != "delta" and v == hi):
                raise ValueError(f"KrusellSmithModel.{name} must be in ({lo}, {hi}), got {v}")
            object.__setattr__(self, name, v)
        if not float(self.gamma) > 0 or not float(self.l_bar) > 0 or not float(self.mu) >= 0:
            raise ValueError("need gamma > 0, l_bar > 0 and mu >= 0")
        if self.n_a < 4 or self.n_K < 2 or self.n_dist < 10:
            raise ValueError("need n_a >= 4, n_K >= 2, n_dist >= 10")
        lo, hi = map(float, self.K_bounds)
        if not 0 < lo < 1 < hi:
            raise ValueError(f"K_bounds must bracket 1, got {self.K_bounds}")
        for name in ("gamma", "l_bar", "mu", "a_curv", "dist_curv"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "z_values", tuple(map(float, self.z_values)))
        object.__setattr__(self, "unemployment", tuple(map(float, self.unemployment)))
        object.__setattr__(self, "chain", krusell_smith_chain(
            self.z_values, self.unemployment, self.duration_z, self.duration_unemployment,
            self.ratio_bad_good, self.ratio_good_bad))
        if self.mu > 0 and np.any(self.tau(np.arange(2)) >= 1):
            raise ValueError("the benefit needs a labour tax >= 100%: lower mu")

    @classmethod
    def from_economy(cls, econ, **grids) -> KrusellSmithModel:
        """The model of a Krusell–Smith economy file (``economies/krusell_smith.yaml`` or a variant).

        Reads the discount, the household's ``gamma``, ``delta`` and ``hours`` (the labour
        endowment ``l_bar``), the firm's Cobb–Douglas ``alpha`` and ``tfp`` (scaling ``z``),
        and the ``krusell_smith`` process (``z_values``, unemployment rates, durations).
        The household's ``benefit`` is ``mu`` (its tax balances the government budget in
        every period, as here); ``grids`` sets the numerical keywords (``n_a``, ``n_K``, ...)
        or overrides any field. Raises ValueError for an economy that
        is not a KS economy (which field does not fit).
        """
        spec = econ.spec
        households = [a for a in spec.agents if a.type == "household"]
        firms = [a for a in spec.agents if a.type == "competitive_firm"]
        ks = [p for p in econ.processes.values() if p.spec.get("kind") == "krusell_smith"]
        if len({a.params["hours"] for a in households}) != 1 or not households:
            raise ValueError("a KS economy needs households of one calibration (agents[].type household)")
        if len(firms) != 1 or firms[0].params.get("technology") != "cobb_douglas":
            raise ValueError("a KS economy needs one competitive_firm with technology cobb_douglas")
        if len(ks) != 1 or ks[0].scope != "agent":
            raise ValueError("a KS economy needs one process of kind krusell_smith with scope agent")
        h, f, p = households[0].params, firms[0].params, ks[0].spec
        if float(h.get("psi", 0.0)) != 0.0:
            raise ValueError("the KS household supplies fixed hours (psi 0), got psi "
                             f"{h.get('psi')}")
        tfp = float(f.get("tfp", 1.0))
        fields = dict(beta=float(spec.discount), alpha=float(f["alpha"]), delta=float(h["delta"]),
                      gamma=float(h["gamma"]), l_bar=float(h["hours"]), mu=float(h.get("benefit", 0.0)),
                      z_values=tuple(tfp * float(z) for z in p["z_values"]),
                      unemployment=tuple(p["unemployment"]), duration_z=float(p["duration_z"]),
                      duration_unemployment=tuple(p["duration_unemployment"]),
                      ratio_bad_good=float(p["ratio_bad_good"]), ratio_good_bad=float(p["ratio_good_bad"]))
        return cls(**{**fields, **grids})

    # -------------------------------------------------------------- economics
    @property
    def P(self) -> np.ndarray:
        """The 4x4 ``(z, e)`` transition; states ``(b,u), (b,e), (g,u), (g,e)`` (``s = 2 iz + ie``)."""
        return np.ascontiguousarray(self.chain.P)

    @property
    def Pz(self) -> np.ndarray:
        """The 2x2 aggregate transition."""
        return np.ascontiguousarray(self.chain.marginal("z").P)

    @property
    def u(self) -> np.ndarray:
        return np.array(self.unemployment)

    @property
    def z(self) -> np.ndarray:
        return np.array(self.z_values)

    @property
    def L(self) -> np.ndarray:
        """Aggregate labour ``l_bar (1 - u_z)``, (bad, good)."""
        return self.l_bar * (1.0 - self.u)

    def tau(self, iz):
        """Labour-income tax that pays the benefit: ``mu u_z / (l_bar (1 - u_z))``."""
        u = self.u[np.asarray(iz)]
        t = self.mu * u / (self.l_bar * (1.0 - u))
        return float(t) if np.ndim(t) == 0 else t

    def prices(self, K, iz):
        """``(r, w)``: marginal products of capital and labour at aggregate ``K`` in state ``iz``."""
        iz = np.asarray(iz)
        k = np.asarray(K, np.float64) / self.L[iz]
        zz = self.z[iz]
        return self.alpha * zz * k ** (self.alpha - 1.0), (1.0 - self.alpha) * zz * k**self.alpha

    def output(self, K, iz):
        iz = np.asarray(iz)
        return self.z[iz] * np.asarray(K, np.float64) ** self.alpha * self.L[iz] ** (1.0 - self.alpha)

    def income(self, K, iz, ie):
        """Non-capital income ``w [(1 - tau_z) l_bar e + mu (1 - e)]``."""
        _, w = self.prices(K, iz)
        ie = np.asarray(ie)
        return w * np.where(ie == 1, (1.0 - self.tau(iz)) * self.l_bar, self.mu)

    def K_rep(self) -> float:
        """Representative-agent steady-state capital at ``z = 1`` and the mean unemployment rate."""
        kl = (self.alpha / (1.0 / self.beta - 1.0 + self.delta)) ** (1.0 / (1.0 - self.alpha))
        ubar = float(self.chain.marginal("z").stationary() @ self.u)
        return float(kl * self.l_bar * (1.0 - ubar))

    # -------------------------------------------------------------- grids
    @property
    def kmax(self) -> float:
        return float(self.k_max) if self.k_max is not None else 8.0 * self.K_rep()

    def a_grid(self) -> np.ndarray:
        return _power_grid(0.0, self.kmax, self.n_a, self.a_curv)

    def K_grid(self) -> np.ndarray:
        lo, hi = self.K_bounds
        return np.linspace(lo, hi, self.n_K) * self.K_rep()

    def dist_grid(self) -> np.ndarray:
        return _power_grid(0.0, self.kmax, self.n_dist, self.dist_curv)

    def _arrays(self):
        """(zv, uv, L, inc_coef (4,), P) for the kernels; income of state s is ``w * inc_coef[s]``."""
        inc = np.array([self.mu, (1.0 - self.tau(0)) * self.l_bar,
                        self.mu, (1.0 - self.tau(1)) * self.l_bar])
        return self.z, self.u, self.L, inc, self.P


def jedc_calibration(**kw) -> KrusellSmithModel:
    """The den Haan, Judd & Juillard (2010) comparison: ``l_bar = 1/0.9``, ``mu = 0.15``
    (other parameters as KS)."""
    kw = {"l_bar": 1.0 / 0.9, "mu": 0.15, **kw}
    return KrusellSmithModel(**kw)


# ======================================================================= kernels
@nb.njit(cache=True)
def _prices(K, iz, zv, L, alpha, delta):
    """(R = 1 + r - delta, w)."""
    kl = K / L[iz]
    return 1.0 + alpha * zv[iz] * kl ** (alpha - 1.0) - delta, (1.0 - alpha) * zv[iz] * kl**alpha


@nb.njit(cache=True)
def _bracket(x, grid):
    """(i, weight) with x ~ (1 - w) grid[i] + w grid[i+1]; linear extrapolation outside."""
    n = grid.shape[0]
    i = np.searchsorted(grid, x) - 1
    if i < 0:
        i = 0
    elif i > n - 2:
        i = n - 2
    return i, (x - grid[i]) / (grid[i + 1] - grid[i])


@nb.njit(cache=True)
def _c_at(m, Mn, Cn):
    """c(m) from nodes (Mn ascending, Cn): c = m below the first node (k' = 0), linear inside,
    linear extrapolation above the last node."""
    if m <= Mn[0]:
        return m
    return linear_above_first(m, Mn, Cn)


@nb.njit(cache=True)
def _c_walk_step(m, Mn, Cn, i):
    """One step of a merge walk over rising ``m``: ``(c(m), i)`` as :func:`_c_at`, the search
    for the segment resumed at node ``i`` (the ``i`` returned is where the next step resumes)."""
    if m <= Mn[0]:
        return m, i
    n_a = Mn.shape[0]
    while i < n_a - 2 and Mn[i + 1] < m:
        i += 1
    return Cn[i] + (m - Mn[i]) / (Mn[i + 1] - Mn[i]) * (Cn[i + 1] - Cn[i]), i


@nb.njit(cache=True)
def c_walk(m2, Mn, Cn, out):
    """c(m) at ascending m2 from nodes (Mn, Cn) as :func:`_c_at`, by one merge walk."""
    i = 0
    for q in range(m2.shape[0]):
        out[q], i = _c_walk_step(m2[q], Mn, Cn, i)


@nb.njit(cache=True)
def _egm(a, Kg, b, zv, L, inc, P, alpha, beta, delta, gamma, M, C, tol, max_iter):
    """Iterate the EGM operator on nodes (M, C)[s, j, i] (cash on hand / consumption that make
    saving a[i] optimal in state s at K = Kg[j]).  Returns (M, C, iterations, converged).

    Next period's ``K'`` depends on ``(z, K)`` only, so the discounted marginal values
    ``R' u'(c')`` of each next state are computed once per ``(z, K_j)`` and shared by the
    employed and the unemployed; ``m'`` rises with ``a``, so interpolation is a merge walk."""
    n_s, n_K, n_a = M.shape
    Mn = np.empty_like(M)
    Cn = np.empty_like(C)
    mu2 = np.empty((n_s, n_a))
    m2 = np.empty(n_a)
    c0 = np.empty(n_a)
    c1 = np.empty(n_a)
    for it in range(1, max_iter + 1):
        diff = 0.0
        for iz in range(2):
            for j in range(n_K):
                Kp = np.exp(b[iz, 0] + b[iz, 1] * np.log(Kg[j]))
                jj, wK = _bracket(Kp, Kg)
                for s2 in range(n_s):
                    R2, w2 = _prices(Kp, s2 // 2, zv, L, alpha, delta)
                    for i in range(n_a):
                        m2[i] = R2 * a[i] + w2 * inc[s2]
                    c_walk(m2, M[s2, jj], C[s2, jj], c0)
                    c_walk(m2, M[s2, jj + 1], C[s2, jj + 1], c1)
                    for i in range(n_a):
                        c2 = (1.0 - wK) * c0[i] + wK * c1[i]
                        if c2 <= 0.0:
                            mu2[s2, i] = np.inf
                        elif gamma == 1.0:
                            mu2[s2, i] = R2 / c2
                        else:
                            mu2[s2, i] = R2 * c2 ** (-gamma)
                for e in range(2):
                    s = 2 * iz + e
                    for i in range(n_a):
                        E = 0.0
                        for s2 in range(n_s):
                            if P[s, s2] != 0.0:
                                E += P[s, s2] * mu2[s2, i]
                        if E == np.inf:
                            c = 0.0
                        elif gamma == 1.0:
                            c = 1.0 / (beta * E)
                        else:
                            c = (beta * E) ** (-1.0 / gamma)
                        Cn[s, j, i] = c
                        Mn[s, j, i] = c + a[i]
                        d = abs(c - C[s, j, i]) / max(c, 1e-10)
                        if d > diff:
                            diff = d
        M[:, :, :] = Mn
        C[:, :, :] = Cn
        if diff < tol:
            return M, C, it, True
    return M, C, max_iter, False


@nb.njit(cache=True)
def _hist_step(D, iz, iz2, K, kd, Kg, M, C, zv, L, inc, P, alpha, delta, Dn, stats):
    """One period of the histogram: D (2, n) at state iz with aggregate K -> Dn at iz2.

    Each grid point's mass moves to ``k' = m - c(m; K)`` (``c`` linear in ``K`` between the
    two bracketing ``K`` nodes), split between the two grid points around ``k'`` so that
    the mean is kept, then across employment states with ``p(e'|e, z, z')``.  One merge walk
    per employment state: ``m`` and ``k'`` rise with ``k``.
    stats[:] = (integral of k', of consumption, mass whose k' passed kd[-1] (put there))."""
    n = kd.shape[0]
    R, w = _prices(K, iz, zv, L, alpha, delta)
    jj, wK = _bracket(K, Kg)
    Dn[:, :] = 0.0
    ksum = 0.0
    csum = 0.0
    clipped = 0.0
    for e in range(2):
        s = 2 * iz + e
        y = w * inc[s]
        M0, C0, M1, C1 = M[s, jj], C[s, jj], M[s, jj + 1], C[s, jj + 1]
        pu = P[s, 2 * iz2] / (P[s, 2 * iz2] + P[s, 2 * iz2 + 1])
        i0 = 0
        i1 = 0
        q = 0
        for i in range(n):
            mass = D[e, i]
            if mass == 0.0:
                continue
            m = R * kd[i] + y
            ca, i0 = _c_walk_step(m, M0, C0, i0)
            cb, i1 = _c_walk_step(m, M1, C1, i1)
            kp = m - ((1.0 - wK) * ca + wK * cb)
            if kp < 0.0:
                kp = 0.0
            ksum += mass * kp
            csum += mass * (m - kp)
            if kp >= kd[n - 1]:
                clipped += mass
                Dn[0, n - 1] += mass * pu
                Dn[1, n - 1] += mass * (1.0 - pu)
                continue
            if kd[q] > kp:  # k' rises with k, so this only happens off the fixed point
                q = 0
            while kd[q + 1] <= kp:
                q += 1
            wt = (kp - kd[q]) / (kd[q + 1] - kd[q])
            lo = mass * (1.0 - wt)
            hi = mass * wt
            Dn[0, q] += lo * pu
            Dn[0, q + 1] += hi * pu
            Dn[1, q] += lo * (1.0 - pu)
            Dn[1, q + 1] += hi * (1.0 - pu)
    stats[0] = ksum
    stats[1] = csum
    stats[2] = clipped


@nb.njit(cache=True)
def _simulate(D0, zpath, kd, Kg, M, C, zv, L, inc, P, alpha, delta, discard):
    """Histogram simulation along zpath; returns (K path (T,), final D, time-averaged D over
    t >= discard, max clipped mass, max |K' - sum of policies|)."""
    T = zpath.shape[0]
    n = kd.shape[0]
    D = D0.copy()
    Dn = np.empty_like(D)
    Dbar = np.zeros_like(D)
    stats = np.empty(3)
    Kpath = np.empty(T)
    clip_max = 0.0
    gap_max = 0.0
    for t in range(T):
        K = 0.0
        for e in range(2):
            for i in range(n):
                K += D[e, i] * kd[i]
        Kpath[t] = K
        if t >= discard:
            Dbar += D
        if t > 0:
            g = abs(K - stats[0])
            if g > gap_max:
                gap_max = g
        if t == T - 1:
            break
        _hist_step(D, zpath[t], zpath[t + 1], K, kd, Kg, M, C, zv, L, inc, P, alpha, delta,
                   Dn, stats)
        if stats[2] > clip_max:
            clip_max = stats[2]
        D, Dn = Dn, D
    if T > discard:
        Dbar /= T - discard
    return Kpath, D, Dbar, clip_max, gap_max


# ======================================================================= python API
@dataclass(frozen=True, eq=False)
class KrusellSmithPolicy:
    """Consumption ``c(m; s, K)`` on EGM nodes ``(M, C)[s, j, i]`` (``s = 2 iz + ie``, ``K = K_grid[j]``,
    savings ``a_grid[i]``), solved given the law-of-motion coefficients ``b``."""

    model: KrusellSmithModel
    b: np.ndarray
    a_grid: np.ndarray
    K_grid: np.ndarray
    M: np.ndarray
    C: np.ndarray
    iterations: int
    converged: bool

    def consumption(self, k, K, iz, ie):
        """``c(k; z, e, K)`` for arrays ``k`` at scalar ``K, iz, ie``."""
        m = self.model
        k = np.atleast_1d(np.asarray(k, np.float64))
        R = 1.0 + m.prices(K, iz)[0] - m.delta
        cash = R * k + m.income(K, iz, ie)
        s = 2 * int(iz) + int(ie)
        j, w = _bracket(float(K), self.K_grid)
        c = np.array([(1 - w) * _c_at(x, self.M[s, j], self.C[s, j]) + w * _c_at(x, self.M[s, j + 1],
                      self.C[s, j + 1]) for x in cash])
        return c

    def savings(self, k, K, iz, ie):
        m = self.model
        k = np.atleast_1d(np.asarray(k, np.float64))
        cash = (1.0 + m.prices(K, iz)[0] - m.delta) * k + m.income(K, iz, ie)
        return np.maximum(cash - self.consumption(k, K, iz, ie), 0.0)


def solve_household(model: KrusellSmithModel, b, guess: KrusellSmithPolicy | None = None,
                    tol: float = 1e-9, max_iter: int = 20_000) -> KrusellSmithPolicy:
    """The household's policy by EGM given ``b[iz] = (b0, b1)``; ``guess`` warm-starts it."""
    b = np.ascontiguousarray(b, dtype=np.float64).reshape(2, 2)
    a, Kg = model.a_grid(), model.K_grid()
    zv, _, L, inc, P = model._arrays()
    if guess is not None:
        M, C = guess.M.copy(), guess.C.copy()
    else:  # consume the return on wealth plus income: c = r a + y, a rough but monotone start
        R, w = _prices(Kg.mean(), 0, zv, L, model.alpha, model.delta)
        C = np.empty((4, Kg.size, a.size))
        for s in range(4):
            C[s] = (R - 1.0) * a[None, :] + w * inc[s] + 1e-3
        M = C + a[None, None, :]
    M, C, it, ok = _egm(a, Kg, b, zv, L, inc, P, model.alpha, model.beta, model.delta, model.gamma,
                        M, C, float(tol), int(max_iter))
    if np.any(np.diff(M, axis=2) <= 0):
        raise RuntimeError("EGM produced non-monotone cash-on-hand nodes; refine a_grid")
    return KrusellSmithPolicy(model, b, a, Kg, M, C, int(it), bool(ok))


def initial_distribution(model: KrusellSmithModel, iz0: int, K0: float | None = None) -> np.ndarray:
    """Everybody at ``K0`` (default :meth:`~KrusellSmithModel.K_rep`), unemployed share ``u_z0``."""
    kd = model.dist_grid()
    K0 = model.K_rep() if K0 is None else float(K0)
    q = int(np.searchsorted(kd, K0)) - 1
    w = (K0 - kd[q]) / (kd[q + 1] - kd[q])
    D = np.zeros((2, kd.size))
    u = model.unemployment[iz0]
    for e, mass in ((0, u), (1, 1.0 - u)):
        D[e, q], D[e, q + 1] = mass * (1 - w), mass * w
    return D


def simulate_histogram(policy: KrusellSmithPolicy, zpath, D0=None, discard: int = 0):
    """Histogram simulation: ``(K path, final D, time-averaged D, max clipped mass, max gap)``.

    ``gap`` is ``max_t |K_{t+1} - sum of policies k'_t|`` (zero to rounding: the lottery
    preserves the mean); ``clipped`` the largest mass whose ``k'`` passed the top of the grid."""
    m = policy.model
    zpath = np.ascontiguousarray(zpath, dtype=np.int64)
    D0 = initial_distribution(m, int(zpath[0])) if D0 is None else np.ascontiguousarray(D0, np.float64)
    zv, _, L, inc, P = m._arrays()
    return _simulate(D0, zpath, m.dist_grid(), policy.K_grid, policy.M, policy.C, zv, L, inc, P,
                     m.alpha, m.delta, int(discard))


def step_distribution(policy: KrusellSmithPolicy, D, iz: int, iz_next: int) -> dict:
    """One histogram period with its aggregates (for budget and market-clearing checks).

    Returns ``D_next``, ``K`` (from ``D``), ``K_next`` (from ``D_next``), ``sum_kp`` (the
    integral of the policies), ``C``, ``Y``, ``r``, ``w``, ``taxes``, ``benefits``,
    ``unemployment_next`` and ``clipped``."""
    m = policy.model
    kd = m.dist_grid()
    D = np.ascontiguousarray(D, np.float64)
    K = float(D.sum(axis=0) @ kd)
    zv, _, L, inc, P = m._arrays()
    Dn = np.empty_like(D)
    stats = np.empty(3)
    _hist_step(D, int(iz), int(iz_next), K, kd, policy.K_grid, policy.M, policy.C, zv, L, inc, P,
               m.alpha, m.delta, Dn, stats)
    r, w = m.prices(K, iz)
    emp = float(D[1].sum())
    return {"D_next": Dn, "K": K, "K_next": float(Dn.sum(axis=0) @ kd), "sum_kp": float(stats[0]),
            "C": float(stats[1]), "Y": float(m.output(K, iz)), "r": float(r), "w": float(w),
            "taxes": float(m.tau(iz) * w * m.l_bar * emp), "benefits": float(m.mu * w * D[0].sum()),
            "unemployment": float(D[0].sum()), "unemployment_next": float(Dn[0].sum()),
            "clipped": float(stats[2])}


def alm_regression(Kpath, zpath, discard):
    lk = np.log(Kpath)
    x, y, zt = lk[discard:-1], lk[discard + 1:], zpath[discard:-1]
    b = np.empty((2, 2))
    r2 = np.empty(2)
    for iz in range(2):
        sel = zt == iz
        X = np.column_stack([np.ones(sel.sum()), x[sel]])
        coef, *_ = np.linalg.lstsq(X, y[sel], rcond=None)
        resid = y[sel] - X @ coef
        r2[iz] = 1.0 - resid @ resid / np.sum((y[sel] - y[sel].mean()) ** 2)
        b[iz] = coef
    return b, r2


def den_haan_error(b, Kpath, zpath, start: int = 0) -> tuple[float, float]:
    """Den Haan (2010): iterate ``ln K' = b0(z) + b1(z) ln K`` on its own from ``K[start]`` along
    ``zpath`` and return (mean, max) of ``100 |ln K_alm - ln K|`` over ``t >= start``."""
    b = np.asarray(b, np.float64)
    lk = np.log(np.asarray(Kpath, np.float64)[start:])
    z = np.asarray(zpath)[start:]
    la = np.empty_like(lk)
    la[0] = lk[0]
    for t in range(lk.size - 1):
        la[t + 1] = b[z[t], 0] + b[z[t], 1] * la[t]
    e = 100.0 * np.abs(la - lk)
    return float(e.mean()), float(e.max())


def wealth_stats(D, kd) -> dict:
    """Quantiles (10, 25, 50, 75, 90, 99 %), Gini, top 1 % and 10 % wealth shares and the
    share of households with (almost) no wealth, of the distribution ``D`` (2, n) on ``kd``."""
    p = np.asarray(D).sum(axis=0)
    p = p / p.sum()
    cdf = np.cumsum(p)
    wealth = p * kd
    mean = wealth.sum()
    L = np.cumsum(wealth) / mean
    Lprev = np.concatenate([[0.0], L[:-1]])
    gini = 1.0 - float(np.sum(p * (L + Lprev)))

    def quantile(q):
        i = int(np.searchsorted(cdf, q))
        return float(kd[min(i, kd.size - 1)])

    def top_share(f):  # wealth share of the richest fraction f (mass split at the cut)
        below = 1.0 - f
        i = int(np.searchsorted(cdf, below))
        above = wealth[i + 1:].sum() + (cdf[i] - below) * kd[i]
        return float(above / mean)

    qs = {f"p{int(round(100 * q))}": quantile(q) for q in (0.10, 0.25, 0.50, 0.75, 0.90, 0.99)}
    return {"mean": float(mean), **qs, "gini": gini, "top1": top_share(0.01), "top10": top_share(0.10),
            "share_below_1pct_mean": float(p[kd < 0.01 * mean].sum())}


def euler_errors(policy: KrusellSmithPolicy, b, k, K: float, iz: int, ie: int) -> np.ndarray:
    """Unit-free Euler errors ``|1 - u'^-1(beta E[R' u'(c')]) / c|`` at capital ``k`` (array)
    and aggregate ``K`` in state ``(iz, ie)``, households forecasting
    ``K' = exp(b0(z) + b1(z) ln K)``; ``log10`` of it is Judd's (1992) accuracy measure.
    ``nan`` where ``c = 0`` (an unemployed household with nothing when ``mu = 0``)."""
    m = policy.model
    b = np.asarray(b, np.float64).reshape(2, 2)
    k = np.atleast_1d(np.asarray(k, np.float64))
    c, kp = policy.consumption(k, K, iz, ie), policy.savings(k, K, iz, ie)
    Kp = float(np.exp(b[iz, 0] + b[iz, 1] * np.log(K)))
    s = 2 * int(iz) + int(ie)
    E = np.zeros_like(k)
    with np.errstate(divide="ignore", invalid="ignore"):
        for s2 in range(4):
            if m.P[s, s2] > 0:
                R2 = 1.0 + m.prices(Kp, s2 // 2)[0] - m.delta
                E += m.P[s, s2] * R2 * policy.consumption(kp, Kp, s2 // 2, s2 % 2) ** (-m.gamma)
        c_euler = (m.beta * E) ** (-1.0 / m.gamma)
        err = np.abs(1.0 - c_euler / c)
    # at the constraint (k' = 0, to rounding) the Euler equation is an inequality: c <= c_euler
    err = np.where((kp <= 1e-12 * (1.0 + k)) & (c <= c_euler), 0.0, err)
    return np.where(c > 0, err, np.nan)


def euler_error_stats(sol: KrusellSmithSolution, mass_floor: float = 1e-10) -> dict:
    """Mean (mass-weighted) and max ``log10`` Euler errors over the time-averaged distribution,
    at ``K`` = mean capital, in both aggregate states (grid points with mass above ``mass_floor``)."""
    kd = sol.model.dist_grid()
    out, errs, wts = {}, [], []
    for iz in range(2):
        for ie in range(2):
            sel = sol.D_mean[ie] > mass_floor
            e = euler_errors(sol.policy, sol.b, kd[sel], sol.K_mean, iz, ie)
            errs.append(e)
            wts.append(sol.D_mean[ie][sel])
    e, w = np.concatenate(errs), np.concatenate(wts)
    ok = np.isfinite(e)
    e, w = e[ok], w[ok]
    le = np.log10(np.maximum(e, 1e-17))
    out["log10_mean"] = float(np.log10(np.sum(w * e) / np.sum(w)))
    out["log10_max"] = float(le.max())
    return out


@dataclass(frozen=True, eq=False)
class KrusellSmithSolution:
    """The solved economy.

    ``b`` (2, 2): rows bad / good, columns (b0, b1) of ``ln K' = b0 + b1 ln K``; ``r2`` (2,);
    ``den_haan_mean`` / ``den_haan_max``: Den Haan (2010) errors in percent on a fresh
    ``z`` path of ``T_test`` periods (``den_haan_in_sample`` the pair on the solution path);
    ``K_mean``, ``K_sd``: of aggregate capital over the kept periods; ``wealth``: see
    :func:`wealth_stats` (time-averaged cross-section); ``wall_time`` in seconds (solve
    only, without the fresh-path check); ``history``: the ``b`` of each outer iteration.
    """

    model: KrusellSmithModel
    b: np.ndarray
    r2: np.ndarray
    den_haan_mean: float
    den_haan_max: float
    den_haan_in_sample: tuple
    K_mean: float
    K_sd: float
    wealth: dict
    iterations: int
    converged: bool
    wall_time: float
    policy: KrusellSmithPolicy
    K_path: np.ndarray
    z_path: np.ndarray
    D_final: np.ndarray
    D_mean: np.ndarray
    clipped_max: float
    aggregation_gap: float
    history: np.ndarray

    def summary(self) -> dict:
        return {"b0_bad": float(self.b[0, 0]), "b1_bad": float(self.b[0, 1]),
                "b0_good": float(self.b[1, 0]), "b1_good": float(self.b[1, 1]),
                "r2_bad": float(self.r2[0]), "r2_good": float(self.r2[1]),
                "den_haan_mean_pct": self.den_haan_mean, "den_haan_max_pct": self.den_haan_max,
                "K_mean": self.K_mean, "K_sd": self.K_sd, "gini": self.wealth["gini"],
                "iterations": self.iterations, "converged": self.converged,
                "wall_time_s": self.wall_time}


def solve_krusell_smith(model: KrusellSmithModel | None = None, T: int = 11_000, discard: int = 1_000,
                        seed: int = 0, b0=None, damping: float = 0.3, tol: float = 1e-6,
                        max_iter: int = 200, egm_tol: float = 1e-9, T_test: int = 10_000,
                        z_path=None, verbose: bool = False) -> KrusellSmithSolution:
    """Solve the economy: EGM given ``b``, histogram simulation, regression, damped update.

    ``damping`` is the weight on the new regression coefficients (1 = no damping); stops
    when ``max |b_regression - b| < tol``.  ``b0`` the initial guess (default
    ``b1 = 0.95`` and ``b0`` putting the fixed point at :meth:`~KrusellSmithModel.K_rep`).
    The ``z`` path (``T`` periods, starting bad) is drawn once from the chain with
    ``seed`` (or given as ``z_path``, 0 bad / 1 good; ``T`` is then its length); the Den Haan
    check uses a fresh path drawn with ``seed + 1``.
    """
    model = KrusellSmithModel() if model is None else model
    if z_path is not None:
        zpath = np.ascontiguousarray(z_path, dtype=np.int64)
        if zpath.ndim != 1 or not set(np.unique(zpath).tolist()) <= {0, 1}:
            raise ValueError("z_path must be a 1-D path of 0 (bad) / 1 (good)")
        T = zpath.size
    if not 0 < damping <= 1 or T <= discard + 10:
        raise ValueError("need 0 < damping <= 1 and T > discard + 10")
    t0 = time.perf_counter()
    zchain = model.chain.marginal("z")
    if z_path is None:
        zpath = zchain.simulate(T, np.random.default_rng(seed), init=0)
    if b0 is None:
        b = np.array([[0.05 * np.log(model.K_rep()), 0.95]] * 2)
    else:
        b = np.array(b0, dtype=np.float64).reshape(2, 2)
    pol, history, ok, dist = None, [b.copy()], False, np.inf
    for it in range(1, max_iter + 1):
        # loose household tolerance while b is far from its fixed point, egm_tol near it
        pol = solve_household(model, b, pol, tol=max(egm_tol, min(1e-6, 1e-3 * dist)))
        Kpath, D, Dbar, clip, gap = simulate_histogram(pol, zpath, discard=discard)
        b_reg, r2 = alm_regression(Kpath, zpath, discard)
        dist = float(np.max(np.abs(b_reg - b)))
        if verbose:
            print(f"it {it:3d} b={b_reg.round(6).tolist()} r2={r2.round(8).tolist()} dist={dist:.2e}")
        if dist < tol:
            b, ok = b_reg, True
            history.append(b.copy())
            break
        b = damping * b_reg + (1.0 - damping) * b
        history.append(b.copy())
    # the reported policy is the one solved for the reported coefficients (within tol)
    wall = time.perf_counter() - t0
    dh_in = den_haan_error(b, Kpath, zpath, start=discard)
    ztest = zchain.simulate(T_test + discard, np.random.default_rng(seed + 1), init=0)
    Ktest, *_ = simulate_histogram(pol, ztest, discard=discard)
    dh_mean, dh_max = den_haan_error(b, Ktest, ztest, start=discard)
    Kk = Kpath[discard:]
    return KrusellSmithSolution(
        model=model, b=b, r2=r2, den_haan_mean=dh_mean, den_haan_max=dh_max,
        den_haan_in_sample=dh_in, K_mean=float(Kk.mean()), K_sd=float(Kk.std()),
        wealth=wealth_stats(Dbar, model.dist_grid()), iterations=it, converged=ok, wall_time=wall,
        policy=pol, K_path=Kpath, z_path=zpath, D_final=D, D_mean=Dbar, clipped_max=float(clip),
        aggregation_gap=float(gap), history=np.array(history))
