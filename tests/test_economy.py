"""The economy constructor: finite-game export, composition, shocks."""

import numpy as np
import pytest

import marketsai as mai
from marketsai.errors import SpecError


def test_calvano_finite_game():
    game = mai.load_economy("economies/bertrand_duopoly.yaml").finite_game()
    assert game.agents == ("firm_0", "firm_1")
    assert game.n_actions == 15 and game.memory == 1 and game.n_states == 225 and game.discount == 0.95
    pn, pm = 1.4729266, 1.9249809
    expected = np.linspace(pn - 0.1 * (pm - pn), pm + 0.1 * (pm - pn), 15)
    assert np.allclose(game.actions, expected, atol=1e-6)
    assert not np.any(np.isclose(game.actions, pn, atol=1e-4)) and not np.any(np.isclose(game.actions, pm, atol=1e-4))
    # payoffs[e, j, i] with j = a0 * m + a1
    mkt = mai.load_economy("economies/bertrand_duopoly.yaml").markets[0]
    for a0, a1 in [(0, 0), (3, 11), (14, 2)]:
        j = game.joint_index([a0, a1])
        p = np.array([game.actions[0, a0], game.actions[1, a1]])
        assert np.allclose(game.payoffs[0, j], mkt.clear(p).profit)
        assert np.allclose(game.prices[0, j], p)
    assert np.allclose(game.nash_payoff, 0.2229267, atol=1e-6)
    assert np.allclose(game.coop_payoff, 0.3374905, atol=1e-6)


def test_cournot_finite_game_reports_market_price():
    game = mai.load_economy("economies/cournot_duopoly.yaml").finite_game()
    j = game.joint_index([0, 14])
    q = game.actions[:, [0, 14]].diagonal()
    assert np.allclose(game.prices[0, j], 100 - q.sum())
    assert np.allclose(game.nash_payoff, 900.0) and np.allclose(game.coop_payoff, 1012.5)


def test_oligopoly_grids_are_per_firm():
    econ = mai.load_economy("economies/bertrand_oligopoly.yaml")
    game = econ.finite_game()
    assert game.actions.shape == (3, 11) and game.payoffs.shape == (1, 11**3, 3)
    b = econ.benchmarks()
    for i in range(3):
        lo, hi = sorted([b.nash_action[i], b.coop_action[i]])
        assert np.isclose(game.actions[i, 0], lo - 0.1 * (hi - lo))
        assert np.isclose(game.actions[i, -1], hi + 0.1 * (hi - lo))


def test_two_markets_one_budget():
    """A firm selling in two markets is paid the sum of its profits; others see their own market."""
    econ = mai.Economy.from_dict({
        "name": "two_markets",
        "agents": [{"name": "a"}, {"name": "b"}, {"name": "c", "params": {"cost": 10.0}}],
        "markets": [
            {"type": "bertrand_logit", "name": "north", "participants": ["a", "b"]},
            {"type": "cournot_linear", "name": "south", "participants": ["a", "c"],
             "params": {"intercept": 100.0}},
        ]})
    env = econ.parallel_env(max_cycles=3)
    obs, _ = env.reset(seed=3)
    assert env.action_space("a").nvec.tolist() == [15, 15]
    assert obs["a"].shape == (4,) and obs["b"].shape == (2,) and obs["c"].shape == (2,)
    _, rew, *_ = env.step({"a": np.array([2, 5]), "b": 7, "c": 9})
    vals = env.last_outcome["action"]
    north = econ.markets[0].clear(vals[[0, 2]]).profit
    south = econ.markets[1].clear(vals[[1, 3]]).profit
    assert np.isclose(rew["a"], north[0] + south[0])
    assert np.isclose(rew["b"], north[1]) and np.isclose(rew["c"], south[1])
    with pytest.raises(SpecError, match="exactly one market"):
        econ.finite_game()


def test_markov_demand_shocks_in_game_and_env():
    econ = mai.Economy.from_dict({
        "name": "shocked",
        "agents": [{"name": "firm", "count": 2, "action": {"points": 5}}],
        "markets": [{"type": "bertrand_logit", "participants": ["firm_0", "firm_1"]}],
        "shocks": {"values": [-0.2, 0.2], "transition": [[0.9, 0.1], [0.2, 0.8]]}})
    game = econ.finite_game()
    assert game.n_exo == 2 and game.n_states == 2 * 25
    assert np.all(game.payoffs[1] > game.payoffs[0])  # higher quality, higher profit at every profile
    pi = econ.stationary_shock_distribution()
    assert np.allclose(pi @ econ.shock_transition, pi) and np.allclose(pi, [2 / 3, 1 / 3])
    env = econ.parallel_env(max_cycles=2000)
    obs, _ = env.reset(seed=0)
    assert obs["firm_0"].shape == (3,)
    visits = []
    for _ in range(2000):
        obs, rew, *_ = env.step({"firm_0": 2, "firm_1": 2})
        visits.append(env.last_outcome["shock"])
    assert abs(np.mean(np.array(visits) > 0) - 1 / 3) < 0.06


def test_finite_game_requires_equal_grids():
    with pytest.raises(SpecError, match="same number of grid points"):
        mai.Economy.from_dict({
            "name": "x", "agents": [{"name": "a", "action": {"points": 5}}, {"name": "b", "action": {"points": 7}}],
            "markets": [{"type": "bertrand_logit", "participants": ["a", "b"]}]}).finite_game()
