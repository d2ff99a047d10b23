"""Krusell-Smith reference solver: convergence to the published law of motion, budgets and
market clearing of the histogram simulation, Euler accuracy, another calibration."""

from __future__ import annotations

import numpy as np
import pytest

from marketsai.solvers.krusell_smith import (
    HARK_ALM,
    PUBLISHED_ALM,
    KrusellSmithModel,
    euler_error_stats,
    euler_errors,
    initial_distribution,
    jedc_calibration,
    solve_krusell_smith,
    step_distribution,
    wealth_stats,
)

# A shorter sample than the 11,000 / 1,000 of the docs keeps the module near 30 s; the
# histogram has no idiosyncratic sampling noise, and at this length the coefficients
# differ from the full-length ones by about 2e-4 (docs/krusell_smith.md).
T, DISCARD = 4000, 500


@pytest.fixture(scope="module")
def sol():
    return solve_krusell_smith(KrusellSmithModel(), T=T, discard=DISCARD, T_test=2000)


def test_chain_durations_and_unemployment():
    m = KrusellSmithModel()
    P, Pz = m.P, m.Pz
    assert np.allclose(Pz, [[0.875, 0.125], [0.125, 0.875]])
    for iz, spell in ((0, 2.5), (1, 1.5)):
        s = 2 * iz  # unemployed in regime iz, staying in it
        p_stay = P[s, s] / Pz[iz, iz]
        assert np.isclose(1.0 / (1.0 - p_stay), spell)
    for iz in range(2):
        for iz2 in range(2):
            blk = P[2 * iz:2 * iz + 2, 2 * iz2:2 * iz2 + 2] / Pz[iz, iz2]
            u, u2 = m.unemployment[iz], m.unemployment[iz2]
            assert np.isclose(u * blk[0, 0] + (1 - u) * blk[1, 0], u2)


def test_converges_to_published_law_of_motion(sol):
    assert sol.converged
    assert np.max(np.abs(sol.b - PUBLISHED_ALM)) < 0.005, sol.b
    assert np.max(np.abs(sol.b - HARK_ALM)) < 0.005, sol.b
    assert np.all(sol.r2 > 0.9999), sol.r2
    # the law of motion, iterated on its own on a fresh path, stays within 1 % of K
    assert sol.den_haan_max < 1.0 and sol.den_haan_mean < 0.3
    assert 10.5 < sol.K_mean < 12.5 and 0.1 < sol.K_sd < 1.0
    assert sol.clipped_max < 1e-10  # the grid is wide enough


def test_histogram_aggregates_and_markets_clear(sol):
    m, pol = sol.model, sol.policy
    D = sol.D_final
    kd = m.dist_grid()
    for iz, iz2 in ((0, 0), (0, 1), (1, 0), (1, 1)):
        # the unemployment rate of the distribution is exactly u_z (and u_z' after the step)
        D0 = D * np.array([[m.unemployment[iz] / D[0].sum()], [(1 - m.unemployment[iz]) / D[1].sum()]])
        out = step_distribution(pol, D0, iz, iz2)
        assert np.isclose(out["unemployment"], m.unemployment[iz], atol=1e-14)
        assert np.isclose(out["unemployment_next"], m.unemployment[iz2], atol=1e-14)
        assert np.isclose(out["D_next"].sum(), 1.0, atol=1e-13)
        # aggregate capital of the next distribution = integral of the policies (lottery is mean-preserving)
        assert np.isclose(out["K_next"], out["sum_kp"], rtol=1e-13)
        # goods market: C + K' = Y + (1 - delta) K; the benefit is paid by the tax
        K = out["K"]
        assert np.isclose(out["C"] + out["sum_kp"], out["Y"] + (1 - m.delta) * K, rtol=1e-12)
        assert np.isclose(out["taxes"], out["benefits"], atol=1e-14)
        # factor prices are marginal products of Y = z K^alpha L^(1-alpha)
        h = 1e-6 * K
        mpk = (m.output(K + h, iz) - m.output(K - h, iz)) / (2 * h)
        L = m.L[iz]
        z = m.z[iz]
        mpl = z * K**m.alpha * ((L * (1 + 1e-6)) ** (1 - m.alpha) - (L * (1 - 1e-6)) ** (1 - m.alpha)) / (2e-6 * L)
        assert np.isclose(out["r"], mpk, rtol=1e-8) and np.isclose(out["w"], mpl, rtol=1e-8)
        # factor payments exhaust output (constant returns)
        assert np.isclose(out["r"] * K + out["w"] * L, out["Y"], rtol=1e-12)
    # the simulated path has the same property at every period
    assert sol.aggregation_gap < 1e-10 * sol.K_mean
    assert np.isclose(sol.D_mean.sum(), 1.0) and np.all(sol.D_mean >= 0)
    assert np.isclose(float(D.sum(axis=0) @ kd), sol.K_path[-1], rtol=1e-12)


