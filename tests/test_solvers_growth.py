"""Growth model: calibrations, the Brock-Mirman closed form, EGM, the planner's FiniteModel."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from marketsai.analysis.euler import ergodic_euler_stats, euler_error_stats, lifetime_utility
from marketsai.processes import tauchen
from marketsai.solvers import growth, modified_policy_iteration, policy_iteration, value_iteration

ROOT = Path(__file__).resolve().parents[1]


def _script(relative: str):
    """A results script of the repository, imported from its file."""
    spec = importlib.util.spec_from_file_location(Path(relative).stem, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: the committed accuracy table's script: what docs/solvers.md quotes, computed as these tests do
accuracy = _script("experiments/growth/solver_accuracy.py")


def test_calibrations():
    bm, rbc = growth.brock_mirman_calibration(), growth.rbc_calibration()
    assert (bm.alpha, bm.beta, bm.delta, bm.gamma, bm.z.n_states) == (0.36, 0.95, 1.0, 1.0, 5)
    assert (rbc.alpha, rbc.beta, rbc.delta, rbc.gamma, rbc.z.n_states) == (0.36, 0.99, 0.025, 1.0, 7)
    lz = np.log(rbc.z_values)
    pi = rbc.z.stationary()
    assert abs(pi @ lz) < 1e-12
    assert np.isclose(np.sqrt(pi @ lz**2), 0.007 / np.sqrt(1 - 0.95**2), rtol=1e-10)


def test_rbc_steady_state_digits():
    k, c, y = growth.rbc_calibration().steady_state()
    assert round(k, 3) == 37.989 and round(c, 4) == 2.7543
    assert np.isclose(y - c, 0.025 * k)  # steady-state investment replaces depreciation


def test_closed_form_z_part_is_exact_on_the_chain():
    bm = growth.brock_mirman_calibration()
    ab = bm.alpha * bm.beta
    A, B, D = growth.brock_mirman_coefficients(bm)
    assert np.isclose(B, bm.alpha / (1 - ab))
    # Rouwenhorst's conditional mean of ln z' is exactly rho ln z: the continuous formula holds
    np.testing.assert_allclose(D, np.log(bm.z_values) / ((1 - ab) * (1 - 0.9 * bm.beta)), atol=1e-13)
    # Tauchen's is not: the chain's own D differs, and it (not the AR(1) formula) solves Bellman
    ta = dataclasses.replace(bm, z=tauchen(5, 0.9, 0.02, log=True))
    _, _, Dt = growth.brock_mirman_coefficients(ta)
    Dcont = np.log(ta.z_values) / ((1 - ab) * (1 - 0.9 * ta.beta))
    assert np.abs(Dt - Dcont).max() > 1e-4
    k = np.random.default_rng(0).uniform(0.05, 0.5, size=(1, 50))
    iz = np.arange(5)[:, None]
    for model in (bm, ta):
        z = model.z_values[iz]
        kp = growth.brock_mirman_policy(model, k, z)
        rhs = np.log(z * k**model.alpha - kp) + model.beta * sum(
            model.P[iz, j] * growth.brock_mirman_value(model, kp, j) for j in range(5))
        np.testing.assert_allclose(growth.brock_mirman_value(model, k, iz), rhs, rtol=0, atol=1e-12)
        for eps in (-0.05, 0.05):  # the closed-form policy beats nearby savings
            kq = kp * (1 + eps)
            other = np.log(z * k**model.alpha - kq) + model.beta * sum(
                model.P[iz, j] * growth.brock_mirman_value(model, kq, j) for j in range(5))
            assert np.all(other < rhs)


def test_closed_form_needs_full_depreciation_and_log_utility():
    with pytest.raises(ValueError, match="delta = 1 and gamma = 1"):
        growth.brock_mirman_policy(growth.rbc_calibration(), 1.0, 1.0)
    with pytest.raises(ValueError, match="delta = 1 and gamma = 1"):
        growth.brock_mirman_value(dataclasses.replace(growth.brock_mirman_calibration(), gamma=2.0), 1.0, 0)


def test_egm_matches_brock_mirman_closed_form():
    bm = growth.brock_mirman_calibration()
    k_ss = bm.steady_state()[0]
    g = np.linspace(0.5, 1.5, 200) * k_ss
    pol = growth.solve_egm(bm, g, c_share0=0.9)  # start far from the solution
    assert pol.converged and pol.iterations > 10
    exact = growth.brock_mirman_policy(bm, g[None, :], bm.z_values[:, None])
    assert np.abs(pol.kp / exact - 1).max() < 1e-8
    k = np.random.default_rng(1).uniform(0.6, 1.4, 1000) * k_ss  # off-grid too
    iz = np.random.default_rng(2).integers(0, 5, 1000)
    assert np.abs(pol.savings(k, iz) / growth.brock_mirman_policy(bm, k, bm.z_values[iz]) - 1).max() < 1e-8
    np.testing.assert_allclose(pol.consumption(k, iz), (1 - bm.alpha * bm.beta) * bm.z_values[iz]
                               * k**bm.alpha, rtol=1e-8)


def test_egm_rbc_euler_errors():
    rbc = growth.rbc_calibration()
    k_ss = rbc.steady_state()[0]
    pol = growth.solve_egm(rbc, np.linspace(0.5, 1.5, 500) * k_ss)
    assert pol.converged
    box = euler_error_stats(rbc, pol.savings)  # (0.8, 1.2) k_ss x all z
    path = ergodic_euler_stats(rbc, pol.savings, T=5000)
    print(f"RBC EGM (500 points) Euler errors: box {box}, ergodic {path}")
    assert box["mean"] < -6 and box["max"] < -6 and path["mean"] < -6
    # linear interpolation: errors fall with the square of the spacing (x 2.5 points: ~0.8 digits)
    coarse = euler_error_stats(rbc, growth.solve_egm(rbc, np.linspace(0.5, 1.5, 200) * k_ss).savings)
    assert 0.6 < coarse["mean"] - box["mean"] < 1.0


@pytest.mark.parametrize("gamma", [1.0, 2.0])
def test_egm_agrees_with_dp_on_the_grid(gamma):
    model = dataclasses.replace(growth.rbc_calibration(), gamma=gamma)
    k_ss = model.steady_state()[0]
    g = np.linspace(0.7, 1.3, 200) * k_ss
    sol = modified_policy_iteration(growth.growth_finite_model(model, g), m=50)
    pol = growth.solve_egm(model, g)
    kp_dp = g[sol.policy].reshape(pol.kp.shape)
    inside = (pol.kp > g[0]) & (pol.kp < g[-1])
    assert inside.mean() > 0.95
    h = g[1] - g[0]
    # DP picks a grid point next to EGM's continuous choice (the nearest would be <= h / 2)
    assert np.abs(kp_dp - pol.kp)[inside].max() <= h
    # and the grid can only lose value, by a second-order amount
    gap = lifetime_utility(model, pol.savings, g) - sol.value.reshape(pol.kp.shape)
    assert 0 < gap.min() and gap.max() < 0.02
    assert euler_error_stats(model, pol.savings)["mean"] < -6


def test_value_iteration_converges_to_closed_form():
    bm = growth.brock_mirman_calibration()
    k_ss = bm.steady_state()[0]
    errors = []
    for n in (50, 100, 200):
        g = np.geomspace(0.5, 1.5, n) * k_ss  # optimal k' stays inside for every grid k and z
        sol = value_iteration(growth.growth_finite_model(bm, g))
        exact = growth.brock_mirman_value(bm, g[None, :], np.arange(5)[:, None]).ravel()
        gap = exact - sol.value
        assert gap.min() > -1e-9  # restricting k' to the grid can only lose value
        errors.append(gap.max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    print(f"VI sup error vs closed form {errors}, orders {orders}")
    # choosing k' on a grid loses O(h^2): the error falls about 4x per halving of the spacing
    assert np.all((orders > 1.5) & (orders < 2.5)), orders
    assert errors[-1] < 5e-5


def test_growth_finite_model_contract():
    bm = growth.brock_mirman_calibration()
    g = np.linspace(0.02, 0.5, 30)
    fm = growth.growth_finite_model(bm, g)
    z = bm.z_values
    assert fm.agents == ("planner",) and fm.n_states == 5 * 30 and fm.n_joint == 30
    assert fm.discount == bm.beta and fm.outcome_name == "consumption"
    np.testing.assert_array_equal(fm.exo_transition, bm.P)
    np.testing.assert_allclose(fm.exo_initial, bm.z.stationary())
    np.testing.assert_array_equal(fm.x_values["k"], g)
    np.testing.assert_array_equal(fm.exo_values["z"], z)
    np.testing.assert_array_equal(fm.action_values[0], g)
    assert fm.x_initial[np.argmin(np.abs(g - bm.steady_state()[0]))] == 1.0
    np.testing.assert_array_equal(fm.next_x[2, 7], np.arange(30))
    assert 1 <= fm.n_feasible.min() < 30  # some choices are infeasible
    for e in range(5):
        for x in range(30):
            y = z[e] * g[x] ** bm.alpha
            f = int(fm.n_feasible[e, x, 0])
            assert f == int(np.sum(y - g > 0))
            np.testing.assert_allclose(fm.rewards[e, x, :f, 0], np.log(y - g[:f]), rtol=1e-14)
            np.testing.assert_allclose(fm.outcomes[e, x, :f, 0], y - g[:f], rtol=1e-14)
            assert np.all(fm.rewards[e, x, f:, 0] == fm.rewards[e, x, f - 1, 0])
    with pytest.raises(ValueError, match="no positive consumption"):
        growth.growth_finite_model(bm, np.linspace(1.0, 2.0, 10))  # y(1, z_min) < 1


def test_dp_policy_as_savings_function():
    bm = growth.brock_mirman_calibration()
    k_ss = bm.steady_state()[0]
    g = np.geomspace(0.5, 1.5, 100) * k_ss
    sol = policy_iteration(growth.growth_finite_model(bm, g))
    f = growth.tabulated_savings(bm, g, g[sol.policy].reshape(5, 100))
    k = g[None, :]
    exact = growth.brock_mirman_policy(bm, k, bm.z_values[:, None])
    assert np.abs(f(k, np.arange(5)[:, None]) - exact).max() <= np.diff(g).max()


def test_time_iteration_cross_checks_egm():
    gaps = accuracy.time_iteration_gaps((100, 300))  # both solvers converged, else it raises
    print(f"time iteration vs EGM, max relative k' gap at 100 / 300 points: {gaps}")
    # same fixed point, different nodes: the gap is interpolation error, O(h^2) (3x points: ~9x)
    assert gaps[0] < 1e-5 and 5 < gaps[0] / gaps[1] < 15


def test_the_committed_accuracy_table_is_what_the_solvers_give():
    """docs/solvers.md quotes experiments/growth/results/solver_accuracy.csv; its cheap checks
    computed afresh give the committed rows (a solver change that moves one shows here: rerun
    the script). The closed form's Euler errors (round-off) and the slower checks are left out."""
    fresh = accuracy.table((accuracy.rbc_egm_euler_errors, accuracy.value_iteration_against_closed_form,
                            accuracy.crra_welfare_loss))
    committed = pd.read_csv(accuracy.OUT, comment="#").merge(fresh[["check", "setting", "statistic"]])
    assert len(committed) == len(fresh) == 16
    pd.testing.assert_frame_equal(fresh, committed, rtol=1e-9, atol=0)
