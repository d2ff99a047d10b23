"""What the two linear-demand oligopolies share: homogeneous Bertrand
(:mod:`~marketsai.markets.bertrand_homogeneous`, demand ``a - b p``) and Cournot
(:mod:`~marketsai.markets.cournot`, inverse demand ``a - b Q``) both take an intercept ``a``,
a slope ``b`` and constant marginal costs ``c_i``, and are meaningless when every cost is at
or above the choke price (nobody would sell).
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from marketsai.errors import SpecError
from marketsai.markets.base import StrategicMarket
from marketsai.params import Param, nonnegative, positive

__all__ = ["LinearDemandMarket"]


class LinearDemandMarket(StrategicMarket):
    """A strategic market with linear demand and constant marginal costs (not registered: a
    base; subclasses may restate ``intercept`` to document their demand curve)."""

    params = {
        "cost": Param(0.0, nonnegative, "marginal cost c_i of the participant", per_participant=True),
        "intercept": Param(1.0, positive, "demand intercept a"),
        "slope": Param(1.0, positive, "demand slope b"),
    }

    @abstractmethod
    def choke_price(self) -> float:
        """The price at and above which nothing sells (without shock)."""

    def check_parameters(self, path: str = "") -> None:
        lowest, choke = float(np.min(self.cost)), self.choke_price()
        if lowest >= choke:
            # the choke price is proportional to the intercept: this intercept lifts it above c_min
            least = lowest * self.intercept / choke
            raise SpecError(f"every cost is at or above the choke price {choke:.6g}: no firm would sell",
                            path=f"{path}.params.intercept" if path else "intercept",
                            value=self.intercept, allowed=f"a number > {least:.6g}")
