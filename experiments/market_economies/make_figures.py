"""The learned savings rules of the growth market economy against the exact one, as a table and a figure.

For each trained run (``marketsai run`` folders of ``growth_ppo*.yaml``, named as in :data:`RUNS`), the deterministic policy's
savings share in the symmetric state (own capital = mean capital ``K``) on a grid of ``K``
around the steady state, for the lowest, middle and highest TFP state, is written to
``results/growth_policy.csv``; the figure ``docs/figures/growth_market_policy.png`` is drawn
from that table alone (``--from-table`` redraws it without the checkpoints). The exact
share is alpha beta = 0.342 everywhere. Likewise prices, capital and excess demand over
one simulated path of the two-sector economy under its long PPO run
(``results/two_sector_path.csv`` -> ``docs/figures/two_sector_path.png``).

Usage::

    python experiments/market_economies/make_figures.py [--out runs/market_economies]
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: run folder -> (label, N; 0 = the planner economy)
RUNS = {"ppo_stacked_N100_s8": ("PPO stacked, N = 100", 100), "ppo_stacked_N10_s64": ("PPO stacked, N = 10", 10),
        "ppo_N1": ("PPO, N = 1", 1), "ppo_N100": ("PPO, N = 100 (one household per sub-env)", 100),
        "ppo_planner": ("PPO, planner economy", 0)}


PLANNER = ROOT / "economies" / "brock_mirman_share.yaml"
MARKET = ROOT / "economies" / "growth_market.yaml"


def market_economy(n: int):
    import marketsai as mai
    data = mai.load_economy(MARKET).to_dict()
    data["agents"][0]["count"] = n
    return mai.Economy.from_dict(data)


def checkpoint(folder: Path) -> str | None:
    if (folder / "results.parquet").is_file():  # a kind: learn checkpoint is relative to its unit's folder
        ck = pd.read_parquet(folder / "results.parquet")["checkpoint"].iloc[0]
        found = [p for p in [folder / ck, *folder.glob(f"units/*/{ck}")] if p.exists()]
        return str(found[0]) if found else None
    if (folder / "trials.csv").is_file():
        return str(pd.read_csv(folder / "trials.csv")["checkpoint"].iloc[0])
    return None


def actor(ck: str):
    """The deterministic actor of a saved checkpoint (our own: RLlib's warnings silenced)."""
    from marketsai.rl.export import load_module
    from marketsai.rl.policy import module_actor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return module_actor(load_module(ck))


def policy_table(out: Path) -> pd.DataFrame:
    import marketsai as mai
    from marketsai.analysis.growth_policy import policy_savings
    from marketsai.analysis.households import household_share
    rows = []
    for name, (label, n) in RUNS.items():
        ck = checkpoint(out / name)
        if ck is None:
            continue
        act = actor(ck)
        econ = mai.load_economy(PLANNER) if n == 0 else market_economy(n)
        kind = econ.entries[0].kind
        k_ss = kind.steady_state() if n == 0 else kind.k_steady
        K = np.linspace(0.8, 1.2, 41) * k_ss
        states = econ.exo_chain.n_states
        for iz in (0, states // 2, states - 1):
            if n == 0:
                zv = np.asarray(econ.exo_chain.value(kind.p["productivity"]))[iz]
                share = policy_savings(econ, act)(K, np.full(K.shape, iz)) / kind.cash_on_hand(K, zv)
            else:
                share = household_share(econ, act)(K, K, np.full(K.shape, iz))
            rows += [{"run": label, "N": n, "iz": iz, "K_over_kss": x, "share": s}
                     for x, s in zip(K / k_ss, share, strict=True)]
    return pd.DataFrame(rows)


def draw(table: pd.DataFrame, path: Path, exact: float) -> None:
    from matplotlib.figure import Figure
    izs = sorted(table["iz"].unique())
    fig = Figure(figsize=(4.2 * len(izs), 3.6))
    axes = fig.subplots(1, len(izs), sharey=True)
    for ax, iz in zip(np.atleast_1d(axes), izs, strict=True):
        for run, g in table[table["iz"] == iz].groupby("run", sort=False):
            ax.plot(g["K_over_kss"], g["share"], label=run)
        ax.axhline(exact, color="k", lw=1.5, ls="--", label="exact: alpha beta")
        ax.set_title(["lowest TFP", "middle TFP", "highest TFP"][izs.index(iz)] if len(izs) == 3 else f"iz {iz}")
        ax.set_xlabel("capital / steady state (symmetric: own = mean)")
    np.atleast_1d(axes)[0].set_ylabel("savings share of cash on hand")
    np.atleast_1d(axes)[-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def path_table(out: Path, periods: int = 300) -> pd.DataFrame:
    """Prices, capital and the largest excess demand along one simulated path of the
    two-sector economy (N = 10) under the long PPO run's policy, from k0 uniform on
    [0.8, 1.2] k_ss, with the reference steady state's values beside them."""
    from marketsai.analysis.market_long_run import economy_with, market_path, two_sector_reference
    ck = checkpoint(out / "two_sector_ppo_long_unequal")
    if ck is None:
        return pd.DataFrame()
    econ = economy_with(ROOT / "economies" / "two_sector_labor.yaml")
    sim = market_path(econ, actor(ck), sessions=1, periods=periods, seed=0)
    ref = two_sector_reference(econ)
    return pd.DataFrame({"t": np.arange(periods), **{k: sim[k][:, 0] for k in ("K", "p", "r", "w", "excess")},
                         **{f"{k}_ref": ref[k] for k in ("K", "p", "r", "w")}})


def draw_path(table: pd.DataFrame, path: Path) -> None:
    from matplotlib.figure import Figure
    fig = Figure(figsize=(19, 3.4))
    axes = fig.subplots(1, 5)
    for ax, key, title in zip(axes, ("K", "p", "r", "w"), ("capital per household K", "investment-good price p",
                                                            "rental rate r", "wage w"), strict=False):
        ax.plot(table["t"], table[key], label="learned (PPO long)")
        ax.axhline(table[f"{key}_ref"].iloc[0], color="k", ls="--", lw=1.2, label="reference steady state")
        ax.set_title(title)
        ax.set_xlabel("period")
    axes[0].legend(fontsize=7)
    axes[4].semilogy(table["t"], np.maximum(table["excess"], 1e-18))
    axes[4].set_title("largest |excess demand|, all 4 markets")
    axes[4].set_xlabel("period")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "runs" / "market_economies"))
    parser.add_argument("--from-table", action="store_true", help="redraw from results/growth_policy.csv")
    args = parser.parse_args(argv)
    csv = HERE / "results" / "growth_policy.csv"
    table = pd.read_csv(csv) if args.from_table else policy_table(Path(args.out))
    if not args.from_table:
        table.to_csv(csv, index=False)
    path_csv = HERE / "results" / "two_sector_path.csv"
    path = pd.read_csv(path_csv) if args.from_table else path_table(Path(args.out))
    if not args.from_table and len(path):
        path.to_csv(path_csv, index=False)
    if len(path):
        draw_path(path, ROOT / "docs" / "figures" / "two_sector_path.png")
    import marketsai as mai
    econ = mai.load_economy(ROOT / "economies" / "growth_market.yaml")
    firm = next(e for e in econ.entries if e.name == "firm")
    draw(table, ROOT / "docs" / "figures" / "growth_market_policy.png", exact=firm.kind.p["alpha"] * econ.discount)
    print(table.groupby("run")["share"].agg(["min", "max"]))


if __name__ == "__main__":
    import sys
    sys.path.insert(0, str(HERE))
    main()
