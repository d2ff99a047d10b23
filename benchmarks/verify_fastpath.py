"""Today's engine against the kernel of commit a491037 (before the fast path) on the real
thing: the Calvano et al. (2020) baseline, 200 sessions, seed 2020.

Both run through the same front end (``marketsai.tabular.run_sessions``); the old kernel
is extracted from git into a temporary package (``benchmarks.common.baseline_kernel``)
and swapped in for its run. Per session the periods to convergence, the strategies, the
final Q-tables, states and RNG states must be identical.

    python benchmarks/verify_fastpath.py [--sessions 200] [--seed 2020]
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import baseline_kernel  # noqa: E402

from marketsai.tabular import QLearningConfig, run_sessions, sessions  # noqa: E402


def calvano():
    """The Calvano duopoly as the economy file defines it (what `make demo` runs)."""
    import marketsai as mai
    return mai.load_economy(Path(__file__).resolve().parents[1] / "economies" / "bertrand_duopoly.yaml").finite_game()


@contextmanager
def kernel_module(module):
    """Run the front end on ``module``'s ``init_kernel`` / ``advance_kernel``."""
    saved = sessions.kernel
    sessions.kernel = module
    try:
        yield
    finally:
        sessions.kernel = saved


def verify(n_sessions=200, seed=2020, threads=None):
    """Run both kernels; return a dict of the comparison (and the wall times)."""
    game, cfg = calvano(), QLearningConfig()
    out = {}
    for name, module in (("old", baseline_kernel()), ("new", sessions.kernel)):
        with kernel_module(module):
            t0 = time.time()
            out[name] = run_sessions(game, cfg, seed=seed, sessions=range(n_sessions),
                                     threads=threads, keep_q=True)
            out[name + "_wall"] = time.time() - t0
    a, b = out["old"], out["new"]
    same = {
        "periods": np.array_equal(a.periods, b.periods),
        "strategies": np.array_equal(a.strategies, b.strategies),
        "q": np.array_equal(a.final.q, b.final.q),
        "state_rng": np.array_equal(a.final.state, b.final.state)
        and np.array_equal(a.final.rng, b.final.rng),
        "profit_gain": np.array_equal(a.profit_gain, b.profit_gain),
    }
    per_session = int(sum(np.array_equal(a.strategies[k], b.strategies[k])
                          and a.periods[k] == b.periods[k] for k in range(n_sessions)))
    return {"sessions": n_sessions, "seed": seed, "identical": same,
            "sessions_identical": per_session, "periods_total": int(b.periods.sum()),
            "delta_mean": float(b.profit_gain.mean()),
            "wall_old": out["old_wall"], "wall_new": out["new_wall"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2020)
    args = ap.parse_args()
    r = verify(args.sessions, args.seed)
    print(r)
    ok = all(r["identical"].values()) and r["sessions_identical"] == r["sessions"]
    print("IDENTICAL" if ok else "DIFFERENT")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
