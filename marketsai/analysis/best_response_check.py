"""The ``best_response`` evaluation: does a learner facing a fixed rival play the static
best response in every state?

Why a sanity check: with the rival's price fixed and folded into the market (its outside
option: ``experiments/tabular_vs_deep/bertrand_rival_*.yaml``) one firm decides alone. Its
state is its own last price, which changes neither its demand nor its future profits, so
its optimal policy is the static best response in *every* state, whatever its discount
factor. A learner that misses it there has not learnt what it would need against a
strategic rival either (docs/tabular_vs_deep.md, "Sanity check").

* **grid decision**: the best response is the grid price of highest profit (brute force
  over the grid, profits from the market itself: ``economy.clear``); the learner's greedy
  action in every state of the economy's finite game (:func:`~marketsai.analysis.calvano.tabulate`:
  15 states with memory 1); distances in grid steps, "at" the best response: the same index.
* **interval decision**: the best response on the interval
  (:func:`~marketsai.analysis.calvano.static_best_response`: a fine search of the market's
  profits, then a second one around its best point); the learner's greedy price after
  each of ``points`` evenly spaced prices as its own last price (played ``memory`` periods
  in a row); distances in steps of that spacing, "at": within half a step.

``passed``: every state within one step. ``untrained: true`` (every evaluation's) checks the
learner's starting policy the same way: ``results_untrained``, summary under ``untrained``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketsai.analysis.calvano import decision_profits, static_best_response, tabulate
from marketsai.analysis.evaluation import Evaluation, column_means, evaluations
from marketsai.analysis.simulate import decision_values
from marketsai.errors import SpecError
from marketsai.params import Param, int_range

#: numeric ``results`` columns, averaged over seeds in the summary
NUMERIC = ("best_response_price", "best_response_index", "states", "greedy_price_modal", "greedy_price_min",
           "greedy_price_max", "share_states_at_best_response", "share_states_within_one_step", "max_steps_off",
           "profit_loss_vs_best_response")


def deciding_column(economy) -> int:
    """The one decision of the economy's one deciding agent; any other economy is refused."""
    actors = list(economy.actors)
    if len(actors) != 1:
        raise SpecError("the best_response evaluation reads economies where one agent decides (a fixed "
                        "rival is part of the market, e.g. its outside option)", path="economy.agents",
                        value=actors, allowed="exactly one agent with a decision")
    agent = int(economy.actor_index[0])
    cols = [c for c, d in enumerate(economy.decisions) if d.agent == agent]
    if len(cols) != 1 or economy.decisions[cols[0]].market < 0:
        raise SpecError("the best_response evaluation reads one price or quantity in a strategic market",
                        path=f"economy.agents[{agent}].action", value=f"{len(cols)} decision(s)",
                        allowed="one decision in a strategic market")
    if economy.exo_chain.n_states != 1:
        raise SpecError("with demand shocks the static best response depends on the shock state; the "
                        "best_response evaluation does not read them", path="economy.processes",
                        value=economy.exo_chain.n_states, allowed="no aggregate process (one state)")
    return cols[0]


def observations_after_own_price(economy, column: int, prices) -> np.ndarray:
    """The deciding agent's observations ``(len(prices), obs_dim)`` after it played each of
    ``prices`` for ``memory`` periods in a row (at least one): produced by the economy itself."""
    prices = np.asarray(prices, dtype=float)
    rng = np.random.default_rng(0)
    state = economy.initial_state(rng, len(prices))
    values = np.zeros((len(prices), len(economy.decisions)))
    values[:, column] = prices
    for _ in range(max(economy.memory, 1)):
        state, _, _ = economy.step(state, values, rng)
    return economy.observe(state)[economy.actors[0]]


@evaluations.register("best_response")
class BestResponseEvaluation(Evaluation):
    """The learner's greedy price in every state against the static best response (module docstring)."""

    headline = ("share_states_at_best_response", "max_steps_off")

    settings = {
        "points": Param(15, int_range(2, 100_000), "interval: own last prices the learner is asked after, "
                                                   "evenly spaced over the interval; their spacing is the step"),
        "search_points": Param(2001, int_range(3, 1_000_000), "interval: prices of each of the two rounds of "
                                                              "the best-response search"),
    }
    columns = {
        "best_response_price": "the static best response (grid: the most profitable grid price)",
        "best_response_index": "its grid index (interval: the nearest of the `points` prices)",
        "states": "states checked (grid: the finite game's; interval: `points`)",
        "greedy_price_modal": "the most frequent greedy price over the states (rounded to 4 decimals)",
        "greedy_price_min": "the lowest greedy price", "greedy_price_max": "the highest greedy price",
        "share_states_at_best_response": "grid: the same index; interval: within half a step",
        "share_states_within_one_step": "states whose greedy price is within one step of the best response",
        "max_steps_off": "the largest distance in steps (grid: indices; interval: spacing of `points`)",
        "profit_loss_vs_best_response": "best-response profit minus the mean profit of the greedy prices",
        "passed": "every state within one step", "greedy_by_state": "greedy index (interval: price) per state",
    }

    def check(self, economy) -> None:
        deciding_column(economy)

    def evaluate(self, economy, policy, settings, seed=0):
        col = deciding_column(economy)
        d = economy.decisions[col]
        if d.kind == "grid":
            greedy = tabulate(economy, policy, economy.finite_game())[0]
            profits = decision_profits(economy, col, d.grid)
            br = int(np.argmax(profits))
            off = np.abs(greedy - br).astype(float)
            best, prices, profit = float(d.grid[br]), np.asarray(d.grid)[greedy], profits[greedy]
            best_profit, at, shown = float(profits[br]), off == 0, [str(int(g)) for g in greedy]
        else:
            asked = np.linspace(d.low, d.high, settings["points"])
            obs = observations_after_own_price(economy, col, asked)
            acts = np.asarray(policy.act(economy.actors[0], obs))
            prices = decision_values(economy, {economy.actors[0]: acts}, len(asked))[:, col]  # clipped
            best = static_best_response(economy, col, np.zeros(len(economy.decisions)),
                                        settings["search_points"], rounds=2)
            br = int(np.argmin(np.abs(asked - best)))
            off = np.abs(prices - best) / (asked[1] - asked[0])
            profit = decision_profits(economy, col, prices)
            best_profit = float(decision_profits(economy, col, [best])[0])
            at, shown = off <= 0.5, [f"{p:.4f}" for p in prices]
        row = {"best_response_price": best, "best_response_index": br, "states": len(prices),
               "greedy_price_modal": float(pd.Series(np.round(prices, 4)).mode().iloc[0]),
               "greedy_price_min": float(prices.min()), "greedy_price_max": float(prices.max()),
               "share_states_at_best_response": float(at.mean()),
               "share_states_within_one_step": float((off <= 1).mean()), "max_steps_off": float(off.max()),
               "profit_loss_vs_best_response": float(best_profit - profit.mean()),
               "passed": bool(off.max() <= 1), "greedy_by_state": " ".join(shown)}
        return {"results": pd.DataFrame([row])}

    def summarise(self, tables, settings):
        """``passed_share`` (the share of seeds that pass) and the mean over seeds of every
        numeric column, under its own name."""
        res = tables["results"]
        return {"passed_share": float(res["passed"].mean()), **column_means(res, NUMERIC)}
