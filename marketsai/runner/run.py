"""``run_experiment``: an experiment file -> a run folder; ``report``: redraw a run folder.

Steps: resolve the config (:mod:`~marketsai.runner.config`), claim the folder (refusing
a different config unless ``force``), skip finished chunks, run the rest (locally or on
Ray), assemble the tables from *all* chunks, then summarise and draw figures from the
tables alone (:func:`report` repeats just that last step from a folder on disk).
"""

from __future__ import annotations

import logging
import math
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from marketsai.console import library_output_to
from marketsai.dotted import dotted
from marketsai.errors import SpecError
from marketsai.policy_groups import warn_shared_policies
from marketsai.runner import provenance
from marketsai.runner.config import Experiment, defaults_added, load_experiment
from marketsai.runner.disk import folder_errors
from marketsai.runner.execute import Progress, execute
from marketsai.runner.kinds import get_kind
from marketsai.runner.lock import RunLock
from marketsai.runner.notes import empty_value_notes
from marketsai.runner.references import (
    CALVANO,
    annotate_figures,
    published_range,
    source_of,
    summary_notes,
)
from marketsai.runner.store import RunFolder

log = logging.getLogger("marketsai.runner")


def run_experiment(source, out=None, overrides: dict | None = None, address: str | None = None,
                   threads: int | None = None, force: bool = False, progress: bool = True,
                   wait: float = 0.0, verbose: bool = False, processes: int = 1) -> Path:
    """Run an experiment file (or mapping) and return its run folder.

    Parameters
    ----------
    source : path or dict
        Experiment file or an equivalent mapping.
    out : path, optional
        Run folder (default ``runs/<name>``). Rerunning with the same config resumes:
        finished chunks are not recomputed.
    overrides : dict, optional
        ``{"sessions": 200, "learner.alpha": 0.1}``: dotted keys set before validation.
    address : str, optional
        Ray cluster address (``"auto"``, ``"127.0.0.1:6379"``); units become Ray tasks.
        Results are identical to a local run.
    threads : int, optional
        Threads for a unit (numba); results do not depend on it.
    force : bool
        Overwrite a run folder that holds a different configuration.
    progress : bool
        Show a progress bar (on stderr).
    wait : float
        Seconds to wait while another process holds the run folder's lock
        (:class:`~marketsai.runner.lock.RunLock`); then refuse, naming its PID.
    verbose : bool
        Show the logs that deep learners' libraries print (Ray, RLlib, Tune) on the
        console; by default they go to the run folder's ``log`` file
        (:mod:`~marketsai.runner.console`). Other kinds print none either way.
    processes : int
        Units run at once, each in a local process of its own
        (:mod:`~marketsai.runner.processes`); 1: one after another in this process. Results
        do not depend on it. Not with ``address``, nor for units that start Ray themselves.
        A script calling this with ``processes`` > 1 does so under ``if __name__ ==
        "__main__":`` (the processes are spawned: each imports the script's module again).

    Returns
    -------
    Path
        The run folder; :func:`marketsai.load_run` reads it back.
    """
    exp = load_experiment(source, overrides)
    check_processes(exp, processes, address)
    folder = RunFolder(out if out is not None else Path("runs") / exp.name)
    with folder_errors(folder.root), RunLock(folder.root, wait=wait):
        return _run_locked(exp, folder, address, threads, force, progress, verbose, processes)


def check_processes(exp: Experiment, processes, address: str | None) -> None:
    """Refuse a ``processes`` count the run cannot use, before any folder is written: not an
    integer >= 1, given with a Ray ``address``, or for units that start Ray themselves."""
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise SpecError("must be an integer >= 1", path="--processes", value=processes,
                        allowed="1 (one unit after another) or more (units side by side)")
    if processes == 1:
        return
    if address is not None:
        raise SpecError("--processes runs units in processes on this machine, --address as tasks "
                        "on a Ray cluster's workers: give one of them", path="--processes",
                        value=processes, allowed=f"--processes N (the cores of this machine) or "
                                                 f"--address {address} (a Ray cluster's)")
    cells = range(len(exp.cells)) if exp.config["sweep"] else [None]
    for cell in cells:
        starter = exp.kind.starts_ray(exp.config if cell is None else exp.cell_config(cell))
        if starter:
            raise SpecError(f"{starter} starts a Ray instance of its own in each unit, which "
                            "spreads its workers over this machine's cores itself; units side by "
                            "side would each start one", path="--processes", value=processes,
                            allowed="1 (Ray uses the cores), or --address for a Ray cluster")


