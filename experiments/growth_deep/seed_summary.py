"""Over seeds: each recipe of the growth ablation, its measures' mean, spread and range.

Why: the goal of issue 22 is stated over at least five seeds (mean and spread), and the
ablation table (``experiments/report.py``) has one row per run. This script only reads
that table: rows whose ``run`` is ``NAME`` or ``NAME_seedN`` are one recipe, ``NAME``.

    python experiments/growth_deep/seed_summary.py \\
        [experiments/growth_deep/results/ablation_2026-12-07.csv] [--goal 0.01]

writes ``<table>_seeds.csv`` beside it: per recipe ``seeds``, ``under_goal`` (seeds whose
``share_err_max`` is at most ``--goal``), and for each measure ``<m>_mean``, ``<m>_sd``
(sample standard deviation; empty for one seed), ``<m>_min``, ``<m>_max``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
TABLE = HERE / "results" / "ablation_2026-12-07.csv"
MEASURES = ("share_err_max", "share_err_mean", "euler_ergodic_mean", "euler_ergodic_max", "euler_mean",
            "welfare_loss_pct", "K_err", "time_total_s", "env_steps", "agent_steps")


def summarise(table: pd.DataFrame, goal: float) -> pd.DataFrame:
    """One row per recipe, in the table's order."""
    recipe = table["run"].str.replace(r"_seed\d+$", "", regex=True)
    rows = []
    for name, g in table.groupby(recipe, sort=False):
        row = {"recipe": name, "seeds": len(g), "seed_list": " ".join(str(s) for s in g["seed"]),
               "under_goal": int((g["share_err_max"] <= goal).sum())}
        for m in MEASURES:
            row |= {f"{m}_mean": g[m].mean(), f"{m}_sd": g[m].std(ddof=1) if len(g) > 1 else None,
                    f"{m}_min": g[m].min(), f"{m}_max": g[m].max()}
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("table", nargs="?", type=Path, default=TABLE)
    ap.add_argument("--goal", type=float, default=0.01, help="the max share error a seed must reach")
    args = ap.parse_args(argv)
    out = args.table.with_name(args.table.stem + "_seeds.csv")
    summarise(pd.read_csv(args.table), args.goal).to_csv(out, index=False)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
