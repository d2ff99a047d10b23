"""Goods markets: a produced good sold by competitive firms to households, who pay from their budgets.

A goods market declares what its buyers use the good for: ``both`` (the one good of a
one-sector economy, consumed and invested), ``consumption`` or ``investment`` (the two
goods of a two-sector economy). One goods market is the numeraire (price 1); the other
goods' prices clear from the buyers' spending and the sellers' output.
"""

from __future__ import annotations

from marketsai.markets.base import CompetitiveMarket
from marketsai.markets.registry import markets
from marketsai.params import Check, Param, one_of

_opt_bool = Check(lambda x: x is None or isinstance(x, bool), "null, true or false")


@markets.register("goods")
class Goods(CompetitiveMarket):
    """A market for one produced good (see the module docstring)."""

    good = "goods"
    roles = {"seller": "produces the good", "buyer": "buys the good from its budget"}
    params = {
        "use": Param("both", one_of("both", "consumption", "investment"),
                     "what buyers use the good for: both (one-sector economy), consumption or investment"),
        "numeraire": Param(None, _opt_bool, "price fixed at 1 (null: true for the only goods market, or for "
                                            "the consumption good when there are several)"),
    }
