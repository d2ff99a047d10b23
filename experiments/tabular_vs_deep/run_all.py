"""Tabular Q-learning vs deep RL on the Calvano et al. (2020) duopoly: run and compare.

Trains every experiment file of this folder (DQN, SAC on the price grid, SAC on a price
interval, PPO, centralised critic; one Tune trial per seed), evaluates each trial's last
checkpoint with ``marketsai.rl.evaluate`` (the same analysis code as the tabular
engine) and writes a comparison::

    OUT/<experiment>/...             run folders (see marketsai.rl.train)
    OUT/comparison.csv               one row per (algorithm, seed)
    OUT/comparison.md                means over seeds, next to the tabular reference
    OUT/figures/profit_gain.png      Delta per seed and algorithm
    OUT/figures/impulse_response.png mean price paths of the deviating firm

Usage::

    python experiments/tabular_vs_deep/run_all.py --out runs/tabular_vs_deep \
        [--only dqn,ppo] [--set stop.time_total_s=60 ...] [--address ADDR]

Running it again resumes interrupted trainings and skips finished evaluations.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from marketsai.runner.references import calvano_published

HERE = Path(__file__).resolve().parent
EXPERIMENTS = ["dqn", "sac_discrete", "sac_continuous", "ppo", "centralised_critic"]

# Calvano et al. (2020), tabular Q-learning, 1000 sessions (docs/REFERENCE): the target.
TABULAR_REFERENCE = {"algorithm": "Q-learning (Calvano et al. 2020, published)", **calvano_published(),
                     "env_steps": 1.7e6}


# The same economy through our tabular engine (docs/calvano2020.md, 1000 sessions,
# deviation to the static best response on the grid).
TABULAR_OURS = {"algorithm": "Q-learning (marketsai tabular, docs/calvano2020.md)", "profit_gain": 0.848,
                "profit_gain_sd": 0.112, "mean_price": 1.7924, "pre_shock": 1.7918, "deviator_t1": 1.6106,
                "rival_t2": 1.5588}


def evaluated_trials(name: str, out: Path, sets: list[str], episodes: int | None, address: str | None = None):
    """Train (or resume) ``name``.yaml into ``out/name``, then yield ``(spec, trial, summary,
    ev_dir, wall)`` for every trial with a checkpoint; evaluations already on disk are read,
    not redone. ``wall`` is the training call's wall time."""
    from marketsai.rl.evaluate import evaluate
    from marketsai.rl.spec import load_rl_experiment
    from marketsai.rl.train import train

    spec = load_rl_experiment(HERE / f"{name}.yaml", sets)
    started = time.time()
    trials = train(spec, out / name, address=address, verbose=0)
    wall = time.time() - started
    print(f"[{name}] {len(trials)} trial(s) trained/resumed in {wall:.0f} s", flush=True)
    for _, trial in trials.iterrows():
        if not isinstance(trial["checkpoint"], str):
            print(f"[{name}] seed {trial['seed']}: no checkpoint ({trial.get('error')})", flush=True)
            continue
        ev_dir = out / name / "evaluation" / f"seed_{trial['seed']}"
        if (ev_dir / "summary.json").is_file():
            summary = json.loads((ev_dir / "summary.json").read_text())
        else:
            summary = evaluate(trial["checkpoint"], ev_dir, episodes=episodes)
        yield spec, trial, summary, ev_dir, wall


