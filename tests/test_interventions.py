"""Intervention phases, protocols and validation on a small Calvano game (m = 5)."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from marketsai.errors import SpecError
from marketsai.interventions import (
    InterventionContext,
    Phase,
    build_phase,
    expand_interventions,
    phases,
    reconverge,
    run_intervention,
)
from marketsai.interventions.protocol import copy_states
from marketsai.params import Param, positive_int
from marketsai.tabular import QLearningConfig, advance, calvano_q0, init_sessions
from marketsai.tabular.games import calvano_game

STABLE = 2000


@pytest.fixture(scope="module")
def game():
    return calvano_game(m=5)


@pytest.fixture(scope="module")
def cfg():
    return QLearningConfig(alpha=0.15, beta=2e-4, stable_periods=STABLE)


@pytest.fixture(scope="module")
def converged(game, cfg):
    st = init_sessions(game, cfg, seed=3, sessions=range(16))
    advance(game, cfg, st)
    assert st.converged.all()
    return st


def _ctx(game, cfg, converged):
    return InterventionContext(game, cfg, copy_states(converged))


def _phase(game, spec):
    return build_phase(spec, "phases[0]").bind(game)


def _indices(game, prices, firm):
    grid = game.actions[firm]
    return np.abs(prices[..., None] - grid).argmin(axis=-1)


def _non_greedy_share(game, strategy, start_state, prices):
    """Share of periods in which each firm's action differs from its greedy action."""
    S, T, n = prices.shape
    m = game.n_actions
    acts = np.stack([_indices(game, prices[:, :, i], i) for i in range(n)], axis=2)
    s = start_state.copy()
    miss = np.zeros(n)
    for t in range(T):
        for i in range(n):
            miss[i] += (acts[:, t, i] != strategy[np.arange(S), i, s]).sum()
        j = acts[:, t, 0] * m + acts[:, t, 1]
        s = j  # memory 1, no exogenous states
    return miss / (S * T)


# ---------------------------------------------------------------- phases
def test_force_price_plays_the_forced_price(game, cfg, converged):
    ctx = _ctx(game, cfg, converged)
    q_before = ctx.states.q.copy()
    p = _phase(game, {"type": "force_price", "firm": 0, "price": "nash", "periods": 40,
                      "learning": {"firm_0": False, "firm_1": True}})
    prices = p.apply(ctx)
    nash_idx = int(np.argmin(np.abs(game.actions[0] - game.nash_action[0])))
    assert prices.shape == (16, 40, 2)
    assert np.all(prices[:, :, 0] == game.actions[0, nash_idx])
    assert not np.all(prices[:, :, 1] == game.actions[1, nash_idx])  # the rival is free
    np.testing.assert_array_equal(ctx.states.q[:, 0], q_before[:, 0])  # firm 0 did not learn
    assert not np.array_equal(ctx.states.q[:, 1], q_before[:, 1])  # firm 1 did
    assert np.all(ctx.states.t == converged.t + 40)


def test_force_price_by_index_and_value(game, cfg, converged):
    ctx = _ctx(game, cfg, converged)
    by_index = _phase(game, {"type": "force_price", "firm": "all", "price": {"index": 4},
                             "periods": 3}).apply(ctx)
    assert np.all(by_index == game.actions[0, 4])
    by_value = _phase(game, {"type": "force_price", "firm": 1, "price": float(game.actions[1, 2]) + 1e-3,
                             "periods": 3}).apply(ctx)
    assert np.all(by_value[:, :, 1] == game.actions[1, 2])


@pytest.mark.parametrize("firm", [0, "all"])
def test_memory_reset_restores_q0(game, cfg, converged, firm):
    ctx = _ctx(game, cfg, converged)
    assert _phase(game, {"type": "memory_reset", "firm": firm}).apply(ctx) is None
    q0_engine = init_sessions(game, cfg, seed=99, sessions=range(1)).q[0]
    q0_eq5 = np.broadcast_to(calvano_q0(game)[:, 0][:, None, :], q0_engine.shape)
    np.testing.assert_allclose(q0_engine, q0_eq5)
    reset = [0] if firm == 0 else [0, 1]
    for i in range(2):
        if i in reset:
            assert np.all(ctx.states.q[:, i] == q0_eq5[i])
        else:
            np.testing.assert_array_equal(ctx.states.q[:, i], converged.q[:, i])


