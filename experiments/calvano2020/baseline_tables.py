"""The baseline's tables that docs/calvano2020.md quotes beyond results/baseline.csv, from a run folder.

Why: Delta by cycle length, the impulse responses and the equilibrium checks were read from
a run folder that is not in the repository; this script writes them as small committed CSVs
(with ``.source.json`` sidecars) that ``docs/tables.py`` renders. It only reads the run
folder (``results.parquet``, ``impulse_response.parquet``, ``summary.json``, ``config.yaml``).

    marketsai run experiments/calvano2020/baseline.yaml --out runs/calvano2020-baseline
    python experiments/calvano2020/baseline_tables.py runs/calvano2020-baseline

writes under experiments/calvano2020/results/ (``--out``):

* ``baseline_cycles.csv`` -- per limit-cycle length 1 / 2 / 3+: sessions, share, Delta mean,
  SD and standard error, the published share and Delta (the file's ``reference``); and the
  periods to convergence (mean, median, mean without the stability window);
* ``baseline_impulse.csv`` -- per period t: the mean price of the deviator and the rival for
  each traced deviation, beside the published Figure 4 data;
* ``baseline_equilibrium.csv`` -- per check (one-shot deviation, optimal continuation; on
  the path and in all states): the share of sessions passing, for both firms together, each
  firm, and per cycle length; and the mean share of states where a firm's greedy action is
  optimal;
* ``baseline_cycle_lengths.csv`` -- the number of sessions per limit-cycle length;
* ``baseline_headline.csv`` -- the headline rows of README.md and docs/results/index.md (text
  cells, each joining numbers of the tables above, ours beside the file's ``reference``).
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

from marketsai.runner.provenance import write_table

#: Figure 4's data as docs/references.md quotes it (the pre-shock price, the deviator at t = 1,
#: the rival at t = 2, then the climb back), by period
FIGURE_4 = {0: "1.7913", 1: "deviator 1.5046", 2: "rival 1.5475", 3: "1.58", 4: "1.64", 5: "1.69",
            6: "1.73", 7: "1.76", 8: "1.78", 10: "back near 1.79"}
CYCLES = (("1", lambda c: c == 1), ("2", lambda c: c == 2), ("3+", lambda c: c >= 3))


def cycles_table(res: pd.DataFrame, reference: dict, stable_periods: int) -> pd.DataFrame:
    """Delta by limit-cycle length beside the published values, and the periods to convergence."""
    rows = []
    for name, pick in CYCLES:
        g = res.loc[pick(res["cycle_length"]), "profit_gain"]
        key = name.replace("+", "plus")
        rows.append({"cycle": name, "sessions": len(g), "share": len(g) / len(res), "profit_gain": g.mean(),
                     "profit_gain_sd": g.std(), "profit_gain_se": g.std() / np.sqrt(len(g)),
                     "published_share": reference.get(f"cycle_share_{key}"),
                     "published_profit_gain": reference.get(f"profit_gain_cycle_{key}")})
    out = pd.DataFrame(rows)
    out["periods_mean"] = res["periods"].mean()
    out["periods_median"] = res["periods"].median()
    out["periods_mean_before_window"] = res["periods"].mean() - stable_periods
    return out


def impulse_table(imp: pd.DataFrame, agent: int = 0) -> pd.DataFrame:
    """Mean price of the deviator (firm ``agent``) and of its rival per period and deviation."""
    rival = 1 - agent
    means = imp.groupby(["deviation", "t"], sort=False)[[f"price_{agent}", f"price_{rival}"]].mean()
    wide = means.unstack("deviation")
    wide.columns = [f"{dev}_{'deviator' if col == f'price_{agent}' else 'rival'}" for col, dev in wide.columns]
    wide = wide.reset_index()
    wide.insert(1, "published", wide["t"].map(FIGURE_4))
    return wide


def equilibrium_table(res: pd.DataFrame) -> pd.DataFrame:
    """Share of sessions passing each equilibrium check: both firms, each firm, per cycle length."""
    rows = []
    for check, text in (("osd", "one-shot deviation"), ("eq", "optimal continuation")):
        for where in ("on_path", "all_states"):
            col = f"{check}_{where}"
            row = {"check": text, "where": where.replace("_", " "), "both": res[col].mean(),
                   "firm_0": res[f"{col}_0"].mean(), "firm_1": res[f"{col}_1"].mean()}
            for name, pick in CYCLES:
                row[f"cycle_{name.replace('+', 'plus')}"] = res.loc[pick(res["cycle_length"]), col].mean()
            rows.append(row)
    br = res[["br_share_0", "br_share_1"]]
    rows.append({"check": "greedy action optimal (Q*)", "where": "share of all states",
                 "both": br.to_numpy().mean(), "firm_0": br["br_share_0"].mean(),
                 "firm_1": br["br_share_1"].mean(),
                 **{f"cycle_{n.replace('+', 'plus')}": br[pick(res["cycle_length"])].to_numpy().mean()
                    for n, pick in CYCLES}})
    return pd.DataFrame(rows)


def headline_table(res: pd.DataFrame, cycles: pd.DataFrame, impulse: pd.DataFrame, reference: dict,
                   stable_periods: int) -> pd.DataFrame:
    """The headline rows of README.md and docs/results/index.md, ours beside published, as text
    (each row joins several numbers of the tables above)."""
    ref = reference
    pre = impulse.loc[impulse["t"] == 0, ["calvano_fortran_deviator", "calvano_fortran_rival"]].to_numpy().mean()
    dev = impulse.loc[impulse["t"] == 1, "calvano_fortran_deviator"].item()
    riv = impulse.loc[impulse["t"] == 2, "calvano_fortran_rival"].item()
    rows = [
        ("profit gain Delta, mean (SD)", f"{res['profit_gain'].mean():.3f} ({res['profit_gain'].std():.3f})",
         f"{ref['profit_gain']:.3f} ({ref['profit_gain_sd']:.3f})"),
        ("limit-cycle length 1 / 2 / 3+", " / ".join(f"{100 * s:.1f}" for s in cycles["share"]) + " %",
         " / ".join(f"{100 * s:.1f}" for s in cycles["published_share"]) + " %"),
        ("Delta by cycle length", " / ".join(f"{d:.3f}" for d in cycles["profit_gain"]),
         " / ".join(f"{d:.3f}" for d in cycles["published_profit_gain"])),
        ("sessions converged; mean periods",
         f"{100 * res['converged'].mean():.0f} %; {res['periods'].mean() / 1e6:.2f} M "
         f"({(res['periods'].mean() - stable_periods) / 1e6:.2f} M without the {stable_periods / 1e3:.0f}k window)",
         f"all; about {ref['periods_mean'] / 1e6:.1f} M"),
        ("impulse response, pre-shock / t=1 deviator / t=2 rival", f"{pre:.4f} / {dev:.4f} / {riv:.4f}",
         " / ".join(f"{ref[f'impulse_calvano_fortran_{k}']:.4f}" for k in ("pre_shock", "t1_deviator", "t2_rival"))),
    ]
    return pd.DataFrame(rows, columns=["quantity", "ours", "published"])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="the finished run folder of baseline.yaml")
    parser.add_argument("--out", type=Path, default=Path("experiments/calvano2020/results"))
    args = parser.parse_args(argv)
    config = yaml.safe_load((args.run / "config.yaml").read_text())
    summary = json.loads((args.run / "summary.json").read_text())
    res = pd.read_parquet(args.run / "results.parquet")
    imp = pd.read_parquet(args.run / "impulse_response.parquet")
    tables = {"baseline_cycles": cycles_table(res, config.get("reference") or {},
                                              config["learner"]["stable_periods"]),
              "baseline_impulse": impulse_table(imp, config["analysis"]["impulse_agent"]),
              "baseline_equilibrium": equilibrium_table(res),
              "baseline_cycle_lengths": res["cycle_length"].value_counts().sort_index()
              .rename_axis("cycle_length").rename("sessions").reset_index()}
    tables["baseline_headline"] = headline_table(
        res, tables["baseline_cycles"], tables["baseline_impulse"], config.get("reference") or {},
        config["learner"]["stable_periods"])
    if len(res) != summary["sessions"]:
        raise SystemExit(f"error: {args.run} has {len(res)} result rows, its summary {summary['sessions']}")
    command = shlex.join(["python", "experiments/calvano2020/baseline_tables.py",
                          *(sys.argv[1:] if argv is None else argv)])
    for name, table in tables.items():
        path = write_table(table, args.out / f"{name}.csv", command=command, seed=config.get("seed"),
                           runs=[args.run], sessions=len(res))
        print(f"{path}:\n{table.to_string(index=False)}\n")


if __name__ == "__main__":
    main()
