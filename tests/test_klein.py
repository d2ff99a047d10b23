"""Klein (2021): the homogeneous-goods market, the sequential learners against their twin,
and the measures (Edgeworth benchmark, greedy cycles, Gamma)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import marketsai as mai
from marketsai.analysis.klein import (
    edgeworth_benchmark,
    forced_undercut,
    gamma,
    greedy_cycle,
    optimal_q,
)
from marketsai.errors import SpecError
from marketsai.tabular.klein import KleinSettings, own_rival_profits, run_klein_sessions
from marketsai.tabular.klein_reference import reference_klein_session


def klein_economy(k: int):
    """Klein's market with prices {0, 1/k, ..., 1}: the k = 6 file with another grid."""
    data = mai.load_economy("economies/klein_k6.yaml").to_dict()
    data["agents"][0]["action"] = {"kind": "grid", "points": k + 1, "low": 0.0, "high": 1.0}
    return mai.Economy.from_dict(data)


@pytest.fixture(scope="module")
def game():
    return mai.load_economy("economies/klein_k6.yaml").finite_game()


def test_market_profits_against_brute_force(game):
    pm = game.payoff_matrix()
    p = np.arange(7) / 6
    for a, b in itertools.product(range(7), repeat=2):
        low = min(p[a], p[b])
        share0 = 1.0 if a < b else 0.5 if a == b else 0.0
        share1 = 1.0 if b < a else 0.5 if a == b else 0.0
        assert pm[a, b, 0] == pytest.approx(p[a] * (1 - low) * share0, abs=1e-15)
        assert pm[a, b, 1] == pytest.approx(p[b] * (1 - low) * share1, abs=1e-15)


def test_grid_stage_game_nash_and_collusive_benchmark(game):
    pm = game.payoff_matrix()
    nash = [(a, b) for a, b in itertools.product(range(7), repeat=2)
            if pm[a, b, 0] >= pm[:, b, 0].max() - 1e-15 and pm[a, b, 1] >= pm[a, :, 1].max() - 1e-15]
    assert nash == [(0, 0), (1, 1)]  # both at 0, or both at the lowest price above cost
    joint = pm.sum(axis=-1)
    a, b = np.unravel_index(np.argmax(joint), joint.shape)
    assert (a, b) == (3, 3) and pm[a, b].tolist() == [0.125, 0.125]  # Klein's collusive 0.125
    assert game.coop_payoff.tolist() == [0.125, 0.125]


def test_edgeworth_benchmark_is_the_mean_profit_on_maskin_tiroles_cycle(game):
    assert edgeworth_benchmark(6) == pytest.approx(11 / 180, abs=1e-15)
    # the cycle's reaction function: undercut one step down to 0 from the monopoly price,
    # reply 1/2 to anything above it, relent to 4/6 at 0
    R = np.array([4, 0, 1, 2, 3, 3, 3])
    cyc = greedy_cycle(np.stack([R, R]), (3, 3), 0)
    assert cyc["kind"] == "cycle" and cyc["length"] == 10  # two rounds: firms swap roles
    pi = own_rival_profits(game.payoff_matrix())
    profits = [(pi[0, a, b] + pi[1, b, a]) / 2 for a, b in cyc["prices"]]
    assert np.mean(profits) == pytest.approx(edgeworth_benchmark(6), abs=1e-15)


@pytest.mark.parametrize("k, periods, sessions", [(6, 3000, (0, 1, 5)), (12, 2000, (3,))])
def test_kernel_equals_python_twin(k, periods, sessions):
    econ = klein_economy(k)
    game = econ.finite_game()
    settings = KleinSettings(periods=periods, tail=50)
    fast = run_klein_sessions(game.payoff_matrix(), econ.discount, settings, seed=7, sessions=sessions)
    for n, s in enumerate(sessions):
        slow = reference_klein_session(game.payoff_matrix(), econ.discount, settings, seed=7, session=s)
        np.testing.assert_array_equal(fast.q[n], slow["q"])
        np.testing.assert_array_equal(fast.final_prices[n], slow["final"])
        np.testing.assert_array_equal(fast.tail_prices[n], slow["tail_prices"])
        np.testing.assert_array_equal(fast.tail_profits[n], slow["tail_profits"])
    assert np.abs(fast.q).max() > 0  # something was learned


def test_sessions_do_not_depend_on_their_batch_or_threads(game):
    settings = KleinSettings(periods=5000, tail=20)
    both = run_klein_sessions(game.payoff_matrix(), 0.95, settings, seed=3, sessions=range(4), threads=1)
    part = run_klein_sessions(game.payoff_matrix(), 0.95, settings, seed=3, sessions=[2, 3])
    np.testing.assert_array_equal(both.q[2:], part.q)
    np.testing.assert_array_equal(both.tail_prices[2:], part.tail_prices)


