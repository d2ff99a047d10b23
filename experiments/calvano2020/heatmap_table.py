"""The (alpha, beta) heat map of docs/calvano2020.md (Figure 1) as a committed CSV, from a run folder.

Why: the heat map's numbers were read from a run folder that is not in the repository; this
script writes the mean profit gain per cell (rows beta, high to low; columns alpha) with a
``.source.json`` sidecar, and ``docs/tables.py`` renders it; beside it the mean periods to
convergence per cell (``<name>_periods.csv``, which the page's prose quotes), the mean price
(``<name>_price.csv``), the share of
sessions per cell that stopped unmoved (``<name>_unmoved.csv``: converged after exactly
``stable_periods``, the initial greedy strategy) and, with ``--range LOW HIGH --alpha-from A``,
one row comparing the cells at alpha >= A with a published range (``<name>_range.csv``).
It only reads the run folder.

    marketsai run experiments/calvano2020/heatmap.yaml --out runs/calvano2020-heatmap
    python experiments/calvano2020/heatmap_table.py runs/calvano2020-heatmap
    python experiments/calvano2020/heatmap_table.py runs/calvano2020-heatmap-2h --name heatmap_2h \
        --range 0.64 0.94 --alpha-from 0.025
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from marketsai.analysis.heatmap import heatmap_table
from marketsai.runner.provenance import write_table
from marketsai.runner.tabular import unmoved

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="the finished run folder of a heat-map sweep")
    parser.add_argument("--name", default="heatmap", help="file stem under results/ (default heatmap)")
    parser.add_argument("--range", nargs=2, type=float, metavar=("LOW", "HIGH"),
                        help="a published range of the cells' profit gain, compared in <name>_range.csv")
    parser.add_argument("--alpha-from", type=float, default=0.0,
                        help="the smallest alpha the published range speaks of")
    args = parser.parse_args(argv)
    config = yaml.safe_load((args.run / "config.yaml").read_text())
    res = pd.read_parquet(args.run / "results.parquet")
    stable = int(config["learner"]["stable_periods"])
    res["unmoved"] = unmoved(res, stable)
    command = shlex.join(["python", "experiments/calvano2020/heatmap_table.py",
                          *(sys.argv[1:] if argv is None else argv)])
    provenance = dict(command=command, seed=config.get("seed"), runs=[args.run], sessions=len(res),
                      converged=int(res["converged"].sum()), periods=int(res["periods"].sum()))
    grids = {}
    for value, what, suffix in (("profit_gain", "profit gain", ""), ("periods", "periods to convergence", "_periods"),
                                ("mean_price", "mean price (over firms and the limit cycle)", "_price"),
                                ("unmoved", f"share of sessions unmoved (converged after exactly {stable} periods)",
                                 "_unmoved")):
        grid = heatmap_table(res, "learner.alpha", "learner.beta", value).sort_index(ascending=False)
        grids[value] = grid
        out = grid.copy()
        out.columns = [f"{a:g}" for a in out.columns]
        out = out.rename_axis("beta").reset_index()
        write_table(out, RESULTS / f"{args.name}{suffix}.csv",
                    notes=[f"mean {what} per cell: rows learner.beta, columns learner.alpha"], **provenance)
        print(out.to_string(index=False))
    if args.range:
        row = range_row(grids["profit_gain"], grids["unmoved"], *args.range, args.alpha_from)
        write_table(pd.DataFrame([row]), RESULTS / f"{args.name}_range.csv", notes=[
            f"cells with alpha >= {args.alpha_from:g} against the published range {args.range[0]:g} to "
            f"{args.range[1]:g}; cells_unmoved: cells (any alpha) where at least half the sessions stopped unmoved"],
            **provenance)
        print(pd.DataFrame([row]).to_string(index=False))


def range_row(gain: pd.DataFrame, unmoved: pd.DataFrame, low: float, high: float, alpha_from: float) -> dict:
    """The cells at ``alpha >= alpha_from`` against the published range ``[low, high]``."""
    covered = gain.loc[:, gain.columns >= alpha_from].to_numpy(float)
    inside = (covered >= low) & (covered <= high)
    return {"alpha_from": alpha_from, "low": low, "high": high, "cells": int(covered.size),
            "cells_inside": int(inside.sum()), "share_inside": float(inside.mean()),
            "min": float(covered.min()), "max": float(covered.max()),
            "cells_below": int((covered < low).sum()), "cells_above": int((covered > high).sum()),
            "cells_all": int(gain.size), "min_all": float(np.nanmin(gain.to_numpy(float))),
            "cells_unmoved": int((unmoved.to_numpy(float) >= 0.5).sum())}


if __name__ == "__main__":
    main()
