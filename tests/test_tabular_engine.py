"""The tabular engine against known answers: Q* of simple problems, Q0 of eq. (5),
the convergence rule, memory and config checks, controls, the alternating protocol."""

from __future__ import annotations

import numpy as np
import pytest
from duopoly import calvano

from marketsai.errors import SpecError
from marketsai.finite_game import FiniteGame
from marketsai.tabular import (
    QLearningConfig,
    advance,
    calvano_q0,
    init_sessions,
    limit_cycle,
    profit_gain,
    run_sessions,
)
from marketsai.tabular.games import calvano_game
from marketsai.tabular.sessions import check_memory

PD = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)  # action 1 = defect


def test_the_economy_file_builds_the_reference_duopoly():
    """The economy layer's duopoly (what ``calvano()`` returns) is the game of docs/references.md.

    ``calvano_game`` starts from the printed pN = 1.47293 and pM = 1.92498 (5 digits) while the
    economy solves for them, so the two agree to the printed precision, not to rounding."""
    eco, ref = calvano(), calvano_game()
    for name in ("actions", "payoffs", "prices", "nash_payoff", "coop_payoff", "nash_action",
                 "coop_action"):
        np.testing.assert_allclose(getattr(eco, name), getattr(ref, name), rtol=0, atol=5e-6,
                                   err_msg=name)
    assert (eco.memory, eco.discount, len(eco.agents)) == (ref.memory, ref.discount, 2)


def single_agent_exo_game(discount=0.9):
    """One agent, two actions, two exogenous states: r(e, a), P(e, e')."""
    r = np.array([[1.0, 0.0], [0.0, 2.0]])
    P = np.array([[0.9, 0.1], [0.2, 0.8]])
    payoffs = r[:, :, None]  # (n_exo, m**1, 1)
    return FiniteGame(agents=("a",), actions=np.array([[0.0, 1.0]]), payoffs=payoffs,
                      prices=payoffs.copy(), memory=1, discount=discount,
                      nash_payoff=np.zeros(1), coop_payoff=np.ones(1), nash_action=np.zeros(1),
                      coop_action=np.ones(1), exo_transition=P, exo_initial=np.array([0.5, 0.5]),
                      exo_values=np.array([0.0, 1.0])), r, P


def q_star(r, P, delta, iters=2000):
    """Value iteration: Q*(e, a) = r(e, a) + delta sum_e' P(e, e') max_a' Q*(e', a')."""
    Q = np.zeros_like(r)
    for _ in range(iters):
        Q = r + delta * (P @ Q.max(axis=1))[:, None]
    return Q


def test_q_learning_finds_q_star_with_exogenous_states():
    game, r, P = single_agent_exo_game()
    cfg = QLearningConfig(alpha=0.01, exploration="constant", epsilon=0.5, q0="zeros")
    st = init_sessions(game, cfg, seed=3, sessions=range(8))
    advance(game, cfg, st, periods=300_000, until_converged=False)
    Qs = q_star(r, P, game.discount)  # (e, a); the state is (e, own last action)
    learned = st.q[:, 0].mean(axis=0).reshape(game.n_exo, game.n_actions, game.n_actions)
    # per-session sd of an entry ~0.1 (constant alpha), ~0.04 over 8 sessions, plus the
    # small upward bias of max over noisy estimates (~0.05-0.1 here); Q* ~ 11-15
    for mem in range(game.n_actions):
        np.testing.assert_allclose(learned[:, mem, :], Qs, atol=0.25)
    assert np.array_equal(st.strategy[:, 0].reshape(8, 2, 2), np.broadcast_to(
        Qs.argmax(axis=1)[None, :, None], (8, 2, 2)))


def test_prisoners_dilemma_against_fixed_defector():
    game = FiniteGame.from_matrix(PD, memory=1, discount=0.9)
    cfg = QLearningConfig(alpha=0.2, exploration="constant", epsilon=1.0)
    st = init_sessions(game, cfg, seed=0, sessions=range(3))
    q0 = st.q[:, 1].copy()
    advance(game, cfg, st, periods=20_000, until_converged=False, forced_action=[-1, 1],
            learn=[True, False])
    V = 1.0 / (1.0 - 0.9)  # defect forever against a defector
    for s in (1, 3):  # states after (C, D) and (D, D): the only ones visited after t = 0
        np.testing.assert_allclose(st.q[:, 0, s], [[0.9 * V, 1 + 0.9 * V]] * 3, rtol=1e-9)
    assert np.array_equal(st.q[:, 1], q0)  # learn=False: the rival's table never moves


def test_q0_is_calvano_eq5():
    game = calvano()
    cfg = QLearningConfig()
    st = init_sessions(game, cfg, seed=0, sessions=range(2))
    P = game.payoff_matrix(0)  # (m, m, n)
    expected0 = P[:, :, 0].mean(axis=1) / (1 - game.discount)
    expected1 = P[:, :, 1].mean(axis=0) / (1 - game.discount)
    for s in (0, 17, game.n_states - 1):
        np.testing.assert_allclose(st.q[0, 0, s], expected0, rtol=1e-14)
        np.testing.assert_allclose(st.q[1, 1, s], expected1, rtol=1e-14)
    assert np.array_equal(st.strategy[0, 0], np.full(game.n_states, expected0.argmax()))
    # exogenous states: each state's own payoffs
    g, r, _ = single_agent_exo_game(discount=0.5)
    np.testing.assert_allclose(calvano_q0(g)[0], r / 0.5)


