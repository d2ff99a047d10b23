"""The deep collusion study's table, over seeds with intervals, from finished `kind: learn` run folders.

Why: a learn run's summary pools the evaluation's episodes; the study compares algorithms by
seed (a seed is one independent replication), with 95 % t-intervals over seeds, the untrained
floor of the same seeds paired with each, the equilibrium checks and the response to a
deviation. It only reads run folders (``results``, ``results_untrained``,
``impulse_response`` of the ``calvano`` evaluation, ``chunks/*/done.json``) and writes
``results/<name>.csv`` (one row per run) and ``results/<name>_seeds.csv`` (one per seed),
each with a ``.source.json``.

    python experiments/tabular_vs_deep/study_table.py runs/tabular_vs_deep_500k/dqn [RUN ...] --name study_500k
    python experiments/tabular_vs_deep/study_table.py runs/tabular_vs_deep/dqn_batched_200k --name batched_200k \
        --against experiments/tabular_vs_deep/results/budget_results.csv dqn_200k

``--against CSV EXPERIMENT`` compares every run's per-seed Delta with the per-seed
``profit_gain`` of EXPERIMENT's rows in a committed CSV (another path to the same study):
the difference of the means and Welch's t-test (``against_*`` columns).

Columns (per run): ``delta``: the mean over seeds of each seed's mean profit gain over its
evaluation episodes, with ``delta_lo``/``delta_hi`` its 95 % t-interval; ``untrained_*``: the
same for the networks before learning; ``gain_over_untrained_*``: the paired difference;
``eq_on_path_seeds``/``eq_all_states_seeds``: seeds whose greedy strategies are mutual best
responses of the repeated game on every episode's path / at every state; ``rival_t2_drop``:
pre-shock price minus the rival's price the period after firm 0 deviated to its static best
response (positive: the rival lowers its price), ``rival_drops_seeds``: seeds where it is
positive by more than a rounding; ``wall_hours``: the units' wall time, over every process that trained
them when the run was resumed (``segments``: how many), counted once where units ran side by
side (``marketsai run --processes``): the length of the union of their time spans;
``cpu_hours``: their CPU time, summed (the cost on a core of its own: the wall time of a
shared machine is not).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from marketsai.rl.train_journal import earlier_segments, earlier_spans
from marketsai.runner.provenance import write_table
from marketsai.runner.store import union_seconds

RESULTS = Path(__file__).resolve().parent / "results"


def interval(values) -> tuple[float, float, float]:
    """Mean and 95 % t-interval of the mean over independent replications."""
    x = np.asarray(values, float)
    mean = float(x.mean())
    if len(x) < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return mean, mean - half, mean + half


def per_seed(run: Path) -> pd.DataFrame:
    """One row per seed: trained and untrained mean profit gain, the equilibrium checks and the
    rival's response to firm 0's deviation."""
    res = pd.read_parquet(run / "results.parquet")
    floor = pd.read_parquet(run / "results_untrained.parquet")
    seeds = res.groupby("seed")
    out = pd.DataFrame({"delta": seeds["profit_gain"].mean(),
                        "untrained": floor.groupby("seed")["profit_gain"].mean(),
                        "mean_price": seeds["mean_price"].mean()})
    for col in ("eq_on_path", "eq_all_states"):
        if col in res:
            out[col] = seeds[col].all()
    for col in ("periods", "updates", "cycle_length"):
        if col in res:
            out[col] = seeds[col].mean()
    imp_file = run / "impulse_response.parquet"
    if imp_file.is_file():
        imp = pd.read_parquet(imp_file)
        imp = imp[imp["deviation"] == "best_response"]
        pre = imp[imp["t"] == 0].groupby("seed")["price_1"].mean()
        after = imp[imp["t"] == 2].groupby("seed")["price_1"].mean()
        out["rival_pre"] = pre
        out["rival_t2_drop"] = pre - after
    return out.reset_index()


def run_row(run: Path, seeds: pd.DataFrame) -> dict:
    config = yaml.safe_load((run / "config.yaml").read_text())
    row = {"experiment": config["name"], "learner": config["learner"]["name"], "seeds": len(seeds)}
    for key, col in (("delta", "delta"), ("untrained", "untrained")):
        row[key], row[f"{key}_lo"], row[f"{key}_hi"] = interval(seeds[col])
    row["gain_over_untrained"], row["gain_over_untrained_lo"], row["gain_over_untrained_hi"] = interval(
        seeds["delta"] - seeds["untrained"])
    row["mean_price"], row["mean_price_lo"], row["mean_price_hi"] = interval(seeds["mean_price"])
    for col in ("eq_on_path", "eq_all_states"):
        if col in seeds:
            row[f"{col}_seeds"] = int(seeds[col].sum())
    if "rival_t2_drop" in seeds:
        row["rival_t2_drop"], row["rival_t2_drop_lo"], row["rival_t2_drop_hi"] = interval(seeds["rival_t2_drop"])
        row["rival_drops_seeds"] = int((seeds["rival_t2_drop"] > 1e-9).sum())
    for col in ("periods", "updates", "cycle_length"):
        if col in seeds:
            row[f"{col}_mean"] = float(seeds[col].mean())
    row |= cost(run)
    return row


def cost(run: Path) -> dict:
    """``wall_hours`` and ``cpu_hours`` of a run's units over every process that trained them
    (the last one's ``done.json`` plus the earlier segments of each unit's journal,
    :mod:`marketsai.rl.train_journal`), and ``segments`` (the most processes a unit took).
    The wall time is the length of the union of those processes' time spans (``[started,
    started + seconds]``): units that ran side by side count once; a folder that did not
    record when each started (written before ``done.json`` had ``started``) sums them, as one
    unit after another. The CPU time is their sum.
    A run resumed after a process that did not finish, without a journal that counts that
    process's work from period 0 (trained before the journal existed), has no known cost: NaN."""
    wall = cpu = 0.0
    segments, spans, untimed = [], [], False
    records = json.loads((run / "provenance.json").read_text())["runs"] if (run / "provenance.json").is_file() else []
    resumed = any(r.get("outcome") != "finished" for r in records)
    for path in (run / "chunks").glob("*/done.json"):
        done, earlier = json.loads(path.read_text()), earlier_segments(run / "units" / path.parent.name)
        wall += done["seconds"] + earlier["seconds"]
        cpu += done.get("cpu_seconds", float("nan")) + earlier["cpu_seconds"]
        spans += [*earlier_spans(run / "units" / path.parent.name), (done.get("started"), done["seconds"])]
        segments.append(earlier["count"])
        untimed |= resumed and not earlier["complete"]
    if all(started is not None for started, _ in spans):
        wall = union_seconds(spans)
    if untimed:
        wall = cpu = float("nan")
    known = [c for c in segments if not np.isnan(c)]
    return {"wall_hours": wall / 3600, "cpu_hours": cpu / 3600, "segments": max(known) if known else float("nan")}


