"""A user's competitive market and agent type, outside the package: a Huggett (1993) bond market.

Households receive an idiosyncratic endowment ``y`` (a per-agent process) and trade a
one-period bond among themselves: a bond bought at price ``q`` today pays one unit of the
good tomorrow (interest rate ``1 / q - 1``). Both sides of the market are learning
households: whoever saves buys bonds, whoever borrows sells them, down to the borrowing
limit ``b' >= -phi``. Bonds are in zero net supply, and there is no aggregate risk.

A household's decision is the share ``s`` of its resources above the borrowing limit,
``a = b + y + q phi``, that it keeps as wealth above the limit: ``q (b' + phi) = s a``, and
it consumes ``c = (1 - s) a``, so ``c + q b' = b + y`` whatever ``q`` is. Its bond demand
``b'(q) = -phi + s a / q`` falls with the price, so the market's price is the root of the
households' excess demand at candidate prices (``pricing = "excess_demand"``), found by
the economy's clearing jointly with any other market. Here it has a closed form,
``q = sum_i s_i (b_i + y_i) / (phi (n - sum_i s_i))`` (:func:`bond_price`), which the tests
hold the clearing to. Used by ``tests/test_clearing_plugins.py`` through
``economies/huggett.yaml``, by import path.
"""

import numpy as np

from marketsai.agents import AgentType
from marketsai.agents.base import check_field_param
from marketsai.agents.planner import crra
from marketsai.errors import SpecError
from marketsai.markets import CompetitiveMarket
from marketsai.params import Check, Param, positive, unit_open


class BondMarket(CompetitiveMarket):
    """One-period bonds at price ``q``; sellers borrow, buyers lend; zero net supply."""

    good = "bonds"
    roles = {"seller": "borrows: sells bonds", "buyer": "saves: buys bonds"}
    pricing = "excess_demand"
    price_guess = 1.0


class BondHousehold(AgentType):
    """A Huggett household: endowment ``y``, bonds ``b``, borrowing limit ``phi`` (module docstring)."""

    params = {
        "gamma": Param(2.0, positive, "relative risk aversion (CRRA; 1: log)"),
        "income": Param("y", Check(lambda x: isinstance(x, str), "a process field name"),
                        "process field read as the endowment y"),
        "borrowing_limit": Param(0.5, positive, "phi: bonds held never fall below -phi"),
    }
    state = {"b": "bonds held: claims to one unit of the good this period"}
    trades = False
    action_fields = {"low": Param(0.05, unit_open, "lowest share s"), "high": Param(0.95, unit_open, "highest share s")}
    market_roles = {"bonds": "both"}

    def check(self, exo_fields, path):
        phi = self.p["borrowing_limit"]
        check_field_param(self.p["income"], exo_fields, f"{path}.params.income", "the endowment", "none",
                          minimum=phi)  # y > phi keeps resources positive at any bond price
        if self.state_spec["b"]["low"] < -phi:
            raise SpecError("bond holdings start above the borrowing limit", path=f"{path}.state.b.low",
                            value=self.state_spec["b"]["low"], allowed=f"a number >= -{phi}")

    def check_markets(self, name, mine, clearing):
        if not any(m.good == "bonds" for _, m, _ in mine):
            raise SpecError(f"household {name!r} trades in no bond market", path=f"{self.where}.name",
                            value=name, allowed="list it in a bond market")

    def decision_sets(self):
        a = self.action
        return [{"name": "wealth_share", "kind": "interval", "low": a["low"], "high": a["high"], "grid": None}]

    def own_outcome(self, state, decisions, exo, prices=None):
        q, phi = prices["bonds"], self.p["borrowing_limit"]
        y = np.broadcast_to(exo[self.p["income"]], state["b"].shape)
        s = decisions[..., 0]
        resources = state["b"] + y + q * phi
        b_next = -phi + s * resources / q
        return {"consumption": (1.0 - s) * resources, "b_next": b_next, "income": y, "trades": {"bonds": b_next}}

    def reward(self, state, decisions, outcome, exo):
        return crra(outcome["consumption"], self.p["gamma"])

    def transition(self, state, decisions, outcome, exo):
        return {"b": outcome["b_next"]}


def bond_price(b, y, s, phi):
    """The closed-form clearing price of :class:`BondMarket` for ``(B, n)`` holdings, endowments, shares."""
    return (s * (b + y)).sum(axis=1) / (phi * (b.shape[1] - s.sum(axis=1)))
