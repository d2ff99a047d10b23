"""Tabular vs deep at a budget that can answer the question: PPO and the centralised critic
with 1,000,000 periods per seed, 8 seeds each (issue 12, item 5).

Stages (all by default; each resumes and skips what is done):

* ``train``: every seed of ``ppo_1m.yaml`` / ``centralised_critic_1m.yaml`` (the stacked
  population path, 50 sessions x 20,000 periods per seed), then ``marketsai.rl.evaluate``
  on each seed's last checkpoint: greedy strategies tabulated on the 225 memory states,
  limit cycles, profit gain Delta, the equilibrium check and the impulse response;
* ``untrained``: the same networks before any update (same files, same seeds; a
  checkpoint saved right after building the algorithm), evaluated identically -- the
  floor that a Delta has to beat before it says anything about learning;
* ``sanity``: the same experiment files on ``bertrand_rival_{nash,monopoly}.yaml`` (the
  rival's price fixed at the static Nash / monopoly price; the rival sits in the outside
  option, which gives exactly the duopoly's profits -- checked here); the learner's greedy
  price in each of its 15 states is compared with the static best response on the grid,
  computed from the market;
* ``report``: ``budget_*.csv``, ``budget_summary.md`` and figures into ``OUT`` and copies
  into ``--results`` (default: this folder's ``results/``).

Usage::

    python experiments/tabular_vs_deep/run_budget.py --out runs/tabular_vs_deep_budget \
        [--only ppo_1m,centralised_critic_1m] [--stage train,untrained,sanity,report] \
        [--sanity-seeds 0,1] [--set stop.num_env_steps_sampled_lifetime=2000 ...]

Two processes (one per ``--only``) use the two cores of a small machine; a final
``--stage report`` (no ``--only``) writes the tables of both.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from marketsai.runner.references import calvano_published

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
EXPERIMENTS = ["ppo_1m", "centralised_critic_1m", "dqn_200k", "sac_grid_200k", "sac_interval_200k"]
RIVALS = {"nash": "bertrand_rival_nash.yaml", "monopoly": "bertrand_rival_monopoly.yaml"}
STAGES = ["train", "untrained", "sanity", "report"]
COLORS = ["tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:brown"]

# The tabular reference (docs/calvano2020.md; Calvano et al. 2020), as in run_all.py.
TABULAR_OURS = {"label": "Q-learning (marketsai tabular, docs/calvano2020.md)", "profit_gain": 0.848,
                "profit_gain_sd": 0.112, "mean_price": 1.7924, "pre_shock": 1.7918, "deviator_t1": 1.6106,
                "rival_t2": 1.5588}
TABULAR_PUBLISHED = {"label": "Q-learning (Calvano et al. 2020, published)", **calvano_published()}


def _threads():
    import torch
    torch.set_num_threads(1)


def ci95(values) -> tuple[float, float, float]:
    """Mean and the 95% t-interval of the mean over seeds: ``(mean, low, high)``."""
    from scipy import stats
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    if len(x) == 0:
        return (np.nan, np.nan, np.nan)
    m = float(x.mean())
    if len(x) < 2:
        return (m, np.nan, np.nan)
    h = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return (m, m - h, m + h)


def _impulse_row(ev_dir: Path) -> dict:
    """Pre-shock prices of both roles and the rival's reaction, from ``impulse.csv``."""
    imp = pd.read_csv(ev_dir / "impulse.csv")
    dev = imp[imp["role"] == "deviator"].set_index("t")["mean"]
    riv = imp[imp["role"] == "rival"].groupby("t")["mean"].mean()
    return {"rival_t0": float(riv.loc[0]), "rival_t1": float(riv.loc[1]),
            "deviator_t2": float(dev.loc[2]) if 2 in dev.index else np.nan}


