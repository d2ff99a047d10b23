"""Competitive clearing: the prices at which every competitive market of a period clears at once.

A production economy's competitive markets (:class:`~marketsai.markets.CompetitiveMarket`:
capital rental, labour, goods) are linked: factor incomes pay for the goods, and the
goods' revenues pay the factors. Given what households supply (their capital, their
efficiency units of labour) and how they split their income between goods, this module
finds the allocation of factors across the competitive firms and the prices
``r``, ``w`` and ``p_g`` at which

* each firm hires where marginal revenue products equal factor prices,
  ``r = p_g F^g_K``, ``w = p_g F^g_L`` (zero profit under constant returns);
* every factor market clears, ``sum_g K_g = sum_h k_h`` and ``sum_g L_g = sum_h l_h e_h``;
* every goods market clears: what households buy from their budgets equals output.

With Cobb–Douglas technologies factor shares are constant, so the clearing is in closed
form for any number of sectors and households. With shares ``a_g``, household ``h``'s
shares ``kappa_h = k_h / K`` of capital, ``lambda_h = l_h e_h / L`` of labour and
``theta_hg`` of its income spent on good ``g``, capital's share of income is the fixed
point ``sigma = sum_g a_g sum_h theta_hg (sigma kappa_h + (1 - sigma) lambda_h)``, which is
linear in ``sigma``; good ``g``'s share of spending is then
``Theta_g = sum_h theta_hg (sigma kappa_h + (1 - sigma) lambda_h)``,
``K_g = a_g Theta_g K / sigma``, ``L_g = (1 - a_g) Theta_g L / (1 - sigma)``, and the
numeraire fixes the price level. A one-sector economy may use any technology: factors are
paid their marginal products at ``(K, L)``.

The composition of an economy is checked once, when it is built (:class:`Clearing`), with
errors that name the field: a market with no seller or no buyer, a firm that sells in no
goods market, a household that cannot consume, a price level with no numeraire.
"""

from __future__ import annotations

import numpy as np

from marketsai.agents import technology as tech
from marketsai.errors import SpecError
from marketsai.markets import CompetitiveMarket


