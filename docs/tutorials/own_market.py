# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Your own market as a plugin
#
# <!-- sources: experiments/tutorials/results/own_market.txt -->
#
# marketsai ships Bertrand and Cournot markets, but a market is only a class: you can
# write your own in a file of yours, without touching marketsai. Here we write Hotelling's
# linear city -- two shops at the two ends of a street, customers spread evenly along it,
# each paying a travel cost -- check it against the market contract, name it in an
# economy file, and let two tabular Q-learners price on it.
#
# **Run time**: about 5 seconds on one core once the numba kernels are compiled (measured
# on a loaded two-core machine); the first run of marketsai on a machine compiles them
# first (about a minute, once). The test suite runs this script as it is
# (`tests/test_tutorials.py`).
#
# Run it as a script (`python docs/tutorials/own_market.py`) or open it as a notebook with
# Jupytext. It writes its files into a folder `own_market/` of the working directory.

# %%
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import marketsai as mai
from marketsai.checks import check_market
from marketsai.markets import StrategicMarket

work = Path("own_market")
work.mkdir(exist_ok=True)

# %% [markdown]
# ## 1. Write the market
#
# A customer at distance `x` from shop 0 (on a street of length 1) who buys from shop `i`
# gets `v - p_i - t * (distance to i)`; she buys where that is highest, if it is positive.
# So shop 0 sells to everyone left of the indifferent customer
# `x* = 1/2 + (p_1 - p_0) / (2 t)` who is also close enough to want to buy at all
# (`x <= (v - p_0) / t`). With marginal cost `c`, the static Nash prices are `c + t`
# (when `v >= c + 3 t / 2`, so that every customer buys) and the joint optimum is
# `v - t / 2`, the highest price at which the customer in the middle still buys.
#
# A market subclasses `StrategicMarket` and declares:
#
# * `action` -- what participants choose, here a price;
# * `params` -- its parameters, once, with defaults, checks and a one-line meaning; `cost`
#   is *per participant*: each shop brings its own in its `params`, as a firm does;
# * `clear(actions, shock)` -- pure and vectorised: `actions` has shape `batch + (2,)`, and
#   it returns each shop's price, quantity and profit of the same shape;
# * `nash` and `joint_optimum` -- the static benchmarks, from which the economy spans its
#   price grid and measures the profit gain Delta;
# * `check_parameters` -- checks across fields, raising marketsai's `SpecError` so that a
#   bad file gets a clear message naming the field;
# * `action_bounds` -- where a numeric search looks for a best response.
#
# The file is written by the tutorial so that it runs as it is; in your project it is
# simply a module of yours.

# %%
(work / "hotelling.py").write_text('''\
"""Hotelling's linear city: two shops at the ends of a street of length 1."""
import numpy as np

from marketsai import SpecError
from marketsai.markets import Outcome, StrategicMarket
from marketsai.params import Param, positive, real


class Hotelling(StrategicMarket):
    """Two shops at the ends of a street; customers uniform, linear travel cost t."""

    action = "price"
    params = {
        "cost": Param(0.0, real, "marginal cost c of the shop", per_participant=True),
        "v": Param(3.0, positive, "what the good is worth to every customer"),
        "t": Param(1.0, positive, "travel cost per unit of distance"),
    }

    def check_parameters(self, path=""):
        where = f"{path}.params" if path else "params"
        if self.n != 2:
            raise SpecError("Hotelling's street has a shop at each end", path=f"{path}.participants",
                            value=self.n, allowed="exactly 2 participants")
        if self.cost[0] != self.cost[1]:
            raise SpecError("the closed-form benchmarks assume one cost", path=f"{where}.cost",
                            value=self.cost.tolist(), allowed="equal costs for both shops")
        if self.v < self.cost[0] + 1.5 * self.t:
            raise SpecError("at the Nash prices some customers would not buy", path=f"{where}.v",
                            value=self.v, allowed=f"a number >= cost + 3 t / 2 = {self.cost[0] + 1.5 * self.t}")

    def clear(self, actions, shock=0.0):
        p = np.asarray(actions, dtype=float)              # shape batch + (2,)
        v = self.v + np.asarray(shock, dtype=float)[..., None]
        split = 0.5 + (p[..., ::-1] - p) / (2 * self.t)   # x* for shop 0, 1 - x* for shop 1
        reach = (v - p) / self.t                          # the farthest customer who still buys
        q = np.clip(np.minimum(split, reach), 0.0, 1.0)
        return Outcome(price=p, quantity=q, profit=(p - self.cost) * q)

    def nash(self, shock=0.0):
        return self.cost + self.t

    def joint_optimum(self, shock=0.0):
        return np.full(2, self.v + shock - self.t / 2)

    def action_bounds(self, shock=0.0):
        # nobody buys above v: a best response lies between the cost and v
        return float(self.cost.min()), float(self.v + shock)
''')
sys.path.insert(0, str(work))  # what PYTHONPATH=own_market does for the command line

from hotelling import Hotelling  # noqa: E402

# %% [markdown]
# ## 2. Check it against the contract
#
# `check_market` is the check every shipped market passes: `clear` is pure (no change to
# its input, the same answer twice) and batched (a batch gives what each row gives alone),
# the Nash prices are a fixed point of the best responses and no shop gains by deviating
# from them, and no nearby price profile beats the joint optimum. It raises an
# `AssertionError` saying what failed, and returns nothing when all pass.

# %%
street = Hotelling(2, cost=1.0, v=3.0, t=1.0)
check_market(street)
bench = street.benchmarks()
print({k: np.round(x, 4).tolist() for k, x in bench.items()})