def test_zero_q0_breaks_ties_at_random():
    game = calvano()
    st = init_sessions(game, QLearningConfig(q0="zeros"), seed=0, sessions=range(1))
    counts = np.bincount(st.strategy[0].ravel(), minlength=game.n_actions)
    assert counts.min() > 0 and counts.max() < 3 * counts.mean()  # not all lowest index


def test_convergence_counter_counts_periods_not_agent_updates():
    game = FiniteGame.from_matrix(np.ones((2, 2, 2, 3)), memory=1)  # 3 agents, constant payoff
    cfg = QLearningConfig(stable_periods=500, exploration="constant", epsilon=0.0)
    st = init_sessions(game, cfg, seed=0, sessions=range(2))
    advance(game, cfg, st, periods=1000, until_converged=False, learn=[False] * 3)
    assert st.stable.tolist() == [1000, 1000] and st.t.tolist() == [1000, 1000]
    st = init_sessions(game, cfg, seed=0, sessions=range(2))
    advance(game, cfg, st, learn=[False] * 3)  # until converged: exactly 500 periods
    assert st.t.tolist() == [500, 500] and st.converged.all()
    cal = calvano()
    cfg = QLearningConfig(beta=1e-4, stable_periods=2000)
    st = init_sessions(cal, cfg, seed=0, sessions=range(3))
    advance(cal, cfg, st)
    assert st.converged.all() and (st.stable == 2000).all() and (st.t > 2000).all()


def test_max_periods_cap_reports_non_converged():
    game = calvano()
    res = run_sessions(game, QLearningConfig(max_periods=5000), seed=0, sessions=range(3))
    df = res.to_frame()
    assert len(df) == 3 and not df.converged.any() and (df.periods == 5000).all()


def test_memory_check_raises_spec_error_with_size():
    big = calvano_game(n=3, memory=2)  # 3 agents x 3375**2 states x 15 actions: 4.1 GB a session
    with pytest.raises(SpecError, match=r"GiB") as err:
        init_sessions(big, QLearningConfig(), sessions=range(1000))
    assert "float32" in str(err.value) and "memory k" in str(err.value)
    cfg32 = QLearningConfig(dtype="float32")
    check_memory(big, cfg32, 2, available=40 * 1024**3)  # 2 x 2.2 GB fits in 40 GB
    with pytest.raises(SpecError, match=r"4\.\d GiB"):
        check_memory(big, QLearningConfig(), 1, available=2 * 1024**3)
    with pytest.raises(SpecError, match="iB"):
        run_sessions(calvano_game(n=3, memory=3), QLearningConfig(), sessions=range(2))


@pytest.mark.parametrize("kwargs, field", [
    (dict(alpha=0.0), "alpha"), (dict(alpha=[0.1, 2.0]), "alpha"), (dict(beta=-1.0), "beta"),
    (dict(exploration="greedy"), "exploration"), (dict(epsilon=1.5), "epsilon"),
    (dict(temperature=0.0), "temperature"), (dict(q0="ones"), "q0"),
    (dict(stable_periods=0), "stable_periods"), (dict(max_periods=-5), "max_periods"),
    (dict(protocol="sequential"), "protocol"), (dict(dtype="float16"), "dtype"),
])
def test_config_errors_name_the_field(kwargs, field):
    with pytest.raises(SpecError) as err:
        QLearningConfig(**kwargs)
    assert err.value.path == field and err.value.allowed


def test_per_agent_parameters_are_checked_against_the_game():
    game = calvano()
    with pytest.raises(SpecError, match="3 values but the game has 2 agents"):
        init_sessions(game, QLearningConfig(alpha=[0.1, 0.2, 0.3]), sessions=range(1))
    with pytest.raises(SpecError) as err:
        advance(game, QLearningConfig(), init_sessions(game, QLearningConfig(), sessions=[0]),
                forced_action=[15, -1])
    assert err.value.path == "forced_action"


def test_controls_forced_cap_and_record():
    game = calvano()
    cfg = QLearningConfig()
    st = init_sessions(game, cfg, seed=0, sessions=range(2))
    paths = advance(game, cfg, st, periods=500, until_converged=False, forced_action=[3, -1],
                    action_cap=[14, 5], record=600)
    grid = game.actions[0]
    assert paths.shape == (2, 600, 2) and np.isnan(paths[:, 500:]).all()
    np.testing.assert_array_equal(paths[:, :500, 0], grid[3])
    assert paths[:, :500, 1].max() <= grid[5] + 1e-12
    assert st.t.tolist() == [500, 500]


