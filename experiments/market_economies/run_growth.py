"""Train PPO and SAC households on the market solution of the growth model, then score them.

The economy is ``economies/growth_market.yaml``: N households (one shared policy) rent
capital and labour to one competitive firm and buy its output. In the Brock--Mirman
calibration (log utility, full depreciation) the competitive equilibrium is the planner's
solution: in the symmetric equilibrium each household saves ``alpha beta = 0.342`` of its
cash on hand. Each run is ``marketsai train FILE --set economy.agents[0].count=N
--set env.sessions=S`` (S sessions x N households as one VectorEnv), unless its run
folder already holds a finished ``trials.csv`` (then it is only read). The planner economy
(``economies/brock_mirman_share.yaml``) is trained with the same files and budget.

Every trial's last checkpoint is scored by :mod:`marketsai.analysis`
(:func:`~marketsai.analysis.households.market_report` for households,
:func:`~marketsai.analysis.growth_policy.growth_report` for the planner); rows for the exact
policy and an untrained network put the numbers on a scale.

Usage::

    python experiments/market_economies/run_growth.py                      # train + evaluate
    python experiments/market_economies/run_growth.py --only sac:10 --set stop.time_total_s=60
    python experiments/market_economies/run_growth.py --only ppo:100:8     # algorithm:N:sessions
    python experiments/market_economies/run_growth.py --train-only

Writes ``experiments/market_economies/results/growth_market.csv`` and ``.md``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from marketsai.analysis.tables import markdown_table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MARKET = ROOT / "economies" / "growth_market.yaml"
PLANNER = ROOT / "economies" / "brock_mirman_share.yaml"
#: (algorithm, N) -> sessions: about 64-100 sub-environments a step whatever N
#: (N = 0 is the planner economy)
SESSIONS = {1: 64, 10: 8, 100: 1, 0: 64}
#: runs ``algorithm:N`` (default sessions) or ``algorithm:N:S``; the last one is an ablation
#: (PPO, N = 100 with 8 sessions: more aggregate paths a batch)
RUNS = tuple(f"{a}:{n}" for a in ("ppo", "sac") for n in (1, 10, 100, 0)) + ("ppo:100:8",)
#: the stacked population (growth_ppo_stacked.yaml, docs/scaling.md): one RLlib sub-environment
#: a session (N = 10: blocks of 8 sessions), initial capital drawn around a common level per session
STACKED = {"ppo_stacked:100:8": [], "ppo_stacked:10:64": ["env.block=8"]}
RUNS += tuple(STACKED)
STACKED_SETS = ["economy.agents[0].state.k.dispersion=0.2"]


def parse(run: str) -> tuple[str, int, int]:
    alg, n, *s = run.split(":")
    return alg, int(n), int(s[0]) if s else SESSIONS[int(n)]
COLUMNS = ("economy", "algorithm", "N", "sessions", "env_steps", "train_s", "wall_s", "share_err_mean",
           "share_err_max", "share_min", "share_max", "grid_err_mean", "grid_err_max",
           "K_mean", "K_mean_exact", "K_err", "euler_ergodic_mean", "euler_ergodic_max",
           "welfare_loss_pct")


def run_name(run: str) -> str:
    alg, n, s = parse(run)
    name = f"{alg}_planner" if n == 0 else f"{alg}_N{n}"
    return name if s == SESSIONS[n] else f"{name}_s{s}"


def train(run: str, out: Path, overrides: list[str]) -> pd.DataFrame:
    alg, n, sessions = parse(run)
    folder = out / run_name(run)
    if (folder / "results.parquet").is_file() and not (folder / "trials.csv").is_file():
        done = pd.read_parquet(folder / "results.parquet")  # a `marketsai run` folder
        return done.assign(checkpoint=[str(folder / c) for c in done["checkpoint"]])
    if not (folder / "trials.csv").is_file():
        cmd = [sys.executable, "-m", "marketsai.cli", "train", str(HERE / f"growth_{alg}.yaml"),
               "--out", str(folder), "--num-cpus", "2", "--quiet", "--set", f"env.sessions={sessions}"]
        cmd += ["--set", f"economy={PLANNER}"] if n == 0 else ["--set", f"economy.agents[0].count={n}"]
        for o in (STACKED.get(run, []) + STACKED_SETS if run in STACKED else []) + overrides:
            cmd += ["--set", o]
        started = time.time()
        subprocess.run(cmd, cwd=ROOT, check=True,
                       env=dict(os.environ, RAY_USAGE_STATS_ENABLED="0", OMP_NUM_THREADS="1"))
        print(f"{run_name(run)}: trained in {time.time() - started:.0f} s wall", flush=True)
    return pd.read_csv(folder / "trials.csv")




def market_economy(n: int):
    import yaml

    import marketsai as mai
    data = yaml.safe_load(MARKET.read_text())
    data["agents"][0]["count"] = n
    return mai.Economy.from_dict(data, file=MARKET)


def score(econ, act, planner: bool) -> dict:
    from marketsai.analysis.growth_policy import growth_report, planner_capital, policy_savings
    from marketsai.analysis.households import market_report
    if planner:
        return {**growth_report(econ, policy_savings(econ, act)), **planner_capital(econ, act)}
    return market_report(econ, act)


def exact_actor(econ, planner: bool):
    """The exact rule as a policy: alpha beta for the planner, the price-taker's share for households."""
    from marketsai.analysis.households import exact_household_actor
    if planner:
        p = econ.entries[0].kind.p
        return lambda obs: np.full((len(obs), 1), p["alpha"] * econ.discount)
    return exact_household_actor(econ)




