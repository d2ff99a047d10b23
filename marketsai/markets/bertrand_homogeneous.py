"""Price competition in a homogeneous good with linear demand (Klein 2021, Maskin–Tirole 1988).

Market demand is ``D(p) = max(intercept + shock - slope p, 0)``. The lowest price takes
the whole demand; firms tied at the lowest price split it equally; the others sell
nothing. A firm's profit is ``(p_i - c_i) q_i``.

Why its own market: Klein's sequential-pricing study (focal prices and Edgeworth cycles)
needs undercutting to take the market, which logit demand never does.

Benchmarks (continuous prices): the static Nash equilibrium is Bertrand's, every firm at
the second-lowest cost (with equal costs: at marginal cost, zero profit); the joint
optimum is the cheapest firms charging the monopoly price ``(a/b + c_min) / 2`` and
splitting the demand. On a price grid the one-shot game has other equilibria (both firms
at the lowest price above cost); those are properties of the grid, computed from the
payoff table where they matter.
"""

from __future__ import annotations

import numpy as np

from marketsai.markets.base import Outcome
from marketsai.markets.linear_demand import LinearDemandMarket
from marketsai.markets.registry import markets
from marketsai.params import Param, positive


@markets.register("bertrand_homogeneous")
class BertrandHomogeneous(LinearDemandMarket):
    """Homogeneous-good Bertrand competition, linear demand, constant marginal costs.

    Examples
    --------
    >>> mkt = BertrandHomogeneous(2)              # D = 1 - p, zero costs (Klein 2021)
    >>> mkt.clear(np.array([0.5, 0.5])).profit.tolist()
    [0.125, 0.125]
    >>> mkt.clear(np.array([0.5, 4 / 12])).profit.round(4).tolist()
    [0.0, 0.2222]
    >>> mkt.nash().tolist(), mkt.joint_optimum().tolist()
    ([0.0, 0.0], [0.5, 0.5])
    """

    action = "price"
    params = {**LinearDemandMarket.params,
              "intercept": Param(1.0, positive, "demand intercept a: D(p) = a - b p")}

    def choke_price(self) -> float:
        """``a / b``: demand is zero at and above it."""
        return self.intercept / self.slope

    def clear(self, actions, shock=0.0) -> Outcome:
        p = np.asarray(actions, dtype=float)
        low = p.min(axis=-1, keepdims=True)
        winners = p == low
        demand = np.maximum(self.intercept + np.asarray(shock, dtype=float)[..., None] - self.slope * low, 0.0)
        q = np.where(winners, demand / winners.sum(axis=-1, keepdims=True), 0.0)
        return Outcome(price=p, quantity=q, profit=(p - self.cost) * q)

    def nash(self, shock: float = 0.0) -> np.ndarray:
        """Bertrand: every firm at the second-lowest cost (at cost when costs are equal)."""
        second = np.sort(self.cost)[1] if self.n > 1 else self.monopoly_price(shock)
        return np.full(self.n, min(second, self.monopoly_price(shock)))

    def joint_optimum(self, shock: float = 0.0) -> np.ndarray:
        """The cheapest firms at the monopoly price; the others priced out at the same price."""
        return np.full(self.n, self.monopoly_price(shock))

    def monopoly_price(self, shock: float = 0.0) -> float:
        """``argmax (p - c_min) D(p) = ((a + shock) / b + c_min) / 2``."""
        return float(((self.intercept + shock) / self.slope + np.min(self.cost)) / 2)

    def best_response(self, i: int, actions, shock: float = 0.0) -> np.ndarray:
        """Against rivals whose lowest price is ``r``: the monopoly price if it is below ``r``,
        else just under ``r`` (the supremum is not attained on continuous prices; one part in
        1e9 below ``r``), and ``r`` itself when undercutting would price below cost."""
        p = np.asarray(actions, dtype=float)
        rivals = np.delete(p, i, axis=-1).min(axis=-1)
        pm = ((self.intercept + shock) / self.slope + self.cost[i]) / 2
        under = rivals * (1 - 1e-9)
        return np.where(pm < rivals, pm, np.where(under > self.cost[i], under, rivals))

    def action_bounds(self, shock: float = 0.0) -> tuple[float, float]:
        return 0.0, float((self.intercept + abs(shock)) / self.slope)