def run(out: Path, only: list[str], sets: list[str], address: str | None, episodes: int | None) -> pd.DataFrame:
    rows = []
    for name in only:
        for _, trial, summary, _, wall in evaluated_trials(name, out, sets, episodes, address):
            imp = {"pre_shock": summary["impulse_best_response_pre_shock"],
                   "deviator_t1": summary["impulse_best_response_t1_deviator"],
                   "rival_t2": summary["impulse_best_response_t2_rival"],
                   "deviator_last": summary["impulse_best_response_deviator"][-1],
                   "rival_last": summary["impulse_best_response_rival"][-1]}
            rows.append({"experiment": name, "algorithm": summary["algorithm"], "seed": trial["seed"],
                         "profit_gain": summary["profit_gain"],
                         "profit_gain_sd_episodes": summary["profit_gain_sd"],
                         "mean_price": summary["mean_price"],
                         "cycle_length_mean": summary.get("cycle_length_mean"),
                         "eq_on_path_share": summary.get("eq_on_path_share"),
                         "pre_shock": imp["pre_shock"], "deviator_t1": imp["deviator_t1"],
                         "rival_t2": imp["rival_t2"], "deviator_last": imp["deviator_last"],
                         "rival_last": imp["rival_last"],
                         "env_steps": trial["env_steps"], "iterations": trial["iterations"],
                         "train_time_s": trial["time_total_s"], "experiment_wall_s": wall})
            print(f"[{name}] seed {trial['seed']}: Delta {summary['profit_gain']:.3f}, "
                  f"price {summary['mean_price']:.4f}", flush=True)
    table = pd.DataFrame(rows)
    if not table.empty:
        old = out / "comparison.csv"
        if old.is_file():  # keep rows of experiments not run this time
            prev = pd.read_csv(old)
            table = pd.concat([prev[~prev["experiment"].isin(only)], table], ignore_index=True)
        table.to_csv(out / "comparison.csv", index=False)
    return table


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Means over seeds (and the seed-to-seed SD of Delta) per experiment."""
    g = table.groupby("experiment", sort=False)
    agg = g.agg(seeds=("seed", "count"), profit_gain=("profit_gain", "mean"),
                profit_gain_sd_seeds=("profit_gain", "std"), mean_price=("mean_price", "mean"),
                cycle_length=("cycle_length_mean", "mean"), eq_on_path=("eq_on_path_share", "mean"),
                pre_shock=("pre_shock", "mean"), deviator_t1=("deviator_t1", "mean"),
                rival_t2=("rival_t2", "mean"), rival_last=("rival_last", "mean"),
                env_steps=("env_steps", "mean"), train_time_s=("train_time_s", "mean"))
    return agg.reset_index()


def write_report(out: Path, table: pd.DataFrame) -> None:
    from matplotlib.figure import Figure

    agg = summarise(table)
    lines = ["| experiment | seeds | Delta (mean over seeds) | SD over seeds | mean price | cycle length | "
             "Nash on path | impulse: pre-shock / deviator t=1 / rival t=2 / rival t=15 | env steps / trial | "
             "train s / trial |", "|" + "---|" * 10]
    for _, r in agg.iterrows():
        def f(x, d=3):
            return "n/a" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{d}f}"
        lines.append(f"| {r['experiment']} | {r['seeds']} | {f(r['profit_gain'])} | {f(r['profit_gain_sd_seeds'])} | "
                     f"{f(r['mean_price'], 4)} | {f(r['cycle_length'], 2)} | {f(r['eq_on_path'], 2)} | "
                     f"{f(r['pre_shock'], 4)} / {f(r['deviator_t1'], 4)} / {f(r['rival_t2'], 4)} / "
                     f"{f(r['rival_last'], 4)} | {r['env_steps']:.0f} | {r['train_time_s']:.0f} |")
    ours = TABULAR_OURS
    lines.append(f"| {ours['algorithm']} | 1000 sessions | {ours['profit_gain']} | {ours['profit_gain_sd']} (across sessions) "
                 f"| {ours['mean_price']} | 62.6% length 1 | -- | {ours['pre_shock']} / {ours['deviator_t1']} / "
                 f"{ours['rival_t2']} / ~1.79 | ~1.87 million (to convergence) | -- |")
    ref = TABULAR_REFERENCE
    lines.append(f"| {ref['algorithm']} | 1000 sessions | {ref['profit_gain']} | {ref['profit_gain_sd']} (across sessions) "
                 f"| -- | 64% length 1 | -- | {ref['pre_shock']} / {ref['deviator_t1']} / {ref['rival_t2']} / ~1.79 "
                 f"| ~1.7 million | -- |")
    (out / "comparison.md").write_text("\n".join(lines) + "\n")

    (out / "figures").mkdir(exist_ok=True)
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    names = list(agg["experiment"])
    for k, name in enumerate(names):
        y = table.loc[table["experiment"] == name, "profit_gain"]
        ax.scatter(np.full(len(y), k), y, color="tab:blue")
    ax.axhline(ref["profit_gain"], color="tab:red", ls="--", lw=1, label="tabular Q-learning (Calvano et al.)")
    ax.axhline(0.0, color="grey", lw=1)
    ax.set_xticks(range(len(names)), names, rotation=20)
    ax.set_ylabel("profit gain Delta (per seed)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "figures" / "profit_gain.png", dpi=120)

    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    for name in names:
        paths = []
        for seed_dir in sorted((out / name / "evaluation").glob("seed_*")):
            imp = pd.read_csv(seed_dir / "impulse.csv")
            paths.append(imp[imp["role"] == "deviator"].sort_values("t")["mean"].to_numpy())
        if paths:
            ax.plot(np.mean(paths, axis=0), marker="o", ms=3, label=f"{name} (deviator)")
    ax.plot([ref["pre_shock"], ref["deviator_t1"], 1.58, 1.64, 1.69, 1.73, 1.76, 1.78, 1.79],
            color="k", ls="--", label="tabular, Calvano et al. Fig. 4 (deviator, approx.)")
    ax.set_xlabel("t (0 = before the shock, 1 = deviation)")
    ax.set_ylabel("price")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "figures" / "impulse_response.png", dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/tabular_vs_deep")
    parser.add_argument("--only", default=",".join(EXPERIMENTS))
    parser.add_argument("--set", dest="sets", action="append", default=[])
    parser.add_argument("--address", default=None)
    parser.add_argument("--episodes", type=int, default=None)
    parser.add_argument("--report-only", action="store_true",
                        help="only redraw comparison.md and figures from comparison.csv")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    if not args.report_only:
        run(out, only, args.sets, args.address, args.episodes)
    table = pd.read_csv(out / "comparison.csv")
    write_report(out, table)
    print((out / "comparison.md").read_text())


if __name__ == "__main__":
    main()
