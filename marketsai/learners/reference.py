"""``reference``: a learner that learns nothing and plays a solver's reference policy.

Why a learner: the published tables put a reference row beside every learned one (the
Krusell-Smith solver's policy run in the finite economy, the two-sector steady-state
shares played by every household). As a learner, that row comes from an experiment file
through the same runner, run folder and evaluations as the trained rows -- a check of the
economy and of the measurement, not of learning.

``solution`` names the reference:

* ``closed_form``: the Brock-Mirman optimum -- a planner saves ``alpha beta`` of output;
  households of a growth market play the competitive price-taker's share
  (:func:`marketsai.analysis.households.exact_household_actor`);
* ``krusell_smith``: the EGM + histogram solution of
  :func:`marketsai.solvers.krusell_smith.solve_krusell_smith` (its defaults: the
  KS 1998 baseline of ``experiments/krusell_smith/results/reference.md``), its savings rule read in the economy's own observations
  (:func:`marketsai.analysis.krusell_smith.reference_actor`);
* ``two_sector_steady_state``: every household plays the exact steady-state decisions
  ``s = p I / (r K + w L)``, ``l = L`` of :func:`marketsai.solvers.two_sector.steady_state`.

The policy is a pure function of the economy, so every seed gets the same one; ``info``
(columns of the run's results) holds the solver's wall time ``solve_s`` and, for
``krusell_smith``, the solver's own continuum statistics as ``solver_<column>`` (``K_mean``,
``b0_bad``, ``r2_good``, ``den_haan_max``, ``w_gini``, ...): the row a report sets above the
finite-economy rows and the ``K`` against which their error is read.
"""

from __future__ import annotations

import time

from marketsai.learners.base import Learner, learners
from marketsai.params import Param, one_of
from marketsai.policies import SharedPolicy

SOLUTIONS = ("closed_form", "krusell_smith", "two_sector_steady_state")


def closed_form_policy(economy):
    import numpy as np

    from marketsai.analysis.households import exact_household_actor
    if economy.clearing is not None:  # households of a market economy
        return exact_household_actor(economy), {}
    share = economy.entries[0].kind.p["alpha"] * economy.discount
    return (lambda obs: np.full((len(obs), 1), share)), {}


def krusell_smith_policy(economy):
    from marketsai.analysis.krusell_smith import reference_actor, reference_solution
    from marketsai.solvers.krusell_smith import KrusellSmithModel
    sol = reference_solution(KrusellSmithModel.from_economy(economy))  # shared with the evaluation
    info = {"K_mean": sol.K_mean, "K_sd": sol.K_sd, "den_haan_mean": sol.den_haan_in_sample[0],
            "den_haan_max": sol.den_haan_in_sample[1], **{f"w_{k}": v for k, v in sol.wealth.items()}}
    for iz, z in enumerate(("bad", "good")):
        info |= {f"b0_{z}": sol.b[iz, 0], f"b1_{z}": sol.b[iz, 1], f"r2_{z}": sol.r2[iz]}
    return reference_actor(economy, sol.policy), {f"solver_{k}": float(v) for k, v in info.items()}


def two_sector_policy(economy):
    from marketsai.analysis.market_long_run import constant_actor, two_sector_reference
    ref = two_sector_reference(economy)
    return constant_actor([ref["s"], ref["l"]]), {}


@learners.register("reference")
class Reference(Learner):
    """The reference solution as a policy (see the module docstring)."""

    settings = {
        "solution": Param(check=one_of(*SOLUTIONS), doc="which solver's policy is played"),
    }
    seeds_per_unit = 100

    def train(self, economy, settings, seeds, run_dir, *, root_seed=0, threads=None, address=None):
        make = {"closed_form": closed_form_policy, "krusell_smith": krusell_smith_policy,
                "two_sector_steady_state": two_sector_policy}
        t0 = time.perf_counter()
        act, solved = make[settings["solution"]](economy)
        solved["solve_s"] = time.perf_counter() - t0
        out = []
        for seed in seeds:
            policy = SharedPolicy(economy.actors, act)
            policy.info = {"seed": int(seed), **solved}
            out.append(policy)
        return out
