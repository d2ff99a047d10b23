"""growth_policy / households: a policy read through the economy's own observations, scored by the shared measures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import marketsai as mai
from marketsai.analysis.growth import growth_model_of, reference_savings
from marketsai.analysis.growth_policy import growth_report, observations, policy_savings

ROOT = Path(__file__).resolve().parents[1]
SHARE = ROOT / "economies" / "brock_mirman_share.yaml"
FAST = {"T": 2000, "burn": 200, "welfare_points": 300}


@pytest.fixture(scope="module")
def econ():
    return mai.load_economy(SHARE)


def _inverse_k(econ, obs):
    """k from the planner's scaled observation (the fake module 'reads' its input)."""
    lo, hi = econ.entries[0].kind.state_bounds("k")
    return lo + (obs[:, 0] + 1.0) * (hi - lo) / 2.0


def test_observations_are_what_the_simulation_produces(econ):
    rng = np.random.default_rng(3)
    state = econ.initial_state(rng, batch=16)
    for _ in range(3):
        state, _, _ = econ.step(state, rng.uniform(0.2, 0.5, size=(16, 1)), rng)
    ours = observations(econ, state.fields["planner.k"][:, 0], state.exo[:, 0])
    np.testing.assert_array_equal(ours, econ.observe(state)["planner"])


def test_exact_share_scores_at_the_reference_level(econ):
    model = growth_model_of(econ)
    ab = model.alpha * model.beta
    seen = []

    def exact(obs):  # a fake module that answers alpha beta whatever it sees
        seen.append(obs.shape)
        return np.full((len(obs), 1), ab)

    r = growth_report(econ, policy_savings(econ, exact), **FAST)
    ref, _ = reference_savings(model)
    floor = growth_report(econ, ref, **FAST)
    assert seen and all(s[1] == 2 for s in seen)  # really called on (k, z) observations
    assert r["reference"] == "closed_form" and r["reference_share"] == pytest.approx(ab, rel=1e-12)
    assert r["share_err_max"] < 1e-12 and r["policy_err_max"] < 1e-12
    assert abs(r["welfare_loss_pct"]) < 1e-8
    for key in ("euler_mean", "euler_max", "euler_ergodic_mean", "euler_ergodic_max"):
        assert r[key] < -12 and r[key] == pytest.approx(floor[key], abs=1.0)


@pytest.mark.parametrize("factor", [0.9, 1.05])
def test_a_wrong_constant_share_scores_as_the_formula_says(econ, factor):
    model = growth_model_of(econ)
    ab = model.alpha * model.beta
    s = factor * ab
    r = growth_report(econ, policy_savings(econ, lambda obs: np.full((len(obs), 1), s)), **FAST)
    assert r["share_err_max"] == pytest.approx(abs(factor - 1), rel=1e-9)
    assert r["share_err_mean"] == pytest.approx(abs(factor - 1), rel=1e-9)
    assert r["policy_err_max"] == pytest.approx(abs(factor - 1), rel=1e-9)
    exact = 100 * ((1 - ab) / (1 - s) * (ab / s) ** (ab / (1 - ab)) - 1)
    assert r["welfare_loss_pct"] == pytest.approx(exact, rel=1e-4)
    # Euler error of a constant share s: u'(c') R' = alpha / ((1 - s) k') whatever z', so the
    # implied consumption is (1 - s) s y / (alpha beta) and the error |1 - s / (alpha beta)|
    # in every state: mean and max agree on every set.
    euler = np.log10(abs(1 - factor))
    for key in ("euler_mean", "euler_max", "euler_ergodic_mean", "euler_ergodic_max"):
        assert r[key] == pytest.approx(euler, abs=1e-9)


def test_a_state_dependent_fake_module_is_read_through_the_observation(econ):
    """A share that depends on k (decoded from the observation) changes the score as expected."""
    model = growth_model_of(econ)
    ab = model.alpha * model.beta
    k_ss = model.steady_state()[0]
    f = policy_savings(econ, lambda obs: (ab * (_inverse_k(econ, obs) / k_ss) ** 0.1)[:, None])
    k = np.array([0.9, 1.0, 1.1]) * k_ss
    kp = f(k, np.array([2, 2, 2]))
    np.testing.assert_allclose(kp / model.cash_on_hand(k, 1.0), ab * (k / k_ss) ** 0.1, rtol=1e-6)
    r = growth_report(econ, f, **FAST)
    assert 0.005 < r["share_err_max"] < 0.05 and r["welfare_loss_pct"] > 0


def test_shares_are_clipped_to_the_action_interval(econ):
    f = policy_savings(econ, lambda obs: np.full((len(obs), 1), 2.0))
    k = np.array([1.0])
    assert f(k, np.array([2]))[0] == pytest.approx(0.95 * 1.0)


