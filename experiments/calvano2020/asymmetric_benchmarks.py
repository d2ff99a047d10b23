"""Per-firm Nash and joint-monopoly profits of the asymmetric-cost cells (c1 = 1, c2 in
{0.875, 0.75, 0.5}) as a committed CSV.

Why: docs/calvano_robustness.md explains why Delta on total profits is used for these
cells -- at c2 = 0.5 the joint optimum pays the high-cost firm less than Nash -- and that
statement quotes these benchmarks. Seconds of compute; nothing is learned.

    PYTHONPATH=. python experiments/calvano2020/asymmetric_benchmarks.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from marketsai import load_economy
from marketsai.runner.provenance import write_table

ECONOMY = "economies/calvano_asymmetric.yaml"
COSTS = (0.875, 0.75, 0.5)  # the sweep of cost_asymmetry.yaml
OUT = Path(__file__).resolve().parent / "results" / "asymmetric_benchmarks.csv"


def main() -> None:
    rows = []
    for cost in COSTS:
        game = load_economy(ECONOMY, overrides={"agents[1].params.cost": cost}).finite_game()
        for firm in range(2):
            rows.append({"c2": cost, "firm": firm, "nash_profit": game.nash_payoff[firm],
                         "joint_profit": game.coop_payoff[firm]})
    frame = pd.DataFrame(rows)
    write_table(frame, OUT, command="PYTHONPATH=. python experiments/calvano2020/asymmetric_benchmarks.py",
                notes=[f"{ECONOMY}: per-firm profit at the static Nash "
                       "equilibrium and at the joint-profit optimum (the game's nash_payoff, coop_payoff; firm 0 has cost 1)"])
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