def _summary_row(summary: dict, ev_dir: Path) -> dict:
    imp = {"pre_shock": summary["impulse_best_response_pre_shock"],
           "deviator_t1": summary["impulse_best_response_t1_deviator"],
           "rival_t2": summary["impulse_best_response_t2_rival"],
           "deviator_last": summary["impulse_best_response_deviator"][-1],
           "rival_last": summary["impulse_best_response_rival"][-1]}
    return {"profit_gain": summary["profit_gain"], "mean_price": summary["mean_price"],
            "cycle_length_mean": summary.get("cycle_length_mean"),
            "eq_on_path_share": summary.get("eq_on_path_share"),
            "eq_all_states_share": summary.get("eq_all_states_share"),
            "pre_shock": imp["pre_shock"], "deviator_t1": imp["deviator_t1"], "rival_t2": imp["rival_t2"],
            "deviator_last": imp["deviator_last"], "rival_last": imp["rival_last"], **_impulse_row(ev_dir)}


# ------------------------------------------------------------------ training + evaluation
def stage_train(out: Path, names: list[str], sets: list[str], episodes: int | None) -> pd.DataFrame:
    from run_all import (
        evaluated_trials,  # the same train-then-evaluate loop as the small-budget study
    )

    rows = []
    for name in names:
        for spec, trial, summary, ev_dir, _ in evaluated_trials(name, out, sets, episodes):
            block = spec.env["block"]
            rows.append({"experiment": name, "algorithm": summary["algorithm"], "seed": int(trial["seed"]),
                         **_summary_row(summary, ev_dir),
                         "env_steps": trial["env_steps"], "periods": trial["env_steps"] * block,
                         "sessions": spec.env["sessions"], "iterations": trial["iterations"],
                         "train_time_s": trial["time_total_s"], "wall_s": trial["wall_s"]})
            print(f"[{name}] seed {trial['seed']}: Delta {summary['profit_gain']:.3f}, "
                  f"price {summary['mean_price']:.4f}, {trial['env_steps'] * block:,.0f} periods, "
                  f"{trial['time_total_s']:.0f} s", flush=True)
    return _merge(out / "budget_results.csv", pd.DataFrame(rows), names)


