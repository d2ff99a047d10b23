"""The results tables of finished run folders, one after another: a study's table.

Why one script for every study (growth_deep, market_economies, krusell_smith,
tabular_vs_deep): each of their tables is rows of ``kind: learn`` runs -- the learner's
``info`` columns and the evaluations' columns -- so the table is those rows, labelled by
run, with the ``untrained`` baseline's rows (``results_untrained``) beside the trained
ones. It only reads run folders (:func:`marketsai.run_folder.load_run`): nothing is
trained, evaluated or recomputed. Percent columns (``--percent``) are written x 100, other
numbers to 5 significant digits in the markdown (every digit in the CSV).

Usage::

    python experiments/report.py RUN... --out experiments/growth_deep/results/growth_deep \\
        [--columns share_err_max,euler_mean,...] [--percent share_err_max,...]

writes ``OUT.csv`` (every column), ``OUT.md`` (``--columns``, or all) and
``OUT.source.json`` (the command, seed, commit, machine load and the run folders' records).
"""

from __future__ import annotations

import argparse
import io
import re
import shlex
import sys
from pathlib import Path

import pandas as pd

from marketsai.analysis.tables import markdown_table
from marketsai.run_folder import load_run
from marketsai.runner.provenance import write_source

#: the columns that say where a row comes from, first in every table
LABELS = ("run", "policy")


def rows(folder: str | Path) -> pd.DataFrame:
    """One run folder's results rows (``run``: the folder's name, ``policy``: the learner)
    and its untrained baseline's."""
    run = load_run(folder)
    learner = run.config.get("learner", {}).get("name", run.kind)
    frames = [run.results.assign(run=Path(folder).name, policy=learner)]
    base = run.tables.get("results_untrained")
    if base is not None:
        frames.append(base.assign(run=Path(folder).name, policy=f"{learner} (untrained)"))
    out = pd.concat(frames, ignore_index=True)
    return out[[*LABELS, *[c for c in out if c not in LABELS]]]


def report(folders, columns=None, percent=()) -> tuple[pd.DataFrame, str]:
    """The table of ``folders`` (every column) and its markdown (``columns`` only)."""
    table = pd.concat([rows(f) for f in folders], ignore_index=True)
    shown = table[[*LABELS, *[c for c in (columns or table.columns) if c in table and c not in LABELS]]].copy()
    for c in percent:
        if c in shown:
            shown[c] = [f"{100 * v:.2f}%" for v in shown[c]]
    for c in shown.select_dtypes("float").columns:
        shown[c] = [f"{v:.5g}" for v in shown[c]]
    return table, markdown_table(shown)


def cell_seconds(folder: str | Path) -> dict[int, float]:
    """Wall seconds of each sweep cell's chunks (learning and evaluation), from the run's log."""
    out: dict[int, float] = {}
    for m in re.finditer(r"chunk c(\d+)\.\S+ done in ([0-9.]+)s", (Path(folder) / "log").read_text()):
        out[int(m.group(1))] = out.get(int(m.group(1)), 0.0) + float(m.group(2))
    return out


def write_table(out: str | Path, table: pd.DataFrame, md: str, figure=None) -> None:
    """``OUT.csv`` (every column), ``OUT.md`` and, given a matplotlib figure, ``OUT.png``,
    each written atomically (a reader never sees half a table): what every study's report
    script writes."""
    from marketsai.runner.store import atomic_write_bytes, atomic_write_text

    out = Path(out)
    atomic_write_text(out.with_suffix(".csv"), table.to_csv(index=False))
    atomic_write_text(out.with_suffix(".md"), md + "\n")
    if figure is not None:
        buf = io.BytesIO()
        figure.savefig(buf, format="png", dpi=110)
        atomic_write_bytes(out.with_suffix(".png"), buf.getvalue())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="finished run folders")
    parser.add_argument("--out", required=True, help="OUT.csv and OUT.md are written")
    parser.add_argument("--columns", default="", help="comma-separated columns of the markdown table")
    parser.add_argument("--percent", default="", help="columns shown as percent")
    args = parser.parse_args(argv)
    split = [c for c in args.columns.split(",") if c]
    table, md = report(args.runs, split or None, [c for c in args.percent.split(",") if c])
    write_table(args.out, table, md)
    seeds = sorted({load_run(r).config.get("seed") for r in args.runs}, key=str)
    command = shlex.join(["python", "experiments/report.py", *(sys.argv[1:] if argv is None else argv)])
    write_source(Path(args.out).with_suffix(".csv"), seed=seeds[0] if len(seeds) == 1 else seeds,
                 runs=args.runs, command=command)
    print(md)


if __name__ == "__main__":
    main()
