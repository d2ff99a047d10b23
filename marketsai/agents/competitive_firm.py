"""A competitive firm: hires capital and labour at market prices and sells its output.

It takes no decisions a learner could make: under constant returns and price taking its
only consistent choice is to sell at its unit cost and hire what its output needs at the
factor prices (:mod:`marketsai.clearing`), so it is not an actor of the environments. Its
technology (:mod:`marketsai.agents.technology`) is a parameter; its profit, zero under
constant returns up to rounding, is paid to the households that own it.
"""

from __future__ import annotations

import numpy as np

from marketsai.agents import technology as tech
from marketsai.agents.base import Producer, check_field_param
from marketsai.agents.registry import agent_types
from marketsai.errors import SpecError
from marketsai.params import Check, Param, one_of, positive, unit_open

_opt_field = Check(lambda x: x is None or (isinstance(x, str) and x.isidentifier()),
                   "null or a process field name")
_rho = Check(lambda x: isinstance(x, (int, float)) and not isinstance(x, bool) and x < 1 and x != 0,
             "a number < 1 other than 0 (elasticity of substitution 1 / (1 - rho))", True)
#: the factor markets a firm hires in, by good: the market type to list it in, the name of its price
FACTORS = {"capital": ("capital_rental", "rental rate"), "labour": ("labour", "wage")}


@agent_types.register("competitive_firm")
class CompetitiveFirm(Producer):
    """A price-taking firm with a constant-returns technology (see the module docstring)."""

    params = {
        "technology": Param("cobb_douglas", one_of(*tech.TECHNOLOGIES), "production function"),
        "alpha": Param(0.36, unit_open, "capital share (Cobb–Douglas) or capital weight (CES)"),
        "tfp": Param(1.0, positive, "total factor productivity A"),
        "rho": Param(-0.5, _rho, "CES substitution parameter (technology: ces)"),
        "productivity": Param("z", _opt_field, "process field read as productivity z (null: z = 1)"),
    }
    market_roles = {"capital": "buyer", "labour": "buyer", "goods": "seller"}

    def check(self, exo_fields, path):
        check_field_param(self.p["productivity"], exo_fields, f"{path}.params.productivity", "productivity",
                          "z = 1", minimum=0.0)

    def check_markets(self, name, mine, clearing):
        """One goods market to sell in, a capital and a labour market to hire in, one firm per entry."""
        sells = [k for k, m, role in mine if m.good == "goods"]
        if not sells:
            raise SpecError(f"firm {name!r} sells in no goods market: its output is a good nobody pays for",
                            path=f"{self.where}.name", value=name, allowed="list it as a participant of a goods market")
        if len(sells) > 1:
            raise SpecError(f"firm {name!r} sells in two goods markets; a firm produces one good",
                            path=f"{self.where}.name", value=name, allowed="one goods market per firm")
        for good, (market_type, price) in FACTORS.items():
            if not any(m.good == good for _, m, _ in mine):
                raise SpecError(f"firm {name!r} hires no {good}: its technology needs {good} (share in (0, 1)), "
                                f"so its {price} cannot clear", path=f"{self.where}.name", value=name,
                                allowed=f"list it in a {good} market ({market_type})")
        if self.count > 1:
            raise SpecError("a competitive firm entry with count > 1: under constant returns the split of "
                            "output among identical price takers is indeterminate", path=f"{self.where}.count",
                            value=self.count, allowed="1 (one firm per good)")
        if len(clearing.producers) > 1 and self.p["technology"] != "cobb_douglas":
            raise SpecError("several sectors clear in closed form with Cobb–Douglas technologies only",
                            path=f"{self.where}.params.technology", value=self.p["technology"],
                            allowed="cobb_douglas (or one sector)")

    def productivity(self, exo, batch: int) -> np.ndarray:
        name = self.p["productivity"]
        return np.ones(batch) if name is None else np.asarray(exo[name], dtype=float)

    def _technology(self, fn, factors, exo, batch):
        """``fn`` of :mod:`~marketsai.agents.technology` at ``factors`` (capital and labour
        prices or quantities) with this firm's technology, productivity and parameters."""
        p = self.p
        return fn(p["technology"], factors["capital"], factors["labour"], self.productivity(exo, batch),
                  p["tfp"], p["alpha"], p["rho"])

    def unit_cost(self, prices, exo, batch):
        return self._technology(tech.unit_cost, prices, exo, batch)

    def unit_inputs(self, prices, exo, batch):
        return dict(zip(FACTORS, self._technology(tech.unit_inputs, prices, exo, batch), strict=True))

    def produce(self, inputs, exo, batch):
        return self._technology(tech.output, inputs, exo, batch)

    def marginal_products(self, inputs, exo, batch):
        return dict(zip(FACTORS, self._technology(tech.marginal_products, inputs, exo, batch), strict=True))

    def cost_shares(self):
        if self.p["technology"] != "cobb_douglas":
            return None
        return {"capital": self.p["alpha"], "labour": 1.0 - self.p["alpha"]}
