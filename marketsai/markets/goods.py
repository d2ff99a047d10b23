"""Goods markets: a produced good sold by competitive firms to buyers who pay from their budgets.

A goods market declares what its buyers use the good for: ``both`` (the one good of a
one-sector economy, consumed and invested), ``consumption`` or ``investment`` (the two
goods of a two-sector economy). Its price is its firm's unit cost at the factor prices
(``pricing = "unit_cost"``: zero profit under constant returns), and the firm makes
what the buyers demand at that price. One goods market is the numeraire (price 1): the
one with ``numeraire: true``, else the only goods market, or the consumption good. Its
buyers pay from their budgets, so the goods market is where budgets meet output.
"""

from __future__ import annotations

from marketsai.errors import SpecError
from marketsai.markets.base import CompetitiveMarket
from marketsai.markets.registry import markets
from marketsai.params import Check, Param, one_of

_opt_bool = Check(lambda x: x is None or isinstance(x, bool), "null, true or false")
#: the sets of goods uses an economy may have: one good, or a consumption and an investment good
USES = (["both"], ["consumption", "investment"])


@markets.register("goods")
class Goods(CompetitiveMarket):
    """A market for one produced good (see the module docstring)."""

    good = "goods"
    roles = {"seller": "produces the good", "buyer": "buys the good from its budget"}
    pricing = "unit_cost"
    params = {
        "use": Param("both", one_of("both", "consumption", "investment"),
                     "what buyers use the good for: both (one-sector economy), consumption or investment"),
        "numeraire": Param(None, _opt_bool, "price fixed at 1 (null: true for the only goods market, or for "
                                            "the consumption good when there are several)"),
    }

    @property
    def item(self) -> str:
        return f"goods:{self.use}"

    def may_be_numeraire(self) -> bool:
        return self.use in ("both", "consumption")

    @classmethod
    def check_composition(cls, clearing, indices):
        """One good or a consumption/investment pair, each made by one firm."""
        econ = clearing.econ
        for k in indices:
            sellers = {int(econ.entry_of[i]) for i in clearing.roles[k]["seller"]}
            if len(sellers) > 1:
                ms = econ.spec.markets[k]
                raise SpecError("a goods market with two competitive firms: under constant returns the split of "
                                "its output between them is indeterminate", path=f"markets[{k}].participants",
                                value=list(ms.written or ms.participants), allowed="one firm per good")
        uses = [econ.markets[k].use for k in indices]
        if sorted(uses) in USES:
            return
        bad = indices[0]  # the first market that no valid set of goods extends (else a good is missing)
        for j in range(len(indices)):
            seen = sorted(uses[:j + 1])
            if not any(all(seen.count(u) <= ok.count(u) for u in seen) for ok in USES):
                bad = indices[j]
                break
        raise SpecError(f"goods markets of uses {uses}: an economy has one good (use: both) or a consumption "
                        "good and an investment good", path=f"markets[{bad}].params.use",
                        value=econ.markets[bad].use, allowed="[both] or [consumption, investment]")
