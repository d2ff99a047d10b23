"""Market economies (issue 9): clearing, budgets, reference steady states, the planner twin, composition errors.

Every check recomputes the equilibrium conditions here, from the markets' reports and the
technologies, independently of :mod:`marketsai.clearing`'s closed form, and runs
:func:`marketsai.checks.check_clearing` as well.
"""

import copy
import dataclasses
import re
from functools import partial

import numpy as np
import pytest

import marketsai as mai
from marketsai.checks import check_clearing
from marketsai.runner.schema import set_path
from marketsai.solvers.two_sector import TwoSectorModel, collapse_to_one_sector, steady_state
from marketsai.yamlio import read_yaml

GROWTH = "economies/growth_market.yaml"
TWO = "economies/two_sector_labor.yaml"
PLANNER = "economies/brock_mirman_share.yaml"
TOL = 1e-10


def economy(path, **sets):
    """The file with ``--set``-like edits (``agents[0].count=100``), built."""
    return mai.Economy.from_dict(edited(path, **sets))


def edited(path, **sets):
    """``agents__0__params__psi=1.5`` is ``--set agents[0].params.psi=1.5``."""
    data = copy.deepcopy(read_yaml(path))
    for key, value in sets.items():
        set_path(data, re.sub(r"__(\d+)(?=__|$)", r"[\1]", key).replace("__", "."), value)
    return data


def random_decisions(econ, rng, batch):
    x = np.empty((batch, len(econ.decisions)))
    for d, s in enumerate(econ.decisions):
        x[:, d] = s.grid[rng.integers(0, s.size, batch)] if s.kind == "grid" else rng.uniform(s.low, s.high, batch)
    return x


def market(econ, info, **match):
    """The report of the one competitive market whose spec matches (type=..., use=...)."""
    found = [ms.name for ms in econ.spec.markets
             if ms.type == match.get("type", ms.type) and ms.params.get("use") == match.get("use", ms.params.get("use"))]
    assert len(found) == 1, found
    return info["markets"][found[0]]


def firm_column(econ, report_name, firm):
    k = [ms.name for ms in econ.spec.markets].index(report_name)
    return list(econ.spec.markets[k].participants).index(firm)


