"""The two-sector reference solver: its steady state satisfies every first-order condition,
equal shares collapse to the one-sector RBC with labour, the delta = 1 closed form agrees."""

import numpy as np
import pytest

from marketsai.errors import SpecError
from marketsai.solvers.two_sector import (
    CALIBRATIONS,
    TwoSectorModel,
    closed_form_policy,
    collapse_to_one_sector,
    foc_residuals,
    steady_state,
)

# besides the two calibrations, parameter sets where no coincidence can hide an algebra slip
OTHER = [dict(beta=0.95, delta=0.1, psi=0.8, A_c=1.3, A_i=0.7, a_c=0.45, a_i=0.2),
         dict(beta=0.9, delta=1.0, psi=2.5, A_c=0.9, A_i=1.6, a_c=0.25, a_i=0.6)]
MODELS = [TwoSectorModel.calibration(c) for c in CALIBRATIONS] + [TwoSectorModel(**p) for p in OTHER]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"a_c={m.a_c},a_i={m.a_i},delta={m.delta}")
def test_steady_state_satisfies_every_foc(model):
    ss = steady_state(model)
    res = foc_residuals(model, ss)
    assert len(res) == 20
    for name, v in res.items():
        assert abs(v) < 1e-10, (name, v)
    assert 0 < ss.L < 1 and min(ss.K_c, ss.K_i, ss.L_c, ss.L_i, ss.C, ss.I) > 0


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"a_c={m.a_c},a_i={m.a_i},delta={m.delta}")
@pytest.mark.parametrize("scale", [0.2, 1.0, 5.0])
def test_newton_on_unreduced_focs_agrees_with_closed_form(model, scale):
    """The Newton solve shares no algebra with the closed form: it checks the derivation."""
    ss = steady_state(model)
    guess = (ss.K_c * scale, ss.K_i / scale, 0.5 * ss.L_c, 0.5 * ss.L_i, ss.p * scale)
    nt = steady_state(model, method="newton", guess=guess)
    for name, v in ss.as_dict().items():
        assert getattr(nt, name) == pytest.approx(v, rel=1e-10), name
    assert max(abs(v) for v in foc_residuals(model, nt).values()) < 1e-10
    # and from the default, deliberately rough starting point
    assert steady_state(model, method="newton").K == pytest.approx(ss.K, rel=1e-10)


def test_foc_residuals_catch_a_wrong_candidate():
    m = TwoSectorModel.calibration("unequal")
    ss = steady_state(m)
    bad = type(ss)(**{**ss.as_dict(), "p": ss.p * 1.01})
    res = foc_residuals(m, bad)
    assert abs(res["euler"]) > 1e-5 and abs(res["mpk_i"]) > 1e-5 and abs(res["budget"]) > 1e-5


def test_equal_shares_collapse_to_one_sector():
    m = TwoSectorModel.calibration("equal")
    ss, one = steady_state(m), collapse_to_one_sector(m)
    assert abs(ss.p - 1.0) < 1e-12 and one.p == 1.0
    for name in ("K", "L", "C", "I", "Y", "r", "w"):
        assert abs(getattr(ss, name) - getattr(one, name)) < 1e-10, name
    # same capital-labour ratio in both sectors: factor shares equal output shares
    assert ss.K_c / ss.L_c == pytest.approx(ss.K_i / ss.L_i, rel=1e-12)
    assert ss.K_i / ss.K == pytest.approx(ss.I / ss.Y, rel=1e-12)
    assert ss.L_i / ss.L == pytest.approx(ss.I / ss.Y, rel=1e-12)


def test_equal_shares_different_tfp_price_is_tfp_ratio():
    m = TwoSectorModel(A_c=1.2, A_i=0.8, a_c=0.36, a_i=0.36)
    assert steady_state(m).p == pytest.approx(1.5, rel=1e-12)  # linear frontier C + 1.5 I = Y
    with pytest.raises(ValueError, match="A_c = A_i"):
        collapse_to_one_sector(m)


def test_unequal_shares_price_and_reallocation():
    """a_i = 0.40 > a_c = 0.30: the investment sector is the capital-intensive one.

    * equal w / r across sectors gives k_i / k_c = a_i (1 - a_c) / (a_c (1 - a_i)) = 14/9;
    * K_i / K = a_i delta / rho rises with a_i alone: capital moves towards the
      investment sector relative to the equal-shares case (0.33);
    * p is the ratio of unit costs c_j(r, w) = (r / a_j)^a_j (w / (1 - a_j))^(1 - a_j) / A_j;
      w / r is large in steady state (capital is cheap per unit), so the capital-intensive
      good is the cheaper one: p < 1.
    """
    m, eq = TwoSectorModel.calibration("unequal"), steady_state(TwoSectorModel.calibration("equal"))
    ss = steady_state(m)
    assert abs(ss.p - 1.0) > 0.1 and ss.p < 1.0
    assert (ss.K_i / ss.L_i) / (ss.K_c / ss.L_c) == pytest.approx(14 / 9, rel=1e-12)
    assert ss.K_i / ss.K == pytest.approx(m.a_i * m.delta / m.rho_rent, rel=1e-12)
    assert ss.K_i / ss.K > eq.K_i / eq.K
    assert ss.K_i / ss.K > ss.L_i / ss.L  # capital-intensive: a bigger share of K than of L

    def unit_cost(a, A):
        return (ss.r / a) ** a * (ss.w / (1 - a)) ** (1 - a) / A

    assert ss.p == pytest.approx(unit_cost(m.a_i, m.A_i) / unit_cost(m.a_c, m.A_c), rel=1e-12)


