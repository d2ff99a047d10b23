"""Tabular Q-learning against dynamic programming on two small growth grids (docs/tabular.md).

Why a script: docs/tabular.md quotes the shares of states at which Q-learning's greedy
policy agrees with value iteration's; the two growth-grid tests of
``tests/test_tabular_model.py`` measure them (and assert bounds). This writes them, with
the same code (``tests/growth_grids.py``), to a committed table with its provenance, so the
page's table is generated from it and the tests check it against a fresh run:

* the 10-point Brock-Mirman grid without shocks: share of states whose greedy action is
  DP-optimal (ties count), 4 sessions of 400,000 periods;
* the 10-point grid x 3 TFP states (``growth_finite_model``): share at the DP policy's
  action and within one grid step of it, 8 sessions of 20 million periods; and what a
  uniformly random feasible policy scores (the chance level, exact expectation).

Seed 0, constant exploration, no convergence stop. Usage (about 30 s)::

    python experiments/growth/tabular_dp_agreement.py

writes ``results/tabular_dp_agreement.csv`` and its ``.source.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from marketsai.runner.provenance import write_table

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
import growth_grids as gg  # noqa: E402  tests/growth_grids.py: the tests' measurements

OUT = ROOT / gg.TABLE


def table() -> pd.DataFrame:
    exact, near = gg.stochastic_grid_agreement()
    chance_exact, chance_near = gg.random_policy_agreement(gg.STOCHASTIC["n_k"], gg.STOCHASTIC["n_z"])
    return pd.DataFrame([
        gg.table_row(gg.DETERMINISTIC_GRID, gg.OPTIMAL, gg.deterministic_grid_shares(), gg.DETERMINISTIC),
        gg.table_row(gg.STOCHASTIC_GRID, gg.EXACT, exact, gg.STOCHASTIC),
        gg.table_row(gg.STOCHASTIC_GRID, gg.NEAR, near, gg.STOCHASTIC),
        gg.table_row(gg.STOCHASTIC_GRID, gg.RANDOM_EXACT, chance_exact),
        gg.table_row(gg.STOCHASTIC_GRID, gg.RANDOM_NEAR, chance_near),
    ])


def main() -> None:
    write_table(table(), OUT, command="python experiments/growth/tabular_dp_agreement.py", seed=0,
                notes=("shares of states, mean / min / max over sessions (tests/growth_grids.py)",))
    print(OUT)


if __name__ == "__main__":
    main()
