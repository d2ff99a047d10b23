"""Figures of the intervention study, drawn from run-folder tables only.

* ``price_paths`` -- mean price before, during and after each intervention;
* ``R_distribution`` -- recovery rates per intervention (box plots);
* ``R_vs_k`` -- mean recovery rate (95% CI) against the swept duration;

(both with the recovery rates the seed study reported as red stars, and ``price_paths``
with its reported post-intervention prices as red lines; see docs/references.md)
* ``sensitivity`` -- mean R per (alpha, beta) cell for each grid intervention.

Each function takes the tables (``results``, ``paths``, ``baselines``) and/or the
``summary`` dict of a run folder and returns a matplotlib ``Figure`` (no pyplot state),
so ``marketsai report RUN`` redraws them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from marketsai.interventions.measures import combine_paths
from marketsai.runner.references import SEED_POST_PRICE, SEED_STUDY, seed_reported

MAIN = "main"


def _main(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["population"] == MAIN] if "population" in frame else frame


def price_paths(paths: pd.DataFrame, p_nash: float, p_mon: float | None = None,
                max_panels: int = 9, max_k: float = 100) -> Figure:
    """Mean price (over sessions and firms) around each intervention family, main population.

    Sweep families show their smallest value and their largest value not above ``max_k``
    (long windows are in ``R_vs_k``); the seed protocol is dashed. Dotted lines: pN, pM.
    """
    comb = combine_paths(_main(paths), ["intervention", "label", "protocol", "sweep_value"])
    names = list(dict.fromkeys(comb["intervention"]))[:max_panels]
    cols = min(3, len(names)) or 1
    rows = int(np.ceil(len(names) / cols)) or 1
    fig = Figure(figsize=(4.6 * cols, 3.1 * rows))
    for k, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, k + 1)
        sub = comb[comb["intervention"] == name]
        values = sorted(v for v in sub["sweep_value"].dropna().unique())
        if values:
            small = [v for v in values if v <= max_k] or values[:1]
            sub = sub[sub["sweep_value"].isin({small[0], small[-1]})]
        for (label, proto), g in sub.groupby(["label", "protocol"], sort=False):
            ax.plot(g["t"], g["price_mean"], lw=1.2, ls="--" if proto == "seed" else "-",
                    label=f"{label} ({proto})")
        ax.axhline(p_nash, color="k", lw=0.7, ls=":")
        if name in SEED_POST_PRICE:  # the published number, next to ours
            ax.axhline(SEED_POST_PRICE[name], color="tab:red", lw=0.9, ls="-.",
                       label=f"post price reported, {SEED_STUDY}")
        if p_mon is not None:
            ax.axhline(p_mon, color="grey", lw=0.7, ls=":")
        ax.axvline(0, color="grey", lw=0.6)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("period (0 = first period of the intervention)")
        ax.set_ylabel("mean price")
        ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    return fig


def r_distribution(results: pd.DataFrame, clip=(-1.0, 2.0)) -> Figure:
    """Box plots of per-session R for every intervention of the main population."""
    res = _main(results)
    groups, reported = [], []
    for (lab, proto), g in res.groupby(["label", "protocol"], sort=False):
        groups.append((f"{lab} ({proto})", g["R"].clip(*clip).to_numpy()))
        k = g["sweep_value"].iloc[0] if "sweep_value" in g else None
        r = seed_reported(str(g["intervention"].iloc[0]), k) if "intervention" in g else None
        if r is not None:
            reported.append((len(groups), r))
    fig = Figure(figsize=(max(6.0, 0.38 * len(groups) + 2), 4.6))
    ax = fig.add_subplot()
    if groups:
        ax.boxplot([g for _, g in groups], showfliers=True, flierprops={"markersize": 2},
                   showmeans=True, meanprops={"marker": "D", "markersize": 3})
        ax.set_xticks(range(1, len(groups) + 1), [name for name, _ in groups], rotation=75,
                      fontsize=7)
    if reported:  # the published numbers, next to ours (docs/references.md)
        ax.plot([x for x, _ in reported], [r for _, r in reported], "*", ms=10, color="tab:red",
                zorder=5, label=f"reported R, {SEED_STUDY}")
        ax.legend(fontsize=7)
    ax.axhline(1.0, color="grey", lw=0.7, ls=":")
    ax.axhline(0.0, color="k", lw=0.7, ls=":")
    ax.set_ylabel(f"recovery rate R (clipped to {clip})")
    ax.set_title("Recovery rate per session (diamond: mean)")
    fig.tight_layout()
    return fig


def r_vs_k(table: pd.DataFrame) -> Figure:
    """Against the swept value (main population): mean R with 95% bootstrap CI (left) and
    the share of sessions back on exactly their pre-intervention price level (right)."""
    t = _main(table)
    t = t[t["sweep_value"].notna()]
    fig = Figure(figsize=(11.0, 4.0))
    ax, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for (name, proto), g in t.groupby(["intervention", "protocol"], sort=False):
        g = g.sort_values("sweep_value")
        ls = "--" if proto == "seed" else "-"
        ax.errorbar(g["sweep_value"], g["R_mean"],
                    yerr=[g["R_mean"] - g["R_ci_lo"], g["R_ci_hi"] - g["R_mean"]],
                    marker="o", ms=3, capsize=2, ls=ls, label=f"{name} ({proto})")
        ax2.plot(g["sweep_value"], 100 * g["share_unchanged"], marker="o", ms=3, ls=ls,
                 label=f"{name} ({proto})")
    for a in (ax, ax2):
        a.set_xscale("log")
        a.set_xlabel("intervention length k (periods)")
        a.legend(fontsize=7)
    pts = [(k, seed_reported(name, k)) for name in dict.fromkeys(t["intervention"])
           for k in sorted(t.loc[t["intervention"] == name, "sweep_value"].unique())]
    pts = [(k, r) for k, r in pts if r is not None]
    if pts:  # the published numbers, next to ours (docs/references.md)
        ax.plot([k for k, _ in pts], [r for _, r in pts], "*", ms=10, color="tab:red", zorder=5,
                label=f"reported R, {SEED_STUDY}")
        ax.legend(fontsize=7)
    ax.axhline(1.0, color="grey", lw=0.7, ls=":")
    ax.set_ylabel("mean recovery rate R (95% CI)")
    ax2.set_ylabel("% of sessions back on their old price level")
    fig.tight_layout()
    return fig


def sensitivity(table: pd.DataFrame, baselines: pd.DataFrame | None = None) -> Figure:
    """Mean R per (alpha, beta) cell, one heat map per grid intervention (+ baseline Delta)."""
    grid = table[table["population"] != MAIN]
    keys = list(dict.fromkeys(zip(grid["label"], grid["protocol"], strict=True)))
    panels = keys + ([("baseline Delta", None)] if baselines is not None else [])
    fig = Figure(figsize=(3.6 * max(1, len(panels)), 3.4))
    for k, (label, proto) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1)
        if proto is None:
            g = baselines[baselines["population"] != MAIN]
            val, title = "delta_mean", "baseline Delta"
        else:
            g = grid[(grid["label"] == label) & (grid["protocol"] == proto)]
            val, title = "R_mean", f"R: {label} ({proto})"
        if g.empty:
            continue
        piv = g.pivot_table(index="alpha", columns="beta", values=val)
        scale = {} if proto is None else {"vmin": 0.5, "vmax": 1.1}  # one scale for every R panel
        im = ax.imshow(piv.to_numpy(), origin="lower", cmap="viridis", aspect="auto", **scale)
        for (i, j), v in np.ndenumerate(piv.to_numpy()):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="w", fontsize=8)
        ax.set_xticks(range(piv.shape[1]), [f"{b:g}" for b in piv.columns], fontsize=7)
        ax.set_yticks(range(piv.shape[0]), [f"{a:g}" for a in piv.index], fontsize=7)
        ax.set_xlabel("beta")
        ax.set_ylabel("alpha")
        ax.set_title(title, fontsize=8)
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    return fig


def study_figures(tables: dict[str, pd.DataFrame], summary: dict) -> dict[str, Figure]:
    """All figures of a run folder (the ``figures`` hook of the experiment kind)."""
    out = {}
    pn, pm = summary.get("p_nash"), summary.get("p_monopoly")
    if "paths" in tables and len(tables["paths"]):
        out["price_paths"] = price_paths(tables["paths"], pn, pm)
    if "results" in tables and len(tables["results"]):
        out["R_distribution"] = r_distribution(tables["results"])
    if summary.get("interventions"):
        table = pd.DataFrame(summary["interventions"])
        if table["sweep_value"].notna().any():
            out["R_vs_k"] = r_vs_k(table)
        if (table["population"] != MAIN).any():
            base = pd.DataFrame(summary.get("baselines", []))
            out["sensitivity"] = sensitivity(table, base if len(base) else None)
    return out
