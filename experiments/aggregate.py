"""Means and standard deviations of a committed results table, by group: a table the docs quote.

Why: an aggregate typed into a page (a mean over seeds) has no source a test can check;
this script reads the committed per-row table and writes the aggregate as a small CSV
(with its ``.source.json`` sidecar) that ``docs/tables.py`` renders.

Usage::

    python experiments/aggregate.py experiments/tabular_vs_deep/results/untrained.csv \\
        --by experiment --columns profit_gain,mean_price \\
        --out experiments/tabular_vs_deep/results/untrained_means.csv

writes one row per group (in the order the groups first appear): the group, ``n`` (rows)
and ``COLUMN_mean`` / ``COLUMN_sd`` (sample SD, ddof 1) for every column.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import pandas as pd

from marketsai.runner.provenance import write_table


def aggregate(table: pd.DataFrame, by: str, columns: list[str]) -> pd.DataFrame:
    """One row per value of ``by``: ``n`` and the mean and SD of each of ``columns``."""
    missing = [c for c in [by, *columns] if c not in table.columns]
    if missing:
        raise SystemExit(f"error: column(s) {missing} not in the table "
                         f"(allowed: {', '.join(table.columns)})")
    groups = table.groupby(by, sort=False)
    out = groups.size().rename("n").to_frame()
    for c in columns:
        out[f"{c}_mean"] = groups[c].mean()
        out[f"{c}_sd"] = groups[c].std(ddof=1)
    return out.reset_index()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", type=Path, help="a committed results CSV")
    parser.add_argument("--by", required=True, help="the column that names the groups")
    parser.add_argument("--columns", required=True, help="comma-separated columns to aggregate")
    parser.add_argument("--out", required=True, type=Path, help="the CSV to write")
    args = parser.parse_args(argv)
    table = pd.read_csv(args.table, comment="#")
    out = aggregate(table, args.by, [c for c in args.columns.split(",") if c])
    command = shlex.join(["python", "experiments/aggregate.py", *(sys.argv[1:] if argv is None else argv)])
    write_table(out, args.out, command=command, read=str(args.table))
    print(out.to_string(index=False))


if __name__ == "__main__":
    main()