def test_closed_form_policy_fixed_point_is_the_steady_state():
    m = TwoSectorModel(delta=1.0, a_c=0.33, a_i=0.33)
    pol, ss = closed_form_policy(m), steady_state(m)
    assert pol.hours == pytest.approx((1 - 0.33) / ((1 - 0.33) + 1.75 * (1 - 0.33 * 0.99)), rel=1e-15)
    assert pol.savings_share == pytest.approx(0.33 * 0.99, rel=1e-15)
    k_star = pol.fixed_point()
    assert abs(pol.next_capital(k_star) - k_star) < 1e-15
    path = pol.path(5.0 * k_star, 200)  # the policy is a contraction (slope a): iterate it
    assert abs(path[-1] - ss.K) < 1e-12 and abs(k_star - ss.K) < 1e-12
    assert abs(pol.hours - ss.L) < 1e-12 and abs(pol.consumption(ss.K) - ss.C) < 1e-12
    assert pol.savings_share == pytest.approx(ss.p * ss.I / ss.Y, rel=1e-12)


def test_closed_form_policy_satisfies_dynamic_conditions_off_the_steady_state():
    """Along a transition path: Euler p / c_t = beta r_(t+1) / c_(t+1) (delta = 1) with
    r = a y / k, hours psi c / (1 - l) = (1 - a) y / l, and the budget c + p k' = y."""
    m = TwoSectorModel(delta=1.0, a_c=0.4, a_i=0.4, A_c=1.1, A_i=0.9, beta=0.96, psi=1.2)
    pol = closed_form_policy(m)
    k = pol.path(0.1 * pol.fixed_point(), 30)
    y, c = pol.output(k), pol.consumption(k)
    r = m.a_c * y / k
    assert np.allclose(pol.p / c[:-1], m.beta * r[1:] / c[1:], rtol=1e-12, atol=0)
    assert np.allclose(m.psi * c / (1 - pol.hours), (1 - m.a_c) * y / pol.hours, rtol=1e-12, atol=0)
    assert np.allclose(c[:-1] + pol.p * k[1:], y[:-1], rtol=1e-12, atol=0)


@pytest.mark.parametrize("kwargs", [dict(delta=0.025), dict(delta=1.0, a_c=0.3, a_i=0.4)])
def test_closed_form_policy_only_where_valid(kwargs):
    with pytest.raises(ValueError, match="delta = 1 and a_c = a_i"):
        closed_form_policy(TwoSectorModel(**kwargs))


def test_collapse_needs_equal_shares():
    with pytest.raises(ValueError, match="a_c = a_i"):
        collapse_to_one_sector(TwoSectorModel.calibration("unequal"))


@pytest.mark.parametrize("name,value", [("a_c", 0.0), ("a_c", 1.0), ("a_i", -0.1), ("a_i", 1.5),
                                        ("a_c", float("nan")), ("beta", 1.0), ("beta", 0.0),
                                        ("delta", 0.0), ("delta", 1.01), ("psi", 0.0),
                                        ("A_c", -1.0), ("A_i", float("inf"))])
def test_parameter_validation(name, value):
    with pytest.raises(ValueError, match=f"TwoSectorModel.{name}") as err:
        TwoSectorModel(**{name: value})
    assert isinstance(err.value, SpecError) and "out of range" in str(err.value)


def test_validation_messages():
    with pytest.raises(SpecError, match=r"^TwoSectorModel.a_c = 1.2: out of range "
                                        r"\(allowed: a number in \(0.0, 1.0\)\)$"):
        TwoSectorModel(a_c=1.2)
    with pytest.raises(SpecError, match="must be a number"):
        TwoSectorModel(psi="high")
    assert TwoSectorModel(delta=1.0).delta == 1.0  # full depreciation is allowed
    with pytest.raises(SpecError, match="allowed: equal, unequal"):
        TwoSectorModel.calibration("three")
    with pytest.raises(SpecError, match="allowed: closed_form, newton"):
        steady_state(TwoSectorModel(), method="bisection")
    with pytest.raises(SpecError, match="L_c \\+ L_i < 1"):
        steady_state(TwoSectorModel(), method="newton", guess=(1.0, 1.0, 0.6, 0.6, 1.0))
    with pytest.raises(SpecError, match="must be a TwoSectorModel"):
        steady_state(dict(beta=0.99))


def test_the_committed_steady_state_table_is_what_the_solver_gives():
    """docs/solvers.md quotes experiments/market_economies/results/two_sector_steady_states.csv;
    a change to the solver that moves a steady state shows here (rerun the script)."""
    import sys
    from pathlib import Path

    import pandas as pd

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "experiments" / "market_economies"))
    try:
        import two_sector_steady_states as script
    finally:
        sys.path.pop(0)
    committed = pd.read_csv(script.OUT, comment="#")
    pd.testing.assert_frame_equal(script.table(), committed, rtol=1e-12, atol=0)
