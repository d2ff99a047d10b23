"""A household: owns capital and time, rents both to firms, consumes and saves within one budget.

Each period a household supplies its capital ``k`` (all of it) to the capital-rental
market and ``l e`` efficiency units of labour (hours ``l`` times the labour efficiency
``e`` of a process field, 1 by default) to the labour market, receives ``r k + w l e``
plus its share of profits ``pi``, and spends it in its goods markets:

* one good (a goods market with ``use: both``): cash on hand
  ``W = (1 + r - delta) k + w l e + pi``, a savings share ``s`` of it becomes next
  capital, ``k' = s W``, the rest is consumed, ``c = (1 - s) W``; the budget is
  ``c + k' = (1 + r - delta) k + w l e + pi`` (Brock–Mirman's competitive equilibrium at
  ``delta = 1``);
* two goods (``use: consumption`` and ``use: investment``): income
  ``W = r k + w l e + pi``, a share ``s`` buys the investment good at price ``p``,
  ``i = s W / p``, ``k' = (1 - delta) k + i``, and ``c = (1 - s) W``; the budget is
  ``c + p i = r k + w l e + pi``.

With ``params.benefit = mu`` (Krusell–Smith's unemployment insurance) each household also
receives ``mu w (1 - e)`` and pays a tax ``tau w l e`` on its labour income, ``tau`` set so
that the entry's transfers sum to zero in every period and session.

Its flows in competitive markets (its ``trades``): it supplies ``k`` and ``l e`` whatever
the prices, and buys goods from its budget; the competitive clearing
(:mod:`marketsai.clearing`) reads them at candidate prices. Its steady-state capital (the
unit of ``state.k`` with ``scale: steady_state``) depends on the economy it is composed
into, so the economy computes it (:func:`steady_state_capital`) and passes it at
construction.

Hours are fixed (``action.hours: fixed``, ``params.hours``) or chosen in
``[hours_low, hours_high]``. Utility is ``u(c) + psi ln(1 - l)`` with CRRA ``u``. Since
``0 < s < 1`` and prices are positive the budget holds with ``c > 0`` by construction.
"""

from __future__ import annotations

import numpy as np

from marketsai.agents.base import AgentType, check_field_param
from marketsai.agents.planner import crra
from marketsai.agents.registry import agent_types
from marketsai.errors import SpecError
from marketsai.params import Check, Param, nonnegative, one_of, positive, unit_closed, unit_open

_opt_field = Check(lambda x: x is None or (isinstance(x, str) and x.isidentifier()),
                   "null or a process field name")
_opt_points = Check(lambda x: x is None or (isinstance(x, int) and not isinstance(x, bool) and x >= 2),
                    "null or an integer >= 2")

HOUSEHOLD_ACTION = {
    "kind": Param("interval", one_of("grid", "interval"), "grid of shares (and hours) or continuous ones"),
    "points": Param(None, _opt_points, "grid points of each decision (kind: grid; default 21)"),
    "low": Param(0.01, unit_open, "lowest savings share"),
    "high": Param(0.99, unit_open, "highest savings share"),
    "hours": Param("fixed", one_of("fixed", "choice"), "fixed: params.hours every period; choice: a decision"),
    "hours_low": Param(0.05, unit_open, "fewest hours (hours: choice), as a share of the time endowment 1"),
    "hours_high": Param(0.95, unit_open, "most hours (hours: choice)"),
}


