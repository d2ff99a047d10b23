"""Speed of the numba tabular engine on the Calvano et al. (2020) duopoly.

Measures, in one run: periods per second per core of the engine against the plain-Python
twin of the same algorithm (``marketsai.tabular.reference``: a scalar Python loop, the
approach of the seed's code); thread scaling 1 vs 2 threads; first-call compile time
(cold numba cache vs cached); the 1000-session baseline (wall time, compile included,
in a fresh process) with its outcomes. Writes ``benchmarks/results/tabular.md``.

Per-core speed is periods per CPU-second (``time.process_time``), which stays
meaningful when other work shares the machine; wall times are shown next to it, with
the load average, because they do not.

    python benchmarks/bench_tabular.py [--sessions 1000] [--quick]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from marketsai.tabular import QLearningConfig, advance, init_sessions  # noqa: E402
from marketsai.tabular.games import calvano_game  # noqa: E402
from marketsai.tabular.reference import reference_advance, reference_init  # noqa: E402

CHILD = r"""
import json, sys, time
t0 = time.time()
sys.path.insert(0, {root!r})
from marketsai.tabular import QLearningConfig, init_sessions, advance, run_sessions
from marketsai.tabular.games import calvano_game
def calvano():
    try:
        import marketsai as mai
        return mai.load_economy("economies/bertrand_duopoly.yaml").finite_game()
    except Exception:
        return calvano_game()
game = calvano(); cfg = QLearningConfig()
t_import = time.time() - t0
mode = {mode!r}
if mode == "compile":
    t1 = time.time()
    st = init_sessions(game, cfg, seed=0, sessions=range(2)); advance(game, cfg, st, periods=10)
    print(json.dumps({{"import": t_import, "first_call": time.time() - t1}}))
else:
    c0 = time.process_time(); t1 = time.time()
    res = run_sessions(game, cfg, seed=0, sessions=range({sessions}), threads={threads})
    wall = time.time() - t1
    cpu = time.process_time() - c0
    df = res.to_frame()
    L = df.cycle_length
    print(json.dumps({{"wall": wall, "wall_total": time.time() - t0, "cpu": cpu,
        "periods": int(df.periods.sum()), "periods_mean": float(df.periods.mean()),
        "converged": float(df.converged.mean()),
        "delta_mean": float(df.profit_gain.mean()), "delta_sd": float(df.profit_gain.std()),
        "share": [float((L == 1).mean()), float((L == 2).mean()), float((L >= 3).mean())],
        "delta_by_cycle": [float(df.profit_gain[L == 1].mean()), float(df.profit_gain[L == 2].mean()),
                           float(df.profit_gain[L >= 3].mean())],
        "mean_price": float(df.mean_price.mean())}}))