def test_memory_reset_to_constant_breaks_ties_at_random(game, cfg, converged):
    ctx = _ctx(game, cfg, converged)
    _phase(game, {"type": "memory_reset", "firm": 1, "to": 2.5}).apply(ctx)
    assert np.all(ctx.states.q[:, 1] == 2.5)
    assert np.all(ctx.states.strategy[:, 1] == -1)  # every row tied: left to the kernel
    _phase(game, {"type": "learn", "periods": 1, "learning": False}).apply(ctx)
    greedy = ctx.states.strategy[:, 1]
    assert greedy.min() >= 0 and len(np.unique(greedy)) == game.n_actions  # not "lowest index"


def test_exploration_shock_raises_the_exploration_rate(game, cfg, converged):
    ctx = _ctx(game, cfg, converged)
    strategy = ctx.states.strategy.copy()
    s0 = ctx.states.state.copy()
    before = _phase(game, {"type": "learn", "periods": 400, "learning": False}).apply(ctx)
    s1 = ctx.states.state.copy()
    during = _phase(game, {"type": "exploration", "firm": "all", "epsilon": 0.5, "periods": 400,
                           "learning": False}).apply(ctx)
    rate_before = _non_greedy_share(game, strategy, s0, before)
    rate_during = _non_greedy_share(game, strategy, s1, during)
    # eps 0.5, uniform draws over 5 prices: 0.5 * 4/5 = 0.4 of actions are not greedy
    assert np.all(rate_during > 0.3) and np.all(rate_during < 0.5)
    assert np.all(rate_before < 0.1)


def test_exploration_shock_on_one_firm(game, cfg, converged):
    ctx = _ctx(game, cfg, converged)
    strategy = ctx.states.strategy.copy()
    s0 = ctx.states.state.copy()
    during = _phase(game, {"type": "exploration", "firm": 1, "epsilon": 1.0, "periods": 300,
                           "learning": False}).apply(ctx)
    rate = _non_greedy_share(game, strategy, s0, during)
    assert rate[1] > 0.7 and rate[0] < 0.1


def test_price_cap_is_respected(game, cfg, converged):
    ctx = _ctx(game, cfg, converged)
    cap_price = float(game.actions[0, 2])
    p = _phase(game, {"type": "price_cap", "price": cap_price + 1e-3, "periods": 200})
    assert p.cap.tolist() == [2, 2]
    prices = p.apply(ctx)
    assert prices.max() <= cap_price + 1e-12
    base = run_intervention(game, cfg, converged, expand_interventions(
        [{"name": "x", "phases": [{"type": "learn", "periods": 1}]}])[0], after=0)
    assert (base.sessions["p_base"] > cap_price).any()  # the cap binds somewhere


def test_replace_learner_fresh_table_and_own_schedule(game, cfg, converged):
    ctx = _ctx(game, cfg, converged)
    _phase(game, {"type": "replace_learner", "firm": 0, "alpha": 0.3, "beta": 1e-3}).apply(ctx)
    q0 = init_sessions(game, cfg, seed=0, sessions=range(1)).q[0]
    assert np.all(ctx.states.q[:, 0] == q0[0])
    assert tuple(ctx.cfg.alpha) == (0.3, 0.15) and tuple(ctx.cfg.beta) == (1e-3, 2e-4)
    strategy = ctx.states.strategy.copy()
    s0 = ctx.states.state.copy()
    out = _phase(game, {"type": "learn", "periods": 200, "learning": False}).apply(ctx)
    rate = _non_greedy_share(game, strategy, s0, out)
    # the new learner explores at exp(-1e-3 * age) ~ 0.9 over its first 200 periods;
    # the incumbent at exp(-2e-4 t) with t in the tens of thousands
    assert rate[0] > 0.5 and rate[1] < 0.1
    assert ctx.age.tolist() == [200, -1]


