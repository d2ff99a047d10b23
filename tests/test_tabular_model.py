"""The general kernel on FiniteModels: bit-identical to the memory kernel on games,
identical to its slow twin on models with endogenous state, exogenous shocks and
feasible-action sets, and right on problems with known answers (an MDP, a monopolist,
a growth grid against dynamic programming)."""

from __future__ import annotations

from pathlib import Path

import growth_grids
import numpy as np
import pytest
from duopoly import CODE_PATH_CASES, assert_same_state, check_kernel_against_twin, exo_duopoly
from growth_grids import growth_model, value_iteration

from marketsai.errors import SpecError
from marketsai.finite_model import FiniteModel
from marketsai.tabular import (
    QLearningConfig,
    SessionResults,
    advance,
    init_sessions,
    run_sessions,
)
from marketsai.tabular.games import calvano_game
from marketsai.tabular.models import calvano_q0_model, model_controls
from marketsai.tabular.sessions import calvano_q0, check_memory


def random_model(seed=0):
    """Two agents with 2 and 3 actions, 4 endogenous x 2 exogenous states, random tables."""
    rng = np.random.default_rng(seed)
    n_exo, n_x, M = 2, 4, 6
    nf = np.stack([rng.integers(1, 3, (n_exo, n_x)), rng.integers(1, 4, (n_exo, n_x))], axis=-1)
    p = rng.uniform(0.1, 1, n_x)
    return FiniteModel(agents=("a", "b"), n_actions=[2, 3],
                       rewards=rng.uniform(-1, 1, (n_exo, n_x, M, 2)),
                       next_x=rng.integers(0, n_x, (n_exo, n_x, M)), discount=0.9,
                       exo_transition=np.array([[0.6, 0.4], [0.25, 0.75]]),
                       exo_initial=np.array([0.2, 0.8]), x_initial=p / p.sum(), n_feasible=nf,
                       outcomes=rng.uniform(0, 2, (n_exo, 1, M, 2)))


def unequal_memory_model(seed=3):
    """Memory 1 with 2 and 3 actions (x = last joint action): alternating moves allowed."""
    rng = np.random.default_rng(seed)
    j = np.arange(6)
    return FiniteModel(agents=("a", "b"), n_actions=[2, 3], rewards=rng.uniform(0, 1, (1, 6, 6, 2)),
                       next_x=np.broadcast_to(j, (1, 6, 6)), discount=0.9)


# ------------------------------------------------ bit identity with the memory kernel
GAMES = {
    **CODE_PATH_CASES,
    "calvano": (calvano_game, dict(beta=2e-4, stable_periods=1500, max_periods=20_000), {}),
    "three_firms": (lambda: calvano_game(n=3, m=4, p_nash=1.37, p_coop=2.0),
                    dict(alpha=0.2, beta=1e-3, stable_periods=3000), {}),
    "three_firms_mem2": (lambda: calvano_game(n=3, m=2, memory=2, p_nash=1.37, p_coop=2.0),
                         dict(alpha=0.3, exploration="constant", epsilon=0.2), {}),
}


@pytest.mark.parametrize("case", sorted(GAMES))
def test_general_kernel_is_bit_identical_to_memory_kernel_on_games(case):
    make, cfg_kw, controls = GAMES[case]
    game = make()
    model = FiniteModel.from_game(game)
    cfg = QLearningConfig(**cfg_kw)
    a = init_sessions(game, cfg, seed=5, sessions=[0, 3, 4])
    b = init_sessions(model, cfg, seed=5, sessions=[0, 3, 4])
    assert_same_state(a, b)
    until = "stable_periods" in cfg_kw
    periods = None if case == "calvano" else 4000
    ra = advance(game, cfg, a, periods=periods, until_converged=until, slice_periods=900, **controls)
    rb = advance(model, cfg, b, periods=periods, until_converged=until, slice_periods=900, **controls)
    assert_same_state(a, b)
    assert (a.t > 1000).all()
    if "record" in controls:
        np.testing.assert_array_equal(ra, rb)


