"""Analysis functions on tiny games with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from marketsai import analysis
from marketsai.finite_game import FiniteGame

PD = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)  # 0 = cooperate, 1 = defect
CC, CD, DC, DD = 0, 1, 2, 3  # memory-1 states = last joint action (player 0 most significant)


@pytest.fixture
def pd_game():
    return FiniteGame.from_matrix(PD, memory=1, discount=0.9)


def strat(p0, p1):
    return np.array([p0, p1])


GRIM = strat([0, 1, 1, 1], [0, 1, 1, 1])
TFT = strat([0, 1, 0, 1], [0, 0, 1, 1])  # copy the rival's last action
ALLC = strat([0] * 4, [0] * 4)
ALLD = strat([1] * 4, [1] * 4)


def test_limit_cycles(pd_game):
    s = np.stack([GRIM, TFT, TFT, ALLD])
    cyc = analysis.limit_cycles(pd_game, s, start_states=[CC, CC, DC, CC])
    assert cyc.length.tolist() == [1, 1, 2, 1]
    assert cyc.mean_payoff.tolist() == [[3, 3], [3, 3], [2.5, 2.5], [1, 1]]
    assert cyc.states(2, pd_game, s) in ([DC, CD], [CD, DC])


def test_impulse_response_grim_and_tft(pd_game):
    paths = analysis.impulse_response_paths(pd_game, np.stack([GRIM, TFT]), periods=5)
    # prices are the action values: 0 cooperate, 1 defect
    assert paths[0].tolist() == [[0, 0], [1, 0], [1, 1], [1, 1], [1, 1], [1, 1]]
    assert paths[1].tolist() == [[0, 0], [1, 0], [0, 1], [1, 0], [0, 1], [1, 0]]


def test_impulse_response_nash_deviation(pd_game):
    # the Nash action of the PD is defect, so "nash" equals the best response here
    a = analysis.impulse_response_paths(pd_game, GRIM[None], periods=3, deviation="nash")
    b = analysis.impulse_response_paths(pd_game, GRIM[None], periods=3)
    assert a.tolist() == b.tolist()
    # the second agent deviating: the mirror image
    c = analysis.impulse_response_paths(pd_game, GRIM[None], periods=3, agent=1)
    assert c[0, :, ::-1].tolist() == b[0].tolist()


def test_impulse_response_averages_over_cycle_states(pd_game):
    # TFT on its 2-cycle (D,C) <-> (C,D): shocked once at each cycle state
    paths = analysis.impulse_response_paths(pd_game, TFT[None], start_states=[DC], periods=2)
    assert paths[0, 0].tolist() == [0.5, 0.5]
    # at (D,C) player 0 plays C (copies rival) -> deviates to D: (D, D); at (C,D) it plays D
    # already (best response to the rival's C is D): (D, C). Mean of the two at t=1:
    assert paths[0, 1].tolist() == [1.0, 0.5]


def test_impulse_table_and_frame_roundtrip(pd_game):
    paths = analysis.impulse_response_paths(pd_game, np.stack([GRIM, TFT]), periods=4)
    frame = analysis.paths_to_frame(paths, sessions=[10, 11])
    assert list(frame.columns) == ["session", "t", "price_0", "price_1"]
    np.testing.assert_array_equal(analysis.frame_to_paths(frame), paths)
    tab = analysis.impulse_response_table(paths)
    dev = tab[tab.role == "deviator"].sort_values("t")
    assert dev["mean"].tolist() == [0, 1, 0.5, 1, 0.5]
    assert set(tab.columns) >= {"t", "agent", "role", "mean", "sd", "q10", "q90", "sessions"}
    fig = analysis.plot_impulse_response(tab, nash=1, coop=0)
    assert len(fig.axes) == 1


def test_equilibrium_check_known_strategies(pd_game):
    eq = analysis.equilibrium_check(pd_game, np.stack([GRIM, ALLC, ALLD, TFT]))
    assert eq["eq_all_states"].tolist() == [True, False, True, False]
    # tit-for-tat at delta 0.9: cooperating at (C,C) is optimal (deviating starts a 5,0,5,0
    # cycle worth 5/(1-0.81) < 30), but copying a defection is not optimal off path
    assert eq["eq_on_path"].tolist() == [True, False, True, True]
    assert eq["br_share_0"].tolist()[:3] == [1.0, 0.0, 1.0]


def test_equilibrium_grim_fails_when_impatient():
    # deviation gains 2 today, loses 2 per period from tomorrow: grim holds iff delta >= 1/2
    g = FiniteGame.from_matrix(PD, memory=1, discount=0.4)
    eq = analysis.equilibrium_check(g, GRIM[None])
    assert not eq["eq_on_path"].item() and not eq["eq_all_states"].item()
    g = FiniteGame.from_matrix(PD, memory=1, discount=0.6)
    assert analysis.equilibrium_check(g, GRIM[None])["eq_all_states"].item()


def test_on_path_but_not_subgame_perfect(pd_game):
    # tit-for-tat: a best response on the path (C,C) but not after a defection: at (C,D)
    # player 0 would do better to cooperate (restoring (C,C) from the next period) than to
    # punish and start the 5,0,5,0 alternation
    eq = analysis.equilibrium_check(pd_game, TFT[None])
    assert eq["eq_on_path_0"].item() and eq["eq_on_path_1"].item()
    assert not eq["eq_all_states_0"].item()
    assert 0 < eq["br_share_0"].item() < 1
    # grim trigger with a player who cooperates at (D,D) can be exploited: player 1 defects
    s = GRIM.copy()
    s[0, DD] = 0
    eq = analysis.equilibrium_check(pd_game, s[None])
    assert eq["eq_on_path_0"].item() and not eq["eq_on_path_1"].item()


def test_best_response_q_values(pd_game):
    q = analysis.best_response_q(pd_game, ALLC[None], agent=0)[0]
    np.testing.assert_allclose(q[CC], [3 + 0.9 * 50, 50])  # cooperate once, then defect


def test_profit_gain_summary_layout():
    df = pd.DataFrame({"profit_gain": [0.9, 0.8, 0.7, 0.6, 0.5],
                       "cycle_length": [1, 1, 2, 3, 4]})
    t = analysis.profit_gain_summary(df)
    assert t["cycle"].tolist() == ["1", "2", "3+", "all"]
    assert t["sessions"].tolist() == [2, 1, 2, 5]
    np.testing.assert_allclose(t["share"], [0.4, 0.2, 0.4, 1.0])
    np.testing.assert_allclose(t["mean"], [0.85, 0.7, 0.55, 0.7])
    fig = analysis.plot_cycle_shares(t)
    assert fig.axes


def test_profit_gain_formula():
    g = analysis.profit_gain([[0.22293, 0.33749]], [0.22293] * 2, [0.33749] * 2)
    np.testing.assert_allclose(g, [[0.0, 1.0]])


def test_heatmap_from_sweep_table():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"learner.alpha": np.repeat([0.1, 0.2], 6),
                       "learner.beta": np.tile(np.repeat([1e-6, 1e-5, 1e-4], 2), 2),
                       "profit_gain": rng.random(12)})
    tab = analysis.heatmap_table(df, "learner.alpha", "learner.beta")
    assert tab.shape == (3, 2)
    assert tab.loc[1e-5, 0.2] == pytest.approx(df["profit_gain"].iloc[8:10].mean())
    fig = analysis.plot_heatmap(tab)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1e-06", "1e-05", "0.0001"]
    assert len(ax.texts) == 6  # small grids are annotated


def test_shape_errors(pd_game):
    with pytest.raises(ValueError, match="strategies must have shape"):
        analysis.limit_cycles(pd_game, GRIM)
    with pytest.raises(ValueError, match="action indices"):
        analysis.limit_cycles(pd_game, (GRIM + 5)[None])
    with pytest.raises(ValueError, match="deviation"):
        analysis.impulse_response_paths(pd_game, GRIM[None], deviation="x")


def test_trajectory_cycles_from_recorded_play():
    def play(strategy, state, periods):  # greedy play of a PD memory-1 strategy pair
        out = []
        for _ in range(periods):
            acts = [strategy[0, state], strategy[1, state]]
            out.append(acts)
            state = 2 * acts[0] + acts[1]
        return out
    paths = np.array([play(TFT, DC, 12), play(GRIM, CD, 12), play(ALLC, DD, 12)])
    out = analysis.trajectory_cycles(paths, values=paths)
    assert out["cycle_length"].tolist() == [2, 1, 1]
    np.testing.assert_allclose(out["mean"], [[0.5, 0.5], [1.0, 1.0], [0.0, 0.0]])
    none = analysis.trajectory_cycles(np.arange(10.0).reshape(1, 10, 1))
    assert none["cycle_length"].tolist() == [0]
    near = analysis.trajectory_cycles(np.array([[[1.0], [1.001], [0.999], [1.0]]]), atol=0.01)
    assert near["cycle_length"].tolist() == [1]


def test_calvano_fortran_deviation_uses_the_state_numbered_by_cycle_position():
    # stag hunt (0 = stag): the best response copies the rival. Both end at (hare, hare)
    # = state 3; the rival plays stag only at state 0. The true static best response at
    # state 3 is hare; the authors' code evaluates the rival at state number 0 (the cycle
    # position) and so deviates to stag.
    sh = np.array([[[4, 4], [0, 3]], [[3, 0], [3, 3]]], dtype=float)
    g = FiniteGame.from_matrix(sh, memory=1, discount=0.9)
    s = np.array([[[1, 1, 1, 1], [0, 1, 1, 1]]])
    br = analysis.impulse_response_paths(g, s, start_states=[3], periods=2)
    fortran = analysis.impulse_response_paths(g, s, start_states=[3], periods=2,
                                              deviation="calvano_fortran")
    assert br[0].tolist() == [[1, 1], [1, 1], [1, 1]]
    assert fortran[0].tolist() == [[1, 1], [0, 1], [1, 1]]


def test_one_shot_deviation_principle_on_random_strategies():
    """Subgame perfection checked two ways agrees: optimal Q* at every state vs no
    profitable one-shot deviation at any state (the authors' method)."""
    rng = np.random.default_rng(1)
    t = rng.normal(size=(3, 3, 2))
    t[0, 0] = [5, 5]  # (0, 0) is a strict static Nash equilibrium
    g = FiniteGame.from_matrix(t, memory=1, discount=0.8)
    strategies = rng.integers(0, 3, size=(400, 2, 9))
    strategies[::10] = 0  # repeating the static equilibrium is subgame perfect
    strategies[5::10, :, 0] = 0  # (0, 0) from state 0 on path, random off path
    eq = analysis.equilibrium_check(g, strategies)
    assert eq["eq_all_states"].sum() > 0  # the test means something
    pd.testing.assert_series_equal(eq["osd_all_states"], eq["eq_all_states"], check_names=False)
    # on path the one-shot check is weaker: it never rejects what the full check accepts
    assert not (eq["eq_on_path"] & ~eq["osd_on_path"]).any()
    assert (eq["osd_on_path"] & ~eq["eq_on_path"]).any()


def test_profile_q_grim(pd_game):
    q = analysis.profile_q(pd_game, GRIM[None], agent=0)[0]
    np.testing.assert_allclose(q[CC], [30, 14])
    np.testing.assert_allclose(q[DD], [0 + 0.9 * 10, 10])


def test_profit_gain_histogram_handles_identical_values():
    """All sessions on one cycle: values equal up to float noise must still plot (one bin)."""
    import pandas as pd

    from marketsai.analysis import plot_profit_gain_histogram
    fig = plot_profit_gain_histogram(pd.DataFrame({"profit_gain": [0.5, 0.5 + 1e-16, 0.5]}))
    assert len(fig.axes[0].patches) == 1


# --- the fast value iterations against readable twins (the pre-optimisation algorithm) ---
def _joint_and_next(game, strategies_b):
    """Greedy joint action j(s) and the memory kept r(s) at every state (one session)."""
    n, m, n_states, joint = game.n_agents, game.n_actions, game.n_states, game.n_joint
    s = np.arange(n_states)
    j = np.zeros(n_states, np.int64)
    for i in range(n):
        j = j * m + strategies_b[i]
    r = np.zeros(n_states, np.int64) if n_states == 1 else (s * joint) % n_states
    return j, r


def slow_best_response_q(game, strategies_b, agent, tol=1e-12, max_iter=100_000):
    """Value iteration over every state, as the original kernel did (one session)."""
    m, n_states = game.n_actions, game.n_states
    stride = m ** (game.n_agents - 1 - agent)
    j, r = _joint_and_next(game, strategies_b)
    J = (j - strategies_b[agent] * stride)[:, None] + np.arange(m)[None, :] * stride
    N = 0 if n_states == 1 else r[:, None] + J
    pay = game.payoffs[0][J, agent]
    v = np.zeros(n_states)
    for _ in range(max_iter):
        v_new = (pay + game.discount * v[N]).max(axis=1)
        diff = np.abs(v_new - v).max()
        v = v_new
        if diff < tol:
            break
    return pay + game.discount * v[N]


def slow_profile_q(game, strategies_b, agent, tol=1e-12, max_iter=100_000):
    """Value of following the profile, then one deviation at each state (one session)."""
    m, n_states = game.n_actions, game.n_states
    stride = m ** (game.n_agents - 1 - agent)
    j, r = _joint_and_next(game, strategies_b)
    pay, nxt = game.payoffs[0][j, agent], (0 if n_states == 1 else r + j)
    v = np.zeros(n_states)
    for _ in range(max_iter):
        v_new = pay + game.discount * v[nxt]
        diff = np.abs(v_new - v).max()
        v = v_new
        if diff < tol:
            break
    J = (j - strategies_b[agent] * stride)[:, None] + np.arange(m)[None, :] * stride
    N = 0 if n_states == 1 else r[:, None] + J
    return game.payoffs[0][J, agent] + game.discount * v[N]


def _random_games():
    from marketsai.tabular.games import calvano_game
    rng = np.random.default_rng(5)
    yield FiniteGame.from_matrix(PD, memory=1, discount=0.9)
    yield FiniteGame.from_matrix(PD, memory=2, discount=0.95)
    yield FiniteGame.from_matrix(rng.normal(size=(4, 4, 2)), memory=1, discount=0.8)
    yield calvano_game(m=7)
    yield calvano_game(n=3, m=3, p_nash=1.37, p_coop=2.0)


@pytest.mark.parametrize("k", range(5))
def test_fast_value_iterations_equal_the_readable_twins(k):
    """Bit-identical Q* and Q^sigma on random strategies (ties and short cycles included)."""
    game = list(_random_games())[k]
    rng = np.random.default_rng(k)
    strategies = rng.integers(0, game.n_actions, size=(6, game.n_agents, game.n_states))
    strategies[0] = 0  # a constant profile: every state in one group
    strategies[1, :, ::2] = game.n_actions - 1
    for agent in range(game.n_agents):
        br = analysis.best_response_q(game, strategies, agent)
        prof = analysis.profile_q(game, strategies, agent)
        for b in range(len(strategies)):
            np.testing.assert_array_equal(br[b], slow_best_response_q(game, strategies[b], agent))
            np.testing.assert_array_equal(prof[b], slow_profile_q(game, strategies[b], agent))


def test_heatmap_draws_the_published_range_from_its_table():
    """The published range: lines at its ends on the colour bar, hatching on exactly the
    covered cells (alpha >= 0.025) whose value in the table lies outside it."""
    from marketsai.analysis.heatmap import PublishedRange
    tab = pd.DataFrame([[0.50, 0.70, 0.95], [0.99, 0.80, 0.60]], index=[1e-6, 1e-5],
                       columns=[0.01, 0.025, 0.1]).rename_axis(index="learner.beta", columns="learner.alpha")
    rng = PublishedRange(0.64, 0.94, {"learner.alpha": 0.025}, "Figure 1")
    fig = analysis.plot_heatmap(tab, published=rng)
    ax, bar = fig.axes
    ends = sorted(ln.get_ydata()[0] for ln in bar.lines if ln.get_gid() == "published_range")
    assert ends == [0.64, 0.94]
    lo, hi = ax.images[0].get_clim()
    assert lo <= 0.5 and hi >= 0.99  # widened only where the data reach beyond the range
    hatched = {(p.get_x() + 0.5, p.get_y() + 0.5) for p in ax.patches if p.get_gid() == "outside_published"}
    grid = tab.to_numpy()
    expect = {(j, i) for (i, j), v in np.ndenumerate(grid)
              if tab.columns[j] >= 0.025 and not 0.64 <= v <= 0.94}
    assert hatched == expect == {(2, 0), (2, 1)}  # 0.50 and 0.99 sit at alpha 0.01: not covered
    assert any("published 0.64 to 0.94 for learner.alpha >= 0.025 (Figure 1)" in t.get_text()
               for t in fig.texts)


def test_heatmap_flags_only_the_cells_it_is_given():
    tab = pd.DataFrame([[0.5, 0.7], [0.9, 0.8]], index=[1e-6, 1e-5], columns=[0.01, 0.1])
    fig = analysis.plot_heatmap(tab, flagged=np.array([[True, False], [False, False]]), flag_label="odd")
    (dots,) = [c for c in fig.axes[0].collections if c.get_gid() == "flagged"]
    assert dots.get_offsets().tolist() == [[0.0, 0.0]]
    assert any(t.get_text() == "dot: odd" for t in fig.texts)
    assert not [c for c in analysis.plot_heatmap(tab, flagged=np.zeros((2, 2), bool)).axes[0].collections
                if c.get_gid() == "flagged"]
    with pytest.raises(ValueError, match=r"flagged has shape \(1, 2\), the heat map \(2, 2\)"):
        analysis.plot_heatmap(tab, flagged=np.ones((1, 2), bool))
