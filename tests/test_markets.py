"""Markets against published values, first-order conditions and closed forms."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketsai.checks import check_market
from marketsai.errors import SpecError
from marketsai.markets.bertrand_homogeneous import BertrandHomogeneous
from marketsai.markets.bertrand_logit import BertrandLogit
from marketsai.markets.cournot import CournotLinear


def test_calvano_baseline_benchmarks_to_five_decimals():
    """docs/references.md: pN 1.47293, pM 1.92498, piN 0.22293, piM 0.33749."""
    mkt = BertrandLogit(2, cost=1.0, quality=2.0, mu=0.25, outside_quality=0.0)
    b = mkt.benchmarks()
    assert np.round(b["nash_action"], 5).tolist() == [1.47293, 1.47293]
    assert np.round(b["coop_action"], 5).tolist() == [1.92498, 1.92498]
    assert np.round(b["nash_profit"], 5).tolist() == [0.22293, 0.22293]
    assert np.round(b["coop_profit"], 5).tolist() == [0.33749, 0.33749]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 6), seed=st.integers(0, 2**32 - 1))
def test_logit_nash_foc_residuals_random_asymmetric_oligopolies(n, seed):
    rng = np.random.default_rng(seed)
    mkt = BertrandLogit(n, cost=rng.uniform(0, 3, n), quality=rng.uniform(0.5, 5, n),
                        mu=rng.uniform(0.02, 2.0), outside_quality=rng.uniform(-2, 2))
    p = mkt.nash()
    assert np.max(np.abs(mkt.foc_residual(p))) < 1e-10
    # joint optimum: equal markups and a zero gradient of total profit
    pm = mkt.joint_optimum()
    markups = pm - mkt.cost
    assert np.ptp(markups) < 1e-10
    h = 1e-6
    for i in range(n):
        up, dn = pm.copy(), pm.copy()
        up[i] += h
        dn[i] -= h
        grad = (mkt.clear(up).profit.sum() - mkt.clear(dn).profit.sum()) / (2 * h)
        assert abs(grad) < 1e-6


def test_logit_is_stable_for_extreme_prices():
    mkt = BertrandLogit(3, cost=1.0, quality=2.0, mu=0.01)
    out = mkt.clear(np.array([[1e4, -1e4, 0.0], [1e6, 1e6, 1e6]]))
    assert np.all(np.isfinite(out.profit)) and np.all(np.isfinite(out.quantity))
    assert np.all(out.quantity >= 0) and np.all(out.quantity.sum(axis=-1) <= 1 + 1e-12)


def test_logit_best_response_matches_grid_search():
    mkt = BertrandLogit(2, cost=[1.0, 1.2], quality=[2.0, 2.3], mu=0.3)
    rival = np.array([[0.0, 1.5], [0.0, 2.5]])
    br = mkt.best_response(0, rival)
    grid = np.linspace(1.0, 4.0, 300001)
    for r, b in zip(rival, br, strict=True):
        trial = np.column_stack([grid, np.full_like(grid, r[1])])
        assert abs(grid[np.argmax(mkt.clear(trial).profit[:, 0])] - b) < 2e-5


def test_cournot_closed_forms_and_asymmetric_exit():
    mkt = CournotLinear(2, intercept=100.0, slope=1.0, cost=10.0)
    assert mkt.nash().tolist() == [30.0, 30.0]
    assert mkt.joint_optimum().tolist() == [22.5, 22.5]
    # a firm whose cost is too high to produce in equilibrium is shut out
    mkt3 = CournotLinear(3, intercept=10.0, slope=1.0, cost=[1.0, 1.0, 9.5])
    q = mkt3.nash()
    assert q[2] == 0.0 and np.allclose(q[:2], 3.0)
    check_market(mkt3)


@pytest.mark.parametrize("market", [
    BertrandLogit(2, cost=1.0, quality=2.0),
    BertrandLogit(4, cost=[0.5, 1.0, 1.5, 1.0], quality=[2.0, 2.5, 3.0, 1.5], mu=0.5, outside_quality=-1.0),
    CournotLinear(2, intercept=100.0, slope=1.0, cost=10.0),
    CournotLinear(3, intercept=20.0, slope=2.0, cost=[1.0, 2.0, 3.0]),
])
def test_shipped_markets_pass_the_conformance_check(market):
    check_market(market)


def test_markets_are_immutable():
    mkt = BertrandLogit(2)
    with pytest.raises(AttributeError):
        mkt.mu = 1.0
    with pytest.raises(ValueError):
        mkt.cost[0] = 5.0


def test_check_market_catches_a_wrong_nash():
    class Broken(CournotLinear):
        def nash(self, shock=0.0):
            return super().nash(shock) * 1.1
    with pytest.raises(AssertionError, match="fixed point"):
        check_market(Broken(2, intercept=100.0, slope=1.0, cost=10.0))


@pytest.mark.parametrize("cls, choke, least", [(BertrandHomogeneous, 2.5, 4.0), (CournotLinear, 5, 2.0)])
def test_linear_demand_rejects_costs_at_or_above_the_choke_price(cls, choke, least):
    """Demand 5 - 2 x: the choke price is a / b = 2.5 in price (Bertrand), a = 5 in quantity
    (Cournot); with the cheapest cost 2 an intercept above ``least`` lets somebody sell."""
    participants = [("agents[0].params", {"cost": 2.0}), ("agents[1].params", {"cost": 9.0})]
    assert cls.from_spec({"intercept": 5.0, "slope": 2.0}, participants, "markets[0]").choke_price() == choke
    low = {"intercept": least, "slope": 2.0}
    with pytest.raises(SpecError, match="choke price") as err:
        cls.from_spec(low, participants, "markets[0]")
    assert err.value.path == "markets[0].params.intercept" and err.value.value == least
    assert err.value.allowed == f"a number > {least:.6g}"
