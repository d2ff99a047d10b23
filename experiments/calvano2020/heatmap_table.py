"""The (alpha, beta) heat map of docs/calvano2020.md (Figure 1) as a committed CSV, from a run folder.

Why: the heat map's numbers were read from a run folder that is not in the repository; this
script writes the mean profit gain per cell (rows beta, high to low; columns alpha) with a
``.source.json`` sidecar, and ``docs/tables.py`` renders it; beside it the mean periods to
convergence per cell (``heatmap_periods.csv``, which the page's prose quotes). It only
reads the run folder.

    marketsai run experiments/calvano2020/heatmap.yaml --out runs/calvano2020-heatmap
    python experiments/calvano2020/heatmap_table.py runs/calvano2020-heatmap
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import pandas as pd
import yaml

from marketsai.analysis.heatmap import heatmap_table
from marketsai.runner.provenance import write_table

OUT = Path(__file__).resolve().parent / "results" / "heatmap.csv"
PERIODS = OUT.with_name("heatmap_periods.csv")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="the finished run folder of heatmap.yaml")
    args = parser.parse_args(argv)
    config = yaml.safe_load((args.run / "config.yaml").read_text())
    res = pd.read_parquet(args.run / "results.parquet")
    command = shlex.join(["python", "experiments/calvano2020/heatmap_table.py",
                          *(sys.argv[1:] if argv is None else argv)])
    for value, what, out in (("profit_gain", "profit gain", OUT), ("periods", "periods to convergence", PERIODS)):
        grid = heatmap_table(res, "learner.alpha", "learner.beta", value).sort_index(ascending=False)
        grid.columns = [f"{a:g}" for a in grid.columns]
        grid = grid.rename_axis("beta").reset_index()
        write_table(grid, out, command=command,
                    notes=[f"mean {what} per cell: rows learner.beta, columns learner.alpha"],
                    seed=config.get("seed"), runs=[args.run], sessions=len(res),
                    converged=int(res["converged"].sum()), periods=int(res["periods"].sum()))
        print(grid.to_string(index=False))


if __name__ == "__main__":
    main()
