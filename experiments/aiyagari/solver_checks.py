"""Accuracy and comparative statics of our Aiyagari solver, as a committed CSV.

Why: docs/aiyagari.md quotes the solver's Euler errors off its nodes, its capital supply
with a borrowing limit and CRRA utility next to QuantEcon's DiscreteDP on three grids, and
how the equilibrium ``r`` moves with the limit and with risk aversion; the tests assert
bounds, not these digits. This script measures them (about a minute with DiscreteDP on
841 points; ``--no-quantecon`` leaves those rows out).

    python experiments/aiyagari/solver_checks.py
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from marketsai.runner.provenance import write_table
from marketsai.solvers.aiyagari import (
    AiyagariModel,
    household_policy,
    solve_aiyagari,
    stationary_distribution,
)

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "solver_checks.csv"
R_FIXED = 0.0085  # the r at which capital supplies are compared (a >= -1, gamma = 2, L = 0.55)


def euler_errors(sol) -> np.ndarray:
    """Unit-free Euler errors on 2001 points of [0, 20] where the household saves (linear
    interpolation between the EGM nodes; at the constraint the equation is an inequality)."""
    m, P = sol.model, sol.model.Pm
    a = np.linspace(0.0, 20.0, 2001)
    errs = []
    for s in range(len(m.z)):
        c, ap = sol.consumption(a, s), sol.savings(a, s)
        E = sum(P[s, s2] * sol.consumption(ap, s2) ** -m.gamma for s2 in range(len(m.z)))
        c_euler = (m.beta * (1 + sol.r) * E) ** (-1 / m.gamma)
        inner = ap > 1e-12
        errs.append(np.abs(1 - c_euler[inner] / c[inner]))
    return np.concatenate(errs)


def _crosscheck():
    spec = importlib.util.spec_from_file_location("aiyagari_quantecon_crosscheck", HERE / "quantecon_crosscheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-quantecon", action="store_true", help="leave DiscreteDP's rows out")
    args = parser.parse_args(argv)
    rows = []
    base = solve_aiyagari(AiyagariModel())
    e = euler_errors(base)
    rows += [{"check": "euler_error_mean", "setup": "L = E z, log utility, limit 0", "solver": "ours", "value": e.mean()},
             {"check": "euler_error_max", "setup": "L = E z, log utility, limit 0", "solver": "ours", "value": e.max()}]
    for name, model in (("r, borrowing limit -1 (log utility)", AiyagariModel(borrowing_limit=1.0)),
                        ("r, gamma 2 (limit 0)", AiyagariModel(gamma=2.0))):
        rows.append({"check": "equilibrium_r", "setup": name, "solver": "ours", "value": solve_aiyagari(model).r})
    model = AiyagariModel(borrowing_limit=1.0, gamma=2.0)
    D, _, _ = stationary_distribution(household_policy(model, R_FIXED))
    setup = f"capital supply at r = {R_FIXED}, a >= -1, gamma 2, L = 0.55"
    rows.append({"check": "capital_supply", "setup": setup, "solver": "ours",
                 "value": float(D.sum(axis=0) @ model.dist_b_grid()) - 1.0})
    if not args.no_quantecon:
        cc = _crosscheck()
        for points in (211, 421, 841):
            K, _ = cc.ddp_capital_supply(R_FIXED, 0.96, 0.33, 0.05, 1.0, (0.1, 1.0), ((0.9, 0.1), (0.1, 0.9)),
                                         20.0, points, 0.55, a_min=-1.0, gamma=2.0)
            rows.append({"check": "capital_supply", "setup": setup,
                         "solver": f"QuantEcon DiscreteDP, {points} points on [-1, 20]", "value": float(K)})
    frame = pd.DataFrame(rows)
    write_table(frame, OUT, command="python experiments/aiyagari/solver_checks.py",
                notes=["our Aiyagari solver (marketsai.solvers.aiyagari) at its defaults unless the setup says"])
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
