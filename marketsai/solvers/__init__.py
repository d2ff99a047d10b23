"""Reference solvers: the exact answers learners are measured against.

* :mod:`~marketsai.solvers.dp` -- value / (modified) policy iteration on a single-agent
  :class:`~marketsai.finite_model.FiniteModel` (the twin of tabular Q-learning);
* :mod:`~marketsai.solvers.growth` -- the stochastic growth model: calibrations, the
  Brock--Mirman closed form, the endogenous grid method, the planner's FiniteModel;
* :mod:`~marketsai.solvers.time_iteration` -- time iteration, a cross-check of the EGM;
* :mod:`~marketsai.solvers.two_sector` -- the two-sector economy with labour: steady state
  from its first-order conditions, the delta = 1 closed form, the one-sector collapse;
* :mod:`~marketsai.solvers.sectors` -- the d-sector planner (d capital stocks): its exact
  policy and value for any d (the dimension study);
* :mod:`~marketsai.solvers.krusell_smith` -- Krusell–Smith (1998): EGM household problem,
  histogram simulation, the aggregate law of motion to its fixed point;
* :mod:`~marketsai.solvers.aiyagari` -- Aiyagari (1994): EGM household problem, stationary
  histogram, the interest rate that clears the capital market.
* :mod:`~marketsai.solvers.egm` -- the kernels the three EGM solvers share (the inverse-Euler
  sweep, interpolation on EGM nodes).

Accuracy measures (Euler errors, welfare losses) live in :mod:`marketsai.analysis.euler`.
"""

from marketsai.solvers.aiyagari import AiyagariModel, AiyagariSolution, solve_aiyagari
from marketsai.solvers.dp import (
    DPSolution,
    best_response_values,
    evaluate_policy,
    modified_policy_iteration,
    policy_iteration,
    q_values,
    value_iteration,
)
from marketsai.solvers.growth import (
    GrowthModel,
    GrowthPolicy,
    brock_mirman_calibration,
    brock_mirman_coefficients,
    brock_mirman_policy,
    brock_mirman_value,
    growth_finite_model,
    rbc_calibration,
    solve_egm,
    tabulated_savings,
)
from marketsai.solvers.krusell_smith import (
    KrusellSmithModel,
    KrusellSmithSolution,
    euler_errors,
    jedc_calibration,
    solve_krusell_smith,
    wealth_stats,
)
from marketsai.solvers.time_iteration import solve_time_iteration
from marketsai.solvers.two_sector import (
    TwoSectorModel,
    TwoSectorSteadyState,
    closed_form_policy,
    collapse_to_one_sector,
    foc_residuals,
)
from marketsai.solvers.two_sector import steady_state as two_sector_steady_state

__all__ = ["DPSolution", "GrowthModel", "GrowthPolicy", "best_response_values",
           "brock_mirman_calibration", "brock_mirman_coefficients", "brock_mirman_policy",
           "brock_mirman_value", "evaluate_policy", "growth_finite_model",
           "modified_policy_iteration", "policy_iteration", "q_values", "rbc_calibration",
           "solve_egm", "solve_time_iteration", "tabulated_savings", "value_iteration",
           "TwoSectorModel", "TwoSectorSteadyState", "closed_form_policy", "collapse_to_one_sector",
           "foc_residuals", "two_sector_steady_state", "KrusellSmithModel", "KrusellSmithSolution",
           "euler_errors", "jedc_calibration", "solve_krusell_smith", "wealth_stats",
           "AiyagariModel", "AiyagariSolution", "solve_aiyagari"]