def verify_period(econ, state, x, new, info, tol=TOL):
    """Independent recomputation of one period: prices, clearing, every budget. Returns residuals."""
    hh = econ.entries[0]
    assert hh.kind.__class__.__name__ == "Household"
    n = len(hh.members)
    delta = hh.kind.p["delta"]
    k = state.fields["household.k"]
    k_next = new.fields["household.k"]
    out = info["household"]
    exo = info["exo"]
    eff = 1.0 if hh.kind.p["efficiency"] is None else np.asarray(exo[hh.kind.p["efficiency"]])[:, :n]
    hours = x[:, 1::2] if hh.kind.action["hours"] == "choice" else np.full(k.shape, hh.kind.p["hours"])
    s = x[:, 0::2] if hh.kind.action["hours"] == "choice" else x
    labour = hours * eff
    K, L = k.sum(axis=1), labour.sum(axis=1)
    cap, lab = market(econ, info, type="capital_rental"), market(econ, info, type="labour")
    r, w = cap.price, lab.price
    # supply side of the factor markets is exactly what households own and work
    assert np.allclose(cap.supply[:, :n], k, rtol=0, atol=1e-14)
    assert np.allclose(lab.supply[:, :n], labour, rtol=0, atol=1e-14)
    firms = [ent for ent in econ.entries if ent.kind.__class__.__name__ == "CompetitiveFirm"]
    worst = 0.0
    if len(firms) == 1:  # one good, consumed and invested
        p = firms[0].kind.p
        z = np.asarray(exo[p["productivity"]]) if p["productivity"] else 1.0
        a, A = p["alpha"], p["tfp"]
        Y = z * A * K**a * L ** (1 - a)
        assert np.allclose(r, a * Y / K, rtol=1e-13, atol=0), "rental rate is not the marginal product"
        assert np.allclose(w, (1 - a) * Y / L, rtol=1e-13, atol=0), "wage is not the marginal product"
        goods = market(econ, info, type="goods")
        assert np.allclose(goods.price, 1.0, rtol=0, atol=1e-15)
        cash = (1 + r[:, None] - delta) * k + w[:, None] * labour
        gaps = [out["consumption"] + k_next - cash,  # the budget c + k' = (1 + r - delta) k + w l e
                k_next - s * cash,  # the decision: save share s of cash on hand
                (out["consumption"] + k_next - (1 - delta) * k).sum(axis=1) - Y]  # the goods market
        gaps.append(cap.demand.sum(axis=1) - K)
        gaps.append(lab.demand.sum(axis=1) - L)
    else:  # two Cobb–Douglas sectors
        by_use = {ms.params["use"]: ms for ms in econ.spec.markets if ms.type == "goods"}
        sector = {}
        for use in ("consumption", "investment"):
            ms = by_use[use]
            name = next(a for a in ms.participants if a != "household" and not a.startswith("household_"))
            ent = next(e for e in econ.entries if e.name == name)
            Kg = cap.demand[:, firm_column(econ, cap_name(econ), name)]
            Lg = lab.demand[:, firm_column(econ, lab_name(econ), name)]
            p = ent.kind.p
            z = np.asarray(exo[p["productivity"]]) if p["productivity"] else 1.0
            Yg = z * p["tfp"] * Kg ** p["alpha"] * Lg ** (1 - p["alpha"])
            price = info["markets"][ms.name].price
            # each firm hires where marginal revenue products equal the common factor prices
            assert np.allclose(r, price * p["alpha"] * Yg / Kg, rtol=1e-12, atol=0), use
            assert np.allclose(w, price * (1 - p["alpha"]) * Yg / Lg, rtol=1e-12, atol=0), use
            assert np.allclose(info["markets"][ms.name].supply.sum(axis=1), Yg, rtol=1e-12, atol=0), use
            sector[use] = (Kg, Lg, Yg, price)
        assert np.allclose(sector["consumption"][3], 1.0, rtol=0, atol=1e-15), "the consumption good is the numeraire"
        p_i = sector["investment"][3][:, None]
        income = r[:, None] * k + w[:, None] * labour
        invest = k_next - (1 - delta) * k
        gaps = [out["consumption"] + p_i * invest - income,  # the budget c + p i = r k + w l e
                out["consumption"] - (1 - s) * income,  # the decision: spend share s on investment
                out["consumption"].sum(axis=1) - sector["consumption"][2],  # consumption good clears
                invest.sum(axis=1) - sector["investment"][2],  # investment good clears
                sector["consumption"][0] + sector["investment"][0] - K,  # capital clears
                sector["consumption"][1] + sector["investment"][1] - L]  # labour clears
    for g in gaps:
        worst = max(worst, float(np.abs(g).max()))
    assert worst < tol, f"independent recomputation off by {worst:.3g}"
    for name, rep in info["markets"].items():
        ed = float(np.abs(rep.excess_demand).max())
        assert ed < tol, f"{name}: excess demand {ed:.3g}"
        assert np.all(rep.price > 0), name
    assert np.all(out["consumption"] > 0) and np.all(k_next > 0)
    assert np.all(np.abs(out["dividend"]) < 1e-10 * (1 + np.abs(out["income"]))), "profits are zero under CRS"
    return worst


def cap_name(econ):
    return next(ms.name for ms in econ.spec.markets if ms.type == "capital_rental")


def lab_name(econ):
    return next(ms.name for ms in econ.spec.markets if ms.type == "labour")


def simulate(econ, steps, batch, seed, verify=True):
    rng = np.random.default_rng(seed)
    state = econ.initial_state(rng, batch)
    worst = 0.0
    for _ in range(steps):
        x = random_decisions(econ, rng, batch)
        new, rewards, info = econ.step(state, x, rng)
        assert np.all(np.isfinite(rewards))
        if verify:
            worst = max(worst, verify_period(econ, state, x, new, info))
        state = new
    return worst


# ---------------------------------------------------------------- clearing and budgets

@pytest.mark.parametrize("path", [GROWTH, TWO])
@pytest.mark.parametrize("n", [1, 10, 100])
def test_every_market_clears_and_every_budget_holds(path, n):
    econ = economy(path, agents__0__count=n)
    assert len(econ.entries[0].members) == n
    worst = check_clearing(econ, seed=n, steps=25, batch=4)
    assert worst["excess_demand"] < TOL and worst["budget"] < TOL
    assert simulate(econ, steps=25, batch=4, seed=n + 1) < TOL


