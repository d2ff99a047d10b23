"""Euler errors, policy errors and welfare losses: closed forms in Brock-Mirman, signs and
orders elsewhere."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from marketsai.analysis import euler
from marketsai.solvers.growth import (
    brock_mirman_calibration,
    brock_mirman_value,
    rbc_calibration,
    solve_egm,
)

BM = brock_mirman_calibration()
AB = BM.alpha * BM.beta


def share_rule(model, s):
    """Save a constant share s of output: k' = s z k^alpha (optimal at s = alpha beta in BM)."""
    return lambda k, iz: s * model.z_values[np.asarray(iz)] * np.asarray(k) ** model.alpha


def bm_loss(s):
    """Closed form: V_ab - V_s = Delta / (1 - beta) in every state, so the loss is exp(Delta) - 1."""
    return 100 * ((1 - AB) / (1 - s) * (AB / s) ** (AB / (1 - AB)) - 1)


def test_exact_policy_has_tiny_errors_and_wrong_share_has_the_derived_error():
    exact = share_rule(BM, AB)
    box = euler.euler_error_stats(BM, exact)
    path = euler.ergodic_euler_stats(BM, exact, T=3000)
    assert box["max"] < -10 and path["max"] < -10
    # with k' = s z k^alpha the Euler ratio is exactly s / (alpha beta): error |1 - s / ab|
    k = np.random.default_rng(0).uniform(0.1, 0.3, size=(1, 40))
    for factor in (0.9, 1.05):
        err = euler.euler_errors(BM, share_rule(BM, factor * AB), k, np.arange(5)[:, None])
        np.testing.assert_allclose(err, np.log10(abs(1 - factor)), atol=1e-10)
    assert euler.euler_error_stats(BM, share_rule(BM, 0.9 * AB))["mean"] > -2


def slow_euler_error(model, savings, k, iz):
    """Plain-Python twin: one point, loops over z'."""
    kp = float(savings(np.array([k]), np.array([iz]))[0])
    c = model.z_values[iz] * k**model.alpha + (1 - model.delta) * k - kp
    expect = 0.0
    for j, zj in enumerate(model.z_values):
        kpp = float(savings(np.array([kp]), np.array([j]))[0])
        c2 = zj * kp**model.alpha + (1 - model.delta) * kp - kpp
        expect += model.P[iz, j] * c2 ** (-model.gamma) * (1 + model.alpha * zj * kp ** (model.alpha - 1)
                                                           - model.delta)
    return np.log10(abs(1 - (model.beta * expect) ** (-1 / model.gamma) / c))


def test_vectorised_errors_match_slow_twin_crra():
    model = dataclasses.replace(rbc_calibration(), gamma=2.5)
    k_ss = model.steady_state()[0]
    rule = lambda k, iz: 0.97 * (model.z_values[iz] * k**model.alpha  # noqa: E731
                                 + (1 - model.delta) * k) - 0.02 * k_ss
    k = np.array([0.8, 1.0, 1.3]) * k_ss
    iz = np.array([0, 3, 6])
    fast = euler.euler_errors(model, rule, k, iz)
    slow = [slow_euler_error(model, rule, kk, ii) for kk, ii in zip(k, iz, strict=True)]
    np.testing.assert_allclose(fast, slow, rtol=1e-12)


def test_infeasible_policy_reports_inf():
    eat_nothing = lambda k, iz: BM.z_values[iz] * k**BM.alpha * 1.01  # noqa: E731
    assert np.all(np.isinf(euler.euler_errors(BM, eat_nothing, np.array([0.2]), np.array([1]))))


def test_lifetime_utility_of_exact_policy_is_closed_form():
    g = np.geomspace(0.05, 0.5, 300)
    V = euler.lifetime_utility(BM, share_rule(BM, AB), g)
    exact = brock_mirman_value(BM, g[None, :], np.arange(5)[:, None])
    np.testing.assert_allclose(V, exact, rtol=0, atol=1e-8)  # V affine in log k: no interpolation error


@pytest.mark.parametrize("factor", [0.9, 0.8, 1.1])
def test_welfare_loss_closed_form(factor):
    s = factor * AB
    loss = euler.welfare_loss(BM, share_rule(BM, s), share_rule(BM, AB), points=300)
    assert loss > 0
    assert np.isclose(loss, bm_loss(s), rtol=1e-7, atol=1e-9)
    # not at the steady state only: the loss is the same at every initial capital
    assert np.isclose(euler.welfare_loss(BM, share_rule(BM, s), share_rule(BM, AB), k0=0.1, points=300),
                      bm_loss(s), rtol=1e-7)


def test_egm_policy_loses_nothing_and_matches_reference():
    g = np.linspace(0.5, 1.5, 100) * BM.steady_state()[0]
    egm = solve_egm(BM, g, c_share0=0.8)
    assert abs(euler.welfare_loss(BM, egm.savings, share_rule(BM, AB), points=300)) < 1e-9
    err = euler.ergodic_policy_error(BM, egm.savings, share_rule(BM, AB), T=2000)
    assert err["max"] < 1e-9
    wrong = euler.ergodic_policy_error(BM, share_rule(BM, 0.9 * AB), share_rule(BM, AB), T=2000)
    assert np.isclose(wrong["max"], 0.1) and np.isclose(wrong["mean"], 0.1)


def test_crra_welfare_loss_is_second_order():
    model = dataclasses.replace(rbc_calibration(), gamma=2.0)
    k_ss = model.steady_state()[0]
    ref = solve_egm(model, np.linspace(0.5, 1.5, 300) * k_ss)

    def perturbed(eps):  # invest eps less than optimal (relative to steady-state investment)
        return lambda k, iz: ref.savings(k, iz) - eps * model.delta * k_ss

    grid = np.geomspace(0.3, 1.6, 400) * k_ss
    l1 = euler.welfare_loss(model, perturbed(0.05), ref.savings, k_grid=grid)
    l2 = euler.welfare_loss(model, perturbed(0.10), ref.savings, k_grid=grid)
    print(f"CRRA(2) RBC welfare loss of under-investing 5% / 10%: {l1:.3g}% / {l2:.3g}%")
    assert 0 < l1 < l2
    assert 3.5 < l2 / l1 < 4.5  # the reference is optimal: the loss is quadratic in the deviation


def test_simulate_path_is_reproducible():
    rule = share_rule(BM, AB)
    k1, z1 = euler.simulate_path(BM, rule, 200, np.random.default_rng(5))
    k2, z2 = euler.simulate_path(BM, rule, 200, np.random.default_rng(5))
    np.testing.assert_array_equal(k1, k2)
    np.testing.assert_array_equal(z1, z2)
    assert k1.shape == z1.shape == (201,)
    np.testing.assert_allclose(k1[1:], AB * BM.z_values[z1[:-1]] * k1[:-1] ** BM.alpha)