def test_calvano_q0_of_the_model_is_the_games_bit_for_bit():
    game = exo_duopoly()
    q0, div = calvano_q0_model(FiniteModel.from_game(game))
    assert div == game.n_memory_states and np.array_equal(q0, calvano_q0(game))


def test_run_sessions_on_the_calvano_model_matches_the_game():
    game = calvano_game()
    cfg = QLearningConfig(beta=1e-3, stable_periods=2000)
    rg = run_sessions(game, cfg, seed=3, sessions=range(3))
    rm = run_sessions(FiniteModel.from_game(game), cfg, seed=3, sessions=range(3))
    for k in ("strategies", "periods", "cycle_states", "cycle_prices", "profit_gain"):
        np.testing.assert_array_equal(getattr(rg, k), getattr(rm, k))
    assert rm.to_frame().equals(rg.to_frame())


# ------------------------------------------------------------ parity with the twin
MODELS = {
    "growth_feasible_x_initial": (
        lambda: growth_model(n_k=7, x_initial=np.arange(1, 8) / 28.0),
        dict(alpha=0.3, beta=2e-3, q0="calvano", stable_periods=300), {}),
    "growth_zeros_ties": (lambda: growth_model(n_k=6), dict(q0="zeros", exploration="constant",
                                                            epsilon=0.3), dict(record=40)),
    "random_exo_endogenous": (random_model, dict(alpha=(0.2, 0.4), beta=1e-3), {}),
    "random_boltzmann": (lambda: random_model(1), dict(exploration="boltzmann",
                                                       temperature=0.2), {}),
    "random_controls": (random_model, dict(beta=1e-3), dict(forced_action=[-1, 2],
                                                            action_cap=[1, 1],
                                                            epsilon_override=[-1, 0.3],
                                                            learn=[True, False], record=30)),
    "unequal_alternating": (unequal_memory_model, dict(alpha=0.2, exploration="constant",
                                                       epsilon=0.2, protocol="alternating"),
                            dict(record=25)),
    "calvano_model": (lambda: FiniteModel.from_game(calvano_game()),
                      dict(beta=2e-4, stable_periods=1500, max_periods=6000), {}),
    "calvano_model_alternating": (lambda: FiniteModel.from_game(calvano_game(m=5)),
                                  dict(beta=1e-3, protocol="alternating"), {}),
}


@pytest.mark.parametrize("case", sorted(MODELS))
def test_general_kernel_matches_slow_twin_on_models(case):
    make, cfg_kw, controls = MODELS[case]
    periods = None if case == "calvano_model" else 2500
    _, a = check_kernel_against_twin(make(), cfg_kw, controls, seed=9, sessions=[1, 2],
                                     periods=periods, slice_periods=600)
    if "record" in controls:
        assert not np.isnan(a).any()


def test_exploration_and_greedy_stay_within_feasible_actions():
    model = growth_model(n_k=8)
    cfg = QLearningConfig(q0="zeros", exploration="constant", epsilon=1.0)
    st = init_sessions(model, cfg, seed=0, sessions=range(2))
    rec = advance(model, cfg, st, periods=5000, until_converged=False, record=5000)
    assert np.all(rec > 0)  # consumption: only feasible k' were ever chosen
    nf = model.n_feasible.reshape(-1)
    assert np.all(st.strategy[:, 0, :] < nf)


@pytest.mark.skipif(__import__("numba").config.NUMBA_NUM_THREADS < 2, reason="needs 2 threads")
def test_model_results_do_not_depend_on_threads_or_slicing():
    model = random_model(2)
    cfg = QLearningConfig(alpha=0.3, beta=5e-4, stable_periods=2000)
    one = init_sessions(model, cfg, seed=4, sessions=range(6), threads=1)
    two = init_sessions(model, cfg, seed=4, sessions=range(6), threads=2)
    advance(model, cfg, one, threads=1)
    advance(model, cfg, two, threads=2, slice_periods=1)
    assert_same_state(one, two)
    resumed = init_sessions(model, cfg, seed=4, sessions=[2, 3])
    advance(model, cfg, resumed, periods=777)
    advance(model, cfg, resumed, periods=5)
    advance(model, cfg, resumed)
    assert_same_state(resumed, one.subset([2, 3]))


