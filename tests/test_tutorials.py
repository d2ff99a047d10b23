"""The tutorials under docs/tutorials run as they are, and what they conclude holds.

Bands of the first tutorial, from an independent measured run (the same economy and
settings, seed 2, 40 sessions): session Delta mean 0.768, SD 0.052; the rivals' price cut
at t = 2 mean 0.142, SD 0.083. The tutorial's 8-session means must lie within four
standard errors of those (Delta: 0.768 +- 4 * 0.052 / sqrt(8) = [0.70, 0.84]; cut:
0.142 +- 4 * 0.083 / sqrt(8) = [0.025, 0.26]): a band any seed passes, not the one run's
value. The numbers the tutorial's text quotes are checked against its own run.
"""

from __future__ import annotations

import runpy
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
                                         "profit_gain_histogram"]
