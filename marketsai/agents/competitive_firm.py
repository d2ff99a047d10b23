"""A competitive firm: hires capital and labour at market prices and sells its output.

It takes no decisions a learner could make: under constant returns and price taking its
only consistent choice is to hire what the factor markets clear at marginal-product
prices (:mod:`marketsai.clearing`), so it is not an actor of the environments. Its
technology (:mod:`marketsai.agents.technology`) is a parameter; its profit, zero under
constant returns up to rounding, is paid to the households that own it.
"""

from __future__ import annotations

import numpy as np

from marketsai.agents.base import AgentType, check_field_param
from marketsai.agents.registry import agent_types
from marketsai.agents.technology import TECHNOLOGIES
from marketsai.params import Check, Param, one_of, positive, unit_open

_opt_field = Check(lambda x: x is None or (isinstance(x, str) and x.isidentifier()),
                   "null or a process field name")
_rho = Check(lambda x: isinstance(x, (int, float)) and not isinstance(x, bool) and x < 1 and x != 0,
             "a number < 1 other than 0 (elasticity of substitution 1 / (1 - rho))", True)


@agent_types.register("competitive_firm")
class CompetitiveFirm(AgentType):
    """A price-taking firm with a constant-returns technology (see the module docstring)."""

    params = {
        "technology": Param("cobb_douglas", one_of(*TECHNOLOGIES), "production function"),
        "alpha": Param(0.36, unit_open, "capital share (Cobb–Douglas) or capital weight (CES)"),
        "tfp": Param(1.0, positive, "total factor productivity A"),
        "rho": Param(-0.5, _rho, "CES substitution parameter (technology: ces)"),
        "productivity": Param("z", _opt_field, "process field read as productivity z (null: z = 1)"),
    }
    trades = False
    action_fields = {}
    market_roles = {"capital": "buyer", "labour": "buyer", "goods": "seller"}

    def check(self, exo_fields, path):
        check_field_param(self.p["productivity"], exo_fields, f"{path}.params.productivity", "productivity",
                          "z = 1", minimum=0.0)

    def productivity(self, exo, batch: int) -> np.ndarray:
        name = self.p["productivity"]
        return np.ones(batch) if name is None else np.asarray(exo[name], dtype=float)

    def own_outcome(self, state, decisions, exo, prices=None):
        return {k: prices[k] for k in ("output", "capital", "labour", "profit", "price")}

    def reward(self, state, decisions, outcome, exo):
        return outcome["profit"]
