"""Price competition with multinomial-logit demand (Calvano et al. 2020, eq. 1).

Demand for good i, with an outside good 0::

    q_i = exp((a_i - p_i)/mu) / (sum_j exp((a_j - p_j)/mu) + exp(a_0/mu))

computed with log-sum-exp so that no valid parameters overflow. A demand ``shock``
shifts every inside quality ``a_i`` by the same amount.

Both benchmarks have closed forms in the Lambert W function (solved by Newton in
log space, stable for any parameters):

* best response: ``p_i = c_i + mu (1 + W(exp((a_i - c_i)/mu - 1) / S_-i))`` where
  ``S_-i`` is the rivals' and outside good's sum of exponentials;
* joint optimum: every firm charges the same markup ``m = mu (1 + W(A e^{-a_0/mu - 1}))``
  with ``A = sum_i exp((a_i - c_i)/mu)``.

The Nash equilibrium iterates exact best responses to a fixed point.
"""

from __future__ import annotations

import numpy as np

from marketsai.errors import SpecError
from marketsai.markets.base import Outcome, StrategicMarket
from marketsai.markets.registry import markets
from marketsai.params import Param, nonnegative, positive, real


def _log_w_of_exp(L):
    """``u = ln W(e^L)``, i.e. the root of ``u + e^u = L`` (Newton; f is convex, increasing)."""
    L = np.asarray(L, dtype=float)
    u = np.where(L > 1.0, np.log(np.maximum(L, 1.0)), L)  # from the right of the root
    u = np.minimum(u, L)
    for _ in range(100):
        eu = np.exp(u)
        step = (u + eu - L) / (1.0 + eu)
        u = u - step
        if np.all(np.abs(step) <= 1e-15 * np.maximum(1.0, np.abs(u))):
            break
    return u


def _logsumexp(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return (m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))).squeeze(axis)


@markets.register("bertrand_logit")
class BertrandLogit(StrategicMarket):
    """Bertrand competition with logit demand and constant marginal costs.

    Examples
    --------
    The Calvano et al. (2020) baseline:

    >>> mkt = BertrandLogit(2, cost=1.0, quality=2.0, mu=0.25, outside_quality=0.0)
    >>> [round(float(p), 5) for p in mkt.nash()]
    [1.47293, 1.47293]
    >>> [round(float(p), 5) for p in mkt.joint_optimum()]
    [1.92498, 1.92498]
    >>> out = mkt.clear(np.array([1.5, 1.6]))
    >>> out.profit.shape
    (2,)
    """

    action = "price"
    params = {
        "cost": Param(1.0, nonnegative, "marginal cost c_i of the participant", per_participant=True),
        "quality": Param(2.0, real, "product quality a_i of the participant", per_participant=True),
        "mu": Param(0.25, positive, "horizontal differentiation mu (mu -> 0: perfect substitutes)"),
        "outside_quality": Param(0.0, real, "quality a_0 of the outside good"),
    }

    def check_parameters(self, path: str = "") -> None:
        z = (np.asarray(self.quality) - np.asarray(self.cost)) / self.mu
        if np.any(np.abs(z) > 700) or abs(self.outside_quality / self.mu) > 700:
            raise SpecError("(quality - cost)/mu and outside_quality/mu must lie within +-700 "
                            "(the demand would be 0 or 1 to machine precision)",
                            path=f"{path}.params.mu" if path else "mu", value=self.mu,
                            allowed="a larger mu, or qualities closer to costs")

    #: a firm whose demand at price = cost, against the outside good alone, is below this
    #: share (``(a_i - c_i - a_0)/mu < ln 1e-12``) sells nothing at any price that covers
    #: its cost: its quality is outside what the demand allows
    MIN_SHARE = 1e-12

    @classmethod
    def from_spec(cls, market_params, participants, path=""):
        market = super().from_spec(market_params, participants, path)
        z = (market.quality - market.cost - market.outside_quality) / market.mu
        low = np.flatnonzero(z < np.log(cls.MIN_SHARE))
        if low.size:
            i = int(low[0])
            floor = market.cost[i] + market.outside_quality + market.mu * np.log(cls.MIN_SHARE)
            raise SpecError(f"with this quality the firm sells nothing at any price covering its cost "
                            f"(demand share below {cls.MIN_SHARE:g} against the outside good alone)",
                            path=f"{participants[i][0]}.quality", value=float(market.quality[i]),
                            allowed=f"a quality > {floor:.6g} (cost + outside_quality + mu ln "
                                    f"{cls.MIN_SHARE:g})")
        return market

    def _z(self, prices, shock):
        shock = np.asarray(shock, dtype=float)[..., None]
        return (self.quality + shock - prices) / self.mu

    def clear(self, actions, shock=0.0) -> Outcome:
        p = np.asarray(actions, dtype=float)
        z = self._z(p, shock)
        z0 = np.broadcast_to(np.asarray(self.outside_quality / self.mu), z.shape[:-1])[..., None]
        lse = _logsumexp(np.concatenate([z, z0], axis=-1))
        q = np.exp(z - lse[..., None])
        return Outcome(price=p, quantity=q, profit=(p - self.cost) * q)

    def best_response(self, i, actions, shock=0.0) -> np.ndarray:
        p = np.asarray(actions, dtype=float)
        z = self._z(p, shock)
        z0 = np.broadcast_to(np.asarray(self.outside_quality / self.mu), z.shape[:-1])[..., None]
        others = np.concatenate([np.delete(z, i, axis=-1), z0], axis=-1)
        log_s = _logsumexp(others)
        shock = np.asarray(shock, dtype=float)
        L = (self.quality[i] + shock - self.cost[i]) / self.mu - 1.0 - log_s
        return self.cost[i] + self.mu * (1.0 + np.exp(_log_w_of_exp(L)))

    def nash(self, shock=0.0) -> np.ndarray:
        p = np.asarray(self.cost, dtype=float) + self.mu
        for _ in range(100_000):
            old = p.copy()
            for i in range(self.n):  # Gauss-Seidel on exact best responses
                p[i] = self.best_response(i, p, shock)
            if np.max(np.abs(p - old)) <= 1e-15 * max(1.0, np.max(np.abs(p))):
                break
        return p

    def foc_residual(self, prices, shock=0.0) -> np.ndarray:
        """Each firm's first-order condition ``q_i - (p_i - c_i) q_i (1 - q_i)/mu`` divided by q_i."""
        out = self.clear(prices, shock)
        return 1.0 - (out.price - self.cost) * (1.0 - out.quantity) / self.mu

    def joint_optimum(self, shock=0.0) -> np.ndarray:
        log_a = _logsumexp((self.quality + float(shock) - self.cost) / self.mu)
        y = np.exp(_log_w_of_exp(log_a - self.outside_quality / self.mu - 1.0))
        return self.cost + self.mu * (1.0 + y)

    def action_bounds(self, shock=0.0) -> tuple[float, float]:
        return float(np.min(self.cost)), float(np.max(self.quality) + abs(float(shock)) + 50 * self.mu)
