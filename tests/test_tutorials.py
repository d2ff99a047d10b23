"""The tutorials under docs/tutorials run as they are, and what they conclude holds.

Bands of the first tutorial, from an independent measured run (the same economy and
settings, seed 2, 40 sessions): session Delta mean 0.768, SD 0.052; the rivals' price cut
at t = 2 mean 0.142, SD 0.083. The tutorial's 8-session means must lie within four
standard errors of those (Delta: 0.768 +- 4 * 0.052 / sqrt(8) = [0.70, 0.84]; cut:
0.142 +- 4 * 0.083 / sqrt(8) = [0.025, 0.26]): a band any seed passes, not the one run's
value. The numbers the tutorial's text quotes are checked against its own run.

Bands of the own-market tutorial (Hotelling, the same settings, seed 2, 40 sessions):
Delta mean 0.692, SD 0.095; shop 1's price cut at t = 2 mean 0.180, SD 0.122; within four
standard errors of 8 sessions: Delta [0.56, 0.83], cut [0.007, 0.35].
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "docs" / "tutorials"


def test_tutorials_are_jupytext_percent_scripts():
    jupytext = pytest.importorskip("jupytext")
    for script in sorted(TUTORIALS.glob("*.py")):
        notebook = jupytext.read(script)
        kinds = {cell.cell_type for cell in notebook.cells}
        assert kinds == {"markdown", "code"}, script.name
        assert "Run time" in notebook.cells[0].source, f"{script.name} does not state its run time"


def test_first_economy_tutorial(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = runpy.run_path(str(TUTORIALS / "first_economy.py"), run_name="__main__")
    # the per-firm benchmarks of the asymmetric economy (costs 1, 1, 1.3)
    bench = ns["bench"].set_index("agent")
    assert bench.loc["firm_0", ["nash_action", "coop_action"]].round(4).tolist() == [1.4108, 1.9507]
    assert bench.loc["firm_2", ["nash_action", "coop_action"]].round(4).tolist() == [1.6049, 2.2507]
    s = ns["s"]
    assert s["sessions"] == 8 and s["converged_share"] == 1.0
    assert 0.70 <= s["profit_gain"] <= 0.84, s["profit_gain"]
    # the deviation is a price cut, and the rivals answer it with one
    assert (ns["deviation"]["price_0"] < ns["before"]["price_0"]).all()
    assert 0.025 <= ns["dip"] <= 0.26, ns["dip"]
    # what the text says about this run
    text = (TUTORIALS / "first_economy.py").read_text()
    assert f"Delta about {s['profit_gain']:.2f}" in text
    assert f"by about {ns['dip']:.2f} on average" in text
    assert s["eq_on_path_share"] == 0.0 and s["osd_on_path_share"] == 0.5  # "none" and "half"
    assert sorted(ns["run"].figures) == ["cycle_lengths", "impulse_response_best_response",
                                         "learning_curve", "profit_gain_histogram"]


def _run_tutorial(name: str, tmp_path, monkeypatch) -> dict:
    """Run docs/tutorials/NAME.py in tmp_path, a folder of its own (the economies it reads
    are the package's shipped ones, by name); what it adds to sys.path and sys.modules goes."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    try:
        return runpy.run_path(str(TUTORIALS / f"{name}.py"), run_name="__main__")
    finally:
        for module in [m for m, mod in sys.modules.items()
                       if str(getattr(mod, "__file__", None) or "").startswith(str(tmp_path))]:
            del sys.modules[module]


def test_own_market_tutorial(tmp_path, monkeypatch):
    ns = _run_tutorial("own_market", tmp_path, monkeypatch)
    bench = ns["bench"]  # closed form: Nash c + t, joint optimum v - t / 2
    assert bench["nash_action"].tolist() == [2.0, 2.0] and bench["coop_action"].tolist() == [2.5, 2.5]
    assert bench["nash_profit"].tolist() == [0.5, 0.5] and bench["coop_profit"].tolist() == [0.75, 0.75]
    # the default bracket drifts to its top, the declared bounds find c + t
    assert float(ns["street"].best_response(0, ns["rival_at_nash"])) == pytest.approx(2.0, abs=1e-6)
    assert ns["cli"].returncode == 0 and "hotelling:Hotelling" in ns["cli"].stdout
    s = ns["s"]
    assert s["sessions"] == 8 and s["converged_share"] == 1.0
    assert 2.0 < s["mean_price"] < 2.5
    assert 0.56 <= s["profit_gain"] <= 0.83, s["profit_gain"]
    assert 0.007 <= ns["dip"] <= 0.35, ns["dip"]
    text = (TUTORIALS / "own_market.py").read_text()
    assert f"Delta about {s['profit_gain']:.2f}" in text
    assert f"by about {ns['dip']:.2f} on average" in text


def test_growth_model_tutorial(tmp_path, monkeypatch):
    ns = _run_tutorial("growth_model", tmp_path, monkeypatch)
    assert ns["k_ss"] == pytest.approx(0.18704, abs=1e-5)  # (alpha beta)^(1 / (1 - alpha))
    e = ns["e"]  # the exact rule read against itself: the measurement's floor
    assert e["euler_max"] < -12 and e["policy_err_max"] < 1e-12 and abs(e["welfare_loss_pct"]) < 1e-9
    s = ns["s"]
    assert s["converged_share"] == 1.0 and s["floor_grid_points"] == 21
    assert s["dp_agreement_mean"] == 1.0  # the learned tables are value iteration's policy
    for measure in ("euler_mean", "euler_max", "policy_err_mean", "policy_err_max"):
        assert s[f"{measure}_mean"] == pytest.approx(s[f"floor_{measure}"], abs=1e-12), measure
    # a 21-point grid 3 % of k_ss apart: errors of about half a step, Euler errors near -2
    assert 0.005 < s["policy_err_max_mean"] < 0.025 and -2.5 < s["euler_mean_mean"] < -1.5
    assert 0.005 < ns["gap"] < 0.025
    assert sorted(ns["learned"].figures) == sorted(ns["exact"].figures) == ["growth_euler_errors",
                                                                          "growth_policy"]
    text = (TUTORIALS / "growth_model.py").read_text()
    assert f"(mean {s['euler_mean_mean']:.2f}, max {s['euler_max_mean']:.2f})" in text
    assert f"at most\n# {s['policy_err_max_mean']:.1%} on the ergodic set" in text


def test_deep_learners_tutorial(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKETSAI_TUTORIAL_SIZE", "small")
    ns = _run_tutorial("deep_learners", tmp_path, monkeypatch)
    tab, ppo = ns["tab_run"], ns["ppo_run"]
    calvano = {"cycle_length", "mean_price", "profit_gain", "mean_price_0", "profit_gain_1", "osd_on_path"}
    assert calvano <= set(ns["shared"])  # the evaluation's columns, for both learners
    assert (ppo.results["iterations"] == 2).all() and len(ppo.results) == 4  # one seed, 4 episodes
    assert len(ppo.tables["results_untrained"]) == 4
    grid = (1.427721, 1.970187)  # the 15 prices span Nash to monopoly, widened by xi = 0.1
    for run in (tab, ppo):
        for table in (run.results, run.tables["results_untrained"]):
            assert table["mean_price"].between(*grid).all()
    # the untrained Q-table's greedy prices do not depend on the seed; the learned ones collude
    comparison = ns["comparison"]
    assert comparison.loc["Q-learning", "Delta untrained"] == pytest.approx(0.378, abs=0.001)
    for name, run in (("Q-learning", tab), ("PPO", ppo)):  # the summary's floor is its table's mean
        assert comparison.loc[name, "Delta untrained"] == pytest.approx(
            run.tables["results_untrained"]["profit_gain"].mean(), rel=1e-12)
    assert 0.5 <= comparison.loc["Q-learning", "Delta"] <= 1.0
    assert comparison.loc["Q-learning", "rival at t=2"] < comparison.loc["Q-learning", "rival before"]
    assert list(comparison.index) == ["Q-learning", "PPO"]


def test_market_economy_tutorial(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKETSAI_TUTORIAL_SIZE", "small")
    ns = _run_tutorial("market_economy", tmp_path, monkeypatch)
    assert ns["actions"].shape == (4, 50) and ns["rewards"].shape == (4, 51)
    assert ns["econ"].agents[-1] == "firm" and abs(ns["rewards"][:, -1]).max() < 1e-12  # zero profit
    for report in ns["markets"].values():
        assert abs(report.excess_demand).max() < 1e-12
    assert ns["capital_share"] == pytest.approx([0.36] * 4, abs=1e-12)
    assert ns["labour_share"] == pytest.approx([0.64] * 4, abs=1e-12)
    assert abs(ns["budget"]).max() < 1e-12
    assert ns["r"] == pytest.approx(0.36 * ns["z"] * (ns["K"] / 50) ** -0.64, rel=1e-12)
    assert ns["w"] == pytest.approx(0.64 * ns["z"] * (ns["K"] / 50) ** 0.36, rel=1e-12)
    s = ns["s"]  # whatever PPO learned in one iteration: the markets clear on its path
    assert s["max_excess_demand"] < 1e-9 and s["max_budget_residual"] < 1e-9
    assert 0.05 <= s["share_min"] <= s["share_max"] <= 0.95  # the action bounds
    assert s["K_mean_exact"] == pytest.approx(0.1847, abs=0.002)


def test_krusell_smith_tutorial(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKETSAI_TUTORIAL_SIZE", "small")
    ns = _run_tutorial("krusell_smith", tmp_path, monkeypatch)
    s = ns["s"]
    # the solver's law of motion: Krusell and Smith (1998) b1 0.965 / 0.962, R^2 0.999998
    assert s["solver_b1_bad"] == pytest.approx(0.965, abs=0.001)
    assert s["solver_b1_good"] == pytest.approx(0.962, abs=0.001)
    assert s["solver_b0_bad"] == pytest.approx(0.085, abs=0.002)
    assert s["solver_b0_good"] == pytest.approx(0.095, abs=0.002)
    assert min(s["solver_r2_bad"], s["solver_r2_good"]) > 0.99999 and s["solver_den_haan_mean"] < 0.1
    assert 11.4 < s["solver_K_mean"] < 11.8 and 0.22 < s["solver_w_gini"] < 0.26
    # the rule played by 100 households: the same mean capital, a noisier law, small Euler errors
    assert s["N"] == 100 and abs(s["K_mean"] / s["solver_K_mean"] - 1) < 0.02
    assert 0.98 < min(s["r2_bad"], s["r2_good"]) < 0.99999
    assert s["euler_mean"] < -3.0 and s["share_inside_bounds"] > 0.99
    assert abs(s["w_gini"] - s["solver_w_gini"]) < 0.03
    text = (TUTORIALS / "krusell_smith.py").read_text()
    assert f"(b1 {s['solver_b1_bad']:.4f} and {s['solver_b1_good']:.4f} against" in text
    assert f"mean capital {s['solver_K_mean']:.2f} and a wealth Gini of\n# {s['solver_w_gini']:.3f}" in text
