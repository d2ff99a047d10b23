"""Train PPO and SAC on Brock-Mirman (continuous savings share), then score every trial.

Each experiment file here is trained with ``marketsai train`` (Ray Tune; one trial per
seed; the economy's sessions batched as one VectorEnv through ``env.sessions``), unless
its run folder already holds a finished ``trials.csv`` (then it is only read). Every
trial's last checkpoint is read as a savings rule by :mod:`marketsai.analysis.growth_policy`
(deterministic action through the economy's own observations) and scored by the shared
measures of :mod:`marketsai.analysis.euler`. Rows for the closed form and for an
untrained PPO network put the numbers on a scale.

Usage::

    python experiments/growth_deep/run.py --out runs/growth_deep            # train + evaluate
    python experiments/growth_deep/run.py --out runs/growth_deep --only ppo --set stop.time_total_s=60

Rows of experiments not in ``--only`` are kept from the existing results table.

Writes ``experiments/growth_deep/results/growth_deep.csv`` and ``.md`` (``--results``).
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
EXPERIMENTS = ("ppo", "ppo_mc", "sac", "sac_fast", "ppo_stacked", "sac_sessions")
COLUMNS = ("experiment", "seed", "env_steps", "train_s", "share_err_max", "share_err_mean",
           "share_min", "share_max", "euler_mean", "euler_max", "euler_ergodic_mean",
           "euler_ergodic_max", "policy_err_max", "policy_err_mean", "welfare_loss_pct")


def train(name: str, out: Path, overrides: list[str]) -> pd.DataFrame:
    run = out / name
    if not (run / "trials.csv").is_file():
        cmd = [sys.executable, "-m", "marketsai.cli", "train", str(HERE / f"{name}.yaml"),
               "--out", str(run), "--num-cpus", "2", "--quiet"]
        for o in overrides:
            cmd += ["--set", o]
        started = time.time()
        subprocess.run(cmd, cwd=ROOT, check=True,
                       env=dict(os.environ, RAY_USAGE_STATS_ENABLED="0"))
        print(f"{name}: trained in {time.time() - started:.0f} s wall", flush=True)
    return pd.read_csv(run / "trials.csv")


def score(econ, act, **kw) -> dict:
    from marketsai.analysis.growth_policy import growth_report, policy_savings
    return growth_report(econ, policy_savings(econ, act), **kw)






def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "runs" / "growth_deep"), help="run folders")
    parser.add_argument("--only", nargs="+", default=list(EXPERIMENTS), choices=EXPERIMENTS)
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="override for every experiment file (key.sub=value)")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args(argv)

    import marketsai as mai
    from marketsai.analysis.growth import growth_model_of, reference_savings
    from marketsai.analysis.growth_policy import growth_report
    from marketsai.rl.export import load_module
    from marketsai.rl.policy import module_actor, untrained_actor

    out = Path(args.out).resolve()
    econ = mai.load_economy(ROOT / "economies" / "brock_mirman_share.yaml")
    rows = []
    ref, _ = reference_savings(growth_model_of(econ))
    rows.append({"experiment": "closed form (alpha beta)", **growth_report(econ, ref)})
    rows.append({"experiment": "untrained PPO network", **score(econ, untrained_actor(econ))})
    for name in args.only:
        trials = train(name, out, args.overrides)
        for _, t in trials.iterrows():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # our own checkpoints
                module = load_module(t["checkpoint"])
            rows.append({"experiment": name, "seed": int(t["seed"]) if pd.notna(t["seed"]) else 0,
                         "env_steps": int(t["env_steps"]), "train_s": float(t["time_total_s"]),
                         **score(econ, module_actor(module))})
    table = pd.DataFrame(rows)[list(COLUMNS)]
    res = Path(args.results)
    res.mkdir(parents=True, exist_ok=True)
    if (res / "growth_deep.csv").is_file():  # keep the rows of experiments not run this time
        prev = pd.read_csv(res / "growth_deep.csv")
        keep = prev[prev["experiment"].isin(set(EXPERIMENTS) - set(args.only))]
        table = pd.concat([table, keep], ignore_index=True)
        order = {n: i for i, n in enumerate(("closed form (alpha beta)", "untrained PPO network") + EXPERIMENTS)}
        table = table.sort_values("experiment", key=lambda c: c.map(order), kind="stable").reset_index(drop=True)
    table.to_csv(res / "growth_deep.csv", index=False)
    md = table.copy()
    for c in ("share_err_max", "share_err_mean", "policy_err_max", "policy_err_mean"):
        md[c] = [f"{100 * v:.2f}%" for v in md[c]]
    for c in ("share_min", "share_max"):
        md[c] = [f"{v:.4f}" for v in md[c]]
    for c in ("euler_mean", "euler_max", "euler_ergodic_mean", "euler_ergodic_max"):
        md[c] = [f"{v:.2f}" for v in md[c]]
    md["welfare_loss_pct"] = [f"{v:.4f}" for v in md["welfare_loss_pct"]]
    md["train_s"] = [f"{v:.0f}" if np.isfinite(v) else "" for v in md["train_s"].astype(float)]
    md["env_steps"] = [f"{int(v):,}" if np.isfinite(v) else "" for v in md["env_steps"].astype(float)]
    md["seed"] = ["" if not np.isfinite(v) else str(int(v)) for v in md["seed"].astype(float)]
    (res / "growth_deep.md").write_text(markdown_table(md) + "\n")
    print(markdown_table(md))
    return table


if __name__ == "__main__":
    main()
