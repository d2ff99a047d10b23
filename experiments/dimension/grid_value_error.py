"""How close value iteration on the d = 2 sector grid comes to the closed-form value, per
grid size, as a committed CSV.

Why: docs/dimension.md quotes the grid's own error (the floor a tabular learner on that
grid cannot beat); this computes it from ``economies/sectors_2_grid.yaml`` and the
closed form of ``marketsai.solvers.sectors``. Nothing is learned; it takes seconds.

    python experiments/dimension/grid_value_error.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from marketsai import load_economy
from marketsai.runner.provenance import write_table
from marketsai.solvers.dp import value_iteration
from marketsai.solvers.sectors import sector_model

ECONOMY = "economies/sectors_2_grid.yaml"
POINTS = (5, 9, 15, 25)
OUT = Path(__file__).resolve().parent / "results" / "grid_value_error.csv"


def solve_grid(econ):
    """Value iteration on a two-stock grid economy and the closed-form value at its nodes:
    ``(finite model, DP solution, V, exact)``, ``V`` and ``exact`` shaped (exo states,
    capital nodes). ``tests/test_sectors.py`` checks the same solution."""
    fm = econ.finite_model()
    solution = value_iteration(fm)
    exact_model = sector_model(econ)
    k = np.stack([fm.x_values["k1"], fm.x_values["k2"]], axis=-1)
    value = solution.value.reshape(fm.n_exo, fm.n_x)
    exact = np.stack([exact_model.value(k, e) for e in range(fm.n_exo)])
    return fm, solution, value, exact


def main() -> None:
    rows = []
    for points in POINTS:
        _, solution, value, exact = solve_grid(load_economy(ECONOMY, overrides={"agents[0].state.k.points": points}))
        gap = exact - value
        rows.append({"G": points, "states": value.size, "max_abs_error": np.abs(gap).max(),
                     "below_exact_everywhere": bool(np.all(gap >= -1e-8)),
                     "converged": solution.converged})
    frame = pd.DataFrame(rows)
    write_table(frame, OUT, command="python experiments/dimension/grid_value_error.py",
                notes=[f"{ECONOMY} with G points a stock: value iteration against the closed-form value"])
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
