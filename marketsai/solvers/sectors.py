"""The d-sector growth model's exact solution: policy, value function, steady state, Euler residuals.

The planner of :mod:`marketsai.agents.sector_planner` has output
``y = z prod_j k_j^alpha_j`` (``S = sum_j alpha_j < 1``), full depreciation and log utility;
``z`` follows a finite Markov chain of levels (``z_values``, ``P``). Guess-and-verify of
``V = A + sum_j B_j ln k_j + D(z)`` (derivation in the agent's docstring) gives, for any ``d``,

* ``k_j' = beta alpha_j y``, ``c = (1 - beta S) y``;
* ``B_j = alpha_j / (1 - beta S)``, ``D = (I - beta P)^{-1} ln z / (1 - beta S)``,
  ``A = (ln(1 - beta S) + beta sum_j B_j ln(beta alpha_j)) / (1 - beta)``;
* steady state (``z = 1``): ``ln y = sum_j alpha_j ln(beta alpha_j) / (1 - S)``, ``k_j = beta alpha_j y``.

Everything is exact for the chain (as :mod:`marketsai.solvers.growth` is for Brock--Mirman,
its ``d = 1`` case), so value iteration on the economy's finite model differs from it by
grid error only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SectorModel", "sector_model"]


@dataclass(frozen=True, eq=False)
class SectorModel:
    """Parameters of the d-sector model and its closed form.

    >>> m = SectorModel(alphas=(0.2, 0.16), beta=0.95)
    >>> k, c, y = m.steady_state()
    >>> np.round(k, 5), round(c, 5), round(y, 5)
    (array([0.0706 , 0.05648]), 0.24451, 0.3716)
    >>> bool(np.allclose(m.policy(k, 1.0)[0], k))
    True
    """

    alphas: tuple[float, ...]
    beta: float
    z_values: np.ndarray = None  # (n_z,) levels; default one state z = 1
    P: np.ndarray = None  # (n_z, n_z)

    def __post_init__(self):
        a = tuple(float(x) for x in self.alphas)
        if not a or any(not 0.0 < x < 1.0 for x in a) or sum(a) >= 1.0:
            raise ValueError(f"SectorModel.alphas must be shares in (0, 1) with sum < 1, got {a}")
        if not 0.0 < float(self.beta) < 1.0:
            raise ValueError(f"SectorModel.beta must be in (0, 1), got {self.beta}")
        z = np.ones(1) if self.z_values is None else np.asarray(self.z_values, np.float64).ravel()
        P = np.ones((1, 1)) if self.P is None else np.asarray(self.P, np.float64)
        if np.any(z <= 0) or P.shape != (len(z), len(z)) or not np.allclose(P.sum(axis=1), 1.0):
            raise ValueError("SectorModel needs positive z levels and a square stochastic P of their size")
        object.__setattr__(self, "alphas", a)
        object.__setattr__(self, "beta", float(self.beta))
        object.__setattr__(self, "z_values", z)
        object.__setattr__(self, "P", P)

    @property
    def d(self) -> int:
        return len(self.alphas)

    @property
    def a(self) -> np.ndarray:
        return np.asarray(self.alphas)

    @property
    def S(self) -> float:
        return float(sum(self.alphas))

    # ------------------------------------------------------------ technology
    def output(self, k, z):
        """``z prod_j k_j^alpha_j`` of ``k (..., d)`` and ``z`` (broadcasting over ``...``)."""
        return np.asarray(z, np.float64) * np.exp(np.log(np.asarray(k, np.float64)) @ self.a)

    def steady_state(self) -> tuple[np.ndarray, float, float]:
        """Deterministic steady state at ``z = 1``: ``(k (d,), c, y)``."""
        a, b = self.a, self.beta
        y = float(np.exp(np.sum(a * np.log(b * a)) / (1.0 - self.S)))
        return b * a * y, (1.0 - b * self.S) * y, y

    # ------------------------------------------------------------ closed form
    def policy(self, k, z):
        """``(k' (..., d), c (...))``: ``k_j' = beta alpha_j y``, ``c = (1 - beta S) y``."""
        y = self.output(k, z)
        return self.beta * self.a * y[..., None], (1.0 - self.beta * self.S) * y

    def savings_shares(self) -> np.ndarray:
        """The optimal shares of output saved in each stock, ``beta alpha_j`` (every state)."""
        return self.beta * self.a

    def coefficients(self) -> tuple[float, np.ndarray, np.ndarray]:
        """``(A, B (d,), D (n_z,))`` with ``V(k, z_i) = A + sum_j B_j ln k_j + D[i]``."""
        a, b, S = self.a, self.beta, self.S
        B = a / (1.0 - b * S)
        A = (np.log(1.0 - b * S) + b * np.sum(B * np.log(b * a))) / (1.0 - b)
        D = np.linalg.solve(np.eye(len(self.z_values)) - b * self.P, np.log(self.z_values) / (1.0 - b * S))
        return float(A), B, D

    def value(self, k, iz):
        """The exact value ``A + sum_j B_j ln k_j + D[iz]`` at ``k (..., d)``, chain state ``iz``."""
        A, B, D = self.coefficients()
        return A + np.log(np.asarray(k, np.float64)) @ B + D[np.asarray(iz)]

    def euler_residuals(self, k, iz, policy=None) -> np.ndarray:
        """``1 - beta E[(c / c') alpha_j y' / k_j']`` of each stock, ``(..., d)``, at ``k (..., d)``.

        ``policy(k, z) -> (k', c)`` defaults to the closed form (residuals are rounding).
        """
        policy = self.policy if policy is None else policy
        iz = np.asarray(iz)
        k = np.asarray(k, np.float64)
        kp, c = policy(k, self.z_values[iz])
        rhs = np.zeros(kp.shape)
        for e2, z2 in enumerate(self.z_values):
            y2 = self.output(kp, z2)
            _, c2 = policy(kp, z2)
            rhs += self.P[iz, e2][..., None] * (c / c2)[..., None] * self.a * y2[..., None] / kp
        return 1.0 - self.beta * rhs

    def simulate(self, k0, T: int, rng: np.random.Generator, iz0: int | None = None):
        """A path of the exact policy: ``k (T+1, d)``, ``c (T,)``, ``y (T,)``, ``iz (T,)``."""
        k = np.empty((T + 1, self.d))
        k[0] = k0
        c, y, izs = np.empty(T), np.empty(T), np.empty(T, np.int64)
        iz = len(self.z_values) // 2 if iz0 is None else iz0
        cum = np.cumsum(self.P, axis=1)
        for t in range(T):
            izs[t] = iz
            y[t] = self.output(k[t], self.z_values[iz])
            k[t + 1], c[t] = self.policy(k[t], self.z_values[iz])
            iz = min(int(np.searchsorted(cum[iz], rng.random(), side="right")), len(self.z_values) - 1)
        return k, c, y, izs


def sector_model(econ) -> SectorModel:
    """The closed form of an economy whose only agent is a ``sector_planner``.

    ``z`` is the product of the productivity fields on the economy's aggregate chain
    (its states in the order of the finite model's exogenous index).
    """
    from marketsai.agents.sector_planner import SectorPlanner
    if len(econ.entries) != 1 or not isinstance(econ.entries[0].kind, SectorPlanner):
        raise ValueError("sector_model needs an economy of one sector_planner")
    kind = econ.entries[0].kind
    chain = econ.exo_chain
    z = np.ones(chain.n_states)
    for f in kind.productivity_fields():
        z = z * np.asarray(chain.value(f))
    return SectorModel(alphas=tuple(kind.p["alphas"]), beta=econ.discount, z_values=z, P=np.asarray(chain.P))
