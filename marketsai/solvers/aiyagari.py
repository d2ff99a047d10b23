"""Aiyagari (1994): the stationary equilibrium of households with uninsured income risk.

A continuum of households, each with labour endowment ``z`` following a finite Markov
chain (no aggregate risk), hold assets ``a >= -phi`` (the borrowing limit ``phi``),
earn ``(1 + r) a + w z`` and choose ``a' = (1 + r) a + w z - c`` to maximise
``E sum beta^t u(c_t)`` (CRRA, log at ``gamma = 1``).  Assets are claims on capital rented
to a competitive firm with ``Y = A K^alpha L^(1-alpha)``, so ``r = F_K - delta`` and
``w = F_L``: given ``r`` the firm demands ``K_d(r) = L (alpha A / (r + delta))^(1/(1-alpha))``
and pays ``w(r) = (1 - alpha) A (K_d / L)^alpha``.  ``L`` is the households' mean
endowment under the stationary chain (``labour=None``: the labour market clears) or a
given number (QuantEcon's lecture fixes ``N = 1``).

The equilibrium (:func:`solve_aiyagari`) is the ``r`` at which the households' asset
supply ``K_s(r)`` -- the mean of the stationary distribution of their assets -- equals
``K_d(r)``:

1. *household problem* at ``(r, w)`` by the endogenous grid method (Carroll 2006) on a grid
   of savings, in assets above the limit ``b = a + phi >= 0`` so that the constraint is
   ``b' >= 0`` and the interpolation helper of :mod:`~marketsai.solvers.krusell_smith`
   (``c = x`` below the first node) applies unchanged; cash on hand is
   ``x = (1 + r) b + w z - r phi``; savings are capped at ``a_max`` (the grid's top, as on
   QuantEcon's DiscreteDP grid), where the linear extrapolation would save more;
2. *stationary distribution* by Young's (2010) histogram method on a fine asset grid:
   each node's mass moves to ``b'(b, z)``, split between the two neighbouring grid points
   so that the mean is kept, then across ``z'``; iterated to its fixed point;
3. *market clearing* by bisection on ``r`` in ``(r_lo, 1/beta - 1)``: ``K_s`` rises with
   ``r`` (towards the grid's top as ``r -> 1/beta - 1``), ``K_d`` falls.

>>> m = AiyagariModel()
>>> round(m.L, 6), round(float(m.wage(0.03)), 6)
(0.55, 1.346462)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numba as nb
import numpy as np

from marketsai.processes import MarkovChain
from marketsai.solvers.egm import inverse_euler
from marketsai.solvers.krusell_smith import c_walk  # c(x) on EGM nodes, c = x below the first

__all__ = ["AiyagariModel", "AiyagariPolicy", "AiyagariSolution", "household_policy",
           "stationary_distribution", "capital_supply", "solve_aiyagari"]


@dataclass(frozen=True, eq=False)
class AiyagariModel:
    """Parameters of the Aiyagari economy and of its grids (defaults: QuantEcon's lecture).

    Economics: ``beta``, ``alpha``, ``delta``, ``gamma`` (CRRA; 1 = log), ``tfp`` (``A``);
    the endowment chain ``z_values`` / ``P`` (rows: today's state); ``borrowing_limit``
    ``phi >= 0`` (``a' >= -phi``); ``labour`` ``L`` (None: the chain's stationary mean).
    Grids: ``n_a`` EGM savings nodes and ``n_dist`` histogram points on ``[-phi, a_max]``
    (power spacing ``a_curv`` / ``dist_curv``, dense near the limit, where policies bend).
    ``a_max`` is also a cap on savings, ``a' <= a_max``, known to the household (as on
    QuantEcon's DiscreteDP grid): the mass at the cap is reported, and a cap that binds
    (``at_cap > 0``) means ``a_max`` is part of the model solved.
    """

    beta: float = 0.96
    alpha: float = 0.33
    delta: float = 0.05
    gamma: float = 1.0
    tfp: float = 1.0
    z_values: tuple = (0.1, 1.0)
    P: tuple = ((0.9, 0.1), (0.1, 0.9))
    borrowing_limit: float = 0.0
    labour: float | None = None
    a_max: float = 20.0
    n_a: int = 200
    a_curv: float = 2.0
    n_dist: int = 1000
    dist_curv: float = 2.0

    def __post_init__(self):
        for name, lo, hi in (("alpha", 0.0, 1.0), ("beta", 0.0, 1.0), ("delta", 0.0, 1.0)):
            v = float(getattr(self, name))
            if not lo < v < hi and not (name == "delta" and v == hi):
                close = "]" if name == "delta" else ")"
                raise ValueError(f"AiyagariModel.{name} must be in ({lo}, {hi}{close}, got {v}")
            object.__setattr__(self, name, v)
        for name in ("gamma", "tfp", "a_max"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"AiyagariModel.{name} must be > 0, got {getattr(self, name)}")
            object.__setattr__(self, name, float(getattr(self, name)))
        if not float(self.borrowing_limit) >= 0:
            raise ValueError(f"AiyagariModel.borrowing_limit must be >= 0, got {self.borrowing_limit}")
        object.__setattr__(self, "borrowing_limit", float(self.borrowing_limit))
        chain = MarkovChain(np.asarray(self.z_values, float), np.asarray(self.P, float), fields=("z",))
        if np.any(chain.value("z") <= 0):
            raise ValueError(f"AiyagariModel.z_values must be > 0, got {self.z_values}")
        object.__setattr__(self, "z_values", tuple(map(float, self.z_values)))
        object.__setattr__(self, "P", tuple(tuple(map(float, row)) for row in self.P))
        object.__setattr__(self, "_chain", chain)
        if self.labour is not None and not float(self.labour) > 0:
            raise ValueError(f"AiyagariModel.labour must be > 0 or None, got {self.labour}")
        if self.n_a < 4 or self.n_dist < 10:
            raise ValueError("need n_a >= 4 and n_dist >= 10")

    @classmethod
    def from_economy(cls, econ, **grids) -> AiyagariModel:
        """The model of an Aiyagari economy file (``economies/aiyagari.yaml``).

        Reads the discount, the household's ``gamma``, ``delta``, ``hours`` and the process
        field it reads as labour efficiency (endowment ``z = hours * e``), the firm's
        Cobb--Douglas ``alpha`` and ``tfp``; the borrowing limit is 0 (``k' = s W > 0``)
        and ``L`` the stationary mean endowment (what the labour market clears at).
        ``grids`` overrides any field. Raises ValueError naming what does not fit.
        """
        spec = econ.spec
        hh = [a for a in spec.agents if a.type == "household"]
        firms = [a for a in spec.agents if a.type == "competitive_firm"]
        if not hh or any(a.params != hh[0].params for a in hh):
            raise ValueError("an Aiyagari economy needs households of one calibration (agents[].type household)")
        if len(firms) != 1 or firms[0].params.get("technology") != "cobb_douglas":
            raise ValueError("an Aiyagari economy needs one competitive_firm with technology cobb_douglas")
        h, f = hh[0].params, firms[0].params
        if float(h.get("psi", 0.0)) != 0.0 or float(h.get("benefit", 0.0)) != 0.0:
            raise ValueError("the Aiyagari household supplies fixed hours (psi 0) and gets no benefit")
        if f.get("productivity") is not None:
            raise ValueError("no aggregate risk: the firm's productivity must be null")
        field = h.get("efficiency")
        procs = [p for p in econ.processes.values() if field in p.chain.fields]
        if field is None or len(procs) != 1 or procs[0].scope != "agent" or len(procs[0].chain.fields) != 1:
            raise ValueError("the household's efficiency must be the one field of an agent-scope process")
        chain = procs[0].chain
        fields = dict(beta=float(spec.discount), alpha=float(f["alpha"]), tfp=float(f.get("tfp", 1.0)),
                      delta=float(h["delta"]), gamma=float(h["gamma"]),
                      z_values=tuple(float(h["hours"]) * chain.value(field)), P=chain.P.tolist())
        return cls(**{**fields, **grids})

    # -------------------------------------------------------------- economics
    @property
    def z(self) -> np.ndarray:
        return np.array(self.z_values)

    @property
    def chain(self) -> MarkovChain:
        """The endowment chain (field ``z``)."""
        return self._chain

    @property
    def Pm(self) -> np.ndarray:
        """The transition matrix as an array."""
        return np.ascontiguousarray(self._chain.P)

    @property
    def L(self) -> float:
        """Aggregate labour: ``labour`` or the stationary mean endowment."""
        return float(self._chain.mean("z")) if self.labour is None else float(self.labour)

    def capital_demand(self, r):
        """The firm's ``K_d(r)``, from ``F_K(K, L) = r + delta``."""
        return self.L * (self.alpha * self.tfp / (np.asarray(r) + self.delta)) ** (1.0 / (1.0 - self.alpha))

    def wage(self, r):
        """``w(r) = F_L`` at the capital intensity the firm chooses at ``r``."""
        kl = (self.alpha * self.tfp / (np.asarray(r) + self.delta)) ** (1.0 / (1.0 - self.alpha))
        return (1.0 - self.alpha) * self.tfp * kl**self.alpha

    def r_bounds(self) -> tuple[float, float]:
        """``(r_lo, r_hi)`` bracketing the equilibrium: at ``r_lo`` the firm demands ``2 a_max``
        (more than households can hold on the grid); at ``r_hi = 1/beta - 1`` their assets
        would grow without bound (up to the cap ``a_max`` here)."""
        r_lo = self.alpha * self.tfp * (self.L / (2.0 * self.a_max)) ** (1.0 - self.alpha) - self.delta
        return float(r_lo), 1.0 / self.beta - 1.0

    def b_grid(self) -> np.ndarray:
        """EGM savings nodes in assets above the limit, ``b = a + phi``."""
        top = self.a_max + self.borrowing_limit
        return top * np.linspace(0.0, 1.0, self.n_a) ** self.a_curv

    def dist_b_grid(self) -> np.ndarray:
        top = self.a_max + self.borrowing_limit
        return top * np.linspace(0.0, 1.0, self.n_dist) ** self.dist_curv

    def income(self, r: float) -> np.ndarray:
        """Non-asset cash in ``b`` units, ``w z - r phi`` (positive below the natural limit)."""
        y = self.wage(r) * self.z - r * self.borrowing_limit
        if np.any(y <= 0):
            raise ValueError(f"borrowing limit {self.borrowing_limit} is beyond the natural limit "
                             f"w z_min / r = {self.wage(r) * self.z.min() / r:.6g} at r = {r:.6g}")
        return y


# ======================================================================= kernels
@nb.njit(cache=True)
def _consume(x, X, C, top, out):
    """c(x) at ascending cash x from nodes (X, C): b' = 0 below the first node, linear
    between nodes, and b' = top above the last (savings are capped at a_max, as on
    DiscreteDP's grid: the linear extrapolation would save more)."""
    c_walk(x, X, C, out)
    for i in range(x.shape[0]):
        if out[i] < x[i] - top:
            out[i] = x[i] - top


@nb.njit(cache=True)
def _egm(b, R, y, P, beta, gamma, X, C, tol, max_iter):
    """Iterate the EGM operator on nodes (X, C)[s, i]: saving b[i] is optimal at cash X with
    consumption C in state s.  Euler: u'(c) = beta R E[u'(c(R b' + y_s'))].  Returns
    (X, C, iterations, converged)."""
    n_s, n = C.shape
    top = b[n - 1]
    mu2 = np.empty((n_s, n))
    x2 = np.empty(n)
    c2 = np.empty(n)
    Cn = np.empty_like(C)
    for it in range(1, max_iter + 1):
        for s2 in range(n_s):
            for i in range(n):
                x2[i] = R * b[i] + y[s2]
            _consume(x2, X[s2], C[s2], top, c2)
            for i in range(n):
                mu2[s2, i] = R * c2[i] ** (-gamma)
        diff = inverse_euler(P, mu2, beta, gamma, C, Cn)
        for s in range(n_s):
            for i in range(n):
                C[s, i] = Cn[s, i]
                X[s, i] = Cn[s, i] + b[i]
        if diff < tol:
            return X, C, it, True
    return X, C, max_iter, False


@nb.njit(cache=True)
def _lottery(bd, R, y, X, C):
    """For every histogram node: the lower neighbour q of b' and the weight on q + 1 (mean
    preserving); b' at the cap (the grid's top) is flagged by weight -1."""
    n_s = y.shape[0]
    n = bd.shape[0]
    q = np.empty((n_s, n), np.int64)
    wt = np.empty((n_s, n))
    x = np.empty(n)
    c = np.empty(n)
    for s in range(n_s):
        for i in range(n):
            x[i] = R * bd[i] + y[s]
        _consume(x, X[s], C[s], bd[n - 1], c)
        j = 0
        for i in range(n):
            bp = x[i] - c[i]
            if bp < 0.0:
                bp = 0.0
            if bp >= bd[n - 1]:
                q[s, i], wt[s, i] = n - 2, -1.0
                continue
            while j > 0 and bd[j] > bp:
                j -= 1
            while bd[j + 1] <= bp:
                j += 1
            q[s, i], wt[s, i] = j, (bp - bd[j]) / (bd[j + 1] - bd[j])
    return q, wt


@nb.njit(cache=True)
def _stationary(D, q, wt, P, tol, max_iter):
    """Iterate D'[s', .] = sum_s P[s, s'] (lottery of D[s, .]) to its fixed point (sup norm
    change < tol).  Returns (D, iterations, converged, mass saving a_max)."""
    n_s, n = D.shape
    Dn = np.empty_like(D)
    at_cap = 0.0
    for it in range(1, max_iter + 1):
        Dn[:, :] = 0.0
        at_cap = 0.0
        for s in range(n_s):
            for i in range(n):
                m = D[s, i]
                if m == 0.0:
                    continue
                if wt[s, i] < 0.0:
                    at_cap += m
                    for s2 in range(n_s):
                        Dn[s2, n - 1] += m * P[s, s2]
                    continue
                lo = m * (1.0 - wt[s, i])
                hi = m * wt[s, i]
                for s2 in range(n_s):
                    Dn[s2, q[s, i]] += lo * P[s, s2]
                    Dn[s2, q[s, i] + 1] += hi * P[s, s2]
        diff = 0.0
        for s in range(n_s):
            for i in range(n):
                d = abs(Dn[s, i] - D[s, i])
                if d > diff:
                    diff = d
                D[s, i] = Dn[s, i]
        if diff < tol:
            return D, it, True, at_cap
    return D, max_iter, False, at_cap


# ======================================================================= python API
@dataclass(frozen=True, eq=False)
class AiyagariPolicy:
    """The household's consumption ``c(x; z)`` on EGM nodes ``(X, C)[s, i]`` at prices ``(r, w)``
    (``x`` cash on hand in ``b = a + phi`` units; ``c = x`` below ``X[s, 0]``, where ``a' = -phi``)."""

    model: AiyagariModel
    r: float
    w: float
    X: np.ndarray
    C: np.ndarray
    iterations: int
    converged: bool

    def _cash(self, a, iz):
        m = self.model
        b = np.atleast_1d(np.asarray(a, np.float64)) + m.borrowing_limit
        return (1.0 + self.r) * b + m.income(self.r)[int(iz)]

    def _consume(self, x, iz):
        """c at cash ``x`` in ``b`` units (any order)."""
        order = np.argsort(x)
        c = np.empty_like(x)
        top = self.model.a_max + self.model.borrowing_limit
        _consume(np.ascontiguousarray(x[order]), self.X[int(iz)], self.C[int(iz)], top, c)
        out = np.empty_like(x)
        out[order] = c
        return out

    def consumption(self, a, iz: int) -> np.ndarray:
        """``c(a, z_iz)`` for an array of assets ``a >= -phi``."""
        return self._consume(self._cash(a, iz), iz)

    def savings(self, a, iz: int) -> np.ndarray:
        """``a'(a, z_iz) = (1 + r) a + w z - c >= -phi``."""
        x = self._cash(a, iz)
        return np.maximum(x - self._consume(x, iz), 0.0) - self.model.borrowing_limit

    def savings_at_cash(self, cash, iz: int) -> np.ndarray:
        """``a'`` of a household with cash on hand ``(1 + r) a + w z`` = ``cash`` (array):
        the policy as a rule on cash on hand, usable at other prices than ``(r, w)``."""
        phi = self.model.borrowing_limit
        x = np.atleast_1d(np.asarray(cash, np.float64)) + phi
        return np.maximum(x - self._consume(x, iz), 0.0) - phi


def household_policy(model: AiyagariModel, r: float, guess: AiyagariPolicy | None = None,
                     tol: float = 1e-11, max_iter: int = 100_000) -> AiyagariPolicy:
    """The household's policy at interest rate ``r`` (and ``w = w(r)``) by EGM; ``guess``
    warm-starts it."""
    r = float(r)
    if not -model.delta < r < 1.0 / model.beta - 1.0:
        raise ValueError(f"r must be in (-delta, 1/beta - 1) = ({-model.delta}, {1 / model.beta - 1:.6g}), got {r}")
    b, y = model.b_grid(), model.income(r)
    if guess is not None:
        X, C = guess.X.copy(), guess.C.copy()
    else:  # consume income plus a slice of wealth: positive and increasing
        C = y[:, None] + 0.05 * b[None, :]
        X = C + b[None, :]
    X, C, it, ok = _egm(b, 1.0 + r, y, model.Pm, model.beta, model.gamma, X, C, float(tol), int(max_iter))
    if not ok:
        raise RuntimeError(f"EGM did not converge in {max_iter} iterations at r = {r}")
    return AiyagariPolicy(model, r, float(model.wage(r)), X, C, int(it), True)


def stationary_distribution(policy: AiyagariPolicy, D0=None, tol: float = 1e-13,
                            max_iter: int = 200_000) -> tuple[np.ndarray, int, float]:
    """The stationary histogram ``D[s, j]`` on :meth:`AiyagariModel.dist_b_grid` (assets
    ``grid - phi``) of the policy; ``D0`` warm-starts it.  Returns ``(D, iterations,
    at_cap)``: ``at_cap`` is the mass that saves ``a_max`` (the cap binds or just holds)."""
    m = policy.model
    bd = m.dist_b_grid()
    q, wt = _lottery(bd, 1.0 + policy.r, m.income(policy.r), policy.X, policy.C)
    if D0 is None:
        D0 = np.zeros((m.z.size, bd.size))
        D0[:, 0] = m.chain.stationary()
    D, it, ok, at_cap = _stationary(np.array(D0, np.float64), q, wt, m.Pm, float(tol), int(max_iter))
    if not ok:
        raise RuntimeError(f"the asset distribution did not converge in {max_iter} iterations at r = {policy.r}")
    return D, int(it), float(at_cap)


def capital_supply(model: AiyagariModel, r: float) -> float:
    """Households' mean assets ``K_s(r)`` in the stationary distribution at ``r``."""
    D, _, _ = stationary_distribution(household_policy(model, r))
    return float(D.sum(axis=0) @ model.dist_b_grid()) - model.borrowing_limit


@dataclass(frozen=True, eq=False)
class AiyagariSolution:
    """The stationary equilibrium.

    ``r`` (net of depreciation), ``w``; ``K`` households' mean assets at ``r`` (capital
    supply), ``K_demand`` the firm's ``K_d(r)``, ``excess_demand = K_demand - K``; ``L``;
    ``Y``; ``policy`` (:class:`AiyagariPolicy` at ``r``); ``distribution`` ``(n_z, n_dist)``
    on ``asset_grid``; ``at_cap`` its mass that saves ``a_max`` (the cap);
    ``iterations`` bisection steps, ``egm_iterations`` / ``dist_iterations`` of the last
    solve (warm-started); ``wall_time`` seconds.
    """

    model: AiyagariModel
    r: float
    w: float
    K: float
    K_demand: float
    excess_demand: float
    L: float
    Y: float
    policy: AiyagariPolicy
    asset_grid: np.ndarray
    distribution: np.ndarray
    at_cap: float
    iterations: int
    egm_iterations: int
    dist_iterations: int
    converged: bool
    wall_time: float

    def savings(self, a, iz: int) -> np.ndarray:
        return self.policy.savings(a, iz)

    def consumption(self, a, iz: int) -> np.ndarray:
        return self.policy.consumption(a, iz)

    def summary(self) -> dict:
        return {"r": self.r, "w": self.w, "K": self.K, "K_demand": self.K_demand,
                "excess_demand": self.excess_demand, "L": self.L, "Y": self.Y,
                "constrained_share": float(self.distribution[:, 0].sum()), "at_cap": self.at_cap,
                "iterations": self.iterations, "converged": self.converged, "wall_time_s": self.wall_time}


def solve_aiyagari(model: AiyagariModel | None = None, xtol: float = 1e-10,
                   max_iter: int = 100) -> AiyagariSolution:
    """The ``r`` at which households' asset supply equals the firm's capital demand.

    Bisection on ``excess(r) = K_d(r) - K_s(r)`` (decreasing: ``K_d`` falls and ``K_s``
    rises with ``r``) over :meth:`AiyagariModel.r_bounds` until the bracket is narrower
    than ``xtol``; each step warm-starts the EGM and the histogram from the previous one.
    Raises ValueError when the grid's ``a_max`` cannot hold the supply the firm wants.
    """
    model = AiyagariModel() if model is None else model
    t0 = time.perf_counter()
    lo, hi = model.r_bounds()
    bd = model.dist_b_grid()
    pol, D = None, None

    def evaluate(r):
        nonlocal pol, D
        pol = household_policy(model, r, pol)
        D, it, cap = stationary_distribution(pol, D)
        return float(model.capital_demand(r)) - (float(D.sum(axis=0) @ bd) - model.borrowing_limit), it, cap

    f_lo = evaluate(lo)[0]
    if not f_lo > 0:
        raise ValueError(f"households hold more than the firm demands even at r = {lo:.6g}: raise a_max")
    it, ok = 0, False
    while it < max_iter:
        it += 1
        mid = 0.5 * (lo + hi)
        f, dit, cap = evaluate(mid)
        if f > 0:
            lo = mid
        else:
            hi = mid
        if hi - lo < xtol:
            ok = True
            break
    r = 0.5 * (lo + hi)
    if model.r_bounds()[1] - r < 10 * xtol:
        raise ValueError(f"no equilibrium below r = 1/beta - 1 on this grid: raise a_max ({model.a_max})")
    f, dit, cap = evaluate(r)
    K = float(D.sum(axis=0) @ bd) - model.borrowing_limit
    Kd = float(model.capital_demand(r))
    return AiyagariSolution(
        model=model, r=r, w=float(model.wage(r)), K=K, K_demand=Kd, excess_demand=f, L=model.L,
        Y=float(model.tfp * Kd**model.alpha * model.L ** (1.0 - model.alpha)), policy=pol,
        asset_grid=bd - model.borrowing_limit, distribution=D, at_cap=cap, iterations=it,
        egm_iterations=pol.iterations, dist_iterations=dit, converged=ok,
        wall_time=time.perf_counter() - t0)
