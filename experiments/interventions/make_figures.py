"""Tables and figures of docs/interventions.md, from a finished run folder only.

    python experiments/interventions/make_figures.py runs/interventions-study \
        [--figures docs/figures/interventions] [--tables runs/interventions-study/tables.md]

Writes the markdown tables (seed's reported numbers, the seed's protocol run by us, the
correct protocol on the same sessions and on all of them, the duration sweep, symmetric
vs asymmetric resets, the (alpha, beta) grid) and copies/draws the figures.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from marketsai.analysis.tables import markdown_rows
from marketsai.interventions import figures
from marketsai.interventions.summary import bootstrap_ci, intervention_table

# The seed study's reported table (docs/references.md, "The intervention study"): one session.
SEED_TABLE = [
    ("forced_nash[periods=50]", "Forced (k=50)", 1.699, 0.545),
    ("forced_nash[periods=100]", "Forced (k=100)", 1.699, 0.545),
    ("exploration[periods=100]", "Exploration shock (eps=0.5, 100 periods)", 1.756, 0.682),
    ("reset_firm0", "Memory reset, firm 0", 1.812, 0.818),
]
SEED_BASE = 1.887


def fmt_ci(mean, lo, hi, d=3):
    return f"{mean:.{d}f} [{lo:.{d}f}, {hi:.{d}f}]"


def row_stats(g: pd.DataFrame, p_nash: float, n_boot: int = 2000) -> dict:
    r_lo, r_hi = bootstrap_ci(g["R"], n_boot=n_boot)
    d_lo, d_hi = bootstrap_ci(g["delta_post"], n_boot=n_boot)
    return {"n": len(g), "p_base": g["p_base"].mean(), "p_post": g["p_post"].mean(),
            "dp": (g["p_post"] - g["p_base"]).mean(), "R": g["R"].mean(), "R_sd": g["R"].std(),
            "R_lo": r_lo, "R_hi": r_hi, "d_post": g["delta_post"].mean(),
            "d_sd": g["delta_post"].std(), "d_lo": d_lo,
            "d_hi": d_hi, "unchanged": (np.abs(g["p_post"] - g["p_base"]) < 1e-9).mean(),
            "periods": g["periods_to_reconverge"].median(),
            "R_of_means": (g["p_post"].mean() - p_nash) / (g["p_base"].mean() - p_nash)}


def seed_tables(res: pd.DataFrame, p_nash: float) -> str:
    main = res[res["population"] == "main"]
    seed_sessions = main.loc[main["protocol"] == "seed", "session"].unique()
    rows = []
    for label, name, p_seed, r_seed in SEED_TABLE:
        cells = [name, f"{p_seed:.3f}", f"{100 * r_seed:.1f}%"]
        for proto in ("seed", "correct"):
            g = main[(main["label"] == label) & (main["protocol"] == proto)
                     & main["session"].isin(seed_sessions)]
            if g.empty:
                cells += ["", ""]
                continue
            s = row_stats(g, p_nash)
            cells += [f"{s['p_post']:.3f}", f"{100 * s['R']:.1f}% [{100 * s['R_lo']:.1f}, "
                      f"{100 * s['R_hi']:.1f}]"]
        rows.append(cells)
    base = main[main["session"].isin(seed_sessions)].drop_duplicates("session")["p_base"].mean()
    rows.append(["baseline p_base", f"{SEED_BASE:.3f}", "100%", f"{base:.3f}", "100%", f"{base:.3f}", "100%"])
    header = ["intervention", "seed study (1 session): p_post", "R", "seed protocol, ours: p_post",
              "R [95% CI]", "correct protocol, same sessions: p_post", "R [95% CI]"]
    return markdown_rows(header, rows) + f"\n\n(our columns: {len(seed_sessions)} sessions)\n"


def regression_table(res: pd.DataFrame, p_nash: float, high: float = 1.85) -> str:
    """Does p_post depend on the session's own p_base?  Seed protocol vs correct."""
    main = res[res["population"] == "main"]
    seed_labels = main.loc[main["protocol"] == "seed", "label"].unique()
    rows = []
    for label in seed_labels:
        for proto in ("seed", "correct"):
            g = main[(main["label"] == label) & (main["protocol"] == proto)]
            hi = g[g["p_base"] >= high]
            rows.append([label, proto, f"{np.corrcoef(g['p_post'], g['p_base'])[0, 1]:.3f}",
                         f"{g['R'].mean():.3f}", len(hi), f"{hi['R'].mean():.3f}"])
    return markdown_rows(["intervention", "protocol", "corr(p_post, p_base)", "mean R, all",
                          f"sessions with p_base >= {high}", "mean R, those sessions"], rows) + "\n"


def transitory_table(paths: pd.DataFrame) -> str:
    """Mean price over the recorded window after the intervention vs before (correct protocol)."""
    from marketsai.interventions.measures import combine_paths
    c = combine_paths(paths[(paths["population"] == "main") & (paths["protocol"] == "correct")],
                      ["label"])
    rows = []
    for label, g in c.groupby("label", sort=False):
        before, after = g[g["phase"] == "before"], g[g["phase"] == "after"].sort_values("t")
        rows.append([label, f"{before['price_mean'].mean():.4f}", f"{after['price_mean'].iloc[:10].mean():.4f}",
                     f"{after['price_mean'].mean():.4f}"])
    return markdown_rows(["intervention", "mean price, 20 periods before", "periods 1-10 after",
                          "periods 1-100 after"], rows) + "\n"


