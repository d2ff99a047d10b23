"""Euler errors of the growth model's reference solutions (docs/growth.md), as a committed CSV.

Why: the reference solvers' accuracy was typed into the page from a test's printout; this
script computes it and writes ``results/reference_euler.csv`` (with its ``.source.json``),
which ``docs/tables.py`` renders. Nothing is learned; it takes seconds.

    python experiments/growth/reference_euler.py
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from marketsai.analysis.euler import ergodic_euler_stats, euler_error_stats
from marketsai.runner.provenance import write_table
from marketsai.solvers.growth import (
    brock_mirman_calibration,
    brock_mirman_policy,
    rbc_calibration,
    solve_egm,
)

OUT = Path(__file__).resolve().parent / "results" / "reference_euler.csv"
EGM_POINTS = 1000


def rows() -> list[dict]:
    """Per reference and region: log10 of the mean and the max absolute Euler error."""
    bm = brock_mirman_calibration()
    closed_form = lambda k, iz: brock_mirman_policy(bm, k, bm.z_values[iz])  # noqa: E731
    rbc = rbc_calibration()
    k_ss = rbc.steady_state()[0]
    egm = solve_egm(rbc, np.linspace(0.5, 1.5, EGM_POINTS) * k_ss).savings
    cases = [
        ("Brock–Mirman closed form `k' = alpha beta z k^alpha`", "brock_mirman", "(0.8, 1.2) k_ss",
         euler_error_stats(bm, closed_form)),
        (f"EGM, {EGM_POINTS} points on (0.5, 1.5) k_ss", "rbc_grid", "(0.8, 1.2) k_ss",
         euler_error_stats(rbc, egm)),
        (f"EGM, {EGM_POINTS} points on (0.5, 1.5) k_ss", "rbc_grid", "(0.85, 1.15) k_ss",
         euler_error_stats(rbc, egm, k_range=(0.85 * k_ss, 1.15 * k_ss))),
        (f"EGM, {EGM_POINTS} points on (0.5, 1.5) k_ss", "rbc_grid", "its ergodic path (10,000 periods, seed 0)",
         ergodic_euler_stats(rbc, egm)),
    ]
    return [{"reference": ref, "used_for": used, "where": where, "mean": s["mean"], "max": s["max"]}
            for ref, used, where, s in cases]


def main() -> None:
    table = pd.DataFrame(rows())
    command = shlex.join(["python", "experiments/growth/reference_euler.py", *sys.argv[1:]])
    write_table(table, OUT, command=command,
                notes=["Euler errors, log10: mean = log10 of the mean absolute error"])
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
