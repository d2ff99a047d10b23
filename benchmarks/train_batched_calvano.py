"""A short batched DQN training on the Calvano duopoly, evaluated per seed (``calvano``).

Why: to show that ``dqn_batched`` learns something on the economy it is built for, with the
untrained networks of the same seeds as the floor. ``S`` seeds train as one batch
(``policies: agent``: 2 S networks); each seed's greedy policy goes through
:func:`marketsai.analysis.evaluations.run_evaluation` (``calvano``: limit cycles from 100
random start states, profit gain Delta, equilibrium check). No claim beyond the table.

Usage: ``python benchmarks/train_batched_calvano.py [--seeds 8] [--periods 30000]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import dated, machine, single_threaded

ROOT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--periods", type=int, default=30_000)
    parser.add_argument("--decay", type=int, default=20_000, help="periods over which epsilon falls 1 -> 0.02")
    args = parser.parse_args()
    single_threaded()
    from marketsai.analysis.evaluations import run_evaluation
    from marketsai.economy import load_economy
    from marketsai.params import validate_mapping
    from marketsai.rl.batched_dqn import SETTINGS, BatchedRun, train_batched

    econ = load_economy(ROOT / "economies" / "bertrand_duopoly.yaml")
    given = {"periods": args.periods, "epsilon": [[0, 1.0], [args.decay, 0.02]], "checkpoint_every": 0}
    cfg = validate_mapping(given, SETTINGS, "learner.settings", "settings")
    seeds = list(range(args.seeds))
    ev = {"episodes": 100, "impulse_response": []}
    floor = [run_evaluation("calvano", econ, p, ev, seed=0).tables["results"] for p in BatchedRun(econ, cfg, seeds).policies()]
    t = time.perf_counter()
    pols = train_batched(econ, cfg, seeds).policies()
    wall = time.perf_counter() - t
    rows = []
    for seed, pol, base in zip(seeds, pols, floor, strict=True):
        res = run_evaluation("calvano", econ, pol, ev, seed=0).tables["results"]
        eq = res["eq_on_path"].mean()
        rows.append(f"| {seed} | {res['profit_gain'].mean():.3f} | {base['profit_gain'].mean():.3f} | "
                    f"{res['mean_price'].mean():.3f} | {res['cycle_length'].mean():.2f} | {eq:.2f} |")
    text = "\n".join([
        f"# dqn_batched on the Calvano duopoly: {args.seeds} seeds as one batch", "",
        f"Machine: {machine()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; torch 1 thread.", "",
        f"Settings: {given} (else the defaults of `dqn_batched`: 64x64, batch 64, lr 5e-4, Huber, double-Q, "
        "target every 500 periods, learning after 1,000, one session per seed, one update per period). "
        f"Wall time of the batched training: {wall:.0f} s ({args.periods * args.seeds / wall:,.0f} seed-periods/s).",
        "", "Per seed, the `calvano` evaluation from 100 random start states (mean over them): Delta of the "
        "trained greedy policies and of the same seed's untrained networks (the floor), mean price, cycle length, "
        "share of starts at whose limit cycle every firm best-responds (`eq_on_path`, against the true Q* of the other's greedy strategy).", "",
        "| seed | Delta trained | Delta untrained | mean price | cycle length | eq_on_path |", "|---|---|---|---|---|---|",
        *rows, ""])
    out = dated("batched_seeds_calvano")
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
