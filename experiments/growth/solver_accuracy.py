"""Accuracy of the growth model's solvers (docs/solvers.md, "Measured accuracy and speed").

Why a script: the page's accuracy table was typed in from what ``pytest -s`` printed; the
tests assert bounds, not digits. This computes each check with the same calls and
settings as the test named in its ``test`` column and writes the committed table
``results/solver_accuracy.csv`` (with its ``.source.json``) that ``docs/tables.py`` renders;
``tests/test_solvers_growth.py`` checks the cheap checks against a fresh computation.
Nothing is learned or random except the simulated ergodic path (seed 0, the default). The
DP-against-quantecon check needs the dev extra's quantecon (``tests/dp_oracle.py``).

Usage (about a minute)::

    python experiments/growth/solver_accuracy.py
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from marketsai.analysis.euler import (
    ergodic_euler_stats,
    euler_error_stats,
    lifetime_utility,
    welfare_loss,
)
from marketsai.runner.provenance import write_table
from marketsai.solvers import growth, modified_policy_iteration, policy_iteration, value_iteration
from marketsai.solvers.time_iteration import solve_time_iteration

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "experiments" / "growth" / "results" / "solver_accuracy.csv"
COLUMNS = ("check", "setting", "statistic", "value", "test")


def _rows(check: str, test: str, *values: tuple[str, str, float]) -> list[dict]:
    return [{"check": check, "setting": setting, "statistic": statistic, "value": float(value),
             "test": test} for setting, statistic, value in values]


def egm_against_closed_form() -> list[dict]:
    """EGM on Brock-Mirman, started far from the solution, against ``k' = alpha beta z k^alpha``."""
    bm = growth.brock_mirman_calibration()
    g = np.linspace(0.5, 1.5, 200) * bm.steady_state()[0]
    pol = growth.solve_egm(bm, g, c_share0=0.9)
    exact = growth.brock_mirman_policy(bm, g[None, :], bm.z_values[:, None])
    return _rows("EGM vs the Brock–Mirman closed form", "test_solvers_growth.py::test_egm_matches_brock_mirman_closed_form",
                 ("200 points on (0.5, 1.5) k_ss, from c_share0 = 0.9", "max abs(k'/k'_exact - 1) on the grid",
                  np.abs(pol.kp / exact - 1).max()))


def rbc_egm_euler_errors() -> list[dict]:
    """Euler errors (log10) of RBC EGM at three grid sizes on (0.8, 1.2) k_ss x every z, and
    of the 500-point policy on its simulated ergodic path."""
    rbc = growth.rbc_calibration()
    k_ss = rbc.steady_state()[0]
    rows = []
    for n in (200, 500, 1000):
        savings = growth.solve_egm(rbc, np.linspace(0.5, 1.5, n) * k_ss).savings
        box = euler_error_stats(rbc, savings)
        setting = f"{n} points on (0.5, 1.5) k_ss; errors on (0.8, 1.2) k_ss"
        rows += _rows("RBC EGM Euler errors (log10)", "test_solvers_growth.py::test_egm_rbc_euler_errors",
                      (setting, "mean", box["mean"]), (setting, "max", box["max"]))
        if n == 500:
            path = ergodic_euler_stats(rbc, savings, T=5000)
            setting = "500 points; errors on the ergodic path (T = 5000, seed 0)"
            rows += _rows("RBC EGM Euler errors (log10)", "test_solvers_growth.py::test_egm_rbc_euler_errors",
                          (setting, "mean", path["mean"]), (setting, "max", path["max"]))
    return rows


def exact_policy_euler_errors() -> list[dict]:
    """Euler errors (log10) of the Brock-Mirman closed form: floating-point rounding."""
    bm = growth.brock_mirman_calibration()
    box = euler_error_stats(bm, lambda k, iz: growth.brock_mirman_policy(bm, k, bm.z_values[iz]))
    test = "test_euler.py::test_exact_policy_has_tiny_errors_and_wrong_share_has_the_derived_error"
    return _rows("exact Brock–Mirman policy, Euler errors (log10)", test,
                 ("on (0.8, 1.2) k_ss", "mean", box["mean"]), ("on (0.8, 1.2) k_ss", "max", box["max"]))


