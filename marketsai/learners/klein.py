"""``klein_q_learning``: Klein's (2021) sequential-move Q-learners as a registered learner.

Why a learner of its own: Klein's firms move in turn, condition only on the rival's current
price and update over the two periods a price stands (:mod:`marketsai.tabular.klein`);
Calvano's simultaneous learners (``q_learning``) do none of this. Any duopoly whose two
firms choose from one price grid can be learned this way (``economies/klein_k6.yaml`` is
Klein's market).

A seed is a session of the root seed (its random stream is ``(root seed, seed)``). Each
policy is a :class:`~marketsai.policies.TablePolicy` on the economy's memory-1 game: in
state ``(p_0, p_1)`` firm 0 plays its reaction ``R_0(p_1)`` and firm 1 ``R_1(p_0)``; its
``start_state`` holds the final prices and ``info`` the learner's own numbers:
``profitability`` (mean per-firm profit over the last ``tail`` periods, Klein's measure),
``next_mover`` (the firm to move after period ``T``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from marketsai.errors import SpecError
from marketsai.learners.base import Learner, learners
from marketsai.params import Check, Param, int_range, positive, unit_open
from marketsai.policies import TablePolicy

RESULTS_FILE = "klein_sessions.npz"


def klein_game(economy):
    """The economy's memory-1 finite game, refused unless it is a duopoly on one grid."""
    game = economy.finite_game()
    if game.n_agents != 2 or game.memory != 1 or game.n_exo != 1:
        raise SpecError("Klein's learners need a duopoly with memory 1 and no exogenous shocks",
                        path="economy.agents", value=f"{game.n_agents} agents, memory {game.memory}",
                        allowed="two firms on one price grid, observation: {memory: 1}")
    if not np.array_equal(game.actions[0], game.actions[1]):
        raise SpecError("Klein's state is the rival's price on the mover's own grid: both firms "
                        "need the same price grid", path="economy.agents[1].action",
                        value=game.actions[1].tolist(), allowed=f"the grid {game.actions[0].tolist()}")
    return game


@learners.register("klein_q_learning")
class KleinQLearning(Learner):
    """Klein's (2021) sequential Q-learners (see the module docstring)."""

    settings = {
        "alpha": Param(0.3, Check(lambda x: positive(x) and x <= 1, "a number in (0, 1]", True), "learning rate"),
        "periods": Param(500_000, int_range(2, 10**10), "T: periods of learning"),
        "final_epsilon": Param(1e-6, unit_open, "exploration at T: eps_t = final_epsilon^(t / T)"),
        "tail": Param(1000, int_range(1, 10**7), "last periods averaged for profitability"),
    }
    seeds_per_unit = 250

    def check(self, economy, settings: dict) -> dict:
        from marketsai.economy import Economy
        econ = Economy.from_dict(economy) if isinstance(economy, dict) else economy
        klein_game(econ)
        if settings["tail"] > settings["periods"]:
            raise SpecError("the tail is longer than the run", path="tail", value=settings["tail"],
                            allowed=f"an integer in [1, periods = {settings['periods']}]")
        return settings

    def train(self, economy, settings, seeds, run_dir, *, root_seed=0, threads=None, address=None):
        from marketsai.tabular.klein import KleinSettings, run_klein_sessions

        game = klein_game(economy)
        seeds = [int(s) for s in seeds]
        path = Path(run_dir) / RESULTS_FILE
        saved = np.load(path) if path.is_file() else None
        if saved is not None and int(saved["root_seed"]) == root_seed and saved["sessions"].tolist() == seeds:
            greedy, final, profitability = saved["greedy"], saved["final"], saved["profitability"]
        else:
            res = run_klein_sessions(game.payoff_matrix(), economy.discount, KleinSettings(**settings),
                                     seed=root_seed, sessions=seeds, threads=threads)
            greedy, final, profitability = res.greedy, res.final_prices, res.profitability
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, root_seed=root_seed, sessions=np.array(seeds), greedy=greedy, final=final,
                     profitability=profitability)
            tmp.replace(path)
        m = game.n_actions
        p0, p1 = np.divmod(np.arange(m * m), m)  # memory-1 state: firm 0's price most significant
        next_mover = settings["periods"] % 2  # period T moved firm (T - 1) mod 2
        return [TablePolicy(game.agents, np.stack([greedy[k, 0][p1], greedy[k, 1][p0]]),
                            start_state=int(final[k, 0] * m + final[k, 1]),
                            info={"profitability": float(profitability[k]), "next_mover": next_mover})
                for k in range(len(seeds))]
