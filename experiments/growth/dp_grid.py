"""Value iteration on the growth grids of the tabular studies, as a committed CSV: the Q gaps
the greedy choice has to resolve and what value iteration costs.

Why: docs/growth.md explains why constant-step Q-learning stalls by setting the noise of a
Q value against the gap between the best and second-best ``k'`` of the DP; and
docs/q_learning_solver.md compares the learner's periods with value iteration's sweeps and
pair updates. Both come from value iteration on the grids of
experiments/growth/brock_mirman.yaml and rbc_grid.yaml. Nothing is learned; it takes seconds.

    python experiments/growth/dp_grid.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from marketsai import load_economy
from marketsai.runner.provenance import write_table
from marketsai.solvers import dp

#: (economy file, capital grid sizes): the sweeps of the two tabular growth experiments
GRIDS = (("economies/brock_mirman.yaml", (21, 41, 81)), ("economies/rbc_grid.yaml", (21, 41, 81)))
OUT = Path(__file__).resolve().parent / "results" / "dp_grid.csv"


def q_gaps(q: np.ndarray) -> np.ndarray:
    """Per state: the best action's Q minus the second best's (states with one feasible
    action left out)."""
    ranked = np.sort(np.where(np.isfinite(q), q, -np.inf), axis=1)
    gap = ranked[:, -1] - ranked[:, -2]
    return gap[np.isfinite(gap)]


def main() -> None:
    rows = []
    for economy, sizes in GRIDS:
        for points in sizes:
            model = load_economy(economy, overrides={"agents[0].state.k.points": points}).finite_model()
            solution = dp.value_iteration(model)
            q = np.asarray(solution.q).reshape(-1, np.shape(solution.q)[-1])
            gap = q_gaps(q)
            pairs = int(np.isfinite(q).sum())
            rows.append({"economy": Path(economy).stem, "k_points": points, "states": q.shape[0],
                         "feasible_pairs": pairs, "sweeps": solution.iterations,
                         "pair_updates": solution.iterations * pairs, "gap_median": np.median(gap),
                         "gap_min": gap.min(), "gap_max": gap.max(), "converged": solution.converged})
    frame = pd.DataFrame(rows)
    print(frame.to_string(index=False))
    print(write_table(frame, OUT, command="python experiments/growth/dp_grid.py",
                      notes=["value iteration from zero to 1e-10: sweeps, feasible (state, k') pairs, "
                             "and Q of the best minus the second-best k' per state"]))


if __name__ == "__main__":
    main()
