"""Scoring a policy in the Krusell–Smith economy (marketsai.analysis.krusell_smith).

The yardstick of the RL solution must itself be right: the reference solver's policy,
run through the economy file's own step and the same scoring code as a learned policy,
has to reproduce the solver's aggregates and law of motion, and its Euler errors must be
small where a wrong policy's are large.
"""

from __future__ import annotations

import numpy as np
import pytest

import marketsai as mai
from marketsai.analysis import krusell_smith as ev
from marketsai.solvers.krusell_smith import KrusellSmithModel, solve_krusell_smith

FILE = "economies/krusell_smith.yaml"


def economy(n: int) -> mai.Economy:
    return mai.load_economy(FILE, {"agents[0].count": n})


@pytest.fixture(scope="module")
def solved():
    model = KrusellSmithModel.from_economy(economy(10))
    return model, solve_krusell_smith(model, T=4000, discard=500, T_test=500)


def test_model_from_the_economy_file():
    model = KrusellSmithModel.from_economy(economy(10))
    ref = KrusellSmithModel()
    for f in ("beta", "alpha", "delta", "gamma", "l_bar", "mu", "z_values", "unemployment", "duration_z",
              "duration_unemployment"):
        assert getattr(model, f) == pytest.approx(getattr(ref, f)), f
    np.testing.assert_allclose(model.P, ref.P)
    d = economy(10).to_dict()
    d["agents"][0]["params"]["hours"] = 1 / 0.9
    assert KrusellSmithModel.from_economy(mai.Economy.from_dict(d)).l_bar == pytest.approx(1 / 0.9)
    d["agents"][0]["params"]["benefit"] = 0.15
    assert KrusellSmithModel.from_economy(mai.Economy.from_dict(d)).mu == pytest.approx(0.15)
    with pytest.raises(ValueError, match="krusell_smith"):
        KrusellSmithModel.from_economy(mai.load_economy("economies/growth_market.yaml"))


def test_reference_policy_scored_in_the_finite_economy_reproduces_the_solver(solved):
    model, sol = solved
    econ = economy(1000)
    act = ev.reference_actor(econ, sol.policy)
    sim = ev.simulate_economy(econ, act, T=1500, burn=300, seed=0, snapshot_every=100)
    assert sim["K"].mean() == pytest.approx(sol.K_mean, rel=0.015)
    lm = ev.law_of_motion(sim["K"], sim["z"])
    np.testing.assert_allclose(lm["b"][:, 1], sol.b[:, 1], atol=0.01)
    assert lm["r2"].min() > 0.99  # 1,000 households: idiosyncratic noise in K, so below the continuum's
    errs = [ev.euler_errors(econ, act, s, model, ev.action_bounds(econ)) for s in sim["snapshots"][:5]]
    e = np.concatenate([x[0][x[1]] for x in errs])
    assert e.mean() < -3.0
    w = ev.wealth(np.concatenate([s[3].fields["household.k"][0] for s in sim["snapshots"]]))
    assert w["gini"] == pytest.approx(sol.wealth["gini"], abs=0.03)
    assert w["p50"] == pytest.approx(sol.wealth["p50"], rel=0.05)


def test_euler_errors_expose_a_wrong_policy(solved):
    model, _ = solved
    econ = economy(200)

    def constant(obs):
        return np.full((len(obs), 1), 0.9)
    sim = ev.simulate_economy(econ, constant, T=50, burn=50, seed=1, snapshot_every=10)
    errs = [ev.euler_errors(econ, constant, s, model, ev.action_bounds(econ)) for s in sim["snapshots"]]
    assert np.concatenate([x[0] for x in errs]).mean() > -2.0


def test_wealth_statistics_of_a_known_sample():
    w = ev.wealth(np.array([0.0, 0.0, 0.0, 4.0]))
    assert w["gini"] == pytest.approx(0.75)
    assert w["mean"] == 1.0 and w["top10"] == pytest.approx(1.0)
    w = ev.wealth(np.arange(1, 101, dtype=float))
    assert w["p50"] == pytest.approx(50.5) and w["top1"] == pytest.approx(100 / 5050)


def test_a_benefit_in_the_file_is_the_solvers_mu():
    """Unemployment insurance (params.benefit): budgets and transfers balance, and the solver
    run on the file's calibration describes the finite economy the file steps."""
    from marketsai.checks import check_clearing
    d = economy(1000).to_dict()
    d["agents"][0]["params"]["benefit"] = 0.15
    econ = mai.Economy.from_dict(d)
    worst = check_clearing(econ, steps=5)
    assert worst["budget"] < 1e-10 and worst["excess_demand"] < 1e-9 and worst["transfers"] < 1e-9
    model = KrusellSmithModel.from_economy(econ)
    sol = solve_krusell_smith(model, T=4000, discard=500, T_test=500)
    sim = ev.simulate_economy(econ, ev.reference_actor(econ, sol.policy), T=1000, burn=300, seed=0, snapshot_every=100)
    assert sim["K"].mean() == pytest.approx(sol.K_mean, rel=0.015)
    assert sol.K_mean < 11.59  # insurance weakens precautionary saving (11.60 without it)


def test_a_benefit_needs_an_efficiency_field():
    from marketsai.errors import SpecError
    d = mai.load_economy("economies/growth_market.yaml").to_dict()
    d["agents"][0]["params"]["benefit"] = 0.1
    with pytest.raises(SpecError) as err:
        mai.Economy.from_dict(d)
    assert err.value.path.endswith("params.benefit")
