"""A user's government, outside the package: it buys goods with an income tax it levies.

The tax is a competitive market of its own (:class:`IncomeTax`): taxpayers supply their
tax base (their factor income ``r k + w l e`` at the pre-tax prices) and the government
demands the base that pays for its spending, ``G p / tau`` at tax rate ``tau``; the tax
rate is the market's price, the root of its excess demand (``pricing =
"excess_demand"``). Where it clears, ``tau * sum(base) = p G``: the government's budget
balances every period. It clears jointly with the factor and goods markets, since the
tax changes what households spend and the government's purchases change output.

* :class:`Government` -- buys ``spending`` units of the good each period (no decisions,
  not an actor of the environments);
* :class:`TaxpayingHousehold` -- a :class:`~marketsai.agents.household.Household` that also
  sells its tax base: it keeps ``1 - tau`` of its factor income, so its budget is
  ``c + k' = (1 - delta) k + (1 - tau) (r k + w l e) + pi`` (one good).

Used by ``tests/test_clearing_plugins.py`` through ``economies/government.yaml``, by
import path.
"""

import numpy as np

from marketsai.agents import AgentType
from marketsai.agents.household import Household
from marketsai.errors import SpecError
from marketsai.markets import CompetitiveMarket
from marketsai.params import Param, positive


class IncomeTax(CompetitiveMarket):
    """Tax base traded at the tax rate: the rate at which revenue pays for the government's spending."""

    good = "tax"
    roles = {"seller": "pays the tax: supplies its income as the base", "buyer": "levies the tax to spend it"}
    pricing = "excess_demand"
    price_guess = 0.1


def _goods_item(items):
    return next(i for i in items if i in ("goods:both", "goods:consumption"))


class Government(AgentType):
    """Buys ``spending`` units of the good each period with the tax it levies (module docstring)."""

    params = {"spending": Param(0.1, positive, "goods bought each period, G")}
    trades = False
    action_fields = {}
    market_roles = {"tax": "buyer", "goods": "buyer"}

    def check_markets(self, name, mine, clearing):
        goods = {m.good for _, m, _ in mine}
        if "tax" not in goods or "goods" not in goods:
            raise SpecError(f"government {name!r} needs a tax market to levy and a goods market to spend in",
                            path=f"{self.where}.name", value=name, allowed="list it in a tax and a goods market")

    def own_outcome(self, state, decisions, exo, prices=None):
        good = _goods_item(prices)
        tau, p = prices["tax"], prices[good]
        G = np.full(np.broadcast_shapes(tau.shape, (tau.shape[0], self.count)), self.p["spending"])
        return {"spending": p * G, "tax_rate": np.broadcast_to(tau, G.shape),
                "trades": {"tax": p * G / tau, good: G}}

    def reward(self, state, decisions, outcome, exo):
        return np.zeros_like(outcome["spending"])


class TaxpayingHousehold(Household):
    """A household that pays the income tax (module docstring)."""

    market_roles = {**Household.market_roles, "tax": "seller"}

    def check_markets(self, name, mine, clearing):
        super().check_markets(name, mine, clearing)
        if not any(m.good == "tax" for _, m, _ in mine):
            raise SpecError(f"taxpayer {name!r} pays in no tax market", path=f"{self.where}.name", value=name,
                            allowed="list it in the tax market")

    def income_shares(self, state, decisions, exo, items):
        return None  # its spending depends on the tax rate, a price

    def own_outcome(self, state, decisions, exo, prices=None):
        tau = prices["tax"]
        net = {**prices, "capital": (1.0 - tau) * prices["capital"], "labour": (1.0 - tau) * prices["labour"]}
        out = super().own_outcome(state, decisions, exo, net)
        base = prices["capital"] * state["k"] + prices["labour"] * out["labour"]
        out["tax"] = tau * base
        out["trades"]["tax"] = -base
        return out
