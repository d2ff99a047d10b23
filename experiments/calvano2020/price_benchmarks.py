"""Per-firm benchmarks of the Calvano duopolies on their price grids, as a committed CSV:
the baseline's grid ends and, for the asymmetric-cost cells (c1 = 1, c2 in {0.875, 0.75,
0.5}), each firm's profit at the static Nash equilibrium and at the joint-profit optimum.

Why: the docs quote them -- docs/economy_files.md the baseline grid's ends computed from
the exact benchmarks, docs/calvano_robustness.md why Delta on total profits is used for
the asymmetric cells (at c2 = 0.5 the joint optimum pays the high-cost firm less than
Nash). Seconds of compute; nothing is learned.

    PYTHONPATH=. python experiments/calvano2020/price_benchmarks.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from marketsai import load_economy
from marketsai.runner.provenance import write_table

BASELINE = "economies/bertrand_duopoly.yaml"
ASYMMETRIC = "economies/calvano_asymmetric.yaml"
COSTS = (0.875, 0.75, 0.5)  # the sweep of cost_asymmetry.yaml
OUT = Path(__file__).resolve().parent / "results" / "price_benchmarks.csv"


def rows(economy: str, label: str, overrides=None) -> list[dict]:
    game = load_economy(economy, overrides=overrides or {}).finite_game()
    prices = np.asarray(game.prices)
    return [{"economy": label, "firm": firm, "grid_low": prices[..., firm].min(),
             "grid_high": prices[..., firm].max(), "nash_profit": game.nash_payoff[firm],
             "joint_profit": game.coop_payoff[firm]} for firm in range(game.n_agents)]


def main() -> None:
    table = rows(BASELINE, "bertrand_duopoly")
    for cost in COSTS:
        table += rows(ASYMMETRIC, f"calvano_asymmetric, c2 = {cost}", {"agents[1].params.cost": cost})
    frame = pd.DataFrame(table)
    write_table(frame, OUT, command="PYTHONPATH=. python experiments/calvano2020/price_benchmarks.py",
                notes=["per firm: the ends of its price grid, its profit at the static Nash equilibrium "
                       "and at the joint-profit optimum (the finite game's nash_payoff, coop_payoff)"])
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
