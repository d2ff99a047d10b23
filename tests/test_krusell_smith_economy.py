"""economies/krusell_smith.yaml: the Krusell–Smith households composed from the competitive markets."""

from __future__ import annotations

import numpy as np
import pytest

import marketsai as mai
from marketsai.checks import check_clearing
from marketsai.processes import krusell_smith_chain

FILE = "economies/krusell_smith.yaml"


def economy(n: int) -> mai.Economy:
    return mai.load_economy(FILE, {"agents[0].count": n})


def test_the_file_uses_the_published_chain_and_clears():
    econ = economy(10)
    chain = econ.processes["ks"].chain
    ks = krusell_smith_chain()
    np.testing.assert_allclose(chain.P, ks.P, atol=1e-12)
    assert chain.aggregate == ("z",) and econ.processes["ks"].scope == "agent"
    worst = check_clearing(econ, steps=20)
    assert worst["excess_demand"] < 1e-10 and worst["budget"] < 1e-10


def test_prices_are_marginal_products_with_employment_as_labour():
    econ = economy(50)
    rng = np.random.default_rng(3)
    state = econ.initial_state(rng, 4)
    for _ in range(5):
        x = rng.uniform(0.8, 0.99, (4, 50))
        k = state.fields["household.k"]
        idx = state.exo_agent["ks"]
        z = econ.processes["ks"].chain.value("z")[idx[:, 0]]
        e = econ.processes["ks"].chain.value("e")[idx[:, :50]]
        state, _, info = econ.step(state, x, rng)
        K, L = k.sum(axis=1), (0.3271 * e).sum(axis=1)
        np.testing.assert_allclose(info["markets"]["capital"].price, 0.36 * z * (K / L) ** -0.64, rtol=1e-12)
        np.testing.assert_allclose(info["markets"]["labour"].price, 0.64 * z * (K / L) ** 0.36, rtol=1e-12)
        np.testing.assert_allclose(info["household"]["labour"], 0.3271 * e, rtol=0, atol=0)
        assert np.all(state.fields["household.k"] > 0)  # k' >= 0 by construction


def test_unemployment_follows_the_aggregate_state():
    econ = economy(2000)
    rng = np.random.default_rng(0)
    state = econ.initial_state(rng, 1)
    chain = econ.processes["ks"].chain
    u = {0.99: [], 1.01: []}
    x = np.full((1, 2000), 0.93)
    for _ in range(300):
        idx = state.exo_agent["ks"][0]
        u[float(chain.value("z")[idx[0]])].append(1.0 - chain.value("e")[idx].mean())
        state, _, _ = econ.step(state, x, rng)
    assert np.mean(u[0.99][10:]) == pytest.approx(0.10, abs=0.01)
    assert np.mean(u[1.01][10:]) == pytest.approx(0.04, abs=0.01)


def test_observation_size_does_not_grow_with_n():
    small, large = economy(10), economy(1000)
    assert small.observer.spaces["household_0"].shape == large.observer.spaces["household_0"].shape == (4,)
    agg_small = small.state(small.initial_state(np.random.default_rng(0)))
    agg_large = large.state(large.initial_state(np.random.default_rng(0)))
    # z, the employment rate, mean and spread of capital: what a critic may read
    assert agg_small.shape == agg_large.shape == (1, 4)
    assert min(abs(float(agg_large[0, 0]) - z) for z in (0.99, 1.01)) < 1e-6