class Clearing:
    """The competitive block of an economy, resolved once at build (see the module docstring)."""

    def __init__(self, econ):
        self.econ = econ
        spec = econ.spec
        self.markets = [k for k, m in enumerate(econ.markets) if isinstance(m, CompetitiveMarket)]
        self.by_good = {"capital": [], "labour": [], "goods": []}
        self.roles = {}  # market index -> {"seller": [agents], "buyer": [agents]}
        for k in self.markets:
            mkt, ms = econ.markets[k], spec.markets[k]
            self.by_good.setdefault(mkt.good, []).append(k)
            roles = {"seller": [], "buyer": []}
            for i in econ.participants[k]:
                kind = econ.entries[econ.entry_of[i]].kind
                roles[kind.market_roles[mkt.good]].append(i)
            for role, who in roles.items():
                if not who:
                    raise SpecError(f"market {ms.name!r} ({ms.type}) has no {role}: nobody "
                                    f"{'sells' if role == 'seller' else 'pays for'} its {mkt.good}",
                                    path=f"markets[{k}].participants", value=list(ms.written or ms.participants),
                                    allowed=f"at least one {role} ({type(mkt).roles[role]})")
            self.roles[k] = roles
        for good in ("capital", "labour"):
            if len(self.by_good[good]) > 1:
                k = self.by_good[good][1]
                raise SpecError(f"two {good} markets: one factor has one price", path=f"markets[{k}].type",
                                value=spec.markets[k].type, allowed=f"one {good} market")
        self.capital = self.by_good["capital"][0] if self.by_good["capital"] else None
        self.labour = self.by_good["labour"][0] if self.by_good["labour"] else None
        self._firms()
        self._check_uses()
        self._households()
        self._goods()
        # per market: (entry, positions in the entry, columns among the participants) of each entry
        self._slots = {}
        for k in self.markets:
            parts = np.asarray(econ.participants[k])
            ents = econ.entry_of[parts]
            self._slots[k] = [(int(e), econ.position[parts[ents == e]], np.flatnonzero(ents == e))
                              for e in dict.fromkeys(ents.tolist())]

    # ------------------------------------------------------------ composition
    def _where(self, i):
        return self.econ.entries[self.econ.entry_of[i]].where

    def _firms(self):
        econ = self.econ
        self.firms = []  # (entry index, goods market index)
        firm_entries = sorted({int(econ.entry_of[i]) for k in self.markets for i in self.roles[k]["buyer"]
                               if econ.markets[k].good != "goods"}
                              | {int(econ.entry_of[i]) for k in self.by_good["goods"] for i in self.roles[k]["seller"]})
        for e in firm_entries:
            ent = econ.entries[e]
            member = ent.members[0]
            sells = [k for k in self.by_good["goods"] if member in self.roles[k]["seller"]]
            if not sells:
                raise SpecError(f"firm {ent.name!r} sells in no goods market: its output is a good nobody pays for",
                                path=f"{ent.where}.name", value=ent.name,
                                allowed="list it as a participant of a goods market")
            if len(sells) > 1:
                raise SpecError(f"firm {ent.name!r} sells in two goods markets; a firm produces one good",
                                path=f"{ent.where}.name", value=ent.name, allowed="one goods market per firm")
            for good, k in (("capital", self.capital), ("labour", self.labour)):
                if k is None or member not in self.roles[k]["buyer"]:
                    raise SpecError(f"firm {ent.name!r} hires no {good}: its technology needs {good} "
                                    f"(share in (0, 1)), so its {'rental rate' if good == 'capital' else 'wage'} "
                                    "cannot clear", path=f"{ent.where}.name", value=ent.name,
                                    allowed=f"list it in a {good} market ({'capital_rental' if good == 'capital' else 'labour'})")
            if len(ent.members) > 1:
                raise SpecError("a competitive firm entry with count > 1: under constant returns the split of "
                                "output among identical price takers is indeterminate", path=f"{ent.where}.count",
                                value=len(ent.members), allowed="1 (one firm per good)")
            self.firms.append((e, sells[0]))
        for k in self.by_good["goods"]:
            sellers = {int(econ.entry_of[i]) for i in self.roles[k]["seller"]}
            if len(sellers) > 1:
                raise SpecError("a goods market with two competitive firms: under constant returns the split of "
                                "its output between them is indeterminate", path=f"markets[{k}].participants",
                                value=list(econ.spec.markets[k].written or econ.spec.markets[k].participants),
                                allowed="one firm per good")
        if len(self.firms) > 1:
            for e, _ in self.firms:
                kind = econ.entries[e].kind
                if kind.p["technology"] != "cobb_douglas":
                    raise SpecError("several sectors clear in closed form with Cobb–Douglas technologies only",
                                    path=f"{econ.entries[e].where}.params.technology", value=kind.p["technology"],
                                    allowed="cobb_douglas (or one sector)")

    def _households(self):
        econ = self.econ
        self.households = sorted({int(econ.entry_of[i]) for k in self.markets for i in self.roles[k]["seller"]
                                  if econ.markets[k].good != "goods"}
                                 | {int(econ.entry_of[i]) for k in self.by_good["goods"] for i in self.roles[k]["buyer"]})
        for e in self.households:
            ent = econ.entries[e]
            m = ent.members[0]
            if not hasattr(ent.kind, "factor_supply"):
                raise SpecError(f"agent {ent.name!r} sells or buys in competitive markets but its type has no "
                                "budget", path=f"{ent.where}.type", value=econ.spec.agents[m].type,
                                allowed="household (or a type with factor_supply and a budget)")
            if self.capital is None or m not in self.roles[self.capital]["seller"]:
                raise SpecError(f"household {ent.name!r} owns capital but rents it out in no capital market",
                                path=f"{ent.where}.name", value=ent.name, allowed="list it in the capital_rental market")
            if self.labour is None or m not in self.roles[self.labour]["seller"]:
                raise SpecError(f"household {ent.name!r} has time but sells it in no labour market",
                                path=f"{ent.where}.name", value=ent.name, allowed="list it in the labour market")
            uses = sorted(econ.spec.markets[k].params["use"] for k in self.by_good["goods"] if m in self.roles[k]["buyer"])
            if not uses:
                raise SpecError(f"household {ent.name!r} buys in no goods market: it cannot consume or invest",
                                path=f"{ent.where}.name", value=ent.name,
                                allowed="list it in the goods market(s)")
            if uses not in (["both"], ["consumption", "investment"]):
                missing = sorted({"consumption", "investment"} - set(uses))
                raise SpecError(f"household {ent.name!r} buys goods of uses {uses}: it needs one good it both "
                                "consumes and invests, or a consumption good and an investment good"
                                + (f" (it buys no {' or '.join(missing)} good)" if missing else ""),
                                path=f"{ent.where}.name", value=ent.name,
                                allowed="[both] or [consumption, investment] (goods markets' params.use)")
        self.two_goods = any(econ.spec.markets[k].params["use"] != "both" for k in self.by_good["goods"])

    def _check_uses(self):
        """The economy's goods, checked before any household's (the market field is the one to fix)."""
        econ = self.econ
        goods = self.by_good["goods"]
        uses = [econ.spec.markets[k].params["use"] for k in goods]
        if goods and sorted(uses) not in (["both"], ["consumption", "investment"]):
            bad = goods[0]  # the first market that no valid set of goods extends (else a good is missing)
            for j in range(len(goods)):
                seen = sorted(uses[:j + 1])
                if not any(all(seen.count(u) <= ok.count(u) for u in seen)
                           for ok in (["both"], ["consumption", "investment"])):
                    bad = goods[j]
                    break
            raise SpecError(f"goods markets of uses {uses}: an economy has one good (use: both) or a consumption "
                            "good and an investment good", path=f"markets[{bad}].params.use",
                            value=econ.spec.markets[bad].params["use"], allowed="[both] or [consumption, investment]")

    def _goods(self):
        econ = self.econ
        goods = self.by_good["goods"]
        uses = [econ.spec.markets[k].params["use"] for k in goods]
        marked = [k for k in goods if econ.spec.markets[k].params["numeraire"]]
        if len(marked) > 1:
            raise SpecError("two numeraires: only one price can be fixed at 1", path=f"markets[{marked[1]}].params.numeraire",
                            value=True, allowed="numeraire: true on one goods market")
        if marked:
            self.numeraire = marked[0]
        else:
            default = [k for k, u in zip(goods, uses, strict=True) if u in ("both", "consumption")]
            unset = [k for k in goods if econ.spec.markets[k].params["numeraire"] is None]
            if not default or default[0] not in unset:
                k = goods[0] if goods else 0
                raise SpecError("no numeraire: the price level cannot clear", path=f"markets[{k}].params.numeraire",
                                value=False, allowed="numeraire: true on one goods market")
            self.numeraire = default[0]
        self.firm_of = {k: e for e, k in self.firms}
        self.use_of = {k: econ.spec.markets[k].params["use"] for k in goods}

    # ------------------------------------------------------------ the period
    def clear(self, supplies: dict, shares: dict, exo: dict, batch: int) -> dict:
        """Prices and allocations ``(B,)`` from households' supplies and spending shares.

        ``supplies[e]`` is household entry ``e``'s ``{"capital", "labour"}`` ``(B, count)``;
        ``shares[e]`` its share of income spent on the investment good (two goods) or None.
        Returns ``r``, ``w``, per goods market ``price``, and per firm entry its
        ``output``, ``capital``, ``labour``, ``profit``.
        """
        econ = self.econ
        k = np.concatenate([supplies[e]["capital"] for e in self.households], axis=1)
        lab = np.concatenate([supplies[e]["labour"] for e in self.households], axis=1)
        K, L = k.sum(axis=1), lab.sum(axis=1)
        if np.any(K <= 0) or np.any(L <= 0):
            raise FloatingPointError("competitive clearing needs positive aggregate capital and labour")
        firms = {}
        prices = {}
        if len(self.firms) == 1 and econ.entries[self.firms[0][0]].kind.p["technology"] != "cobb_douglas":
            e, g = self.firms[0]
            p = econ.entries[e].kind.p
            z = econ.entries[e].kind.productivity(exo, batch)
            Y = tech.output(p["technology"], K, L, z, p["tfp"], p["alpha"], p["rho"])
            r, w = tech.marginal_products(p["technology"], K, L, z, p["tfp"], p["alpha"], p["rho"])
            firms[e] = {"output": Y, "capital": K, "labour": L, "profit": Y - r * K - w * L, "price": np.ones(batch)}
            prices[g] = np.ones(batch)
            return {"r": r, "w": w, "price": prices, "firms": firms}
        kappa, lam = k / K[:, None], lab / L[:, None]
        if self.two_goods:
            s = np.concatenate([shares[e] for e in self.households], axis=1)
            theta = {g: (s if self.use_of[g] == "investment" else 1.0 - s) for g in self.by_good["goods"]}
        else:
            theta = {g: np.ones_like(k) for g in self.by_good["goods"]}
        alpha = {g: econ.entries[self.firm_of[g]].kind.p["alpha"] for g in theta}
        A = sum(alpha[g] * (theta[g] * kappa).sum(axis=1) for g in theta)
        C = sum(alpha[g] * (theta[g] * lam).sum(axis=1) for g in theta)
        sigma = C / (1.0 - A + C)
        out = {}
        for g in theta:
            Theta = (theta[g] * (sigma[:, None] * kappa + (1.0 - sigma[:, None]) * lam)).sum(axis=1)
            kind = econ.entries[self.firm_of[g]].kind
            Kg = alpha[g] * Theta * K / sigma
            Lg = (1.0 - alpha[g]) * Theta * L / (1.0 - sigma)
            Yg = tech.output("cobb_douglas", Kg, Lg, kind.productivity(exo, batch), kind.p["tfp"], alpha[g])
            out[g] = (Theta, Kg, Lg, Yg)
        Theta_n, _, _, Y_n = out[self.numeraire]
        nominal = Y_n / Theta_n  # total spending = total income, in numeraire units
        r = sigma * nominal / K
        w = (1.0 - sigma) * nominal / L
        for g, (Theta, Kg, Lg, Yg) in out.items():
            p = np.ones(batch) if g == self.numeraire else Theta * nominal / Yg
            prices[g] = p
            firms[self.firm_of[g]] = {"output": Yg, "capital": Kg, "labour": Lg,
                                      "profit": p * Yg - r * Kg - w * Lg, "price": p}
        return {"r": r, "w": w, "price": prices, "firms": firms}

    def for_household(self, cleared: dict, e: int, supply: dict) -> dict:
        """What household entry ``e`` faces: factor prices, the investment good's price, its dividend."""
        n_h = sum(len(self.econ.entries[h].members) for h in self.households)
        profit = sum(f["profit"] for f in cleared["firms"].values())
        B = cleared["r"].shape[0]
        count = len(self.econ.entries[e].members)
        inv = [g for g in self.by_good["goods"] if self.use_of[g] == "investment"]
        return {"r": cleared["r"][:, None], "w": cleared["w"][:, None],
                "p_investment": cleared["price"][inv[0]][:, None] if inv else None,
                "dividend": np.broadcast_to((profit / n_h)[:, None], (B, count)),
                "labour_supply": supply["labour"]}

    def report(self, cleared: dict, supplies: dict, outcomes: dict) -> dict:
        """Each competitive market's :class:`~marketsai.markets.Report`, by market name.

        Firms' factor demands come from their first-order conditions at the clearing
        prices (``K = a p Y / r``, ``L = (1 - a) p Y / w`` for Cobb–Douglas), goods demand
        from the households' budgets, so excess demand measures the clearing, not an
        identity.
        """
        econ = self.econ
        out = {}
        B = cleared["r"].shape[0]
        for k in self.markets:
            mkt, ms = econ.markets[k], econ.spec.markets[k]
            n = len(econ.participants[k])
            supply = np.zeros((B, n))
            demand = np.zeros((B, n))
            for e, pos, cols in self._slots[k]:
                if mkt.good in ("capital", "labour"):
                    if e in supplies:
                        supply[:, cols] = supplies[e][mkt.good][:, pos]
                    else:
                        demand[:, cols] = self._factor_demand(e, mkt.good, cleared)[:, None]
                elif e in outcomes and "purchases" in outcomes[e]:
                    demand[:, cols] = outcomes[e]["purchases"][self.use_of[k]][:, pos]
                else:
                    supply[:, cols] = cleared["firms"][e]["output"][:, None]
            price = {"capital": cleared["r"], "labour": cleared["w"]}.get(mkt.good)
            out[ms.name] = mkt.clear(supply, demand, cleared["price"][k] if price is None else price)
        return out

    def _factor_demand(self, e: int, good: str, cleared: dict) -> np.ndarray:
        kind = self.econ.entries[e].kind
        f = cleared["firms"][e]
        p = kind.p
        if p["technology"] == "cobb_douglas":
            share = p["alpha"] if good == "capital" else 1.0 - p["alpha"]
            price = cleared["r"] if good == "capital" else cleared["w"]
            return share * f["price"] * f["output"] / price
        return f[good]  # CES: the allocation at which marginal products equal prices

    # ------------------------------------------------------------ steady state
    def steady_state_capital(self, e: int) -> float | None:
        """Deterministic steady-state capital of one household of entry ``e`` (z = 1), or None.

        Known for identical households with log utility: one sector with fixed hours
        (``F_K = 1/beta - 1 + delta``), one sector with chosen hours (the RBC with labour),
        and two Cobb–Douglas sectors with chosen hours (:mod:`marketsai.solvers.two_sector`).
        It is the unit of ``state.k`` with ``scale: steady_state``.
        """
        from marketsai.solvers.two_sector import (
            TwoSectorModel,
            collapse_to_one_sector,
            steady_state,
        )
        econ = self.econ
        kinds = [econ.entries[h].kind for h in self.households]
        hh = econ.entries[e].kind
        keys = ("gamma", "psi", "hours", "delta", "efficiency")
        if any(tuple(k.p[x] for x in keys) != tuple(hh.p[x] for x in keys) or k.action["hours"] != hh.action["hours"]
               for k in kinds):
            return None
        beta, delta, psi = econ.discount, hh.p["delta"], hh.p["psi"]
        firm = [econ.entries[f].kind.p for f, _ in self.firms]
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
        by_use = {self.use_of[g]: econ.entries[f].kind.p for g, f in self.firm_of.items()}
        c, i = by_use["consumption"], by_use["investment"]
        return float(steady_state(TwoSectorModel(beta, delta, psi, c["tfp"], i["tfp"], c["alpha"], i["alpha"])).K)
