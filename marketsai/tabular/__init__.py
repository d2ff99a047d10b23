"""Numba tabular Q-learning: many independent sessions of n Q-learners on a FiniteGame
or on any FiniteModel (transitions as data: endogenous state, feasible actions).

See docs/tabular.md. Public API::

    cfg = QLearningConfig(alpha=0.15, beta=4e-6)
    states = init_sessions(game, cfg, seed=0, sessions=range(100))
    advance(game, cfg, states)                 # until convergence
    res = run_sessions(game, cfg, seed=0, sessions=range(1000))
    res.to_frame()
"""

from marketsai.tabular.config import QLearningConfig
from marketsai.tabular.models import calvano_q0_model
from marketsai.tabular.outcomes import limit_cycle, model_cycle_path, profit_gain
from marketsai.tabular.results import SessionResults, run_sessions, session_outcomes
from marketsai.tabular.sessions import SessionState, advance, calvano_q0, init_sessions

__all__ = ["QLearningConfig", "SessionState", "init_sessions", "advance", "run_sessions",
           "SessionResults", "session_outcomes", "limit_cycle", "profit_gain", "calvano_q0",
           "calvano_q0_model", "model_cycle_path"]
