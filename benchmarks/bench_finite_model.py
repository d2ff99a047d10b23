"""The general kernel (any ``FiniteModel``) against the memory kernel, on the Calvano duopoly.

Why: docs/tabular.md says games stay on the memory kernel because the general kernel,
which reads a finite model's transition table, is slower; this measures by how much, in
one run, alternating the three so that machine load affects them alike:

* ``general loop``: the memory kernel of commit a491037, before the duopoly fast path
  (extracted from git, ``benchmarks/common.py``);
* ``fast path``: today's memory kernel on the game;
* ``general kernel``: today's engine on ``FiniteModel.from_game(game)`` (same results).

Each: ``--sessions`` sessions of ``QLearningConfig()`` to convergence, one thread, periods
per CPU-second (``time.process_time``, meaningful on a shared machine); the median of
``--repeats``. Writes ``benchmarks/results/finite_model_<date>.md`` and its ``.source.json``.

    python benchmarks/bench_finite_model.py [--sessions 24] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tabular import engine_speed  # noqa: E402
from common import baseline_kernel, dated, write_table  # noqa: E402
from verify_fastpath import calvano, kernel_module  # noqa: E402

from marketsai.finite_model import FiniteModel  # noqa: E402
from marketsai.runner.provenance import write_source  # noqa: E402
from marketsai.tabular import sessions as _sessions  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=24, help="sessions per timed run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each (the median is kept)")
    args = parser.parse_args(argv)
    game = calvano()
    variants = {  # name -> (kernel module, what it learns on)
        "memory kernel, general loop (a491037, before the fast path)": (baseline_kernel(), game),
        "memory kernel, duopoly fast path (today)": (_sessions.kernel, game),
        "general kernel on FiniteModel.from_game (today)": (_sessions.kernel, FiniteModel.from_game(game)),
    }
    for module, problem in variants.values():  # compile or load every kernel before timing
        with kernel_module(module):
            engine_speed(problem, 1, 1, periods=1000)
    speeds = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, (module, problem) in variants.items():
            with kernel_module(module):
                speeds[name].append(engine_speed(problem, 1, args.sessions)[0] / 1e6)
            print(name, f"{speeds[name][-1]:.2f}", flush=True)
    fast = statistics.median(speeds["memory kernel, duopoly fast path (today)"])
    rows = [[name, f"{statistics.median(s):.1f}", f"{statistics.median(s) / fast:.2f}",
             ", ".join(f"{x:.1f}" for x in s)] for name, s in speeds.items()]
    command = f"python benchmarks/bench_finite_model.py --sessions {args.sessions} --repeats {args.repeats}"
    path = dated("finite_model")
    write_table("finite_model", "Tabular kernels on the Calvano duopoly: general kernel vs memory kernel",
                ["kernel", "M periods per CPU-second (median)", "relative to the fast path", "runs"],
                rows, path=path,
                notes=f"{args.sessions} sessions of QLearningConfig() to convergence per run, 1 thread, "
                      f"the three alternating; command: {command}.")
    write_source(path, command=command)


if __name__ == "__main__":
    main()
