"""Evaluations as registered plug-ins: one code path for every learner's policy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import marketsai as mai
from marketsai.analysis.calvano import state_observations, tabulate
from marketsai.analysis.evaluation import Evaluation
from marketsai.analysis.evaluations import evaluations, run_evaluation
from marketsai.errors import SpecError
from marketsai.params import Param, positive_int
from marketsai.policies import ConstantPolicy, FunctionPolicy, Policy, TablePolicy
from marketsai.tabular import QLearningConfig, run_sessions


@pytest.fixture(scope="module")
def duopoly():
    return mai.load_economy("economies/bertrand_duopoly.yaml")


@pytest.fixture(scope="module")
def sessions(duopoly):
    """Three short tabular sessions (not converged: any greedy table will do)."""
    game = duopoly.finite_game()
    res = run_sessions(game, QLearningConfig(alpha=0.15, beta=2e-4, max_periods=20_000), seed=3,
                       sessions=range(3))
    return game, res


def test_registry_is_loud():
    assert {"calvano", "growth", "market", "krusell_smith", "sectors"} <= set(evaluations.names())
    with pytest.raises(SpecError, match="did you mean 'calvano'"):
        evaluations.get("calvno")
    with pytest.raises(TypeError):
        evaluations.register("not_an_evaluation", dict)
    with pytest.raises(ValueError, match="already registered"):
        evaluations.register("calvano", type("Other", (Evaluation,), {}))


def test_settings_are_declared(duopoly):
    with pytest.raises(SpecError, match="did you mean 'episodes'"):
        run_evaluation("calvano", duopoly, ConstantPolicy({"firm_0": 0, "firm_1": 0}), {"episode": 3})
    with pytest.raises(SpecError, match="evaluate.episodes"):
        run_evaluation("calvano", duopoly, ConstantPolicy({"firm_0": 0, "firm_1": 0}), {"episodes": 0})


def test_table_policy_reproduces_the_tabular_row(duopoly, sessions):
    """The strongest proof of one path: the evaluation of a session's table, from the state
    the session ended in, gives the engine's own limit-cycle numbers to the last bit."""
    game, res = sessions
    rows = res.to_frame()
    for k in range(3):
        pol = TablePolicy(duopoly.actors, res.strategies[k], start_state=int(res.final.state[k]))
        got = run_evaluation("calvano", duopoly, pol, {"impulse_response": []}).tables["results"]
        assert len(got) == 1
        for col in ("cycle_length", "mean_price", "profit_gain", "mean_price_0", "mean_profit_1",
                    "profit_gain_1"):
            assert got[col].iloc[0] == rows[col].iloc[k], col


def test_same_columns_for_every_kind_of_policy(duopoly, sessions):
    game, res = sessions
    table = TablePolicy(duopoly.actors, res.strategies[0], start_state=int(res.final.state[0]))
    obs = state_observations(duopoly, game)
    # a function policy that reads the state from the observation: the same table
    lookup = {tuple(o): s for s, o in enumerate(obs["firm_0"])}
    func = FunctionPolicy({a: (lambda o, i=i: res.strategies[0][i][[lookup[tuple(r)] for r in o]])
                           for i, a in enumerate(duopoly.actors)})
    const = ConstantPolicy({"firm_0": 3, "firm_1": 9})
    settings = {"episodes": 4, "start": "random"}
    outs = [run_evaluation("calvano", duopoly, p, settings, seed=1) for p in (table, func, const)]
    for out in outs[1:]:
        for name, frame in outs[0].tables.items():
            assert list(out.tables[name].columns) == list(frame.columns)
        assert set(out.summary) == set(outs[0].summary)
    # the function policy tabulates to the very table, so its numbers are the table's
    np.testing.assert_array_equal(tabulate(duopoly, func, game), res.strategies[0])
    pd.testing.assert_frame_equal(outs[1].tables["results"], outs[0].tables["results"])
    assert outs[2].summary["cycle_length_mean"] == 1.0  # constant play is a fixed point