def _run_locked(exp: Experiment, folder: RunFolder, address, threads, force, progress,
                verbose=False, processes: int = 1) -> Path:
    added = defaults_added(folder.stored_config(), exp)
    resumed = folder.claim(exp.config, force=force, absent=added)
    if resumed and added:  # made before these settings existed: its chunks' fingerprints lack them
        exp.unstamped = added
    runs = provenance.start(folder.root, threads=threads, address=address, resumed=resumed,
                            processes=processes)
    handler = _attach_log(folder.root / "log")
    outcome = "failed"
    try:
        log.info("experiment %s (kind %s) from %s; %s", exp.name, exp.config["kind"],
                 exp.file or "<mapping>", "resuming" if resumed else "new run")
        if exp.unstamped:
            log.info("the folder was written before %s existed (now at the default): resumed as it is",
                     ", ".join(dotted(p) for p in exp.unstamped))
        log.info("python %s, host %s, address %s, threads %s, processes %d", platform.python_version(),
                 platform.node(), address, threads, processes)
        warn_shared_policies(exp.config, log)
        quiet = not verbose and exp.kind.noisy(exp.config)
        with library_output_to(folder.root / "log", quiet) as console:
            units = exp.units()
            plan = [(c, u, cid, exp.unit_hash(c, u)) for c, u, cid in units]
            removed = folder.prune({cid for _, _, cid, _ in plan})
            if exp.kind.uses_workdir:  # the units' own files (checkpoints) of stale chunks too
                removed += folder.prune({cid for _, _, cid, _ in plan},
                                        under=folder.root / exp.kind.workdir_name)
            if removed:
                log.info("removed %d stale chunks", len(removed))
            todo = [p for p in plan if not folder.chunk_done(p[2], p[3], p[1])]
            total = sum(u.size for _, u, _, _ in plan)
            done = total - sum(u.size for _, u, _, _ in todo)
            log.info("%d units (%d %s), %d already done", len(plan), total, exp.kind.unit_label,
                     len(plan) - len(todo))
            bar = Progress(total, done, exp.kind.unit_label, progress, file=console)
            t0 = time.perf_counter()
            try:
                execute(exp, folder, todo, bar, threads=threads, address=address, processes=processes)
            finally:
                bar.close()
            log.info("ran %d units in %.1fs", len(todo), time.perf_counter() - t0)
            tables = assemble(exp, folder, plan) | run_tables(exp)
            for name, frame in tables.items():
                folder.write_table(name, frame)
            finalize(folder, exp, tables)
            log.info("wrote %s", folder.root)
        outcome = "finished"
    except KeyboardInterrupt:
        outcome = "interrupted"
        raise
    except BaseException as exc:
        outcome = f"failed: {type(exc).__name__}"
        raise
    finally:
        provenance.close(folder.root, runs, outcome)
        _detach_log(handler)
    return folder.root


def assemble(exp: Experiment, folder: RunFolder, plan) -> dict[str, pd.DataFrame]:
    """Concatenate every chunk's tables in unit order; in sweeps prepend cell columns."""
    parts: dict[str, list[pd.DataFrame]] = {}
    for cell, _unit, chunk_id, _fp in plan:
        for name, frame in folder.read_chunk(chunk_id).items():
            parts.setdefault(name, []).append(_in_cell(exp, cell, frame))
    tables = {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}
    _check_unique_sessions(tables.get("results"), plan)
    return tables


def run_tables(exp: Experiment) -> dict[str, pd.DataFrame]:
    """The kind's tables of the whole run (:meth:`ExperimentKind.run_tables`), per sweep cell."""
    cells = range(len(exp.cells)) if exp.config["sweep"] else [None]
    parts: dict[str, list[pd.DataFrame]] = {}
    for cell in cells:
        cfg = exp.config if cell is None else exp.cell_config(cell)
        for name, frame in exp.kind.run_tables(cfg).items():
            parts.setdefault(name, []).append(_in_cell(exp, cell, frame))
    return {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}