# ------------------------------------------------------------------ households of the market economy

MARKET = ROOT / "economies" / "growth_market.yaml"
MFAST = {"T": 100, "burn": 20, "sessions": 4, "welfare_points": 100, "table_points": 401}


def _market(n=10):
    import yaml
    data = yaml.safe_load(MARKET.read_text())
    data["agents"][0]["count"] = n
    return mai.Economy.from_dict(data)


@pytest.fixture(scope="module")
def market():
    return _market(10)


def test_household_observations_are_what_the_simulation_produces(market):
    from marketsai.analysis.households import household_observations
    rng = np.random.default_rng(5)
    state = market.initial_state(rng, batch=8)
    for _ in range(3):
        state, _, _ = market.step(state, rng.uniform(0.2, 0.5, size=(8, len(market.decisions))), rng)
    k = state.fields["household.k"]
    ours = household_observations(market, k[:, 0], k.mean(axis=1), state.exo[:, 0])
    np.testing.assert_allclose(ours, market.observe(state)["household_0"], atol=1e-6)


def test_the_competitive_share_solves_every_households_euler_equation(market):
    """Heterogeneous households on the exact rule: 1/c = beta E[R'/c'] for each, through econ.step."""
    from marketsai.analysis.households import competitive_share
    rng = np.random.default_rng(1)
    state = market.initial_state(rng, batch=3)  # own k uniform on (0.5, 1.5) k_ss: heterogeneous
    rule = competitive_share(market)
    env = market.vector_env(sessions=3)

    def period(st):  # the rule on the state itself (float64; observations are float32)
        k = st.fields["household.k"]
        return market.step(st, env.decision_values(rule(k, k.mean(axis=1, keepdims=True)).reshape(-1, 1)), rng)

    nxt, rew, _ = period(state)
    c = np.exp(rew[:, :10])  # log utility
    P = market.exo_chain.P
    expect = np.zeros_like(c)
    for j in range(market.exo_chain.n_states):  # every z' from the state the rule reached
        alt = dataclasses.replace(nxt, exo=np.full_like(nxt.exo, j))
        _, rew2, info = period(alt)
        R = info["markets"]["capital"].price[:, None]
        expect += P[state.exo[:, 0], j][:, None] * R / np.exp(rew2[:, :10])
    np.testing.assert_allclose(1.0 / c, market.discount * expect, rtol=1e-10)
    k = state.fields["household.k"]
    s = rule(k, k.mean(axis=1, keepdims=True))
    assert s.min() < 0.342 < s.max()  # not alpha beta off the mean


def test_the_exact_household_rule_scores_at_the_reference_level(market):
    from marketsai.analysis.households import MARKET_KEYS, exact_household_actor, market_report
    r = market_report(market, exact_household_actor(market), **MFAST)
    assert set(r) == set(MARKET_KEYS)
    assert r["share_err_max"] < 1e-12 and r["grid_err_max"] < 1e-7 and r["K_err"] == 0.0
    assert r["share_min"] == pytest.approx(0.342, rel=1e-12)
    assert r["euler_ergodic_max"] < -12 and abs(r["welfare_loss_pct"]) < 1e-8


def test_a_constant_share_scores_as_the_formulas_say(market):
    from marketsai.analysis.households import competitive_share, market_report
    s = 0.9 * 0.342
    r = market_report(market, lambda obs: np.full((len(obs), 1), s), **MFAST)
    assert r["share_err_max"] == pytest.approx(0.1, rel=1e-9)
    exact = competitive_share(market)
    x = np.array([0.8, 1.2])
    assert r["grid_err_max"] == pytest.approx(np.max(np.abs(s / exact(x, 1.0) - 1)), rel=1e-9)
    for key in ("euler_mean", "euler_max", "euler_ergodic_mean", "euler_ergodic_max"):
        assert r[key] == pytest.approx(-1.0, abs=1e-9)  # log10 |1 - s / (alpha beta)|
    # k' = s z k^alpha: log K falls by log(0.9) / (1 - alpha) in the long run
    assert r["K_err"] == pytest.approx(0.9 ** (1 / 0.64) - 1, abs=0.01)


def test_one_household_is_the_planner_and_refuses_another_mean():
    from marketsai.analysis.households import household_observations, market_report
    one = _market(1)
    with pytest.raises(mai.SpecError):
        household_observations(one, 1.0, 1.1, 0)
    r = market_report(one, lambda obs: np.full((len(obs), 1), 0.342), **MFAST)
    assert np.isnan(r["grid_err_max"]) and r["share_err_max"] < 1e-12


def test_household_functions_refuse_a_planner_economy(econ):
    from marketsai.analysis.households import household_share
    with pytest.raises(mai.SpecError) as err:
        household_share(econ, lambda obs: obs)
    assert err.value.path == "economy.markets"
