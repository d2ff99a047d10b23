"""Competitive markets and agent types from outside the package (issue 19, tests/plugins).

Three plug-ins, each composed from an economy file by import path and cleared by the
package's clearing, which knows nothing of them: a Huggett bond market whose buyers and
sellers are both learning households (:mod:`huggett`), hand-to-mouth households in the
package's labour and goods markets (:mod:`hand_to_mouth`), and a government that buys
goods with an income tax it levies in a market of its own (:mod:`government`); and a
bond market at a world price, where the rest of the world takes what the households
leave (:mod:`small_open`, the ``exogenous`` pricing rule). Every
period, every market clears to 1e-10 and every budget holds, recomputed here from the
prices the markets report; each economy steps through every environment view.
"""

import warnings

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

import marketsai as mai
from marketsai.checks import check_clearing

TOL = 1e-10
FILES = {name: f"tests/plugins/economies/{name}.yaml"
         for name in ("huggett", "hand_to_mouth", "government", "small_open")}


@pytest.fixture(autouse=True)
def plugin_path(monkeypatch):
    monkeypatch.syspath_prepend("tests/plugins")


def random_decisions(econ, rng, batch):
    return np.column_stack([rng.uniform(s.low, s.high, batch) for s in econ.decisions])


def simulate(name, steps=25, batch=5, seed=0):
    """``(econ, [(state, x, next state, info)])`` of random decisions; every market clears each period."""
    econ = mai.load_economy(FILES[name])
    rng = np.random.default_rng(seed)
    state = econ.initial_state(rng, batch)
    periods = []
    for _ in range(steps):
        x = random_decisions(econ, rng, batch)
        new, rewards, info = econ.step(state, x, rng)
        assert np.all(np.isfinite(rewards))
        for market, rep in info["markets"].items():
            assert np.abs(rep.excess_demand).max() < TOL, market
            assert np.all(rep.price > 0), market
        periods.append((state, x, new, info))
        state = new
    return econ, periods


def test_huggett_bond_market_clears_between_learning_households():
    from huggett import bond_price
    econ, periods = simulate("huggett")
    assert econ.actors == tuple(f"household_{i}" for i in range(12))
    phi = econ.entries[0].kind.p["borrowing_limit"]
    sides = set()
    for state, x, new, info in periods:
        q = info["markets"]["bonds"].price[:, None]
        b, b_next = state.fields["household.b"], new.fields["household.b"]
        y = np.array([0.6, 1.4])[state.exo_agent["y"]]  # the endowment, from the process state
        c = info["household"]["consumption"]
        assert np.abs(c + q * b_next - (b + y)).max() < TOL, "budget c + q b' = b + y"
        assert np.all(c > 0) and np.all(b_next > -phi), "consumption positive, borrowing limit kept"
        assert np.abs(b_next.sum(axis=1)).max() < TOL, "bonds are in zero net supply"
        assert np.abs(c.sum(axis=1) - y.sum(axis=1)).max() < TOL, "the goods the endowments are, are eaten"
        np.testing.assert_allclose(q[:, 0], bond_price(b, y, x, phi), rtol=1e-12)
        sides |= {"lend" if v > 0 else "borrow" for v in b_next.ravel()}
    assert sides == {"lend", "borrow"}, "both sides of the market are households"


def test_hand_to_mouth_households_trade_in_the_package_markets():
    econ, periods = simulate("hand_to_mouth")
    assert econ.actors == tuple(f"household_{i}" for i in range(6))  # hand-to-mouth households take no decisions
    hh, worker, firm = (econ.entries[e].kind for e in range(3))
    a, delta, hours = firm.p["alpha"], hh.p["delta"], worker.p["hours"]
    for state, _x, new, info in periods:
        mk = info["markets"]
        r, w, p = mk["capital"].price[:, None], mk["labour"].price[:, None], mk["output"].price[:, None]
        np.testing.assert_array_equal(p, 1.0)
        k, k_next = state.fields["household.k"], new.fields["household.k"]
        z = info["exo"]["z"][:, None]
        K, L = k.sum(axis=1, keepdims=True), 6 * 1.0 + 4 * hours
        Y = z * K**a * L ** (1 - a)
        np.testing.assert_allclose(r, a * Y / K, rtol=1e-12)
        np.testing.assert_allclose(w, (1 - a) * Y / L, rtol=1e-12)
        c_w, c_h = info["worker"]["consumption"], info["household"]["consumption"]
        assert np.abs(p * c_w - w * hours).max() < TOL, "a worker consumes its wage"
        gap = c_h + k_next - ((1 + r - delta) * k + w * 1.0 + info["household"]["dividend"])
        assert np.abs(gap).max() < TOL, "saver's budget"
        assert np.abs(c_h.sum(1) + k_next.sum(1) - (1 - delta) * k.sum(1) + c_w.sum(1) - Y[:, 0]).max() < TOL
    worst = check_clearing(econ, steps=10)
    assert worst["excess_demand"] < TOL and worst["budget"] < TOL


