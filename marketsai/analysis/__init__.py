"""Metrics and figures shared by all learners (tabular and deep).

Arrays or DataFrames in, DataFrames out; figures are drawn from tables only, so any
figure can be remade from a run folder.

* :mod:`~marketsai.analysis.profit_gain` -- profit gain, Table I summary by cycle length;
* :mod:`~marketsai.analysis.cycles` -- limit cycles of greedy play;
* :mod:`~marketsai.analysis.impulse` -- impulse responses (paths, table, figure);
* :mod:`~marketsai.analysis.equilibrium` -- best-response / subgame-perfection check;
* :mod:`~marketsai.analysis.heatmap` -- statistics over a two-key sweep;
* :mod:`~marketsai.analysis.euler` -- growth-model Euler errors, policy errors, welfare losses;
* :mod:`~marketsai.analysis.sector_accuracy` -- any rule of the d-sector planner against its exact policy;
* :mod:`~marketsai.analysis.tables` -- result tables as markdown.

Evaluations of a :class:`~marketsai.policies.Policy` in an economy, registered by name in
:data:`marketsai.analysis.evaluations.evaluations` (import that module to use them):

* :mod:`~marketsai.analysis.evaluation` -- the contract and the registry;
* :mod:`~marketsai.analysis.simulate` -- the one simulator of a policy in an economy;
* :mod:`~marketsai.analysis.calvano` -- ``calvano``: profit gain, limit cycles, impulse
  responses, equilibrium checks;
* :mod:`~marketsai.analysis.best_response_check` -- ``best_response``: a single firm's
  greedy price in every state against its static best response (a fixed rival);
* :mod:`~marketsai.analysis.growth_policy` -- ``growth``: Euler, policy and welfare errors;
* :mod:`~marketsai.analysis.households`, :mod:`~marketsai.analysis.market_long_run`,
  :mod:`~marketsai.analysis.market` -- ``market``: clearing, shares against the
  price-taking rule, long-run averages;
* :mod:`~marketsai.analysis.krusell_smith` -- ``krusell_smith``: law of motion, wealth,
  Euler errors;
* :mod:`~marketsai.analysis.sector_accuracy` -- ``sectors``.
"""

from marketsai.analysis.cycles import LimitCycles, limit_cycles, trajectory_cycles
from marketsai.analysis.equilibrium import best_response_q, equilibrium_check, profile_q
from marketsai.analysis.heatmap import heatmap_table, plot_heatmap
from marketsai.analysis.impulse import (
    frame_to_paths,
    impulse_response_paths,
    impulse_response_table,
    paths_to_frame,
    plot_impulse_response,
)
from marketsai.analysis.learning_curve import learning_curve_bands, plot_learning_curve
from marketsai.analysis.profit_gain import (
    CYCLE_CLASSES,
    cycle_class,
    plot_cycle_shares,
    plot_profit_gain_histogram,
    profit_gain,
    profit_gain_summary,
)

__all__ = [
    "CYCLE_CLASSES", "LimitCycles", "best_response_q", "cycle_class", "equilibrium_check",
    "frame_to_paths", "heatmap_table", "impulse_response_paths", "impulse_response_table",
    "limit_cycles", "paths_to_frame", "plot_cycle_shares", "plot_heatmap",
    "learning_curve_bands", "plot_impulse_response", "plot_learning_curve", "plot_profit_gain_histogram", "profile_q", "profit_gain",
    "profit_gain_summary", "trajectory_cycles",
]

# growth-model accuracy measures (marketsai.analysis.euler)
from marketsai.analysis.euler import (  # noqa: E402
    ergodic_euler_stats,
    ergodic_policy_error,
    euler_error_stats,
    euler_errors,
    lifetime_utility,
    simulate_path,
    welfare_loss,
)

__all__ += ["ergodic_euler_stats", "ergodic_policy_error", "euler_error_stats", "euler_errors",
            "lifetime_utility", "simulate_path", "welfare_loss"]

# growth planners on a grid: tabular policies vs the grid's DP floor (marketsai.analysis.growth)
from marketsai.analysis.growth import GrowthAccuracy, growth_model_of  # noqa: E402

__all__ += ["GrowthAccuracy", "growth_model_of"]
