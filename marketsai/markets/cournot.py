"""Quantity competition with linear inverse demand ``P = max(a + shock - b Q, 0)``.

The second market type, there to keep the abstraction from being Bertrand-shaped:
participants choose quantities and all sell at one market price.
"""

from __future__ import annotations

import numpy as np

from marketsai.markets.base import Outcome
from marketsai.markets.linear_demand import LinearDemandMarket
from marketsai.markets.registry import markets
from marketsai.params import Param, positive


@markets.register("cournot_linear")
class CournotLinear(LinearDemandMarket):
    """Cournot oligopoly with linear demand and constant marginal costs.

    Examples
    --------
    >>> mkt = CournotLinear(2, intercept=100.0, slope=1.0, cost=10.0)
    >>> mkt.nash().tolist(), mkt.joint_optimum().tolist()
    ([30.0, 30.0], [22.5, 22.5])
    >>> mkt.clear(mkt.nash()).profit.tolist()
    [900.0, 900.0]
    """

    action = "quantity"
    params = {**LinearDemandMarket.params,
              "intercept": Param(1.0, positive, "demand intercept a (the choke price)")}

    def choke_price(self) -> float:
        """``a``: the price at zero output."""
        return self.intercept

    def clear(self, actions, shock=0.0) -> Outcome:
        q = np.asarray(actions, dtype=float)
        shock = np.asarray(shock, dtype=float)
        price = np.maximum(self.intercept + shock - self.slope * q.sum(axis=-1), 0.0)
        price = np.broadcast_to(price[..., None], q.shape)
        return Outcome(price=price, quantity=q, profit=(price - self.cost) * q)

    def best_response(self, i, actions, shock=0.0) -> np.ndarray:
        q = np.asarray(actions, dtype=float)
        rivals = q.sum(axis=-1) - q[..., i]
        return np.maximum((self.intercept + shock - self.cost[i] - self.slope * rivals) / (2 * self.slope), 0.0)

    def nash(self, shock=0.0) -> np.ndarray:
        active = np.ones(self.n, dtype=bool)
        a = self.intercept + shock
        while True:  # drop firms whose interior quantity would be negative, highest cost first
            k = active.sum()
            c_sum = self.cost[active].sum()
            q = np.where(active, (a - (k + 1) * self.cost + c_sum) / (self.slope * (k + 1)), 0.0)
            if np.all(q >= -1e-12):
                return np.maximum(q, 0.0)
            active &= q > 0

    def joint_optimum(self, shock=0.0) -> np.ndarray:
        cheapest = np.isclose(self.cost, self.cost.min())
        total = (self.intercept + shock - self.cost.min()) / (2 * self.slope)
        return np.where(cheapest, total / cheapest.sum(), 0.0)

    def action_bounds(self, shock=0.0) -> tuple[float, float]:
        return 0.0, float((self.intercept + abs(shock)) / self.slope)