def value_iteration_against_closed_form() -> list[dict]:
    """Value iteration on log-spaced Brock-Mirman grids: sup error of the value against the
    closed form, and its order of convergence between grid sizes."""
    bm = growth.brock_mirman_calibration()
    k_ss = bm.steady_state()[0]
    sizes, errors = (50, 100, 200), []
    for n in sizes:
        g = np.geomspace(0.5, 1.5, n) * k_ss
        sol = value_iteration(growth.growth_finite_model(bm, g))
        errors.append((growth.brock_mirman_value(bm, g[None, :], np.arange(5)[:, None]).ravel() - sol.value).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    test = "test_solvers_growth.py::test_value_iteration_converges_to_closed_form"
    check = "VI on a log grid vs the Brock–Mirman closed form"
    return (_rows(check, test, *[(f"{n} points", "sup abs(V - V_exact)", e) for n, e in zip(sizes, errors, strict=True)])
            + _rows(check, test, *[(f"{a} -> {b} points", "order of convergence", o)
                                   for a, b, o in zip(sizes, sizes[1:], orders, strict=False)]))


def dp_against_quantecon() -> list[dict]:
    """VI, PI and MPI against quantecon's ``DiscreteDP`` on three random MDPs and the
    Brock-Mirman (60 points) and RBC (40 points) grids."""
    sys.path.insert(0, str(ROOT / "tests"))
    from dp_oracle import quantecon_solution, random_mdp  # tests/dp_oracle.py: the tests' oracle

    models = [random_mdp(seed, x_axis=seed != 2) for seed in range(3)]
    for calibration, n_k in ((growth.brock_mirman_calibration, 60), (growth.rbc_calibration, 40)):
        model = calibration()
        models.append(growth.growth_finite_model(model, np.linspace(0.6, 1.4, n_k) * model.steady_state()[0]))
    gaps, same = [], []
    for model in models:
        ref = quantecon_solution(model)
        for solve in (value_iteration, policy_iteration, modified_policy_iteration):
            sol = solve(model)
            gaps.append(np.abs(sol.value - ref.v).max())
            same.append(np.array_equal(sol.policy, ref.sigma))
    setting = "3 random MDPs, Brock–Mirman 60 and RBC 40 points; VI, PI, MPI"
    return _rows("DP vs quantecon DiscreteDP", "test_solvers_dp.py::test_random_mdp_matches_quantecon, "
                 "::test_growth_grid_matches_quantecon",
                 (setting, "max abs(V - V_quantecon)", max(gaps)),
                 (setting, f"solutions with quantecon's policy (of {len(same)})", sum(same)))


def dp_against_egm() -> list[dict]:
    """Modified policy iteration on a 200-point RBC grid against EGM on the same nodes:
    the DP choice's distance from EGM's continuous one, and the value the grid loses."""
    rows = []
    for gamma in (1.0, 2.0):
        model = dataclasses.replace(growth.rbc_calibration(), gamma=gamma)
        g = np.linspace(0.7, 1.3, 200) * model.steady_state()[0]
        sol = modified_policy_iteration(growth.growth_finite_model(model, g), m=50)
        pol = growth.solve_egm(model, g)
        kp_dp = g[sol.policy].reshape(pol.kp.shape)
        inside = (pol.kp > g[0]) & (pol.kp < g[-1])
        gap = lifetime_utility(model, pol.savings, g) - sol.value.reshape(pol.kp.shape)
        setting = f"gamma {gamma:g}, 200 points on (0.7, 1.3) k_ss"
        rows += _rows("RBC DP (MPI) on the grid vs EGM", "test_solvers_growth.py::test_egm_agrees_with_dp_on_the_grid",
                      (setting, "max abs(k'_DP - k'_EGM) / grid step (k' inside the grid)",
                       np.abs(kp_dp - pol.kp)[inside].max() / (g[1] - g[0])),
                      (setting, "V_EGM - V_DP, min", gap.min()), (setting, "V_EGM - V_DP, max", gap.max()))
    return rows


def time_iteration_gaps(sizes=(100, 300)) -> list[float]:
    """Time iteration and EGM (gamma 3, delta 0.1: no closed form) on ``n`` points of
    (0.5, 1.5) k_ss, for each ``n``: the largest relative gap of their savings on 400 points
    of (0.8, 1.2) k_ss (``tests/test_solvers_growth.py`` asserts its bounds)."""
    model = dataclasses.replace(growth.brock_mirman_calibration(), gamma=3.0, delta=0.1)
    k_ss = model.steady_state()[0]
    k = np.linspace(0.8, 1.2, 400) * k_ss
    gaps = []
    for n in sizes:
        g = np.linspace(0.5, 1.5, n) * k_ss
        ti, egm = solve_time_iteration(model, g), growth.solve_egm(model, g)
        if not (ti.converged and egm.converged):
            raise RuntimeError(f"{n} points: time iteration or EGM did not converge")
        gaps.append(max(np.abs(ti.savings(k, e) / egm.savings(k, e) - 1).max() for e in range(5)))
    return gaps


def time_iteration_against_egm() -> list[dict]:
    return _rows("time iteration vs EGM (gamma 3, delta 0.1)", "test_solvers_growth.py::test_time_iteration_cross_checks_egm",
                 *[(f"{n} points on (0.5, 1.5) k_ss", "max abs(k'_TI / k'_EGM - 1)", gap)
                   for n, gap in zip((100, 300), time_iteration_gaps((100, 300)), strict=True)])


def crra_welfare_loss() -> list[dict]:
    """Welfare loss (% of consumption) of investing 5% and 10% of delta k_ss too little in
    RBC with gamma 2: second order in the deviation (ratio near 4)."""
    model = dataclasses.replace(growth.rbc_calibration(), gamma=2.0)
    k_ss = model.steady_state()[0]
    ref = growth.solve_egm(model, np.linspace(0.5, 1.5, 300) * k_ss)
    grid = np.geomspace(0.3, 1.6, 400) * k_ss

    def loss(eps):
        return welfare_loss(model, lambda k, iz: ref.savings(k, iz) - eps * model.delta * k_ss, ref.savings,
                            k_grid=grid)

    l1, l2 = loss(0.05), loss(0.10)
    setting = "RBC, gamma 2, against EGM on 300 points"
    return _rows("welfare loss of under-investing", "test_euler.py::test_crra_welfare_loss_is_second_order",
                 (setting, "loss % at 5% of delta k_ss", l1), (setting, "loss % at 10% of delta k_ss", l2),
                 (setting, "ratio 10% / 5%", l2 / l1))


CHECKS = (egm_against_closed_form, rbc_egm_euler_errors, exact_policy_euler_errors,
          value_iteration_against_closed_form, dp_against_quantecon, dp_against_egm,
          time_iteration_against_egm, crra_welfare_loss)


def table(checks=CHECKS) -> pd.DataFrame:
    return pd.DataFrame([row for check in checks for row in check()], columns=list(COLUMNS))


def main() -> None:
    write_table(table(), OUT, command="python experiments/growth/solver_accuracy.py", seed=0,
                notes=("each row: the check, its setting, the statistic, the value, the test that "
                       "asserts its bound",))
    print(OUT)


if __name__ == "__main__":
    main()
