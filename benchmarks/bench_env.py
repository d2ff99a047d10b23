"""Cost of one multi-agent step of the Bertrand duopoly environment.

Measures, in one run: our PettingZoo ParallelEnv (grid actions, tabulated rewards), the
same economy with continuous prices (markets cleared each step), the RLlib adapter, and
as the baseline a naive step that calls the market's ``clear`` and builds the same dicts.
Target: under 20 microseconds a step, so that learners, not the environment, dominate.

Run: ``.venv/bin/python benchmarks/bench_env.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import best_of, peak_rss_mb, write_table  # noqa: E402

import marketsai as mai  # noqa: E402

STEPS = 50_000


def per_step_us(env, actions) -> float:
    env.reset(seed=0)

    def run():
        for a in actions:
            env.step(a)
    return best_of(run, repeat=3) / len(actions) * 1e6


def main() -> str:
    rng = np.random.default_rng(0)
    econ = mai.load_economy("economies/bertrand_duopoly.yaml")
    idx = rng.integers(0, 15, size=(STEPS, 2))
    grid_actions = [{"firm_0": int(a), "firm_1": int(b)} for a, b in idx]
    rows = []

    env = econ.parallel_env(max_cycles=10**9)
    rows.append(["ParallelEnv, 15-price grid (ours)", f"{per_step_us(env, grid_actions):.2f}"])

    cont = mai.load_economy("economies/bertrand_duopoly_continuous.yaml")
    lo, hi = cont.decisions[0].low, cont.decisions[0].high
    prices = rng.uniform(lo, hi, size=(STEPS, 2)).astype(np.float32)
    cont_actions = [{"firm_0": p[:1], "firm_1": p[1:]} for p in prices]
    rows.append(["ParallelEnv, continuous prices (ours)",
                 f"{per_step_us(cont.parallel_env(max_cycles=10**9), cont_actions):.2f}"])

    try:
        creator = econ.rllib_env_creator()
        rows.append(["RLlib MultiAgentEnv adapter, grid (ours)",
                     f"{per_step_us(creator({'max_cycles': 10**9}), grid_actions):.2f}"])
    except ImportError:
        rows.append(["RLlib MultiAgentEnv adapter", "ray not installed"])

    market, grid = econ.markets[0], econ.decisions[0].grid

    class Naive:
        """Baseline: clear the market with NumPy every step, no tabulation."""
        def reset(self, seed=None):
            self.last = np.zeros(2)

        def step(self, a):
            p = np.array([grid[a["firm_0"]], grid[a["firm_1"]]])
            out = market.clear(p)
            obs = {k: ((p - grid[0]) / (grid[-1] - grid[0]) * 2 - 1).astype(np.float32) for k in a}
            rew = {k: float(out.profit[i]) for i, k in enumerate(a)}
            return obs, rew, {k: False for k in a}, {k: False for k in a}, {k: {} for k in a}

    rows.append(["baseline: naive step calling market.clear", f"{per_step_us(Naive(), grid_actions):.2f}"])
    text = write_table("env", "Environment step cost, Bertrand duopoly", ["environment", "us per multi-agent step"],
                       rows, notes=f"{STEPS} random steps, best of 3; peak RSS {peak_rss_mb():.0f} MB. "
                                   "Target: < 20 us per step.")
    print(text)
    return text


if __name__ == "__main__":
    main()
