"""Train households of the two-sector economy with RLlib, then measure where the market settles.

Each experiment file here (``two_sector_<algo>.yaml``) is trained with ``marketsai train``
(one shared policy; the economy's sessions x households batched as one VectorEnv through
``env.sessions``) for each calibration of :data:`CALIBRATIONS` -- ``unequal`` (the
economy file, a_c = 0.30, a_i = 0.40) and ``equal`` (a_c = a_i = 0.33 by ``--set``, the
one-sector RBC with labour, p = 1) -- unless its run folder already holds a finished
``trials.csv`` (then it is only read). The trained module's deterministic action (mean of
the Gaussian; tanh of the mean for SAC) then drives ``N`` households of the market economy
(:func:`marketsai.analysis.market_long_run.market_path`: the economy's own ``initial_state``,
``observe`` and ``step``) for ``--periods`` periods in ``--sessions`` sessions, and the
averages after ``--burn`` periods of K (per household), L, C, I, p, r, w are compared with
the reference steady state (:func:`marketsai.solvers.two_sector.steady_state`). Two rows per
calibration put the numbers on a scale: the exact steady-state shares played by every
household (reproduces the reference: a check of the economy and of the measurement), and
an untrained PPO network.

Usage::

    python experiments/market_economies/run_two_sector.py                      # train + evaluate
    python experiments/market_economies/run_two_sector.py --no-train           # evaluate finished runs
    python experiments/market_economies/run_two_sector.py --only ppo --calibrations unequal \\
        --set stop.time_total_s=60 --out runs/market_economies_quick

Writes ``experiments/market_economies/results/two_sector.csv`` and ``.md`` (``--results``).
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
ECONOMY = ROOT / "economies" / "two_sector_labor.yaml"
#: experiment -> economy overrides of its own (action bounds only: the economics are unchanged)
NARROW = {"agents[0].action.low": 0.10, "agents[0].action.high": 0.40,
          "agents[0].action.hours_low": 0.15, "agents[0].action.hours_high": 0.55}
ECONOMY_SETS = {"ppo": {}, "ppo_narrow": NARROW, "ppo_long": NARROW, "sac": {}}
EXPERIMENTS = tuple(ECONOMY_SETS)
REPORTED = ("ppo", "ppo_narrow", "ppo_long")  # sac: too slow on 2 shared cores, see results
#: economy overrides of each calibration (the economy file is the unequal one)
CALIBRATIONS = {
    "unequal": {},
    "equal": {"agents[1].params.alpha": 0.33, "agents[2].params.alpha": 0.33},
}
NOTES_MARK = "<!-- notes: kept when the table is rewritten -->"
VARS = ("K", "L", "C", "I", "p", "r", "w")
COLUMNS = ("calibration", "experiment", "N", "env_steps", "train_s",
           *[c for v in VARS for c in (v, f"err_{v}")], "err_max", "s", "l", "euler_gap", "hours_gap",
           "K_sd_sessions", "max_excess_demand", "max_budget_residual")


def train(name: str, calibration: str, out: Path, overrides: list[str]) -> pd.DataFrame:
    run = out / f"two_sector_{name}_{calibration}"
    if not (run / "trials.csv").is_file():
        cmd = [sys.executable, "-m", "marketsai.cli", "train", str(HERE / f"two_sector_{name}.yaml"),
               "--out", str(run), "--num-cpus", "2", "--quiet",
               "--set", f"name=two_sector_{name}_{calibration}"]
        for key, value in {**CALIBRATIONS[calibration], **ECONOMY_SETS[name]}.items():
            cmd += ["--set", f"economy.{key}={value}"]
        for o in overrides:
            cmd += ["--set", o]
        started = time.time()
        subprocess.run(cmd, cwd=ROOT, check=True,
                       env=dict(os.environ, RAY_USAGE_STATS_ENABLED="0", OMP_NUM_THREADS="1"))
        print(f"{name}/{calibration}: trained in {time.time() - started:.0f} s wall", flush=True)
    return pd.read_csv(run / "trials.csv")






def table_md(table: pd.DataFrame) -> str:
    md = table[["calibration", "experiment", "N", "env_steps", "train_s", "K", "err_K", "L", "err_L",
                "C", "err_C", "I", "err_I", "p", "err_p", "r", "w", "s", "l", "euler_gap", "hours_gap",
                "err_max"]].copy()
    for c in ("err_K", "err_L", "err_C", "err_I", "err_p", "err_max", "euler_gap", "hours_gap"):
        md[c] = [f"{100 * v:+.2f}%" for v in md[c]]
    md["err_max"] = [v.lstrip("+") for v in md["err_max"]]
    for c in ("K",):
        md[c] = [f"{v:.3f}" for v in md[c]]
    for c in ("L", "C", "I", "p", "s", "l"):
        md[c] = [f"{v:.4f}" for v in md[c]]
    for c in ("r",):
        md[c] = [f"{v:.5f}" for v in md[c]]
    md["w"] = [f"{v:.4f}" for v in md["w"]]
    md["N"] = [f"{int(v)}" if np.isfinite(v) else "" for v in md["N"].astype(float)]
    md["train_s"] = [f"{v:.0f}" if np.isfinite(v) else "" for v in md["train_s"].astype(float)]
    md["env_steps"] = [f"{int(v):,}" if np.isfinite(v) else "" for v in md["env_steps"].astype(float)]
    return markdown_table(md)


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "runs" / "market_economies"), help="run folders")
    parser.add_argument("--only", nargs="+", default=list(REPORTED), choices=EXPERIMENTS)
    parser.add_argument("--calibrations", nargs="+", default=list(CALIBRATIONS), choices=list(CALIBRATIONS))
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="override for every experiment file (key.sub=value)")
    parser.add_argument("--households", nargs="+", type=int, default=[10, 100],
                        help="N of the evaluated market economies")
    parser.add_argument("--sessions", type=int, default=8, help="simulations per evaluation")
    parser.add_argument("--periods", type=int, default=3000, help="periods per simulation")
    parser.add_argument("--burn", type=int, default=1000, help="periods dropped before averaging")
    parser.add_argument("--no-train", action="store_true", help="only evaluate finished runs")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args(argv)

    from marketsai.analysis.market_long_run import (
        constant_actor,
        economy_with,
        long_run,
        market_path,
        two_sector_reference,
    )
    from marketsai.rl.export import load_module
    from marketsai.rl.policy import module_actor, untrained_actor

    out = Path(args.out).resolve()
    rows = []

    def measure(calibration, experiment, act, sets=None, **extra):
        for n in args.households:
            econ = economy_with(ECONOMY, {**CALIBRATIONS[calibration], **(sets or {}), "agents[0].count": n})
            ref = two_sector_reference(econ)
            path = market_path(econ, act, sessions=args.sessions, periods=args.periods, seed=0)
            rows.append({"calibration": calibration, "experiment": experiment, "N": n,
                         "env_steps": np.nan, "train_s": np.nan, **extra, **long_run(path, ref, args.burn)})

    for calibration in args.calibrations:
        econ = economy_with(ECONOMY, CALIBRATIONS[calibration])
        ref = two_sector_reference(econ)
        rows.append({"calibration": calibration, "experiment": "reference steady state", "N": np.nan,
                     "env_steps": np.nan, "train_s": np.nan,
                     **{v: ref[v] for v in VARS}, **{f"err_{v}": 0.0 for v in VARS}, "err_max": 0.0,
                     "s": ref["s"], "l": ref["l"], "euler_gap": 0.0, "hours_gap": 0.0})
        measure(calibration, "steady-state shares (exact)", constant_actor([ref["s"], ref["l"]]))
        measure(calibration, "untrained PPO network", untrained_actor(econ))
        for name in args.only:
            if args.no_train and not (out / f"two_sector_{name}_{calibration}" / "trials.csv").is_file():
                continue
            trials = train(name, calibration, out, args.overrides)
            for _, t in trials.iterrows():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # our own checkpoints
                    module = load_module(t["checkpoint"])
                label = name if len(trials) == 1 else f"{name} seed {int(t['seed'])}"
                measure(calibration, label, module_actor(module), ECONOMY_SETS[name],
                        env_steps=int(t["env_steps"]), train_s=float(t["time_total_s"]))
    table = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    res = Path(args.results)
    res.mkdir(parents=True, exist_ok=True)
    table.to_csv(res / "two_sector.csv", index=False)
    md = table_md(table)
    target = res / "two_sector.md"
    notes = ""  # text after the marker is kept when the table is rewritten
    if target.is_file() and NOTES_MARK in target.read_text():
        notes = target.read_text().split(NOTES_MARK, 1)[1]
    header = (f"# Two-sector economy with labour: long-run averages of learned households\n\n"
              f"Written by `experiments/market_economies/run_two_sector.py`. Each trained policy drives "
              f"N households of the market economy ({args.sessions} sessions, {args.periods} periods, "
              f"averages after {args.burn}); `err_*` is the relative error against the reference steady "
              f"state (goal: within 2 % on each of K, L, C, I, p); K, C, I are per household; `s`, `l` "
              f"are the households' mean savings share and hours on the path; `euler_gap` is "
              f"r / (p rho) - 1 (rho = 1/beta - 1 + delta; negative: over-saving), `hours_gap` "
              f"w (1 - l) / (psi c) - 1 (negative: over-working).\n\n"
              f"Experiments (one seed each, N = 10 households in training, PPO, one shared policy): "
              f"`ppo` = `two_sector_ppo.yaml` (the file's action bounds, lambda 0.97, tanh); "
              f"`ppo_narrow` = `two_sector_ppo_narrow.yaml` (lambda 1, ReLU, action bounds s in "
              f"[0.10, 0.40], l in [0.15, 0.55] via --set, 10 min); `ppo_long` = "
              f"`two_sector_ppo_long.yaml` (as ppo_narrow, 19 min). The untrained network plays "
              f"in the file's bounds. `train_s` is Tune's wall time per trial (2 shared CPU cores); "
              f"`env_steps` counts household-steps.\n\n")
    target.write_text(header + md + "\n\n" + NOTES_MARK + (notes or "\n"))
    print(md)
    return table


if __name__ == "__main__":
    main()