def test_summary_uses_the_tabular_keys(duopoly, sessions):
    game, res = sessions
    pol = TablePolicy(duopoly.actors, res.strategies[1])
    s = run_evaluation("calvano", duopoly, pol, {"episodes": 5}).summary
    for key in ("profit_gain", "profit_gain_sd", "table_1", "cycle_share_1", "mean_price",
                "eq_on_path_share", "impulse_best_response_t1_deviator"):
        assert key in s
    assert "profit_gain_mean" not in s and "cycle_summary" not in s


def test_constant_policy_profit_gain_by_hand(duopoly):
    """Both firms at grid point 7 forever: Delta is read off the payoff table."""
    game = duopoly.finite_game()
    j = game.joint_index([7, 7])
    expected = (game.payoffs[0, j] - game.nash_payoff) / (game.coop_payoff - game.nash_payoff)
    res = run_evaluation("calvano", duopoly, ConstantPolicy({"firm_0": 7, "firm_1": 7}),
                         {"episodes": 2, "impulse_response": []}).tables["results"]
    np.testing.assert_allclose(res["profit_gain"], expected.mean(), rtol=1e-12)
    np.testing.assert_allclose(res["mean_price"], game.prices[0, j].mean(), rtol=1e-12)


def test_interval_actions_are_simulated():
    econ = mai.load_economy("economies/bertrand_duopoly_continuous.yaml")
    bench = econ.benchmarks()
    nash = bench["nash_action"].to_numpy()
    pol = ConstantPolicy({a: float(nash[i]) for i, a in enumerate(econ.actors)})
    out = run_evaluation("calvano", econ, pol, {"episodes": 3, "periods": 20, "tail": 5,
                                                  "impulse_periods": 4})
    res = out.tables["results"]
    np.testing.assert_allclose(res["profit_gain"], 0.0, atol=1e-6)  # Nash play: Delta = 0
    assert res["cycle_length"].isna().all()
    # the deviator's best response to Nash is Nash (up to the search grid), then back to Nash
    imp = out.tables["impulse_response"]
    assert set(imp.columns) == {"session", "deviation", "t", "price_0", "price_1"}
    np.testing.assert_allclose(imp["price_0"], nash[0], atol=2e-3)


class _Untrained(Policy):
    """A policy whose learner starts from a constant rule."""

    agents = ("firm_0", "firm_1")

    def act(self, agent, observations):
        return np.full(len(observations), 14)

    def initial_policy(self, economy, seed):
        return ConstantPolicy({"firm_0": 0, "firm_1": 0})


def test_untrained_baseline(duopoly):
    out = run_evaluation("calvano", duopoly, _Untrained(), {"episodes": 2, "untrained": True,
                                                            "impulse_response": []})
    assert "results_untrained" in out.tables
    assert out.summary["untrained"]["mean_price"] < out.summary["mean_price"]
    with pytest.raises(SpecError, match="initial_policy"):
        run_evaluation("calvano", duopoly, ConstantPolicy({"firm_0": 0, "firm_1": 0}),
                       {"untrained": True})


class _Learner:
    def initial_policy(self, economy, settings, seed):
        return ConstantPolicy({"firm_0": settings["start_at"], "firm_1": settings["start_at"]})


def test_untrained_baseline_from_the_learner(duopoly):
    out = run_evaluation("calvano", duopoly, ConstantPolicy({"firm_0": 14, "firm_1": 14}),
                         {"episodes": 1, "untrained": True, "impulse_response": []},
                         learner=_Learner(), learner_settings={"start_at": 2})
    game = duopoly.finite_game()
    assert out.tables["results_untrained"]["mean_price"].iloc[0] == pytest.approx(game.prices[0, game.joint_index([2, 2])].mean())


def test_figures_come_from_tables(duopoly):
    out = run_evaluation("calvano", duopoly, ConstantPolicy({"firm_0": 7, "firm_1": 7}),
                         {"episodes": 3}, figures=True)
    assert {"profit_gain_histogram", "cycle_lengths", "impulse_response_best_response"} <= set(out.figures)


