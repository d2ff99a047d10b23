"""Competitive clearing: the prices at which every competitive market of a period clears at once.

The contract. Nothing here names a good; the economy file says which markets exist and
who is in them, and each side declares its part:

* a competitive market (:class:`~marketsai.markets.CompetitiveMarket`) declares its
  ``good``, its ``item`` (what participants see its price under), its two roles and how
  its price is set (``pricing``): ``unit_cost`` (a produced good: the price is its
  producer's unit cost at the factor prices, zero profit under constant returns, and the
  producer makes what is demanded), ``marginal_product`` (a factor: the price at which
  producers' cost-minimising demand equals supply, so each factor earns its marginal
  revenue product), ``exogenous`` (a price set outside the market; participants whose
  type ``accommodates`` its good take what the others leave) or ``excess_demand`` (the root of
  its participants' excess demand, e.g. a bond market whose borrowers and lenders are
  both learning households);
* an agent type declares its role per good (``market_roles``) and is either a *trader*,
  whose ``own_outcome`` at given prices reports its net demand per item
  (``outcome["trades"]``) from its state and decisions, or a *producer*
  (:class:`~marketsai.agents.base.Producer`): unit cost, inputs per unit, output.

The general path solves all markets jointly: the unknowns are the relative prices of the
factors (their level is fixed by the numeraire, since unit costs are homogeneous of
degree one in factor prices) and the prices of ``excess_demand`` markets; goods prices
follow from unit costs and exogenous prices are given. At candidate prices every trader
reports its trades, producers make what is demanded and hire output times their unit
inputs, and a damped Newton method (finite-difference Jacobian, batched over sessions)
drives the relative excess demands ``(D - S) / (D + S)`` of every ``excess_demand``
market and of all factor markets but the last to zero; the last clears by Walras' law
(every budget holds), and its reported excess demand is the check.

The fast path (:mod:`marketsai.closed_form`) is the closed form for economies whose
traders supply fixed quantities and spend fixed shares of their income
(``AgentType.income_shares``): marginal products at the aggregate supplies with one
producer, a linear system for the factors' income shares with several Cobb–Douglas
producers. The economy uses it where it applies; ``tests/test_clearing.py`` holds the
two paths equal to 1e-10 on every shipped market economy and a plug-in one.

The composition is checked once, when the economy is built (:class:`Clearing`), with
errors that name the field: generic ones here (a market with no seller or no buyer, two
markets of one item, a price level with no numeraire), and each market type's and agent
type's own (``check_composition``, ``check_markets``).
"""

from __future__ import annotations

import numpy as np

from marketsai.closed_form import closed_form
from marketsai.errors import SpecError
from marketsai.markets import CompetitiveMarket
from marketsai.markets.base import PRICING, ROLES

#: relative excess demand at which the general path stops
TOLERANCE = 1e-13


