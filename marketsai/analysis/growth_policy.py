"""A policy of a growth planner read as a savings rule, and the ``growth`` evaluation.

Why: a tabular table, EGM and a neural network are only comparable on one scale, and the
scale of :mod:`marketsai.analysis.euler` takes any vectorised ``savings(k, iz) -> k'``.
Any :class:`~marketsai.policies.Policy` becomes such a rule *through the economy itself*:
for each ``(k, z)`` the :class:`~marketsai.dynamics.EconomyState` the simulation would be
in is built, the planner's observation is what ``econ.observe`` gives (``k`` and ``z``
scaled as in training), the policy acts (economy units: a share, or a grid index) and
the planner's budget applies (``k' = s y`` for a savings share, the grid point for
``next_state``).

* :func:`observations` -- the planner's observations of hand-built states ``(k, iz)``;
* :func:`policy_savings` -- ``savings(k, iz)`` of any policy;
* :func:`growth_report` -- the measures (:data:`REPORT_KEYS`): savings share against the
  reference's share on the reference's ergodic set (Brock--Mirman: ``alpha beta``), Euler
  errors on the box ``(0.8, 1.2) k_ss`` and on the policy's own ergodic path, policy error
  and welfare loss against the reference (:func:`~marketsai.analysis.growth.reference_savings`);
* :func:`planner_capital` -- mean capital against the reference's, the same shocks;
* :class:`GrowthEvaluation` -- the registered ``growth`` evaluation (one row per policy; a
  table policy on the finite model's grid is read linearly in ``k`` between grid points,
  as :func:`~marketsai.analysis.growth.grid_savings` reads tabular sessions); besides
  ``results`` it returns ``growth_curves`` (:mod:`marketsai.analysis.growth_figures`), from
  which it draws the figures ``growth_policy`` and ``growth_euler_errors``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketsai.analysis.euler import (
    ergodic_euler_stats,
    ergodic_policy_error,
    euler_error_stats,
    simulate_path,
    welfare_loss,
)
from marketsai.analysis.evaluation import Evaluation, evaluations, simulation_settings
from marketsai.analysis.growth import grid_savings, growth_model_of, reference_savings
from marketsai.analysis.growth_figures import ergodic_range, growth_curves, growth_figures
from marketsai.analysis.simulate import as_policy, observe_at
from marketsai.errors import SpecError
from marketsai.params import Param, int_range

__all__ = ["REPORT_KEYS", "GrowthEvaluation", "capital_error", "growth_measures", "growth_report", "observations",
           "planner_capital", "policy_savings"]

#: the entries of :func:`growth_report`, in table order
REPORT_KEYS = ("share_err_max", "share_err_mean", "share_min", "share_max", "euler_mean",
               "euler_max", "euler_ergodic_mean", "euler_ergodic_max", "policy_err_max",
               "policy_err_mean", "welfare_loss_pct")


def _planner(econ):
    if len(econ.agents) != 1 or econ.spec.agents[0].type != "planner" or econ.markets:
        raise SpecError("a growth policy needs an economy of exactly one planner and no markets",
                        path="economy.agents", value=[a.type for a in econ.spec.agents],
                        allowed="[planner]")
    if len(econ.aggregate) != 1 or econ.idiosyncratic:
        raise SpecError("a growth policy reads one aggregate TFP process", path="economy.processes",
                        value=[p.name for p in econ.aggregate + econ.idiosyncratic],
                        allowed="exactly one aggregate process")
    return econ.entries[0]


def observations(econ, k, iz) -> np.ndarray:
    """``(n, dim)`` float32: what the planner observes at capital ``k`` and TFP state ``iz``.

    The state is built by hand (:func:`~marketsai.analysis.simulate.observe_at`), so the
    observation is the one the simulation would produce, with the economy's own scaling.

    >>> from marketsai.economy import load_economy
    >>> econ = load_economy("economies/brock_mirman_share.yaml")
    >>> k_ss = econ.entries[0].kind.steady_state()
    >>> observations(econ, np.array([0.5, 1.5]) * k_ss, np.array([0, 4])).round(6).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    ent = _planner(econ)
    return observe_at(econ, {f"{ent.name}.k": np.ravel(k)}, np.ravel(iz))[econ.agents[0]]