def test_summary_is_the_tabular_runners(tmp_path):
    """calvano_summary on a tabular run's own tables gives the runner's summary values."""
    import json

    from marketsai.analysis.calvano import calvano_summary
    from marketsai.runner.run import run_experiment

    exp = {"name": "t", "kind": "tabular", "economy": "economies/bertrand_duopoly.yaml", "seed": 1,
           "sessions": 4, "chunk_size": 4, "learner": {"beta": 2e-4, "max_periods": 20_000},
           "analysis": {"impulse_periods": 5}}
    out = run_experiment(exp, out=tmp_path / "run", progress=False)
    tables = {n: pd.read_parquet(out / f"{n}.parquet") for n in ("results", "impulse_response")}
    runner = json.loads((out / "summary.json").read_text())
    ours = calvano_summary(tables)
    assert {"profit_gain", "table_1", "eq_on_path_share", "impulse_best_response_t1_deviator"} <= set(ours)
    for key, value in ours.items():
        assert runner[key] == value, key


def test_summary_reads_one_path_per_seed_and_episode():
    """A learn run's impulse table numbers episodes per seed (0, 1 for each seed): the
    summary averages the 2 x 2 paths, not 2 paths of twice the length."""
    from marketsai.analysis.calvano import calvano_summary

    rows = [{"seed": seed, "session": ep, "deviation": "best_response", "t": t,
             "price_0": 1.5 + seed + ep / 10 - (t == 1), "price_1": 1.5 + seed + ep / 10 - 0.5 * (t == 2)}
            for seed in (0, 1) for ep in (0, 1) for t in range(4)]
    results = pd.DataFrame({"seed": [0, 0, 1, 1], "cycle_length": [1, 1, 1, 1],
                            "mean_price": [1.5] * 4, "profit_gain": [0.5] * 4})
    from marketsai.analysis.impulse import frame_to_paths
    assert frame_to_paths(pd.DataFrame(rows)).shape == (4, 4, 2)  # the figures read the same paths
    out = calvano_summary({"results": results, "impulse_response": pd.DataFrame(rows)})
    assert out["impulse_best_response_pre_shock"] == pytest.approx(2.05)  # mean of 1.5, 1.6, 2.5, 2.6
    assert out["impulse_best_response_t1_deviator"] == pytest.approx(1.05)
    assert out["impulse_best_response_t2_rival"] == pytest.approx(1.55)


# ---------------------------------------------------------------- growth, market, sectors, KS
def test_growth_closed_form_scores_zero_and_a_table_has_the_same_columns():
    share = mai.load_economy("economies/brock_mirman_share.yaml")
    ab = 0.36 * 0.95  # Brock-Mirman: save alpha beta of output
    settings = {"periods": 500, "burn": 50, "welfare_points": 50}
    exact = run_evaluation("growth", share, FunctionPolicy({"planner": lambda o: np.full((len(o), 1), ab)}),
                           settings).tables["results"]
    assert exact["share_err_max"].iloc[0] < 1e-12 and abs(exact["K_err"].iloc[0]) < 1e-12
    assert exact["welfare_loss_pct"].iloc[0] == pytest.approx(0.0, abs=1e-9)
    from marketsai.economy import Economy
    from marketsai.solvers.dp import value_iteration
    from marketsai.yamlio import read_yaml
    data = read_yaml("economies/brock_mirman.yaml")
    data["agents"][0]["state"]["k"]["points"] = 21
    grid = Economy.from_dict(data)
    dp = np.asarray(value_iteration(grid.finite_model()).policy)[None]
    table = run_evaluation("growth", grid, TablePolicy(grid.actors, dp), settings).tables["results"]
    assert list(table.columns) == list(exact.columns)
    assert 0 < table["policy_err_max"].iloc[0] < 0.2  # a 21-point grid is close, not exact
    with pytest.raises(SpecError, match="one planner"):
        run_evaluation("growth", mai.load_economy("economies/bertrand_duopoly.yaml"),
                       ConstantPolicy({"firm_0": 0, "firm_1": 0}))


def test_market_exact_household_scores_zero():
    from marketsai.analysis.households import exact_household_actor
    econ = mai.load_economy("economies/growth_market.yaml")
    out = run_evaluation("market", econ, _shared(econ, exact_household_actor(econ)),
                         {"sessions": 2, "periods": 60, "burn": 10, "welfare_points": 50})
    row = out.tables["results"].iloc[0]
    # the exact rule reads k and K back from float32 observations: shares to ~1e-8
    assert row["share_err_max"] < 1e-6 and row["grid_err_max"] < 1e-6 and abs(row["K_err"]) < 1e-6
    assert row["max_excess_demand"] < 1e-8


