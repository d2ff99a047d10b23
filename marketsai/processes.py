"""Exogenous processes of economies: finite Markov chains and the file syntax that builds them.

Why: productivity, demand shocks and employment status drive the dynamic economies, and
learners, DP solvers and simulators all need the same thing from them -- a finite chain
``(values, P, p0)`` with named value columns.  Continuous AR(1) processes are discretised
here once (Rouwenhorst, Tauchen), joint chains are built here (:func:`product`, the
Krusell--Smith ``(z, e)`` chain), and an economy file's ``processes:`` entries are
validated here (:func:`process_from_spec`).  See ``docs/processes.md``.

A chain may mark some of its fields ``aggregate`` (common to all agents, e.g. ``z`` in the
KS chain); :meth:`MarkovChain.simulate_panel` then draws the aggregate component once per
period and each agent's idiosyncratic part conditional on it.

Examples
--------
>>> mc = rouwenhorst(5, rho=0.9, sigma=0.1)
>>> mc.n_states, mc.fields
(5, ('z',))
>>> round(mc.autocorr("z"), 12), round(mc.std("z") ** 2, 12) == round(0.01 / 0.19, 12)
(0.9, True)
"""

from __future__ import annotations

import dataclasses
import math
from functools import reduce

import numpy as np
from numba import njit

from marketsai.errors import SpecError
from marketsai.params import Check, Param, at_least_int, describe, one_of, real, validate_mapping

_TOL = 1e-10  # rows of P must sum to 1 within this; lumpability is tested to this


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float)  # a private copy: nobody else holds a writable view
    a.flags.writeable = False
    return a


