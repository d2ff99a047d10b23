"""What an (alpha, beta) heat map costs, projected from finished run folders (a cost model).

Why: the published map (Calvano et al. 2020, Figure 1: 100 x 100 cells of 1000 sessions)
is a cluster job, and a map this machine finishes in a given time must be sized before it
is run. Session length depends strongly on (alpha, beta) (~0.6 million periods at beta 2e-5,
~30 million at beta 2e-7), so the cost of a grid is the sum over its cells of the sessions'
periods, interpolated from the measured cells, divided by the periods per CPU-second the
chunks reached. It only reads run folders (``results.parquet``, ``chunks/*/done.json`` with
their wall and CPU seconds, ``log``) and writes two tables:

* ``heatmap_cost_cells.csv`` -- per measured cell: sessions, mean periods, the share capped
  at ``max_periods`` (a capped cell's mean is a lower bound), mean profit gain, chunk wall
  and CPU seconds and the periods per CPU-second they give;
* ``heatmap_cost.csv`` -- per grid (``A x B x S``: alpha cells, beta cells, sessions, on the
  authors' alpha in [0.0025, 0.25] linear, beta in [2e-7, 2e-5] log-spaced): total periods,
  core-hours, and wall hours on N cores (core-hours / N: every core busy, chunks small
  against the run; a shared machine is slower by its load).

Interpolation: within each measured alpha, log periods are linear in log beta (between the
measured betas; constant beyond them); across alpha, linear in alpha between the measured
alphas (constant beyond them). The first chunk of each invocation (read from the log) is
left out of the rate: it includes compiling or loading the kernels.

    marketsai run experiments/calvano2020/heatmap.yaml --out runs/calvano2020-heatmap
    nice -n 19 marketsai run experiments/calvano2020/heatmap_anchor.yaml --out runs/calvano2020-heatmap-anchor
    python experiments/calvano2020/heatmap_cost.py runs/calvano2020-heatmap runs/calvano2020-heatmap-anchor \\
        --grid 6x6x50:0.025 --grid 100x100x1000 --wall-run runs/calvano2020-heatmap --fit-hours 2 --fit-sessions 50
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from marketsai.runner.provenance import write_table

RESULTS = Path(__file__).resolve().parent / "results"
ALPHA, BETA = "learner.alpha", "learner.beta"
#: the authors' grid (Calvano et al. 2020, Figure 1; docs/references.md)
ALPHA_RANGE, BETA_RANGE = (0.0025, 0.25), (2e-7, 2e-5)
CORES = (2, 64, 1000)
FIRST_CHUNK = re.compile(r"INFO chunk (\S+) done in")
NEW_INVOCATION = re.compile(r"INFO experiment .* from .*; (new run|resum)")


def first_chunks(log: str) -> set[str]:
    """The chunk ids that finished first in each invocation of a run (they include the
    kernels' compile or cache load).

    >>> sorted(first_chunks("INFO experiment x (kind tabular) from f.yaml; new run\\n"
    ...                     "INFO chunk c0.s1 done in 9s\\nINFO chunk c0.s2 done in 1s\\n"
    ...                     "INFO experiment x (kind tabular) from f.yaml; resumed\\nINFO chunk c1.s1 done in 5s"))
    ['c0.s1', 'c1.s1']
    """
    firsts, waiting = set(), False
    for line in log.splitlines():
        if NEW_INVOCATION.search(line):
            waiting = True
        elif waiting and (m := FIRST_CHUNK.search(line)):
            firsts.add(m.group(1))
            waiting = False
    return firsts


def read_run(run: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sessions: alpha, beta, periods, capped; chunks: cell, sessions, periods, seconds,
    cpu_seconds (NaN where not recorded), first) of one finished run folder."""
    config = yaml.safe_load((run / "config.yaml").read_text())
    if sorted(config.get("sweep") or {}) != [ALPHA, BETA]:
        raise SystemExit(f"{run}: not an (alpha, beta) sweep (sweeps {sorted(config.get('sweep') or {})})")
    cap = config["learner"]["max_periods"]
    res = pd.read_parquet(run / "results.parquet")
    res = res.assign(capped=res["periods"] >= cap, run=str(run))
    if "profit_gain" not in res:
        res["profit_gain"] = np.nan
    firsts = first_chunks((run / "log").read_text()) if (run / "log").is_file() else set()
    chunks = []
    for done in sorted((run / "chunks").glob("*/done.json")):
        meta = json.loads(done.read_text())
        periods = pd.read_parquet(done.parent / "results.parquet", columns=["periods"])["periods"]
        chunks.append({"run": str(run), "chunk": done.parent.name, "cell": meta["cell"],
                       "sessions": len(periods), "periods": int(periods.sum()),
                       "seconds": meta["seconds"], "cpu_seconds": meta.get("cpu_seconds", math.nan),
                       "first": done.parent.name in firsts})
    return res[["run", "cell", ALPHA, BETA, "periods", "capped", "profit_gain"]], pd.DataFrame(chunks)


def measured_cells(sessions: pd.DataFrame, chunks: pd.DataFrame) -> pd.DataFrame:
    """Per (alpha, beta): sessions, mean periods, capped share, mean profit gain (what the
    cost buys), chunk seconds (runs pooled)."""
    cells = sessions.groupby([ALPHA, BETA]).agg(sessions=("periods", "size"),
                                                periods_mean=("periods", "mean"),
                                                capped_share=("capped", "mean"),
                                                profit_gain=("profit_gain", "mean")).reset_index()
    keyed = chunks.merge(sessions[["run", "cell", ALPHA, BETA]].drop_duplicates(), on=["run", "cell"])
    time = keyed.groupby([ALPHA, BETA]).agg(wall_seconds=("seconds", "sum"),
                                            cpu_seconds=("cpu_seconds", lambda s: s.sum(min_count=len(s))))
    cells = cells.merge(time.reset_index(), on=[ALPHA, BETA])
    return cells.assign(periods_per_cpu_second=cells["sessions"] * cells["periods_mean"] / cells["cpu_seconds"])


def periods_per_second(chunks: pd.DataFrame, clock: str = "cpu_seconds") -> tuple[float, int, int]:
    """(periods per CPU-second -- or per wall second with ``clock="seconds"`` --, chunks
    used, periods used): chunks that recorded the clock, less each invocation's first."""
    used = chunks[chunks[clock].notna() & ~chunks["first"] & (chunks[clock] > 0)]
    if used.empty:
        raise SystemExit(f"no chunk recorded its {clock} (run folders written before "
                         "done.json had cpu_seconds): run heatmap_anchor.yaml")
    return used["periods"].sum() / used[clock].sum(), len(used), int(used["periods"].sum())


class SessionLength:
    """Mean periods per session at any (alpha, beta), interpolated from measured cells."""

    def __init__(self, cells: pd.DataFrame):
        self.columns = []  # (alpha, log betas, log periods), alpha increasing
        for alpha, col in cells.sort_values([ALPHA, BETA]).groupby(ALPHA):
            self.columns.append((float(alpha), np.log(col[BETA].to_numpy(float)),
                                 np.log(col["periods_mean"].to_numpy(float))))

    def __call__(self, alpha, beta) -> np.ndarray:
        """Mean periods per session; ``alpha`` and ``beta`` broadcast against each other."""
        alpha, beta = np.broadcast_arrays(np.asarray(alpha, float), np.asarray(beta, float))
        at_alpha = np.stack([np.interp(np.log(beta), lb, lp) for _, lb, lp in self.columns])
        alphas = np.array([a for a, _, _ in self.columns])
        out = np.empty(alpha.shape)
        for idx in np.ndindex(alpha.shape):
            out[idx] = np.interp(alpha[idx], alphas, at_alpha[(slice(None), *idx)])
        return np.exp(out)


def authors_grid(n_alpha: int, n_beta: int, alpha_low: float = ALPHA_RANGE[0]) -> tuple[np.ndarray, np.ndarray]:
    """The sweep values of an ``n_alpha x n_beta`` map on the authors' ranges (what
    ``linspace`` / ``logspace`` in an experiment file's sweep give); alpha from ``alpha_low``."""
    return (np.linspace(alpha_low, ALPHA_RANGE[1], n_alpha),
            np.exp(np.linspace(*np.log(BETA_RANGE), n_beta)))


def project(length: SessionLength, rate: float, n_alpha: int, n_beta: int, sessions: int,
            alpha_low: float = ALPHA_RANGE[0], measured_rate: float | None = None) -> dict:
    """Total periods, core-hours and wall hours on :data:`CORES` of one grid (and at
    ``measured_rate``, periods per wall second through the runner as a run reached it)."""
    alphas, betas = authors_grid(n_alpha, n_beta, alpha_low)
    periods = float(length(alphas[None, :], betas[:, None]).sum()) * sessions
    core_hours = periods / rate / 3600
    return {"grid": f"{n_alpha}x{n_beta}x{sessions}", "alpha_from": alpha_low, "alpha_cells": n_alpha,
            "beta_cells": n_beta, "sessions": sessions, "periods": periods, "core_hours": core_hours,
            **{f"wall_hours_{n}_cores": core_hours / n for n in CORES},
            **({"wall_hours_as_measured": periods / measured_rate / 3600} if measured_rate else {})}


def finest_square(hours_of, hours: float) -> int:
    """The largest n >= 2 whose n x n map takes at most ``hours`` (``hours_of(n)``; 2 if none)."""
    n = 2
    while hours_of(n + 1) <= hours:
        n += 1
    return n


def parse_grid(text: str) -> tuple:
    """``AxBxS`` or ``AxBxS:ALPHA_FROM`` (alpha from ALPHA_FROM instead of 0.0025)."""
    m = re.fullmatch(r"(\d+)x(\d+)x(\d+)(?::(\d*\.?\d+(?:e-?\d+)?))?", text)
    if not m or min(int(g) for g in m.groups()[:3]) < 1:
        raise argparse.ArgumentTypeError(f"--grid {text!r}: expected ALPHAxBETAxSESSIONS[:ALPHA_FROM], "
                                         "e.g. 100x100x1000 or 6x6x50:0.025")
    *sizes, low = m.groups()
    return (*(int(g) for g in sizes), *([float(low)] if low else []))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="finished run folders of (alpha, beta) sweeps")
    parser.add_argument("--grid", type=parse_grid, action="append", default=[],
                        help="a grid to project, ALPHAxBETAxSESSIONS[:ALPHA_FROM] (repeatable)")
    parser.add_argument("--wall-run", type=Path, help="one of the runs: its chunks' periods per wall second "
                        "(the runner on that machine at that load) give the wall_hours_as_measured column")
    parser.add_argument("--fit-hours", type=float, help="also: the finest square grid within this many hours "
                        "(as measured with --wall-run, else on --fit-cores cores)")
    parser.add_argument("--fit-cores", type=int, default=2, help="... on this many cores (default 2)")
    parser.add_argument("--fit-sessions", type=int, default=50, help="... with this many sessions a cell")
    args = parser.parse_args(argv)
    read = [read_run(run) for run in args.runs]
    sessions = pd.concat([s for s, _ in read], ignore_index=True)
    chunks = pd.concat([c for _, c in read], ignore_index=True)
    cells = measured_cells(sessions, chunks)
    rate, n_chunks, n_periods = periods_per_second(chunks)
    measured = None
    if args.wall_run is not None:
        if str(args.wall_run) not in set(chunks["run"]):
            raise SystemExit(f"--wall-run {args.wall_run}: not one of the runs given")
        measured, _, _ = periods_per_second(chunks[chunks["run"] == str(args.wall_run)], "seconds")
    length = SessionLength(cells)
    grids = list(args.grid)
    if args.fit_hours:
        def hours_of(n):
            row = project(length, rate, n, n, args.fit_sessions, measured_rate=measured)
            return row["wall_hours_as_measured"] if measured else row["core_hours"] / args.fit_cores
        n = finest_square(hours_of, args.fit_hours)
        grids.append((n, n, args.fit_sessions))
    table = pd.DataFrame([project(length, rate, *g[:3], *g[3:], measured_rate=measured) for g in grids])
    command = shlex.join(["python", "experiments/calvano2020/heatmap_cost.py",
                          *(sys.argv[1:] if argv is None else argv)])
    source = {"runs": list(args.runs), "sessions": len(sessions), "periods": int(sessions["periods"].sum()),
              "periods_per_cpu_second": rate, "rate_chunks": n_chunks, "rate_periods": n_periods,
              "periods_per_wall_second_as_measured": measured,
              "wall_run": None if args.wall_run is None else str(args.wall_run)}
    write_table(cells, RESULTS / "heatmap_cost_cells.csv", command=command,
                notes=["measured cells, runs pooled: mean periods per session, share capped at "
                       "max_periods, mean profit gain, chunk wall and CPU seconds (CPU: NaN where "
                       "not recorded in every chunk)"], **source)
    write_table(table, RESULTS / "heatmap_cost.csv", command=command,
                notes=[f"periods per CPU-second {rate:.4g} (from {n_chunks} chunks, {n_periods:.3g} periods); "
                       "wall hours on N cores = core-hours / N",
                       *([f"wall_hours_as_measured: at {measured:.4g} periods per wall second, what the "
                          f"runner reached in {args.wall_run} (that machine, that load)"] if measured else []),
                       *([f"last row: the finest square grid within {args.fit_hours:g} h "
                          + ("as measured" if measured else f"on {args.fit_cores} cores")
                          + f" at {args.fit_sessions} sessions a cell"] if args.fit_hours else [])],
                **source)
    print(cells.to_string(index=False))
    print(f"\nperiods per CPU-second: {rate:.4g} ({n_chunks} chunks, {n_periods:.3g} periods); "
          f"per wall second as measured: {measured}\n")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))


if __name__ == "__main__":
    main()
