# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # A market economy with N households
#
# <!-- sources: experiments/tutorials/results/market_economy.txt -->
# <!-- unsourced: 81,920 | 20 iterations x 4096 periods, the full size this tutorial sets -->
#
# The growth model of the previous tutorial had one planner. Here the same economy is
# decentralised: N households own the capital and their time, rent both to a competitive
# firm, and buy its output, each within its own budget. Prices are not chosen by anyone:
# every period the economy finds the rental rate, the wage and the goods price at which
# the capital, labour and goods markets clear. We step it by hand, read what a step returns,
# check the clearing, and let the households learn their savings with PPO.
#
# **Run time**: about 45 seconds at full size on a loaded two-core machine (measured; most
# of it Ray starting and PPO's 20 iterations); stepping and checking the clearing take a
# second. The test suite runs it with `MARKETSAI_TUTORIAL_SIZE=small` (one PPO iteration).
#
# Run it from any folder: `python market_economy.py` (it reads the economy `growth_market`
# shipped with the package). It writes into a folder `market_economy/` of the working
# directory.
# `MARKETSAI_TUTORIAL_SIZE=small` runs the test suite's size.

# %%
import os
from pathlib import Path

import numpy as np

import marketsai as mai

work = Path("market_economy")
work.mkdir(exist_ok=True)
small = os.environ.get("MARKETSAI_TUTORIAL_SIZE") == "small"

# %% [markdown]
# ## 1. The economy, with 50 households
#
# The shipped economy `growth_market` declares `count: 10` households; `overrides` sets 50
# (from the command line: `--set economy.agents[0].count=50`). The households form one
# `group` (one shared policy for deep learners) and each observes its own capital, TFP and
# the mean capital. The firm has no decision: it hires what the prices make profitable.

# %%
N = 50
econ = mai.load_economy("growth_market", overrides={"agents[0].count": N})
print(econ)
print(f"{len(econ.agents)} agents ({econ.agents[0]} ... {econ.agents[-2]}, {econ.agents[-1]}), "
      f"{len(econ.decisions)} decisions")

# %% [markdown]
# ## 2. Step it
#
# `initial_state(rng, batch)` draws `batch` independent economies at once; `step(state,
# actions, rng)` advances all of them one period. `actions` has one column per *decision*:
# each household's savings share of its cash on hand, so `(batch, 50)`; the firm decides
# nothing. `rewards` has one column per *agent*: the 50 households' period utilities and,
# last, the firm's profit (zero under constant returns), so `(batch, 51)`. Every household
# here saves `alpha beta = 0.342`, the competitive equilibrium's rule.

# %%
alpha, beta = 0.36, econ.discount
rng = np.random.default_rng(0)
state = econ.initial_state(rng, batch=4)
actions = np.full((4, len(econ.decisions)), alpha * beta)
state, rewards, info = econ.step(state, actions, rng)
print("actions", actions.shape, "rewards", rewards.shape)
print("the firm's reward (last column):", rewards[:, -1].round(12))
print("info:", ", ".join(info))
print("household:", {k: v.shape for k, v in info["household"].items() if hasattr(v, "shape")})
print("firm:", {k: v.shape for k, v in info["firm"].items()})

# %% [markdown]
# `info` holds, per agent entry, what it did this period as `(batch, count)` arrays -- a
# household's `consumption`, `k_next`, `income`, `rent`, `wage_bill`; the firm's `output`,
# `capital`, `labour` -- and under `markets` each competitive market's report: its `price`,
# what was `traded`, and the `excess_demand`, all `(batch,)`; `supply` and `demand` per
# participant `(batch, 51)`. The `step` docstring (`help(econ.step)`) lists every entry.
#
# ## 3. The clearing
#
# The markets clear at every period: excess demand zero to rounding. The prices are the
# firm's marginal products at the aggregate capital `K` and labour `L = N`:
# `r = alpha z (K/L)^(alpha - 1)` and `w = (1 - alpha) z (K/L)^alpha`, so capital earns the
# share `alpha` of output and labour `1 - alpha`, and each household's budget
# `c + k' = r k + w` holds (full depreciation).

