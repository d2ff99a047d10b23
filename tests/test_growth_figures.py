"""Issue 23, item 7: growth runs draw the learned policy against the exact one and its
Euler errors over the ergodic set, from the ``growth_curves`` table they keep -- checked
here by the data the figures plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import marketsai as mai
from marketsai.analysis.evaluations import run_evaluation
from marketsai.analysis.growth_figures import curve_medians
from marketsai.policies import FunctionPolicy
from marketsai.yamlio import dump_yaml, read_yaml

ROOT = Path(__file__).resolve().parents[1]
AB = 0.36 * 0.95  # Brock-Mirman: the exact rule saves alpha beta of output


def plotted(fig) -> list[tuple[str, np.ndarray, np.ndarray]]:
    return [(line.get_label(), np.asarray(line.get_xdata()), np.asarray(line.get_ydata()))
            for line in fig.axes[0].get_lines()]


def check_against_table(figs: dict, curves: pd.DataFrame) -> None:
    """Every line of both figures is a column of the medians of ``curves``, per TFP state."""
    med = curve_medians(curves)
    for name, own, exact in (("growth_policy", "kp", "kp_exact"),
                             ("growth_euler_errors", "euler", "euler_exact")):
        lines = plotted(figs[name])
        states = list(med.groupby(["iz", "z"], sort=True))
        assert len(lines) == 2 * len(states)
        for ((_iz, z), g), (own_line, exact_line) in zip(states, zip(lines[::2], lines[1::2], strict=True),
                                                         strict=True):
            assert own_line[0] == f"learned, z = {z:.3g}" and exact_line[0] == f"exact, z = {z:.3g}"
            np.testing.assert_array_equal(own_line[1], g["k"])
            np.testing.assert_array_equal(own_line[2], g[own])
            np.testing.assert_array_equal(exact_line[2], g[exact])


def test_growth_evaluation_draws_a_rule_against_the_closed_form():
    econ = mai.load_economy(ROOT / "economies" / "brock_mirman_share.yaml")
    rule = FunctionPolicy({"planner": lambda o: np.full((len(o), 1), 0.9 * AB)})
    done = run_evaluation("growth", econ, rule, {"periods": 300, "burn": 30, "welfare_points": 20},
                          figures=True)
    curves = done.tables["growth_curves"]
    assert set(done.figures) == {"growth_policy", "growth_euler_errors"}
    check_against_table(done.figures, curves)
    # the exact rule is the closed form, the learned one saves 90 % of it
    y = curves["z"] * curves["k"] ** 0.36
    np.testing.assert_allclose(curves["kp_exact"], AB * y, rtol=1e-12)
    np.testing.assert_allclose(curves["kp"], 0.9 * AB * y, rtol=1e-12)
    assert (curves["euler_exact"] < -12).all() and (curves["euler"] > -3).all()


def test_tabular_growth_run_writes_the_table_and_both_figures(tmp_path):
    from marketsai.runner import run_experiment
    from marketsai.runner.config import load_experiment
    from marketsai.runner.tabular import TabularKind

    data = read_yaml(ROOT / "economies" / "brock_mirman.yaml")
    data["agents"][0]["state"]["k"]["points"] = 7
    data["processes"]["z"]["states"] = 2
    (tmp_path / "econ.yaml").write_text(dump_yaml(data))
    exp = {"kind": "tabular", "name": "g", "economy": str(tmp_path / "econ.yaml"), "seed": 0,
           "sessions": 2, "chunk_size": 2, "analysis": {"growth": True},
           "learner": {"alpha": 0.05, "exploration": "constant", "epsilon": 0.3, "q0": "zeros",
                       "max_periods": 20_000, "stable_periods": 20_000}}
    out = run_experiment(exp, out=tmp_path / "run", progress=False)
    for name in ("growth_policy", "growth_euler_errors"):
        assert (out / "figures" / f"{name}.png").is_file()
    curves = pd.read_parquet(out / "growth_curves.parquet")
    assert sorted(curves["session"].unique()) == [0, 1] and curves["iz"].nunique() == 2
    # each session's curve is its greedy table read linearly in k (growth_policy holds the table)
    pol = pd.read_parquet(out / "growth_policy.parquet")
    for (s, e), g in pol.groupby(["session", "e"]):
        c = curves[(curves["session"] == s) & (curves["iz"] == e)]
        np.testing.assert_allclose(c["kp"], np.interp(c["k"], g["k"], g["kp"]), rtol=1e-12)
    cfg = load_experiment(exp).config
    figs = TabularKind().figures({"results": pd.read_parquet(out / "results.parquet"),
                                  "growth_curves": curves}, cfg, {})
    check_against_table(figs, curves)
    assert figs["growth_policy"].axes[0].get_title().endswith("(median of 2)")


@pytest.mark.parametrize("column", ["seed", "session"])
def test_medians_are_taken_over_stacked_rules(column):
    one = pd.DataFrame({"iz": [0, 0], "z": [1.0, 1.0], "k": [0.1, 0.2], "kp": [1.0, 2.0],
                        "kp_exact": [1.0, 2.0], "euler": [-3.0, np.inf], "euler_exact": [-16.0, -16.0]})
    two = one.assign(kp=[3.0, 4.0], euler=[-5.0, -4.0])
    med = curve_medians(pd.concat([one.assign(**{column: 0}), two.assign(**{column: 1})]))
    assert med["kp"].tolist() == [2.0, 3.0] and med["euler"].tolist() == [-4.0, np.inf]