def test_government_buys_goods_with_the_tax_it_levies():
    econ, periods = simulate("government")
    assert econ.actors == tuple(f"household_{i}" for i in range(8))
    hh, gov, firm = (econ.entries[e].kind for e in range(3))
    a, delta, G = firm.p["alpha"], hh.p["delta"], gov.p["spending"]
    rates = []
    for state, _x, new, info in periods:
        mk = info["markets"]
        r, w, p = mk["capital"].price[:, None], mk["labour"].price[:, None], mk["output"].price[:, None]
        tau = mk["tax"].price[:, None]
        k, k_next = state.fields["household.k"], new.fields["household.k"]
        z = info["exo"]["z"][:, None]
        K, L = k.sum(axis=1, keepdims=True), 8.0
        Y = z * K**a * L ** (1 - a)
        np.testing.assert_allclose(r, a * Y / K, rtol=1e-12)
        np.testing.assert_allclose(w, (1 - a) * Y / L, rtol=1e-12)
        base = r * k + w * 1.0
        assert np.abs(tau[:, 0] * base.sum(axis=1) - p[:, 0] * G).max() < TOL, "the government's budget balances"
        c = info["household"]["consumption"]
        gap = c + k_next - ((1 - delta) * k + (1 - tau) * base + info["household"]["dividend"])
        assert np.abs(gap).max() < TOL, "the taxpayer's budget"
        np.testing.assert_allclose(info["state"]["spending"], p * G, rtol=1e-14)
        assert np.abs((c + k_next - (1 - delta) * k).sum(axis=1) + G - Y[:, 0]).max() < TOL, "output is bought"
        rates.append(tau)
    rates = np.concatenate(rates)
    assert np.all((rates > 0.02) & (rates < 0.5))


def test_a_small_open_economy_borrows_at_the_world_price():
    econ, periods = simulate("small_open")
    assert econ.actors == tuple(f"household_{i}" for i in range(6))  # the rest of the world takes no decisions
    for state, _x, new, info in periods:
        q = info["markets"]["bonds"].price[:, None]
        np.testing.assert_array_equal(q, 1.0 / 1.03)  # set outside the market
        b, b_next = state.fields["household.b"], new.fields["household.b"]
        y = np.array([0.6, 1.4])[state.exo_agent["y"][:, :6]]  # the households' endowments
        assert np.abs(info["household"]["consumption"] + q * b_next - (b + y)).max() < TOL, "budget c + q b' = b + y"
        world = info["world"]["bonds_bought"][:, 0]
        assert np.abs(world + b_next.sum(axis=1)).max() < TOL, "the world holds what the households issue"
    assert np.abs(np.concatenate([p[2].fields["household.b"].sum(axis=1) for p in periods])).min() > 1e-3


@pytest.mark.parametrize("name", sorted(FILES))
def test_plug_in_economies_step_through_every_environment_view(name):
    econ = mai.load_economy(FILES[name])
    assert mai.Economy.from_dict(econ.to_dict()) == econ
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        parallel_api_test(econ.parallel_env(max_cycles=15), num_cycles=20)
    n = len(econ.actors)
    vec = econ.vector_env(sessions=3, max_cycles=6)
    obs, _ = vec.reset(seed=0)
    assert obs.shape[0] == 3 * n
    stacked = econ.stacked_env(sessions=2, max_cycles=6)
    sobs, _ = stacked.reset(seed=0)
    assert sobs.shape[:2] == (2, n)
    vec.action_space.seed(1)
    stacked.action_space.seed(2)
    for _ in range(8):  # past max_cycles: the autoreset too
        obs, rew, term, trunc, _ = vec.step(vec.action_space.sample())
        assert np.all(np.isfinite(obs)) and np.all(np.isfinite(rew))
        sobs, srew, *_ , info = stacked.step(stacked.action_space.sample())
        assert np.all(np.isfinite(sobs)) and np.all(np.isfinite(info["rewards"]))


def _composition_error(name, edit):
    data = mai.load_economy(FILES[name]).to_dict()
    edit(data)
    with pytest.raises(mai.SpecError) as err:
        mai.Economy.from_dict(data)
    return err.value


def test_plug_in_composition_errors_name_their_fields():
    def worker_without_goods(d):
        d["markets"][2]["participants"] = ["household", "firm"]
    err = _composition_error("hand_to_mouth", worker_without_goods)
    assert err.path == "agents[1].name" and "needs one good to consume" in str(err)

    def government_without_tax(d):
        d["markets"][3]["participants"] = ["household"]
    err = _composition_error("government", government_without_tax)
    assert err.path == "markets[3].participants" and "has no buyer: nobody pays for its tax" in str(err)

    def household_in_bonds(d):
        d["agents"].append({"name": "saver", "type": "household", "params": {"delta": 1.0},
                            "state": {"k": {"scale": "level", "low": 0.1, "high": 1.0, "initial": 0.5}}})
        d["markets"][0]["participants"].append("saver")
    err = _composition_error("huggett", household_in_bonds)
    assert err.path == "markets[0].participants[1]" and "has no role in a bonds market" in str(err)

    def borrowing_below_the_limit(d):
        d["agents"][0]["state"]["b"]["low"] = -1.0
    err = _composition_error("huggett", borrowing_below_the_limit)
    assert err.path == "agents[0].state.b.low"

    def endowment_below_the_limit(d):
        d["agents"][0]["params"]["borrowing_limit"] = 0.7
        d["agents"][0]["state"]["b"]["low"] = -0.7
    err = _composition_error("huggett", endowment_below_the_limit)
    assert err.path == "agents[0].params.income"

    def nobody_accommodates(d):
        d["markets"][0]["participants"] = ["household"]
        d["agents"] = d["agents"][:1]
    err = _composition_error("small_open", nobody_accommodates)
    assert err.path == "markets[0].participants" and "nobody who takes what the others leave" in str(err)