# %%
markets = info["markets"]
for name, report in markets.items():
    print(f"{name:8s} price {report.price.round(4)}  max |excess demand| {np.abs(report.excess_demand).max():.1e}")
z, K = info["exo"]["z"], markets["capital"].traded
r, w = markets["capital"].price, markets["labour"].price
print("r from the marginal product:", np.allclose(r, alpha * z * (K / N) ** (alpha - 1)))
print("w from the marginal product:", np.allclose(w, (1 - alpha) * z * (K / N) ** alpha))
Y = info["firm"]["output"][:, 0]
capital_share, labour_share = r * K / Y, w * N / Y
print(f"capital's share of output {capital_share.round(6)}, labour's {labour_share.round(6)}")
hh = info["household"]
budget = hh["consumption"] + hh["k_next"] - (hh["rent"] + hh["wage_bill"])
print(f"largest budget residual: {np.abs(budget).max():.1e}")

# %% [markdown]
# ## 4. A short learn
#
# PPO trains the households' one shared policy (`policies: group`) on 8 simulated economies
# stepped as one vector environment (`env.sessions`), here with 10 households for speed.
# The `market` evaluation then simulates the learned policy and reports, among others, the
# households' savings shares against the exact `alpha beta` and whether the markets
# cleared on its path. The full size trains 20 iterations of 4096 periods -- far short of
# the 2 million periods of the market-economies study in the repository's `docs/` -- the
# test size 1. Clearing holds whatever the policy: it is the economy's work, not the
# learner's.

# %%
learn = {
    "kind": "learn", "name": "households_ppo", "economy": "growth_market",
    "seeds": [0],
    "learner": {"name": "PPO", "settings": {
        "gamma": 0.95, "lambda_": 1.0, "lr": 0.001, "train_batch_size_per_learner": 4096,
        "minibatch_size": 1024, "num_epochs": 10, "vf_clip_param": 1000.0, "entropy_coeff": 0.0,
        "model": {"fcnet_hiddens": [64, 64]}, "env": {"max_cycles": 200, "sessions": 8},
        "policies": "group", "stop": {"training_iteration": 1 if small else 20},
        "resources": {"num_env_runners": 0}}},
    "evaluate": [{"name": "market", "settings": {"sessions": 4, "periods": 300, "burn": 50}}],
}
run = mai.load_run(mai.run_experiment(learn, out=work / "ppo", progress=False))
s = run.summary
print(f"savings share: {s['share_min']:.3f} .. {s['share_max']:.3f} (exact {alpha * beta:.3f}); "
      f"mean error {s['share_err_mean']:.1%}")
print(f"mean capital per household {s['K_mean']:.4f} (exact rule {s['K_mean_exact']:.4f})")
print(f"on the learned path: max |excess demand| {s['max_excess_demand']:.1e}, "
      f"max |budget residual| {s['max_budget_residual']:.1e}")

# %% [markdown]
# **What this run shows**: one step of 4 economies of 50 households: the three markets
# clear to rounding (excess demand below 1e-13), the rental rate and the wage are the
# firm's marginal products, capital earns exactly 36 % of output and labour 64 %, and every
# household's budget holds. At full size PPO's households, after 20 iterations (81,920
# periods of 8 economies of 10 households), save between 0.20 and 0.38 of their cash on hand
# where the exact share is 0.342 (mean error 15 %), and their capital runs down to a sixth
# of the exact rule's -- far from the equilibrium, as a short run should be. The markets
# still clear on their path and every budget holds: clearing is the economy's work, done
# for any policy. The market-economies study in the repository's `docs/` trains for
# millions of periods and compares N = 1, 10 and 100.