def test_model_checks_give_clear_errors():
    with pytest.raises(SpecError, match="alternating protocol needs a memory model"):
        init_sessions(random_model(), QLearningConfig(protocol="alternating"), sessions=[0])
    with pytest.raises(SpecError, match="forced_action"):
        st = init_sessions(random_model(), QLearningConfig(), sessions=[0])
        advance(random_model(), QLearningConfig(), st, periods=1, forced_action=[-1, 3])
    big = FiniteModel(agents=("a",), n_actions=[200], rewards=np.zeros((1, 1, 200, 1)),
                      next_x=np.zeros((1, 500_000, 200), dtype=np.int64), discount=0.9)
    with pytest.raises(SpecError, match=r"Q-tables need .* states x 200 actions, float64"):
        check_memory(big, QLearningConfig(), 4, available=2 * 1024**3)


def test_default_controls_are_writable_whatever_the_number_of_agents():
    """A read-only array is another type to numba: read-only defaults on a single-agent
    model (a broadcast view of length 1 counts as contiguous and is not copied) made it
    compile every model kernel a second time."""
    for model in (growth_model(n_k=4), random_model()):
        for name, arr in zip(("forced", "eps", "learn", "cap"),
                             model_controls(model, None, None, None, None), strict=True):
            assert arr.flags.writeable and arr.flags.c_contiguous, (model.n_agents, name)


@pytest.mark.parametrize("protocol", ["simultaneous", "alternating"])
def test_model_limit_cycle_matches_naive_greedy_play(protocol):
    from marketsai.tabular import model_cycle_path
    model = unequal_memory_model(5) if protocol == "alternating" else growth_model(n_k=9, z=(1.0,))
    n, rng = model.n_agents, np.random.default_rng(1)
    strategy = np.stack([rng.integers(0, k, model.n_states) for k in model.n_actions])
    if model.n_feasible is not None:
        strategy = np.minimum(strategy, model.n_feasible.reshape(-1, n).T - 1)
    for start in range(model.n_states):
        seen, node, path = {}, (start, 0), []
        while node not in seen:  # naive: play until a (state, mover) node repeats
            seen[node] = len(path)
            s, p = node
            acts = list(model.joint_actions(s % model.n_joint)) if protocol == "alternating" \
                else [int(strategy[i, s]) for i in range(n)]
            if protocol == "alternating":
                acts[p] = int(strategy[p, s])
            j = model.joint_index(acts)
            path.append((s, float(model.outcomes[0, s if model.outcomes.shape[1] > 1 else 0, j, 0])))
            node = (int(model.next_x[0, s, j]), (p + 1) % n if protocol == "alternating" else 0)
        cycle = path[seen[node]:]
        states, out, _ = model_cycle_path(model, strategy, start, protocol)
        assert sorted(states.tolist()) == sorted(c[0] for c in cycle)
        k = [c[0] for c in cycle].index(states[0]) if protocol == "simultaneous" else None
        if k is not None:
            assert [c[0] for c in cycle[k:] + cycle[:k]] == states.tolist()
            assert np.allclose([c[1] for c in cycle[k:] + cycle[:k]], out[:, 0])