@dataclasses.dataclass(frozen=True, eq=False)
class MarkovChain:
    """A finite Markov chain with named value columns.

    Parameters
    ----------
    values : array (n, d) or (n,)
        Value of each field in each state; a 1-D array is one field.
    P : array (n, n)
        Row-stochastic transition matrix, ``P[s, s'] = Pr(s' | s)``.
    p0 : array (n,), optional
        Initial distribution; default the stationary one (:meth:`stationary`).
    fields : tuple of str
        Names of the ``d`` value columns.
    aggregate : tuple of str
        Fields common to all agents of a panel (see :meth:`simulate_panel`).

    Examples
    --------
    >>> mc = MarkovChain([-1.0, 1.0], [[0.9, 0.1], [0.2, 0.8]], fields=("d",))
    >>> mc.stationary().round(6).tolist(), round(mc.mean("d"), 6)
    ([0.666667, 0.333333], -0.333333)
    """

    values: np.ndarray
    P: np.ndarray
    p0: np.ndarray | None = None
    fields: tuple[str, ...] = ("z",)
    aggregate: tuple[str, ...] = ()

    def __post_init__(self):
        values = np.array(self.values, dtype=float)
        if values.ndim == 1:
            values = values[:, None]
        fields = (self.fields,) if isinstance(self.fields, str) else tuple(self.fields)
        aggregate = (self.aggregate,) if isinstance(self.aggregate, str) else tuple(self.aggregate)
        if values.ndim != 2 or values.shape[0] < 1 or not np.all(np.isfinite(values)):
            raise ValueError(f"values must be a finite (n, d) array, got shape {values.shape}")
        n, d = values.shape
        if len(fields) != d or len(set(fields)) != d:
            raise ValueError(f"fields {fields} must be {d} distinct names, one per value column")
        if not set(aggregate) <= set(fields) or len(set(aggregate)) != len(aggregate):
            raise ValueError(f"aggregate {aggregate} must be distinct names among fields {fields}")
        P = np.array(self.P, dtype=float)
        if P.shape != (n, n) or not np.all(np.isfinite(P)) or np.any(P < 0):
            raise ValueError(f"P must be a non-negative ({n}, {n}) matrix, got shape {P.shape}")
        if np.max(np.abs(P.sum(axis=1) - 1.0)) > _TOL:
            raise ValueError("rows of P must sum to 1")
        for name, val in (("values", values), ("P", P), ("fields", fields), ("aggregate", aggregate)):
            object.__setattr__(self, name, _readonly(val) if isinstance(val, np.ndarray) else val)
        if self.p0 is None:
            object.__setattr__(self, "p0", self.stationary())
        else:
            p0 = np.array(self.p0, dtype=float)
            if p0.shape != (n,) or np.any(p0 < 0) or abs(p0.sum() - 1.0) > _TOL:
                raise ValueError(f"p0 must be a probability vector of length {n}")
            object.__setattr__(self, "p0", _readonly(p0))

    def __repr__(self) -> str:
        return f"MarkovChain(n_states={self.n_states}, fields={self.fields}, aggregate={self.aggregate})"

    # ------------------------------------------------------------ moments
    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    def value(self, field: str) -> np.ndarray:
        """The ``(n,)`` values of one field."""
        if field not in self.fields:
            raise KeyError(f"unknown field {field!r}; fields are {self.fields}")
        return self.values[:, self.fields.index(field)]

    def stationary(self) -> np.ndarray:
        """The stationary distribution ``pi P = pi``, by one linear solve.

        Solves ``(P' - I) pi = 0`` with one equation replaced by ``sum(pi) = 1`` (LU,
        O(n^3), fine for a few thousand states).  Raises ValueError when the chain has
        several stationary distributions (several recurrent classes): pass ``p0`` then.
        """
        cached = self.__dict__.get("_pi")
        if cached is not None:
            return cached
        n = self.n_states
        A = self.P.T - np.eye(n)
        A[-1, :] = 1.0
        b = np.zeros(n)
        b[-1] = 1.0
        try:
            pi = np.linalg.solve(A, b)
        except np.linalg.LinAlgError:
            raise ValueError("the chain has no unique stationary distribution; pass p0") from None
        pi = np.clip(pi, 0.0, None)
        pi /= pi.sum()
        if np.max(np.abs(pi @ self.P - pi)) > 1e-8:
            raise ValueError("the chain has no unique stationary distribution; pass p0")
        pi = _readonly(pi)
        object.__setattr__(self, "_pi", pi)
        return pi

    def mean(self, field: str) -> float:
        """Mean of ``field`` under the stationary distribution."""
        return float(self.stationary() @ self.value(field))

    def std(self, field: str) -> float:
        """Standard deviation of ``field`` under the stationary distribution."""
        dev = self.value(field) - self.mean(field)
        return float(math.sqrt(max(self.stationary() @ dev**2, 0.0)))

    def autocorr(self, field: str) -> float:
        """First-order autocorrelation of ``field`` in the stationary chain (nan if constant)."""
        pi, dev = self.stationary(), self.value(field) - self.mean(field)
        var = pi @ dev**2
        return float((pi * dev) @ (self.P @ dev) / var) if var > 0 else math.nan

    # ------------------------------------------------------------ marginals
    def _blocks(self, fields: tuple[str, ...]):
        """Group states by the values of ``fields``: (labels (n,), representatives, m)."""
        cols = [self.fields.index(f) for f in fields]
        keys = self.values[:, cols]
        _, first, labels = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        order = np.argsort(first)  # blocks in order of first appearance
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        return rank[labels.ravel()], first[order], order.size

    def marginal(self, fields) -> MarkovChain:
        """The chain of ``fields`` alone (e.g. ``("z",)`` of the KS chain).

        Well defined when the chain is lumpable on these fields: from every state with the
        same ``fields`` values, the probability of moving to each block is the same.
        Raises ValueError otherwise.
        """
        fields = (fields,) if isinstance(fields, str) else tuple(fields)
        unknown = [f for f in fields if f not in self.fields]
        if unknown or not fields:
            raise ValueError(f"fields {fields} must be a non-empty subset of {self.fields}")
        labels, reps, m = self._blocks(fields)
        M = np.zeros((self.n_states, m))
        M[np.arange(self.n_states), labels] = 1.0
        Q = self.P @ M
        if np.max(np.abs(Q - Q[reps][labels])) > _TOL:
            raise ValueError(f"the {fields} part of this chain is not Markov on its own "
                             "(transition to a block depends on the other fields)")
        cols = [self.fields.index(f) for f in fields]
        return MarkovChain(self.values[reps][:, cols], Q[reps], self.p0 @ M, fields,
                           tuple(f for f in self.aggregate if f in fields))

    # ------------------------------------------------------------ simulation
    def simulate(self, T: int, rng: np.random.Generator, init: int | None = None) -> np.ndarray:
        """One path of ``T`` state indices; ``init`` a state index (default: drawn from p0).

        >>> mc = MarkovChain([0.0, 1.0], [[0.0, 1.0], [1.0, 0.0]], p0=[1.0, 0.0])
        >>> mc.simulate(5, np.random.default_rng(0)).tolist()
        [0, 1, 0, 1, 0]
        """
        if T < 1:
            raise ValueError("T must be >= 1")
        x0 = _draw_from(self.p0, rng) if init is None else int(init)
        if not 0 <= x0 < self.n_states:
            raise ValueError(f"init must be a state index in [0, {self.n_states})")
        return _path(_cdf(self.P), x0, rng.random(T - 1))

    def simulate_panel(self, N: int, T: int, rng: np.random.Generator, init=None) -> np.ndarray:
        """``(T, N)`` state indices of ``N`` agents.

        Without ``aggregate`` fields the agents are independent.  With them, the aggregate
        chain (:meth:`marginal`) is simulated once and each agent then moves to a state
        consistent with the drawn aggregate, with probability ``P[s, s'] / sum P[s, block]``
        -- how KS's ``(z, e)`` chain makes all agents share ``z``.  ``init``: optional
        ``(N,)`` initial states (sharing the aggregate fields); default drawn from ``p0``.
        """
        if N < 1 or T < 1:
            raise ValueError("N and T must be >= 1")
        cdf = _cdf(self.P)
        if init is not None:
            init = np.asarray(init, dtype=np.int64)
            if init.shape != (N,) or init.min() < 0 or init.max() >= self.n_states:
                raise ValueError(f"init must be {N} state indices in [0, {self.n_states})")
        if not self.aggregate:
            x0 = _draw_many(self.p0, rng.random(N)) if init is None else init
            return _panel(cdf, x0, rng.random((T - 1, N)))
        agg = self.marginal(self.aggregate)
        labels, _, m = self._blocks(self.aggregate)
        members = [np.flatnonzero(labels == a) for a in range(m)]
        width = max(len(b) for b in members)
        states = np.zeros((m, width), dtype=np.int64)
        cond = np.ones((self.n_states, m, width))
        for a, b in enumerate(members):
            states[a, :len(b)] = b
            mass = np.cumsum(self.P[:, b], axis=1)
            tot = mass[:, -1:]
            cond[:, a, :len(b)] = np.divide(mass, tot, out=np.ones_like(mass), where=tot > 0)
        if init is None:
            a0 = _draw_from(agg.p0, rng)
            x0 = members[a0][_draw_many(self.p0[members[a0]], rng.random(N))]
        else:
            x0 = init
            if len(set(labels[x0].tolist())) != 1:
                raise ValueError("init must be states sharing the aggregate fields")
            a0 = int(labels[x0[0]])
        agg_path = agg.simulate(T, rng, init=a0)
        return _panel_agg(cond, states, agg_path, x0.astype(np.int64), rng.random((T - 1, N)))


