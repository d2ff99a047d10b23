"""Finite Markov chains with named value columns: moments, marginals, simulation, products.

Why: productivity, demand shocks and employment status drive the dynamic economies, and
learners, DP solvers and simulators all need the same thing from them -- a finite chain
``(values, P, p0)`` with named value columns.  This module is that object; the
discretisations that build chains live in :mod:`marketsai.processes.discretise`, the
economy-file syntax in :mod:`marketsai.processes.spec`.  See ``docs/processes.md``.

A chain may mark some of its fields ``aggregate`` (common to all agents, e.g. ``z`` in the
KS chain); :meth:`MarkovChain.simulate_panel` then draws the aggregate component once per
period and each agent's idiosyncratic part conditional on it.

Examples
--------
>>> d = MarkovChain([-1.0, 1.0], [[0.9, 0.1], [0.1, 0.9]], fields=("d",))
>>> e = MarkovChain([0.0, 1.0], [[0.5, 0.5], [0.5, 0.5]], fields=("e",))
>>> de = product(d, e)
>>> de.n_states, de.fields, de.marginal("d").P.tolist()
(4, ('d', 'e'), [[0.9, 0.1], [0.1, 0.9]])
"""

from __future__ import annotations

import dataclasses
import math
from functools import reduce

import numpy as np
from numba import njit

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
        labels, agg, members, states, cond = self._conditional()
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

    # ------------------------------------------------------------ one batched step
    def _conditional(self):
        """Aggregate blocks and each state's conditional cdf over the states of each block (cached)."""
        cached = self.__dict__.get("_cond")
        if cached is None:
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
            cached = (labels, self.marginal(self.aggregate), members, states, cond)
            object.__setattr__(self, "_cond", cached)
        return cached

    def initial_panel(self, B: int, N: int, rng: np.random.Generator) -> np.ndarray:
        """``(B, N)`` initial states of ``B`` panels of ``N`` agents (agents of a panel share the
        aggregate fields: the aggregate block is drawn once per panel, then each agent within it)."""
        if not self.aggregate:
            return _draw_many(self.p0, rng.random((B, N)).ravel()).reshape(B, N)
        labels, agg, members, _, _ = self._conditional()
        a0 = _draw_many(agg.p0, rng.random(B))
        out = np.empty((B, N), dtype=np.int64)
        for b in range(B):
            block = members[a0[b]]
            out[b] = block[_draw_many(self.p0[block], rng.random(N))]
        return out

    def step_panel(self, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Next states ``(B, N)`` of ``B`` panels from states ``idx (B, N)``, as :meth:`simulate_panel`
        moves them: with ``aggregate`` fields the next aggregate block is drawn once per panel."""
        idx = np.asarray(idx, dtype=np.int64)
        if not self.aggregate:
            cdf = np.cumsum(self.P[idx], axis=-1)
            return np.minimum((rng.random(idx.shape)[..., None] >= cdf).sum(axis=-1), self.n_states - 1)
        labels, agg, _, states, cond = self._conditional()
        a = labels[idx[:, 0]]
        agg_cdf = np.cumsum(agg.P[a], axis=-1)
        a_next = np.minimum((rng.random(a.shape)[:, None] >= agg_cdf).sum(axis=-1), agg.n_states - 1)
        c = cond[idx, a_next[:, None]]  # (B, N, width)
        pick = np.minimum((rng.random(idx.shape)[..., None] >= c).sum(axis=-1), c.shape[-1] - 1)
        return states[a_next[:, None], pick]


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