def _in_cell(exp: Experiment, cell, frame: pd.DataFrame) -> pd.DataFrame:
    """In sweeps, ``frame`` with the columns ``cell`` and one per swept key in front."""
    if not exp.config["sweep"]:
        return frame
    front = {"cell": cell} | {key: value for key, value in exp.cells[cell].items()}
    frame = frame.copy()
    for i, (key, value) in enumerate(front.items()):
        frame.insert(i, key, [value] * len(frame))
    return frame


def _check_unique_sessions(results: pd.DataFrame | None, plan) -> None:
    """No session may appear twice in the assembled results (per sweep cell), for kinds
    whose units are session ranges (``start``/``stop``) with one result row per session."""
    if results is None or "session" not in results \
            or not all({"start", "stop"} <= set(u.params) for _, u, _, _ in plan):
        return
    keys = ["cell", "session"] if "cell" in results else ["session"]
    dup = results.duplicated(keys, keep=False)
    if dup.any():
        first = results[dup].iloc[0]
        chunks = [cid for cell, u, cid, _ in plan
                  if u.params.get("start", -1) <= first["session"] < u.params.get("stop", -1)
                  and ("cell" not in results or cell == first["cell"])]
        times = int((results[keys] == first[keys]).all(axis=1).sum())
        raise SpecError(f"session {int(first['session'])} appears {times} times in the "
                        f"assembled results (chunks {', '.join(chunks) or 'unknown'}); delete "
                        "those chunk folders and rerun", path="chunks")


def finalize(folder: RunFolder, exp: Experiment, tables: dict[str, pd.DataFrame]) -> dict:
    """Summary and figures from the tables (nothing else)."""
    cfg, kind = exp.config, exp.kind
    if cfg["sweep"]:
        cells = []
        for c, values in enumerate(exp.cells):
            sub = {name: t[t["cell"] == c].drop(columns=["cell", *values]).reset_index(drop=True)
                   for name, t in tables.items()}
            cell = kind.summarise(sub, exp.cell_config(c))
            cells.append({"cell": c} | values | cell | _notes(cell, sub))
        summary = {"experiment": exp.name, "kind": cfg["kind"], "sweep": list(exp.cells[0]),
                   "cells": cells}
        figures = sweep_figures(exp, pd.DataFrame(cells))
    else:
        summary = {"experiment": exp.name, "kind": cfg["kind"]} | kind.summarise(tables, cfg)
        summary |= _notes(summary, tables)
        figures = kind.figures(tables, cfg, summary)
    annotate_figures(figures, cfg["reference"])
    if cfg["reference"]:
        summary["reference"] = cfg["reference"]
    folder.write_summary(summary)
    folder.figures.mkdir(parents=True, exist_ok=True)
    for name, fig in figures.items():
        fig.savefig(folder.figures / f"{name}.png", dpi=120)
    log.info("summary and %d figures written", len(figures))
    return summary


def _notes(summary: dict, tables: dict[str, pd.DataFrame]) -> dict:
    """``{"empty_values": {key: why it is empty}}`` (:mod:`~marketsai.runner.notes`), or {};
    the untrained policies' summary (``kind: learn``) as ``untrained.<key>``, read with their
    own results table."""
    found = empty_value_notes(summary, tables.get("results"))
    floor = summary.get("untrained")
    if isinstance(floor, dict):
        found |= {f"untrained.{key}": why for key, why in
                  empty_value_notes(floor, tables.get("results_untrained")).items()}
    return {"empty_values": found} if found else {}


def sweep_figures(exp: Experiment, cells: pd.DataFrame) -> dict:
    """Heat map (two swept keys) or line plot (one) of the kind's ``sweep_value``."""
    value = exp.kind.sweep_value
    keys = exp.sweep_keys
    if value is None or value not in cells:
        return {}
    label = exp.kind.sweep_value_label or value
    if len(keys) == 2:
        from marketsai.analysis.heatmap import heatmap_table, plot_heatmap
        table = heatmap_table(cells, keys[0], keys[1], value)
        flag = exp.kind.sweep_flag
        flagged = None
        if flag is not None and flag[0] in cells and cells[flag[0]].notna().all():
            flagged = heatmap_table(cells, keys[0], keys[1], flag[0]).reindex_like(table).to_numpy() >= 0.5
        return {f"heatmap_{value}": plot_heatmap(table, keys[0], keys[1], title=label,
                                                 published=published_range(exp.config["reference"], keys),
                                                 flagged=flagged, flag_label=flag[1] if flag else "")}
    if len(keys) == 1:
        from matplotlib.figure import Figure
        fig = Figure(figsize=(6.4, 4.0))
        ax = fig.add_subplot()
        x = cells[keys[0]]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in x):
            ax.set_xticks(range(len(x)), [str(v) for v in x])  # lists, names: one tick each
            x = range(len(x))
        ax.plot(x, cells[value], marker="o")
        ax.set_xlabel(keys[0])
        ax.set_ylabel(label)
        fig.tight_layout()
        return {f"sweep_{value}": fig}
    return {}


