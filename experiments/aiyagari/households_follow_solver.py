"""Households of ``economies/aiyagari.yaml`` following our solver's rule: their time-averaged
capital against the solver's K, as a committed CSV.

Why: docs/aiyagari.md quotes how close N stepped households come to the stationary
equilibrium, and how noisy a session's time average is; ``tests/test_aiyagari.py`` runs
the same simulation (``simulate``) on 8 sessions and asserts the tolerance. This script
runs 40 sessions (seeds 0-4, 8 sessions each) and the test's 8 (seed 12345), in about a
minute.

    python experiments/aiyagari/households_follow_solver.py
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

import marketsai as mai
from marketsai.runner.provenance import write_table
from marketsai.solvers.aiyagari import AiyagariModel, solve_aiyagari

ROOT = Path(__file__).resolve().parents[2]
ECONOMY = ROOT / "economies" / "aiyagari.yaml"
OUT = Path(__file__).resolve().parent / "results" / "households_follow_solver.csv"
TEST_SEED = 12345  # the seed tests/test_aiyagari.py uses


def simulate(sol, n: int = 1000, sessions: int = 8, burn: int = 50, periods: int = 300,
             seed: int = TEST_SEED) -> tuple[np.ndarray, float]:
    """``n`` households in each of ``sessions`` economies start from the solver's joint
    distribution of ``(z, k)`` and save the share ``a'(cash, z) / cash`` of the solver's rule
    at the prices their economy clears at (K and L are state, so prices are known at the
    start of a period). Returns each session's capital per household averaged over
    ``periods`` after ``burn``, and the largest gap between the capital market's price and
    the firm's ``r + delta`` (the rule is applied at the economy's own prices)."""
    econ = mai.load_economy(ECONOMY, {"agents[0].count": n})
    rng = np.random.default_rng(seed)
    state = econ.initial_state(rng, sessions)
    draw = rng.choice(sol.distribution.size, size=(sessions, n), p=sol.distribution.ravel() / sol.distribution.sum())
    size = sol.asset_grid.size
    exo_z = state.exo_agent["z"].copy()
    exo_z[:, :n] = draw // size
    state = dataclasses.replace(state, fields={"household.k": np.maximum(sol.asset_grid[draw % size], 1e-9)},
                                exo_agent={"z": exo_z})
    zv = econ.processes["z"].chain.value("z")
    low, high = econ.spec.agents[0].action["low"], econ.spec.agents[0].action["high"]
    m = sol.model
    capital, price_gap = [], 0.0
    for t in range(burn + periods):
        k, iz = state.fields["household.k"], state.exo_agent["z"][:, :n]
        K, L = k.sum(axis=1), zv[iz].sum(axis=1)
        r = m.alpha * (K / L) ** (m.alpha - 1) - m.delta
        cash = (1 + r)[:, None] * k + ((1 - m.alpha) * (K / L) ** m.alpha)[:, None] * zv[iz]
        ap = np.empty_like(k)
        for s in range(len(m.z)):
            ap[iz == s] = sol.policy.savings_at_cash(cash[iz == s], s)
        state, _, info = econ.step(state, np.clip(ap / cash, low, high), rng)
        price_gap = max(price_gap, float(np.max(np.abs(info["markets"]["capital"].price / (r + m.delta) - 1))))
        if t >= burn:
            capital.append(K / n)
    return np.mean(capital, axis=0), price_gap


def main() -> None:
    sol = solve_aiyagari(AiyagariModel())
    rows = []
    for seed in (0, 1, 2, 3, 4, TEST_SEED):
        means, _ = simulate(sol, seed=seed)
        rows += [{"seed": seed, "session": i, "capital_mean": v} for i, v in enumerate(means)]
    frame = pd.DataFrame(rows)
    forty = frame[frame["seed"] != TEST_SEED]["capital_mean"]
    summary = pd.DataFrame([
        {"sessions": "40 (seeds 0-4)", "capital_mean": forty.mean(), "session_sd": forty.std(ddof=1),
         "standard_error": forty.std(ddof=1) / np.sqrt(len(forty)), "solver_K": sol.K},
        {"sessions": f"8 (seed {TEST_SEED}, the test's)",
         "capital_mean": frame[frame["seed"] == TEST_SEED]["capital_mean"].mean(),
         "session_sd": frame[frame["seed"] == TEST_SEED]["capital_mean"].std(ddof=1),
         "standard_error": np.nan, "solver_K": sol.K}])
    note = ("1,000 households a session, 300 periods after 50 of burn-in, following the solver's rule "
            "at the economy's prices; capital per household, time-averaged")
    print(summary.to_string(index=False), "\n", note)
    write_table(summary, OUT, command="python experiments/aiyagari/households_follow_solver.py", notes=[note])


if __name__ == "__main__":
    main()
