"""Wall time of the intervention study, and the speed of its kernel calls.

    python benchmarks/bench_interventions.py                 # full study from scratch (~12 min)
    python benchmarks/bench_interventions.py --from-run runs/interventions-study
    python benchmarks/bench_interventions.py --quick         # kernel speed only (~1 min)

Writes a new ``benchmarks/results/interventions_<date>.md``:

* the study: wall time of ``marketsai run experiments/interventions/study.yaml`` from
  scratch (fresh baseline cache), split into baseline training and interventions (sum
  of chunk times from each chunk's ``done.json``);
* kernel speed, measured against a baseline in the same run: periods per second of
  (a) plain ``tabular.advance`` to convergence (the baseline) and (b) the post-
  intervention re-convergence (:func:`marketsai.interventions.reconverge`) on the same
  converged sessions -- (b) is the same kernel, so it should not be slower per period.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
from common import dated

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "experiments" / "interventions" / "study.yaml"


def chunk_times(run: Path) -> dict[str, float]:
    out = {"baselines": 0.0, "interventions": 0.0}
    for done in (run / "chunks").glob("*/done.json"):
        sec = json.loads(done.read_text()).get("seconds", 0.0)
        out["baselines" if done.parent.name.startswith("b.") else "interventions"] += sec
    return out


def logged_wall(run: Path) -> float | None:
    """Seconds of the last 'ran N units in Xs' line of the run's log."""
    log = (run / "log").read_text() if (run / "log").exists() else ""
    hits = re.findall(r"ran (\d+) units in ([\d.]+)s", log)
    return float(hits[-1][1]) if hits else None


def run_study(out: Path, cache: Path) -> tuple[float, float]:
    """Run the study from scratch; return (wall seconds, CPU seconds of the child)."""
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    cli = Path(sys.executable).parent / "marketsai"
    subprocess.run([str(cli), "run", str(STUDY), "--out", str(out),
                    "--set", f"baseline_dir={cache}", "--no-progress"], check=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def kernel_speed(sessions: int = 64) -> dict[str, float]:
    from marketsai.economy import load_economy
    from marketsai.interventions import InterventionContext, build_phase, reconverge
    from marketsai.tabular import QLearningConfig, advance, init_sessions

    game = load_economy(ROOT / "economies" / "bertrand_duopoly.yaml").finite_game()
    cfg = QLearningConfig(alpha=0.15, beta=4e-6)
    warm = init_sessions(game, cfg, seed=0, sessions=range(2))
    advance(game, cfg, warm, periods=1000, until_converged=False)  # compile
    st = init_sessions(game, cfg, seed=0, sessions=range(sessions))
    t0 = time.perf_counter()
    advance(game, cfg, st)
    base_s = time.perf_counter() - t0
    base_periods = int(st.t.sum())
    ctx = InterventionContext(game, cfg, st)
    build_phase({"type": "memory_reset", "firm": 0}, "p").bind(game).apply(ctx)
    t0 = time.perf_counter()
    _, periods = reconverge(ctx, "correct", max_periods=50_000_000)
    post_s = time.perf_counter() - t0
    return {"sessions": sessions, "baseline_periods_per_s": base_periods / base_s,
            "post_periods_per_s": float(periods.sum()) / post_s,
            "post_periods_mean": float(periods.mean())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from-run", type=Path, help="record an existing run folder instead")
    ap.add_argument("--wall", type=float, help="measured wall seconds of that run (e.g. /usr/bin/time)")
    ap.add_argument("--cpu", type=float, help="CPU seconds (user + sys) of that run, if known")
    ap.add_argument("--note", default="", help="a line on the conditions of that run")
    ap.add_argument("--quick", action="store_true", help="kernel speed only")
    args = ap.parse_args(argv)
    lines = ["# Intervention study: wall time and kernel speed", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, numba threads "
             f"{numba.get_num_threads()}, Python {platform.python_version()}; "
             f"recorded {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average "
             f"(1 min) when this script started: {os.getloadavg()[0]:.1f} (2 cores: above 2 means "
             "other jobs shared the machine and every time below is inflated).", ""]
    if not args.quick:
        if args.from_run:
            run, wall = args.from_run, args.wall or logged_wall(args.from_run)
            how = f"recorded from the run folder `{run}`"
        else:
            tmp = Path(tempfile.mkdtemp(prefix="bench-interventions-"))
            run = tmp / "run"
            load0 = os.getloadavg()[0]
            wall, args.cpu = run_study(run, tmp / "baselines")
            how = (f"run from scratch (fresh baseline cache) by this script; load average "
                   f"(1 min) {load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
        parts = chunk_times(run)
        if not args.from_run:
            shutil.rmtree(run.parent, ignore_errors=True)  # the fresh run and its baselines
        lines += ["## The study", "",
                  "`marketsai run experiments/interventions/study.yaml` " + how + ".", "",
                  "| | seconds |", "|---|---|",
                  f"| wall time | {wall:.0f} |" if wall else "| wall time | n/a |",
                  *([f"| CPU time of the run (user + sys) | {args.cpu:.0f} |"] if args.cpu else []),
                  f"| baseline training (sum of chunks) | {parts['baselines']:.0f} |",
                  f"| interventions (sum of chunks) | {parts['interventions']:.0f} |", "",
                  *([args.note, ""] if args.note else [])]
    ks = kernel_speed()
    lines += ["## Kernel speed (same run, 64 Calvano sessions)", "",
              "| | periods / s |", "|---|---|",
              f"| baseline: `advance` to convergence | {ks['baseline_periods_per_s']:,.0f} |",
              f"| post-intervention re-convergence (memory reset of firm 0) | "
              f"{ks['post_periods_per_s']:,.0f} |", "",
              f"Mean periods to re-converge after the reset: {ks['post_periods_mean']:,.0f}.", ""]
    dated("interventions").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
