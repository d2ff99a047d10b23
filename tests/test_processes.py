"""Exogenous processes: discretisations against the AR(1) formulas and QuantEcon, the
Krusell-Smith chain against its targets, panel simulation, file validation."""

import copy
import math
import warnings

import numpy as np
import pytest

from marketsai.errors import SpecError
from marketsai.processes import (
    PROCESS_FIELDS,
    MarkovChain,
    describe_process_fields,
    krusell_smith_chain,
    process_from_legacy_shocks,
    process_from_spec,
    product,
    rouwenhorst,
    tauchen,
)


def _qe():
    quantecon = pytest.importorskip("quantecon")
    return quantecon.markov


# ---------------------------------------------------------------- Rouwenhorst / Tauchen
@pytest.mark.parametrize("n", [2, 3, 9, 51, 301])
@pytest.mark.parametrize("rho", [-0.6, 0.0, 0.5, 0.95, 0.995])
def test_rouwenhorst_moments_exact(n, rho):
    sigma, mean = 0.07, 0.4
    mc = rouwenhorst(n, rho, sigma, mean=mean)
    assert mc.mean("z") == pytest.approx(mean, abs=1e-10)
    assert mc.std("z") ** 2 == pytest.approx(sigma**2 / (1 - rho**2), rel=1e-10)
    assert mc.autocorr("z") == pytest.approx(rho, abs=1e-10)
    binom = np.array([math.comb(n - 1, k) for k in range(n)], dtype=float) / 2.0 ** (n - 1)
    np.testing.assert_allclose(mc.stationary(), binom, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(mc.p0, binom, rtol=1e-12, atol=1e-300)


def test_tauchen_bias_shrinks_with_n():
    """Two known biases: a coarse grid (shrinks with n) and truncation at +-n_std (a floor)."""
    rho, sigma = 0.9, 0.1
    target = sigma / math.sqrt(1 - rho**2)
    ns = (5, 15, 45, 135, 405, 1215)

    def errors(n_std):
        chains = [tauchen(n, rho, sigma, mean=1.0, n_std=n_std) for n in ns]
        for mc in chains:
            assert mc.mean("z") == pytest.approx(1.0, abs=1e-12)  # symmetric grid: no mean bias
        return ([abs(mc.std("z") / target - 1) for mc in chains],
                [abs(mc.autocorr("z") - rho) for mc in chains])

    std_err, ac_err = errors(5.0)  # wide grid: truncation negligible, the grid bias vanishes
    assert all(a > b for a, b in zip(std_err, std_err[1:], strict=False)), std_err
    assert std_err[0] > 0.1 and std_err[-1] < 1e-4
    assert ac_err[0] > 0.01 and max(ac_err[3:]) < 1e-5
    std3, ac3 = errors(3.0)  # the standard grid: falls fast, then the +-3 sd truncation floor
    assert std3[0] > 0.1 and std3[2] < 0.01
    assert abs(std3[-1] - std3[-2]) < 1e-4 and 0.003 < std3[-1] < 0.01


@pytest.mark.parametrize("n", [2, 4, 11, 40])
@pytest.mark.parametrize("rho", [-0.3, 0.8, 0.97])
def test_against_quantecon(n, rho):
    qm = _qe()
    sigma, mean = 0.02, 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # quantecon warns about its changed signature
        # quantecon's AR(1) is y' = mu + rho y + eps: mu = (1 - rho) * our mean
        qr = qm.rouwenhorst(n, rho, sigma, mu=(1 - rho) * mean)
        qt = qm.tauchen(n, rho, sigma, mu=(1 - rho) * mean, n_std=2.5)
    ours_r = rouwenhorst(n, rho, sigma, mean=mean)
    ours_t = tauchen(n, rho, sigma, mean=mean, n_std=2.5)
    np.testing.assert_allclose(ours_r.P, qr.P, atol=1e-13)
    np.testing.assert_allclose(ours_r.value("z"), qr.state_values, atol=1e-12)
    np.testing.assert_allclose(ours_t.P, qt.P, atol=1e-12)
    np.testing.assert_allclose(ours_t.value("z"), qt.state_values, atol=1e-12)
    np.testing.assert_allclose(ours_t.stationary(), qt.stationary_distributions[0], atol=1e-10)


def test_log_values_and_field_name():
    mc = rouwenhorst(5, 0.9, 0.01, mean=0.2, field="a", log=True)
    lin = rouwenhorst(5, 0.9, 0.01, mean=0.2, field="a")
    np.testing.assert_allclose(mc.value("a"), np.exp(lin.value("a")))
    np.testing.assert_array_equal(mc.P, lin.P)
    assert mc.fields == ("a",)
    assert tauchen(5, 0.9, 0.01, log=True).value("z").min() > 0


@pytest.mark.parametrize("make", [rouwenhorst, tauchen])
@pytest.mark.parametrize("bad", [dict(rho=1.0), dict(rho=-1.2), dict(sigma=0.0), dict(n=1)])
def test_constructor_rejects(make, bad):
    args = dict(n=5, rho=0.5, sigma=0.1) | bad
    with pytest.raises(ValueError):
        make(**args)


# ---------------------------------------------------------------- MarkovChain basics
def _random_chain(n, seed):
    rng = np.random.default_rng(seed)
    P = rng.random((n, n)) ** 4  # uneven rows
    return MarkovChain(rng.normal(size=n), P / P.sum(axis=1, keepdims=True))


@pytest.mark.parametrize("n", [1, 3, 60, 2000])
def test_stationary_solves_the_balance_equations(n):
    mc = _random_chain(n, n)
    pi = mc.stationary()
    assert pi.min() >= 0 and pi.sum() == pytest.approx(1, abs=1e-12)
    np.testing.assert_allclose(pi @ mc.P, pi, atol=1e-13)
    np.testing.assert_array_equal(mc.p0, pi)  # the default initial distribution


def test_stationary_matches_quantecon_on_a_sparse_chain():
    qm = _qe()
    n = 300
    P = np.zeros((n, n))  # a birth-death chain: many tiny stationary probabilities
    P[np.arange(n - 1), np.arange(1, n)] = 0.3
    P[np.arange(1, n), np.arange(n - 1)] = 0.7
    P[np.arange(n), np.arange(n)] = 1 - P.sum(axis=1)
    ours = MarkovChain(np.arange(n), P).stationary()
    theirs = qm.MarkovChain(P).stationary_distributions[0]
    np.testing.assert_allclose(ours, theirs, atol=1e-15)


def test_chain_validation_and_read_only():
    with pytest.raises(ValueError, match="rows of P"):
        MarkovChain([0.0, 1.0], [[0.5, 0.4], [0.5, 0.5]])
    with pytest.raises(ValueError, match="non-negative"):
        MarkovChain([0.0, 1.0], [[1.5, -0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match="fields"):
        MarkovChain([[0.0, 1.0]], [[1.0]], fields=("z",))
    with pytest.raises(ValueError, match="aggregate"):
        MarkovChain([0.0], [[1.0]], fields=("z",), aggregate=("e",))
    with pytest.raises(ValueError, match="p0"):
        MarkovChain([0.0, 1.0], np.full((2, 2), 0.5), p0=[0.6, 0.6])
    with pytest.raises(ValueError, match="stationary"):
        MarkovChain([0.0, 1.0], np.eye(2))  # two recurrent classes, no p0
    mc = MarkovChain([0.0, 1.0], np.eye(2), p0=[1.0, 0.0])  # fine with an explicit p0
    for arr in (mc.values, mc.P, mc.p0, _random_chain(3, 0).stationary()):
        with pytest.raises(ValueError):
            arr[0] = 3.0


# ---------------------------------------------------------------- simulation
def test_simulated_path_moments_match_theory():
    rho, sigma = 0.9, 0.1
    mc = rouwenhorst(9, rho, sigma, mean=0.5)
    z = mc.value("z")[mc.simulate(400_000, np.random.default_rng(1))]
    sd = sigma / math.sqrt(1 - rho**2)
    # the sample mean of an AR(1) has std sd * sqrt((1 + rho) / ((1 - rho) T)) ~ 0.0016
    assert abs(z.mean() - 0.5) < 0.008
    assert z.std() == pytest.approx(sd, rel=0.02)
    assert np.corrcoef(z[:-1], z[1:])[0, 1] == pytest.approx(rho, abs=0.005)


def test_simulated_transition_frequencies():
    mc = _random_chain(4, 7)
    x = mc.simulate(200_000, np.random.default_rng(2))
    counts = np.zeros((4, 4))
    np.add.at(counts, (x[:-1], x[1:]), 1)
    freq = counts / counts.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(freq, mc.P, atol=0.01)


def test_zero_probability_states_never_drawn():
    mc = MarkovChain([0.0, 1.0, 2.0], [[0.0, 1.0, 0.0], [0.5, 0.0, 0.5], [0.0, 1.0, 0.0]])
    x = mc.simulate(10_000, np.random.default_rng(3), init=0)
    assert np.all(np.diff(x % 2) != 0)  # 0/2 -> 1 -> 0/2 -> ...
    assert x[0] == 0


def test_same_seed_same_path():
    mc = rouwenhorst(7, 0.8, 0.1)
    a = mc.simulate(1000, np.random.default_rng(5))
    b = mc.simulate(1000, np.random.default_rng(5))
    c = mc.simulate(1000, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.int64 and a.shape == (1000,)
    ks = krusell_smith_chain()
    p = ks.simulate_panel(50, 100, np.random.default_rng(5))
    np.testing.assert_array_equal(p, ks.simulate_panel(50, 100, np.random.default_rng(5)))


def test_panel_without_aggregate_is_independent_agents():
    mc = MarkovChain([0.0, 1.0], [[0.9, 0.1], [0.3, 0.7]], p0=[1.0, 0.0])
    x = mc.simulate_panel(20_000, 60, np.random.default_rng(4))
    assert x.shape == (60, 20_000) and x.dtype == np.int64
    assert np.all(x[0] == 0)
    assert x[-1].mean() == pytest.approx(mc.stationary()[1], abs=0.015)
    assert x[1].mean() == pytest.approx(0.1, abs=0.01)


def test_panel_init_and_its_checks():
    ks = krusell_smith_chain()
    x = ks.simulate_panel(3, 50, np.random.default_rng(0), init=[0, 1, 1])
    np.testing.assert_array_equal(x[0], [0, 1, 1])
    with pytest.raises(ValueError, match="sharing"):
        ks.simulate_panel(2, 5, np.random.default_rng(0), init=[0, 2])  # bad and good z
    with pytest.raises(ValueError, match="indices"):
        ks.simulate_panel(2, 5, np.random.default_rng(0), init=[0, 4])
    mc = rouwenhorst(3, 0.5, 1.0)
    np.testing.assert_array_equal(mc.simulate_panel(2, 4, np.random.default_rng(0), init=[2, 2])[0], [2, 2])


def test_krusell_smith_panel_shares_z_and_hits_unemployment_targets():
    ks = krusell_smith_chain()
    N, T = 20_000, 300
    x = ks.simulate_panel(N, T, np.random.default_rng(8))
    z, e = ks.value("z")[x], ks.value("e")[x]
    assert np.all(z == z[:, :1])  # every agent sees the same z each period
    zt = z[:, 0]
    assert {0.99, 1.01} <= set(zt.tolist())
    u_target = np.where(zt == 0.99, 0.10, 0.04)
    u_rate = 1 - e.mean(axis=1)
    tol = 5 * np.sqrt(u_target * (1 - u_target) / N)  # binomial noise of the cross-section
    assert np.all(np.abs(u_rate - u_target) < tol)
    spells = np.diff(zt) != 0  # regimes switch at about 1/8 per period
    assert spells.mean() == pytest.approx(1 / 8, abs=0.06)


# ---------------------------------------------------------------- Krusell-Smith chain
def test_krusell_smith_targets():
    ks = krusell_smith_chain()
    P = ks.P
    np.testing.assert_allclose(P.sum(axis=1), 1, atol=1e-14)
    assert ks.fields == ("z", "e") and ks.aggregate == ("z",)
    np.testing.assert_array_equal(ks.values, [[0.99, 0], [0.99, 1], [1.01, 0], [1.01, 1]])
    u = {0: 0.10, 1: 0.04}
    stay_u = {}
    for z in (0, 1):
        for z2 in (0, 1):
            block = P[2 * z:2 * z + 2, 2 * z2:2 * z2 + 2]
            pzz = block.sum(axis=1)
            assert pzz[0] == pytest.approx(pzz[1], abs=1e-14)  # z' does not depend on e
            cond = block / pzz[:, None]
            stay_u[z, z2] = cond[0, 0]
            # unemployment after the move is exactly u(z'), whatever z was
            assert u[z] * cond[0, 0] + (1 - u[z]) * cond[1, 0] == pytest.approx(u[z2], abs=1e-14)
            if z == z2:
                assert 1 / (1 - pzz[0]) == pytest.approx(8.0)  # mean regime duration
    assert 1 / (1 - stay_u[0, 0]) == pytest.approx(2.5)
    assert 1 / (1 - stay_u[1, 1]) == pytest.approx(1.5)
    assert stay_u[0, 1] == pytest.approx(0.75 * stay_u[1, 1])
    assert stay_u[1, 0] == pytest.approx(1.25 * stay_u[0, 0])
    # the matrix as published (e.g. den Haan, Judd & Juillard 2010, KS's calibration)
    published = [[0.525, 0.35, 0.03125, 0.09375], [0.038889, 0.836111, 0.002083, 0.122917],
                 [0.09375, 0.03125, 0.291667, 0.583333], [0.009115, 0.115885, 0.024306, 0.850694]]
    np.testing.assert_allclose(P, published, atol=1e-6)
    np.testing.assert_allclose(ks.stationary(), [0.05, 0.45, 0.02, 0.48], atol=1e-14)


def test_krusell_smith_marginal_is_the_z_chain():
    m = krusell_smith_chain().marginal(("z",))
    np.testing.assert_allclose(m.P, [[0.875, 0.125], [0.125, 0.875]], atol=1e-14)
    np.testing.assert_array_equal(m.value("z"), [0.99, 1.01])
    assert m.fields == ("z",) and m.aggregate == ("z",)
    np.testing.assert_allclose(m.p0, [0.5, 0.5], atol=1e-14)


def test_krusell_smith_other_targets_and_impossible_ones():
    ks = krusell_smith_chain(unemployment=(0.12, 0.06), duration_z=4, duration_unemployment=(3, 2))
    assert ks.marginal("z").P[0, 0] == pytest.approx(0.75)
    assert ks.stationary()[0] == pytest.approx(0.5 * 0.12)
    with pytest.raises(ValueError, match="not probabilities"):
        krusell_smith_chain(unemployment=(0.2, 0.05), duration_unemployment=(3, 2))  # p(u'|e, b->g) < 0
    with pytest.raises(ValueError, match="not probabilities"):
        krusell_smith_chain(ratio_good_bad=2.0)  # p(u'|u, g->b) = 1.2
    with pytest.raises(ValueError):
        krusell_smith_chain(z_values=(1.0, 1.0))


def test_marginal_rejects_a_non_markov_block():
    P = np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5]])
    mc = MarkovChain([[0, 0], [0, 1], [1, 0]], P, fields=("a", "b"))
    with pytest.raises(ValueError, match="not Markov"):
        mc.marginal("a")
    with pytest.raises(ValueError):
        mc.marginal("c")


# ---------------------------------------------------------------- product
def test_product_is_the_independent_joint_chain():
    a = rouwenhorst(3, 0.9, 0.1, field="a")
    b = MarkovChain([5.0, 6.0], [[0.7, 0.3], [0.2, 0.8]], fields=("b",), aggregate=("b",))
    ab = product(a, b)
    assert ab.fields == ("a", "b") and ab.aggregate == ("b",) and ab.n_states == 6
    s = 3 * 2 - 1
    np.testing.assert_array_equal(ab.values[s], [a.values[2, 0], 6.0])  # first varies slowest
    for i in range(3):
        for j in range(2):
            for k in range(3):
                for m in range(2):
                    assert ab.P[2 * i + j, 2 * k + m] == pytest.approx(a.P[i, k] * b.P[j, m])
    np.testing.assert_allclose(ab.marginal("a").P, a.P, atol=1e-14)
    np.testing.assert_allclose(ab.marginal("b").P, b.P, atol=1e-14)
    assert ab.autocorr("a") == pytest.approx(0.9)
    np.testing.assert_allclose(ab.stationary(), np.kron(a.stationary(), b.stationary()), atol=1e-14)
    with pytest.raises(ValueError, match="fields"):
        product(a, a)


# ---------------------------------------------------------------- file entries
AR1 = {"kind": "ar1", "rho": 0.95, "sigma": 0.007, "mean": 0.0, "log": True, "method": "rouwenhorst",
       "states": 7}
MARKOV = {"kind": "markov", "values": [-0.1, 0.1], "transition": [[0.9, 0.1], [0.1, 0.9]], "initial": None}
KS_P = krusell_smith_chain().P.tolist()
ZE = {"kind": "markov", "fields": ["z", "e"], "aggregate": ["z"],
      "values": [[0.99, 0], [0.99, 1], [1.01, 0], [1.01, 1]], "transition": KS_P, "scope": "agent"}
KS = {"kind": "krusell_smith", "z_values": [0.99, 1.01], "unemployment": [0.10, 0.04], "duration_z": 8,
      "duration_unemployment": [2.5, 1.5], "scope": "agent"}


def test_file_entries_build_the_chains():
    z = process_from_spec(AR1, "processes.z")
    assert z.name == "z" and z.scope == "aggregate"
    np.testing.assert_allclose(z.chain.values, np.exp(rouwenhorst(7, 0.95, 0.007).values))
    d = process_from_spec(MARKOV, "processes.demand")
    assert d.chain.fields == ("demand",) and d.spec["fields"] == ["demand"]
    np.testing.assert_allclose(d.chain.p0, [0.5, 0.5])
    ze = process_from_spec(ZE, "processes.ze")
    ks = process_from_spec(KS, "processes.ks")
    np.testing.assert_allclose(ze.chain.P, ks.chain.P, atol=1e-15)
    assert ze.chain.aggregate == ks.chain.aggregate == ("z",) and ks.scope == "agent"
    t = process_from_spec({"kind": "ar1", "rho": 0.5, "sigma": 1.0, "method": "tauchen"}, "p.x", name="y")
    assert t.name == "y" and t.spec["n_std"] == 3.0 and t.chain.fields == ("y",)
    np.testing.assert_allclose(t.chain.P, tauchen(7, 0.5, 1.0).P)


@pytest.mark.parametrize("entry", [AR1, MARKOV, ZE, KS, {"kind": "ar1", "rho": 0.1, "sigma": 2,
                                                         "method": "tauchen"}])
def test_resolved_spec_shows_every_default_and_round_trips(entry):
    p = process_from_spec(copy.deepcopy(entry), "processes.x")
    from marketsai.processes import COMMON_FIELDS, PROCESS_KINDS
    assert set(p.spec) == set(COMMON_FIELDS) | set(PROCESS_KINDS[entry["kind"]])
    again = process_from_spec(copy.deepcopy(p.spec), "processes.x")
    assert again.spec == p.spec
    np.testing.assert_array_equal(again.chain.P, p.chain.P)
    np.testing.assert_array_equal(again.chain.values, p.chain.values)
    np.testing.assert_array_equal(again.chain.p0, p.chain.p0)


BAD = [  # (base entry, changes, field path suffix)
    (AR1, {"rho": 1.0}, "rho"),
    (AR1, {"rho": -1.5}, "rho"),
    (AR1, {"rho": "high"}, "rho"),
    (AR1, {"sigma": 0}, "sigma"),
    (AR1, {"sigma": -0.1}, "sigma"),
    (AR1, {"states": 1}, "states"),
    (AR1, {"states": 10_001}, "states"),
    (AR1, {"states": 7.5}, "states"),
    (AR1, {"method": "chebyshev"}, "method"),
    (AR1, {"log": "yes"}, "log"),
    (AR1, {"mean": float("nan")}, "mean"),
    (AR1, {"n_std": 2.0}, "n_std"),  # with method rouwenhorst
    (AR1, {"method": "tauchen", "n_std": 0}, "n_std"),
    (AR1, {"rhoo": 0.9}, "rhoo"),  # unknown key
    (AR1, {"values": [1, 2]}, "values"),  # a key of another kind
    (AR1, {"kind": "arma"}, "kind"),
    (AR1, {"scope": "global"}, "scope"),
    (MARKOV, {"transition": [[0.9, 0.1]]}, "transition"),  # not square
    (MARKOV, {"transition": [[1.0]]}, "transition"),  # does not match values
    (MARKOV, {"transition": [[0.9, 0.2], [0.1, 0.9]]}, "transition[0]"),  # row sum, named
    (MARKOV, {"transition": [[0.9, 0.1], [0.1, 0.902]]}, "transition[1]"),  # beyond the 1e-3 rounding
    (MARKOV, {"transition": [[1.1, -0.1], [0.1, 0.9]]}, "transition"),  # negative
    (MARKOV, {"transition": [[0.9, "a"], [0.1, 0.9]]}, "transition"),
    (MARKOV, {"transition": "identity"}, "transition"),
    (MARKOV, {"transition": [[True, False], [False, True]]}, "transition"),
    (MARKOV, {"transition": [[0.9, 0.1], [1.0]]}, "transition"),  # ragged
    (MARKOV, {"initial": [0.5, 0.6]}, "initial"),
    (MARKOV, {"initial": [1.0]}, "initial"),
    (MARKOV, {"initial": [1.5, -0.5]}, "initial"),
    (MARKOV, {"initial": "uniform"}, "initial"),
    (MARKOV, {"values": []}, "values"),
    (MARKOV, {"values": ["low", "high"]}, "values"),
    (MARKOV, {"values": 3}, "values"),
    (ZE, {"values": [[0.99, 0], [0.99], [1.01, 0], [1.01, 1]]}, "values"),  # ragged
    (ZE, {"values": [[0.99, 0], 0.99, [1.01, 0], [1.01, 1]]}, "values"),  # mixed
    (ZE, {"fields": ["z"]}, "fields"),
    (ZE, {"fields": None}, "fields"),
    (ZE, {"fields": ["z", "z"]}, "fields"),
    (ZE, {"fields": ["z", "e e"]}, "fields"),
    (ZE, {"aggregate": ["k"]}, "aggregate"),
    (ZE, {"aggregate": "z"}, "aggregate"),
    (ZE, {"scope": "aggregate"}, "scope"),  # idiosyncratic e drawn once for everyone
    (ZE, {"transition": [[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5], [0.5, 0.5, 0, 0], [0.25] * 4]},
     "aggregate"),  # z alone is not Markov
    (MARKOV, {"transition": [[1.0, 0.0], [0.0, 1.0]]}, "initial"),  # no unique stationary law
    (KS, {"unemployment": [1.2, 0.04]}, "unemployment"),
    (KS, {"unemployment": [0.1]}, "unemployment"),
    (KS, {"z_values": [0.99, "good"]}, "z_values"),
    (KS, {"z_values": [1.0, 1.0]}, "z_values"),
    (KS, {"z_values": [-1.0, 1.0]}, "z_values"),
    (KS, {"duration_z": 0.5}, "duration_z"),
    (KS, {"duration_unemployment": [2.5, 0.9]}, "duration_unemployment"),
    (KS, {"ratio_good_bad": -1}, "ratio_good_bad"),
    (KS, {"scope": "aggregate"}, "scope"),
    (KS, {"rho": 0.9}, "rho"),
]


@pytest.mark.parametrize(("base", "change", "field"), BAD, ids=[f"{b['kind']}-{f}-{i}" for i, (b, _, f)
                                                               in enumerate(BAD)])
def test_spec_errors_name_the_field(base, change, field):
    data = copy.deepcopy(base) | change
    with pytest.raises(SpecError) as info:
        process_from_spec(data, "processes.q")
    err = info.value
    assert err.path == f"processes.q.{field}", str(err)
    assert f"processes.q.{field}" in str(err) and err.allowed


def test_spec_errors_without_a_field():
    with pytest.raises(SpecError) as info:
        process_from_spec({"rho": 0.9, "sigma": 0.1}, "processes.z")
    assert info.value.path == "processes.z.kind"  # kind is required
    with pytest.raises(SpecError) as info:
        process_from_spec([1, 2], "processes.z")
    assert info.value.path == "processes.z"
    with pytest.raises(SpecError) as info:  # targets each fine, together impossible
        process_from_spec(KS | {"ratio_good_bad": 2.0}, "processes.ks")
    assert info.value.path == "processes.ks" and "not probabilities" in str(info.value)
    with pytest.raises(SpecError) as info:
        process_from_spec(AR1, "processes.z", name="2z")
    assert info.value.path == "processes.z"


def test_legacy_shocks_migration_round_trip():
    # the old block's meaning: values and transition as given, initial uniform unless given
    cases = [({"values": [0.8, 1.0, 1.2], "transition": [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1],
                                                         [0.0, 0.5, 0.5]]}, [1 / 3] * 3),
             ({"values": [-1, 1], "transition": [[0.5, 0.5], [0.2, 0.8]], "initial": [1, 0]}, [1, 0])]
    for old, initial in cases:
        entry = process_from_legacy_shocks(copy.deepcopy(old))
        assert list(entry) == ["shock"]
        p = process_from_spec(entry["shock"], "processes.shock")
        assert p.scope == "aggregate" and p.chain.fields == ("shock",)
        np.testing.assert_array_equal(p.chain.value("shock"), old["values"])
        np.testing.assert_allclose(p.chain.P, old["transition"], atol=1e-15)
        np.testing.assert_allclose(p.chain.p0, initial, atol=1e-15)  # not the stationary law
        # the resolved entry carries the old block unchanged, so it maps back
        back = {k: p.spec[k] for k in ("values", "transition", "initial")}
        assert back == {"values": [float(v) for v in old["values"]], "transition": old["transition"],
                        "initial": [float(v) for v in initial]}
        assert process_from_legacy_shocks(back) == {"shock": {"kind": "markov", **back}}
    with pytest.raises(SpecError) as info:
        process_from_legacy_shocks({"values": [1.0], "transition": [[1.0]], "init": [1.0]})
    assert info.value.path == "shocks.init"
    with pytest.raises(SpecError) as info:  # errors of the migrated block name the legacy path
        process_from_spec(process_from_legacy_shocks({"values": [1.0, 2.0], "transition": [[1.0]]})
                          ["shock"], "shocks")
    assert info.value.path == "shocks.transition"


