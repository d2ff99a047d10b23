"""Train Krusell–Smith households by RL (centralised critic and plain PPO) and score them.

Both runs (``ks_cc.yaml``, ``ks_ppo.yaml``: N = 100 households sharing one policy on the
stacked population, 8 sessions) are trained by ``marketsai run`` into
``runs/krusell_smith/<name>`` unless that folder already holds a finished run (the runner
resumes an interrupted one). Each trained policy -- and, as yardsticks, the reference
solution's policy (``marketsai.solvers.krusell_smith``) and an untrained network -- is
then run in the economy file's own step and scored by :mod:`marketsai.analysis.krusell_smith`
at N = 100 (the trained economy) and N = 10,000 (the same policy in a larger panel, where
idiosyncratic noise in aggregates is small): mean and SD of aggregate capital, the law of
motion estimated on the simulated path with its R^2 and Den Haan error, the wealth
distribution, individual Euler errors, training steps and wall time.

Usage::

    python experiments/krusell_smith/run_rl.py                   # train (if needed) and score
    python experiments/krusell_smith/run_rl.py --score-only      # score existing runs only
    python experiments/krusell_smith/run_rl.py --runs cc --T 1000 --n 100

Writes ``results/rl.csv``, ``rl.md``, ``rl.json`` and ``krusell_smith_rl.png`` here.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS = HERE / "results"
ECONOMY = ROOT / "economies" / "krusell_smith.yaml"
RUNS = {"cc": "ks_cc.yaml", "ppo": "ks_ppo.yaml"}
LABELS = {"reference": "reference (EGM + histogram)", "untrained": "untrained network",
          "cc": "centralised critic", "ppo": "plain PPO"}


def economy(n: int):
    import marketsai as mai
    d = mai.load_economy(ECONOMY).to_dict()
    d["agents"][0]["count"] = n
    return mai.Economy.from_dict(d)


def train(name: str, out: Path) -> dict:
    """Train (or resume) one run; returns its results row (checkpoint as an absolute path)."""
    from marketsai.runner import run_experiment
    folder = (out / name).resolve()  # RLlib reads checkpoints by absolute path
    if not (folder / "results.parquet").is_file():
        run_experiment(HERE / RUNS[name], out=folder, progress=False)
    row = pd.read_parquet(folder / "results.parquet").iloc[0].to_dict()
    row["checkpoint"] = str(folder / row["checkpoint"])
    row["progress"] = str(folder / "progress.csv")
    return row


def score(econ, act, model, *, T: int, burn: int, seed: int, euler_snapshots: int) -> tuple[dict, dict]:
    from marketsai.analysis.krusell_smith import score as ks_score
    t0 = time.perf_counter()
    row, sim = ks_score(econ, act, model, T=T, burn=burn, seed=seed, euler_snapshots=euler_snapshots)
    return {**row, "score_s": time.perf_counter() - t0}, sim


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="*", default=list(RUNS), choices=list(RUNS))
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "krusell_smith")
    parser.add_argument("--score-only", action="store_true", help="score the runs found, train none")
    parser.add_argument("--n", nargs="*", type=int, default=[100, 10_000], help="households when scoring")
    parser.add_argument("--T", type=int, default=3000, help="scored periods (after --burn)")
    parser.add_argument("--burn", type=int, default=500)
    parser.add_argument("--euler-snapshots", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch
    torch.set_num_threads(1)

    from marketsai.analysis.krusell_smith import reference_actor
    from marketsai.rl.export import load_module
    from marketsai.rl.policy import module_actor, untrained_actor
    from marketsai.solvers.krusell_smith import KrusellSmithModel, solve_krusell_smith

    trained = {}
    for name in args.runs:
        if args.score_only and not (args.out / name / "results.parquet").is_file():
            print(f"{name}: no finished run in {args.out / name}, skipped")
            continue
        trained[name] = train(name, args.out)
    model = KrusellSmithModel.from_economy(economy(100))
    t0 = time.perf_counter()
    sol = solve_krusell_smith(model)
    solve_s = time.perf_counter() - t0
    ref_row = {"policy": "reference solver (continuum)", "N": "inf", "K_mean": sol.K_mean, "K_sd": sol.K_sd,
               "b0_bad": sol.b[0, 0], "b1_bad": sol.b[0, 1], "b0_good": sol.b[1, 0], "b1_good": sol.b[1, 1],
               "r2_bad": sol.r2[0], "r2_good": sol.r2[1], "den_haan_mean": sol.den_haan_in_sample[0],
               "den_haan_max": sol.den_haan_in_sample[1], **{f"w_{k}": v for k, v in sol.wealth.items()},
               "wall_s": solve_s}
    rows, sims = [ref_row], {}
    learned = {name: module_actor(load_module(row["checkpoint"])) for name, row in trained.items()}
    for n in args.n:
        econ = economy(n)
        actors = {"reference": reference_actor(econ, sol.policy),
                  "untrained": untrained_actor(econ, hidden=(64, 64), seed=0), **learned}
        for name, act in actors.items():
            r, sim = score(econ, act, model, T=args.T, burn=args.burn, seed=args.seed,
                           euler_snapshots=args.euler_snapshots)
            r = {"policy": LABELS[name], "N": n, **r, "K_err_pct": 100 * (r["K_mean"] / sol.K_mean - 1)}
            if name in trained:
                t = trained[name]
                r.update(env_steps=t["env_steps"], household_steps=t["agent_steps"], train_s=t["time_total_s"],
                         wall_s=t["wall_s"])
            rows.append(r)
            sims[name, n] = sim
            print(f"{name:10s} N={n:6d} K={r['K_mean']:.3f} ({r['K_err_pct']:+.2f} %) sd={r['K_sd']:.3f} "
                  f"b_bad=({r['b0_bad']:.4f}, {r['b1_bad']:.4f}) b_good=({r['b0_good']:.4f}, {r['b1_good']:.4f}) "
                  f"euler={r['euler_mean']:.2f}/{r['euler_max']:.2f} gini={r['w_gini']:.3f}", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows)
    write_atomic(RESULTS / "rl.csv", table.to_csv(index=False))
    write_atomic(RESULTS / "rl.json", json.dumps({"rows": rows, "runs": {k: {kk: (vv if not isinstance(vv, np.generic) else vv.item()) for kk, vv in v.items()} for k, v in trained.items()}}, indent=1, default=float))
    write_atomic(RESULTS / "rl.md", markdown(table, args))
    figure(sol, model, sims, trained, learned, args.n[0], RESULTS / "krusell_smith_rl.png")
    if trained:
        write_atomic(ROOT / "benchmarks" / "results" / "krusell_smith_training.md", training_benchmark(trained))
    print(markdown(table, args))


def training_benchmark(trained: dict) -> str:
    """The long trainings' wall time and throughput, for benchmarks/results (speed lives there)."""
    import platform
    lines = ["# Krusell–Smith households: RL training on the 2-core machine", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
             f"written by `experiments/krusell_smith/run_rl.py` on {time.strftime('%Y-%m-%d %H:%M')} UTC from the "
             "run folders. N = 100 households, 8 sessions on the stacked population (one RLlib step a session), "
             "`num_env_runners: 0`; both runs trained at the same time, one core each.", "",
             "| run | stop | iterations | session-periods | household-steps | training s | wall s | "
             "household-steps / s (with learning) |", "|---|---|---|---|---|---|---|---|"]
    for name, t in trained.items():
        lines.append(f"| {LABELS[name]} (`{RUNS[name]}`) | time_total_s | {t['iterations']:.0f} | "
                     f"{t['env_steps']:,.0f} | {t['agent_steps']:,.0f} | {t['time_total_s']:,.0f} | "
                     f"{t['wall_s']:,.0f} | {t['agent_steps'] / t['time_total_s']:,.0f} |")
    lines += ["", "Sampling alone (no learning), against the bare batched step: `benchmarks/results/stacked.md` "
              "(`python benchmarks/bench_stacked.py`, its krusell_smith rows).", ""]
    return "\n".join(lines)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def markdown(table: pd.DataFrame, args) -> str:
    from marketsai.analysis.tables import markdown_table as frame_table

    def markdown_table(header, rows):
        return frame_table(pd.DataFrame(rows, columns=header))

    def f(x, d=3):
        return "" if x is None or (isinstance(x, float) and np.isnan(x)) else (f"{x:,.{d}f}" if isinstance(x, float) else str(x))
    main = [[r["policy"], r["N"], f(r["K_mean"]), f(r.get("K_err_pct"), 2), f(r["K_sd"]),
             f(r["b0_bad"], 4), f(r["b1_bad"], 4), f(r["b0_good"], 4), f(r["b1_good"], 4),
             f"{r['r2_bad']:.6f} / {r['r2_good']:.6f}", f"{f(r['den_haan_mean'], 2)} / {f(r['den_haan_max'], 2)}",
             "" if pd.isna(r.get("euler_mean")) else f"{r['euler_mean']:.2f} / {r['euler_max']:.2f}",
             f(r.get("share_inside_bounds"), 3)] for r in table.to_dict("records")]
    wealth = [[r["policy"], r["N"]] + [f(r[f"w_{k}"], 2) for k in ("p10", "p25", "p50", "p75", "p90", "p99")]
              + [f(r["w_gini"], 3), f(r["w_top1"], 3), f(r["w_top10"], 3)] for r in table.to_dict("records")]
    train = [[r["policy"], f"{r['env_steps']:,.0f}", f"{r['household_steps']:,.0f}", f(r["train_s"], 0),
              f(r["wall_s"], 0), f"{r['household_steps'] / r['train_s']:,.0f}"]
             for r in table.to_dict("records") if not pd.isna(r.get("env_steps", np.nan)) and r["N"] == args.n[0]]
    return "\n\n".join([
        "# Krusell–Smith households learned by RL, scored against the reference solution",
        f"Simulated {args.T} periods after {args.burn} (seed {args.seed}) in the economy's own step; "
        "law of motion `ln K' = b0(z) + b1(z) ln K` estimated on that path; Den Haan error in-sample (%); "
        f"Euler errors log10 mean / max over {args.euler_snapshots} cross-sections (households off the action "
        "bounds; the fraction in the last column). The first row is the reference solver's own continuum "
        "economy; `reference (EGM + histogram)` rows run its policy in the finite economy.",
        markdown_table(["policy", "N", "mean K", "K err %", "SD K", "b0 bad", "b1 bad", "b0 good", "b1 good",
                        "R^2 bad / good", "Den Haan mean / max %", "Euler log10 mean / max", "inside bounds"],
                       main),
        "## Wealth distribution (pooled cross-sections)",
        markdown_table(["policy", "N", "p10", "p25", "p50", "p75", "p90", "p99", "Gini", "top 1 %", "top 10 %"],
                       wealth),
        "## Training (N = 100, 8 sessions, 2-core machine)",
        markdown_table(["run", "session-periods", "household-steps", "training s", "wall s",
                        "household-steps / s"], train)])