@agent_types.register("household")
class Household(AgentType):
    """A household of a market economy (see the module docstring).

    Examples
    --------
    >>> action = Household.resolve_action({k: p.default for k, p in HOUSEHOLD_ACTION.items()}, "action")
    >>> h = Household({"gamma": 1.0, "psi": 0.0, "hours": 1.0, "delta": 1.0, "efficiency": None},
    ...               Household.validate_state({"k": {"scale": "level"}}, "state"), action, 2, 0.95)
    >>> [d["name"] for d in h.decision_sets()]
    ['savings_share']
    """

    params = {
        "gamma": Param(1.0, positive, "relative risk aversion of CRRA consumption utility (1: log)"),
        "psi": Param(0.0, nonnegative, "weight of leisure in utility, u(c) + psi ln(1 - l) (0: none)"),
        "hours": Param(1.0, positive, "hours worked each period when action.hours is fixed"),
        "delta": Param(1.0, unit_closed, "depreciation rate of the capital the household owns"),
        "efficiency": Param(None, _opt_field, "process field read as labour efficiency e "
                                              "(e.g. employment; null: e = 1)"),
        "benefit": Param(0.0, nonnegative, "unemployment benefit mu: each household receives mu w (1 - e), "
                                           "paid by a tax on its entry's labour income that balances every "
                                           "period (needs efficiency; Krusell–Smith's mu)"),
    }
    state = {"k": "capital owned"}
    trades = False
    action_fields = HOUSEHOLD_ACTION
    market_roles = {"capital": "seller", "labour": "seller", "goods": "buyer"}
    shareholder = True

    @classmethod
    def resolve_action(cls, action: dict, path: str) -> dict:
        action = dict(action)
        if action["kind"] == "grid" and action["points"] is None:
            action["points"] = 21
        if action["kind"] == "interval" and action["points"] is not None:
            raise SpecError("points is for kind: grid", path=f"{path}.points", value=action["points"],
                            allowed="null with kind: interval")
        for lo, hi in (("low", "high"), ("hours_low", "hours_high")):
            if action[lo] >= action[hi]:
                raise SpecError(f"{lo} must be below {hi}", path=f"{path}.{lo}", value=action[lo],
                                allowed=f"a number < {action[hi]}")
        return action

    def check(self, exo_fields, path):
        check_field_param(self.p["efficiency"], exo_fields, f"{path}.params.efficiency", "labour efficiency",
                          "e = 1", minimum=0.0, strict=False)
        if self.p["benefit"] > 0 and self.p["efficiency"] is None:
            raise SpecError("an unemployment benefit is paid to households with low labour efficiency e; "
                            "set params.efficiency to a process field", path=f"{path}.params.benefit",
                            value=self.p["benefit"], allowed="0 without params.efficiency")
        if self.action["hours"] == "fixed" and self.p["psi"] > 0 and self.p["hours"] >= 1:
            raise SpecError("with leisure in utility (psi > 0) fixed hours must leave leisure, hours < 1",
                            path=f"{path}.params.hours", value=self.p["hours"], allowed="a number in (0, 1)")
        if not self.state_spec["k"]["low"] > 0:
            raise SpecError("capital must stay positive", path=f"{path}.state.k.low",
                            value=self.state_spec["k"]["low"], allowed="a number > 0")
        if self.units is not None and self.state_spec["k"]["scale"] == "steady_state" and self.k_steady is None:
            raise SpecError("this economy has no known steady state to scale capital by",
                            path=f"{path}.state.k.scale", value="steady_state", allowed="level (absolute values)")

    # ------------------------------------------------------------ composition
    def check_markets(self, name, mine, clearing):
        """A capital and a labour market to sell in; one good, or a consumption and an investment good."""
        goods = {m.good for _, m, _ in mine}
        if "capital" not in goods:
            raise SpecError(f"household {name!r} owns capital but rents it out in no capital market",
                            path=f"{self.where}.name", value=name, allowed="list it in the capital_rental market")
        if "labour" not in goods:
            raise SpecError(f"household {name!r} has time but sells it in no labour market",
                            path=f"{self.where}.name", value=name, allowed="list it in the labour market")
        uses = sorted(m.use for _, m, _ in mine if m.good == "goods")
        if not uses:
            raise SpecError(f"household {name!r} buys in no goods market: it cannot consume or invest",
                            path=f"{self.where}.name", value=name, allowed="list it in the goods market(s)")
        if uses not in (["both"], ["consumption", "investment"]):
            missing = sorted({"consumption", "investment"} - set(uses))
            raise SpecError(f"household {name!r} buys goods of uses {uses}: it needs one good it both "
                            "consumes and invests, or a consumption good and an investment good"
                            + (f" (it buys no {' or '.join(missing)} good)" if missing else ""),
                            path=f"{self.where}.name", value=name,
                            allowed="[both] or [consumption, investment] (goods markets' params.use)")

    def state_units(self, econ, e):
        """``k``'s unit: the steady-state capital of the composed economy (None where unknown)."""
        return {"k": steady_state_capital(econ, e)}

    @property
    def k_steady(self) -> float | None:
        """Steady-state capital per household (the unit of ``scale: steady_state``), from the economy."""
        return None if self.units is None else self.units.get("k")

    def scale(self, field):
        if self.state_spec[field]["scale"] == "level":
            return 1.0
        if self.k_steady is None:
            raise SpecError("this economy has no known steady state to scale capital by",
                            path=f"{self.where}.state.{field}.scale", value="steady_state",
                            allowed="level (absolute values)")
        return self.k_steady

    # ------------------------------------------------------------ decisions
    def decision_sets(self):
        a = self.action
        grid = np.linspace(a["low"], a["high"], a["points"]) if a["kind"] == "grid" else None
        out = [{"name": "savings_share", "kind": a["kind"], "low": a["low"], "high": a["high"], "grid": grid}]
        if a["hours"] == "choice":
            g = np.linspace(a["hours_low"], a["hours_high"], a["points"]) if a["kind"] == "grid" else None
            out.append({"name": "hours", "kind": a["kind"], "low": a["hours_low"], "high": a["hours_high"],
                        "grid": g})
        return out

    def hours(self, decisions) -> np.ndarray:
        if self.action["hours"] == "choice":
            return decisions[..., 1]
        return np.full(decisions.shape[:-1], self.p["hours"])

    def labour_supply(self, decisions, exo) -> np.ndarray:
        """Efficiency units of labour it sells, hours times efficiency ``l e``, ``(B, count)``."""
        l = self.hours(decisions)  # noqa: E741
        e = self.p["efficiency"]
        return l * (1.0 if e is None else (exo[e] if np.ndim(exo[e]) == 2 else np.asarray(exo[e])[:, None]))

    def income_shares(self, state, decisions, exo, items):
        """Capital and labour whatever the prices; one good takes all income, else ``1 - s`` and ``s``.

        Not of this form with two goods and benefits: the transfers move income between
        households who split it differently.
        """
        supplies = {"capital": state["k"], "labour": self.labour_supply(decisions, exo)}
        if "goods:both" in items:
            return supplies, {"goods:both": np.ones_like(state["k"])}
        if self.p["benefit"] > 0:
            return None
        s = decisions[..., 0]
        return supplies, {"goods:consumption": 1.0 - s, "goods:investment": s}

    # ------------------------------------------------------------ the period
    def own_outcome(self, state, decisions, exo, prices=None):
        if prices is None:
            raise SpecError("a household needs markets: it earns in capital and labour markets and buys goods",
                            path=f"{self.where}.name", value=self.where, allowed="list it in markets' participants")
        k = state["k"]
        s = decisions[..., 0]
        r, w = prices["capital"], prices["labour"]
        labour = self.labour_supply(decisions, exo)
        income = r * k + w * labour + prices["dividend"]
        transfer = self._transfer(labour, exo, w) if self.p["benefit"] > 0 else np.zeros_like(k)
        income = income + transfer
        d = self.p["delta"]
        if "goods:both" in prices:  # one good, consumed and invested
            cash = income + (1.0 - d) * k
            k_next = s * cash
            consumption = cash - k_next
            purchases = {"both": consumption + k_next - (1.0 - d) * k}
            trades = {"goods:both": purchases["both"] / prices["goods:both"]}
        else:
            consumption = (1.0 - s) * income / prices["goods:consumption"]
            invest = s * income / prices["goods:investment"]
            k_next = (1.0 - d) * k + invest
            purchases = {"consumption": consumption, "investment": invest}
            trades = {"goods:consumption": consumption, "goods:investment": invest}
        trades.update({"capital": -k, "labour": -labour})
        return {"consumption": consumption, "k_next": k_next, "income": income, "hours": self.hours(decisions),
                "labour": labour, "purchases": purchases, "rent": r * k, "wage_bill": w * labour,
                "dividend": prices["dividend"], "transfer": transfer, "trades": trades}

    def _transfer(self, labour, exo, w):
        """Benefit ``mu w (1 - e)`` less the balancing tax ``tau w l e``, ``tau = mu sum(1 - e) / sum(l e)``
        over the entry's households in each session: the transfers sum to zero every period."""
        e = exo[self.p["efficiency"]]
        e = e if np.ndim(e) == 2 else np.broadcast_to(np.asarray(e)[:, None], labour.shape)
        need = np.clip(1.0 - e, 0.0, None)
        tau = self.p["benefit"] * need.sum(axis=1, keepdims=True) / labour.sum(axis=1, keepdims=True)
        return w * (self.p["benefit"] * need - tau * labour)

    def reward(self, state, decisions, outcome, exo):
        u = crra(outcome["consumption"], self.p["gamma"])
        if self.p["psi"] > 0:
            u = u + self.p["psi"] * np.log(1.0 - outcome["hours"])
        return u

    def transition(self, state, decisions, outcome, exo):
        return {"k": outcome["k_next"]}


