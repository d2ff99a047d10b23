"""Convergence curves of the tabular learner as a solver (docs/q_learning_solver.md).

For each growth economy and grid size, 8 sessions of each learner setting are advanced
in checkpoints (the same sessions, resumed: session i's stream is (seed, i)); at each
checkpoint the greedy tables are scored by :class:`marketsai.analysis.growth.GrowthAccuracy`
(mean log10 Euler error on (0.8, 1.2) k_ss, DP agreement weighted by the DP policy's
ergodic law; at the last checkpoint also the mean policy error) next to the grid's floor. Rows go to ``results/solver_curves.csv``.

    NUMBA_NUM_THREADS=2 python experiments/growth/solver_curves.py bm 21 [rbc 21 ...] \\
        [budget=5e7] [only=constant,rm+expected]

Settings (``SETTINGS``): ``constant`` is the growth study's learner (alpha 0.003 on
Brock-Mirman, 0.01 on RBC; experiments/growth/*.yaml); ``rm+expected`` the solver
options; the two single ingredients are the ablation. All share q0 zeros and the
exploration schedule ``eps_t = exp(-beta t)`` with ``beta = EXPLORE / budget`` so that
exploration ends at the same share of every budget.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import numpy as np

from marketsai.analysis.euler import euler_error_stats
from marketsai.analysis.growth import GrowthAccuracy, grid_savings, growth_model_of
from marketsai.economy import Economy
from marketsai.tabular import QLearningConfig, advance, init_sessions
from marketsai.yamlio import read_yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FILES = {"bm": "economies/brock_mirman.yaml", "rbc": "economies/rbc_grid.yaml"}
ALPHA = {"bm": 0.003, "rbc": 0.01}  # the growth study's tuned constant steps
SESSIONS = range(8)
SEED = 1
EXPLORE = 6.0  # eps falls to exp(-6) = 0.25 % at the end of the budget


def settings(econ: str, budget: int) -> dict[str, QLearningConfig]:
    beta = EXPLORE / budget
    base = dict(beta=beta, q0="zeros", stable_periods=10**12, max_periods=10**12)
    rm = dict(step_size="visits", step_a=1001.0, step_b=1000.0, step_omega=1.0)
    return {
        "constant": QLearningConfig(alpha=ALPHA[econ], **base),
        "rm": QLearningConfig(**rm, **base),
        "expected": QLearningConfig(alpha=ALPHA[econ], target="expected", **base),
        "rm+expected": QLearningConfig(**rm, target="expected", **base),
        # improvement every 1000 periods: from an optimistic q0 the target is r + beta J
        # with J frozen, one Bellman step per interval (1e5 took 6e6 periods to get Q
        # within 1 of Q* on Brock-Mirman 21, 1000 gave 1e-6 after 1e6)
        "rm+expected+epi": QLearningConfig(**rm, target="expected", update="enhanced_pi",
                                           improve_every=1000, **base),
    }


def score(acc: GrowthAccuracy, strategies, full: bool) -> dict:
    """Mean Euler error and DP agreement of each session (all measures when ``full``; the
    welfare and ergodic-path measures are too slow for every checkpoint)."""
    if full:
        return acc.columns(strategies)
    greedy = np.asarray(strategies, np.int64)[:, 0, :]
    euler = [euler_error_stats(acc.model, grid_savings(acc.model, acc.fm, g),
                               k_range=acc.k_range)["mean"] for g in greedy]
    same = greedy == acc.dp_policy[None, :]
    return {"euler_mean": np.array(euler), "dp_agreement": same.mean(axis=1),
            "dp_agreement_ergodic": (same * acc.dp_weights).sum(axis=1),
            "policy_err_mean": np.full(len(greedy), np.nan)}


def economy(name: str, points: int) -> Economy:
    data = read_yaml(ROOT / FILES[name])
    data["agents"][0]["state"]["k"]["points"] = int(points)
    return Economy.from_dict(data)


def main(argv):
    opts = dict(a.split("=", 1) for a in argv if "=" in a)  # budget=5e7 only=constant,rm
    pos = [a for a in argv if "=" not in a]
    pairs = list(zip(pos[0::2], map(int, pos[1::2]), strict=True))
    budget = int(float(opts.get("budget", 0)))
    only = set(opts["only"].split(",")) if "only" in opts else set()
    out = HERE / "results" / "solver_curves.csv"
    new = not out.exists()
    with open(out, "a", newline="") as fh:
        w = csv.writer(fh)
        if new:
            w.writerow(["economy", "points", "setting", "periods", "wall_s", "euler_mean",
                        "euler_mean_sd", "dp_agreement_ergodic", "dp_agreement_ergodic_min",
                        "dp_agreement", "policy_err_mean", "floor_euler_mean"])
        for name, points in pairs:
            econ = economy(name, points)
            fm = econ.finite_model()
            acc = GrowthAccuracy(growth_model_of(econ), fm)
            B = budget or BUDGET[name] * points * points // (21 * 21)
            checkpoints = sorted({int(B * f) for f in (0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0)})
            for label, cfg in settings(name, B).items():
                if only and label not in only:
                    continue
                st = init_sessions(fm, cfg, seed=SEED, sessions=SESSIONS)
                done, wall = 0, 0.0
                for c in checkpoints:
                    t0 = time.time()
                    advance(fm, cfg, st, periods=c - done, until_converged=False)
                    wall += time.time() - t0
                    done = c
                    cols = score(acc, st.strategy, full=c == checkpoints[-1])
                    row = [name, points, label, c, round(wall, 1),
                           float(np.mean(cols["euler_mean"])), float(np.std(cols["euler_mean"])),
                           float(np.mean(cols["dp_agreement_ergodic"])),
                           float(np.min(cols["dp_agreement_ergodic"])),
                           float(np.mean(cols["dp_agreement"])),
                           float(np.mean(cols["policy_err_mean"])), acc.floor["euler_mean"]]
                    w.writerow(row)
                    fh.flush()
                    print(*[f"{v:.4g}" if isinstance(v, float) else v for v in row], flush=True)


BUDGET = {"bm": 50_000_000, "rbc": 100_000_000}  # periods per session at 21 points

if __name__ == "__main__":
    main(sys.argv[1:])
