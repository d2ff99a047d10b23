"""Calvano et al. (2020), Section V economies: asymmetric costs, an unobserved demand shock,
memory 2 -- their static benchmarks, the engine options they need, small runs."""

import dataclasses

import numpy as np
import pytest

from marketsai.analysis.per_firm import nash_quantity_shares, per_firm_summary, total_profit_gain
from marketsai.economy import Economy, load_economy
from marketsai.errors import SpecError
from marketsai.finite_game import FiniteGame
from marketsai.tabular import QLearningConfig, advance, init_sessions, run_sessions
from marketsai.tabular.reference import reference_advance, reference_init
from marketsai.tabular.sessions import check_memory, session_bytes
from marketsai.yamlio import read_yaml as load_yaml

ECON = "economies/"


def _asymmetric(c2):
    spec = load_yaml(ECON + "calvano_asymmetric.yaml")
    spec["agents"][1]["params"]["cost"] = c2
    return Economy.from_dict(spec)


@pytest.mark.parametrize("c2,share,nash,coop", [
    (0.875, 0.545, (1.44135, 1.39588), (1.97674, 1.85174)),
    (0.75, 0.588, (1.4142, 1.32539), (2.04051, 1.79051)),
    (0.5, 0.662, (1.37233, 1.20377), (2.1984, 1.6984)),
])
def test_cost_asymmetry_benchmarks(c2, share, nash, coop):
    # the authors' input file (Table 4) and the share their Table 4 prints
    econ = _asymmetric(c2)
    b = econ.benchmarks()
    assert b["nash_action"].to_numpy() == pytest.approx(nash, abs=1e-5)
    assert b["coop_action"].to_numpy() == pytest.approx(coop, abs=1e-5)
    assert nash_quantity_shares(econ)[1] == pytest.approx(share, abs=5e-4)


def test_total_gain_is_defined_where_the_per_firm_gain_is_not():
    # c2 = 0.5: the joint optimum pays firm 0 less than Nash, so its own gain has a
    # negative denominator; the gain on total profits stays in [0, 1] between the two
    game = _asymmetric(0.5).finite_game()
    assert game.coop_payoff[0] < game.nash_payoff[0]
    assert total_profit_gain(game.nash_payoff, game.nash_payoff, game.coop_payoff) == 0.0
    assert total_profit_gain(game.coop_payoff, game.nash_payoff, game.coop_payoff) == 1.0
    # symmetric firms: the mean of the per-firm gains
    sym = load_economy(ECON + "bertrand_duopoly.yaml").finite_game()
    p = np.array([[0.30, 0.25]])
    per_firm = ((p - sym.nash_payoff) / (sym.coop_payoff - sym.nash_payoff)).mean()
    assert total_profit_gain(p, sym.nash_payoff, sym.coop_payoff)[0] == pytest.approx(per_firm)


def test_per_firm_summary_ratio():
    import pandas as pd
    res = pd.DataFrame({"mean_profit_0": [0.2, 0.4], "mean_profit_1": [0.3, 0.3],
                        "mean_price_0": [1.8, 1.9], "mean_price_1": [1.7, 1.7],
                        "profit_gain_0": [0.1, 0.2], "profit_gain_1": [0.3, 0.3]})
    out = per_firm_summary(res, [0.1, 0.2], [0.5, 0.5])
    assert out["profit_ratio_1"] == pytest.approx((0.3 / 0.1) / (0.3 / 0.2))
    assert out["profit_gain_total"] == pytest.approx(np.mean([(0.5 - 0.3) / 0.7, (0.7 - 0.3) / 0.7]))


# ------------------------------------------------------------ unobserved demand shock
def test_stochastic_demand_game():
    econ = load_economy(ECON + "calvano_stochastic_demand.yaml")
    game = econ.finite_game()
    assert not game.exo_observed and game.n_exo == 3
    assert game.n_states == 225 and game.n_env_states == 675
    b = econ.benchmarks()
    # the authors' input file: Nash / monopoly price per state, a0 = -0.15, 0, 0.15
    assert b["nash_action"].to_numpy()[::2] == pytest.approx([1.48373, 1.47293, 1.45701], abs=1e-5)
    assert b["coop_action"].to_numpy()[::2] == pytest.approx([2.03669, 1.92498, 1.81808], abs=1e-5)
    # benchmarks averaged over the three (equally likely) states
    per_state = b.groupby("shock_state")["nash_profit"].first().to_numpy()
    assert game.nash_payoff[0] == pytest.approx(per_state.mean())
    # the grid: lowest Nash to highest monopoly price over the states, xi = 0.1
    lo, hi = 1.45701, 2.03669
    assert game.actions[0, [0, -1]] == pytest.approx([lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo)],
                                                     abs=1e-4)
    marginal = game.marginal()
    assert marginal.n_exo == 1 and marginal.payoffs[0] == pytest.approx(game.payoffs.mean(axis=0))


def test_observing_some_fields_only_is_refused():
    spec = load_yaml(ECON + "calvano_stochastic_demand.yaml")
    spec["agents"] = [dict(spec["agents"][0], name="a", count=1),
                      dict(spec["agents"][0], name="b", count=1,
                           observation={"memory": 1, "exo": None})]
    spec["markets"][0]["participants"] = ["a", "b"]
    with pytest.raises(SpecError, match="observe all exogenous fields or none"):
        Economy.from_dict(spec).finite_game()


