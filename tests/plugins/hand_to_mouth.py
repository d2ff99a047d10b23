"""A user's agent type in the package's markets, outside the package: hand-to-mouth households.

A hand-to-mouth household owns no capital and cannot save: it sells its hours ``l``
(times a labour efficiency ``e``, 1 by default) in the labour market and spends its
whole wage on the good it consumes, ``p c = w l e`` -- the one good of a one-sector
economy or the consumption good of a two-sector one. It takes no decisions, so it is not
an actor of the environments; the economy steps it with everyone else. Its supply does
not depend on prices and it spends all its income on one good, so it has the fast
path's form (``income_shares``). Used by ``tests/test_clearing_plugins.py`` through
``economies/hand_to_mouth.yaml``, by import path.
"""

import numpy as np

from marketsai.agents import AgentType
from marketsai.agents.planner import crra
from marketsai.errors import SpecError
from marketsai.params import Param, positive


class HandToMouth(AgentType):
    """Sells ``hours`` of labour, consumes its wage (module docstring)."""

    params = {
        "hours": Param(1.0, positive, "hours sold each period"),
        "gamma": Param(1.0, positive, "relative risk aversion (CRRA; 1: log)"),
    }
    trades = False
    action_fields = {}
    market_roles = {"labour": "seller", "goods": "buyer"}

    def check_markets(self, name, mine, clearing):
        if not any(m.good == "labour" for _, m, _ in mine):
            raise SpecError(f"hand-to-mouth household {name!r} sells its hours in no labour market",
                            path=f"{self.where}.name", value=name, allowed="list it in the labour market")
        if len([m for _, m, _ in mine if m.good == "goods"]) != 1 or self._good(mine) is None:
            raise SpecError(f"hand-to-mouth household {name!r} needs one good to consume",
                            path=f"{self.where}.name", value=name,
                            allowed="list it in the goods market of use both or consumption")

    @staticmethod
    def _good(mine):
        return next((m.item for _, m, _ in mine if m.good == "goods" and m.use in ("both", "consumption")), None)

    def income_shares(self, state, decisions, exo, items):
        good = next(i for i in items if i in ("goods:both", "goods:consumption"))
        hours = np.full(decisions.shape[:-1], self.p["hours"])
        return {"labour": hours}, {good: np.ones_like(hours)}

    def own_outcome(self, state, decisions, exo, prices=None):
        good = "goods:both" if "goods:both" in prices else "goods:consumption"
        hours = np.full(decisions.shape[:-1], self.p["hours"])
        wage = prices["labour"] * hours
        consumption = wage / prices[good]
        return {"consumption": consumption, "wage_bill": wage, "hours": hours,
                "trades": {"labour": -hours, good: consumption}}

    def reward(self, state, decisions, outcome, exo):
        return crra(outcome["consumption"], self.p["gamma"])