# ------------------------------------------------------------- protocols
def test_correct_protocol_keeps_the_session_clock(game, cfg, converged):
    iv, = expand_interventions([{"name": "f", "phases": [
        {"type": "force_price", "firm": 0, "periods": 25}], "protocol": "correct"}])
    run = run_intervention(game, cfg, converged, iv)
    s = run.sessions
    np.testing.assert_array_equal(s["t_start"], converged.t)
    np.testing.assert_array_equal(s["t_end"], s["t_start"] + 25 + s["periods_to_reconverge"])
    assert (s["periods_to_reconverge"] >= STABLE).all() and s["reconverged"].all()
    # exploration continued its decay: eps at the end is below eps at convergence
    assert (s["t_end"] > s["t_start"]).all()


def test_seed_protocol_restarts_the_clock(game, cfg, converged):
    iv, = expand_interventions([{"name": "f", "phases": [
        {"type": "force_price", "firm": 0, "periods": 25}], "protocol": "seed"}])
    ctx = _ctx(game, cfg, converged)
    for p in iv.bind(game).phases:
        p.apply(ctx)
    ctx.restart_clock()
    assert (ctx.states.t == 0).all() and (ctx.states.state == 0).all()
    run = run_intervention(game, cfg, converged, iv)
    s = run.sessions
    np.testing.assert_array_equal(s["t_end"], s["periods_to_reconverge"])
    assert (s["t_end"] < s["t_start"]).any()


def test_reconverge_under_seed_protocol_explores_from_eps_one(game, cfg, converged):
    ctx = _ctx(game, cfg, converged)
    strategy = ctx.states.strategy.copy()
    prices, _ = reconverge(ctx, "seed", max_periods=10**7, record=100)
    rate = _non_greedy_share(game, strategy, np.zeros(16, np.int64), prices)
    assert np.all(rate > 0.5)  # eps ~ 1 at t = 0
    ctx = _ctx(game, cfg, converged)
    s0 = ctx.states.state.copy()
    prices, _ = reconverge(ctx, "correct", max_periods=10**7, record=100)
    assert np.all(_non_greedy_share(game, strategy, s0, prices) < 0.1)


def test_results_do_not_depend_on_thread_count(game, cfg, converged):
    iv, = expand_interventions([{"name": "mix", "phases": [
        {"type": "exploration", "epsilon": 0.3, "periods": 50},
        {"type": "replace_learner", "firm": 1, "alpha": 0.2, "beta": 5e-4},
        {"type": "force_price", "firm": 0, "periods": 10, "learning": False}]}])
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = run_intervention(game, cfg, converged, iv, keep_prices=True)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = run_intervention(game, cfg, converged, iv, keep_prices=True)
    finally:
        numba.set_num_threads(old)
    assert one.sessions.equals(two.sessions)
    np.testing.assert_array_equal(one.prices, two.prices)
    np.testing.assert_array_equal(one.states.q, two.states.q)


# ------------------------------------------------------------ validation
@pytest.mark.parametrize("phase, path, word", [
    ({"type": "force_price", "firm": 0, "periods": 0}, "interventions[2].phases[0].periods", "invalid"),
    ({"type": "force_price", "firm": 0, "price": "cheap", "periods": 5},
     "interventions[2].phases[0].price", "price"),
    ({"type": "force_prize", "firm": 0, "periods": 5}, "interventions[2].phases[0].type", "force_price"),
    ({"type": "exploration", "epsilon": 1.5, "periods": 5}, "interventions[2].phases[0].epsilon", "[0, 1]"),
    ({"type": "exploration", "epsilon": 0.5, "periods": 5, "lerning": True},
     "interventions[2].phases[0].lerning", "learning"),
    ({"type": "memory_reset", "firm": 0, "to": "zero"}, "interventions[2].phases[0].to", "q0"),
    ({"type": "replace_learner", "firm": 0, "alpha": 0.2}, "interventions[2].phases[0].beta", "missing"),
    ({"type": "force_price", "firm": 0, "periods": 5, "learning": {"firm_0": "no"}},
     "interventions[2].phases[0].learning.firm_0", "true"),
])
def test_validation_names_the_field(phase, path, word):
    ok = {"name": "ok", "phases": [{"type": "learn", "periods": 1}]}
    entries = [ok, dict(ok, name="ok2"), {"name": "bad", "phases": [phase]}]
    with pytest.raises(SpecError) as err:
        expand_interventions(entries)
    assert err.value.path == path
    assert word in str(err.value)