def test_describe_process_fields_covers_every_key():
    tables = describe_process_fields()
    names = [row[0] for rows in tables.values() for row in rows]
    assert sorted(names) == sorted(PROCESS_FIELDS)
    for rows in tables.values():
        for name, _default, allowed, doc in rows:
            assert allowed and doc, name
    rho = next(r for r in tables["processes.<name> (kind: ar1)"] if r[0] == "rho")
    assert rho[1] == "required" and "|rho| < 1" in rho[2]


def test_docs_page_lists_every_key_and_its_example_runs():
    import re
    text = open("docs/processes.md").read()
    for section, rows in describe_process_fields().items():
        assert f"### `{section}`" in text
        for name, *_ in rows:
            assert f"| `{name}` |" in text, name
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    namespace = {}
    exec(compile(blocks[0], "docs/processes.md", "exec"), namespace)
    u = namespace["unemployment"]
    z = namespace["ks"].value("z")[namespace["x"][:, 0]]
    np.testing.assert_allclose(u, np.where(z == 0.99, 0.10, 0.04), atol=0.02)
    for line in re.findall(r"```yaml\n(.*?)```", text, flags=re.S)[:1]:
        import yaml
        for name, entry in yaml.safe_load(line)["processes"].items():
            process_from_spec(entry, f"processes.{name}")