@pytest.mark.parametrize("path", [GROWTH, TWO])
def test_heterogeneous_households_clear_and_keep_their_budgets(path):
    econ = economy(path, agents__0__count=7)
    rng = np.random.default_rng(3)
    state = econ.initial_state(rng, 5)
    k0 = state.fields["household.k"].mean()
    spread = k0 * np.geomspace(0.05, 20.0, 7)[None, :] * rng.uniform(0.8, 1.2, (5, 7))  # rich and poor
    state = dataclasses.replace(state, fields={"household.k": spread})
    for _ in range(5):
        x = random_decisions(econ, rng, 5)
        new, _, info = econ.step(state, x, rng)
        verify_period(econ, state, x, new, info)
        # capital income is proportional to wealth: same r for everybody
        rent = info["household"]["rent"]
        assert np.allclose(rent / state.fields["household.k"], rent[:, :1] / state.fields["household.k"][:, :1])
        state = new


def test_per_agent_efficiency_scales_labour_supply():
    data = edited(GROWTH, agents__0__count=6)
    data["processes"]["e"] = {"kind": "markov", "values": [0.4, 1.6], "transition": [[0.8, 0.2], [0.3, 0.7]],
                              "scope": "agent"}
    data["agents"][0]["params"]["efficiency"] = "e"
    data["agents"][0]["state"]["k"].update(scale="level", low=0.05, high=0.5, initial="uniform")
    econ = mai.Economy.from_dict(data)
    assert econ.entries[0].kind.k_steady is None  # no known steady state with idiosyncratic efficiency
    check_clearing(econ, seed=1, steps=20, batch=4)
    rng = np.random.default_rng(5)
    state = econ.initial_state(rng, 4)
    seen = set()
    for _ in range(20):
        x = random_decisions(econ, rng, 4)
        new, _, info = econ.step(state, x, rng)
        e = np.array([0.4, 1.6])[state.exo_agent["e"][:, :6]]
        seen |= set(np.unique(e))
        out = info["household"]
        assert np.array_equal(out["labour"], out["hours"] * e), "labour supply is hours times efficiency"
        assert np.allclose(out["wage_bill"], market(econ, info, type="labour").price[:, None] * e, rtol=1e-14)
        verify_period(econ, state, x, new, info)
        state = new
    assert seen == {0.4, 1.6}


# ---------------------------------------------------------------- reference steady states

def two_sector_at(case, n):
    m = TwoSectorModel.calibration(case)
    econ = economy(TWO, agents__0__count=n, discount=m.beta,
                   agents__0__params__psi=m.psi, agents__0__params__delta=m.delta,
                   agents__1__params__alpha=m.a_c, agents__2__params__alpha=m.a_i,
                   agents__1__params__tfp=m.A_c, agents__2__params__tfp=m.A_i)
    return m, steady_state(m), econ


@pytest.mark.parametrize("case", ["unequal", "equal"])
@pytest.mark.parametrize("n", [1, 10])
def test_two_sector_market_economy_reproduces_the_reference_steady_state(case, n):
    m, ss, econ = two_sector_at(case, n)
    assert econ.entries[0].kind.k_steady == pytest.approx(ss.K, rel=1e-12)
    B = 2
    state = dataclasses.replace(econ.initial_state(np.random.default_rng(0), B),
                                fields={"household.k": np.full((B, n), ss.K)})
    share = ss.p * ss.I / (ss.r * ss.K + ss.w * ss.L)  # spending share on the investment good
    x = np.tile([share, ss.L], (B, n))
    for _ in range(3):  # a steady state: the same period again and again
        new, _, info = econ.step(state, x, np.random.default_rng(1))
        verify_period(econ, state, x, new, info)
        mk = info["markets"]
        assert np.allclose(mk["capital"].price, ss.r, rtol=1e-10, atol=0)
        assert np.allclose(mk["labour"].price, ss.w, rtol=1e-10, atol=0)
        assert np.allclose(mk["investment"].price, ss.p, rtol=1e-10, atol=0)
        assert np.allclose(mk["consumption"].traded / n, ss.C, rtol=1e-10, atol=0)
        assert np.allclose(mk["investment"].traded / n, ss.I, rtol=1e-10, atol=0)
        assert np.allclose(info["household"]["consumption"], ss.c, rtol=1e-10, atol=0)
        assert np.allclose(mk["capital"].demand[:, n] / n, ss.K_c, rtol=1e-10, atol=0)
        assert np.allclose(mk["labour"].demand[:, n + 1] / n, ss.L_i, rtol=1e-10, atol=0)
        assert np.abs(new.fields["household.k"] - ss.K).max() < 1e-10, "capital is not constant at the steady state"
        state = new
    if case == "equal":
        one = collapse_to_one_sector(m)
        assert np.allclose(info["markets"]["investment"].price, 1.0, rtol=0, atol=1e-12)
        for got, want in ((info["markets"]["capital"].price, one.r), (info["markets"]["labour"].price, one.w),
                          (info["markets"]["consumption"].traded / n, one.C),
                          (info["markets"]["investment"].traded / n, one.I),
                          (state.fields["household.k"], one.K)):
            assert np.allclose(got, want, rtol=1e-10, atol=0)
    else:
        assert abs(ss.p - 1.0) > 0.1  # sector reallocation moves the relative price