def test_binding_errors_name_the_field(game):
    iv, = expand_interventions([{"name": "x", "phases": [
        {"type": "learn", "periods": 1}, {"type": "force_price", "firm": 2, "periods": 5}]}])
    with pytest.raises(SpecError) as err:
        iv.bind(game)
    assert err.value.path == "interventions[0].phases[1].firm"
    iv, = expand_interventions([{"name": "x", "phases": [
        {"type": "price_cap", "price": {"index": 9}, "periods": 5}]}])
    with pytest.raises(SpecError, match="out of range") as err:
        iv.bind(game)
    assert err.value.path == "interventions[0].phases[0].price.index"


def test_entry_validation():
    with pytest.raises(SpecError) as err:
        expand_interventions([{"name": "a", "phases": [{"type": "learn", "periods": 1}],
                               "protocol": "fresh"}])
    assert err.value.path == "interventions[0].protocol"
    with pytest.raises(SpecError) as err:
        expand_interventions([{"name": "a", "phases": [{"type": "learn", "periods": 1}],
                               "sweep": {"phases[3].periods": [1, 2]}}])
    assert err.value.path == "interventions[0].sweep"
    with pytest.raises(SpecError) as err:
        expand_interventions([{"name": "a", "phases": [{"type": "learn", "periods": 1}],
                               "sweep": {"phases[0].periods": [1, -2]}}])
    assert err.value.path == "interventions[0].phases[0].periods"
    with pytest.raises(SpecError, match="duplicate"):
        expand_interventions([{"name": "a", "phases": [{"type": "learn", "periods": 1}]}] * 2)


def test_sweep_expands_labels_and_protocols():
    ivs = expand_interventions([{"name": "f", "protocol": ["correct", "seed"],
                                 "phases": [{"type": "force_price", "firm": 0, "periods": 1}],
                                 "sweep": {"phases[0].periods": [1, 10]}}])
    assert [(iv.label, iv.protocol, iv.periods) for iv in ivs] == [
        ("f[periods=1]", "correct", 1), ("f[periods=1]", "seed", 1),
        ("f[periods=10]", "correct", 10), ("f[periods=10]", "seed", 10)]


# -------------------------------------------------------------- registry
class HoldLowest(Phase):
    """A user phase: every firm plays the lowest grid price for ``periods`` periods."""

    params = {"periods": Param(check=positive_int)}

    def apply(self, ctx):
        return ctx.play(self.periods, forced=np.zeros(ctx.n, np.int64), record=self.periods)


def test_user_phase_by_import_path(game, cfg, converged):
    iv, = expand_interventions([{"name": "u", "phases": [
        {"type": f"{__name__}:HoldLowest", "periods": 7}]}])
    ctx = _ctx(game, cfg, converged)
    out = iv.bind(game).phases[0].apply(ctx)
    assert np.all(out == game.actions[0, 0])
    with pytest.raises(SpecError, match="not a Phase subclass"):
        expand_interventions([{"name": "u", "phases": [{"type": "numpy:ndarray", "periods": 1}]}])


def test_phase_registry_is_loud():
    assert {"force_price", "exploration", "memory_reset", "price_cap",
            "replace_learner", "learn"} <= set(phases.names())
    with pytest.raises(ValueError, match="already registered"):
        phases.register("force_price", HoldLowest)
    with pytest.raises(TypeError):
        phases.register("not_a_phase", int)


def test_docs_new_phase_example_runs(capsys):
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "interventions.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    try:
        for block in blocks:
            exec(compile(block, "docs/interventions.md", "exec"), {})
        assert "price_war 20" in capsys.readouterr().out
    finally:
        phases.unregister("hold_lowest_demo")