def _shared(econ, act):
    from marketsai.policies import SharedPolicy
    return SharedPolicy(econ.actors, act)


def test_market_two_sector_long_run_columns():
    econ = mai.load_economy("economies/two_sector_labor.yaml")
    from marketsai.analysis.market_long_run import two_sector_reference
    ref = two_sector_reference(econ)
    pol = _shared(econ, lambda o: np.tile([ref["s"], ref["l"]], (len(o), 1)))
    row = run_evaluation("market", econ, pol, {"sessions": 2, "periods": 400, "burn": 300}).tables["results"].iloc[0]
    assert abs(row["err_K"]) < 0.02 and row["max_excess_demand"] < 1e-8  # the steady-state shares settle there


def test_sectors_exact_shares_score_zero():
    econ = mai.load_economy("economies/sectors_2.yaml")
    s = 0.95 * np.array([0.2, 0.16])
    out = run_evaluation("sectors", econ, FunctionPolicy({"planner": lambda o: np.tile(s, (len(o), 1))}),
                         {"periods": 300, "burn": 30, "box_points": 50, "welfare_paths": 5})
    row = out.tables["results"].iloc[0]
    assert row["err_max"] < 1e-12 and row["box_err_max"] < 1e-12


def test_krusell_smith_columns_of_a_constant_share():
    d = mai.load_economy("economies/krusell_smith.yaml").to_dict()
    d["agents"][0]["count"] = 20
    econ = mai.Economy.from_dict(d)
    from marketsai.analysis.krusell_smith import action_bounds
    mid = float(np.mean(action_bounds(econ)))
    out = run_evaluation("krusell_smith", econ, _shared(econ, lambda o: np.full((len(o), 1), mid)),
                         {"periods": 60, "burn": 10, "euler_snapshots": 2})
    row = out.tables["results"].iloc[0]
    assert row["share_mean"] == pytest.approx(mid) and row["share_inside_bounds"] == 1.0 and {"b1_bad", "w_gini", "euler_mean"} <= set(row.index)
    with pytest.raises(SpecError, match="Krusell-Smith"):
        run_evaluation("krusell_smith", mai.load_economy("economies/growth_market.yaml"),
                       ConstantPolicy({"household_0": 0.5}))


class MeanAction(Evaluation):
    """A third-party evaluation, reached by import path without registering."""

    settings = {"rows": Param(2, positive_int, "rows")}

    def evaluate(self, economy, policy, settings, seed=0):
        obs = economy.observe(economy.initial_state(np.random.default_rng(seed), settings["rows"]))
        return {"results": pd.DataFrame({a: policy.act(a, obs[a]) for a in economy.actors})}


def test_an_evaluation_by_import_path(duopoly):
    out = run_evaluation(f"{__name__}:MeanAction", duopoly, ConstantPolicy({"firm_0": 3, "firm_1": 5}),
                         {"rows": 3})
    assert out.tables["results"]["firm_1"].tolist() == [5, 5, 5] and out.summary == {"rows": 3}
    assert set(MeanAction.declared()) == {"rows", "untrained"}


def test_sectors_reads_a_table_on_its_grid_with_the_same_columns():
    from marketsai.analysis.sector_accuracy import grid_policy, sector_report
    from marketsai.solvers.dp import value_iteration
    from marketsai.solvers.sectors import sector_model
    econ = mai.load_economy("economies/sectors_2_grid.yaml")
    fm = econ.finite_model()
    dp = np.asarray(value_iteration(fm).policy)
    settings = {"periods": 300, "burn": 30, "box_points": 50, "welfare_paths": 5}
    got = run_evaluation("sectors", econ, TablePolicy(econ.actors, dp[None]), settings).tables["results"]
    direct = sector_report(sector_model(econ), grid_policy(fm, dp), T=300, burn=30, box_points=50, welfare_paths=5)
    assert got.iloc[0].to_dict() == direct
    share = mai.load_economy("economies/sectors_2.yaml")
    s = np.array([0.19, 0.152])
    other = run_evaluation("sectors", share, FunctionPolicy({"planner": lambda o: np.tile(s, (len(o), 1))}),
                           settings).tables["results"]
    assert list(other.columns) == list(got.columns)
