"""End-to-end cost of the experiment runner against the bare engine, same sessions.

The Calvano baseline with S sessions three ways: ``run_sessions`` directly (the
baseline), ``run_experiment`` with analysis off (chunking, files, summary, figures), and
``run_experiment`` with the impulse responses and the equilibrium check on. Writes
benchmarks/results/experiments.md. ``S`` from the command line (default 100).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from common import write_table

from marketsai.economy import load_economy
from marketsai.runner import run_experiment
from marketsai.tabular import QLearningConfig, run_sessions

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "experiments" / "calvano2020" / "baseline.yaml"


def main(sessions: int = 100) -> None:
    game = load_economy(ROOT / "economies" / "bertrand_duopoly.yaml").finite_game()
    cfg = QLearningConfig(alpha=0.15, beta=4e-6)
    run_sessions(game, cfg, seed=2020, sessions=range(2))  # compile outside the timing
    t = time.perf_counter()
    res = run_sessions(game, cfg, seed=2020, sessions=range(sessions))
    engine = time.perf_counter() - t
    periods = int(res.periods.sum())
    rows = [["run_sessions (engine only)", f"{engine:.1f}", f"{periods / engine / 1e6:.1f}", "1.00"]]
    for label, analysis in (("run_experiment, analysis off",
                             {"analysis.impulse_response": [], "analysis.equilibrium_check": False}),
                            ("run_experiment, analysis on", {})):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            run_experiment(BASELINE, out=Path(tmp) / "run", progress=False,
                           overrides={"sessions": sessions} | analysis)
            wall = time.perf_counter() - t
        rows.append([label, f"{wall:.1f}", f"{periods / wall / 1e6:.1f}", f"{wall / engine:.2f}"])
    print(write_table(
        "experiments", f"Calvano baseline, {sessions} sessions, end to end",
        ["what", "wall s", "M periods/s", "vs engine"], rows,
        notes=f"{periods:,} periods in all ({periods / sessions:,.0f} a session); "
              "numba threads = all cores; run folders in a temp dir."))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
