"""The dimension study's table and figure (docs/dimension.md), read from its run folders.

Why a script: the study is ``kind: learn`` files (``tabular.yaml``, ``ppo.yaml``,
``sac.yaml`` here, and ``ppo_stacked.yaml``, PPO on the stacked population; each sweeping ``d`` by cases), and its table puts their rows side by side
with the grid's DP floor (the tabular run's ``floor_*`` columns) and marks where tabulation
is refused. This only reads the finished run folders (:func:`marketsai.run_folder.load_run`)
-- nothing is trained or scored -- except the refusal, which is what the runner says when
asked to validate the tabular file with one more stock (nothing is tabulated: the size is
refused first). A missing run folder is skipped.

Usage::

    python experiments/dimension/make_report.py [--runs runs] [--results experiments/dimension/results]

reads ``RUNS/dimension_{tabular,ppo,sac,ppo_stacked}`` and writes ``RESULTS/dimension.{csv,md,png}``.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from report import cell_seconds, write_table  # noqa: E402  experiments/report.py

from marketsai.analysis.sector_accuracy import KEYS  # noqa: E402
from marketsai.errors import SpecError  # noqa: E402
from marketsai.run_folder import load_run  # noqa: E402

RUNS = {"tabular": "dimension_tabular", "ppo": "dimension_ppo", "sac": "dimension_sac",
        "ppo_stacked": "dimension_ppo_stacked"}
LABELS = {"dp": "DP on the grid (floor)", "tabular": "tabular Q-learning", "ppo": "PPO", "sac": "SAC",
          "ppo_stacked": "PPO, stacked population"}
COLUMNS = ("method", "d", "status", "G", "table", "steps", "train_s", "wall_s", *KEYS, "note")
STATE = "economy.agents[0].state"


def tabular_rows(run) -> list[dict]:
    """The DP floor's and Q-learning's rows of each ``d`` of the tabular run."""
    cases = run.config["sweep"]["d"]["cases"]
    settings = run.config["learner"]["settings"]
    seconds = cell_seconds(run.path)
    rows = []
    for r in run.results.to_dict("records"):
        case = cases[r["d"]]
        points = case[STATE]["k1"]["points"]
        beta = case.get("learner.settings.beta", settings["beta"])
        base = {"d": r["d"], "G": points, "table": f"{5 * points ** (2 * r['d']):,}"}
        rows.append({**base, "method": "dp", "status": "ok", **{k: r[f"floor_{k}"] for k in KEYS},
                     "note": "value iteration"})
        rows.append({**base, "method": "tabular", "status": "ok" if r["converged"] else "not converged",
                     "steps": r["periods"], "wall_s": seconds.get(r["cell"]), **{k: r[k] for k in KEYS},
                     "note": f"alpha {settings['alpha']}, beta {beta:.3g}, eps at end "
                             f"{np.exp(-beta * r['periods']):.2g}; DP action in "
                             f"{100 * r['dp_agreement']:.0f}% of states"})
    return rows


def refused_rows(run) -> list[dict]:
    """The runner's answer to the tabular file with one stock more than its largest ``d``."""
    from marketsai.runner import load_experiment

    cases = run.config["sweep"]["d"]["cases"]
    d = max(cases) + 1
    case = copy.deepcopy(cases[max(cases)])
    case["economy.agents[0].params.alphas"] = [0.36 / d] * d
    case[STATE] = {f"k{j + 1}": case[STATE]["k1"] for j in range(d)}
    raw = copy.deepcopy(run.config)
    raw["sweep"] = {"d": {"cases": {d: case}}}
    points = case[STATE]["k1"]["points"]
    try:
        load_experiment(raw)
    except SpecError as err:
        note = f"{d} stocks of {points} grid points: " + err.reason.replace("\n", " ")
        return [{"method": m, "d": d, "status": "refused", "G": points,
                 "table": f"{5 * points ** (2 * d):,}", "note": note} for m in ("dp", "tabular")]
    return []


def deep_rows(run, method: str) -> list[dict]:
    seconds = cell_seconds(run.path)
    # planner-periods: a stacked run's env steps are sub-environment steps of a block of sessions
    return [{"method": method, "d": r["d"], "status": "ok", "table": "", "steps": r["agent_steps"],
             "train_s": r["time_total_s"], "wall_s": seconds.get(r["cell"]), **{k: r[k] for k in KEYS},
             "note": f"{int(r['iterations'])} iterations"} for r in run.results.to_dict("records")]