def test_optimal_q_solves_eq5_and_gamma_scores_best_responses(game):
    pi = own_rival_profits(game.payoff_matrix())[0]
    rival = np.array([1, 0, 1, 2, 3, 3, 3])
    q = optimal_q(pi, rival, 0.95)
    v = q.max(axis=1)
    m = len(rival)
    rhs = pi.T + 0.95 * pi[np.arange(m), rival][None] + 0.95**2 * v[rival][None]
    np.testing.assert_allclose(q, rhs, rtol=0, atol=1e-12)
    assert gamma(q, q.argmax(axis=1)) == 1.0
    worst = q.argmin(axis=1)
    assert gamma(q, worst) < 0.9


def test_forced_undercut_path():
    R = np.array([[0, 0, 1, 2, 3, 3, 3], [0, 0, 1, 2, 3, 3, 3]])  # undercut by one
    path = forced_undercut(R, 3, 4)
    assert path.tolist() == [[3, 3], [2, 3], [2, 1], [0, 1], [0, 0]]


def test_learning_ends_in_greedy_play():
    """At eps_T = 1e-6 the last periods are greedy play of the final Q-tables: the tail must
    equal the greedy path that starts from the tail's first prices."""
    game = mai.load_economy("economies/klein_k6.yaml").finite_game()
    res = run_klein_sessions(game.payoff_matrix(), 0.95, KleinSettings(periods=60_000, tail=40),
                             seed=1, sessions=range(6))
    q = res.q
    for n in range(6):
        R = q[n].argmax(axis=-1)
        unique = (q[n] == q[n].max(axis=-1, keepdims=True)).sum(axis=-1) == 1
        tail = res.tail_prices[n]
        for t in range(1, len(tail)):
            mover = (60_000 - 40 + t) % 2  # tail row t is period T - 40 + t + 1, moved by firm (period - 1) % 2
            s = tail[t - 1][1 - mover]
            if unique[mover, s]:
                assert tail[t][mover] == R[mover, s]
    assert res.profitability.min() >= 0 and res.profitability.max() <= 0.125 + 1e-12


def test_bad_settings_are_refused(game):
    with pytest.raises(SpecError, match="learner.alpha"):
        run_klein_sessions(game.payoff_matrix(), 0.95, KleinSettings(alpha=0.0))
    with pytest.raises(SpecError, match="learner.tail"):
        run_klein_sessions(game.payoff_matrix(), 0.95, KleinSettings(periods=10, tail=20))


def test_klein_study_runs_from_its_experiment_file_and_report(tmp_path):
    """The experiment file through the runner (tiny), its evaluation's columns, and the
    report script that reads the run folder."""
    import json
    import subprocess
    import sys

    import pandas as pd

    run = mai.run_experiment("experiments/klein2021/klein.yaml", out=tmp_path / "run", progress=False,
                             overrides={"seeds": 6, "learner.settings.periods": 4000,
                                        "learner.settings.tail": 50,
                                        "sweep": {"economy.agents[0].action.points": [7, 13]}})
    res = pd.read_parquet(run / "results.parquet")
    assert len(res) == 12 and set(res["outcome"]) <= {"fixed", "cycle"}
    assert res["fixed_price"].isna().tolist() == (res["outcome"] == "cycle").tolist()
    assert ((res["gamma"] > 0) & (res["gamma"] <= 1)).all()
    # the policy's table is the kernel's greedy reaction functions
    k6 = res[res["economy.agents[0].action.points"] == 7].sort_values("seed")
    direct = run_klein_sessions(mai.load_economy("economies/klein_k6.yaml").finite_game().payoff_matrix(),
                                0.95, KleinSettings(periods=4000, tail=50), seed=2021, sessions=range(6))
    np.testing.assert_allclose(k6["profitability"], direct.profitability, rtol=0, atol=0)
    out = tmp_path / "report"
    done = subprocess.run([sys.executable, "experiments/klein2021/report.py", str(run), "--results", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "klein2021.csv")
    assert table["k"].tolist() == [6, 12] and table["runs"].tolist() == [6, 6]
    assert table["profitability"].tolist() == pytest.approx(
        res.groupby("economy.agents[0].action.points")["profitability"].mean().tolist())
    assert json.loads((out / "klein2021_source.json").read_text())["seed"] == 2021
    side = json.loads((out / "klein2021.source.json").read_text())
    assert side["seed"] == 2021 and side["runs"][str(run)][0]["outcome"] == "finished"


def test_klein_learner_refuses_economies_it_cannot_learn():
    from marketsai.learners import learners
    from marketsai.learners.base import checked

    learner = learners.get("klein_q_learning")()
    duo = mai.load_economy("economies/bertrand_oligopoly.yaml")
    with pytest.raises(SpecError, match="duopoly"):
        checked(learner, duo, dict(learner.settings and {k: p.default for k, p in learner.settings.items()}),
                "learner.settings")