def _merge(path: Path, table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Write ``table``, keeping the rows of experiments not run this time."""
    if path.is_file():
        prev = pd.read_csv(path)
        table = pd.concat([prev[~prev["experiment"].isin(names)], table], ignore_index=True)
    if not table.empty:
        table.to_csv(path, index=False)
    return table


def nash_deviation(out: Path, names: list[str]) -> pd.DataFrame:
    """A second impulse response: firm 0 cuts its price for one period to the grid price
    nearest Nash (1.4665), then both play greedy (``deviation="nash"`` of
    :func:`marketsai.analysis.impulse_response_paths`; same 20 start states as the
    evaluation). Needed because a learner at a static Nash point of the grid has no
    profitable static deviation: its "best-response" impulse is no shock at all."""
    import yaml

    from marketsai import analysis
    from marketsai.analysis.calvano import tabulate
    from marketsai.economy import Economy
    from marketsai.rl.evaluate import greedy_policies
    from marketsai.rl.spec import RLExperimentSpec

    rows = []
    for name in names:
        for ev_dir in sorted((out / name / "evaluation").glob("seed_*")):
            summary = json.loads((ev_dir / "summary.json").read_text())
            target = ev_dir / "impulse_nash.csv"
            if not target.is_file():
                ck = Path(summary["checkpoint"])
                exp = ck.parents[2] / "experiment.yaml"
                spec = RLExperimentSpec.from_dict(yaml.safe_load(exp.read_text()), base_dir=exp.parent)
                econ = Economy.from_dict(spec.economy_dict())
                if not all(d.kind == "grid" for d in econ.decisions):
                    break  # interval prices: no grid price nearest Nash to cut to
                env = econ.parallel_env(max_cycles=50)
                policy = greedy_policies(ck, spec, econ, env.action_spaces)
                game = econ.finite_game()
                strategies = tabulate(econ, policy, game)[None]
                episodes, periods = spec.evaluation["episodes"], spec.evaluation["impulse_periods"]
                starts = np.random.default_rng(0).integers(0, game.n_states, size=episodes)  # as evaluate()
                reps = np.repeat(strategies, episodes, axis=0)
                paths = analysis.impulse_response_paths(game, reps, start_states=starts, periods=periods,
                                                        deviation="nash")
                analysis.impulse_response_table(paths, agents=list(econ.agents)).to_csv(target, index=False)
            imp = pd.read_csv(target)
            dev = imp[imp["role"] == "deviator"].set_index("t")["mean"]
            riv = imp[imp["role"] == "rival"].groupby("t")["mean"].mean()
            last = int(dev.index.max())
            rows.append({"experiment": name, "seed": int(ev_dir.name.split("_")[1]),
                         "nash_dev_pre_deviator": float(dev.loc[0]), "nash_dev_pre_rival": float(riv.loc[0]),
                         "nash_dev_deviator_t1": float(dev.loc[1]), "nash_dev_rival_t2": float(riv.loc[2]),
                         "nash_dev_deviator_t2": float(dev.loc[2]), "nash_dev_rival_last": float(riv.loc[last]),
                         "nash_dev_deviator_last": float(dev.loc[last])})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ untrained floor
def stage_untrained(out: Path, names: list[str], sets: list[str], episodes: int | None) -> pd.DataFrame:
    import yaml

    from marketsai.economy import Economy
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.cluster import init_ray
    from marketsai.rl.envs import register_economy
    from marketsai.rl.evaluate import evaluate
    from marketsai.rl.spec import load_rl_experiment
    from marketsai.rl.train import EXPERIMENT_FILE, resolved_experiment

    init_ray()
    rows = []
    for name in names:
        spec = load_rl_experiment(HERE / f"{name}.yaml", sets)
        econ = Economy.from_dict(spec.economy_dict())
        run = out / "untrained" / name
        run.mkdir(parents=True, exist_ok=True)
        (run / EXPERIMENT_FILE).write_text(yaml.safe_dump(resolved_experiment(spec, econ), sort_keys=False))
        env_name = register_economy(econ)
        for seed in spec.seeds:
            ev_dir = run / f"seed_{seed}" / "evaluation"
            if not (ev_dir / "summary.json").is_file():
                ck = run / f"seed_{seed}" / "checkpoint_untrained"
                if not ck.is_dir():
                    algo = build_config(spec, econ, env_name, seed=seed).build_algo()
                    algo.save_to_path(str(ck))
                    algo.stop()
                evaluate(ck, ev_dir, episodes=episodes)
            summary = json.loads((ev_dir / "summary.json").read_text())
            rows.append({"experiment": name, "seed": int(seed), **_summary_row(summary, ev_dir)})
            print(f"[{name}] untrained seed {seed}: Delta {summary['profit_gain']:.3f}", flush=True)
    return _merge(out / "budget_untrained.csv", pd.DataFrame(rows), names)


# ------------------------------------------------------------------ best-response sanity check
def static_best_response(rival_file: Path) -> dict:
    """The learner's profits on its grid against the fixed rival, and their argmax.

    Checks that the single-firm economy (rival in the outside option) gives the
    duopoly's profits with the rival's price fixed (economies/bertrand_duopoly.yaml).
    """
    import marketsai as mai

    econ = mai.load_economy(rival_file)
    duo = mai.load_economy(HERE.parents[1] / "economies" / "bertrand_duopoly.yaml")
    grid = econ.decisions[0].grid
    np.testing.assert_allclose(grid, duo.decisions[0].grid, rtol=0, atol=1e-10)
    a0 = econ.spec.markets[0].params["outside_quality"]
    mu = 0.25
    p_rival = 2.0 - mu * np.log(np.expm1(a0 / mu))  # a0 = mu log(1 + exp((a - p_r)/mu)), a = 2
    single = econ.clear(grid[:, None])[0][:, 0]
    both = duo.clear(np.stack([grid, np.full(len(grid), p_rival)], axis=1))[0][:, 0]
    np.testing.assert_allclose(single, both, rtol=1e-9, atol=1e-12)
    fine = np.linspace(grid[0], grid[-1], 5401)  # the interval learners' best response
    fine_profit = duo.clear(np.stack([fine, np.full(len(fine), p_rival)], axis=1))[0][:, 0]
    return {"grid": grid, "profits": single, "rival_price": float(p_rival), "br": int(np.argmax(single)),
            "br_interval": float(fine[np.argmax(fine_profit)]), "fine": fine, "fine_profit": fine_profit}


def _greedy_on_grid(checkpoint, econ, spec) -> np.ndarray:
    """A single learner's greedy action index in each of its finite-game states."""
    from marketsai.analysis.calvano import tabulate
    from marketsai.rl.evaluate import greedy_policies

    env = econ.parallel_env(max_cycles=10)
    policy = greedy_policies(checkpoint, spec, econ, env.action_spaces)
    return tabulate(econ, policy, econ.finite_game())[0]


def _greedy_on_interval(checkpoint, econ, spec, grid: np.ndarray) -> np.ndarray:
    """A single interval learner's greedy price after each of its own last prices ``grid``
    (its observation with memory 1: the rival's price is a constant)."""
    from marketsai.rl.evaluate import greedy_policies

    env = econ.parallel_env(max_cycles=10)
    policy = greedy_policies(checkpoint, spec, econ, env.action_spaces)
    (agent,) = econ.actors
    obs = []
    for p in grid:
        env.reset(seed=0)
        o, *_ = env.step({agent: np.array([p], np.float32)})
        obs.append(np.asarray(o[agent], np.float32))
    return policy.act(agent, np.stack(obs)).reshape(-1)


def _is_interval(name: str, sets: list[str]) -> bool:
    from marketsai.economy import Economy
    from marketsai.rl.spec import load_rl_experiment

    econ = Economy.from_dict(load_rl_experiment(HERE / f"{name}.yaml", sets).economy_dict())
    return all(d.kind == "interval" for d in econ.decisions)


def stage_sanity(out: Path, names: list[str], sets: list[str], seeds: list[int]) -> pd.DataFrame:
    from marketsai.economy import Economy
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import register_economy
    from marketsai.rl.spec import load_rl_experiment
    from marketsai.rl.train import train

    rows = []
    for name in names:
        interval = _is_interval(name, sets)
        for rival, file in RIVALS.items():
            br = static_best_response(HERE / file)
            if interval:  # the same rival, prices from the interval
                file = file.replace(".yaml", "_interval.yaml")
            tag = f"{name}_rival_{rival}"
            for seed in seeds:  # one run folder per seed, so that seeds can be added later
                run = out / "sanity" / tag / f"seed{seed}"
                spec = load_rl_experiment(HERE / f"{name}.yaml", [f"economy={HERE / file}", f"name={tag}",
                                                                  f"seeds=[{seed}]", *sets])
                (trial,) = [t for _, t in train(spec, run, verbose=0).iterrows()]
                econ = Economy.from_dict(spec.economy_dict())
                ck0 = run / "untrained" / f"seed_{seed}"
                if not ck0.is_dir():  # the same network before any update, for contrast
                    algo = build_config(spec, econ, register_economy(econ), seed=seed).build_algo()
                    algo.save_to_path(str(ck0))
                    algo.stop()
                if interval:  # distances in grid steps from the continuous best response
                    step = float(br["grid"][1] - br["grid"][0])
                    before = _greedy_on_interval(ck0, econ, spec, br["grid"])
                    prices = _greedy_on_interval(trial["checkpoint"], econ, spec, br["grid"])
                    off = np.abs(prices - br["br_interval"]) / step
                    off0 = np.abs(before - br["br_interval"]) / step
                    best, profit = br["br_interval"], np.interp(prices, br["fine"], br["fine_profit"])
                    best_profit, at_best = float(br["fine_profit"].max()), off <= 0.5
                    shown, shown0 = [f"{g:.4f}" for g in prices], [f"{g:.4f}" for g in before]
                else:
                    before = _greedy_on_grid(ck0, econ, spec)
                    greedy = _greedy_on_grid(trial["checkpoint"], econ, spec)
                    off, off0 = np.abs(greedy - br["br"]), np.abs(before - br["br"])
                    prices, best, profit = br["grid"][greedy], br["grid"][br["br"]], br["profits"][greedy]
                    best_profit, at_best = float(br["profits"][br["br"]]), off == 0
                    shown, shown0 = [str(int(g)) for g in greedy], [str(int(g)) for g in before]
                rows.append({"experiment": name, "rival": rival, "rival_price": br["rival_price"],
                             "seed": seed, "best_response_price": best,
                             "best_response_index": br["br"],
                             "greedy_price_modal": float(pd.Series(np.round(prices, 4)).mode().iloc[0]),
                             "greedy_price_min": float(prices.min()), "greedy_price_max": float(prices.max()),
                             "share_states_at_best_response": float(at_best.mean()),
                             "share_states_within_one_step": float((off <= 1).mean()),
                             "max_steps_off": float(off.max()),
                             "profit_loss_vs_best_response": float(best_profit - profit.mean()),
                             "passed": bool(off.max() <= 1),
                             "greedy_by_state": " ".join(shown),
                             "untrained_greedy_by_state": " ".join(shown0),
                             "untrained_max_steps_off": float(off0.max()),
                             "periods": trial["env_steps"] * spec.env["block"],
                             "train_time_s": trial["time_total_s"]})
                r = rows[-1]
                print(f"[{tag}] seed {seed}: greedy {r['greedy_price_min']:.4f}-{r['greedy_price_max']:.4f}, "
                      f"best response {r['best_response_price']:.4f}, max {r['max_steps_off']} steps off "
                      f"(untrained: {r['untrained_max_steps_off']}), {'PASS' if r['passed'] else 'FAIL'}",
                      flush=True)
    return _merge(out / "budget_sanity.csv", pd.DataFrame(rows), names)


# ------------------------------------------------------------------ report
def _fmt(x, d=3):
    return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{d}f}"


