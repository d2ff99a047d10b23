"""Speed of the GPU kernel (:mod:`marketsai.tabular.gpu`) on the Calvano et al. (2020)
duopoly (15 prices, memory 1, alpha 0.15, beta 4e-6) against the CPU engine, on a CUDA
device, in one run of a few minutes:

* the GPU kernel at 10^4, 10^5 and 10^6 sessions: the sessions initialised on the device,
  then a fixed number of periods from t = 0 (the exploration phase) per session; periods
  per second of the kernel alone, and end to end (host-device copies of the tables
  included). The periods per session are set from a probe so that each size's kernel runs
  about ``--seconds``; a size whose tables do not fit in the device's memory is run at
  the largest count that fits (the table says so).
* the CPU engine on the same economy and periods: a subset of sessions on 1 thread
  (periods per CPU-second: the per-core rate) and on all cores (wall).
* bit-identity on the device: sessions of each GPU run (first, middle, last) against the
  CPU engine (every state field), and 32 sessions to convergence (beta = 1e-4) through
  ``init_sessions``/``advance`` with ``device: cuda`` (converged flags, periods).
* optionally (``--converge N``), N baseline sessions run to convergence on the device (the
  real workload: sessions that converge late run on with their warp mostly idle), wall
  time against the CPU engine's time for the same periods, three of them checked against
  the CPU engine.

Writes a new ``benchmarks/results/gpu_sessions_<date>.md`` (or into ``--out``). Without a
CUDA device it exits with status 2 and says so. On a lent GPU machine (its python3 has
numba and numba-cuda), from the repository root::

    PYTHONUNBUFFERED=1 PYTHONPATH=. python3 benchmarks/bench_gpu_sessions.py --out $OUT
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import dated, write_table  # noqa: E402

from marketsai.tabular import QLearningConfig, advance, init_sessions  # noqa: E402
from marketsai.tabular.config import EXPLORATION  # noqa: E402
from marketsai.tabular.games import calvano_game  # noqa: E402
from marketsai.tabular.sessions import STATE_FIELDS, game_arrays  # noqa: E402

FIELDS = ("q", "strategy", "state", "t", "rng", "stable")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def gpu_run(game, cfg, sessions: int, periods: int, gpu):
    """``sessions`` sessions initialised on the device and run ``periods`` periods
    (no stop at convergence); returns the states and the seconds of each step."""
    from numba import cuda

    ga = game_arrays(game)
    t0 = time.perf_counter()
    st = init_sessions(game, cfg, seed=0, sessions=range(sessions))
    t_init = time.perf_counter() - t0
    eps_table, decay = gpu.schedule(cfg.per_agent("beta", 2), EXPLORATION[cfg.exploration],
                                    cfg.epsilon, periods)
    t0 = time.perf_counter()
    batch = gpu.DeviceBatch(ga, cfg, st, 0, sessions, eps_table, decay)
    cuda.synchronize()
    t_up = time.perf_counter() - t0
    active = np.arange(sessions, dtype=np.int64)
    budget = np.full(sessions, periods, np.int64)
    done = np.zeros(sessions, np.int64)
    t0 = time.perf_counter()
    batch.step(active, budget, done, until_converged=False)
    cuda.synchronize()
    t_kernel = time.perf_counter() - t0
    t0 = time.perf_counter()
    batch.download()
    t_down = time.perf_counter() - t0
    assert (done == periods).all()
    return st, dict(init=t_init, up=t_up, kernel=t_kernel, down=t_down)


def spot_check(game, cfg, st, positions, periods) -> bool:
    """Sessions ``positions`` of a GPU run against the CPU engine, every state field."""
    cpu_cfg = dataclasses.replace(cfg, device="cpu")
    cpu = init_sessions(game, cpu_cfg, seed=0, sessions=[int(st.sessions[p]) for p in positions])
    advance(game, cpu_cfg, cpu, periods=periods, until_converged=False)
    return all(np.array_equal(getattr(cpu, f), getattr(st, f)[positions]) for f in FIELDS)


def cpu_rates(game, cfg, periods: int, cores: int) -> tuple[float, float]:
    """The CPU engine's periods per CPU-second on 1 thread and per wall second on ``cores``."""
    cpu_cfg = dataclasses.replace(cfg, device="cpu")
    st = init_sessions(game, cpu_cfg, seed=0, sessions=range(8))
    advance(game, cpu_cfg, st, periods=1024, until_converged=False, threads=1)  # compile
    st = init_sessions(game, cpu_cfg, seed=0, sessions=range(8))
    c0 = time.process_time()
    advance(game, cpu_cfg, st, periods=periods, until_converged=False, threads=1)
    per_core = 8 * periods / (time.process_time() - c0)
    st = init_sessions(game, cpu_cfg, seed=0, sessions=range(4 * cores))
    w0 = time.perf_counter()
    advance(game, cpu_cfg, st, periods=periods, until_converged=False, threads=cores)
    return per_core, 4 * cores * periods / (time.perf_counter() - w0)