def policy_savings(econ, act):
    """``savings(k, iz) -> k'`` of a policy (a :class:`~marketsai.policies.Policy`, or a
    function ``act(obs) -> actions``) in the economy.

    Shares are clipped to the planner's interval (as the environment clips them); grid
    actions are indices into the decision's grid (a share, or ``k'`` for ``next_state``).

    >>> from marketsai.economy import load_economy
    >>> econ = load_economy("economies/brock_mirman_share.yaml")
    >>> f = policy_savings(econ, lambda obs: np.full((len(obs), 1), 0.342))
    >>> round(float(f(np.array([1.0]), np.array([2]))[0]), 6)  # 0.342 * 1 ** 0.36
    0.342
    """
    ent = _planner(econ)
    kind = ent.kind
    dec = econ.decisions[0]
    field = kind.p["productivity"]
    zv = np.ones(econ.exo_chain.n_states) if field is None else \
        np.asarray(econ.exo_chain.value(field), np.float64)
    share = kind.action["choice"] == "savings_share"
    policy = as_policy(econ, act)

    def savings(k, iz):
        k, iz = np.broadcast_arrays(np.asarray(k, np.float64), np.asarray(iz, np.int64))
        obs = observations(econ, k, iz)
        a = np.asarray(policy.act(econ.agents[0], obs)).reshape(len(obs), -1)[:, 0]
        if dec.kind == "grid":
            d = np.asarray(dec.grid)[np.clip(a.astype(np.int64), 0, dec.size - 1)]
        else:
            d = np.clip(a.astype(np.float64), dec.low, dec.high)
        if not share:
            return d.reshape(k.shape)
        y = kind.cash_on_hand(k.ravel(), zv[iz.ravel()])
        return (d * y).reshape(k.shape)
    return savings


def growth_report(econ, savings, *, T: int = 10_000, burn: int = 1000, seed: int = 0,
                  welfare_points: int = 2000) -> dict:
    """The measures of one savings rule in a planner economy (keys :data:`REPORT_KEYS`).

    ``share_*``: the saved share ``k'/y`` against the reference's share on the
    reference's simulated ergodic set (``T`` periods after ``burn``): ``share_err_max``,
    ``share_err_mean`` of ``|s / s_ref - 1|`` (for Brock--Mirman ``s_ref = alpha beta``; the
    goal of the deep-learners issue is ``share_err_max <= 0.01``), ``share_min``,
    ``share_max``. Then the shared measures (:mod:`marketsai.analysis.euler`): Euler errors
    (log10) on ``(0.8, 1.2) k_ss`` x every z and on the policy's own path, ``k'`` against
    the reference on its ergodic set, and the consumption-equivalent welfare loss in
    percent (``inf`` where the rule leaves ``c <= 0`` or drives ``k`` to 0 or infinity).
    Also ``reference`` (``closed_form`` or ``egm``) and ``reference_share`` (its mean share).

    >>> from marketsai.economy import load_economy
    >>> econ = load_economy("economies/brock_mirman_share.yaml")
    >>> rule = policy_savings(econ, lambda obs: np.full((len(obs), 1), 0.9 * 0.342))
    >>> r = growth_report(econ, rule, T=2000, burn=200, welfare_points=200)
    >>> round(r["share_err_max"], 6), round(r["welfare_loss_pct"], 6)
    (0.1, 0.410023)
    """
    return growth_measures(growth_model_of(econ), savings, T=T, burn=burn, seed=seed,
                           welfare_points=welfare_points)


