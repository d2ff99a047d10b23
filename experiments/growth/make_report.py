"""Tables and figures of the growth study from its run folders (docs/growth.md).

    marketsai run experiments/growth/brock_mirman.yaml --out runs/growth/brock_mirman
    marketsai run experiments/growth/rbc_grid.yaml --out runs/growth/rbc_grid
    python experiments/growth/make_report.py [RUN ...]     # default: the two folders above

Reads each run folder (``config.yaml``, ``results.parquet``, ``growth_policy.parquet``,
``summary.json``, ``log``; nothing is learned again) and writes
``experiments/growth/results/``: ``table.csv`` / ``table.md`` (one row per economy and grid
size: medians over sessions next to the grid's DP floor), ``sessions.csv`` (every
session's row) and figures ``policy_<run>.png``, ``euler_<run>.png``, which draw the
greedy tables of sessions 0 and 1 from the run's ``growth_policy`` table.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from marketsai.analysis.euler import euler_errors
from marketsai.analysis.growth import (
    COLUMNS,
    MEASURES,
    GrowthAccuracy,
    grid_savings,
    growth_model_of,
)
from marketsai.economy import Economy
from marketsai.run_folder import load_run
from marketsai.runner.provenance import write_source

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
from report import cell_seconds  # noqa: E402  experiments/report.py

OUT = HERE / "results"
KEY = "economy.agents[0].state.k.points"
FIG_SESSIONS = range(2)  # drawn from growth_policy


def cell_economy(cfg: dict, points: int) -> Economy:
    data = json.loads(json.dumps(cfg["economy"]))
    data["agents"][0]["state"]["k"]["points"] = int(points)
    return Economy.from_dict(data)


def study_rows(folder: Path):
    """The run's config, its results and the table's rows (one per grid size)."""
    run = load_run(folder)
    cfg, res, cells = run.config, run.results, run.summary["cells"]
    secs = cell_seconds(folder)
    rows = []
    for cell in cells:
        c, pts = cell["cell"], cell[KEY]
        r = res[res["cell"] == c]
        row = {"economy": cfg["economy"]["name"], "grid_points": pts, "sessions": len(r),
               "converged": int(r["converged"].sum()),
               "periods_median_M": float(r["periods"].median()) / 1e6,
               "periods_max_M": float(r["periods"].max()) / 1e6,
               "wall_s": secs.get(c, np.nan)}
        for col in COLUMNS:
            row[col] = float(r[col].median())
            if col in MEASURES:
                row[f"{col}_worst"] = float(r[col].max())
                row[f"floor_{col}"] = cell[f"floor_{col}"]
        row["reference"] = cell["floor_reference"]
        rows.append(row)
    return cfg, res, pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    head = ("| economy | k points | converged | periods (median, M) | wall s | Euler mean: Q / DP "
            "| Euler max: Q / DP | ergodic Euler mean: Q / DP | ergodic Euler max: Q / DP "
            "| policy err max: Q / DP | policy err mean: Q / DP | welfare loss %: Q / DP "
            "| = DP (all / ergodic / +-1 step) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    def pair(r, m, fmt):
        return f"{r[m]:{fmt}} / {r['floor_' + m]:{fmt}}"

    for _, r in table.iterrows():
        lines.append(
            f"| {r['economy']} | {r['grid_points']} | {r['converged']}/{r['sessions']} "
            f"| {r['periods_median_M']:.0f} | {r['wall_s']:.0f} | {pair(r, 'euler_mean', '.2f')} "
            f"| {pair(r, 'euler_max', '.2f')} | {pair(r, 'euler_ergodic_mean', '.2f')} "
            f"| {pair(r, 'euler_ergodic_max', '.2f')} | {pair(r, 'policy_err_max', '.2%')} "
            f"| {pair(r, 'policy_err_mean', '.2%')} | {pair(r, 'welfare_loss_pct', '.4f')} "
            f"| {r['dp_agreement']:.2f} / {r['dp_agreement_ergodic']:.2f} / "
            f"{r['dp_within_one']:.2f} |")
    return "\n".join(lines) + "\n"


def greedy_tables(folder: Path, pts: int) -> np.ndarray:
    """Greedy tables ``(sessions, n_states)`` of the first sessions of a cell."""
    pol = pd.read_parquet(folder / "growth_policy.parquet")
    pol = pol[pol[KEY] == pts]
    return np.stack([pol[pol["session"] == s].sort_values(["e", "x"])["action"].to_numpy()
                     for s in FIG_SESSIONS])


def figures(folder: Path, cfg: dict, table: pd.DataFrame):
    name = folder.name
    cells = sorted(table["grid_points"])
    fig_p, fig_e = Figure(figsize=(4.2 * len(cells), 7)), Figure(figsize=(13, 3.2 * len(cells)))
    ax_p, ax_e = fig_p.subplots(2, len(cells), squeeze=False), fig_e.subplots(len(cells), 3, squeeze=False)
    for j, pts in enumerate(cells):
        econ = cell_economy(cfg, pts)
        model, fm = growth_model_of(econ), econ.finite_model()
        acc = GrowthAccuracy(model, fm)
        greedy = greedy_tables(folder, pts)
        g = np.asarray(fm.x_values["k"])
        k_ss = model.steady_state()[0]
        n_z = fm.n_exo
        zs = [0, n_z // 2, n_z - 1]
        kf = np.linspace(g[0], g[-1], 600)
        dp_f = grid_savings(model, fm, acc.dp_policy)
        q_f = [grid_savings(model, fm, pol) for pol in greedy]
        for c, iz in zip(("tab:blue", "tab:green", "tab:red"), zs, strict=True):
            lab = f"z = {model.z_values[iz]:.3f}"
            ref = acc.reference(g, np.full(g.size, iz))
            ax = ax_p[0, j]
            ax.plot(kf / k_ss, acc.reference(kf, np.full(kf.size, iz)) / k_ss, color=c, lw=1,
                    label=f"reference, {lab}")
            ax.plot(g / k_ss, dp_f(g, np.full(g.size, iz)) / k_ss, "s", color=c, ms=3, mfc="none")
            ax.plot(g / k_ss, q_f[0](g, np.full(g.size, iz)) / k_ss, "x", color=c, ms=4)
            ax = ax_p[1, j]
            ax.plot(g / k_ss, dp_f(g, np.full(g.size, iz)) / ref - 1, "s-", color=c, ms=3,
                    mfc="none", lw=0.6, label=f"DP, {lab}")
            for s, f in enumerate(q_f):
                ax.plot(g / k_ss, f(g, np.full(g.size, iz)) / ref - 1, "x--" if s else "x:",
                        color=c, ms=4, lw=0.6, label=f"Q session {s}" if iz == zs[0] else None)
        ax_p[0, j].plot(g / k_ss, g / k_ss, color="0.6", lw=0.5, ls="--")
        ax_p[0, j].set(title=f"{name}, {pts} points: k' (line reference, squares DP, x Q)",
                       xlabel="k / k_ss", ylabel="k' / k_ss")
        ax_p[1, j].axhline(0, color="0.6", lw=0.5)
        ax_p[1, j].set(title="k' / k'_reference - 1 at grid points", xlabel="k / k_ss")
        ax_p[0, j].title.set_fontsize(8)
        ax_p[1, j].title.set_fontsize(8)
        ax_p[1, j].legend(fontsize=6)
        for i, iz in enumerate(zs):
            ax = ax_e[j, i]
            izv = np.full(kf.size, iz)
            ax.plot(kf / k_ss, euler_errors(model, acc.reference, kf, izv), color="k", lw=0.8,
                    label=acc.reference_name)
            ax.plot(kf / k_ss, euler_errors(model, dp_f, kf, izv), color="tab:blue", lw=0.8,
                    label="DP on the grid (floor)")
            for s, f in enumerate(q_f):
                ax.plot(kf / k_ss, euler_errors(model, f, kf, izv), lw=0.6,
                        color=("tab:orange", "tab:red")[s % 2], label=f"Q session {s}")
            ax.set(title=f"{name}, {pts} points, z = {model.z_values[iz]:.3f}",
                   xlabel="k / k_ss", ylabel="log10 |Euler error|")
            ax.title.set_fontsize(8)
            if i == 0 and j == 0:
                ax.legend(fontsize=7)
    for fig, stem in ((fig_p, "policy"), (fig_e, "euler")):
        fig.tight_layout()
        fig.savefig(OUT / f"{stem}_{name}.png", dpi=110)


def main(folders):
    OUT.mkdir(exist_ok=True)
    tables, sessions, seeds = [], [], []
    for folder in folders:
        cfg, res, table = study_rows(Path(folder))
        figures(Path(folder), cfg, table)
        tables.append(table)
        sessions.append(res.assign(economy=cfg["economy"]["name"]))
        seeds.append(cfg.get("seed"))
    table = pd.concat(tables, ignore_index=True)
    table.to_csv(OUT / "table.csv", index=False, float_format="%.6g")
    (OUT / "table.md").write_text(markdown(table))
    pd.concat(sessions, ignore_index=True).to_csv(OUT / "sessions.csv", index=False,
                                                  float_format="%.6g")
    for name in ("table", "sessions"):
        write_source(OUT / f"{name}.csv", seed=sorted(set(seeds), key=str), runs=folders)
    print(markdown(table))


if __name__ == "__main__":
    main(sys.argv[1:] or [ROOT / "runs" / "growth" / "brock_mirman",
                          ROOT / "runs" / "growth" / "rbc_grid"])
