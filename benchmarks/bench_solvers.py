"""Time of the growth model's reference solvers (docs/solvers.md, "Measured accuracy and speed").

Why: the page quotes each solver's time and iteration count; this writes them to a dated
results file (and its ``.source.json``) that the page's table is generated from. Each row
is the best of ``--repeats`` calls after one untimed call (which compiles the numba code):

* DP (``marketsai.solvers.dp``): value iteration, policy iteration (``direct`` on
  Brock--Mirman's 1,000 states, ``iterative`` on the RBC grids) and modified policy
  iteration (``m = 20``) on ``growth_finite_model(model, np.linspace(0.7, 1.3, n) * k_ss)``;
* EGM and time iteration on ``np.linspace(0.5, 1.5, n) * k_ss``.

Usage: ``python benchmarks/bench_solvers.py [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import best_of, dated, write_table  # noqa: E402

from marketsai.runner.provenance import write_source  # noqa: E402
from marketsai.solvers.dp import modified_policy_iteration, policy_iteration, value_iteration  # noqa: E402
from marketsai.solvers.growth import (  # noqa: E402
    brock_mirman_calibration,
    growth_finite_model,
    rbc_calibration,
    solve_egm,
)
from marketsai.solvers.time_iteration import solve_time_iteration  # noqa: E402


def cases():
    """(solver, model name, grid label, call) for every row of the table."""
    bm, rbc = brock_mirman_calibration(), rbc_calibration()
    for name, model, points in (("Brock-Mirman", bm, (200,)), ("RBC", rbc, (200, 500))):
        k_ss = model.steady_state()[0]
        n_z = model.z.n_states
        for n in points:
            finite = growth_finite_model(model, np.linspace(0.7, 1.3, n) * k_ss)
            grid = f"{n_z} x {n}"
            pi_method = "direct" if n_z * n <= 1000 else "iterative"
            yield "VI", name, grid, lambda f=finite: value_iteration(f)
            yield f"PI ({pi_method})", name, grid, lambda f=finite, m=pi_method: policy_iteration(f, method=m)
            yield "MPI m = 20", name, grid, lambda f=finite: modified_policy_iteration(f, m=20)
    k_ss = rbc.steady_state()[0]
    for n in (200, 500):
        grid = np.linspace(0.5, 1.5, n) * k_ss
        yield "EGM", "RBC", f"{n} points", lambda g=grid: solve_egm(rbc, g)
        yield "time iteration", "RBC", f"{n} points", lambda g=grid: solve_time_iteration(rbc, g)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per row (the best is kept)")
    args = parser.parse_args(argv)
    rows = []
    for solver, model, grid, call in cases():
        iterations = call().iterations  # the untimed first call (compiles)
        seconds = best_of(call, repeat=args.repeats)
        rows.append([solver, model, grid, f"{seconds:.3g}", iterations])
        print(rows[-1], flush=True)
    command = f"python benchmarks/bench_solvers.py --repeats {args.repeats}"
    path = dated("solvers")
    write_table("solvers", "Growth-model solvers: time and iterations",
                ["solver", "model", "grid", "seconds", "iterations"], rows, path=path,
                notes=f"Best of {args.repeats} calls after one untimed call (numba compilation); "
                      f"command: {command}.")
    write_source(path, command=command)


if __name__ == "__main__":
    main()
