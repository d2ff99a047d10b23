"""A third-party learner for the plug-in tests: every agent always plays one grid price.

It lives outside the package and reaches marketsai only through the learner contract:
declared settings, a check against the economy, and ``train`` giving one policy per seed.
"""

import numpy as np

from marketsai.errors import SpecError
from marketsai.learners import Learner
from marketsai.params import Param, nonnegative_int
from marketsai.policies import TablePolicy


class FixedPrice(Learner):
    """Plays grid index ``action`` in every state, whatever happened (no learning)."""

    settings = {"action": Param(0, nonnegative_int, "the grid index every agent plays")}
    seeds_per_unit = 4

    def check(self, economy, settings):
        from marketsai.learners.q_learning import finite_problem
        m = finite_problem(economy).n_actions
        if settings["action"] >= m:
            raise SpecError("no such grid price", path="action", value=settings["action"],
                            allowed=f"0..{m - 1}")
        return settings

    def train(self, economy, settings, seeds, run_dir, **kw):
        from marketsai.learners.q_learning import finite_problem
        game = finite_problem(economy)
        table = np.full((game.n_agents, game.n_states), settings["action"])
        return [TablePolicy(game.agents, table, start_state=0,
                            info={"converged": True, "periods": 0}) for _ in seeds]
