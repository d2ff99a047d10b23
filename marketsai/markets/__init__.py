"""Markets: one module per market type, all registered in :data:`markets`."""

from marketsai.markets import bertrand_logit, cournot  # noqa: F401  (registration)
from marketsai.markets.base import Market, Outcome, StrategicMarket
from marketsai.markets.registry import markets

__all__ = ["Market", "Outcome", "StrategicMarket", "markets"]
