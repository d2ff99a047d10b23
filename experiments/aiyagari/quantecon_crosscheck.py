"""Cross-check of our Aiyagari solver against QuantEcon's DiscreteDP on the lecture's setup.

QuantEcon's Aiyagari lecture (Sargent & Stachurski, "The Aiyagari Model", QuantEcon
lectures) states the household problem as a ``quantecon.markov.DiscreteDP``: state
``(a, z)`` with ``a`` on a uniform grid of 200 points on ``[0, 20]``, action ``a'`` on the
same grid, reward ``log(w z + (1 + r) a - a')`` where positive, ``z`` in ``{0.1, 1.0}`` with
``P = [[0.9, 0.1], [0.1, 0.9]]``, ``beta = 0.96``; the firm has ``A = 1``, ``N = 1``,
``alpha = 0.33``, ``delta = 0.05``.  Capital supply at ``r`` is the mean asset of the
stationary distribution of the controlled chain (``results.mc``); the equilibrium is the
``r`` where it meets ``K_d(r) = N (A alpha / (r + delta))^(1/(1-alpha))`` -- the same
market-clearing condition as :func:`marketsai.solvers.aiyagari.solve_aiyagari`, here
found by bisection.  (The lecture plots the two curves; we do not quote numbers from it.)

``a'`` is restricted to the grid, so ``K_s(r)`` is a step function of ``r``: the crossing
is located to ``xtol`` and ``K`` is the firm's demand there (inside the step).  We write
it with a sparse ``Q`` (the state-action-pair form) so that ``Q`` is not a dense
``400 x 200 x 400`` array, and solve by policy iteration (exact for the grid).

Usage::

    .venv/bin/python experiments/aiyagari/quantecon_crosscheck.py   # writes results/quantecon_crosscheck.{md,json}
    .venv/bin/python experiments/aiyagari/quantecon_crosscheck.py --refine   # + DiscreteDP on 2x and 4x
        the points and ours on finer grids (the grid errors; about 10 min)
    .venv/bin/python experiments/aiyagari/quantecon_crosscheck.py --report-only   # .md from .json
"""

from __future__ import annotations

import json
import pathlib
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent

LECTURE = {"beta": 0.96, "alpha": 0.33, "delta": 0.05, "tfp": 1.0, "z_values": (0.1, 1.0),
           "P": ((0.9, 0.1), (0.1, 0.9)), "a_max": 20.0, "n_grid": 200}


def ddp_capital_supply(r, beta, alpha, delta, tfp, z_values, P, a_max, n_grid, N, a_min=0.0, gamma=1.0):
    """Mean assets of the stationary distribution of the DiscreteDP household at ``r``
    (assets on ``n_grid`` points of ``[a_min, a_max]``, CRRA ``gamma``)."""
    import scipy.sparse as sp
    from quantecon.markov import DiscreteDP

    z, P = np.asarray(z_values, float), np.asarray(P, float)
    n_z = z.size
    a = np.linspace(a_min, a_max, n_grid)
    w = (1.0 - alpha) * tfp * (alpha * tfp / (r + delta)) ** (alpha / (1.0 - alpha))
    # states s = i_a * n_z + i_z, actions = index of a'
    cash = (1.0 + r) * np.repeat(a, n_z) + w * np.tile(z, n_grid)
    c = cash[:, None] - a[None, :]
    s_idx, a_idx = np.nonzero(c > 0)
    cc = c[s_idx, a_idx]
    R = np.log(cc) if gamma == 1.0 else cc ** (1.0 - gamma) / (1.0 - gamma)
    iz = s_idx % n_z
    rows = np.repeat(np.arange(s_idx.size), n_z)
    cols = (a_idx[:, None] * n_z + np.arange(n_z)[None, :]).ravel()
    Q = sp.csr_matrix((P[iz].ravel(), (rows, cols)), shape=(s_idx.size, n_grid * n_z))
    ddp = DiscreteDP(R, Q, beta, s_idx, a_idx)
    res = ddp.solve(method="policy_iteration")
    pi = res.mc.stationary_distributions[0]
    return float(pi @ np.repeat(a, n_z)), res