def against(delta: pd.Series, csv: str, experiment: str) -> dict:
    """Welch's comparison of per-seed Deltas with another path's per-seed ``profit_gain``."""
    other = pd.read_csv(csv, comment="#")
    other = other.loc[other["experiment"] == experiment, "profit_gain"].to_numpy(float)
    if not len(other):
        raise SystemExit(f"--against: no rows of experiment {experiment!r} in {csv}")
    test = stats.ttest_ind(delta.to_numpy(float), other, equal_var=False)
    return {"against": experiment, "against_seeds": len(other), "against_delta": float(other.mean()),
            "against_difference": float(delta.mean() - other.mean()),
            "against_welch_t": float(test.statistic), "against_welch_p": float(test.pvalue)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="finished kind: learn run folders (calvano evaluation)")
    parser.add_argument("--name", default="study_500k", help="file stem under results/")
    parser.add_argument("--against", nargs=2, metavar=("CSV", "EXPERIMENT"),
                        help="compare each run's per-seed Delta with EXPERIMENT's per-seed profit_gain in CSV")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "experiments/tabular_vs_deep/study_table.py",
                          *(sys.argv[1:] if argv is None else argv)])
    rows, seed_rows = [], []
    for run in args.runs:
        seeds = per_seed(run)
        rows.append(run_row(run, seeds))
        if args.against:
            rows[-1] |= against(seeds["delta"], *args.against)
        seed_rows.append(seeds.assign(experiment=rows[-1]["experiment"]))
    table = pd.DataFrame(rows)
    seed_table = pd.concat(seed_rows, ignore_index=True)
    seed_table = seed_table[["experiment", *[c for c in seed_table if c != "experiment"]]]
    write_table(table, RESULTS / f"{args.name}.csv", command=command, runs=list(args.runs),
                notes=["one row per run: means over seeds with 95 % t-intervals (see study_table.py)"])
    write_table(seed_table, RESULTS / f"{args.name}_seeds.csv", command=command, runs=list(args.runs),
                notes=["one row per seed: its mean over the calvano evaluation's episodes"])
    print(table.T.to_string())


if __name__ == "__main__":
    main()
