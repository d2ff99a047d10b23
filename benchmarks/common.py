"""Helpers shared by the benchmark scripts: timing, peak memory, Markdown tables."""

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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_table(name: str, title: str, header: list[str], rows: list[list], notes: str = "") -> str:
    """Write ``benchmarks/results/<name>.md`` and return its text."""
    RESULTS.mkdir(exist_ok=True)
    lines = [f"# {title}", "", f"Machine: {machine()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    if notes:
        lines += ["", notes]
    text = "\n".join(lines) + "\n"
    (RESULTS / f"{name}.md").write_text(text)
    return text