# ------------------------------------------------------------------ known answers
def test_two_state_mdp_learns_the_optimal_policy(tmp_path):
    # state 1 pays 1; switching costs 0.3: optimal is switch from 0, stay in 1
    r = np.array([[[[0.0], [-0.3]], [[1.0], [0.7]]]])
    nx = np.array([[[0, 1], [1, 0]]])
    mdp = FiniteModel(agents=("a",), n_actions=[2], rewards=r, next_x=nx, discount=0.9)
    assert np.array_equal(value_iteration(mdp).argmax(axis=2)[0], [1, 0])
    cfg = QLearningConfig(alpha=0.1, beta=1e-4, q0="zeros", stable_periods=5000)
    res = run_sessions(mdp, cfg, seed=0, sessions=range(8))
    assert res.converged.all()
    assert np.all(res.strategies[:, 0] == [1, 0])
    assert np.all(res.cycle_length == 1) and np.all(res.cycle_states[:, 0] == 1)
    df = res.to_frame()
    assert "profit_gain" not in df and np.allclose(df["mean_reward_0"], 1.0)
    res.save(tmp_path / "r.npz")
    back = SessionResults.load(tmp_path / "r.npz")
    assert back.to_frame().equals(df) and not back.strategic


def test_memoryless_monopolist_learns_the_monopoly_price():
    import yaml

    import marketsai as mai

    data = yaml.safe_load(open("economies/monopolist.yaml").read())
    data["agents"][0]["observation"]["memory"] = 0
    econ = mai.Economy.from_dict(data)
    model = FiniteModel.from_game(econ.finite_game())
    assert model.n_x == 1 and model.n_states == 1
    cfg = QLearningConfig(alpha=0.1, beta=2e-4, stable_periods=5000)
    res = run_sessions(model, cfg, seed=1, sessions=range(6))
    grid = model.action_values[0]
    p_m = float(econ.benchmarks()["coop_action"].iloc[0])
    learned = grid[res.strategies[:, 0, 0]]
    assert res.converged.all()
    assert np.all(np.abs(learned - p_m) <= (grid[1] - grid[0]) + 1e-12), (learned, p_m)
    best = model.rewards[0, 0, :, 0].max()  # the grid's best profit, a one-shot problem
    assert np.all(res.mean_profit[:, 0] >= 0.98 * best), (res.mean_profit[:, 0], best)


def _matches_committed(grid, measure, shares, run):
    """The measured shares are the committed table's row (docs/tabular.md quotes it): a
    change that moves them shows here -- rerun experiments/growth/tabular_dp_agreement.py."""
    row = growth_grids.table_row(grid, measure, shares, run)
    committed = growth_grids.committed_row(Path(__file__).resolve().parents[1], grid, measure)
    numbers = {k: v for k, v in row.items() if not isinstance(v, str)}
    assert {k: committed[k] for k in numbers} == pytest.approx(numbers, rel=1e-12), (committed, row)
    assert committed["q0"] == row["q0"]


def test_q_learning_on_a_deterministic_growth_grid_finds_the_dp_policy():
    shares = growth_grids.deterministic_grid_shares()
    assert min(shares) >= 0.9, shares  # measured: 1.0 in every session (Q within 1e-5 of Q*)
    _matches_committed(growth_grids.DETERMINISTIC_GRID, growth_grids.OPTIMAL, shares,
                       growth_grids.DETERMINISTIC)


def test_q_learning_on_a_stochastic_growth_grid_agrees_with_dp_on_most_states():
    exact, near = growth_grids.stochastic_grid_agreement()
    # Constant-alpha Q-learning cannot resolve Q gaps of 1e-5..1e-3 under shock noise: on the
    # 30 states it agrees with DP on well under all states but far above chance (the
    # committed table, docs/tabular.md, has the shares; chance is about 0.10 exact, 0.30
    # within a step).
    assert exact.mean() >= 0.35 and near.mean() >= 0.85, (exact, near)
    chance_exact, chance_near = growth_grids.random_policy_agreement()
    assert exact.mean() > 3 * chance_exact and near.mean() > 2 * chance_near
    for measure, shares in ((growth_grids.EXACT, exact), (growth_grids.NEAR, near)):
        _matches_committed(growth_grids.STOCHASTIC_GRID, measure, shares, growth_grids.STOCHASTIC)


