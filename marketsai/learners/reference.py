"""``reference``: a learner that learns nothing and plays a solver's reference policy.

Why a learner: the published tables put a reference row beside every learned one (the
Krusell-Smith solver's policy run in the finite economy, the two-sector steady-state
shares played by every household). As a learner, that row comes from an experiment file
through the same runner, run folder and evaluations as the trained rows -- a check of the
economy and of the measurement, not of learning.

``solution`` names the reference:

* ``closed_form``: the Brock-Mirman optimum -- a planner saves ``alpha beta`` of output;
  households of a growth market play the competitive price-taker's share
  (:func:`marketsai.analysis.households.exact_household_actor`); exact, no settings;
* ``krusell_smith``: the EGM + histogram solution of
  :func:`marketsai.solvers.krusell_smith.solve_krusell_smith`, its savings rule read in the
  economy's own observations (:func:`marketsai.analysis.krusell_smith.reference_actor`);
* ``two_sector_steady_state``: every household plays the exact steady-state decisions
  ``s = p I / (r K + w L)``, ``l = L`` of :func:`marketsai.solvers.two_sector.steady_state`.

The solver's own settings are the section named after the solution (``krusell_smith``:
grids, simulation length, tolerances; ``two_sector_steady_state``: method, tolerance,
iterations); their defaults are the solvers' own (for Krusell-Smith the KS 1998 baseline
of ``experiments/krusell_smith/results/reference.md``), read from the solvers so that
they cannot disagree. A section changed for a solution that is not the one played is
refused (it would be ignored)::

    learner:
      name: reference
      settings:
        solution: krusell_smith
        krusell_smith: {n_a: 100, tol: 1.0e-5}

The policy is a pure function of the economy and the settings, so every seed gets the
same one; ``info`` (columns of the run's results) holds the solver's wall time
``solve_s`` and, for ``krusell_smith``, ``converged`` (the aggregate law of motion within
``tol``) and the solver's own continuum statistics as ``solver_<column>`` (``K_mean``,
``b0_bad``, ``r2_good``, ``den_haan_max``, ``w_gini``, ``iterations``, ``euler_log10_mean``,
``euler_log10_max``, ...): the row a report sets above the finite-economy rows and the
``K`` against which their error is read.
"""

from __future__ import annotations

import dataclasses
import inspect
import time

from marketsai.errors import SpecError
from marketsai.learners.base import Learner, learners
from marketsai.params import Check, Param, int_range, one_of, or_null, positive, real
from marketsai.policies import SharedPolicy
from marketsai.solvers.krusell_smith import KrusellSmithModel, solve_krusell_smith
from marketsai.solvers.two_sector import steady_state

SOLUTIONS = ("closed_form", "krusell_smith", "two_sector_steady_state")

#: largest grid (nodes of one axis) and simulation length (periods) a file may ask for
MAX_NODES = 100_000
MAX_SIMULATION = 10_000_000


def _default(owner, name: str):
    """The solver's own default of ``name`` (a dataclass field or a keyword argument)."""
    if dataclasses.is_dataclass(owner):
        value = {f.name: f.default for f in dataclasses.fields(owner)}[name]
    else:
        value = inspect.signature(owner).parameters[name].default
    return list(value) if isinstance(value, tuple) else value


_brackets_one = Check(lambda x: isinstance(x, list) and len(x) == 2 and all(real(v) for v in x)
                      and 0 < x[0] < 1 < x[1], "[lo, hi] with 0 < lo < 1 < hi",
                      reason="the aggregate-capital grid must bracket the steady state",
                      convert=lambda x: [float(v) for v in x])
_damping = Check(lambda x: positive(x) and x <= 1, "a number in (0, 1]", True)

#: ``solution: krusell_smith``: KrusellSmithModel's grid fields, then solve_krusell_smith's keywords
KRUSELL_SMITH_GRID = {
    "n_a": Param(_default(KrusellSmithModel, "n_a"), int_range(4, MAX_NODES),
                 "savings nodes of the household's EGM grid on [0, k_max]"),
    "a_curv": Param(_default(KrusellSmithModel, "a_curv"), positive, "power spacing of the savings nodes"),
    "k_max": Param(_default(KrusellSmithModel, "k_max"), or_null(positive),
                   "top of the savings grid; null: 8 times the representative-agent capital"),
    "n_K": Param(_default(KrusellSmithModel, "n_K"), int_range(2, MAX_NODES), "aggregate-capital nodes"),
    "K_bounds": Param(_default(KrusellSmithModel, "K_bounds"), _brackets_one,
                      "aggregate-capital grid as multiples of the representative-agent capital"),
    "n_dist": Param(_default(KrusellSmithModel, "n_dist"), int_range(10, MAX_NODES),
                    "points of the wealth histogram"),
    "dist_curv": Param(_default(KrusellSmithModel, "dist_curv"), positive,
                       "power spacing of the histogram points"),
}
KRUSELL_SMITH_SOLVER = {
    "T": Param(_default(solve_krusell_smith, "T"), int_range(12, MAX_SIMULATION),
               "periods of the aggregate-shock path the law of motion is fitted on"),
    "discard": Param(_default(solve_krusell_smith, "discard"), int_range(0, MAX_SIMULATION),
                     "first periods of the path left out of the regression (< T - 10)"),
    "seed": Param(_default(solve_krusell_smith, "seed"), int_range(0, 2**63 - 2),
                  "the solver's shock path (seed + 1: the Den Haan test path); not the run's seeds"),
    "damping": Param(_default(solve_krusell_smith, "damping"), _damping,
                     "weight on the new regression coefficients (1: no damping)"),
    "tol": Param(_default(solve_krusell_smith, "tol"), positive,
                 "stop when the law-of-motion coefficients move less than this"),
    "max_iter": Param(_default(solve_krusell_smith, "max_iter"), int_range(1, 100_000),
                      "most law-of-motion iterations (converged: false when reached)"),
    "egm_tol": Param(_default(solve_krusell_smith, "egm_tol"), positive,
                     "tolerance of the household's EGM near the fixed point"),
    "T_test": Param(_default(solve_krusell_smith, "T_test"), int_range(1, MAX_SIMULATION),
                    "periods of the out-of-sample Den Haan test"),
}
TWO_SECTOR = {
    "method": Param(_default(steady_state, "method"), one_of("closed_form", "newton"),
                    "closed_form: the reduced formulas; newton: the five unreduced conditions"),
    "tol": Param(_default(steady_state, "tol"), positive, "newton: largest residual accepted"),
    "max_iter": Param(_default(steady_state, "max_iter"), int_range(1, 100_000), "newton: most iterations"),
}


