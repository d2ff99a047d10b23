"""A market with a price set outside it, outside the package: a small open economy's bond market.

The households of :mod:`huggett` trade bonds at the world price ``q* = 1 / (1 + r*)``
(``pricing = "exogenous"``): the economy is too small to move it. The rest of the world
(:class:`RestOfWorld`) takes whatever the households leave at that price -- it lends to
them when they borrow on net and borrows when they save -- so the market clears by
quantity, not by price. Its type declares that it ``accommodates`` bonds, and the
clearing tells it, as ``prices["residual:bonds"]``, the households' excess supply. Used by
``tests/test_clearing_plugins.py`` through ``economies/small_open.yaml``, by import path.
"""

import numpy as np

from marketsai.agents import AgentType
from marketsai.markets import CompetitiveMarket
from marketsai.params import Param, nonnegative


class WorldBonds(CompetitiveMarket):
    """One-period bonds at the world price ``1 / (1 + rate)``."""

    good = "bonds"
    roles = {"seller": "borrows: sells bonds", "buyer": "saves: buys bonds"}
    pricing = "exogenous"
    params = {"rate": Param(0.03, nonnegative, "world interest rate r*")}

    def exogenous_price(self, exo, batch):
        return np.full(batch, 1.0 / (1.0 + self.rate))


class RestOfWorld(AgentType):
    """Buys the bonds the households sell on net, and sells those they buy (module docstring)."""

    trades = False
    action_fields = {}
    market_roles = {"bonds": "both"}
    accommodates = ("bonds",)

    def own_outcome(self, state, decisions, exo, prices=None):
        bought = prices["residual:bonds"]
        return {"bonds_bought": bought, "lending": prices["bonds"] * bought, "trades": {"bonds": bought}}

    def reward(self, state, decisions, outcome, exo):
        return np.zeros_like(outcome["bonds_bought"])