def _hidden_game(protocol_payoffs):
    pd_ = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)
    base = FiniteGame.from_matrix(pd_, memory=1, discount=0.9)
    pay = np.stack([base.payoffs[0] * f for f in protocol_payoffs])
    k = len(protocol_payoffs)
    return dataclasses.replace(base, payoffs=pay, prices=np.repeat(base.prices, k, axis=0),
                               exo_transition=np.full((k, k), 1.0 / k),
                               exo_initial=np.full(k, 1.0 / k), exo_values=np.arange(k, dtype=float),
                               exo_observed=False)


@pytest.mark.parametrize("protocol", ["simultaneous", "alternating"])
def test_hidden_exo_kernel_equals_plain_twin(protocol):
    game = _hidden_game([1.0, 1.5, 0.5])
    cfg = QLearningConfig(alpha=0.1, beta=1e-3, stable_periods=300, protocol=protocol)
    fast = init_sessions(game, cfg, seed=4, sessions=range(3))
    slow = reference_init(game, cfg, seed=4, sessions=range(3))
    assert fast.q.shape == (3, 2, 4, 2)  # Q-rows: memory states only
    advance(game, cfg, fast, periods=5000)
    reference_advance(game, cfg, slow, periods=5000)
    for f in ("q", "strategy", "state", "t", "rng", "stable"):
        assert np.array_equal(getattr(fast, f), getattr(slow, f)), f
    assert fast.state.max() >= 4  # the carried state holds e as well


def test_hidden_exo_learns_from_realised_payoffs():
    # Q0 and the learned values are averages over the shock: with payoffs scaled by
    # 0, 1, 2 in three equally likely states, Q0 equals that of the unscaled game
    game = _hidden_game([0.0, 1.0, 2.0])
    plain = dataclasses.replace(game, payoffs=game.payoffs[1:2], prices=game.prices[1:2],
                                exo_transition=np.ones((1, 1)), exo_initial=np.ones(1),
                                exo_values=np.zeros(1), exo_observed=True)
    cfg = QLearningConfig(alpha=0.1, beta=1e-3, stable_periods=300)
    q_hidden = init_sessions(game, cfg, seed=0, sessions=[0]).q
    q_plain = init_sessions(plain, cfg, seed=0, sessions=[0]).q
    assert q_hidden == pytest.approx(q_plain)
    res = run_sessions(game, cfg, seed=0, sessions=range(2))
    assert res.strategies.shape == (2, 2, 4)
    assert np.all(res.cycle_length >= 1)


# ------------------------------------------------------------------------- memory 2
def test_memory2_sizes_and_memory_check():
    game = load_economy(ECON + "calvano_memory2.yaml").finite_game()
    assert game.n_states == 50_625 and game.n_states * game.n_actions == 759_375
    f64, f32 = QLearningConfig(), QLearningConfig(dtype="float32")
    assert session_bytes(game, f32) == 2 * 759_375 * 4 + 2 * 50_625 * 12
    gb = 1024**3
    check_memory(game, f32, 1000, available=12 * gb)  # 1000 sessions at once: 7.3 GB in float32
    with pytest.raises(SpecError) as err:  # ... 13.4 GB in float64
        check_memory(game, f64, 1000, available=12 * gb)
    assert err.value.path == "q_table" and "float32" in str(err.value)


def test_memory2_small_run():
    game = load_economy(ECON + "calvano_memory2.yaml").finite_game()
    cfg = QLearningConfig(dtype="float32", max_periods=20_000, stable_periods=100_000)
    res = run_sessions(game, cfg, seed=1, sessions=range(2))
    assert res.strategies.shape == (2, 2, 50_625)
    assert res.final.q.size == 0 and not res.converged.any()  # stopped at the cap
    assert np.all(res.periods == 20_000)
    from marketsai.analysis.deviations import deviation_statistics
    dev = deviation_statistics(game, res.strategies, start_states=res.final.state)
    assert np.all(dev["punishment_length"] >= 1) and np.all(dev["deviations"] >= 2)


@pytest.mark.parametrize("name,nash,coop,pin,pim", [
    ("calvano_n3", 1.37016, 2.0, 0.12016, 0.25),
    ("calvano_n4", 1.33146, 2.05441, 0.08146, 0.2011),
])
def test_more_firms_benchmarks(name, nash, coop, pin, pim):
    # the values of docs/references.md (the authors' input files, paper p. 3288)
    econ = load_economy(ECON + name + ".yaml")
    b = econ.benchmarks()
    assert b["nash_action"].to_numpy() == pytest.approx(nash, abs=1e-5)
    assert b["coop_action"].to_numpy() == pytest.approx(coop, abs=1e-5)
    assert b["nash_profit"].to_numpy() == pytest.approx(pin, abs=1e-5)
    assert b["coop_profit"].to_numpy() == pytest.approx(pim, abs=1e-4)
    assert np.allclose(nash_quantity_shares(econ), 1 / len(econ.agents))