class Clearing:
    """The competitive block of an economy, resolved once at build (see the module docstring)."""

    def __init__(self, econ):
        self.econ = econ
        spec = econ.spec
        self.markets = [k for k, m in enumerate(econ.markets) if isinstance(m, CompetitiveMarket)]
        self.item_of = {k: econ.markets[k].item for k in self.markets}
        self.by_good = {}
        self.roles = {}  # market index -> {"seller": [agents], "buyer": [agents]}
        seen = {}
        for k in self.markets:
            mkt, ms = econ.markets[k], spec.markets[k]
            if mkt.pricing not in PRICING:
                raise SpecError(f"market type {type(mkt).__name__} declares an unknown pricing {mkt.pricing!r}",
                                path=f"markets[{k}].type", value=ms.type, allowed=", ".join(PRICING))
            self.by_good.setdefault(mkt.good, []).append(k)
            roles = {"seller": [], "buyer": []}
            for i in econ.participants[k]:
                role = econ.entries[econ.entry_of[i]].kind.market_roles[mkt.good]
                if role not in ROLES:
                    raise SpecError(f"agent {econ.agents[i]!r} declares an unknown role {role!r} in {mkt.good} markets",
                                    path=f"{econ.entries[econ.entry_of[i]].where}.type",
                                    value=spec.agents[i].type, allowed=", ".join(ROLES))
                for side in (("seller", "buyer") if role == "both" else (role,)):
                    roles[side].append(i)
            for role, who in roles.items():
                if not who:
                    raise SpecError(f"market {ms.name!r} ({ms.type}) has no {role}: nobody "
                                    f"{'sells' if role == 'seller' else 'pays for'} its {mkt.good}",
                                    path=f"markets[{k}].participants", value=list(ms.written or ms.participants),
                                    allowed=f"at least one {role} ({type(mkt).roles[role]})")
            self.roles[k] = roles
            if mkt.item in seen:
                raise SpecError(f"two {mkt.item} markets: one good has one price", path=f"markets[{k}].type",
                                value=ms.type, allowed=f"one {mkt.item} market")
            seen[mkt.item] = k
        # per market: (entry, positions in the entry, columns among the participants) of each entry
        self._slots = {}
        for k in self.markets:
            parts = np.asarray(econ.participants[k])
            ents = econ.entry_of[parts]
            self._slots[k] = [(int(e), _as_slice(econ.position[parts[ents == e]], len(econ.entries[e].members)),
                               _as_slice(np.flatnonzero(ents == e))) for e in dict.fromkeys(ents.tolist())]
        self.markets_of = {}  # entry -> [(k, market, role)]
        for k in self.markets:
            for e, _, _ in self._slots[k]:
                kind = econ.entries[e].kind
                self.markets_of.setdefault(e, []).append((k, econ.markets[k], kind.market_roles[econ.markets[k].good]))
        self.by_pricing = {p: [k for k in self.markets if econ.markets[k].pricing == p] for p in PRICING}
        self._producers()
        self.traders = sorted(e for e in self.markets_of if e not in dict(self.producers))
        for e, _ in self.producers:
            econ.entries[e].kind.check_markets(econ.entries[e].name, self.markets_of[e], self)
        for cls in dict.fromkeys(type(econ.markets[k]) for k in self.markets):
            cls.check_composition(self, [k for k in self.markets if type(econ.markets[k]) is cls])
        for e in self.traders:
            econ.entries[e].kind.check_markets(econ.entries[e].name, self.markets_of[e], self)
        self._numeraire()
        self._accommodating()
        self.firms = self.producers  # (entry, market it sells in), the name readers of the household economy use

    # ------------------------------------------------------------ composition
    def _producers(self):
        """Producers sell in ``unit_cost`` markets, and only producers do."""
        econ = self.econ
        self.producers = []  # (entry, unit-cost market it sells in)
        for e, mine in self.markets_of.items():
            ent = econ.entries[e]
            sells = [k for k, m, role in mine if m.pricing == "unit_cost" and role in ("seller", "both")]
            if sells and not ent.kind.producer:
                raise SpecError(f"agent {ent.name!r} sells in a market priced at its producer's unit cost, but its "
                                "type is no producer", path=f"{ent.where}.type",
                                value=econ.spec.agents[ent.members[0]].type,
                                allowed="a Producer type (competitive_firm)")
            if ent.kind.producer:
                self.producers.append((e, sells[0] if sells else -1))
        self.producers.sort()

    def _accommodating(self):
        """Who takes the rest of each exogenously priced market: traders whose type accommodates its good."""
        econ = self.econ
        self.accommodates = {}  # entry -> exogenous markets in which it takes what the others leave
        for k in self.by_pricing["exogenous"]:
            takers = [e for e, _, _ in self._slots[k] if econ.markets[k].good in econ.entries[e].kind.accommodates]
            if not takers:
                ms = econ.spec.markets[k]
                raise SpecError(f"market {ms.name!r} ({ms.type}) has a price set outside it and nobody who takes what "
                                "the others leave at that price", path=f"markets[{k}].participants",
                                value=list(ms.written or ms.participants),
                                allowed=f"a participant whose type accommodates {econ.markets[k].good!r}")
            for e in takers:
                self.accommodates.setdefault(e, []).append(k)

    def _numeraire(self):
        """The market whose price is 1: declared, else the default candidate; needed where factors are priced."""
        econ = self.econ
        marked = [k for k in self.markets if econ.markets[k].numeraire is True]
        if len(marked) > 1:
            raise SpecError("two numeraires: only one price can be fixed at 1",
                            path=f"markets[{marked[1]}].params.numeraire", value=True,
                            allowed="numeraire: true on one goods market")
        self.numeraire = marked[0] if marked else None
        if self.numeraire is None and (self.by_pricing["unit_cost"] or self.by_pricing["marginal_product"]):
            default = [k for k in self.markets if econ.markets[k].numeraire is None and econ.markets[k].may_be_numeraire()]
            if not default:
                named = [k for k in self.markets if "numeraire" in type(econ.markets[k]).params] or self.markets
                raise SpecError("no numeraire: the price level cannot clear", path=f"markets[{named[0]}].params.numeraire",
                                value=False, allowed="numeraire: true on one goods market")
            self.numeraire = default[0]
        if self.numeraire is not None and econ.markets[self.numeraire].pricing not in ("unit_cost", "marginal_product"):
            raise SpecError("the numeraire must be a produced good or a factor: its price fixes their level",
                            path=f"markets[{self.numeraire}].params.numeraire", value=True,
                            allowed="a market priced at unit cost or at marginal products")

    # ------------------------------------------------------------ the period
    def clear(self, views: dict, exo: dict, batch: int, path: str = "auto") -> dict:
        """Prices ``(B,)`` of every competitive market and producers' outputs, from the entries' views.

        ``views[e]`` is entry ``e``'s ``(own state, decisions, exo)``. ``path`` is
        ``"auto"`` (the closed form where it applies, else the general solve), ``"fast"``
        or ``"general"``. Returns ``{"price": {k: (B,)}, "output": {producer entry: (B,)},
        "path": "fast" | "general"}``.
        """
        if path != "general":
            out = closed_form(self, views, exo, batch)
            if out is not None or path == "fast":
                if out is None:
                    raise ValueError("the closed form does not apply to this economy")
                return out
        return self.solve(views, exo, batch)

    def settle(self, cleared: dict, views: dict) -> dict:
        """Every participating entry's outcome at the cleared prices (producers' first: their profits are dividends)."""
        econ = self.econ
        price = cleared["price"]
        outcomes = {}
        profit = 0.0
        for e, k in self.producers:
            kind = econ.entries[e].kind
            factors = self._factor_prices(e, price)
            y = cleared["output"][e]
            inputs = {item: y * a for item, a in kind.unit_inputs(factors, views[e][2], len(y)).items()}
            p = price[k]
            res = {"output": y, "price": p, **inputs, "profit": p * y - sum(factors[i] * x for i, x in inputs.items())}
            outcomes[e] = kind.own_outcome(*views[e], {key: v[:, None] for key, v in res.items()})
            profit = profit + res["profit"]
        owners = sum(len(econ.entries[e].members) for e in self.traders if econ.entries[e].kind.shareholder)
        dividend = profit / owners if owners else 0.0
        outcomes.update(self._trade(views, price, dividend, cleared_batch(price)))
        return outcomes

    def report(self, cleared: dict, outcomes: dict) -> dict:
        """Each competitive market's :class:`~marketsai.markets.Report`, by market name.

        Producers supply their output and demand their inputs (output times unit inputs
        at the cleared prices); traders' supply and demand are the two signs of the net
        trades in their outcomes at those prices, so the excess demand measures the
        clearing, not an identity (except where it is one by construction: the general
        path's goods markets, whose output is set to demand, and exogenously priced
        markets, where accommodating traders take the rest).
        """
        econ = self.econ
        out = {}
        B = cleared_batch(cleared["price"])
        producers = dict(self.producers)
        for k in self.markets:
            mkt, ms = econ.markets[k], econ.spec.markets[k]
            n = len(econ.participants[k])
            supply, demand = np.zeros((B, n)), np.zeros((B, n))
            for e, pos, cols in self._slots[k]:
                o = outcomes[e]
                if e in producers:
                    side = supply if producers[e] == k else demand
                    side[:, cols] = (o["output"] if producers[e] == k else o[mkt.item])[:, :1]
                else:
                    net = o["trades"].get(mkt.item, np.zeros((B, 1)))
                    net = np.broadcast_to(net, (B, len(econ.entries[e].members)))[:, pos]
                    supply[:, cols], demand[:, cols] = np.maximum(-net, 0.0), np.maximum(net, 0.0)
            out[ms.name] = mkt.clear(supply, demand, cleared["price"][k])
        return out

    # ------------------------------------------------------------ shared pieces
    def _factor_prices(self, e: int, price: dict) -> dict:
        """Prices of the items producer ``e`` hires, by item."""
        return {m.item: price[k] for k, m, role in self.markets_of[e] if m.pricing == "marginal_product"}

    def _trade(self, views: dict, price: dict, dividend, batch: int) -> dict:
        """Every trader's outcome at these prices; those who accommodate a market last, told what is left.

        An accommodating trader reads ``prices["residual:<item>"]`` ``(B, count)``: the others'
        excess supply of the item, shared equally among the market's accommodating agents.
        """
        econ = self.econ
        out = {e: econ.entries[e].kind.own_outcome(*views[e], self._faced(e, price, dividend, batch))
               for e in self.traders if e not in self.accommodates}
        for e, ks in self.accommodates.items():
            faced = self._faced(e, price, dividend, batch)
            count = len(econ.entries[e].members)
            for k in ks:
                d, s = self.totals(k, {f: o["trades"] for f, o in out.items()}, batch)
                takers = sum(len(econ.entries[f].members) for f, m in self.accommodates.items() if k in m)
                faced[f"residual:{self.item_of[k]}"] = np.broadcast_to(((s - d) / takers)[:, None], (batch, count))
            out[e] = econ.entries[e].kind.own_outcome(*views[e], faced)
        return out

    def _faced(self, e: int, price: dict, dividend, batch: int) -> dict:
        count = len(self.econ.entries[e].members)
        out = {m.item: price[k][:, None] for k, m, _ in self.markets_of[e]}
        out["dividend"] = np.broadcast_to(np.asarray(dividend * np.ones(batch))[:, None], (batch, count))
        return out

    def totals(self, k: int, trades: dict, batch: int):
        """Traders' total demand and supply ``(B,)`` in market ``k`` from their net trades."""
        item = self.item_of[k]
        d = np.zeros(batch)
        s = np.zeros(batch)
        for e, pos, _ in self._slots[k]:
            if e in trades:
                net = trades[e].get(item)
                if net is not None:
                    net = np.broadcast_to(net, (batch, len(self.econ.entries[e].members)))[:, pos]
                    d += np.maximum(net, 0.0).sum(axis=1)
                    s += np.maximum(-net, 0.0).sum(axis=1)
        return d, s

    # ------------------------------------------------------------ the general path
    def solve(self, views: dict, exo: dict, batch: int, tol: float = TOLERANCE, max_iter: int = 100) -> dict:
        """Prices at which every market clears, by damped Newton on relative excess demands."""
        econ = self.econ
        factors, roots = self.by_pricing["marginal_product"], self.by_pricing["excess_demand"]
        n_f = max(len(factors) - 1, 0)
        x = np.zeros((batch, n_f + len(roots)))
        x[:, n_f:] = np.log([econ.markets[k].price_guess for k in roots])
        if x.shape[1] == 0:
            price, output, _, _ = self._evaluate(x, views, exo, batch)
            return {"price": price, "output": output, "path": "general"}
        volume = self._evaluate(x, views, exo, batch)[3]
        volume = np.where(volume > 0, volume, 1.0)  # each market's size at the start: the residuals' scale
        f = self._evaluate(x, views, exo, batch, volume)[2]
        for _ in range(max_iter):
            norm = np.abs(f).max(axis=1)
            if norm.max() < tol:
                break
            h = 1e-7
            jac = np.empty((batch, x.shape[1], x.shape[1]))
            for j in range(x.shape[1]):
                xj = x.copy()
                xj[:, j] += h
                jac[:, :, j] = (self._evaluate(xj, views, exo, batch, volume)[2] - f) / h
            step = -(np.linalg.pinv(jac) @ f[:, :, None])[:, :, 0]
            t = np.ones(batch)
            todo = norm >= tol
            for _ in range(40):  # backtrack where the full step does not reduce the residual
                trial = np.where(todo[:, None], x + t[:, None] * step, x)
                ft = self._evaluate(trial, views, exo, batch, volume)[2]
                better = np.all(np.isfinite(ft), axis=1) & (np.abs(ft).max(axis=1) < norm)
                ok = better | ~todo
                x = np.where((todo & better)[:, None], trial, x)
                f = np.where((todo & better)[:, None], ft, f)
                todo = todo & ~better
                if ok.all():
                    break
                t = np.where(todo, t / 2, t)
            else:
                break  # no step reduces the residual further: rounding
        price, output, f, _ = self._evaluate(x, views, exo, batch, volume)
        worst = float(np.abs(f).max())
        if not worst < 1e-10:
            raise FloatingPointError(f"competitive clearing did not converge: relative excess demand {worst:.3g}")
        return {"price": price, "output": output, "path": "general"}

    def _evaluate(self, x, views, exo, batch, volume=None):
        """Prices, outputs, residuals and volumes at the unknowns ``x`` (log factor price ratios, log root prices).

        A market's residual is ``(D - S) / (D + S + V)`` with ``V`` its volume ``D + S`` at the
        start: bounded where one side dwarfs the other, and still sloped where every
        participant is on one side (identical households at a guessed price).
        """
        econ = self.econ
        factors, roots = self.by_pricing["marginal_product"], self.by_pricing["excess_demand"]
        n_f = max(len(factors) - 1, 0)
        price = {}
        if factors:
            for j, k in enumerate(factors):
                price[k] = np.exp(x[:, j - 1]) if j else np.ones(batch)
            for e, k in self.producers:
                price[k] = econ.entries[e].kind.unit_cost(self._factor_prices(e, price), views[e][2], batch)
            level = price[self.numeraire]
            for k in factors + self.by_pricing["unit_cost"]:
                price[k] = price[k] / level
            price[self.numeraire] = np.ones(batch)
        for j, k in enumerate(roots):
            price[k] = np.exp(x[:, n_f + j])
        for k in self.by_pricing["exogenous"]:
            price[k] = np.broadcast_to(np.asarray(econ.markets[k].exogenous_price(exo, batch), float), (batch,))
        trades = {e: o["trades"] for e, o in self._trade(views, price, 0.0, batch).items()}
        output, hired = {}, {k: np.zeros(batch) for k in factors}
        for e, k in self.producers:
            output[e] = self.totals(k, trades, batch)[0]
            for item, a in econ.entries[e].kind.unit_inputs(self._factor_prices(e, price), views[e][2], batch).items():
                hired[next(m for m in factors if self.item_of[m] == item)] += output[e] * a
        res, vol = [], []
        for j, k in enumerate(factors[:n_f] + roots):
            d, s = self.totals(k, trades, batch)
            d = d + hired.get(k, 0.0)
            vol.append(d + s)
            res.append((d - s) / (d + s + (0.0 if volume is None else volume[:, j])))
        empty = np.zeros((batch, 0))
        return price, output, np.stack(res, axis=1) if res else empty, np.stack(vol, axis=1) if vol else empty


def _as_slice(index: np.ndarray, whole: int | None = None):
    """A run of consecutive indices as a slice (``slice(None)`` where it is all of ``whole``), else the indices."""
    if len(index) and np.array_equal(index, np.arange(index[0], index[0] + len(index))):
        return slice(None) if whole == len(index) and index[0] == 0 else slice(int(index[0]), int(index[0]) + len(index))
    return index


def cleared_batch(price: dict) -> int:
    """The batch size of a set of cleared prices."""
    return int(next(iter(price.values())).shape[0])
