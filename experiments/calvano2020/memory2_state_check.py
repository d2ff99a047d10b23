"""Memory 2: Delta from the learners' final state vs from the state the authors' Fortran
rebuilds (RESHAPE of the base-15 digits into (DepthState, numAgents) mixes lags and firms).

    PYTHONPATH=. python experiments/calvano2020/memory2_state_check.py   # 24 sessions, ~5 min

Writes ``results/memory2_state_check.csv`` (with its ``.source.json``), which
docs/calvano_robustness.md quotes.
"""
from pathlib import Path

import numpy as np
import pandas as pd

from marketsai.analysis import limit_cycles, profit_gain
from marketsai.economy import load_economy
from marketsai.runner.provenance import write_table
from marketsai.tabular import QLearningConfig, run_sessions

g = load_economy("economies/calvano_memory2.yaml").finite_game()
cfg = QLearningConfig(dtype="float32")
res = run_sessions(g, cfg, seed=2020, sessions=range(24))
m, M = g.n_actions, g.n_joint


def fortran_scramble(s):
    j1, j2 = s % M, s // M          # j1: last period (t-1), j2: t-2
    x1, x2 = divmod(j1, m)          # (agent0, agent1) prices at t-1
    y1, y2 = divmod(j2, m)          # ... at t-2
    # Fortran: p(1,:) = (lag1 a1, lag2 a1), p(2,:) = (lag1 a2, lag2 a2)
    nj1 = x1 * m + y1
    nj2 = x2 * m + y2
    return nj2 * M + nj1


start = res.final.state
scr = np.array([fortran_scramble(int(s)) for s in start])
rows = []
for name, st in (("final state", start), ("Fortran's reconstruction", scr)):
    cyc = limit_cycles(g, res.strategies, start_states=st)
    d = profit_gain(cyc.mean_payoff, g.nash_payoff, g.coop_payoff).mean(axis=1)
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
    rows.append({"cycle_from": name, "sessions": len(d), "profit_gain": d.mean(), "sd": d.std(ddof=1),
                 "ci_low": d.mean() - half, "ci_high": d.mean() + half})
    print(f"{name}: Delta {d.mean():.3f} (SD {d.std(ddof=1):.3f}, {len(d)} sessions)")
print("engine's own:", res.profit_gain.mean(axis=1).mean())
write_table(pd.DataFrame(rows), Path(__file__).resolve().parent / "results" / "memory2_state_check.csv",
            command="PYTHONPATH=. python experiments/calvano2020/memory2_state_check.py",
            notes=["Delta of the limit cycle from the learners' final state and from the state "
                   "the authors' Fortran rebuilds; 95 % interval of the mean"], seed=2020)
