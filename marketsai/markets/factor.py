"""Factor markets: capital rental and labour, priced at the marginal products of price-taking firms.

Households sell the services of the capital they own and of their hours; competitive
firms hire both. Neither side sets the price (``pricing = "marginal_product"``): the
economy's clearing (:mod:`marketsai.clearing`) finds the factor prices at which the
firms' cost-minimising demand -- output times the inputs one unit of output needs at
those prices (Shephard's lemma) -- equals what is supplied. Since a goods price is the
firm's unit cost, each factor is then paid its marginal revenue product, ``r = p F_K``,
``w = p F_L``. The market reports supply (the sellers' trades), demand (the firms'
hiring) and the excess demand.

A factor of a new kind (land, a second type of labour) is one more subclass with its
own ``good``; the producers that use it name it among their inputs.
"""

from __future__ import annotations

from marketsai.markets.base import CompetitiveMarket
from marketsai.markets.registry import markets


class FactorMarket(CompetitiveMarket):
    """A factor market: sold by its owners, hired by producers, priced at marginal products."""

    pricing = "marginal_product"


@markets.register("capital_rental")
class CapitalRental(FactorMarket):
    """The rental market for capital services at the rental rate ``r`` (per unit, per period).

    Sellers: agents who own capital (households rent out all of it). Buyers: competitive
    firms, hiring ``K = a p Y / r`` (Cobb–Douglas).
    """

    good = "capital"
    roles = {"seller": "owns capital and rents it out", "buyer": "hires capital to produce"}


@markets.register("labour")
class Labour(FactorMarket):
    """The labour market at the wage ``w`` per efficiency unit of hours.

    Sellers: households (hours, times their labour efficiency). Buyers: competitive firms.
    """

    good = "labour"
    roles = {"seller": "supplies hours", "buyer": "hires labour to produce"}
