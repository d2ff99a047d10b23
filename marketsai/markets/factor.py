"""Factor markets: capital rental and labour, cleared at a competitive firm's marginal products.

Households sell the services of the capital they own and of their hours; competitive
firms hire both. Neither side sets the price: the economy's competitive clearing
(:mod:`marketsai.clearing`) pays each factor its marginal product at the allocation that
clears every market at once, ``r = p F_K``, ``w = p F_L``, and the market reports supply,
demand (the firms' hiring at those prices, from their first-order conditions) and the
excess demand.
"""

from __future__ import annotations

from marketsai.markets.base import CompetitiveMarket
from marketsai.markets.registry import markets


@markets.register("capital_rental")
class CapitalRental(CompetitiveMarket):
    """The rental market for capital services at the rental rate ``r`` (per unit, per period).

    Sellers: agents who own capital (households rent out all of it). Buyers: competitive
    firms, hiring ``K = a p Y / r`` (Cobb–Douglas).
    """

    good = "capital"
    roles = {"seller": "owns capital and rents it out", "buyer": "hires capital to produce"}


@markets.register("labour")
class Labour(CompetitiveMarket):
    """The labour market at the wage ``w`` per efficiency unit of hours.

    Sellers: households (hours, times their labour efficiency). Buyers: competitive firms.
    """

    good = "labour"
    roles = {"seller": "supplies hours", "buyer": "hires labour to produce"}
