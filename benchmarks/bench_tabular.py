"""Speed of the numba tabular engine on the Calvano et al. (2020) duopoly.

Measures, in one run: today's engine **side by side with the kernel of commit a491037**
(before the fast path; extracted from git into a temporary package and swapped into the
same front end, ``benchmarks/common.py``), alternating the two so that machine load
affects both alike; the plain-Python twin of the same algorithm
(``marketsai.tabular.reference``); thread scaling; first-call compile time (cold numba
cache vs cached) of both kernels; the 1000-session baseline (wall time, in a fresh
process) with its outcomes; and the share of post-learning analysis (equilibrium check,
impulse responses) in a run at m = 50 prices, before and after. Writes
a new ``benchmarks/results/tabular_<date>.md`` (the undated tabular.md is the run the docs quote).

Per-core speed is periods per CPU-second (``time.process_time``), which stays
meaningful when other work shares the machine; wall times are shown next to it, with
the load average, because they do not.

    python benchmarks/bench_tabular.py [--sessions 1000] [--repeats 5] [--quick]
    python benchmarks/bench_tabular.py --kernel old|new --sessions 32   # one kernel only
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import BASELINE_COMMIT, baseline_kernel, dated, module_from_git  # noqa: E402
from verify_fastpath import calvano, kernel_module, verify  # noqa: E402

from marketsai import analysis  # noqa: E402
from marketsai.tabular import QLearningConfig, advance, init_sessions, run_sessions  # noqa: E402
from marketsai.tabular import sessions as _sessions  # noqa: E402
from marketsai.tabular.games import calvano_game  # noqa: E402
from marketsai.tabular.reference import reference_advance, reference_init  # noqa: E402

CHILD = r"""
import json, sys, time
t0 = time.time()
sys.path.insert(0, {root!r}); sys.path.insert(0, {root!r} + "/benchmarks")
from marketsai.tabular import QLearningConfig, init_sessions, advance, run_sessions, sessions
from verify_fastpath import calvano
if {which!r} == "old":
    from common import baseline_kernel
    sessions.kernel = baseline_kernel()
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


def child(mode, which="new", env=None, sessions=1000, threads=None):
    code = CHILD.format(root=str(ROOT), mode=mode, sessions=sessions, threads=threads,
                        which=which)
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


def side_by_side(game, sessions, repeats):
    """Old kernel and engine in turn (old, new, old, new, ...), 1 thread, whole runs.

    Returns the per-core speeds of each and the pairwise ratios new / old.
    """
    old = baseline_kernel()
    for module in (old, _sessions.kernel):  # compile or load both before timing
        with kernel_module(module):
            engine_speed(game, 1, 1, periods=1000)
    speeds = {"old": [], "new": []}
    for _ in range(repeats):
        for name, module in (("old", old), ("new", _sessions.kernel)):
            with kernel_module(module):
                speeds[name].append(engine_speed(game, 1, sessions)[0])
    ratios = [n / o for n, o in zip(speeds["new"], speeds["old"], strict=True)]
    return speeds, ratios


def python_speed(game, periods):
    cfg = QLearningConfig()
    st = reference_init(game, cfg, seed=0, sessions=[0])
    c0, w0 = time.process_time(), time.time()
    reference_advance(game, cfg, st, periods=periods, until_converged=False)
    return periods / (time.process_time() - c0), periods / (time.time() - w0)