def table(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for c in COLUMNS:
        if c not in frame:
            frame[c] = None
    order = {m: i for i, m in enumerate(LABELS)}
    frame = frame.assign(_o=frame["method"].map(order)).sort_values(["_o", "d"], kind="stable")
    return frame.drop(columns="_o")[list(COLUMNS)].reset_index(drop=True)


#: how the markdown shows each number column
FORMATS = {**dict.fromkeys(("err_max", "err_mean", "box_err_max", "box_err_mean"), "{:.2%}"),
           **dict.fromkeys(("euler_mean", "euler_max", "box_euler_mean", "box_euler_max"), "{:.2f}"),
           "welfare_loss_pct": "{:.4f}", "steps": "{:,.0f}", "train_s": "{:.1f}", "wall_s": "{:.1f}", "G": "{:.0f}"}


def markdown(frame) -> str:
    from marketsai.analysis.tables import markdown_table

    md = frame.assign(method=[LABELS.get(m, m) for m in frame["method"]])
    for c, f in FORMATS.items():
        md[c] = ["" if v is None or v != v or not np.isfinite(float(v)) else f.format(float(v)) for v in md[c]]
    return markdown_table(md.fillna(""))


def figure(frame):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(19, 4.6))
    axes = fig.subplots(1, 4)
    style = {"dp": ("k", "s", "--"), "tabular": ("C0", "o", "-"), "ppo": ("C1", "^", "-"), "sac": ("C2", "D", "-"),
             "ppo_stacked": ("C4", "v", "-")}
    panels = (("err_mean", "mean |k_j'/(beta alpha_j y) - 1| (ergodic set)", True),
              ("box_euler_mean", "log10 mean Euler error (box 0.8-1.2 k_ss)", False),
              ("wall_s", "wall time of a run's unit, s (learning + scoring)", True),
              ("steps", "periods simulated (tabular) / planner-periods (deep)", True))
    for ax, (col, title, logy) in zip(axes, panels, strict=True):
        for m, (color, marker, ls) in style.items():
            f = frame[(frame["method"] == m) & frame["status"].isin(["ok", "not converged"])]
            f = f[np.isfinite(f[col].astype(float))]
            if f.empty:
                continue
            ax.plot(f["d"], f[col].astype(float), color=color, marker=marker, ls=ls, label=LABELS[m])
            nc = f[f["status"] == "not converged"]
            if len(nc):
                ax.scatter(nc["d"], nc[col].astype(float), s=140, facecolors="none", edgecolors=color,
                           label=f"{LABELS[m]}: not converged")
        ref = frame[(frame["method"] == "tabular") & (frame["status"] == "refused")]
        for d, note in zip(ref["d"], ref["note"], strict=True):
            need = re.search(r"needs ([0-9.]+ \w+)", str(note))
            ax.axvline(d, color="C3", ls=":", lw=1.5)
            ax.text(d, 0.5, f" tabular: table\n refused\n ({need.group(1) if need else '?'}\n > 2 GiB)",
                    color="C3", transform=ax.get_xaxis_transform(), fontsize=8, va="center")
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel("d (number of capital stocks)")
        ax.set_title(title, fontsize=10)
        ax.set_xticks(sorted(set(frame["d"].astype(int))))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("d-sector growth planner: accuracy and time against the dimension (alphas = [0.36/d]*d)",
                 fontsize=11)
    fig.tight_layout()
    return fig


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs", help="folder holding the study's run folders")
    parser.add_argument("--results", default=str(HERE / "results"), help="where dimension.* are written")
    args = parser.parse_args(argv)
    rows = []
    for method, name in RUNS.items():
        folder = Path(args.runs) / name
        if not (folder / "summary.json").is_file():
            print(f"skipped: {folder} (no finished run)")
            continue
        run = load_run(folder)
        rows += tabular_rows(run) + refused_rows(run) if method == "tabular" else deep_rows(run, method)
    frame = table(rows)
    md = markdown(frame)
    write_table(Path(args.results) / "dimension", frame, md, figure(frame))
    print(md)
    return frame


if __name__ == "__main__":
    main()
