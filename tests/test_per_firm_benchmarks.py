"""Issue 23, item 1: asymmetric firms are reported per firm -- each firm's Nash and
monopoly (joint-profit) benchmark in the summary, the ``benchmarks`` table and the
impulse-response figure, for a tabular run and for the calvano evaluation after any learner.

The economy is the newcomer's: three logit firms (Calvano demand), costs 1, 1, 1.3. Its
true benchmarks are Nash 1.4108 / monopoly 1.9507 for the two cheap firms and 1.6049 /
2.2507 for the costly one; their averages (1.4755 / 2.0507) are no firm's.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from marketsai.economy import Economy

NASH = [1.4108, 1.4108, 1.6049]
MONOPOLY = [1.9507, 1.9507, 2.2507]


def asymmetric_economy(points: int = 3) -> dict:
    firm = {"type": "firm", "action": {"kind": "grid", "points": points, "xi": 0.1},
            "observation": {"memory": 1}}
    return {"name": "three_firms_one_costly", "discount": 0.95, "agents": [
        {"name": "firm", "count": 2, "params": {"cost": 1.0, "quality": 2.0}, **firm},
        {"name": "costly", "params": {"cost": 1.3, "quality": 2.0}, **firm}],
        "markets": [{"type": "bertrand_logit", "name": "goods",
                     "participants": ["firm_0", "firm_1", "costly"],
                     "params": {"mu": 0.25, "outside_quality": 0.0}}]}


def check_per_firm_summary(summary: dict) -> None:
    for i in range(3):
        assert round(summary[f"nash_price_{i}"], 4) == NASH[i]
        assert round(summary[f"monopoly_price_{i}"], 4) == MONOPOLY[i]
        for key in ("mean_price", "profit_gain", "nash_profit", "coop_profit"):
            assert np.isfinite(summary[f"{key}_{i}"]), key
    assert round(summary["nash_price"], 4) == 1.4755  # the averages stay, next to them
    assert round(summary["monopoly_price"], 4) == 2.0507
    # t2 per rival (agent 0 deviates): the mean over both rivals is kept as before
    assert summary["impulse_best_response_t2_rival"] == pytest.approx(
        (summary["impulse_best_response_t2_rival_1"] + summary["impulse_best_response_t2_rival_2"]) / 2)
    assert "impulse_best_response_t2_rival_0" not in summary


def per_firm_keys(summary: dict) -> set[str]:
    """Keys of one firm (``_<i>``; not the cycle classes) and the averages next to them."""
    return {k for k in summary if (re.search(r"_\d$", k) and not k.startswith(("cycle_share_", "profit_gain_cycle_")))
            or k in ("nash_price", "monopoly_price", "profit_gain_total", "profit_gain_total_sd")}


def check_benchmarks_table(bench: pd.DataFrame) -> None:
    assert bench["name"].tolist() == ["firm_0", "firm_1", "costly"]
    assert bench["nash_price"].round(4).tolist() == NASH
    assert bench["monopoly_price"].round(4).tolist() == MONOPOLY


def reference_lines(fig, style: str) -> list[float]:
    """The y of every horizontal reference line (the Nash lines are dashed, monopoly dotted)."""
    ax = fig.axes[0]
    return sorted(round(float(line.get_ydata()[0]), 4) for line in ax.get_lines()
                  if line.get_linestyle() == style and len(set(line.get_ydata())) == 1
                  and list(line.get_xdata()) == [0, 1])


def check_impulse_figure(fig) -> None:
    assert reference_lines(fig, "--") == [1.4108, 1.6049]
    assert reference_lines(fig, ":") == [1.9507, 2.2507]
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "Nash (firm_0, firm_1)" in labels and "monopoly (costly)" in labels
    # the costly firm's own lines are drawn in its path's colour
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert lines["Nash (costly)"].get_color() == lines["costly (rival)"].get_color()


def test_tabular_run_reports_every_firm_against_its_own_benchmarks(tmp_path):
    from marketsai.runner import run_experiment
    from marketsai.runner.tabular import TabularKind
    from marketsai.yamlio import read_yaml

    exp = {"kind": "tabular", "name": "asym", "economy": asymmetric_economy(), "seed": 1,
           "sessions": 2, "chunk_size": 2,
           "learner": {"stable_periods": 20, "max_periods": 2000, "beta": 1e-3},
           "analysis": {"impulse_periods": 4, "equilibrium_check": False, "deviations": False}}
    out = run_experiment(exp, out=tmp_path / "run", progress=False)
    summary = read_yaml(out / "summary.json")
    check_per_firm_summary(summary)
    from marketsai.runner import summary_text
    text = summary_text(out)  # what `marketsai run` prints
    assert re.search(r"\nnash_price_2 +1\.6049\n", text) and re.search(r"\nmonopoly_price_0 +1\.9507\n", text)
    bench = pd.read_csv(out / "benchmarks.csv")
    check_benchmarks_table(bench)
    assert summary["nash_profit_2"] == pytest.approx(bench["nash_profit"][2])
    tables = {"results": pd.read_parquet(out / "results.parquet"),
              "impulse_response": pd.read_parquet(out / "impulse_response.parquet"),
              "benchmarks": bench}
    from marketsai.runner.config import load_experiment
    cfg = load_experiment(exp).config
    figs = TabularKind().figures(tables, cfg, summary)
    check_impulse_figure(figs["impulse_response_best_response"])
    # the calvano evaluation (after any learner) has the same per-firm keys
    from marketsai.analysis.evaluations import run_evaluation
    from marketsai.policies import ConstantPolicy
    econ = Economy.from_dict(asymmetric_economy())
    ev = run_evaluation("calvano", econ, ConstantPolicy({a: 1 for a in econ.actors}),
                        {"episodes": 2, "impulse_periods": 4, "equilibrium_check": False}).summary
    assert per_firm_keys(summary) == per_firm_keys(ev) and len(per_firm_keys(ev)) > 3 * 8
    # a folder written before the benchmarks table: `marketsai report` adds it
    from marketsai.runner import report
    for ext in ("csv", "parquet"):
        (out / f"benchmarks.{ext}").unlink()
    assert report(out)["nash_price_2"] == summary["nash_price_2"]
    check_benchmarks_table(pd.read_csv(out / "benchmarks.csv"))


def test_calvano_evaluation_reports_the_same_per_firm_columns():
    from marketsai.analysis.evaluations import run_evaluation
    from marketsai.policies import ConstantPolicy

    econ = Economy.from_dict(asymmetric_economy())
    done = run_evaluation("calvano", econ, ConstantPolicy({a: 1 for a in econ.actors}),
                          {"episodes": 2, "impulse_periods": 3, "equilibrium_check": False},
                          figures=True)
    check_per_firm_summary(done.summary)
    check_benchmarks_table(done.tables["benchmarks"])
    check_impulse_figure(done.figures["impulse_response_best_response"])
    # a constant policy: every firm's mean price is its grid price 1, its Delta from its own benchmarks
    bench = done.tables["benchmarks"]
    res = done.tables["results"]
    for i in range(3):
        profit = res[f"mean_profit_{i}"].mean()
        want = (profit - bench["nash_profit"][i]) / (bench["coop_profit"][i] - bench["nash_profit"][i])
        assert done.summary[f"profit_gain_{i}"] == pytest.approx(want)


def test_symmetric_firms_keep_one_nash_and_one_monopoly_line():
    from marketsai.analysis.impulse import impulse_figures, paths_to_frame

    imp = paths_to_frame(np.ones((1, 3, 2))).assign(deviation="nash")
    fig = impulse_figures(imp, 0, ["a", "b"], [1.47, 1.47], [1.92, 1.92])["impulse_response_nash"]
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels.count("Nash") == 1 and labels.count("monopoly") == 1


def test_with_demand_shocks_every_delta_and_table_uses_the_benchmarks_averaged_over_states():
    """One definition (``Economy.expected_benchmarks``: the stationary mean over shock
    states, Calvano et al.'s stochastic-demand Delta): the tabular game, the benchmarks
    table and the interval evaluation's per-firm Delta all use it -- not shock state 0's."""
    from marketsai.analysis.evaluations import run_evaluation
    from marketsai.analysis.per_firm import economy_benchmarks
    from marketsai.economy import load_economy
    from marketsai.policies import ConstantPolicy

    grid = load_economy("calvano_stochastic_demand")
    expected = grid.expected_benchmarks()
    by_state = grid.benchmarks().pivot_table(index="shock_state", columns="agent", values="nash_profit")
    np.testing.assert_allclose(expected["nash_profit"], by_state.mean(axis=0)[list(grid.agents)], rtol=1e-14)
    assert abs(expected["nash_profit"].iloc[0] - by_state.iloc[0, 0]) > 1e-3  # state 0 is no average
    game, table = grid.finite_game(), economy_benchmarks(grid)
    assert np.array_equal(game.nash_payoff, table["nash_profit"]) and np.array_equal(game.coop_payoff, table["coop_profit"])

    interval = load_economy("calvano_stochastic_demand", overrides={"agents[0].action": {"kind": "interval", "xi": 0.1}})
    out = run_evaluation("calvano", interval, ConstantPolicy({"firm_0": [0.2], "firm_1": [0.6]}),
                         {"episodes": 3, "periods": 40, "tail": 30, "impulse_response": []})
    bench, res = out.tables["benchmarks"], out.tables["results"]
    assert np.array_equal(bench["nash_profit"], table["nash_profit"])
    for i in range(2):
        nash, coop = bench["nash_profit"].iloc[i], bench["coop_profit"].iloc[i]
        np.testing.assert_allclose(res[f"profit_gain_{i}"], (res[f"mean_profit_{i}"] - nash) / (coop - nash),
                                   rtol=1e-12)
    assert out.summary["nash_profit_0"] == bench["nash_profit"].iloc[0]
