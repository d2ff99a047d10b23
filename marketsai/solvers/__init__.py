"""Reference solvers: the exact answers learners are measured against.

* :mod:`~marketsai.solvers.dp` -- value / (modified) policy iteration on a single-agent
  :class:`~marketsai.finite_model.FiniteModel` (the twin of tabular Q-learning);
* :mod:`~marketsai.solvers.growth` -- the stochastic growth model: calibrations, the
  Brock--Mirman closed form, the endogenous grid method, the planner's FiniteModel.

Accuracy measures (Euler errors, welfare losses) live in :mod:`marketsai.analysis.euler`.
"""

from marketsai.solvers.dp import (
    DPSolution,
    best_response_values,
    evaluate_policy,
    modified_policy_iteration,
    policy_iteration,
    q_values,
    value_iteration,
)

__all__ = ["DPSolution", "best_response_values", "evaluate_policy", "modified_policy_iteration",
           "policy_iteration", "q_values", "value_iteration"]