def test_growth_market_with_saving_share_alpha_beta_is_the_planner_economy():
    market_econ = economy(GROWTH, agents__0__count=8)
    planner_econ = mai.load_economy(PLANNER)
    alpha, beta = market_econ.entries[1].kind.p["alpha"], market_econ.discount
    assert (planner_econ.entries[0].kind.p["alpha"], planner_econ.discount) == (alpha, beta)
    B, n, T = 4, 8, 60
    rng = np.random.default_rng(11)
    k0 = rng.uniform(0.1, 0.3, (B, 1))
    z0 = rng.integers(0, 5, (B, 1))
    pm = dataclasses.replace(planner_econ.initial_state(np.random.default_rng(0), B),
                             fields={"planner.k": k0}, exo=z0.copy())
    mk = dataclasses.replace(market_econ.initial_state(np.random.default_rng(0), B),
                             fields={"household.k": np.repeat(k0, n, axis=1)}, exo=z0.copy())
    rng_p, rng_m = np.random.default_rng(7), np.random.default_rng(7)  # the same z draws
    s = alpha * beta
    zs = set()
    for _ in range(T):
        assert np.array_equal(pm.exo, mk.exo)
        zs |= set(pm.exo.ravel().tolist())
        pm_next, _, pinfo = planner_econ.step(pm, np.full((B, 1), s), rng_p)
        mk_next, _, minfo = market_econ.step(mk, np.full((B, n), s), rng_m)
        verify_period(market_econ, mk, np.full((B, n), s), mk_next, minfo)
        K = mk_next.fields["household.k"].sum(axis=1, keepdims=True)
        assert np.abs(K / n - pm_next.fields["planner.k"]).max() < 1e-12
        assert np.abs(minfo["household"]["consumption"] - pinfo["planner"]["consumption"]).max() < 1e-12
        pm, mk = pm_next, mk_next
    assert len(zs) >= 3, "the z path should visit several states"


# ---------------------------------------------------------------- composition errors

def _household_in_bertrand():
    d = edited(GROWTH)
    d["agents"].append({"name": "rival", "type": "firm", "params": {"cost": 1.0, "quality": 2.0},
                        "action": {"low": 1.0, "high": 2.0}})
    d["markets"].append({"name": "duopoly", "type": "bertrand_logit", "participants": ["household", "rival"]})
    return d


def _bertrand_firm_in_capital_rental():
    d = edited(GROWTH)
    d["agents"].append({"name": "rival", "type": "firm", "params": {"cost": 1.0, "quality": 2.0}})
    d["markets"][0]["participants"].append("rival")
    return d


def _firm_in_no_goods_market():
    d = edited(GROWTH)
    d["markets"] = d["markets"][:2]
    return d


def _two_firms_in_one_goods_market():
    d = edited(GROWTH)
    d["agents"].append({"name": "firm2", "type": "competitive_firm"})
    for m in d["markets"]:
        m["participants"].append("firm2")
    return d


def _household_in_no_goods_market():
    d = edited(GROWTH)
    d["agents"].append({"name": "saver", "type": "household", "params": {"delta": 1.0},
                        "state": {"k": {"scale": "level", "low": 0.1, "high": 1.0, "initial": 0.5}}})
    d["markets"][0]["participants"].append("saver")
    d["markets"][1]["participants"].append("saver")
    return d


def _household_buys_no_investment_good():
    d = edited(TWO)
    d["agents"].append({"name": "spender", "type": "household", "params": {"psi": 1.75, "delta": 0.025},
                        "state": {"k": {"scale": "level", "low": 1.0, "high": 20.0, "initial": 10.0}},
                        "action": {"hours": "choice"}})
    for m in d["markets"]:
        if m["name"] != "investment":
            m["participants"].append("spender")
    return d