def test_greedy_play_without_learning_follows_the_limit_cycle():
    game = calvano()
    cfg = QLearningConfig(beta=2e-5)
    res = run_sessions(game, cfg, seed=1, sessions=range(4), keep_q=True)
    st = res.final
    paths = advance(game, cfg, st, periods=40, until_converged=False, epsilon_override=[0, 0],
                    learn=[False, False], record=40)
    for k in range(4):
        L = res.cycle_length[k]
        np.testing.assert_allclose(paths[k, :L], res.cycle_prices[k, :L])
        np.testing.assert_allclose(paths[k, L:2 * L], res.cycle_prices[k, :L])
        assert len(limit_cycle(game, res.strategies[k], res.final.state[k])) == L
    gain = profit_gain(res.mean_profit, game.nash_payoff, game.coop_payoff)
    np.testing.assert_allclose(gain, res.profit_gain)


def test_alternating_protocol_moves_one_agent_per_period():
    game = calvano()
    cfg = QLearningConfig(beta=2e-5, protocol="alternating")
    res = run_sessions(game, cfg, seed=0, sessions=range(6))
    assert res.converged.all() and (res.final.pend_s >= 0).all()
    st = res.final
    m = game.n_actions
    for k in range(6):
        states = res.cycles[k]
        joint = states % game.n_joint  # memory 1: the state is the last joint action
        acts = np.stack([joint // m, joint % m], axis=1)
        nxt = np.roll(acts, -1, axis=0)
        mover = (st.t[k] + np.arange(len(states))) % 2  # the agent moving in each cycle period
        for row in range(len(states) - 1):  # the other agent keeps its price
            other = 1 - mover[row]
            assert nxt[row, other] == acts[row, other]
    assert np.isfinite(res.profit_gain).all()


def test_boltzmann_exploration_learns_q_star_against_fixed_defector():
    game = FiniteGame.from_matrix(PD, memory=1, discount=0.9)
    cfg = QLearningConfig(alpha=0.2, exploration="boltzmann", temperature=5.0, q0="zeros")
    st = init_sessions(game, cfg, seed=0, sessions=range(2))
    paths = advance(game, cfg, st, periods=20_000, until_converged=False, forced_action=[-1, 1],
                    learn=[True, False], record=20_000)
    V = 1.0 / (1.0 - 0.9)
    for s in (1, 3):
        np.testing.assert_allclose(st.q[:, 0, s], [[0.9 * V, 1 + 0.9 * V]] * 2, rtol=1e-9)
    # softmax at temperature 5 over Q* = (9, 10): cooperate with probability 1/(1+e^0.2)
    share_c = (paths[:, 10_000:, 0] == game.actions[0, 0]).mean()  # 20,000 draws: sd 0.0035
    assert abs(share_c - 1 / (1 + np.exp(0.2))) < 0.015


def naive_cycle(game, strategy, start, alternating, phase):
    """Greedy play with a dict of visited (state, mover) nodes: the definition, slowly."""
    n, M, Mk = game.n_agents, game.n_joint, game.n_memory_states
    exo_next = np.argmax(game.exo_transition, axis=1)
    seen, path, node = {}, [], (int(start), int(phase) if alternating else 0)
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        s, p = node
        e, mem = divmod(s, Mk)
        if alternating:
            acts = list(game.joint_actions(mem % M))
            acts[p] = strategy[p, s]
        else:
            acts = [strategy[i, s] for i in range(n)]
        j = game.joint_index(acts)
        node = (int(exo_next[e]) * Mk + (mem * M) % Mk + j, (p + 1) % n if alternating else 0)
    return [s for s, _ in path[seen[node]:]]


def test_limit_cycle_matches_naive_greedy_play():
    rng = np.random.default_rng(0)
    games = [calvano_game(m=4, memory=1), calvano_game(m=3, memory=2),
             calvano_game(n=3, m=3, memory=1, p_nash=1.37, p_coop=2.0)]
    exo = FiniteGame(agents=("a", "b"), actions=np.tile([0.0, 1.0], (2, 1)),
                     payoffs=rng.uniform(size=(3, 4, 2)), prices=rng.uniform(size=(3, 4, 2)),
                     memory=1, discount=0.9, nash_payoff=np.zeros(2), coop_payoff=np.ones(2),
                     nash_action=np.zeros(2), coop_action=np.ones(2),
                     exo_transition=np.array([[0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.7, 0.2, 0.1]]),
                     exo_initial=np.ones(3) / 3)
    for game in games + [exo]:
        for _ in range(20):
            strategy = rng.integers(0, game.n_actions, size=(game.n_agents, game.n_states))
            start = int(rng.integers(game.n_states))
            for protocol in ("simultaneous", "alternating"):
                phase = int(rng.integers(game.n_agents))
                got = limit_cycle(game, strategy, start, protocol=protocol, phase=phase)
                want = naive_cycle(game, strategy, start, protocol == "alternating", phase)
                assert got.tolist() == want


def test_memoryless_game_is_refused_with_a_clear_error():
    """The engine needs k >= 1 (the issue's scope); k = 0 is a SpecError, not an index error."""
    pd = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)
    game = FiniteGame.from_matrix(pd, memory=0, discount=0.5)
    assert game.n_states == 1
    with pytest.raises(SpecError, match="at least one period of memory"):
        run_sessions(game, QLearningConfig(), seed=0, sessions=range(2))
