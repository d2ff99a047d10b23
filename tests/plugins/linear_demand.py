"""A user's market, outside the package: Bertrand with linear differentiated demand.

q_i = (a - p_i + gamma * mean_{j != i} p_j) / b  (Singh & Vives style), clipped at 0.
Used by tests/test_plugins.py, loaded from YAML by import path.
"""

import numpy as np

from marketsai.markets import Outcome, StrategicMarket
from marketsai.params import Param, positive, real, unit_open


class LinearDemandBertrand(StrategicMarket):
    action = "price"
    params = {
        "cost": Param(0.0, real, "marginal cost", per_participant=True),
        "a": Param(10.0, positive, "demand intercept"),
        "b": Param(1.0, positive, "own-price slope"),
        "gamma": Param(0.5, unit_open, "substitutability"),
    }

    def _rival_mean(self, p):
        return (p.sum(axis=-1, keepdims=True) - p) / max(self.n - 1, 1)

    def clear(self, actions, shock=0.0):
        p = np.asarray(actions, dtype=float)
        q = np.maximum((self.a + np.asarray(shock)[..., None] - p + self.gamma * self._rival_mean(p)) / self.b, 0.0)
        return Outcome(price=p, quantity=q, profit=(p - self.cost) * q)

    def best_response(self, i, actions, shock=0.0):
        p = np.asarray(actions, dtype=float)
        return (self.a + shock + self.gamma * self._rival_mean(p)[..., i] + self.cost[i]) / 2

    def nash(self, shock=0.0):
        p = np.full(self.n, self.a)
        for _ in range(10_000):
            p = np.array([self.best_response(i, p, shock) for i in range(self.n)])
        return p

    def joint_optimum(self, shock=0.0):
        # symmetric costs assumed: maximise (p - c)(a - (1 - gamma) p) -> p = (a/(1-g) + c)/2
        return np.full(self.n, (self.a + shock) / (2 * (1 - self.gamma)) + self.cost.mean() / 2)
