"""Aiyagari (1994): our EGM + histogram solver, QuantEcon's DiscreteDP as oracle, the economy file."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

import marketsai as mai
from marketsai.checks import check_clearing
from marketsai.solvers.aiyagari import (
    AiyagariModel,
    household_policy,
    solve_aiyagari,
    stationary_distribution,
)

ROOT = pathlib.Path(__file__).resolve().parents[1]
FILE = ROOT / "economies" / "aiyagari.yaml"


@pytest.fixture(scope="module")
def sol():
    """The equilibrium with labour clearing, L = E z = 0.55 (the economy file's model)."""
    return solve_aiyagari(AiyagariModel())


def test_equilibrium_clears_the_capital_market(sol):
    m = sol.model
    assert sol.converged and sol.model.r_bounds()[0] < sol.r < 1 / m.beta - 1
    # bisection to 1e-10 in r; dK_d/dr is about -100 here, so |excess| < 1e-6 is the bracket's width
    assert abs(sol.excess_demand) < 1e-6 and abs(sol.K - sol.K_demand) < 1e-6
    assert sol.w == pytest.approx(0.67 * (sol.K_demand / 0.55) ** 0.33, rel=1e-12)  # F_L at (K, L)
    assert sol.r == pytest.approx(0.33 * (sol.K_demand / 0.55) ** -0.67 - 0.05, rel=1e-9)  # F_K - delta
    D = sol.distribution
    assert D.min() >= 0 and D.sum() == pytest.approx(1.0, abs=1e-10)
    np.testing.assert_allclose(D.sum(axis=1), m.chain.stationary(), atol=1e-10)  # z's marginal
    assert sol.K == pytest.approx(float(D.sum(axis=0) @ sol.asset_grid), rel=1e-14)
    assert sol.at_cap == 0.0  # a_max = 20 does not bind at L = 0.55
    assert 0.02 < sol.summary()["constrained_share"] < 0.1  # some poor households at a' = 0


def test_distribution_is_the_fixed_point_of_its_policy(sol):
    D, it, _ = stationary_distribution(sol.policy, sol.distribution)
    assert it == 1 and np.abs(D - sol.distribution).max() < 1e-12


def test_policy_satisfies_the_euler_equation(sol):
    """Unit-free Euler errors off the EGM nodes (linear interpolation between nodes): mean
    4.5e-6 and max 3.7e-4 measured (the max at the kink where the constraint starts to
    bind); at the constraint the Euler equation is an inequality."""
    m, P = sol.model, sol.model.Pm
    a = np.linspace(0.0, 20.0, 2001)
    errs = []
    for s in (0, 1):
        c, ap = sol.consumption(a, s), sol.savings(a, s)
        np.testing.assert_allclose(c + ap, (1 + sol.r) * a + sol.w * m.z[s], rtol=1e-12)  # budget
        E = sum(P[s, s2] * sol.consumption(ap, s2) ** -m.gamma for s2 in (0, 1))
        c_euler = (m.beta * (1 + sol.r) * E) ** (-1 / m.gamma)
        inner = ap > 1e-12
        assert np.all(ap >= 0) and np.all(c[~inner] <= c_euler[~inner] * (1 + 1e-12))
        errs.append(np.abs(1 - c_euler[inner] / c[inner]))
    e = np.concatenate(errs)
    assert e.mean() < 1e-4 and e.max() < 1e-3


def test_refining_our_grids_moves_r_by_little(sol):
    """Our own discretisation error: 200 -> 400 EGM nodes and 1,000 -> 4,000 histogram
    points moves r by 3.3e-6 (measured); the cross-check's tolerance below is 30 times that."""
    fine = solve_aiyagari(AiyagariModel(n_a=400, n_dist=4000))
    assert abs(fine.r - sol.r) < 1e-5 and abs(fine.K / sol.K - 1) < 2e-4


def _experiment(name: str):
    """A script of experiments/aiyagari/, imported by path."""
    spec = importlib.util.spec_from_file_location(f"aiyagari_{name}", ROOT / "experiments" / "aiyagari" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _crosscheck():
    return _experiment("quantecon_crosscheck")


def _households():
    return _experiment("households_follow_solver")


@pytest.mark.parametrize("N", [1.0, 0.55])
def test_matches_quantecon_discretedp(N):
    """QuantEcon's lecture setup (DiscreteDP on 200 points of [0, 20], N = 1; and with labour
    clearing, N = 0.55) against our EGM at the same parameters and the same cap a' <= 20.

    DiscreteDP restricts a' to its grid (spacing 0.1), so its r carries a grid error; we
    measured it by refining its grid (200 -> 800 points): r moves by 4.2e-5 (N = 1) and
    1.6e-5 (N = 0.55), K by 0.08 % and 0.03 %, towards ours (ours - DiscreteDP(800):
    8e-6 and 1.3e-5 in r).  Tolerances are about twice DiscreteDP's grid error: 1e-4 in r
    and 0.2 % in K (measured ours - DiscreteDP(200): 5.6e-5 / 0.10 % at N = 1,
    2.4e-5 / 0.05 % at N = 0.55).  For scale, N = 1 and N = 0.55 differ by 9e-3 in r."""
    pytest.importorskip("quantecon")
    q = _crosscheck().ddp_equilibrium(N=N, xtol=1e-6)
    ours = solve_aiyagari(AiyagariModel(labour=N))
    assert abs(ours.r - q["r"]) < 1e-4
    assert abs(ours.K / q["K"] - 1) < 2e-3
    assert abs(ours.w / q["w"] - 1) < 2e-3


def test_borrowing_and_crra_supply_matches_quantecon():
    """The household with a borrowing limit (a >= -1) and CRRA gamma = 2, L = 0.55: capital
    supply at a fixed r = 0.0085 against DiscreteDP on 421 points of [-1, 20] (spacing 0.05).
    DiscreteDP's supply moves by 0.10 % from 421 to 841 points, to within 0.02 % of ours
    (measured: 7.2839, 7.2764; ours 7.2774, 7.2768 on 800 nodes / 8,000 points); the
    tolerance is twice that grid error, 0.2 %.  (Its equilibrium: r = 0.008471 on 421 and
    0.008492 on 841 points, ours 0.008491.)"""
    pytest.importorskip("quantecon")
    r = 0.0085
    K_q, _ = _crosscheck().ddp_capital_supply(r, 0.96, 0.33, 0.05, 1.0, (0.1, 1.0), ((0.9, 0.1), (0.1, 0.9)),
                                              20.0, 421, 0.55, a_min=-1.0, gamma=2.0)
    model = AiyagariModel(borrowing_limit=1.0, gamma=2.0)
    D, _, _ = stationary_distribution(household_policy(model, r))
    K = float(D.sum(axis=0) @ model.dist_b_grid()) - 1.0
    assert abs(K / K_q - 1) < 2e-3
    assert D[:, 0].sum() > 0.01  # households do borrow to the limit


def test_equilibrium_moves_as_aiyagari_says(sol):
    """A looser borrowing limit weakens precautionary saving (r up, K down); more risk
    aversion strengthens it (r down, K up). Measured: r 0.0244 at a >= -1, 0.0057 at gamma 2."""
    loose = solve_aiyagari(AiyagariModel(borrowing_limit=1.0))
    averse = solve_aiyagari(AiyagariModel(gamma=2.0))
    assert loose.r > sol.r + 1e-3 and loose.K < sol.K
    assert averse.r < sol.r - 1e-3 and averse.K > sol.K
    assert loose.summary()["constrained_share"] > 0 and loose.asset_grid[0] == -1.0


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="beta"):
        AiyagariModel(beta=1.0)
    with pytest.raises(ValueError, match="z_values"):
        AiyagariModel(z_values=(0.0, 1.0))
    with pytest.raises(ValueError, match="natural limit"):  # w z_min / r is about 4.5 at r = 0.03
        household_policy(AiyagariModel(borrowing_limit=5.0), 0.03)
    with pytest.raises(ValueError, match="r must be in"):
        household_policy(AiyagariModel(), 0.05)
    with pytest.raises(ValueError, match="one competitive_firm|productivity|efficiency"):
        AiyagariModel.from_economy(mai.load_economy(ROOT / "economies" / "krusell_smith.yaml"))


# ---------------------------------------------------------------- the economy file
def _economy(n: int) -> mai.Economy:
    return mai.load_economy(FILE, {"agents[0].count": n})


def test_economy_file_is_the_lecture_model_and_clears():
    econ = _economy(20)
    m = AiyagariModel.from_economy(econ)
    lecture = AiyagariModel()
    for f in ("beta", "alpha", "delta", "gamma", "tfp", "z_values", "P", "borrowing_limit"):
        assert getattr(m, f) == getattr(lecture, f), f
    assert m.L == pytest.approx(0.55, abs=1e-12)
    worst = check_clearing(econ, steps=10)
    assert worst["excess_demand"] < 1e-10 and worst["budget"] < 1e-10


def test_solver_policy_in_the_economy_gives_the_solver_capital(sol):
    """N households of the economy file follow the solver's rule a'(cash, z) at the prices
    their economy clears at (known at the start of a period: K and L are state), saving the
    share a'/cash. Households start from the solver's joint distribution of (z, k).
    Time-averaged capital per household over 8 sessions of 1,000 households (300 periods
    after 50 of burn-in) must be the solver's K.

    Sampling noise, measured over 40 sessions (seeds 0-4; experiments/aiyagari/
    households_follow_solver.py writes them to results/): the per-period cross-section mean
    has SD sd(a)/sqrt(N) = 3.74/sqrt(1000) = 0.12, a session's time average 0.034, so the
    mean of 8 sessions 0.012; the tolerance 0.05 (0.9 % of K) is 4 standard errors. The
    40 sessions' mean was 5.3360 against 5.3331 (0.5 standard errors: no bias from the
    finite-N price noise is visible). For scale, the solver's K at N = 1 is 8.09."""
    means, price_gap = _households().simulate(sol, n=1000, sessions=8, burn=50, periods=300)
    assert price_gap < 1e-12  # the rule is applied at the prices the economy clears at
    print(f"simulated K {means.mean():.4f}, per session {means.round(4)}, solver {sol.K:.4f}")
    assert float(means.mean()) == pytest.approx(sol.K, abs=0.05)


def test_docs_show_the_crosscheck_that_the_solver_gives_today(sol):
    """docs/aiyagari.md holds the table the cross-check script wrote, and our row of it is
    what the solver returns now (a stale table fails here)."""
    results = ROOT / "experiments" / "aiyagari" / "results"
    table = (results / "quantecon_crosscheck.md").read_text().strip()
    assert table in (ROOT / "docs" / "aiyagari.md").read_text()
    import json
    rows = {row["setup"]: dict(row["results"]) for row in json.loads((results / "quantecon_crosscheck.json").read_text())}
    mine = rows["labour market clears (L = E z = 0.55)"]["ours (EGM 200 nodes, histogram 1,000 points), a_max 20"]
    assert mine["r"] == pytest.approx(sol.r, abs=1e-9) and mine["K"] == pytest.approx(sol.K, rel=1e-8)