def figure(sol, model, sims, trained, learned, n, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from marketsai.analysis.krusell_smith import observe_households
    fig, ax = plt.subplots(2, 2, figsize=(11, 8.5))
    names = [k for k in ("reference", "cc", "ppo") if (k, n) in sims]
    colours = {"reference": "k", "cc": "C0", "ppo": "C3", "untrained": "0.6"}
    # law of motion
    a = ax[0, 0]
    for name in names:
        s = sims[name, n]
        for iz, mk in ((0, "."), (1, "x")):
            sel = s["z"] == iz
            a.plot(s["K"][:-1][sel][::5], s["K"][1:][sel][::5], mk, ms=2, color=colours[name], alpha=0.5,
                   label=f"{LABELS[name]}, {'bad' if iz == 0 else 'good'}")
    Kg = np.linspace(10.5, 13.0, 50)
    for iz in range(2):
        a.plot(Kg, np.exp(sol.b[iz, 0] + sol.b[iz, 1] * np.log(Kg)), "-", color="k", lw=1)
    a.plot(Kg, Kg, ":", color="0.5", lw=1)
    a.set(xlabel="K", ylabel="K'", title=f"law of motion (N = {n}); lines: reference")
    a.legend(fontsize=6, markerscale=3)
    # wealth distribution
    a = ax[0, 1]
    kd = model.dist_grid()
    cdf = np.cumsum(sol.D_mean.sum(axis=0))
    a.plot(kd, cdf / cdf[-1], "k-", label="reference (continuum)")
    for name in [k for k in ("cc", "ppo", "untrained") if (k, n) in sims]:
        k = np.sort(np.concatenate([s[3].fields["household.k"][0] for s in sims[name, n]["snapshots"]]))
        a.plot(k, np.arange(1, k.size + 1) / k.size, color=colours[name], label=LABELS[name])
    a.set(xlim=(0, 40), xlabel="capital k", ylabel="CDF", title=f"wealth distribution (N = {n})")
    a.legend(fontsize=7)
    # policy functions by employment state at mean K, bad state
    a = ax[1, 0]
    econ = economy(n)
    kk = np.linspace(0.5, 35, 80)
    from marketsai.analysis.krusell_smith import chain_index, parts
    _, proc, chain, _ = parts(econ)
    idx = chain_index(chain)
    state0 = sims[names[0], n]["snapshots"][0][0]
    K = sol.K_mean
    for name in [k for k in ("cc", "ppo") if k in learned]:
        act = learned[name]
        for ie, ls in ((0, "--"), (1, "-")):
            k_rows = np.resize(kk, econ.observer.observe_actors(state0).shape[1])
            k_rows[: kk.size] = kk
            k_rows[kk.size:] = K  # the others hold K so that mean k is about K
            k_rows *= K / k_rows.mean()
            obs = observe_households(econ, state0, k_rows, idx[0, ie])
            s = np.asarray(act(obs)).reshape(-1)
            r, _ = model.prices(K, 0)
            m = (1 + r - model.delta) * k_rows + model.income(K, 0, ie)
            order = np.argsort(k_rows[: kk.size])
            a.plot(k_rows[: kk.size][order], (s * m - k_rows)[: kk.size][order], ls, color=colours[name],
                   label=f"{LABELS[name]}, {'employed' if ie else 'unemployed'}")
    for ie, ls in ((0, "--"), (1, "-")):
        a.plot(kk, sol.policy.savings(kk, K, 0, ie) - kk, ls, color="k", lw=1,
               label=f"reference, {'employed' if ie else 'unemployed'}")
    a.axhline(0, color="0.7", lw=0.5)
    a.set(xlabel="k", ylabel="k' - k", title="savings policy, bad state, K at its mean")
    a.legend(fontsize=6)
    # training curves
    a = ax[1, 1]
    for name, row in trained.items():
        p = pd.read_csv(row["progress"])
        a.plot(p["env_steps"] * 100, p["episode_return_mean"], color=colours[name], label=LABELS[name])
    a.set(xlabel="household-steps", ylabel="mean episode return (400 periods, per household)",
          title="training")
    a.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