def _ci_text(values, d=3) -> str:
    m, lo, hi = ci95(values)
    return f"{_fmt(m, d)} [{_fmt(lo, d)}, {_fmt(hi, d)}]"


def learning_curves(out: Path, names: list[str]) -> pd.DataFrame:
    """Per seed and iteration: periods so far and the (stochastic) play's profit gain.

    On the stacked PPO path RLlib's episode return is the sum over an episode of the mean of
    both firms' profits; on the DQN / SAC sessions path (as on the per-agent path) it is the
    sum of both firms' returns. Either way it is scaled to the mean profit per firm and period.
    """
    import yaml

    import marketsai as mai

    duo = mai.load_economy(HERE.parents[1] / "economies" / "bertrand_duopoly.yaml")
    game = duo.finite_game()
    pn, pm = float(game.nash_payoff.mean()), float(game.coop_payoff.mean())
    frames = []
    for name in names:
        path = out / name / "progress.csv"
        if not path.is_file():
            continue
        prog = pd.read_csv(path)
        cfg = yaml.safe_load((out / name / "config.yaml").read_text())
        block, T = cfg["env"]["block"], cfg["env"]["max_cycles"]
        prog["experiment"] = name
        prog["periods"] = prog["env_steps"] * block
        firms = 2 if cfg["algorithm"]["name"] in ("DQN", "SAC") else 1  # a sum over firms, not a mean
        prog["profit_gain_play"] = (prog["episode_return_mean"] / (T * firms) - pn) / (pm - pn)
        frames.append(prog)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def stage_report(out: Path, results_dir: Path | None) -> str:
    from matplotlib.figure import Figure

    res = pd.read_csv(out / "budget_results.csv") if (out / "budget_results.csv").is_file() else pd.DataFrame()
    unt = pd.read_csv(out / "budget_untrained.csv") if (out / "budget_untrained.csv").is_file() else pd.DataFrame()
    san = pd.read_csv(out / "budget_sanity.csv") if (out / "budget_sanity.csv").is_file() else pd.DataFrame()
    names = [n for n in EXPERIMENTS if not res.empty and n in set(res["experiment"])]
    lines = ["## Trained (periods per seed: PPO / centralised critic 1,000,000, DQN / SAC 200,000)", "",
             "Mean over seeds with the 95% t-interval of the mean in brackets.", "",
             "| experiment | seeds | Delta | untrained Delta (same seeds) | trained - untrained (paired) | "
             "mean price | cycle length | Nash on path | Nash at every state | periods / seed | "
             "train s / seed |", "|" + "---|" * 11]
    for name in names:
        r = res[res["experiment"] == name].sort_values("seed")
        u = unt[unt["experiment"] == name].set_index("seed") if not unt.empty else pd.DataFrame()
        if not u.empty:
            u = u[u.index.isin(r["seed"])]  # the trained seeds' own initial networks
        if not u.empty:
            paired = [row["profit_gain"] - u.loc[row["seed"], "profit_gain"] for _, row in r.iterrows()
                      if row["seed"] in u.index]
            u_text, d_text = _ci_text(u["profit_gain"]), _ci_text(paired)
        else:
            u_text = d_text = "n/a"
        lines.append(f"| {name} | {len(r)} | {_ci_text(r['profit_gain'])} | {u_text} | {d_text} | "
                     f"{_ci_text(r['mean_price'], 4)} | {_fmt(r['cycle_length_mean'].mean(), 2)} | "
                     f"{_fmt(r['eq_on_path_share'].mean(), 2)} | {_fmt(r['eq_all_states_share'].mean(), 2)} | "
                     f"{r['periods'].mean():,.0f} | {r['train_time_s'].mean():.0f} |")
    lines.append(f"| {TABULAR_OURS['label']} | 1000 sessions | {TABULAR_OURS['profit_gain']} (SD "
                 f"{TABULAR_OURS['profit_gain_sd']} across sessions) | -- | -- | {TABULAR_OURS['mean_price']} | "
                 "62.6% length 1 | -- | -- | ~1.87 million (to convergence) | -- |")
    lines.append(f"| {TABULAR_PUBLISHED['label']} | 1000 sessions | {TABULAR_PUBLISHED['profit_gain']} (SD "
                 f"{TABULAR_PUBLISHED['profit_gain_sd']} across sessions) | -- | -- | -- | 64% length 1 | -- | -- | "
                 "~1.7 million | -- |")

    lines += ["", "## Impulse response (prices; mean over seeds, 95% CI)", "",
              "Firm 0 deviates at t = 1 to its static best response on the grid, then both play greedy.", "",
              "| experiment | pre-shock (deviator / rival) | deviator t=1 | rival t=1 | rival t=2 | deviator t=2 | "
              "rival t=15 | deviator t=15 |", "|" + "---|" * 8]
    for name in names:
        r = res[res["experiment"] == name]
        lines.append(f"| {name} | {_fmt(r['pre_shock'].mean(), 4)} / {_fmt(r['rival_t0'].mean(), 4)} | "
                     f"{_ci_text(r['deviator_t1'], 4)} | {_ci_text(r['rival_t1'], 4)} | "
                     f"{_ci_text(r['rival_t2'], 4)} | {_ci_text(r['deviator_t2'], 4)} | "
                     f"{_ci_text(r['rival_last'], 4)} | {_ci_text(r['deviator_last'], 4)} |")
    lines.append(f"| {TABULAR_OURS['label']} | {TABULAR_OURS['pre_shock']} | {TABULAR_OURS['deviator_t1']} | -- | "
                 f"{TABULAR_OURS['rival_t2']} | -- | ~1.79 | ~1.79 |")
    lines.append(f"| {TABULAR_PUBLISHED['label']} | {TABULAR_PUBLISHED['pre_shock']} | "
                 f"{TABULAR_PUBLISHED['deviator_t1']} | -- | {TABULAR_PUBLISHED['rival_t2']} | -- | ~1.79 | ~1.79 |")

    nd = nash_deviation(out, names) if names else pd.DataFrame()
    if not nd.empty:
        nd.to_csv(out / "budget_impulse_nash.csv", index=False)
        lines += ["", "## Impulse response to a price cut to the grid price nearest Nash (1.4665)", "",
                  "| experiment | pre-shock (deviator / rival) | deviator t=1 | rival t=2 | deviator t=2 | "
                  "rival t=15 | deviator t=15 |", "|" + "---|" * 7]
        for name in names:
            r = nd[nd["experiment"] == name]
            if r.empty:  # interval prices: no grid price to cut to
                continue
            lines.append(f"| {name} | {_fmt(r['nash_dev_pre_deviator'].mean(), 4)} / "
                         f"{_fmt(r['nash_dev_pre_rival'].mean(), 4)} | {_ci_text(r['nash_dev_deviator_t1'], 4)} | "
                         f"{_ci_text(r['nash_dev_rival_t2'], 4)} | {_ci_text(r['nash_dev_deviator_t2'], 4)} | "
                         f"{_ci_text(r['nash_dev_rival_last'], 4)} | {_ci_text(r['nash_dev_deviator_last'], 4)} |")

    lines += ["", "## Per seed", "", "| experiment | seed | Delta | untrained Delta | mean price | cycle length | "
              "Nash on path | rival t=0 / t=2 | periods | train s |", "|" + "---|" * 10]
    for name in names:
        u = unt[unt["experiment"] == name].set_index("seed") if not unt.empty else pd.DataFrame()
        for _, row in res[res["experiment"] == name].sort_values("seed").iterrows():
            ud = _fmt(u.loc[row["seed"], "profit_gain"]) if not u.empty and row["seed"] in u.index else "n/a"
            lines.append(f"| {name} | {row['seed']} | {_fmt(row['profit_gain'])} | {ud} | "
                         f"{_fmt(row['mean_price'], 4)} | {_fmt(row['cycle_length_mean'], 2)} | "
                         f"{_fmt(row['eq_on_path_share'], 2)} | {_fmt(row['rival_t0'], 4)} / "
                         f"{_fmt(row['rival_t2'], 4)} | {row['periods']:,.0f} | {row['train_time_s']:.0f} |")

    if not san.empty:
        lines += ["", "## Sanity check: best response to a fixed rival", "",
                  "Interval learners (sac_interval_*): the best response on the interval, the greedy price "
                  "after each of the 15 grid prices as the learner's own last price, and distances in grid "
                  "steps (0.0387; 'at' the best response: within half a step).", "",
                  "| experiment | rival fixed at | seed | static best response | greedy price (modal; min-max over "
                  "the 15 states) | states at the best response | states within one grid step | passed | "
                  "untrained network: max grid steps off | periods |", "|" + "---|" * 10]
        for _, s in san.sort_values(["experiment", "rival", "seed"]).iterrows():
            lines.append(f"| {s['experiment']} | {s['rival']} ({s['rival_price']:.4f}) | {s['seed']} | "
                         f"{s['best_response_price']:.4f} | {s['greedy_price_modal']:.4f} "
                         f"({s['greedy_price_min']:.4f}-{s['greedy_price_max']:.4f}) | "
                         f"{s['share_states_at_best_response']:.2f} | {s['share_states_within_one_step']:.2f} | "
                         f"{'yes' if s['passed'] else 'no'} | {_fmt(float(s['untrained_max_steps_off']), 1)} | "
                         f"{s['periods']:,.0f} |")
    text = "\n".join(lines) + "\n"
    (out / "budget_summary.md").write_text(text)

    figs = out / "figures"
    figs.mkdir(exist_ok=True)
    if names:
        fig = Figure(figsize=(7, 4))
        ax = fig.add_subplot()
        for k, name in enumerate(names):
            y = res.loc[res["experiment"] == name, "profit_gain"].to_numpy()
            m, lo, hi = ci95(y)
            ax.scatter(np.full(len(y), k) - 0.1, y, color="tab:blue", s=14,
                       label="trained (per seed)" if k == 0 else None)
            ax.errorbar([k - 0.1], [m], yerr=[[m - lo], [hi - m]], color="k", capsize=4, fmt="_")
            if not unt.empty:
                yu = unt.loc[unt["experiment"] == name, "profit_gain"].to_numpy()
                ax.scatter(np.full(len(yu), k) + 0.1, yu, color="tab:grey", marker="x", s=14,
                           label="untrained (per seed)" if k == 0 else None)
        ax.axhline(TABULAR_PUBLISHED["profit_gain"], color="tab:red", ls="--", lw=1,
                   label="tabular Q-learning (Calvano et al.)")
        ax.axhline(0.0, color="grey", lw=1)
        ax.set_xticks(range(len(names)), names)
        ax.set_ylabel("profit gain Delta")
        ax.set_title("PPO / CC: 1,000,000 periods per seed; DQN / SAC: 200,000; bars: 95% CI", fontsize=9)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(figs / "budget_profit_gain.png", dpi=120)

        fig = Figure(figsize=(7, 4))
        ax = fig.add_subplot()
        for name, color in zip(names, COLORS, strict=False):
            dev, riv = [], []
            for seed_dir in sorted((out / name / "evaluation").glob("seed_*")):
                imp = pd.read_csv(seed_dir / "impulse.csv")
                dev.append(imp[imp["role"] == "deviator"].sort_values("t")["mean"].to_numpy())
                riv.append(imp[imp["role"] == "rival"].groupby("t")["mean"].mean().to_numpy())
            if dev:
                ax.plot(np.mean(dev, axis=0), marker="o", ms=3, color=color, label=f"{name}: deviator")
                ax.plot(np.mean(riv, axis=0), marker="s", ms=3, ls=":", color=color, label=f"{name}: rival")
        ax.plot([TABULAR_PUBLISHED["pre_shock"], TABULAR_PUBLISHED["deviator_t1"], 1.58, 1.64, 1.69, 1.73, 1.76,
                 1.78, 1.79], color="k", ls="--", label="tabular, Calvano et al. Fig. 4 (deviator, approx.)")
        ax.axhline(1.4729, color="grey", lw=0.8, ls="-.")
        ax.set_xlabel("t (0 = before the shock, 1 = deviation)")
        ax.set_ylabel("price (mean over seeds and start states)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(figs / "budget_impulse_response.png", dpi=120)

        curves = learning_curves(out, names)
        if not curves.empty:
            curves.to_csv(out / "budget_learning_curves.csv", index=False)
            fig = Figure(figsize=(7, 4))
            ax = fig.add_subplot()
            for name, color in zip(names, COLORS, strict=False):
                done = curves[(curves["experiment"] == name) & curves["profit_gain_play"].notna()]
                for k, (_, c) in enumerate(done.groupby("seed")):  # iterations that completed episodes
                    ax.plot(c["periods"], c["profit_gain_play"], color=color, lw=0.8, alpha=0.7,
                            label=name if k == 0 else None)
            ax.axhline(0.0, color="grey", lw=1)
            ax.set_xlabel("periods per seed (sessions x periods)")
            ax.set_ylabel("Delta of sampled (exploring) play")
            ax.legend(fontsize=7)
            fig.tight_layout()
            fig.savefig(figs / "budget_learning_curves.png", dpi=120)

    if results_dir is not None:
        results_dir.mkdir(parents=True, exist_ok=True)
        for f in ["budget_results.csv", "budget_untrained.csv", "budget_sanity.csv", "budget_summary.md",
                  "budget_learning_curves.csv", "budget_impulse_nash.csv"]:
            if (out / f).is_file():
                shutil.copy2(out / f, results_dir / f)
        for f in figs.glob("budget_*.png"):
            shutil.copy2(f, results_dir / f.name)
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/tabular_vs_deep_budget")
    parser.add_argument("--only", default=",".join(EXPERIMENTS))
    parser.add_argument("--stage", default=",".join(STAGES), help="comma-separated: " + ", ".join(STAGES))
    parser.add_argument("--set", dest="sets", action="append", default=[])
    parser.add_argument("--sanity-seeds", default="0")
    parser.add_argument("--episodes", type=int, default=None)
    parser.add_argument("--results", default=str(HERE / "results"),
                        help="copy tables and figures here ('' for nowhere)")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    names = [x.strip() for x in args.only.split(",") if x.strip()]
    stages = [x.strip() for x in args.stage.split(",") if x.strip()]
    unknown = set(stages) - set(STAGES) or set(names) - set(EXPERIMENTS)
    if unknown:
        parser.error(f"unknown stage or experiment: {sorted(unknown)}")
    _threads()
    if "train" in stages:
        stage_train(out, names, args.sets, args.episodes)
    if "untrained" in stages:
        stage_untrained(out, names, args.sets, args.episodes)
    if "sanity" in stages:
        stage_sanity(out, names, args.sets, [int(s) for s in args.sanity_seeds.split(",") if s.strip()])
    if "report" in stages:
        print(stage_report(out, Path(args.results) if args.results else None))


if __name__ == "__main__":
    main()