# %% [markdown]
# The check uses `best_response`, which we did not write: the default is a golden-section
# search for the most profitable price between the two `action_bounds`. Those bounds
# matter. The default bracket, 0 to 1000, suits a demand that is positive at every price;
# here nobody buys above `v`, profit is flat at zero there, and the search, finding no
# slope, drifts to the top of the bracket:

# %%
class HotellingWithoutBounds(Hotelling):
    action_bounds = StrategicMarket.action_bounds  # the default bracket, (0, 1000)


rival_at_nash = np.array([2.0, 2.0])
print("with action_bounds:   ", round(float(street.best_response(0, rival_at_nash)), 4))
print("without action_bounds:", round(float(HotellingWithoutBounds(2, cost=1.0, v=3.0, t=1.0)
                                             .best_response(0, rival_at_nash)), 4))
try:
    check_market(HotellingWithoutBounds(2, cost=1.0, v=3.0, t=1.0))
except AssertionError as err:
    print("check_market:", err)

# %% [markdown]
# ## 3. Use it in an economy file
#
# An economy file names the market by import path, `module:Class`. The module must be
# importable: put its folder on `PYTHONPATH` (from the command line:
# `PYTHONPATH=own_market marketsai check own_market/hotelling_duopoly.yaml`), or install
# the package it belongs to. An installed package can also give it a short name through an
# entry point in its `pyproject.toml`, after which files can say `type: hotelling`:
#
# ```toml
# [project.entry-points."marketsai.markets"]
# hotelling = "hotelling:Hotelling"
# ```
#
# The shops are ordinary `firm` agents, and each brings its `cost`. The grid spans the
# Nash and joint-optimum prices (2 and 2.5) widened by `xi` = 10 % on each side.

# %%
economy_file = work / "hotelling_duopoly.yaml"
economy_file.write_text("""\
name: hotelling_duopoly
description: Hotelling's linear city, two shops at the ends of the street
discount: 0.95
agents:
  - name: shop
    count: 2
    type: firm
    params: {cost: 1.0}
    action: {kind: grid, points: 15, xi: 0.1}
    observation: {memory: 1}
markets:
  - type: hotelling:Hotelling
    name: street
    participants: [shop_0, shop_1]
    params: {v: 3.0, t: 1.0}
""")
econ = mai.load_economy(economy_file)
print(mai.check_economy(econ))
print(econ.benchmarks()[["agent", "nash_action", "coop_action", "nash_profit", "coop_profit"]])

# %% [markdown]
# The market's own checks now guard every file that uses it, with the field named:

# %%
try:
    mai.load_economy(economy_file, overrides={"markets[0].params.v": 2.0})
except mai.SpecError as err:
    print(err)

# %% [markdown]
# The command line finds the market the same way once its folder is on `PYTHONPATH`:

# %%
env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(work), os.environ.get("PYTHONPATH")]))}
cli = subprocess.run([sys.executable, "-m", "marketsai.cli", "validate", str(economy_file)],
                     env=env, capture_output=True, text=True)
print(cli.stdout[cli.stdout.index("markets:"):] if cli.returncode == 0 else cli.stderr)

# %% [markdown]
# ## 4. Learn it with tabular Q-learning
#
# The experiment is the one of the first tutorial: independent Q-learning sessions until
# each shop's greedy strategy has been stable for 100,000 periods, with exploration
# decaying five times faster than Calvano et al.'s, so that it runs in seconds.

# %%
experiment_file = work / "hotelling_experiment.yaml"
experiment_file.write_text("""\
kind: tabular
name: hotelling
economy: hotelling_duopoly.yaml
seed: 1
sessions: 8
chunk_size: 4
learner: {alpha: 0.15, beta: 2.0e-5}
analysis: {impulse_response: [best_response], impulse_periods: 10}
""")
run = mai.load_run(mai.run_experiment(experiment_file, out=work / "run", progress=False))

# %% [markdown]
# ## 5. Read the summary
#
# The summary has the same keys as for any Bertrand market, because the profit gain and the
# impulse response need only the benchmarks our class supplies: Delta = 0 at the Nash
# profit (0.5 per shop), 1 at the joint optimum (0.75 per shop).

# %%
s = run.summary
print(f"converged: {s['converged_share']:.0%} of {s['sessions']} sessions")
print(f"mean price {s['mean_price']:.3f} (Nash 2, joint optimum 2.5)")
print(f"profit gain Delta: {s['profit_gain']:.3f} (SD {s['profit_gain_sd']:.3f})")
ir = run.tables["impulse_response"].set_index(["session", "t"])
dip = float((ir.xs(0, level="t")["price_1"] - ir.xs(2, level="t")["price_1"]).mean())
print(f"after shop 0 undercuts, shop 1 cuts its price by {dip:.3f} on average")

# %% [markdown]
# **What this run shows** (seed 1, 8 sessions): the two shops learned to price above the Nash
# price of 2 -- Delta about 0.68, on the way to the joint optimum -- and shop 1 answers a
# price cut with one of its own (by about 0.21 on average), as the Bertrand firms of the
# first tutorial do. The machinery did not need to know anything about Hotelling: the
# class gave it demand and benchmarks, the economy file gave it agents and a grid.
#
# Next: give the shops different costs (then write `joint_optimum` numerically, or drop
# the equal-cost check and let `nash` follow `p_i = t + (2 c_i + c_j) / 3`), or put three
# shops on a circle (Salop) -- `check_market` tells you when a benchmark is wrong.