def test_household_budget_and_euler_equation(sol):
    m, pol = sol.model, sol.policy
    k = np.array([0.05, 0.5, 3.0, 8.0, 12.0, 20.0, 35.0])
    for K in (11.0, 11.7, 12.3):
        for iz in range(2):
            R = 1 + m.prices(K, iz)[0] - m.delta
            for ie in range(2):
                c, kp = pol.consumption(k, K, iz, ie), pol.savings(k, K, iz, ie)
                assert np.allclose(c + kp, R * k + m.income(K, iz, ie), rtol=1e-13)
                assert np.all(c > 0) and np.all(kp > 0)  # mu = 0: nobody hits k' = 0
                err = euler_errors(pol, sol.b, k, K, iz, ie)
                assert err.max() < 1e-3, (K, iz, ie, err)  # log10 error below -3
    stats = euler_error_stats(sol)
    assert stats["log10_max"] < -3 and stats["log10_mean"] < -3.5, stats


def test_wealth_distribution(sol):
    w = sol.wealth
    qs = [w[k] for k in ("p10", "p25", "p50", "p75", "p90", "p99")]
    assert np.all(np.diff(qs) > 0) and qs[0] > 0
    assert np.isclose(w["mean"], sol.K_mean, rtol=2e-3)
    assert 0.15 < w["gini"] < 0.35  # KS's benchmark: little wealth inequality
    assert 0.01 < w["top1"] < w["top10"] < 0.5
    # Gini of a two-point distribution (half at 0, half at 2): 0.5
    g = wealth_stats(np.array([[0.25, 0.25], [0.25, 0.25]]), np.array([0.0, 2.0]))
    assert np.isclose(g["gini"], 0.5) and np.isclose(g["mean"], 1.0)


def test_unemployment_benefit_lowers_capital(sol):
    m = KrusellSmithModel(mu=0.15)
    assert np.isclose(m.tau(0) * m.l_bar * 0.9, 0.15 * 0.1)  # budget of the scheme balances
    alt = solve_krusell_smith(m, T=T, discard=DISCARD, T_test=1000, b0=sol.b)
    assert alt.converged and np.all(alt.r2 > 0.9999)
    # insurance weakens the precautionary motive: less capital (the poor hold smaller
    # buffers, so the wealth Gini rises, 0.24 -> 0.29)
    assert alt.K_mean < sol.K_mean - 0.05, (alt.K_mean, sol.K_mean)
    assert alt.wealth["gini"] > sol.wealth["gini"]


def test_calibration_overrides_and_validation():
    j = jedc_calibration()
    assert np.isclose(j.l_bar, 1 / 0.9) and j.mu == 0.15
    assert np.isclose(j.L[0], 1.0)  # L = 1 in the bad state
    assert np.isclose(j.K_rep() / KrusellSmithModel().K_rep(), (1 / 0.9) / 0.3271)
    D = initial_distribution(j, 1)
    assert np.isclose(D[0].sum(), 0.04) and np.isclose(D.sum(axis=0) @ j.dist_grid(), j.K_rep())
    with pytest.raises(ValueError):
        KrusellSmithModel(beta=1.2)
    with pytest.raises(ValueError):
        KrusellSmithModel(mu=-0.1)
    with pytest.raises(ValueError):
        solve_krusell_smith(KrusellSmithModel(), z_path=[0, 2, 1])
