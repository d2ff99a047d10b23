"""The best-response sanity check's table, one row per seed, from finished fixed-rival run folders.

Why: the study's sanity check (does the learner find the static best response to a rival
whose price is fixed?) is the ``best_response`` evaluation of the ``*_rival_{nash,monopoly}``
files; this script puts their seeds side by side with the untrained networks' distance, in
the columns of the former ``budget_sanity.csv``, and writes ``results/<name>.csv`` with a
``.source.json``. It only reads run folders (``results``, ``results_untrained``, ``config.yaml``).

    python experiments/tabular_vs_deep/sanity_table.py runs/.../dqn_batched_500k_rival_nash \\
        runs/.../dqn_batched_500k_rival_monopoly --name sanity_500k
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import pandas as pd
import yaml

from marketsai.runner.provenance import write_table

RESULTS = Path(__file__).resolve().parent / "results"
COLUMNS = ["seed", "best_response_price", "greedy_price_modal", "greedy_price_min", "greedy_price_max",
           "share_states_at_best_response", "share_states_within_one_step", "max_steps_off",
           "profit_loss_vs_best_response", "passed", "greedy_by_state"]


def seeds_of(run: Path) -> pd.DataFrame:
    """One row per seed: the trained policy's check and the untrained one's distance."""
    config = yaml.safe_load((run / "config.yaml").read_text())
    res = pd.read_parquet(run / "results.parquet")
    floor = pd.read_parquet(run / "results_untrained.parquet")
    out = res[[c for c in COLUMNS if c in res] + [c for c in ("periods", "updates") if c in res]].copy()
    out = out.merge(floor[["seed", "max_steps_off", "passed"]].rename(
        columns={"max_steps_off": "untrained_max_steps_off", "passed": "untrained_passed"}), on="seed")
    out.insert(0, "economy", config["economy"]["name"])  # the run's config holds the economy inline
    out.insert(0, "experiment", config["name"])
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="finished run folders evaluated by best_response")
    parser.add_argument("--name", default="sanity_500k", help="file stem under results/")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "experiments/tabular_vs_deep/sanity_table.py",
                          *(sys.argv[1:] if argv is None else argv)])
    table = pd.concat([seeds_of(run) for run in args.runs], ignore_index=True)
    write_table(table, RESULTS / f"{args.name}.csv", command=command, runs=list(args.runs),
                notes=["one row per seed of each fixed-rival run: the best_response evaluation, trained and "
                       "untrained (untrained_*)"])
    print(table.drop(columns="greedy_by_state").to_string(index=False))


if __name__ == "__main__":
    main()