def formatted(table: pd.DataFrame) -> pd.DataFrame:
    md = table.copy().astype(object)

    def fmt(col, f):
        md[col] = [f(v) if isinstance(v, (int, float, np.floating, np.integer)) and np.isfinite(v) else ""
                   for v in table[col]]
    for c in ("share_err_mean", "share_err_max", "grid_err_mean", "grid_err_max", "K_err"):
        fmt(c, lambda v: f"{100 * v:.2f}%")
    for c in ("share_min", "share_max"):
        fmt(c, lambda v: f"{v:.4f}")
    for c in ("K_mean", "K_mean_exact"):
        fmt(c, lambda v: f"{v:.5f}")
    for c in ("euler_ergodic_mean", "euler_ergodic_max"):
        fmt(c, lambda v: f"{v:.2f}")
    fmt("welfare_loss_pct", lambda v: f"{v:.4f}")
    for c in ("train_s", "wall_s"):
        fmt(c, lambda v: f"{v:.0f}")
    for c in ("env_steps", "N", "sessions"):
        fmt(c, lambda v: f"{int(v):,}")
    return md


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "runs" / "market_economies"), help="run folders")
    parser.add_argument("--only", nargs="+", default=list(RUNS), choices=RUNS,
                        help="runs algorithm:N (N = 0: the planner economy)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="override for every run (key.sub=value)")
    parser.add_argument("--train-only", action="store_true")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    trials = {run: train(run, out, args.overrides) for run in args.only}
    if args.train_only:
        return pd.DataFrame()

    import marketsai as mai
    from marketsai.rl.export import load_module
    from marketsai.rl.policy import module_actor, untrained_actor

    planner = mai.load_economy(PLANNER)
    rows = []
    for n in (1, 10, 100):
        econ = market_economy(n)
        base = {"economy": "growth_market", "N": n}
        rows.append({**base, "algorithm": "exact (alpha beta)", **score(econ, exact_actor(econ, False), False)})
        if n == 10:
            rows.append({**base, "algorithm": "untrained network", **score(econ, untrained_actor(econ), False)})
    base = {"economy": "brock_mirman_share (planner)", "N": 1}
    rows.append({**base, "algorithm": "exact (alpha beta)", **score(planner, exact_actor(planner, True), True)})
    rows.append({**base, "algorithm": "untrained network", **score(planner, untrained_actor(planner), True)})
    for run, t in trials.items():
        alg, n, sessions = parse(run)
        econ = planner if n == 0 else market_economy(n)
        for _, trial in t.iterrows():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # our own checkpoints
                module = load_module(trial["checkpoint"])
            rows.append({"economy": "brock_mirman_share (planner)" if n == 0 else "growth_market",
                         "algorithm": alg.upper(), "N": max(n, 1), "sessions": sessions,
                         # household-steps (a stacked run counts session-periods of N households)
                         "env_steps": int(trial["env_steps"]) * (n if run in STACKED else 1), "train_s": float(trial["time_total_s"]),
                         "wall_s": float(trial["wall_s"]),
                         **score(econ, module_actor(module), n == 0)})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    res = Path(args.results)
    res.mkdir(parents=True, exist_ok=True)
    table.to_csv(res / "growth_market.csv", index=False)
    text = markdown_table(formatted(table))
    (res / "growth_market.md").write_text(text + "\n")
    print(text)
    return table


if __name__ == "__main__":
    main()