# ------------------------------------------------------------------------ runner
def run_experiment_file(tmp_path, text, *sets):
    import pandas as pd
    from click.testing import CliRunner

    from marketsai.cli import main

    (tmp_path / "exp.yaml").write_text(text)
    args = ["run", str(tmp_path / "exp.yaml"), "--out", str(tmp_path / "run"), "--no-progress"]
    for s in sets:
        args += ["--set", s]
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return pd.read_parquet(tmp_path / "run" / "results.parquet"), res.output


def run_two_sessions(tmp_path, economy, learner, *sets):
    """``marketsai run`` of a tabular experiment file: two sessions of seed 0 on
    ``economies/<economy>.yaml``; ``learner`` is the YAML after ``learner:`` (further
    top-level lines may follow it)."""
    text = (f"kind: tabular\nname: {economy}\neconomy: {economy_file(economy)}\nseed: 0\n"
            f"sessions: 2\nlearner: {learner}\n")
    return run_experiment_file(tmp_path, text, *sets)


def economy_file(name):
    """The path of ``economies/<name>.yaml`` (absolute: any working directory)."""
    return Path(__file__).resolve().parents[1] / "economies" / f"{name}.yaml"


def economy_data(name):
    """``economies/<name>.yaml`` as the dict ``Economy.from_dict`` takes (to edit before building)."""
    import yaml
    return yaml.safe_load(economy_file(name).read_text())


def test_runner_learns_a_growth_economy_and_reports_dp_agreement(tmp_path):
    pytest.importorskip("marketsai.solvers.dp")
    df, out = run_two_sessions(
        tmp_path, "brock_mirman", "{alpha: 0.05, exploration: constant, epsilon: 0.3, q0: zeros, "
        "max_periods: 300000, stable_periods: 300000}\nchunk_size: 1\nanalysis: {dp_agreement: true}",
        "economy.agents[0].state.k.points=7", "economy.processes.z.states=2")
    assert list(df.columns[:5]) == ["session", "seed", "converged", "periods", "cycle_length"]
    assert "profit_gain" not in df and "mean_consumption" in df
    assert (df["periods"] == 300_000).all() and (df["cycle_length"] == 0).all()  # z shocks
    assert df["dp_agreement"].between(0, 1).all() and (df["dp_optimal"] >= df["dp_agreement"]).all()
    # the columns are the DP comparison of exactly these sessions' greedy policies
    import marketsai as mai
    from marketsai.runner.tabular import dp_columns
    data = economy_data("brock_mirman")
    data["agents"][0]["state"]["k"]["points"] = 7
    data["processes"]["z"]["states"] = 2
    model = mai.Economy.from_dict(data).finite_model()
    cfg = QLearningConfig(alpha=0.05, exploration="constant", epsilon=0.3, q0="zeros",
                          max_periods=300_000, stable_periods=300_000)
    res = run_sessions(model, cfg, seed=0, sessions=range(2))
    cols = dp_columns(model, res.strategies, 1e-9)
    np.testing.assert_array_equal(df["dp_agreement"], cols["dp_agreement"])
    np.testing.assert_array_equal(df["dp_optimal"], cols["dp_optimal"])
    assert "dp_agreement_mean" in out


def test_runner_runs_a_memoryless_monopolist_on_the_model_path(tmp_path):
    df, _ = run_two_sessions(tmp_path, "monopolist", "{alpha: 0.1, beta: 2.0e-4, stable_periods: 5000}",
                             "economy.agents[0].observation.memory=0")
    assert df["converged"].all() and (df["cycle_length"] == 1).all()
    import marketsai as mai
    econ = mai.Economy.from_dict(economy_data("monopolist"))
    p_m = float(econ.benchmarks()["coop_action"].iloc[0])
    step = 1.5 / 14  # the file's grid: 15 prices on [1, 2.5]
    assert np.all(np.abs(df["mean_price"] - p_m) <= step + 1e-12), (df["mean_price"], p_m)