def growth_measures(model, savings, *, T, burn, seed, welfare_points) -> dict:
    """:func:`growth_report`'s measures of ``savings(k, iz)`` on a :class:`~marketsai.solvers.growth.GrowthModel`."""
    ref, ref_name = reference_savings(model)
    k, iz = simulate_path(model, ref, T + burn, np.random.default_rng(seed))
    k, iz = k[burn:], iz[burn:]
    y = model.cash_on_hand(k, model.z_values[iz])
    s = np.asarray(savings(k, iz), np.float64) / y
    s_ref = np.asarray(ref(k, iz), np.float64) / y
    rel = np.abs(s / s_ref - 1.0)
    box = euler_error_stats(model, savings)
    erg = ergodic_euler_stats(model, savings, T=T, burn=burn, seed=seed)
    pol = ergodic_policy_error(model, savings, ref, T=T, burn=burn, seed=seed)
    try:
        loss = welfare_loss(model, savings, ref, points=welfare_points)
    except ValueError:  # c <= 0 somewhere, or capital driven to 0 / infinity
        loss = float("inf")
    return {"share_err_max": float(rel.max()), "share_err_mean": float(rel.mean()),
            "share_min": float(s.min()), "share_max": float(s.max()),
            "euler_mean": box["mean"], "euler_max": box["max"],
            "euler_ergodic_mean": erg["mean"], "euler_ergodic_max": erg["max"],
            "policy_err_max": pol["max"], "policy_err_mean": pol["mean"],
            "welfare_loss_pct": float(loss), "reference": ref_name,
            "reference_share": float(s_ref.mean())}




def planner_capital(econ, act, *, T: int = 10_000, burn: int = 1000, seed: int = 0) -> dict:
    """``K_mean``, ``K_mean_exact``, ``K_err`` of a planner policy: mean capital under ``act``
    and under the reference, the same TFP path, from the steady state."""
    return capital_error(growth_model_of(econ), policy_savings(econ, act), T=T, burn=burn, seed=seed)


def capital_error(model, savings, *, T: int, burn: int, seed: int) -> dict:
    """:func:`planner_capital` of a savings rule ``savings(k, iz)``."""
    ref, _ = reference_savings(model)
    k_ref, _ = simulate_path(model, ref, T + burn, np.random.default_rng(seed))
    k_own, _ = simulate_path(model, savings, T + burn, np.random.default_rng(seed))
    k_ref, k_own = k_ref[burn:-1], k_own[burn:-1]
    return {"K_mean": float(k_own.mean()), "K_mean_exact": float(k_ref.mean()),
            "K_err": float(k_own.mean() / k_ref.mean() - 1.0)}


@evaluations.register("growth")
class GrowthEvaluation(Evaluation):
    """Euler errors, policy error and welfare of a growth planner's policy (module docstring)."""

    headline = ("share_err_max", "share_err_mean", "euler_ergodic_mean", "K_err")

    settings = {
        **simulation_settings(10_000, 1000),
        "welfare_points": Param(2000, int_range(10, 1_000_000), "initial states averaged in the welfare loss"),
    }
    columns = {**{k: "see growth_report" for k in REPORT_KEYS},
               "K_mean": "mean capital under the policy", "K_mean_exact": "... under the reference",
               "K_err": "K_mean / K_mean_exact - 1", "reference": "closed_form or egm",
               "reference_share": "the reference's mean savings share"}

    def check(self, economy) -> None:
        _planner(economy)

    def evaluate(self, economy, policy, settings, seed=0):
        T, burn = settings["periods"], settings["burn"]
        model = growth_model_of(economy)
        table = policy.strategies()
        if table is None:  # read through the economy's observations
            savings = policy_savings(economy, policy)
        else:  # a table on the finite model's grid, linear in k between grid points
            savings = grid_savings(model, economy.finite_model(), np.asarray(table)[0])
        row = growth_measures(model, savings, T=T, burn=burn, seed=seed,
                              welfare_points=settings["welfare_points"])
        row |= capital_error(model, savings, T=T, burn=burn, seed=seed)
        ref, _ = reference_savings(model)
        curves = growth_curves(model, savings, ref, ergodic_range(model, ref, T=T, burn=burn, seed=seed))
        return {"results": pd.DataFrame([row]), "growth_curves": curves}

    def figures(self, tables, economy, settings):
        """``growth_policy`` and ``growth_euler_errors``, drawn from ``growth_curves``."""
        curves = tables.get("growth_curves")
        return {} if curves is None or not len(curves) else growth_figures(curves)

    def summarise(self, tables, settings):
        """Column means; ``reference`` (which rule the errors are read against) as
        ``reference_policy``: a run's summary keeps ``reference`` for published values."""
        res = tables["results"]
        return {("reference_policy" if c == "reference" else c):
                (float(res[c].mean()) if res[c].dtype.kind == "f" else res[c].iloc[0]) for c in res.columns}
