"""The two-sector economy's steady states in both calibrations (docs/solvers.md).

Why a script: the page's table quotes numbers; this writes them to a committed table with
its provenance, so docs/tables.py generates the page's table from it. Nothing is learned:
:func:`marketsai.solvers.two_sector.steady_state` (the closed form) for each calibration,
every digit in the CSV, and the largest of the 20 first-order and market-clearing conditions'
residuals there (:func:`~marketsai.solvers.two_sector.foc_residuals`).

Usage::

    python experiments/market_economies/two_sector_steady_states.py

writes ``results/two_sector_steady_states.csv`` and its ``.source.json``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from marketsai.runner.provenance import write_table
from marketsai.solvers.two_sector import CALIBRATIONS, TwoSectorModel, foc_residuals, steady_state

OUT = Path(__file__).resolve().parent / "results" / "two_sector_steady_states.csv"
#: the aggregates, sector allocations and prices (the household's c, l, i, k equal C, L, I, K)
COLUMNS = ("K", "L", "K_c", "K_i", "L_c", "L_i", "C", "I", "Y", "p", "r", "w")


def table() -> pd.DataFrame:
    rows = []
    for case, shares in CALIBRATIONS.items():
        model = TwoSectorModel.calibration(case)
        solution = steady_state(model)
        ss = solution.as_dict()
        residual = float(max(abs(v) for v in foc_residuals(model, solution).values()))
        rows.append({"case": case, **shares, **{c: ss[c] for c in COLUMNS}, "foc_residual_max": residual})
    return pd.DataFrame(rows)


def main() -> None:
    write_table(table(), OUT, command="python experiments/market_economies/two_sector_steady_states.py",
                notes=("steady_state(TwoSectorModel.calibration(case)), the closed form",))
    print(OUT)


if __name__ == "__main__":
    main()
