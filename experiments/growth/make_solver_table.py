"""Table and figure of the solver study from ``results/solver_curves.csv`` (docs/q_learning_solver.md).

    python experiments/growth/make_solver_table.py

Writes ``results/solver_table.md`` (per economy, grid and learner setting: the last
checkpoint's measures, and the first checkpoint at which both goals hold -- mean Euler
error within 0.3 log10 of the grid's floor and DP agreement >= 95 % on the ergodic
states, averaged over the 8 sessions) and ``results/solver_curves.png``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from marketsai.analysis.tables import markdown_table  # noqa: E402

HERE = Path(__file__).resolve().parent
RES = HERE / "results"
NAMES = {"bm": "brock_mirman", "rbc": "rbc_grid"}
COLORS = {"constant": "C0", "rm": "C1", "expected": "C2", "rm+expected": "C3",
          "rm+expected+epi": "C5", "rm+expected+epi(1e5)": "C4"}


COMMANDS = """# Q-learning as a solver: constant steps against Robbins-Monro + expected targets

8 sessions per row (seed 1), 2026-12-06, on 2 cores shared with six other jobs. Produced by
(``solver_curves.py``; the 21-point rows labelled ``rm+expected+epi(1e5)`` ran with
``improve_every`` 1e5 before the interval study, ``enhanced_pi_interval.py``):

    export NUMBA_NUM_THREADS=2
    python experiments/growth/solver_curves.py bm 21 budget=1e7
    python experiments/growth/solver_curves.py rbc 21 budget=2e7
    python experiments/growth/solver_curves.py bm 41 budget=4e7 only=constant,rm+expected,rm+expected+epi
    python experiments/growth/solver_curves.py rbc 41 budget=8e7 only=constant,rm+expected,rm+expected+epi
    python experiments/growth/solver_curves.py bm 81 budget=1.6e8 only=constant,rm+expected
    python experiments/growth/solver_curves.py rbc 81 budget=3.2e8 only=rm+expected
    python experiments/growth/solver_curves.py rbc 81 budget=3.2e8 only=constant
    python experiments/growth/make_solver_table.py

Goals: Euler mean within 0.3 (log10) of the floor, >= 95 % of ergodic states = DP.

"""


def goal_met(df: pd.DataFrame) -> pd.Series:
    return (df["euler_mean"] <= df["floor_euler_mean"] + 0.3) & (df["dp_agreement_ergodic"] >= 0.95)


def main():
    df = pd.read_csv(RES / "solver_curves.csv")
    rows = []
    for (econ, pts, setting), g in df.groupby(["economy", "points", "setting"], sort=False):
        g = g.sort_values("periods")
        last = g.iloc[-1]
        hit = g[goal_met(g)]
        rows.append({
            "economy": NAMES[econ], "k points": pts, "setting": setting,
            "budget (M periods)": last["periods"] / 1e6, "wall s": last["wall_s"],
            "Euler mean (floor)": f"{last['euler_mean']:.2f} ({last['floor_euler_mean']:.2f})",
            "= DP ergodic (min)": f"{last['dp_agreement_ergodic']:.3f} ({last['dp_agreement_ergodic_min']:.3f})",
            "= DP all states": f"{last['dp_agreement']:.3f}",
            "policy err mean": f"{100 * last['policy_err_mean']:.2f}%",
            "goals met at (M periods)": f"{hit['periods'].iloc[0] / 1e6:g}" if len(hit) else "not met",
        })
    table = pd.DataFrame(rows).sort_values(["economy", "k points"], kind="stable")
    with open(RES / "solver_table.md", "w") as fh:
        fh.write("<!-- python experiments/growth/make_solver_table.py, from results/solver_curves.csv -->\n")
        fh.write(COMMANDS)
        fh.write(markdown_table(table) + "\n")
    print(markdown_table(table))

    cells = list(df.groupby(["economy", "points"], sort=False).groups)
    fig, axes = plt.subplots(2, len(cells), figsize=(3.6 * len(cells), 6.4), squeeze=False)
    for c, (econ, pts) in enumerate(cells):
        d = df[(df["economy"] == econ) & (df["points"] == pts)]
        for setting, g in d.groupby("setting", sort=False):
            kw = dict(marker=".", label=setting, color=COLORS.get(setting),
                      ls="--" if "epi" in setting else "-")
            axes[0, c].plot(g["periods"] / 1e6, g["euler_mean"], **kw)
            axes[1, c].plot(g["periods"] / 1e6, g["dp_agreement_ergodic"], **kw)
        axes[0, c].axhline(d["floor_euler_mean"].iloc[0], color="k", ls="--", lw=0.8,
                           label="value iteration (floor)")
        axes[1, c].axhline(0.95, color="k", ls=":", lw=0.8)
        axes[0, c].set_title(f"{NAMES[econ]}, {pts} points")
        axes[1, c].set_xlabel("periods (millions)")
    axes[0, 0].set_ylabel("mean log10 Euler error")
    axes[1, 0].set_ylabel("share of ergodic states = DP")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(RES / "solver_curves.png", dpi=110)


if __name__ == "__main__":
    main()