"""


def calvano():
    try:
        import marketsai as mai
        return mai.load_economy("economies/bertrand_duopoly.yaml").finite_game()
    except Exception:  # noqa: BLE001
        return calvano_game()


def child(mode, env=None, sessions=1000, threads=None):
    code = CHILD.format(root=str(ROOT), mode=mode, sessions=sessions, threads=threads)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def engine_speed(game, threads, sessions, periods=None):
    """(periods per CPU-second, per wall-second): ``periods`` each, or to convergence."""
    cfg = QLearningConfig()
    st = init_sessions(game, cfg, seed=0, sessions=range(sessions))
    advance(game, cfg, st, periods=1000, until_converged=False, threads=threads)  # warm
    st = init_sessions(game, cfg, seed=0, sessions=range(sessions))
    c0, w0 = time.process_time(), time.time()
    advance(game, cfg, st, periods=periods, until_converged=periods is None, threads=threads)
    cpu, wall = time.process_time() - c0, time.time() - w0
    total = int(st.t.sum())
    return total / cpu, total / wall


def python_speed(game, periods):
    cfg = QLearningConfig()
    st = reference_init(game, cfg, seed=0, sessions=[0])
    c0, w0 = time.process_time(), time.time()
    reference_advance(game, cfg, st, periods=periods, until_converged=False)
    return periods / (time.process_time() - c0), periods / (time.time() - w0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="smaller runs (smoke test)")
    args = ap.parse_args()
    game = calvano()
    load0 = os.getloadavg()
    py_periods = 20_000 if args.quick else 200_000
    eng_periods = 500_000 if args.quick else 4_000_000
    rows = []
    py_cpu, py_wall = python_speed(game, py_periods)
    e1_cpu, e1_wall = engine_speed(game, 1, 2, eng_periods)
    e2_cpu, e2_wall = engine_speed(game, 2, 4, eng_periods)
    n_full = 2 if args.quick else 8
    c1_cpu, c1_wall = engine_speed(game, 1, n_full)
    c2_cpu, c2_wall = engine_speed(game, 2, n_full)
    with tempfile.TemporaryDirectory() as cache:
        cold = child("compile", env={"NUMBA_CACHE_DIR": cache})
        warm = child("compile", env={"NUMBA_CACHE_DIR": cache})
    base = child("baseline", sessions=args.sessions)
    load1 = os.getloadavg()
    f = lambda x: f"{x / 1e6:.2f} M"  # noqa: E731
    rows = [
        "| measurement | value |", "|---|---|",
        f"| plain-Python twin (reference.py), {py_periods:,} periods | {py_cpu:,.0f} periods/CPU-s ({py_wall:,.0f}/s wall) |",
        f"| engine, 1 thread, {n_full} whole learning runs (to convergence) | {f(c1_cpu)} periods/CPU-s ({f(c1_wall)}/s wall) |",
        f"| engine, 2 threads, the same {n_full} runs | {f(c2_cpu)} periods/CPU-s ({f(c2_wall)}/s wall) |",
        f"| engine, 1 thread, 2 sessions x {eng_periods:,} periods from t = 0 | {f(e1_cpu)} periods/CPU-s ({f(e1_wall)}/s wall) |",
        f"| engine, 2 threads, 4 sessions x {eng_periods:,} periods from t = 0 | {f(e2_cpu)} periods/CPU-s ({f(e2_wall)}/s wall) |",
        f"| speed-up engine vs Python (per core, whole runs) | {c1_cpu / py_cpu:,.0f}x |",
        f"| thread scaling 2 vs 1 (wall, whole runs) | {c2_wall / c1_wall:.2f}x |",
        f"| first call, cold numba cache (compile) | {cold['first_call']:.1f} s (+ {cold['import']:.1f} s import) |",
        f"| first call, cached | {warm['first_call']:.2f} s (+ {warm['import']:.1f} s import) |",
        f"| {args.sessions}-session baseline, wall (fresh process, cached compile) | {base['wall']:.1f} s (process total {base['wall_total']:.1f} s) |",
        f"| {args.sessions}-session baseline, speed | {f(base['periods'] / base['cpu'])} periods/CPU-s, {f(base['periods'] / base['wall'])}/s wall |",
        f"| {args.sessions}-session baseline, cold compile + run (estimate) | {base['wall_total'] + cold['first_call'] - warm['first_call']:.1f} s |",
        f"| Delta mean (SD) [published 0.849 (0.112)] | {base['delta_mean']:.3f} ({base['delta_sd']:.3f}) |",
        "| cycle length 1 / 2 / 3+ [published 64.3 / 23.8 / 11.9 %] | "
        + " / ".join(f"{100 * x:.1f}" for x in base["share"]) + " % |",
        "| Delta by cycle length 1 / 2 / 3+ [published 0.860 / 0.846 / 0.793] | "
        + " / ".join(f"{x:.3f}" for x in base["delta_by_cycle"]) + " |",
        f"| mean periods to convergence [about 1.7 M] | {f(base['periods_mean'])} (converged {100 * base['converged']:.1f} %) |",
        f"| load average before / after (2 cores; other work shares the machine) | {load0[0]:.2f} / {load1[0]:.2f} |",
    ]
    text = ("# Tabular engine benchmark (Calvano et al. 2020 duopoly)\n\n"
            f"Machine: {os.cpu_count()} cores; numba threads default. "
            f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n"
            "Reference speeds per core (REFERENCE.md): pure Python ~16,000 periods/s, "
            "numba port ~3.8 M, C port of the Fortran ~26 M.\n\n" + "\n".join(rows) + "\n")
    out = ROOT / "benchmarks" / "results" / "tabular.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
