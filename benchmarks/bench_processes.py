"""A batched learn file's seeds as one unit in one process against two units side by side.

Why: a batched learner (``dqn_batched``, ``sac_batched``, ``ppo_batched``) trains all seeds of
a unit in one process on one core; ``chunk_size: 4`` and ``marketsai run --processes 2`` train
the 8 seeds of the study files as two units of 4 at once, one per core (issue 20, item 4:
8 seeds x 500,000 periods in under 2 hours on 2 cores). This runs the file twice through
``marketsai run`` in fresh processes, over the same short horizon, with no evaluation
(``evaluate=[]``) and no checkpoints: once as it is (one unit of all seeds, ``--processes
1``), once as ``--chunk`` seeds a unit with ``--processes 2``; each ``--repeat`` times,
alternating. Per run: the command's wall time, the units' wall time (the union of their
spans, ``done.json``'s ``started`` + ``seconds``), their CPU time, and seed-periods per
second of each wall time; then the ratios (two processes over one). Results do not depend
on the split (tests/test_run_processes.py); only the speed does. Writes
``benchmarks/results/bench_processes_<date>.md``.

The measurement (run it on an otherwise idle 2-core machine)::

    RAY_USAGE_STATS_ENABLED=0 OMP_NUM_THREADS=1 python benchmarks/bench_processes.py \\
        experiments/tabular_vs_deep/sac_batched_grid_500k.yaml --periods 12000 --repeat 2

A check of the script itself (tiny horizon: spawn and import costs dominate)::

    python benchmarks/bench_processes.py experiments/tabular_vs_deep/sac_batched_grid_500k.yaml --periods 2200
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from common import load, write_table

from marketsai.runner.store import union_seconds

ROOT = Path(__file__).resolve().parents[1]


def run_once(file: Path, out: Path, periods: int, chunk: int, processes: int) -> dict:
    """One ``marketsai run`` of ``file`` in a fresh process; its times."""
    command = [sys.executable, "-m", "marketsai.cli", "run", str(file), "--out", str(out), "--no-progress",
               "--threads", "1", "--processes", str(processes), "--set", f"chunk_size={chunk}",
               "--set", f"learner.settings.periods={periods}", "--set", "learner.settings.checkpoint_every=0",
               "--set", "evaluate=[]"]
    env = os.environ | {"OMP_NUM_THREADS": "1", "RAY_USAGE_STATS_ENABLED": "0"}
    t = time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    done = [json.loads(p.read_text()) for p in sorted((out / "chunks").glob("*/done.json"))]
    return {"wall": wall, "units_wall": union_seconds([(d["started"], d["seconds"]) for d in done]),
            "cpu": sum(d["cpu_seconds"] for d in done), "units": len(done)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--periods", type=int, default=12000, help="periods per seed (the file's learning_starts "
                                                                    "first, without updates)")
    parser.add_argument("--chunk", type=int, default=4, help="seeds per unit of the side-by-side runs")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    data = yaml.safe_load(args.file.read_text())
    seeds = data["seeds"] if isinstance(data["seeds"], int) else len(data["seeds"])
    cases = [("one unit, --processes 1", seeds, 1),
             (f"units of {args.chunk}, --processes {args.processes}", args.chunk, args.processes)]
    before = load()
    times: dict[str, list[dict]] = {name: [] for name, _, _ in cases}
    with tempfile.TemporaryDirectory(prefix="bench_processes_") as tmp:
        for r in range(args.repeat):
            for name, chunk, processes in cases:
                out = Path(tmp) / f"{r}_{processes}"
                times[name].append(run_once(args.file.resolve(), out, args.periods, chunk, processes))
                print(name, times[name][-1], flush=True)
    work = seeds * args.periods
    rows, best = [], {}
    for name, _, _ in cases:
        t = min(times[name], key=lambda x: x["units_wall"])  # the least disturbed repeat
        best[name] = t
        rows.append([name, t["units"], f"{t['wall']:.1f}", f"{t['units_wall']:.1f}", f"{t['cpu']:.1f}",
                     f"{work / t['wall']:,.0f}", f"{work / t['units_wall']:,.0f}"])
    one, two = (best[name] for name, _, _ in cases)
    rows.append(["ratio (side by side / one)", "", f"{one['wall'] / two['wall']:.2f}x faster",
                 f"{one['units_wall'] / two['units_wall']:.2f}x faster", f"{two['cpu'] / one['cpu']:.2f}x the CPU",
                 "", ""])
    command = " ".join(["python", "benchmarks/bench_processes.py", *sys.argv[1:]])
    write_table("bench_processes", f"{args.file.name}: {seeds} seeds x {args.periods:,} periods, one process "
                f"against {args.processes} side by side",
                ["runs", "units", "command wall s", "units wall s", "units CPU s", "seed-periods/s (command)",
                 "seed-periods/s (units)"], rows,
                notes=f"Best of {args.repeat} (least units wall time), alternating; {before} before. Each run is "
                      "`marketsai run` in a fresh process, --threads 1, OMP_NUM_THREADS=1, no evaluation, no "
                      f"checkpoints; the first {data['learner']['settings'].get('learning_starts', 0):,} periods "
                      f"of each seed do not update. Command: `{command}`")


if __name__ == "__main__":
    main()