def steady_state_capital(econ, e: int) -> float | None:
    """Deterministic steady-state capital of one household of entry ``e`` (z = 1), or None.

    Known for identical households with log utility trading with the economy's firms
    only: one sector with fixed hours (``F_K = 1/beta - 1 + delta``), one sector with
    chosen hours (the RBC with labour), and two Cobb–Douglas sectors with chosen hours
    (:mod:`marketsai.solvers.two_sector`). It is the unit of ``state.k`` with
    ``scale: steady_state``.
    """
    from marketsai.agents import technology as tech
    from marketsai.solvers.two_sector import TwoSectorModel, collapse_to_one_sector, steady_state
    cl = econ.clearing
    kinds = [econ.entries[h].kind for h in cl.traders]
    hh = econ.entries[e].kind
    keys = ("gamma", "psi", "hours", "delta", "efficiency")
    if any(not isinstance(k, Household) for k in kinds):
        return None
    if any(tuple(k.p[x] for x in keys) != tuple(hh.p[x] for x in keys) or k.action["hours"] != hh.action["hours"]
           for k in kinds):
        return None
    beta, delta, psi = econ.discount, hh.p["delta"], hh.p["psi"]
    firm = [econ.entries[f].kind.p for f, _ in cl.producers]
    if hh.p["efficiency"] is not None:
        return None
    if hh.action["hours"] == "fixed" and len(firm) == 1:
        p = firm[0]
        kl = tech.capital_per_labour(p["technology"], 1.0 / beta - 1.0 + delta, p["tfp"], p["alpha"], p["rho"])
        return float(kl * hh.p["hours"]) if np.isfinite(kl) and kl > 0 else None
    if hh.action["hours"] != "choice" or hh.p["gamma"] != 1.0 or psi <= 0:
        return None
    if any(p["technology"] != "cobb_douglas" for p in firm):
        return None
    if len(firm) == 1:
        a, A = firm[0]["alpha"], firm[0]["tfp"]
        return float(collapse_to_one_sector(TwoSectorModel(beta, delta, psi, A, A, a, a)).K)
    by_use = {econ.markets[k].use: econ.entries[f].kind.p for f, k in cl.producers}
    c, i = by_use["consumption"], by_use["investment"]
    return float(steady_state(TwoSectorModel(beta, delta, psi, c["tfp"], i["tfp"], c["alpha"], i["alpha"])).K)
