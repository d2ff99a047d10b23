"""What the peer baseline (``env.peer_baseline``) costs in Krusell–Smith: its O(1/N) bias, measured.

The peer baseline subtracts from a household's return the mean return of the other
households of its session. Sessions never interact, but households do, through prices: a
household that saves more raises next period's capital, lowers the interest rate and raises
the wage of everyone. So the baseline is not independent of the household's own action and
the policy gradient learns the maximiser of ``Q_own(s, a) - Q_peers(s, a)`` instead of
``Q_own(s, a)``. This script measures the two derivatives along the reference policy's
economy and the shift of the household's saved share that the extra term causes,
``da = Q_peers'(a) / Q_own''(a)`` (first order: at the biased optimum
``Q_own' = Q_peers'``), for N = 100 and 1,000 households.

How: sessions burn in ``--burn`` periods under the reference policy
(:func:`marketsai.analysis.krusell_smith.reference_actor`, the policy the evaluation
scores against); then household 0 of every session saves ``a + eps``, ``a`` or ``a - eps``
in the first period, everyone (household 0 included) follows the reference afterwards,
with the same random numbers in the three runs (the draws do not depend on actions), and
the discounted returns over ``--horizon`` periods give the derivatives by central
differences, averaged over sessions. Everything is in the economy's own step, so the
prices move exactly as in training. ``peers`` is ``env.peer_baseline: all``; ``peers_e``
the mean, period by period, of the households with household 0's employment (``e``).

Result (``results/peer_baseline_bias.json``; 80 households at N = 100, 8 at N = 1,000):
the bias is O(1/N), small at N = 100 but not nothing. ``dQ_peers/da`` is +0.0058 (sd
0.0038) at N = 100 and +0.00052 at N = 1,000 (a tenth: O(1/N)), against ``d2Q_own/da2`` of
about -200, so the biased optimum saves 2.3e-5 less of cash on hand (at most 4.8e-5; the
same for ``all`` and ``e``): consumption +0.036 % on average, at most +0.074 %. That is
thirty times below today's learned policies' consumption errors (~1 %, Euler log10 -2),
about a third of the issue's Euler goal (10^-3), near the reference policy's own Euler
error at N = 100 (10^-3.55), and, through docs/krusell_smith.md's rule of thumb (K moves
~17 % per 1 % of the share), about 0.04 % of mean capital against the 1 % goal. The
policy is called one session at a time: ``reference_actor`` prices a call at one mean
capital (called on all sessions at once it mis-prices all but one, and overstated
``dQ_peers/da`` forty-fold in a first try).

    .venv/bin/python experiments/krusell_smith/peer_baseline_bias.py --rows 8000
    # N = 100 and 1,000: about 50 CPU s in all (4.5 min wall on the loaded 2-core machine)
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np

import marketsai as mai
from marketsai.analysis.krusell_smith import action_bounds, reference_actor, reference_solution
from marketsai.dynamics import exo_values
from marketsai.solvers.krusell_smith import KrusellSmithModel

HERE = pathlib.Path(__file__).resolve().parent


def _economy(n: int):
    d = mai.load_economy(HERE.parents[1] / "economies" / "krusell_smith.yaml").to_dict()
    d["agents"][0]["count"] = n
    return mai.Economy.from_dict(d)


def _act(act, obs: np.ndarray) -> np.ndarray:
    """The reference policy's shares ``(B, N)`` for observations ``(B, N, d)``, one call a session:
    :func:`~marketsai.analysis.krusell_smith.reference_actor` prices a call at one mean capital,
    so sessions (each with its own ``K``) must not share a call."""
    return np.stack([np.asarray(act(o), np.float64).reshape(-1) for o in obs])


def _returns(econ, act, state, first: np.ndarray, horizon: int, seed: int) -> dict:
    """Discounted returns ``(B,)`` over ``horizon`` periods from ``state`` under the reference
    policy ``act``, except household 0's share ``first`` ``(B,)`` in the first period: household
    0's own (``own``), the mean of the other households' (``peers``: ``env.peer_baseline: all``)
    and, period by period, of those with household 0's employment (``peers_e``: ``e``; all the
    others in a period when it has none)."""
    rng = np.random.default_rng(seed)
    cols = np.stack([econ.layout.agent_cols[i] for i in econ.actor_index]).ravel()
    B = state.batch
    out = {k: np.zeros(B) for k in ("own", "peers", "peers_e")}
    disc = 1.0
    for t in range(horizon):
        e = np.asarray(exo_values(econ, state)["e"])[:, econ.actor_index]  # the employment acted on
        share = _act(act, econ.observer.observe_actors(state))
        if t == 0:
            share[:, 0] = first
        values = np.zeros((B, len(econ.decisions)))
        values[:, cols] = share
        state, rewards, _ = econ.step(state, values, rng)
        r = rewards[:, econ.actor_index]
        same = e[:, 1:] == e[:, :1]
        alone = ~same.any(axis=1)
        same[alone] = True
        out["own"] += disc * r[:, 0]
        out["peers"] += disc * r[:, 1:].mean(axis=1)
        out["peers_e"] += disc * (r[:, 1:] * same).sum(axis=1) / same.sum(axis=1)
        disc *= float(econ.spec.discount)
    return out


def measure(n: int, sessions: int, burn: int, horizon: int, eps: float, seed: int) -> dict:
    econ = _economy(n)
    act = reference_actor(econ, reference_solution(KrusellSmithModel.from_economy(econ)).policy)
    rng = np.random.default_rng(seed)
    state = econ.initial_state(rng, sessions)
    cols = np.stack([econ.layout.agent_cols[i] for i in econ.actor_index]).ravel()
    for _ in range(burn):  # to the reference policy's ergodic set
        values = np.zeros((sessions, len(econ.decisions)))
        values[:, cols] = _act(act, econ.observer.observe_actors(state))
        state, _, _ = econ.step(state, values, rng)
    a0 = _act(act, econ.observer.observe_actors(state))[:, 0]
    runs = {d: _returns(econ, act, state, a0 + d * eps, horizon, seed + 1) for d in (-1, 0, 1)}
    low, high = action_bounds(econ)
    inside = (a0 - eps > low) & (a0 + eps < high)  # a clipped perturbation has no derivative

    def slope(key):
        return ((runs[1][key] - runs[-1][key]) / (2 * eps))[inside]
    dd_own = ((runs[1]["own"] - 2 * runs[0]["own"] + runs[-1]["own"]) / eps ** 2)[inside]
    row = {"households": n, "sessions": sessions, "measured": int(inside.sum()), "burn": burn,
           "horizon": horizon, "eps": eps, "share_mean": float(a0[inside].mean()),
           "dQ_own_da_mean": float(slope("own").mean()), "dQ_own_da_sd": float(slope("own").std()),
           "d2Q_own_da2_median": float(np.median(dd_own))}
    for key, name in (("peers", "all"), ("peers_e", "e")):
        d = slope(key)
        shift = d / dd_own  # each household's biased optimum: Q_own' - Q_peers' = 0, to first order
        consumption = -shift / (1.0 - a0[inside])  # relative change of consumption c = (1 - a) cash
        row |= {f"dQ_peers_{name}_da_mean": float(d.mean()), f"dQ_peers_{name}_da_sd": float(d.std()),
                f"share_shift_{name}_mean": float(shift.mean()),
                f"share_shift_{name}_absmax": float(np.abs(shift).max()),
                f"consumption_shift_{name}_mean": float(consumption.mean()),
                f"consumption_shift_{name}_absmax": float(np.abs(consumption).max())}
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--households", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--rows", type=int, default=8000, help="sessions x households per N (at least 2 sessions)")
    ap.add_argument("--burn", type=int, default=100)
    ap.add_argument("--horizon", type=int, default=300)
    ap.add_argument("--eps", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(HERE / "results" / "peer_baseline_bias.json"))
    args = ap.parse_args(argv)
    rows = [measure(n, max(2, args.rows // n), args.burn, args.horizon, args.eps, args.seed)
            for n in args.households]
    for r in rows:
        print(f"N = {r['households']:>5} ({r['measured']} households): share {r['share_mean']:.4f}  "
              f"dQ_own/da {r['dQ_own_da_mean']:+.3f} (sd {r['dQ_own_da_sd']:.3f})  "
              f"d2Q_own/da2 median {r['d2Q_own_da2_median']:+.1f}")
        for name in ("all", "e"):
            print(f"  peers {name:>3}: dQ_peers/da {r[f'dQ_peers_{name}_da_mean']:+.5f} "
                  f"(sd {r[f'dQ_peers_{name}_da_sd']:.5f})  share shift mean {r[f'share_shift_{name}_mean']:+.2e} "
                  f"(max |.| {r[f'share_shift_{name}_absmax']:.2e})  consumption shift mean "
                  f"{r[f'consumption_shift_{name}_mean']:+.2e} (max |.| {r[f'consumption_shift_{name}_absmax']:.2e})")
    pathlib.Path(args.out).write_text(json.dumps({"command": "experiments/krusell_smith/peer_baseline_bias.py "
                                                  + " ".join(argv if argv is not None else sys.argv[1:]),
                                                  "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
