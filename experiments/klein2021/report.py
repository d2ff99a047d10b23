"""Tables and the undercut figure of the Klein (2021) study, read from its run folder.

Reads only what ``marketsai run experiments/klein2021/klein.yaml --out RUN`` wrote
(``results.parquet``, ``undercut.parquet``, ``config.yaml``) and writes, next to this file,
``results/klein2021.csv`` (one row per k), ``results/klein2021_fixed_prices.csv`` (shares of
runs at each fixed price), ``results/klein2021_undercut.csv`` and ``klein2021_undercut.png``.

Usage: ``python experiments/klein2021/report.py RUN``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from marketsai.analysis.klein import edgeworth_benchmark
from marketsai.run_folder import load_run
from marketsai.runner.provenance import write_source

HERE = Path(__file__).resolve().parent
POINTS = "economy.agents[0].action.points"


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """One row per k: profitability (mean, SD, 95 % interval of the mean), outcome shares,
    Gamma, and the benchmarks (collusive 0.125, Edgeworth cycle)."""
    rows = []
    for points, cell in results.groupby(POINTS):
        k = int(points) - 1
        prof = cell["profitability"]
        half = 1.96 * prof.std(ddof=1) / np.sqrt(len(prof))
        rows.append({"k": k, "runs": len(cell), "profitability": prof.mean(), "profitability_sd": prof.std(ddof=1),
                     "ci_low": prof.mean() - half, "ci_high": prof.mean() + half,
                     "fixed_share": (cell["outcome"] == "fixed").mean(),
                     "cycle_share": (cell["outcome"] == "cycle").mean(),
                     "cycle_length_mean": cell.loc[cell["outcome"] == "cycle", "cycle_length"].mean(),
                     "gamma_mean": cell["gamma"].mean(), "gamma_min": cell["gamma"].min(),
                     "collusive": 0.125, "edgeworth": edgeworth_benchmark(k) if k % 2 == 0 else np.nan})
    return pd.DataFrame(rows)


def fixed_prices(results: pd.DataFrame) -> pd.DataFrame:
    fixed = results[results["outcome"] == "fixed"]
    out = fixed.groupby([POINTS, "fixed_price"]).size().rename("runs").reset_index()
    out["share_of_all_runs"] = out["runs"] / out[POINTS].map(results.groupby(POINTS).size())
    out.insert(0, "k", out.pop(POINTS) - 1)
    return out


def undercut(results: pd.DataFrame, paths: pd.DataFrame) -> pd.DataFrame:
    """Mean forced-undercut path (Klein's Figure 3) over the runs fixed at 1/2, per k."""
    at_half = results[np.isclose(results["fixed_price"], 0.5)][["cell", "seed", POINTS]]
    chosen = paths.merge(at_half, on=["cell", "seed", POINTS])
    out = chosen.groupby([POINTS, "t"])[["price_0", "price_1"]].mean().reset_index()
    out["runs"] = out[POINTS].map(at_half.groupby(POINTS).size())
    out.insert(0, "k", out.pop(POINTS) - 1)
    return out


def figure(path: pd.DataFrame, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ks = sorted(path["k"].unique())
    if not ks:  # no run ended at the price 1/2: nothing to trace
        return
    fig, axes = plt.subplots(1, len(ks), figsize=(4 * len(ks), 3.2), sharey=True, squeeze=False)
    for ax, k in zip(axes[0], ks, strict=True):
        p = path[path["k"] == k]
        ax.plot(p["t"], p["price_0"], "o-", ms=3, label="firm 0 (made to undercut at t = 1)")
        ax.plot(p["t"], p["price_1"], "s--", ms=3, label="firm 1")
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        ax.set_title(f"k = {k} ({int(p['runs'].iloc[0])} runs fixed at 1/2)")
        ax.set_xlabel("period t")
    axes[0, 0].set_ylabel("mean price")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="the run folder of experiments/klein2021/klein.yaml")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()
    run = load_run(args.run)
    results, paths = run.tables["results"], run.tables["undercut"]
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    table = summarise(results)
    table.to_csv(out / "klein2021.csv", index=False, float_format="%.6g")
    fixed_prices(results).to_csv(out / "klein2021_fixed_prices.csv", index=False, float_format="%.6g")
    path = undercut(results, paths)
    path.to_csv(out / "klein2021_undercut.csv", index=False, float_format="%.6g")
    figure(path, out / "klein2021_undercut.png")
    for name in ("klein2021", "klein2021_fixed_prices", "klein2021_undercut"):
        write_source(out / f"{name}.csv", seed=run.config["seed"], runs=[args.run],
                     seeds=run.config["seeds"])
    (out / "klein2021_source.json").write_text(json.dumps({
        "command": "marketsai run experiments/klein2021/klein.yaml --out RUN; "
                   "python experiments/klein2021/report.py RUN",
        "seed": run.config["seed"], "seeds": run.config["seeds"]}, indent=1) + "\n")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))


if __name__ == "__main__":
    main()
