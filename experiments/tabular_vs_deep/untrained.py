"""Baseline for the comparison: what an *untrained* network's greedy policy measures.

A freshly initialised network already maps every observation to some price, so its
greedy play has a limit cycle, a mean price and a profit gain -- none of it learned.
This script saves a checkpoint of each algorithm before any training (same experiment
files, same seeds) and evaluates it with the same code as the trained ones, so the
trained numbers can be read against this floor.

Usage::

    python experiments/tabular_vs_deep/untrained.py --out runs/tabular_vs_deep/untrained
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/tabular_vs_deep/untrained")
    parser.add_argument("--only", default="dqn,sac_discrete,ppo,centralised_critic")
    args = parser.parse_args()

    from marketsai.economy import Economy
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.cluster import init_ray
    from marketsai.rl.envs import register_economy
    from marketsai.rl.evaluate import evaluate
    from marketsai.rl.spec import load_rl_experiment
    from marketsai.rl.train import EXPERIMENT_FILE, resolved_experiment

    out = Path(args.out).resolve()
    init_ray(num_cpus=2)
    rows = []
    for name in args.only.split(","):
        spec = load_rl_experiment(HERE / f"{name}.yaml")
        econ = Economy.from_dict(spec.economy_dict())
        run = out / name
        run.mkdir(parents=True, exist_ok=True)
        (run / EXPERIMENT_FILE).write_text(yaml.safe_dump(resolved_experiment(spec, econ), sort_keys=False))
        env = register_economy(econ)
        for seed in spec.seeds:
            algo = build_config(spec, econ, env, seed=seed).build_algo()
            ck = run / f"seed_{seed}" / "checkpoint_untrained"
            algo.save_to_path(str(ck))
            algo.stop()
            s = evaluate(ck, run / f"seed_{seed}" / "evaluation")
            rows.append({"experiment": name, "seed": seed, "profit_gain": s["profit_gain"],
                         "mean_price": s["mean_price"], "cycle_length_mean": s["cycle_length_mean"],
                         "eq_on_path_share": s.get("eq_on_path_share")})
    table = pd.DataFrame(rows)
    table.to_csv(out / "untrained.csv", index=False)
    print(table.to_string(index=False))
    print(table.groupby("experiment")[["profit_gain", "mean_price"]].agg(["mean", "std"]).to_string())


if __name__ == "__main__":
    main()