def analysis_share(m=50, sessions=20, impulse_periods=25):
    """CPU seconds of learning and of analysis at ``m`` prices: before (a491037) and now.

    A run as the ``tabular`` runner does it: ``run_sessions``, then
    ``equilibrium_check`` and ``impulse_response_paths`` (best-response deviation) on the
    learned strategies. Before: the a491037 kernel and equilibrium module (from git).
    Compilation is excluded (both warmed on one session first).
    """
    game, cfg = calvano_game(m=m), QLearningConfig()
    old_eq = module_from_git(BASELINE_COMMIT, "marketsai/analysis/equilibrium.py")
    out = {}
    for label, kmod, eq in (("before", baseline_kernel(), old_eq.equilibrium_check),
                            ("after", _sessions.kernel, analysis.equilibrium_check)):
        with kernel_module(kmod):
            for n in (1, sessions):  # warm-up, then measured
                c0, w0 = time.process_time(), time.time()
                res = run_sessions(game, cfg, seed=0, sessions=range(n))
                learn, learn_wall = time.process_time() - c0, time.time() - w0
                strategies, start = res.strategies, res.final.state
                c0, w0 = time.process_time(), time.time()
                table = eq(game, strategies, start_states=start)
                analysis.impulse_response_paths(game, strategies, start_states=start,
                                                periods=impulse_periods)
                ana, ana_wall = time.process_time() - c0, time.time() - w0
        out[label] = {"learn": learn, "analysis": ana, "share": ana / (learn + ana),
                      "learn_wall": learn_wall, "analysis_wall": ana_wall, "table": table}
    out["same_table"] = out["before"]["table"].equals(out["after"]["table"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5, help="old/new pairs in the side by side")
    ap.add_argument("--quick", action="store_true", help="smaller runs (smoke test)")
    ap.add_argument("--kernel", choices=("old", "new"),
                    help="only time that kernel on --sessions whole runs, 1 thread, and exit "
                         "(for timing two processes against each other from outside)")
    args = ap.parse_args()
    game = calvano()
    if args.kernel:
        module = baseline_kernel() if args.kernel == "old" else _sessions.kernel
        with kernel_module(module):
            cpu, wall = engine_speed(game, 1, args.sessions)
        print(json.dumps({"kernel": args.kernel, "periods_per_cpu_s": cpu, "per_wall_s": wall}))
        return
    load0 = os.getloadavg()
    q = args.quick
    py_periods = 20_000 if q else 200_000
    eng_periods = 500_000 if q else 4_000_000
    n_side = 2 if q else 8
    speeds, ratios = side_by_side(game, n_side, 2 if q else args.repeats)
    py_cpu, py_wall = python_speed(game, py_periods)
    e1_cpu, e1_wall = engine_speed(game, 1, 2, eng_periods)
    e2_cpu, e2_wall = engine_speed(game, 2, 4, eng_periods)
    c1_cpu, c1_wall = engine_speed(game, 1, n_side)
    c2_cpu, c2_wall = engine_speed(game, 2, n_side)
    comp = {}
    for which in ("old", "new"):
        with tempfile.TemporaryDirectory() as cache:
            cold = child("compile", which, env={"NUMBA_CACHE_DIR": cache})
            warm = child("compile", which, env={"NUMBA_CACHE_DIR": cache})
        comp[which] = (cold, warm)
    base = child("baseline", sessions=args.sessions)
    ana = analysis_share(sessions=4 if q else 20)
    ver = verify(20 if q else 200, 2020)
    load1 = os.getloadavg()
    f = lambda x: f"{x / 1e6:.2f} M"  # noqa: E731
    med = statistics.median
    old_s, new_s = med(speeds["old"]), med(speeds["new"])
    rows = [
        "| measurement | value |", "|---|---|",
        f"| **kernel a491037 (before), 1 thread, {n_side} whole learning runs, median of {len(ratios)}** | {f(old_s)} periods/CPU-s (runs: {', '.join(f'{x / 1e6:.1f}' for x in speeds['old'])}) |",
        f"| **engine now, same runs, alternating with the above** | {f(new_s)} periods/CPU-s (runs: {', '.join(f'{x / 1e6:.1f}' for x in speeds['new'])}) |",
        f"| **speed-up now / before, per core (median of pairwise ratios; min-max)** | **{med(ratios):.2f}x** ({min(ratios):.2f}-{max(ratios):.2f}) |",
        f"| first call, cold numba cache (compile): before / now | {comp['old'][0]['first_call']:.1f} s / {comp['new'][0]['first_call']:.1f} s (+ {comp['new'][0]['import']:.1f} s import) |",
        f"| first call, cached: before / now | {comp['old'][1]['first_call']:.2f} s / {comp['new'][1]['first_call']:.2f} s |",
        f"| plain-Python twin (reference.py), {py_periods:,} periods | {py_cpu:,.0f} periods/CPU-s ({py_wall:,.0f}/s wall) |",
        f"| engine, 1 thread, {n_side} whole learning runs (to convergence) | {f(c1_cpu)} periods/CPU-s ({f(c1_wall)}/s wall) |",
        f"| engine, 2 threads, the same {n_side} runs | {f(c2_cpu)} periods/CPU-s ({f(c2_wall)}/s wall) |",
        f"| engine, 1 thread, 2 sessions x {eng_periods:,} periods from t = 0 | {f(e1_cpu)} periods/CPU-s ({f(e1_wall)}/s wall) |",
        f"| engine, 2 threads, 4 sessions x {eng_periods:,} periods from t = 0 | {f(e2_cpu)} periods/CPU-s ({f(e2_wall)}/s wall) |",
        f"| speed-up engine vs Python (per core, whole runs) | {c1_cpu / py_cpu:,.0f}x |",
        f"| thread scaling 2 vs 1 (wall, whole runs) | {c2_wall / c1_wall:.2f}x |",
        f"| {args.sessions}-session baseline, wall (fresh process, cached compile) | {base['wall']:.1f} s (process total {base['wall_total']:.1f} s) |",
        f"| {args.sessions}-session baseline, speed | {f(base['periods'] / base['cpu'])} periods/CPU-s, {f(base['periods'] / base['wall'])}/s wall |",
        f"| {args.sessions}-session baseline, cold compile + run (estimate) | {base['wall_total'] + comp['new'][0]['first_call'] - comp['new'][1]['first_call']:.1f} s |",
        f"| Delta mean (SD) [published 0.849 (0.112)] | {base['delta_mean']:.3f} ({base['delta_sd']:.3f}) |",
        "| cycle length 1 / 2 / 3+ [published 64.3 / 23.8 / 11.9 %] | "
        + " / ".join(f"{100 * x:.1f}" for x in base["share"]) + " % |",
        "| Delta by cycle length 1 / 2 / 3+ [published 0.860 / 0.846 / 0.793] | "
        + " / ".join(f"{x:.3f}" for x in base["delta_by_cycle"]) + " |",
        f"| mean periods to convergence [about 1.7 M] | {f(base['periods_mean'])} (converged {100 * base['converged']:.1f} %) |",
        f"| same results as a491037: {ver['sessions']} sessions, seed {ver['seed']} (periods, strategies, Q, RNG) | "
        f"{'identical' if all(ver['identical'].values()) else 'DIFFERENT'} ({ver['sessions_identical']}/{ver['sessions']} sessions) |",
    ]
    for label in ("before", "after"):
        a = ana[label]
        rows.append(f"| m = 50, {4 if q else 20} sessions, {label}: learning / analysis CPU-s (analysis share) | "
                    f"{a['learn']:.2f} / {a['analysis']:.2f} ({100 * a['share']:.0f} %); wall "
                    f"{a['learn_wall']:.2f} / {a['analysis_wall']:.2f} s |")
    rows.append(f"| m = 50 equilibrium table before == after | {ana['same_table']} |")
    rows.append(f"| load average before / after (2 cores; other work shares the machine) | {load0[0]:.2f} / {load1[0]:.2f} |")
    text = ("# Tabular engine benchmark (Calvano et al. 2020 duopoly)\n\n"
            f"Machine: {os.cpu_count()} cores; numba threads default. "
            f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n"
            "Reference speeds per core (docs/references.md): pure Python ~16,000 periods/s, "
            "numba port ~3.8 M, C port of the Fortran ~26 M.\n"
            + (f"**The machine was shared during this run** (load average {load0[0]:.1f} at the "
               f"start, {load1[0]:.1f} at the end): wall-clock times and thread scaling are not "
               "representative; per-CPU-second speeds and the side-by-side ratio are.\n"
               if max(load0[0], load1[0]) > 0.5 else "")
            + "\n" + "\n".join(rows) + "\n")
    out = dated("tabular")
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