def ddp_equilibrium(beta=0.96, alpha=0.33, delta=0.05, tfp=1.0, z_values=(0.1, 1.0),
                    P=((0.9, 0.1), (0.1, 0.9)), a_max=20.0, n_grid=200, N=1.0, xtol=1e-8,
                    a_min=0.0, gamma=1.0):
    """``(r, K, w, steps)`` where DiscreteDP's capital supply crosses the firm's demand."""
    args = (beta, alpha, delta, tfp, z_values, P, a_max, n_grid, N, a_min, gamma)

    def demand(r):
        return N * (alpha * tfp / (r + delta)) ** (1.0 / (1.0 - alpha))

    lo = alpha * tfp * (N / (2.0 * a_max)) ** (1.0 - alpha) - delta  # demand 2 a_max: excess > 0
    hi = 1.0 / beta - 1.0
    steps = 0
    while hi - lo > xtol:
        mid = 0.5 * (lo + hi)
        if demand(mid) > ddp_capital_supply(mid, *args)[0]:  # lo/hi: a_min > -w z_min / r throughout
            lo = mid
        else:
            hi = mid
        steps += 1
    r = 0.5 * (lo + hi)
    K = float(demand(r))
    w = (1.0 - alpha) * tfp * (K / N) ** alpha
    return {"r": r, "K": K, "w": w, "K_supply_below": ddp_capital_supply(lo, *args)[0],
            "K_supply_above": ddp_capital_supply(hi, *args)[0], "steps": steps}


def ours(labour, a_max=20.0, **kw):
    from marketsai.solvers.aiyagari import AiyagariModel, solve_aiyagari

    p = {k: v for k, v in LECTURE.items() if k != "n_grid"}
    p["a_max"] = a_max
    sol = solve_aiyagari(AiyagariModel(labour=labour, **{**p, **kw}))
    return {"r": sol.r, "K": sol.K, "w": sol.w, "excess_demand": sol.excess_demand,
            "at_cap": sol.at_cap, "wall_time_s": sol.wall_time}


#: (label, N, borrowing limit phi, gamma, DiscreteDP grid sizes on [-phi, 20], also a_max 40)
SETUPS = (("lecture (N = 1)", 1.0, 0.0, 1.0, (200, 400, 800), True),
          ("labour market clears (L = E z = 0.55)", 0.55, 0.0, 1.0, (200, 400, 800), True),
          ("L = 0.55, a >= -1, gamma = 2", 0.55, 1.0, 2.0, (211, 421, 841), False))


def crosscheck(label, N, phi, gamma, sizes, a40, refine):
    """Rows ``(solver, result)`` of one setup."""
    ddp = {"a_min": -phi, "gamma": gamma}
    mine = {"borrowing_limit": phi, "gamma": gamma}
    lo = f"{-phi:g}" if phi else "0"
    out = []
    for n in sizes if refine else sizes[:1]:
        t0 = time.perf_counter()
        q = ddp_equilibrium(N=N, n_grid=n, **ddp)
        q["wall_time_s"] = time.perf_counter() - t0
        out.append((f"QuantEcon DiscreteDP, {n} points on [{lo}, 20]", q))
    ours(N, **mine)  # compile
    out.append(("ours (EGM 200 nodes, histogram 1,000 points), a_max 20", ours(N, **mine)))
    if refine:
        out.append(("ours (EGM 800 nodes, histogram 8,000 points), a_max 20",
                    ours(N, n_a=800, n_dist=8000, **mine)))
    if a40:
        t0 = time.perf_counter()
        q = ddp_equilibrium(N=N, a_max=40.0, n_grid=400, **ddp)
        q["wall_time_s"] = time.perf_counter() - t0
        out.append((f"QuantEcon DiscreteDP, 400 points on [{lo}, 40]", q))
        out.append(("ours, a_max 40", ours(N, a_max=40.0, **mine)))
    return out


def main():
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--refine", action="store_true",
                    help="also DiscreteDP on 2x and 4x the points, ours on finer grids")
    ap.add_argument("--report-only", action="store_true", help="rewrite the .md from the .json")
    args = ap.parse_args()
    path = HERE / "results" / "quantecon_crosscheck.json"
    if args.report_only:
        rows = json.loads(path.read_text())
    else:
        rows = [{"setup": s[0], "N": s[1], "borrowing_limit": s[2], "gamma": s[3],
                 "results": crosscheck(*s, args.refine)} for s in SETUPS]
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(rows, indent=2))
    lines = ["| setup | solver | r | K | w | mass at a_max | wall (s) |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        for name, v in row["results"]:
            cap = f"{v['at_cap']:.4f}" if "at_cap" in v else ""
            wall = f"{v['wall_time_s']:.2f}" if "wall_time_s" in v else ""
            lines.append(f"| {row['setup']} | {name} | {v['r']:.6f} | {v['K']:.4f} | {v['w']:.4f} | {cap} "
                         f"| {wall} |")
    (HERE / "results" / "quantecon_crosscheck.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
