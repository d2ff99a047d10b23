"""How far apart the best and second-best capital choices of the Brock-Mirman DP are in Q,
per grid size, as a committed CSV.

Why: docs/growth.md explains why constant-step Q-learning stalls on this model by setting
the noise of a Q value against these gaps; the gaps come from value iteration on the
grids of experiments/growth/brock_mirman.yaml. Nothing is learned; it takes seconds.

    python experiments/growth/dp_q_gaps.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from marketsai import load_economy
from marketsai.runner.provenance import write_table
from marketsai.solvers import dp

ECONOMY = "economies/brock_mirman.yaml"
POINTS = (21, 41, 81)  # the sweep of experiments/growth/brock_mirman.yaml
OUT = Path(__file__).resolve().parent / "results" / "dp_q_gaps.csv"


def q_gaps(q: np.ndarray) -> np.ndarray:
    """Per state: the best action's Q minus the second best's (states with one feasible
    action left out)."""
    ranked = np.sort(np.where(np.isfinite(q), q, -np.inf), axis=1)
    gap = ranked[:, -1] - ranked[:, -2]
    return gap[np.isfinite(gap)]


def main() -> None:
    rows = []
    for points in POINTS:
        model = load_economy(ECONOMY, overrides={"agents[0].state.k.points": points}).finite_model()
        solution = dp.value_iteration(model)
        gap = q_gaps(np.asarray(solution.q).reshape(-1, np.shape(solution.q)[-1]))
        rows.append({"k_points": points, "states": len(gap), "gap_median": np.median(gap),
                     "gap_min": gap.min(), "gap_max": gap.max(), "converged": solution.converged})
    frame = pd.DataFrame(rows)
    write_table(frame, OUT, command="python experiments/growth/dp_q_gaps.py",
                notes=[f"{ECONOMY}, value iteration: Q of the best minus the second-best k' per state"])
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