COMPOSITION_ERRORS = [
    # (case, bad economy, field path the message must name, words it must contain)
    ("household in a Bertrand market", _household_in_bertrand, "markets[3].participants[0]",
     "agent 'household' of type 'household' has no role in a market of strategic participants"),
    ("Bertrand firm in capital rental", _bertrand_firm_in_capital_rental, "markets[0].participants[2]",
     "agent 'rival' of type 'firm' has no role in a capital market"),
    ("goods market with no seller", partial(edited, GROWTH, markets__2__participants=["household"]),
     "markets[2].participants", "market 'output' (goods) has no seller"),
    ("labour market with no buyer", partial(edited, GROWTH, markets__1__participants=["household"]),
     "markets[1].participants", "market 'labour' (labour) has no buyer"),
    ("a good nobody pays for", _firm_in_no_goods_market, "agents[1].name",
     "firm 'firm' sells in no goods market: its output is a good nobody pays for"),
    ("no numeraire", partial(edited, TWO, markets__0__params__numeraire=False),
     "markets[0].params.numeraire", "no numeraire: the price level cannot clear"),
    ("two numeraires", partial(edited, TWO, markets__0__params__numeraire=True, markets__1__params__numeraire=True),
     "markets[1].params.numeraire", "two numeraires"),
    ("firm hires no labour", partial(edited, TWO, markets__3__participants=["household", "consumption_firm"]),
     "agents[2].name", "firm 'investment_firm' hires no labour: its technology needs labour"),
    ("two firms in one goods market", _two_firms_in_one_goods_market, "markets[2].participants",
     "a goods market with two competitive firms"),
    ("CES with two sectors", partial(edited, TWO, agents__1__params__technology="ces"),
     "agents[1].params.technology", "several sectors clear in closed form with Cobb–Douglas technologies only"),
    ("unknown market in observation.prices", partial(edited, GROWTH, agents__0__observation__prices=["wages"]),
     "agents[0].observation.prices", "observed price of an unknown competitive market"),
    ("unknown participant", partial(edited, GROWTH, markets__1__participants=["houshold", "firm"]),
     "markets[1].participants[0]", "unknown agent; did you mean 'household'?"),
    ("household that cannot consume", _household_in_no_goods_market, "agents[2].name",
     "household 'saver' buys in no goods market"),
    ("household that cannot invest", _household_buys_no_investment_good, "agents[3].name",
     "household 'spender' buys goods of uses ['consumption']: it needs one good it both consumes and invests, "
     "or a consumption good and an investment good (it buys no investment good)"),
    ("inconsistent goods uses", partial(edited, TWO, markets__1__params__use="both"),
     "markets[1].params.use", "an economy has one good (use: both) or a consumption good and an investment good"),
    ("several identical competitive firms", partial(edited, GROWTH, agents__1__count=2),
     "agents[1].count", "a competitive firm entry with count > 1"),
]


@pytest.mark.parametrize("case, build, path, words", COMPOSITION_ERRORS, ids=[c[0] for c in COMPOSITION_ERRORS])
def test_composition_errors_name_the_field(case, build, path, words):
    with pytest.raises(mai.SpecError) as err:
        mai.Economy.from_dict(build())
    assert err.value.path == path, str(err.value)
    assert words in str(err.value), str(err.value)
    assert str(err.value).startswith(path)


def test_composition_error_messages_stay_short_with_many_households():
    d = edited(GROWTH, agents__0__count=100)
    d["markets"][2]["participants"] = ["household"]
    with pytest.raises(mai.SpecError, match=re.escape("markets[2].participants = ['household']")):
        mai.Economy.from_dict(d)
    d = edited(GROWTH, agents__0__count=100)
    d["markets"][1]["participants"] = ["houshold", "firm"]
    with pytest.raises(mai.SpecError) as err:
        mai.Economy.from_dict(d)
    assert "household_0 ... household_99" in str(err.value) and "household_57" not in str(err.value)


# ---------------------------------------------------------------- files, CLI, environments

