"""The ``market`` evaluation: households of a market economy -- clearing, and shares
against the price-taking rule.

Why one entry for both market economies: what is asked of a household policy is the
same -- do the markets clear on its path, and how far is it from the competitive
household -- only the reference differs:

* a one-good economy with a closed-form price-taking household (``growth_market``):
  :func:`~marketsai.analysis.households.market_report`'s columns
  (:data:`~marketsai.analysis.households.MARKET_KEYS`);
* otherwise a two-sector economy, measured by where it settles:
  :func:`~marketsai.analysis.market_long_run.long_run` against the reference steady state
  (``K .. w``, ``err_<x>``, ``err_max``, ``euler_gap``, ``hours_gap``, ``s``, ``l``,
  ``K_sd_sessions``, ``K_sd_time``).

Both add, from the policy's own path (:func:`~marketsai.analysis.market_long_run.market_path`,
``sessions`` x ``periods``), ``max_excess_demand`` and ``max_budget_residual``.
"""

from __future__ import annotations

import pandas as pd

from marketsai.analysis.evaluation import Evaluation, column_means, evaluations, simulation_settings
from marketsai.analysis.households import MARKET_KEYS, competitive_share, market_report
from marketsai.analysis.market_long_run import long_run, market_path, two_sector_reference
from marketsai.errors import SpecError
from marketsai.params import Param, int_range


def _closed_form(economy) -> bool:
    try:
        competitive_share(economy)
    except SpecError:
        return False
    return True


@evaluations.register("market")
class MarketEvaluation(Evaluation):
    """Clearing and shares of a household policy in a market economy (module docstring)."""

    settings = {
        "sessions": Param(10, int_range(1, 10_000), "simulated economies"),
        **simulation_settings(1000, 100, 2, 1_000_000),
        "welfare_points": Param(2000, int_range(10, 1_000_000), "closed form: initial states of the welfare loss"),
    }
    columns = {**{k: "closed form: see households.market_report" for k in MARKET_KEYS},
               "K, L, C, I, p, r, w, err_*, euler_gap, hours_gap, s, l, K_sd_*": "two-sector: see long_run",
               "max_excess_demand": "largest |excess demand| of any market on the path",
               "max_budget_residual": "largest |budget residual| of any household on the path"}

    def check(self, economy) -> None:
        if economy.clearing is None or not len(economy.actors):
            raise SpecError("the market evaluation needs a market economy with acting households",
                            path="economy.markets")

    def evaluate(self, economy, policy, settings, seed=0):
        T, burn, S = settings["periods"], settings["burn"], settings["sessions"]
        if _closed_form(economy):
            row = market_report(economy, policy, T=T, burn=burn, sessions=S, seed=seed,
                                welfare_points=settings["welfare_points"])
            path = market_path(economy, policy, sessions=S, periods=T + burn, seed=seed)
        else:
            path = market_path(economy, policy, sessions=S, periods=T + burn, seed=seed)
            row = long_run(path, two_sector_reference(economy), burn)
        row["max_excess_demand"] = float(path["excess"].max())
        row["max_budget_residual"] = float(path["budget"].max())
        return {"results": pd.DataFrame([row])}

    def summarise(self, tables, settings):
        return column_means(tables["results"])