def full_table(res: pd.DataFrame, p_nash: float, population="main") -> str:
    main = res[res["population"] == population]
    rows = []
    for (label, proto), g in main.groupby(["label", "protocol"], sort=False):
        s = row_stats(g, p_nash)
        rows.append([label, proto, s["n"], f"{s['p_base']:.3f}", f"{s['p_post']:.3f}",
                     f"{s['R']:.3f} ({s['R_sd']:.3f}) [{s['R_lo']:.3f}, {s['R_hi']:.3f}]",
                     f"{s['R_of_means']:.3f}", f"{s['d_post']:.3f} ({s['d_sd']:.3f}) [{s['d_lo']:.3f}, "
                     f"{s['d_hi']:.3f}]", f"{100 * s['unchanged']:.1f}%", f"{s['periods']:,.0f}"])
    return markdown_rows(["intervention", "protocol", "sessions", "p_base", "p_post", "R mean (SD) [95% CI]",
                          "R of means", "Delta_post mean (SD) [95% CI]", "unchanged",
                          "periods to re-converge (median)"], rows) + "\n"


def sweep_table(res: pd.DataFrame, p_nash: float) -> str:
    main = res[(res["population"] == "main") & (res["protocol"] == "correct")
               & res["sweep_value"].notna()]
    names = list(dict.fromkeys(main["intervention"]))
    ks = sorted(main["sweep_value"].unique())
    header = ["k", *[f"{n}: {col}" for n in names for col in ("R [95% CI]", "unchanged")]]
    rows = []
    for k in ks:
        cells = [f"{k:g}"]
        for n in names:
            g = main[(main["intervention"] == n) & (main["sweep_value"] == k)]
            s = row_stats(g, p_nash)
            cells += [fmt_ci(s["R"], s["R_lo"], s["R_hi"]), f"{100 * s['unchanged']:.1f}%"]
        rows.append(cells)
    return markdown_rows(header, rows) + "\n"


def grid_table(res: pd.DataFrame, base: pd.DataFrame, p_nash: float) -> str:
    grid = res[res["population"] != "main"]
    labels = list(dict.fromkeys(grid["label"]))
    rows = []
    for (a, b), g in grid.groupby(["alpha", "beta"], sort=True):
        bb = base[(base["population"] != "main") & (base["alpha"] == a) & (base["beta"] == b)]
        cells = [f"{a:g}", f"{b:g}", f"{bb['delta'].mean():.3f} ({bb['delta'].std():.3f})"]
        for lab in labels:
            s = row_stats(g[g["label"] == lab], p_nash)
            cells.append(fmt_ci(s["R"], s["R_lo"], s["R_hi"]))
        rows.append(cells)
    header = ["alpha", "beta", "baseline Delta (SD)", *[f"R: {lab} [95% CI]" for lab in labels]]
    return markdown_rows(header, rows) + "\n"


def baseline_text(base: pd.DataFrame) -> str:
    b = base[base["population"] == "main"]
    cyc = b["cycle_length"]
    lo, hi = bootstrap_ci(b["delta"])
    return (f"{len(b)} sessions, converged {100 * b['converged'].mean():.1f}%; Delta "
            f"{b['delta'].mean():.3f} (SD {b['delta'].std():.3f}, 95% CI [{lo:.3f}, {hi:.3f}]); "
            f"mean cycle price {b['price'].mean():.4f}; cycle length 1 / 2 / 3+: "
            f"{100 * (cyc == 1).mean():.1f}% / {100 * (cyc == 2).mean():.1f}% / "
            f"{100 * (cyc >= 3).mean():.1f}%; periods to converge mean {b['t'].mean():,.0f}\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--figures", type=Path, default=None, help="copy figures here")
    ap.add_argument("--tables", type=Path, default=None, help="write the markdown tables here")
    args = ap.parse_args(argv)
    res = pd.read_parquet(args.run / "results.parquet")
    base = pd.read_parquet(args.run / "baselines.parquet")
    paths = pd.read_parquet(args.run / "paths.parquet")
    summary = json.loads((args.run / "summary.json").read_text())
    pn = summary["p_nash"]
    text = "\n".join([
        "## Baseline\n", baseline_text(base),
        "## Seed table\n", seed_tables(res, pn),
        "## Dependence on the session's own level\n", regression_table(res, pn),
        "## All interventions, main population\n", full_table(res, pn),
        "## Duration sweep (correct protocol)\n", sweep_table(res, pn),
        "## Right after the intervention (correct protocol)\n", transitory_table(paths),
        "## (alpha, beta) grid\n", grid_table(res, base, pn),
    ])
    print(text)
    if args.tables:
        args.tables.write_text(text)
    if args.figures:
        args.figures.mkdir(parents=True, exist_ok=True)
        table = intervention_table(res, pn, n_boot=summary.get("bootstrap", 2000)
                                   if isinstance(summary.get("bootstrap"), int) else 2000)
        figs = figures.study_figures({"results": res, "paths": paths, "baselines": base},
                                     {**summary, "interventions": table.to_dict("records")})
        for name, fig in figs.items():
            fig.savefig(args.figures / f"{name}.png", dpi=110)
        for extra in sorted((args.run / "figures").glob("*.png")):
            if not (args.figures / extra.name).exists():
                shutil.copy(extra, args.figures / extra.name)


if __name__ == "__main__":
    main()