def report(run_dir) -> dict:
    """Redraw ``summary.json`` and ``figures/`` of a run folder from its tables."""
    folder = RunFolder(run_dir)
    cfg = folder.config()
    exp = load_experiment(cfg)
    exp.config["name"] = cfg["name"]
    tables = folder.tables()
    if "results" not in tables:
        raise FileNotFoundError(f"{folder.root} has no results.parquet (run not finished?)")
    with folder_errors(folder.root):
        for name, frame in run_tables(exp).items():  # folders written before a kind made them
            if name not in tables:
                tables[name] = frame
                folder.write_table(name, frame)
        return finalize(folder, exp, tables)


# ------------------------------------------------------------------------ printing


def summary_text(run_dir) -> str:
    """The summary of a run folder as a text table, published values alongside."""
    folder = RunFolder(run_dir)
    summary = folder.summary()
    kind = get_kind(summary["kind"])
    ref = summary.get("reference", {})
    fmt = getattr(kind, "format_summary", None)
    text = fmt(summary, ref) if fmt is not None else None
    if text is None:
        text = default_summary_text(summary, ref)
    empty = summary.get("empty_values") if isinstance(summary.get("empty_values"), dict) else {}
    if empty:
        text += "\n\nempty values:\n" + "\n".join(f"  {k}: {why}" for k, why in empty.items())
    return text


def default_summary_text(summary: dict, ref: dict, keys=None) -> str:
    """``quantity  ours  published`` rows for scalar keys (those in ``keys`` or in ``ref``)."""
    if "cells" in summary:
        frame = pd.DataFrame(summary["cells"])
        frame = frame[[c for c in frame.columns if np.isscalar(frame[c].iloc[0])]]
        return frame.to_string(index=False, float_format=lambda x: f"{x:.4g}")
    keys = list(keys or []) + [k for k in ref if k not in (keys or [])]
    shown = [k for k in keys if k in summary or k in ref]
    notes = summary_notes(shown, ref)
    rows = [("quantity", "published in", "ours", "published")] if ref else [("quantity", "", "ours", "")]
    for k in shown:
        pub = source_of(k, ref.get(k))
        where = "" if k not in ref else (pub.source.replace(CALVANO + ", ", "") if pub else "file")
        if pub is not None and pub.note:
            where += f" [{notes.index(pub.note) + 1}]"
        rows.append((k, where, _fmt(summary.get(k)), _fmt(ref.get(k))))
    cols = (0, 1, 2, 3) if ref else (0, 2)
    width = {i: max(len(r[i]) for r in rows) for i in cols}
    lines = ["  ".join(r[i].ljust(width[i]) if i < 2 else r[i].rjust(width[i]) for i in cols)
             for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    if any(source_of(k, ref.get(k)) for k in shown):
        lines.append(f"published in: {CALVANO} (Table I, Figure 4), see docs/references.md; "
                     "file: a value of the experiment file's reference section")
    lines += [f"[{i + 1}] {note}" for i, note in enumerate(notes)]
    return "\n".join(lines)


def _fmt(x) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        return f"{x:,.0f}" if abs(x) >= 1e4 else f"{x:.4f}"
    if isinstance(x, list):
        return "[" + ", ".join(_fmt(v) for v in x[:12]) + (", ...]" if len(x) > 12 else "]")
    return str(x)


class _LogFile(logging.FileHandler):
    """The run's log file; a record that cannot be written (a full disk) is dropped
    quietly: the run's own error says what happened, logging must not print tracebacks."""

    def handleError(self, record):  # noqa: N802 (logging's name)
        import sys
        if not isinstance(sys.exc_info()[1], OSError):
            super().handleError(record)


def _attach_log(path: Path) -> logging.Handler:
    handler = _LogFile(path, mode="a")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


def _detach_log(handler: logging.Handler) -> None:
    log.removeHandler(handler)
    handler.close()