def convergence_check(game, sessions: int) -> tuple[bool, str]:
    """``sessions`` sessions to convergence through the front end, GPU against CPU."""
    cfg = QLearningConfig(beta=1e-4)
    t0 = time.perf_counter()
    cpu = init_sessions(game, cfg, seed=7, sessions=range(sessions))
    advance(game, cfg, cpu)
    t_cpu = time.perf_counter() - t0
    gcfg = dataclasses.replace(cfg, device="cuda")
    t0 = time.perf_counter()
    dev = init_sessions(game, gcfg, seed=7, sessions=range(sessions))
    advance(game, gcfg, dev)
    t_gpu = time.perf_counter() - t0
    same = all(np.array_equal(getattr(cpu, f), getattr(dev, f)) for f in STATE_FIELDS)
    return same, (f"{int(cpu.converged.sum())}/{sessions} converged, periods "
                  f"{int(cpu.t.min()):,} to {int(cpu.t.max()):,}; CPU engine {t_cpu:.1f} s, "
                  f"GPU {t_gpu:.1f} s")


def converge_run(game, cfg, sessions: int, per_core: float) -> tuple[list, bool]:
    """The baseline to convergence on the device: a table row and the spot check."""
    t0 = time.perf_counter()
    st = init_sessions(game, cfg, seed=0, sessions=range(sessions))
    advance(game, cfg, st)
    wall = time.perf_counter() - t0
    total = int(st.t.sum())
    cpu_cfg = dataclasses.replace(cfg, device="cpu")
    picks = [0, sessions // 2, sessions - 1]
    cpu = init_sessions(game, cpu_cfg, seed=0, sessions=picks)
    advance(game, cpu_cfg, cpu)
    ok = all(np.array_equal(getattr(cpu, f), getattr(st, f)[picks]) for f in STATE_FIELDS)
    log(f"to convergence: {sessions:,} sessions in {wall:.1f} s, {st.converged.mean():.1%} "
        f"converged, periods mean {st.t.mean():,.0f}, max {st.t.max():,}; spot check {ok}")
    row = [f"{sessions:,} to convergence", f"mean {st.t.mean():,.0f}, max {st.t.max():,}",
           f"{wall:.1f} (all)", f"{total / wall:,.3g}",
           f"CPU engine: {total / per_core:,.0f} core-seconds", "",
           "identical" if ok else "DIFFERENT"]
    return row, ok


def device_facts(gpu):
    """Name, compute capability, free and total bytes of the device (the simulator: a dry
    run of this script, with no memory limit)."""
    from numba import cuda

    if numba_simulator():
        return "numba CUDA simulator", (0, 0), 1 << 50, 1 << 50
    dev = cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    total = cuda.current_context().get_memory_info()[1]
    return name, dev.compute_capability, gpu.device_free_bytes(), total


def numba_cuda_version() -> str:
    """The numba-cuda package's version ("none": numba's built-in CUDA target)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("numba-cuda")
    except PackageNotFoundError:
        return "none"


def numba_simulator() -> bool:
    import numba
    return bool(numba.config.ENABLE_CUDASIM)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="session counts, comma-separated")
    ap.add_argument("--seconds", type=float, default=8.0, help="target kernel seconds per size")
    ap.add_argument("--check-sessions", type=int, default=32,
                    help="sessions of the convergence check (beta 1e-4)")
    ap.add_argument("--converge", type=int, default=0,
                    help="also run this many baseline sessions to convergence (0: none)")
    ap.add_argument("--out", default=None, help="folder of the results file (default benchmarks/results)")
    args = ap.parse_args()
    from numba import cuda
    if not cuda.is_available():
        print("bench_gpu_sessions: no CUDA device (numba.cuda.is_available() is False); this "
              "benchmark needs an NVIDIA GPU and its driver. Run it on a GPU machine:\n"
              "  PYTHONPATH=. python3 benchmarks/bench_gpu_sessions.py --out DIR", file=sys.stderr)
        return 2
    import numba

    from marketsai.tabular import gpu

    name, cc, free, total = device_facts(gpu)
    versions = f"numba {numba.__version__}, numba-cuda {numba_cuda_version()}"
    log(f"device {name}, cc {cc}, {free / 2**30:.1f} of {total / 2**30:.1f} GiB free; {versions}")
    game = calvano_game()
    cfg = QLearningConfig(alpha=0.15, beta=4e-6, device="cuda")
    ga = game_arrays(game)
    per_session = gpu.session_device_bytes(ga)

    sizes = [int(float(x)) for x in args.sizes.split(",")]
    t0 = time.perf_counter()
    try:
        gpu_run(game, cfg, min(64, *sizes), 1024, gpu)  # compiles both kernels
    except Exception as err:  # noqa: BLE001 - say what failed, with the versions
        print(f"bench_gpu_sessions: the GPU kernels failed to compile or run with {versions}: "
              f"{type(err).__name__}: {err}", file=sys.stderr)
        raise
    log(f"GPU kernels compiled and run once in {time.perf_counter() - t0:.1f} s")
    n_probe = min(10_000, *sizes)
    _, probe = gpu_run(game, cfg, n_probe, 2048, gpu)
    rate = n_probe * 2048 / probe["kernel"]
    log(f"probe: {rate:.3g} periods/s at {n_probe:,} sessions")

    rows, checks = [], []
    for want in sizes:
        fits = int(0.8 * device_facts(gpu)[2]) // per_session
        n = min(want, fits)
        periods = int(np.clip(args.seconds * rate / n // 1024 * 1024, 1024, 1 << 22))
        log(f"{n:,} sessions x {periods:,} periods ...")
        st, t = gpu_run(game, cfg, n, periods, gpu)
        rate = n * periods / t["kernel"]  # the next size's periods from this size's rate
        ok = spot_check(game, cfg, st, [0, n // 2, n - 1], periods)
        checks.append(ok)
        log(f"  kernel {t['kernel']:.1f} s ({rate:.3g} periods/s), init {t['init']:.1f} s, "
            f"up {t['up']:.1f} s, down {t['down']:.1f} s; bit-identical spot check: {ok}")
        label = f"{n:,}" + ("" if n == want else f" (of {want:,}: memory)")
        rows.append([label, f"{periods:,}", f"{t['kernel']:.2f}", f"{rate:,.3g}",
                     f"{t['init']:.1f} / {t['up'] + t['down']:.1f}",
                     f"{n * periods / (t['kernel'] + t['up'] + t['down']):,.3g}",
                     "identical" if ok else "DIFFERENT"])
        del st

    cores = os.cpu_count() or 1
    periods_cpu = 1 << 18
    per_core, all_cores = cpu_rates(game, cfg, periods_cpu, cores)
    log(f"CPU engine: {per_core:.3g} periods per CPU-second, {all_cores:.3g} periods/s on {cores} cores")
    conv_ok, conv_note = convergence_check(game, args.check_sessions)
    checks.append(conv_ok)
    log(f"convergence check: {conv_ok} ({conv_note})")
    best = max(float(r[3].replace(",", "")) for r in rows)
    if args.converge:
        row, ok = converge_run(game, cfg, args.converge, per_core)
        rows.append(row)
        checks.append(ok)
    rows.append(["CPU engine, 8 sessions, 1 thread", f"{periods_cpu:,}", "", f"{per_core:,.3g}",
                 "", "", "per CPU-second"])
    rows.append([f"CPU engine, {4 * cores} sessions, {cores} threads", f"{periods_cpu:,}", "",
                 f"{all_cores:,.3g}", "", "", "wall"])
    notes = (f"Device: {name} (cc {cc[0]}.{cc[1]}, "
             f"{total / 2**30:.0f} GiB); {versions}. Economy: Calvano et al. "
             "(2020) duopoly, 15 prices, memory 1, alpha 0.15, beta 4e-6, from t = 0, no stop "
             "at convergence. Kernel periods/s = sessions x periods / kernel seconds; end to "
             "end adds the copies of the tables to and from the device (init: sessions "
             "initialised on the device, host seeding included). Best GPU rate "
             f"{best:,.3g} periods/s = {best / per_core:,.0f} CPU cores' worth "
             f"({best / all_cores:,.1f}x this machine's {cores} cores). Convergence check "
             f"(beta 1e-4, {args.check_sessions} sessions, device: cuda through init_sessions/advance): "
             f"{'identical' if conv_ok else 'DIFFERENT'} to the CPU engine; {conv_note}.")
    folder = Path(args.out) if args.out else None
    path = dated("gpu_sessions", folder=folder) if folder else None
    write_table("gpu_sessions", "GPU kernel: Calvano duopoly sessions per second",
                ["sessions", "periods each", "kernel s", "periods/s", "init s / copies s",
                 "periods/s end to end", "spot check vs CPU"], rows, notes, path=path)
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
