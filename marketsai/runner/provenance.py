"""``RUN/provenance.json``: what made a run folder -- versions, commit, machine, command, times.

Why: a run folder is read months later, on another machine. Its numbers depend on the
code (marketsai's version and git commit), the libraries (numpy, numba, ray, torch,
gymnasium), and its speed on the machine (CPU model, cores, threads); the command line
and the start and end times say how it was made. Every invocation on the folder (the
first run and each resume) appends one record, so a run resumed under another version
shows it. Not part of the configuration: it never enters a chunk's fingerprint, so
resuming is unaffected by it.

Versions are read with :mod:`importlib.metadata` (nothing is imported: a missing ray or
torch is ``null``); the commit only when marketsai runs from a git checkout.

Record fields: ``marketsai``, ``git_commit``, ``git_dirty`` (uncommitted changes to tracked
files), ``python``, ``packages`` (name -> version or null), ``platform``, ``cpu``,
``cpus`` (logical CPUs), ``threads`` (``--threads``; null: numba's default),
``numba_threads`` (``NUMBA_NUM_THREADS`` or the CPU count), ``processes`` (``--processes``:
units run side by side), ``host``, ``command``,
``cwd``, ``address`` (Ray), ``resumed``, ``started`` and ``ended`` (UTC, ISO 8601;
``ended`` is null while running), ``load`` and ``load_end`` (the machine's 1, 5 and
15-minute load averages at the start and the end: other work sharing the CPUs slows a
run, so its timings are read with it), ``outcome`` (``running``, ``finished``,
``interrupted`` or ``failed: <error type>``).

A results table made from run folders (``experiments/*/results/NAME.csv``) gets the
same facts in a sidecar, ``NAME.source.json`` (:func:`write_source`): the command that
made the table, the seed, the run folders it read and their own records.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

FILE = "provenance.json"


def _marketsai_version() -> str:
    """The installed package's version (read from its metadata: importing ``marketsai``
    itself from here would close an import cycle through its public names)."""
    try:
        return metadata.version("marketsai")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"
PACKAGES = ("numpy", "numba", "pandas", "ray", "torch", "gymnasium", "pettingzoo")


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def git_commit(where: Path | None = None) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git checkout holding marketsai's source, or (None, None)."""
    where = Path(where or Path(__file__).resolve().parents[2])
    if not (where / ".git").exists():
        return None, None
    try:
        run = dict(cwd=where, capture_output=True, text=True, timeout=10)
        head = subprocess.run(["git", "rev-parse", "HEAD"], **run)
        if head.returncode != 0:
            return None, None
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], **run)
        return head.stdout.strip(), bool(status.stdout.strip()) if status.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None, None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages (None where the platform has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def record(threads: int | None = None, address: str | None = None, resumed: bool = False,
           processes: int = 1) -> dict:
    """One invocation's record (see the module docstring); ``ended`` is filled by :func:`close`."""
    commit, dirty = git_commit()
    return {
        "marketsai": _marketsai_version(), "git_commit": commit, "git_dirty": dirty,
        "python": platform.python_version(), "packages": {p: version(p) for p in PACKAGES},
        "platform": platform.platform(), "cpu": cpu_model(), "cpus": os.cpu_count(),
        "threads": threads, "processes": processes,
        "numba_threads": int(os.environ.get("NUMBA_NUM_THREADS") or 0) or os.cpu_count(),
        "host": platform.node(), "command": shlex.join(sys.argv), "cwd": os.getcwd(),
        "address": address, "resumed": bool(resumed), "started": now(), "ended": None,
        "load": load_average(), "load_end": None, "outcome": "running",
    }


def read(root: str | Path) -> list[dict]:
    """The records of a run folder, oldest first ([] when there is none or it is damaged)."""
    try:
        data = json.loads((Path(root) / FILE).read_text())
    except (OSError, ValueError):
        return []
    runs = data.get("runs") if isinstance(data, dict) else None
    return [r for r in runs if isinstance(r, dict)] if isinstance(runs, list) else []


def write(root: str | Path, runs: list[dict]) -> None:
    from marketsai.runner.store import atomic_write_text
    atomic_write_text(Path(root) / FILE, json.dumps({"runs": runs}, indent=1) + "\n")


def start(root: str | Path, **kwargs) -> list[dict]:
    """Append this invocation's record to the folder's provenance; returns all records."""
    runs = read(root) + [record(**kwargs)]
    write(root, runs)
    return runs


def close(root: str | Path, runs: list[dict], outcome: str) -> None:
    """Stamp the end time and outcome of the latest record. Best effort: a folder that can
    no longer be written (a full disk) keeps the 'running' record; the run's own error
    says why."""
    runs[-1] |= {"ended": now(), "load_end": load_average(), "outcome": outcome}
    if not (Path(root) / FILE).exists():  # the folder vanished: do not recreate it for this
        return
    try:
        write(root, runs)
    except OSError:
        pass


SOURCE_SUFFIX = ".source.json"


def source_path(table: str | Path) -> Path:
    """``NAME.source.json`` beside the results table ``NAME.csv``."""
    table = Path(table)
    return table.with_name(table.stem + SOURCE_SUFFIX)


def write_source(table: str | Path, *, seed=None, runs=(), command: str | None = None,
                 **extra) -> Path:
    """Write the provenance sidecar of a results table (``NAME.csv`` -> ``NAME.source.json``).

    Why: a number quoted in the docs traces to a committed table; the sidecar says how
    that table was made -- the command (default: this process's command line), the seed,
    the commit and whether the tree had uncommitted changes, the machine and its load
    when the table was written, the date -- and, for each run folder it read, that
    folder's own provenance records (when and under which commit its runs were made).
    ``extra`` adds fields (e.g. ``sessions``). Returns the sidecar's path.
    """
    commit, dirty = git_commit()
    data = {
        "table": Path(table).name,
        "command": command or shlex.join(sys.argv),
        "seed": seed,
        "written": now(),
        "marketsai": _marketsai_version(),
        "git_commit": commit,
        "git_dirty": dirty,
        "python": platform.python_version(),
        "packages": {p: version(p) for p in PACKAGES},
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "host": platform.node(),
        "load": load_average(),
        **extra,
        "runs": {str(r): read(r) for r in runs},
    }
    path = source_path(table)
    from marketsai.runner.store import atomic_write_text
    atomic_write_text(path, json.dumps(data, indent=1, default=str) + "\n")
    return path


def write_table(frame, table: str | Path, *, command: str, notes=(), **source) -> Path:
    """Write a committed results table: ``NAME.csv`` whose first lines are ``#`` comments
    (the command that made it, then ``notes``) and its :func:`write_source` sidecar.

    Why: the scripts that turn run folders into the CSVs the docs quote all write the same
    way, so a table always says how it was made. ``source`` goes to :func:`write_source`
    (``seed``, ``runs``, extra fields). Returns the table's path.
    """
    table = Path(table)
    table.parent.mkdir(parents=True, exist_ok=True)
    with table.open("w", encoding="utf-8") as f:
        f.write("".join(f"# {line}\n" for line in (f"made by: {command}", *notes)))
        frame.to_csv(f, index=False)
    write_source(table, command=command, **source)
    return table
