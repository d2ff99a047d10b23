"""The registry of market types (``markets.get("bertrand_logit")``)."""

from marketsai.markets.base import Market
from marketsai.registry import Registry

markets: Registry[Market] = Registry("markets", Market)
