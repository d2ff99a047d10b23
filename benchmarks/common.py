"""Helpers shared by the benchmark scripts: timing, peak memory, Markdown tables, dated
result files.

A benchmark run writes ``benchmarks/results/<name>_<date>.<ext>`` (:func:`dated`), never
over the file the docs quote: a later run on a busier machine must not silently change
a number a page cites. The docs name the dated file they quote.
"""

from __future__ import annotations

import os
import platform
import resource
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def best_of(fn, repeat: int = 5, warmup: int = 0) -> float:
    """Fastest wall time of ``repeat`` calls (after ``warmup`` untimed ones), in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def rate_of(run, algo, steps: int, repeat: int) -> str:
    """``steps / best_of(run)`` formatted as a table cell, the RLlib ``algo`` stopped after
    (even when timing fails): how every sampling benchmark times an algorithm."""
    try:
        t = best_of(run, repeat=repeat, warmup=1)
    finally:
        algo.stop()
    return f"{steps / t:,.0f}"


def single_threaded():
    """Torch and OpenMP on one thread, Ray's usage stats off; returns ``torch``.

    Why: on a 2-core machine the default thread counts made every RLlib figure 2-3x
    worse and noisy; every deep benchmark measures under the same settings.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch
    torch.set_num_threads(1)
    return torch


def window_rates(algo, steps: int, counts) -> tuple[float, float]:
    """Rates of an RLlib algorithm over a window of ``steps`` sampled env steps.

    ``counts(result) -> (sampled, trained)`` reads two lifetime counters from a training
    result; the window starts after the call that produced the first result (warm-up
    done by the caller) and the rates are (sampled, trained) per second of wall time.
    """
    s0, l0 = counts(algo.train())
    t0 = time.perf_counter()
    s1, l1 = s0, l0
    while s1 - s0 < steps:
        s1, l1 = counts(algo.train())
    dt = time.perf_counter() - t0
    return (s1 - s0) / dt, (l1 - l0) / dt


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def load() -> str:
    """The machine's 1, 5 and 15-minute load averages, as a phrase for a table's header."""
    try:
        return "load average " + " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except (OSError, AttributeError):
        return "load average unknown"


def dated(name: str, suffix: str = ".md", folder: Path = RESULTS) -> Path:
    """A new results file ``<folder>/<name>_<YYYY-MM-DD><suffix>`` (``..._<HHMMSS>`` added
    when a run of the same day wrote one already): never an existing file."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.gmtime()
    path = folder / f"{name}_{time.strftime('%Y-%m-%d', stamp)}{suffix}"
    if path.exists():
        path = folder / f"{name}_{time.strftime('%Y-%m-%d_%H%M%S', stamp)}{suffix}"
    return path


def latest(name: str, suffix: str = ".md", folder: Path = RESULTS) -> Path | None:
    """The newest results file of a benchmark: ``<name>_<date>...`` (dates sort by name),
    else the undated ``<name><suffix>`` of earlier runs; None when there is none."""
    found = sorted(folder.glob(f"{name}_2*{suffix}"))
    if found:
        return found[-1]
    plain = folder / f"{name}{suffix}"
    return plain if plain.exists() else None


def write_table(name: str, title: str, header: list[str], rows: list[list], notes: str = "",
                path: Path | None = None) -> str:
    """Write the table to ``path`` (default: a new dated file, :func:`dated`) and return its text."""
    lines = [f"# {title}", "",
             f"Machine: {machine()}; {load()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    if notes:
        lines += ["", notes]
    text = "\n".join(lines) + "\n"
    path = path or dated(name)
    path.write_text(text)
    print(f"wrote {path}")
    return text


def module_from_git(commit: str, path: str, deps: dict[str, str] | None = None, cache_dir=None):
    """Import ``path`` (a module file) as it was at ``commit``, from a temporary package.

    Why: benchmarks compare today's code with an earlier version *in the same run*, so
    machine load affects both alike, without keeping old copies in the package.
    ``deps`` maps import lines' module names (e.g. ``"marketsai.tabular.rng"``) to files
    taken from the same commit; they are rewritten to relative imports. The package lives
    under ``cache_dir`` (default: the system temp dir, keyed by commit) so numba's
    ``cache=True`` compiles once across runs.
    """
    import importlib
    import subprocess
    import sys
    import tempfile

    root = Path(__file__).resolve().parents[1]
    deps = deps or {}
    name = f"_git_{commit[:10]}"
    base = Path(cache_dir or tempfile.gettempdir()) / f"marketsai-baseline-{commit[:10]}"
    pkg = base / name
    pkg.mkdir(parents=True, exist_ok=True)

    def show(p):
        return subprocess.run(["git", "show", f"{commit}:{p}"], cwd=root, check=True,
                              capture_output=True, text=True).stdout

    def write(fname, text):
        for mod in deps:
            text = text.replace(f"from {mod} import", f"from .{mod.rsplit('.', 1)[1]} import")
        f = pkg / fname
        if not f.exists() or f.read_text() != text:  # keep the mtime: numba's cache key
            f.write_text(text)

    write("__init__.py", "")
    for mod, p in deps.items():
        write(mod.rsplit(".", 1)[1] + ".py", show(p))
    stem = Path(path).stem
    write(stem + ".py", show(path))
    if str(base) not in sys.path:
        sys.path.insert(0, str(base))
    return importlib.import_module(f"{name}.{stem}")


BASELINE_COMMIT = "a491037"  # the tabular kernel before the fast path


def baseline_kernel(commit: str = BASELINE_COMMIT):
    """The tabular kernel module at ``commit`` (see :func:`module_from_git`)."""
    return module_from_git(commit, "marketsai/tabular/kernel.py",
                           {"marketsai.tabular.rng": "marketsai/tabular/rng.py"})
