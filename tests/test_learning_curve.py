"""Learning curves (issue 23, item 7): sampling play while sessions learn leaves every
result bit-identical, and the sampled rows are the prices and profits actually played."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from duopoly import assert_same_state, exo_duopoly

from marketsai.errors import SpecError
from marketsai.finite_model import FiniteModel
from marketsai.tabular import QLearningConfig, advance, init_sessions, run_sessions
from marketsai.tabular.games import calvano_game
from marketsai.tabular.learning_curve import COLUMNS, LearningCurve

CFG = QLearningConfig(beta=2e-4, stable_periods=1500, max_periods=40_000)


def test_recording_leaves_results_and_final_states_bit_identical():
    game = calvano_game()
    plain = run_sessions(game, CFG, seed=4, sessions=range(3))
    curve = LearningCurve(every=3000, window=40)
    drawn = run_sessions(game, CFG, seed=4, sessions=range(3), curve=curve)
    assert drawn.to_frame().equals(plain.to_frame())
    assert_same_state(drawn.final, plain.final)
    table = curve.frame()
    assert tuple(table.columns) == COLUMNS and len(table) > 3
    for w, rows in table.groupby("session"):  # every `every` periods until the session stopped
        periods = int(plain.periods[plain.sessions == w][0])
        np.testing.assert_array_equal(rows["t"], np.arange(0, periods, 3000))
        assert (rows["periods"] <= 40).all() and rows["periods"].iloc[:-1].eq(40).all()


@pytest.mark.parametrize("make", [calvano_game, exo_duopoly], ids=["calvano", "exo_states"])
def test_rows_are_the_means_of_the_prices_and_profits_played(make):
    """Independently: replay each window with the kernel recording prices, then payoffs
    (a game whose prices are its payoffs), from the same state."""
    game = make()
    cfg = QLearningConfig(alpha=0.2, beta=1e-3, stable_periods=500, max_periods=5000)
    curve = LearningCurve(every=700, window=25)
    st = init_sessions(game, cfg, seed=2, sessions=[0, 3])
    curve.advance(game, cfg, st)
    table = curve.frame()
    as_profit = dataclasses.replace(game, prices=game.payoffs)
    replay = init_sessions(game, cfg, seed=2, sessions=[0, 3])
    t = 0
    while (replay.t == t).any():
        rows = table[table["t"] == t].set_index("session")
        twin = dataclasses.replace(replay)  # the same arrays, copied below
        for f in ("q", "strategy", "state", "t", "rng", "stable", "converged", "pend_s", "pend_a", "pend_r"):
            setattr(twin, f, getattr(replay, f).copy())
        prices = advance(game, cfg, replay, periods=25, record=25)
        profits = advance(as_profit, cfg, twin, periods=25, record=25)
        for k, w in enumerate(replay.sessions):
            if w in rows.index:
                assert rows.loc[w, "price"] == pytest.approx(np.nanmean(prices[k]), rel=1e-12)
                assert rows.loc[w, "profit"] == pytest.approx(np.nanmean(profits[k]), rel=1e-12)
                assert rows.loc[w, "periods"] == (~np.isnan(prices[k, :, 0])).sum()
        advance(game, cfg, replay, periods=700 - 25)
        t += 700
    assert len(table) == sum(len(table[table["t"] == x]) for x in range(0, t, 700)) > 0


def test_bad_settings_and_models_are_refused_by_name():
    with pytest.raises(SpecError, match=r"^learning_curve\.window = 11: the recorded window is longer than "
                                        r"the sampling interval \(allowed: at most every = 10\)$"):
        LearningCurve(every=10, window=11)
    with pytest.raises(SpecError, match="every"):
        LearningCurve(every=0)
    game = calvano_game(m=3)
    st = init_sessions(game, CFG, seed=0, sessions=[0])
    with pytest.raises(SpecError, match="FiniteGame"):
        LearningCurve().advance(FiniteModel.from_game(game), CFG, st)


def test_the_runner_writes_the_table_and_figure_and_the_same_results(tmp_path):
    import pandas as pd
    from duopoly import DUOPOLY

    from marketsai.runner import run_experiment
    config = {"kind": "tabular", "name": "curve", "economy": str(DUOPOLY), "seed": 3,
              "sessions": 3, "learner": {"stable_periods": 500, "max_periods": 20_000, "beta": 5e-4},
              "analysis": {"impulse_response": [], "learning_curve_every": 2000,
                           "learning_curve_window": 50}}
    on = run_experiment(config, out=tmp_path / "on", progress=False)
    config["analysis"]["learning_curve_every"] = 0
    off = run_experiment(config, out=tmp_path / "off", progress=False)
    assert pd.read_parquet(on / "results.parquet").equals(pd.read_parquet(off / "results.parquet"))
    curve = pd.read_parquet(on / "learning_curve.parquet")
    assert tuple(curve.columns) == COLUMNS and set(curve["session"]) == {0, 1, 2}
    assert (on / "figures" / "learning_curve.png").is_file()
    assert not (off / "learning_curve.parquet").exists()
    assert not (off / "figures" / "learning_curve.png").exists()
    config["analysis"] |= {"learning_curve_every": 10, "learning_curve_window": 20}
    with pytest.raises(SpecError, match=r"^analysis\.learning_curve_window = 20: the recorded window is "
                                        r"longer than the sampling interval \(allowed: at most "
                                        r"analysis\.learning_curve_every = 10\)$"):
        run_experiment(config, out=tmp_path / "bad", progress=False)