def closed_form_policy(economy, options: dict):
    import numpy as np

    from marketsai.analysis.households import exact_household_actor
    if economy.clearing is not None:  # households of a market economy
        return exact_household_actor(economy), {}
    share = economy.entries[0].kind.p["alpha"] * economy.discount
    return (lambda obs: np.full((len(obs), 1), share)), {}


def krusell_smith_policy(economy, options: dict):
    from marketsai.analysis.krusell_smith import reference_actor
    from marketsai.solvers.krusell_smith import euler_error_stats
    grid = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items() if k in KRUSELL_SMITH_GRID}
    sol = solve_krusell_smith(KrusellSmithModel.from_economy(economy, **grid),
                              **{k: v for k, v in options.items() if k in KRUSELL_SMITH_SOLVER})
    info = {"K_mean": sol.K_mean, "K_sd": sol.K_sd, "den_haan_mean": sol.den_haan_in_sample[0],
            "den_haan_max": sol.den_haan_in_sample[1], "iterations": sol.iterations,
            **{f"euler_{k}": v for k, v in euler_error_stats(sol).items()},
            **{f"w_{k}": v for k, v in sol.wealth.items()}}
    for iz, z in enumerate(("bad", "good")):
        info |= {f"b0_{z}": sol.b[iz, 0], f"b1_{z}": sol.b[iz, 1], f"r2_{z}": sol.r2[iz]}
    return reference_actor(economy, sol.policy), {"converged": bool(sol.converged)} | {
        f"solver_{k}": float(v) for k, v in info.items()}


def two_sector_policy(economy, options: dict):
    from marketsai.analysis.market_long_run import constant_actor, two_sector_reference
    ref = two_sector_reference(economy, **options)
    return constant_actor([ref["s"], ref["l"]]), {}


def _newton_converges(economy, options: dict) -> None:
    from marketsai.analysis.market_long_run import two_sector_reference
    from marketsai.economy import Economy
    econ = Economy.from_dict(economy) if isinstance(economy, dict) else economy
    try:
        two_sector_reference(econ, **options)
    except RuntimeError as err:
        raise SpecError(f"the steady state is not found with these settings ({err})",
                        path="two_sector_steady_state.max_iter", value=options["max_iter"],
                        allowed="more iterations, or a larger tol, or method: closed_form") from None


#: solution -> (its solver settings, the policy it plays)
SOLVERS = {"closed_form": ({}, closed_form_policy),
           "krusell_smith": (KRUSELL_SMITH_GRID | KRUSELL_SMITH_SOLVER, krusell_smith_policy),
           "two_sector_steady_state": (TWO_SECTOR, two_sector_policy)}


@learners.register("reference")
class Reference(Learner):
    """The reference solution as a policy (see the module docstring)."""

    settings = {
        "solution": Param(check=one_of(*SOLUTIONS), doc="which solver's policy is played"),
        "krusell_smith": SOLVERS["krusell_smith"][0],
        "two_sector_steady_state": SOLVERS["two_sector_steady_state"][0],
    }
    seeds_per_unit = 100

    def check(self, economy, settings: dict) -> dict:
        """A solver section changed for another solution is refused (it would be ignored);
        the solver settings' relations (``discard < T - 10``) are checked."""
        for name in SOLVERS:
            given = settings.get(name)
            if name == settings["solution"] or given is None:
                continue
            changed = [k for k, p in SOLVERS[name][0].items() if given.get(k) != p.default]
            if changed:
                raise SpecError(f"settings of the {name} solver, but solution is "
                                f"{settings['solution']!r}: they would be ignored",
                                path=f"{name}.{changed[0]}", value=given[changed[0]],
                                allowed=f"solution: {name}, or leave {name} out")
        ks = settings.get("krusell_smith") or {}
        if settings["solution"] == "krusell_smith" and not ks["discard"] < ks["T"] - 10:
            raise SpecError("the regression needs more than 10 periods after the discarded ones",
                            path="krusell_smith.discard", value=ks["discard"],
                            allowed=f"an integer in [0, T - 11 = {ks['T'] - 11}]")
        two = settings.get("two_sector_steady_state") or {}
        if settings["solution"] == "two_sector_steady_state" and two["method"] == "newton":
            _newton_converges(economy, two)  # a few microseconds: fail before the run, not in it
        return settings

    def train(self, economy, settings, seeds, run_dir, *, root_seed=0, threads=None, address=None):
        solution = settings["solution"]
        t0 = time.perf_counter()
        act, solved = SOLVERS[solution][1](economy, settings.get(solution) or {})
        solved["solve_s"] = time.perf_counter() - t0
        out = []
        for seed in seeds:
            policy = SharedPolicy(economy.actors, act)
            policy.info = {"seed": int(seed), **solved}
            out.append(policy)
        return out
