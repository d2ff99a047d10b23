"""Ours next to published for Calvano et al.'s Section V, from finished run folders.

Reads run folders of the tabular kind (results.parquet, summary.json; never runs
anything) and writes one CSV per experiment under experiments/calvano2020/results/:
one row per (cell, quantity) with ours (mean, SD over sessions, 95% interval), the
published value and its source. Intervals: mean +- 1.96 SD / sqrt(sessions) for means,
Wilson for shares of sessions, a session bootstrap (2000 draws) for the deviation
statistics pooled over (cycle state, deviator) rows as the authors pool them.

    python experiments/calvano2020/robustness_tables.py EXPERIMENT RUN_DIR [RUN_DIR ...]

EXPERIMENT is one of the keys of PUBLISHED; several run folders are stacked (e.g. the
integrator's 1000-session n = 3 run for Delta and a subset run for the deviation
statistics, which need the strategies that only newer runs keep).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from marketsai.runner.provenance import write_source

A8 = "online Table A8 output (replication package, folder table_A6)"
A6 = "online Table A6 output (replication package, folder table_A4); paper p. 3288"
T4 = "Table 4 output (replication package, AER_paper_Rscripts/table_IV)"
A13 = "online Table A13 output (replication package, folder table_A11)"
#: published values per experiment and cell: quantity -> (value, source)
PUBLISHED = {
    "baseline": {None: {"profit_gain": (0.849, A13), "osd_on_path": (0.505, A13),
                        "ir": (-0.127, A13), "ic_share": (0.936, A13),
                        "punishment_length": (5.705, A13)}},
    "n3": {None: {"profit_gain": (0.643, A6), "osd_on_path": (0.184, A6), "ir": (-0.078, A6),
                  "ic_share": (0.882, A6), "punishment_length": (11.686, A6)}},
    "n4": {None: {"profit_gain": (0.56, "paper p. 3288")}},
    "cost_asymmetry": {
        0.875: {"profit_gain_total": (0.841, T4), "nash_share_1": (0.545, T4),
                "profit_ratio_1": (1.050, T4)},
        0.75: {"profit_gain_total": (0.812, T4), "nash_share_1": (0.588, T4),
               "profit_ratio_1": (1.121, T4)},
        0.5: {"profit_gain_total": (0.759, T4), "nash_share_1": (0.662, T4),
              "profit_ratio_1": (1.265, T4)}},
    "stochastic_demand": {
        0.15: {"profit_gain": (0.797, A8), "osd_on_path": (0.433, A8), "ir": (-0.134, A8),
               "ic_share": (0.879, A8), "punishment_length": (5.737, A8)},
        0.25: {"profit_gain": (0.695, A8), "osd_on_path": (0.337, A8), "ir": (-0.127, A8),
               "ic_share": (0.842, A8), "punishment_length": (5.675, A8)}},
    "memory2": {None: {"profit_gain": (0.574, A13), "osd_on_path": (0.371, A13),
                       "ir": (-0.030, A13), "ic_share": (0.441, A13),
                       "punishment_length": (24.038, A13)}},
}
MEANS = ("profit_gain", "profit_gain_total", "mean_price", "periods")
SHARES = ("osd_on_path", "eq_on_path", "converged")
POOLED = ("punishment_length", "ic_share", "ir")


def _cell_key(value):
    if isinstance(value, (list, np.ndarray)):
        return float(abs(np.asarray(value, dtype=float)[0]))  # stochastic demand: x
    return None if value is None else float(value)


def _wilson(k, n, z=1.96):
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def _pooled_ci(res, col, rng, draws=2000):
    w = res["deviations"].to_numpy(float)
    x = res[col].to_numpy(float)
    est = np.sum(w * x) / np.sum(w)
    idx = rng.integers(0, len(x), size=(draws, len(x)))
    boot = np.sum(w[idx] * x[idx], axis=1) / np.sum(w[idx], axis=1)
    return est, np.std(boot, ddof=1), np.quantile(boot, [0.025, 0.975])


def rows_of(res: pd.DataFrame, summary: dict, published: dict, cell, run_dir: str) -> list[dict]:
    rng = np.random.default_rng(0)
    out = []
    n = len(res)

    def add(q, ours, sd, lo, hi, sessions=n):
        pub = published.get(q, (None, ""))
        out.append({"cell": cell, "quantity": q, "sessions": sessions, "ours": ours, "sd": sd,
                    "ci_low": lo, "ci_high": hi, "published": pub[0], "source": pub[1],
                    "run": run_dir})

    for q in MEANS:
        if q in res:
            x = res[q].to_numpy(float)
            se = x.std(ddof=1) / np.sqrt(n)
            add(q, x.mean(), x.std(ddof=1), x.mean() - 1.96 * se, x.mean() + 1.96 * se)
    for q in SHARES:
        if q in res:
            k = int(res[q].sum())
            lo, hi = _wilson(k, n)
            add(q, k / n, None, lo, hi)
    for k in ("cycle_share_1", "cycle_share_2", "cycle_share_3plus"):
        if k in summary:
            lo, hi = _wilson(round(summary[k] * n), n)
            add(k, summary[k], None, lo, hi)
    if "deviations" in res:
        for q in POOLED:
            est, sd, (lo, hi) = _pooled_ci(res, q, rng)
            add(q, est, sd, lo, hi)
    for k, v in summary.items():  # per-firm keys (point values)
        if k.startswith(("nash_share_", "profit_ratio_", "mean_price_", "profit_gain_")) and "cycle" not in k \
                and k[-1].isdigit() and isinstance(v, float):
            add(k, v, None, None, None)
    for q in published:  # published rows we have no measurement for
        if not any(r["quantity"] == q for r in out):
            add(q, None, None, None, None, sessions=0)
    return out


def _partial(run_dir: Path) -> tuple[dict, pd.DataFrame]:
    """Summary and results of the chunks finished so far (a run stopped before its end)."""
    from marketsai.runner.store import RunFolder
    from marketsai.runner.tabular import TabularKind

    parts = sorted(run_dir.glob("chunks/*/results.parquet"))
    res = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    cfg = RunFolder(run_dir).config()
    summary = TabularKind().summarise({"results": res}, cfg)
    summary["partial"] = f"{len(parts)} chunks"
    return summary, res


def table(experiment: str, run_dirs: list[str]) -> pd.DataFrame:
    pubs = PUBLISHED[experiment]
    rows = []
    for run_dir in run_dirs:
        if (Path(run_dir) / "summary.json").exists():
            summary = json.loads((Path(run_dir) / "summary.json").read_text())
            res = pd.read_parquet(Path(run_dir) / "results.parquet")
        else:  # unfinished: the chunks done so far (said in the run column)
            summary, res = _partial(Path(run_dir))
            run_dir = f"{run_dir} ({summary['partial']}, unfinished)"
        if "cells" in summary:
            key = summary["sweep"][0]
            for cell in summary["cells"]:
                c = _cell_key(cell[key])
                part = res[res["cell"] == cell["cell"]]
                rows += rows_of(part, cell, pubs.get(c, {}), c, run_dir)
        else:
            rows += rows_of(res, summary, pubs.get(None, {}), None, run_dir)
    return pd.DataFrame(rows)


def _seed(run_dir) -> int | None:
    """The seed in a run folder's configuration (finished or not)."""
    from marketsai.runner.store import RunFolder
    return RunFolder(Path(run_dir)).config().get("seed")


def main(argv):
    experiment, run_dirs = argv[0], argv[1:]
    frame = table(experiment, run_dirs)
    out = Path(__file__).parent / "results" / f"{experiment}.csv"
    out.parent.mkdir(exist_ok=True)
    cmd = "python experiments/calvano2020/robustness_tables.py " + " ".join(argv)
    with open(out, "w") as fh:
        fh.write(f"# made by: {cmd}\n")
        frame.to_csv(fh, index=False, float_format="%.6g")
    write_source(out, command=cmd, seed=sorted({_seed(r) for r in run_dirs}, key=str), runs=run_dirs)
    print(frame.drop(columns=["run", "source"]).to_string(index=False, float_format=lambda x: f"{x:.4g}"))


if __name__ == "__main__":
    main(sys.argv[1:])
