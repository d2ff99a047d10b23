"""Markets: one module per market type, all registered in :data:`markets`."""

from marketsai.markets import (  # noqa: F401  (registration)
    bertrand_homogeneous,
    bertrand_logit,
    cournot,
    factor,
    goods,
)
from marketsai.markets.base import CompetitiveMarket, Market, Outcome, Report, StrategicMarket
from marketsai.markets.registry import markets

__all__ = ["CompetitiveMarket", "Market", "Outcome", "Report", "StrategicMarket", "markets"]