def _cdf(P: np.ndarray) -> np.ndarray:
    c = np.cumsum(P, axis=1)
    return c / c[:, -1:]  # last entry exactly 1.0, so every u in [0, 1) lands on a state


def _draw_many(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """States drawn from weights ``p`` with uniforms ``u``; zero-weight states never drawn."""
    c = np.cumsum(p)
    return np.searchsorted(c / c[-1], u, side="right").astype(np.int64)


def _draw_from(p: np.ndarray, rng: np.random.Generator) -> int:
    return int(_draw_many(p, rng.random(1))[0])


@njit(cache=True)
def _pick(row, u):
    """First index j with u < row[j] (row a cdf ending in 1.0)."""
    lo, hi = 0, row.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if u < row[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True)
def _path(cdf, x0, u):
    out = np.empty(u.shape[0] + 1, np.int64)
    out[0] = x0
    for t in range(u.shape[0]):
        out[t + 1] = _pick(cdf[out[t]], u[t])
    return out


@njit(cache=True)
def _panel(cdf, x0, u):
    out = np.empty((u.shape[0] + 1, x0.shape[0]), np.int64)
    out[0] = x0
    for t in range(u.shape[0]):
        for i in range(x0.shape[0]):
            out[t + 1, i] = _pick(cdf[out[t, i]], u[t, i])
    return out


@njit(cache=True)
def _panel_agg(cond, states, agg_path, x0, u):
    out = np.empty((u.shape[0] + 1, x0.shape[0]), np.int64)
    out[0] = x0
    for t in range(u.shape[0]):
        a = agg_path[t + 1]
        for i in range(x0.shape[0]):
            out[t + 1, i] = states[a, _pick(cond[out[t, i], a], u[t, i])]
    return out


# ---------------------------------------------------------------- constructors
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


def product(*chains: MarkovChain) -> MarkovChain:
    """The joint chain of independent chains; fields concatenated, the first varies slowest.

    >>> a = MarkovChain([0.0, 1.0], [[0.9, 0.1], [0.1, 0.9]], fields=("a",))
    >>> b = MarkovChain([5.0, 6.0, 7.0], np.full((3, 3), 1 / 3), fields=("b",))
    >>> ab = product(a, b)
    >>> ab.n_states, ab.fields, ab.values[:4].tolist()
    (6, ('a', 'b'), [[0.0, 5.0], [0.0, 6.0], [0.0, 7.0], [1.0, 5.0]])
    """
    if not chains:
        raise ValueError("product needs at least one chain")
    idx = np.indices(tuple(c.n_states for c in chains)).reshape(len(chains), -1)
    values = np.hstack([c.values[i] for c, i in zip(chains, idx, strict=True)])
    fields = sum((c.fields for c in chains), ())
    return MarkovChain(values, reduce(np.kron, [c.P for c in chains]),
                       reduce(np.kron, [c.p0 for c in chains]), fields,
                       sum((c.aggregate for c in chains), ()))


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


# ---------------------------------------------------------------- economy-file entries
def _numlist(n=None, each=real, what="numbers"):
    return Check(lambda x: isinstance(x, list) and (len(x) == n if n else len(x) >= 1)
                 and all(each(v) for v in x), f"a list of {n or 'one or more'} {what}")


def _is_row(v) -> bool:
    return real(v) or (isinstance(v, list) and len(v) >= 1 and all(real(w) for w in v))


_names = Check(lambda x: isinstance(x, list) and all(isinstance(v, str) and v.isidentifier() for v in x),
               "a list of identifiers")
_duration = Check(lambda x: real(x) and x >= 1, "a number >= 1 (periods)", True)
_pos = Check(lambda x: real(x) and x > 0, "a finite number > 0", True)

COMMON_FIELDS = {
    "kind": Param(check=one_of("ar1", "markov", "krusell_smith"),
                  doc="ar1: discretised AR(1); markov: explicit chain; krusell_smith: KS (z, e) chain"),
    "scope": Param("aggregate", one_of("aggregate", "agent"),
                   "aggregate: one path for the economy; agent: one path per agent"),
}
AR1_FIELDS = {
    "rho": Param(check=Check(lambda x: real(x) and abs(x) < 1, "a number with |rho| < 1", True),
                 doc="persistence of y' = (1 - rho) mean + rho y + sigma eps"),
    "sigma": Param(check=_pos, doc="standard deviation of the innovation eps"),
    "mean": Param(0.0, real, "unconditional mean of y"),
    "log": Param(False, one_of(True, False), "true: the process value is exp(y)"),
    "method": Param("rouwenhorst", one_of("rouwenhorst", "tauchen"), "discretisation method"),
    "states": Param(7, Check(lambda x: at_least_int(2)(x) and x <= 10_000, "an integer in [2, 10000]"),
                    "number of grid points"),
    "n_std": Param(None, Check(lambda x: x is None or _pos(x), "null or a number > 0", True),
                   "Tauchen grid half-width in stationary std devs (null: 3.0; rouwenhorst: null)"),
}
MARKOV_FIELDS = {
    "values": Param(check=_numlist(each=_is_row, what="numbers, or equal-length lists of numbers"),
                    doc="value of each state: numbers (one field) or one list per state (fields)"),
    "transition": Param(check=Check(lambda x: isinstance(x, list), "a square list of lists"),
                        doc="transition matrix, rows non-negative summing to 1"),
    "initial": Param(None, Check(lambda x: x is None or isinstance(x, list), "null or a list"),
                     "initial distribution (null: the stationary one)"),
    "fields": Param(None, Check(lambda x: x is None or _names(x), "null or a list of identifiers"),
                    "names of the value columns (null: the process name, one column)"),
    "aggregate": Param([], _names, "fields common to all agents (scope: agent)"),
}
KS_FIELDS = {
    "z_values": Param([0.99, 1.01], _numlist(2, _pos, "distinct numbers > 0"),
                      "TFP in the bad and the good state"),
    "unemployment": Param([0.10, 0.04], _numlist(2, Check(lambda x: real(x) and 0 < x < 1, ""),
                                                 "numbers in (0, 1)"),
                          "unemployment rate in bad / good times"),
    "duration_z": Param(8.0, _duration, "mean duration of a bad or good regime (periods)"),
    "duration_unemployment": Param([2.5, 1.5], _numlist(2, _duration, "numbers >= 1"),
                                   "mean unemployment spell in bad / good times (periods)"),
    "ratio_bad_good": Param(0.75, _pos, "p(u'|u, bad->good) / p(u'|u, good->good)"),
    "ratio_good_bad": Param(1.25, _pos, "p(u'|u, good->bad) / p(u'|u, bad->bad)"),
}
PROCESS_KINDS = {"ar1": AR1_FIELDS, "markov": MARKOV_FIELDS, "krusell_smith": KS_FIELDS}
PROCESS_FIELDS = {**COMMON_FIELDS, **AR1_FIELDS, **MARKOV_FIELDS, **KS_FIELDS}


@dataclasses.dataclass(frozen=True)
class Process:
    """One validated ``processes:`` entry: its chain and its resolved spec (every default)."""

    name: str
    scope: str
    chain: MarkovChain
    spec: dict


def _floats(x):
    return [_floats(v) for v in x] if isinstance(x, list) else float(x)


def process_from_spec(data: dict, path: str, name: str | None = None) -> Process:
    """Validate one economy-file entry ``processes.<name>`` and build its chain.

    ``name`` defaults to the last component of ``path`` (``"processes.z"`` -> ``"z"``);
    one-field chains (ar1, one-column markov) name their field after the process.  Raises
    SpecError naming the field path, the value and what is allowed.

    >>> p = process_from_spec({"kind": "ar1", "rho": 0.9, "sigma": 0.1}, "processes.z")
    >>> p.scope, p.chain.n_states, p.spec["method"], p.spec["n_std"]
    ('aggregate', 7, 'rouwenhorst', None)
    """
    name = path.rsplit(".", 1)[-1] if name is None else name
    if not (isinstance(name, str) and name.isidentifier()):
        raise SpecError("process name must be an identifier", path=path, value=name,
                        allowed="letters, digits, _")
    if not isinstance(data, dict):
        validate_mapping(data, COMMON_FIELDS, path, "process")  # raises: not a mapping
    if "kind" not in data:
        raise SpecError("missing required key in process", path=f"{path}.kind",
                        allowed=COMMON_FIELDS["kind"].check.allowed)
    kind = COMMON_FIELDS["kind"].validate(data["kind"], f"{path}.kind")
    s = validate_mapping(data, {**COMMON_FIELDS, **PROCESS_KINDS[kind]}, path, f"process (kind: {kind})")
    if kind == "ar1":
        chain = _ar1_chain(s, path, name)
    elif kind == "markov":
        chain = _markov_chain(s, path, name)
    else:
        s.update({k: _floats(list(s[k])) for k in ("z_values", "unemployment", "duration_unemployment")})
        if s["z_values"][0] == s["z_values"][1]:
            raise SpecError("the two z values must differ", path=f"{path}.z_values", value=s["z_values"],
                            allowed=KS_FIELDS["z_values"].check.allowed)
        try:
            chain = krusell_smith_chain(s["z_values"], s["unemployment"], s["duration_z"],
                                        s["duration_unemployment"], s["ratio_bad_good"], s["ratio_good_bad"])
        except ValueError as err:
            raise SpecError(str(err), path=path, value={k: s[k] for k in KS_FIELDS},
                            allowed="targets giving probabilities in [0, 1]") from None
    idio = [f for f in chain.fields if f not in chain.aggregate]
    if s["scope"] == "aggregate" and chain.aggregate and idio:
        raise SpecError(f"a chain with idiosyncratic fields {idio} is drawn per agent", path=f"{path}.scope",
                        value="aggregate", allowed="'agent'")
    return Process(name=name, scope=s["scope"], chain=chain, spec=s)


def _ar1_chain(s: dict, path: str, name: str) -> MarkovChain:
    if s["method"] == "rouwenhorst" and s["n_std"] is not None:
        raise SpecError("n_std applies to method: tauchen only", path=f"{path}.n_std", value=s["n_std"],
                        allowed="null with method: rouwenhorst")
    args = (s["states"], s["rho"], s["sigma"], s["mean"])
    if s["method"] == "tauchen":
        s["n_std"] = 3.0 if s["n_std"] is None else s["n_std"]
        return tauchen(*args, n_std=s["n_std"], field=name, log=s["log"])
    return rouwenhorst(*args, field=name, log=s["log"])


def _markov_chain(s: dict, path: str, name: str) -> MarkovChain:
    vals = s["values"]
    flat = all(real(v) for v in vals)
    if not flat and (not all(isinstance(v, list) for v in vals) or len({len(v) for v in vals}) != 1):
        raise SpecError("values must be all numbers or all lists of one length", path=f"{path}.values",
                        value=vals, allowed="numbers, or equal-length lists of numbers")
    n, d = len(vals), 1 if flat else len(vals[0])
    fields = s["fields"] if s["fields"] is not None else ([name] if d == 1 else None)
    if fields is None or len(fields) != d or len(set(fields)) != d:
        raise SpecError(f"values have {d} column(s); fields must name each once", path=f"{path}.fields",
                        value=s["fields"], allowed=f"a list of {d} distinct identifiers")
    bad = [f for f in s["aggregate"] if f not in fields]
    if bad or len(set(s["aggregate"])) != len(s["aggregate"]):
        raise SpecError("aggregate must name distinct fields", path=f"{path}.aggregate",
                        value=s["aggregate"], allowed="a subset of " + ", ".join(fields))
    tp = f"{path}.transition"
    try:
        if not all(isinstance(r, list) and all(real(v) for v in r) for r in s["transition"]):
            raise TypeError
        P = np.asarray(s["transition"], dtype=float)
    except (TypeError, ValueError):
        raise SpecError("transition must be a matrix of numbers", path=tp, value=s["transition"],
                        allowed=f"a {n}x{n} list of lists of numbers") from None
    if P.ndim != 2 or P.shape[0] != P.shape[1]:
        raise SpecError("transition must be square", path=tp, value=s["transition"], allowed=f"a {n}x{n} matrix")
    if P.shape[0] != n:
        raise SpecError(f"transition is {P.shape[0]}x{P.shape[0]} but there are {n} values", path=tp,
                        value=s["transition"], allowed=f"a {n}x{n} matrix")
    if not np.all(np.isfinite(P)) or np.any(P < 0):
        raise SpecError("transition entries must be non-negative", path=tp, value=s["transition"],
                        allowed="finite numbers >= 0")
    rows = P.sum(axis=1)
    if not np.allclose(rows, 1.0):
        k = int(np.argmax(np.abs(rows - 1)))
        raise SpecError(f"row {k} of transition sums to {rows[k]:g}", path=tp, value=s["transition"],
                        allowed="rows summing to 1")
    p0 = None
    if s["initial"] is not None:
        ok = len(s["initial"]) == n and all(real(v) and v >= 0 for v in s["initial"])
        if not ok or not np.isclose(sum(s["initial"]), 1.0):
            raise SpecError("initial must be a probability vector", path=f"{path}.initial",
                            value=s["initial"], allowed=f"{n} non-negative numbers summing to 1")
        p0 = np.asarray(s["initial"], dtype=float) / sum(s["initial"])
        s["initial"] = _floats(list(s["initial"]))
    s.update(values=_floats(list(vals)), transition=P.tolist(), fields=list(fields),
             aggregate=list(s["aggregate"]))
    try:
        chain = MarkovChain(np.asarray(s["values"]).reshape(n, d), P / rows[:, None], p0, tuple(fields),
                            tuple(s["aggregate"]))
    except ValueError as err:
        raise SpecError(str(err), path=f"{path}.initial", value=None,
                        allowed="an explicit initial distribution") from None
    if s["scope"] == "agent" and chain.aggregate:
        try:
            chain.marginal(chain.aggregate)
        except ValueError as err:
            raise SpecError(str(err), path=f"{path}.aggregate", value=s["aggregate"],
                            allowed="fields whose own chain is Markov") from None
    return chain


def process_from_legacy_shocks(shocks: dict) -> dict:
    """The ``processes`` entry equivalent to an old scalar ``shocks:`` block.

    The old default initial distribution was uniform (the new one is stationary), so it is
    written out explicitly; the result validates with :func:`process_from_spec` under
    ``processes.shock``.

    >>> process_from_legacy_shocks({"values": [0.0, 1.0], "transition": [[0.9, 0.1], [0.1, 0.9]]})
    {'shock': {'kind': 'markov', 'values': [0.0, 1.0], 'transition': [[0.9, 0.1], [0.1, 0.9]], 'initial': [0.5, 0.5]}}
    """
    if not isinstance(shocks, dict):
        raise SpecError("shocks must be a mapping", path="shocks", value=shocks,
                        allowed="a mapping of values, transition, initial")
    for key in shocks:
        if key not in ("values", "transition", "initial"):
            raise SpecError("unknown key in shocks", path=f"shocks.{key}", value=shocks[key],
                            allowed="values, transition, initial")
    values = shocks.get("values")
    if not isinstance(values, list) or not values:
        raise SpecError("invalid value", path="shocks.values", value=values,
                        allowed="a non-empty list of numbers")
    initial = shocks.get("initial")
    initial = [1.0 / len(values)] * len(values) if initial is None else list(initial)
    return {"shock": {"kind": "markov", "values": list(values), "transition": shocks.get("transition"),
                      "initial": initial}}


def describe_process_fields() -> dict[str, list[tuple[str, str, str, str]]]:
    """(name, default, allowed, doc) rows of every process key, by section, for the docs."""
    return {"processes.<name>": describe(COMMON_FIELDS),
            **{f"processes.<name> (kind: {k})": describe(v) for k, v in PROCESS_KINDS.items()}}