@pytest.mark.parametrize("path", [GROWTH, TWO])
def test_round_trip_and_validate(path):
    from click.testing import CliRunner

    from marketsai.cli import main
    econ = mai.load_economy(path)
    assert mai.Economy.from_dict(econ.to_dict()) == econ
    big = economy(path, agents__0__count=100)
    assert mai.Economy.from_dict(big.to_dict()) == big and big != econ
    res = CliRunner().invoke(main, ["validate", path, "--set", "agents[0].count=3"])
    assert res.exit_code == 0, res.output
    resolved = read_yaml_text(res.output)
    assert resolved["agents"][0]["count"] == 3
    assert mai.Economy.from_dict(resolved) == economy(path, agents__0__count=3)


def read_yaml_text(text):
    import yaml
    return yaml.safe_load(text)


@pytest.mark.parametrize("path", [GROWTH, TWO])
def test_actors_are_the_households_and_the_shipped_env_checks_cover_the_file(path):
    import glob
    assert path in glob.glob("economies/*.yaml")  # tests/test_envs.py runs PettingZoo / ours over these
    econ = economy(path, agents__0__count=3)
    assert econ.actors == ("household_0", "household_1", "household_2")  # competitive firms take no decisions
    env = econ.parallel_env(max_cycles=5)
    obs, _ = env.reset(seed=0)
    assert set(obs) == set(econ.actors)


@pytest.mark.parametrize("path", [GROWTH, TWO])
def test_gymnasium_check_env_with_one_household(path):
    """tests/test_envs.py checks single-agent files only (len(agents) == 1); a market economy with
    one household and its firms is single-actor, so gymnasium's checker runs on it here."""
    import warnings

    from gymnasium.utils.env_checker import check_env
    econ = economy(path, agents__0__count=1)
    assert len(econ.agents) > 1 and econ.actors == ("household",)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # unbounded Box observations (log prices, moments)
        check_env(econ.gymnasium_env(max_cycles=20), skip_render_check=True)


def test_prices_are_observed_as_logs():
    econ = economy(TWO, agents__0__count=2)
    state = econ.initial_state(np.random.default_rng(0), 3)
    obs = econ.observe(state)["household_0"]
    for name in ("investment", "capital", "labour"):
        want = np.log(state.prices[name]).astype(np.float32)
        assert np.any(np.isclose(obs, want[:, None], rtol=1e-6, atol=0), axis=1).all(), name


# ---------------------------------------------------------------- the composition guide

def test_composing_markets_doc_runs(capsys):
    text = open("docs/composing_markets.md").read()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 2
    from marketsai.agents import agent_types
    try:
        for block in blocks:
            exec(compile(block, "docs/composing_markets.md", "exec"), {})
    finally:
        agent_types.unregister("warm_glow_household")
    out = capsys.readouterr().out
    printed = re.search(r"prints\n\n```\n(.*?)```", text, flags=re.S).group(1)
    first = printed.splitlines()
    assert out.splitlines()[0] == first[0] and out.splitlines()[-1] == first[-1], out
    # every composition error quoted in the guide is one the code raises
    for case, build, _path, _words in COMPOSITION_ERRORS:
        try:
            mai.Economy.from_dict(build())
        except mai.SpecError as err:
            assert str(err).split(" (allowed:")[0] in text, f"docs/composing_markets.md lacks the {case} message"


@pytest.mark.parametrize("path", [GROWTH, TWO])
@pytest.mark.parametrize("wrong", ["r", "price"])
def test_the_independent_checks_catch_a_wrong_price(path, wrong, monkeypatch):
    """The recomputation above is not an identity: a price off by 1e-8 fails it (and check_clearing)."""
    from marketsai.clearing import Clearing
    econ = economy(path, agents__0__count=5)
    clear = Clearing.clear

    def off(self, *args, **kw):
        out = clear(self, *args, **kw)
        if wrong == "r":  # the capital market's price, r
            g = next(k for k, m in enumerate(econ.markets) if m.good == "capital")
        else:  # the investment good (two goods) or the one good
            g = next(k for k, m in enumerate(econ.markets) if m.good == "goods" and m.use != "consumption")
        return {**out, "price": {**out["price"], g: out["price"][g] * (1 + 1e-8)}}

    monkeypatch.setattr(Clearing, "clear", off)
    with pytest.raises(AssertionError):
        simulate(econ, steps=3, batch=2, seed=0)
    if path == GROWTH and wrong == "price":
        return  # check_clearing does not look at the one good's price (the budget never reads it)
    with pytest.raises(AssertionError):
        check_clearing(econ, steps=3, batch=2)
