"""Issue 23, item 7: every empty value (null, NaN, an empty list) of a tabular summary has
a documented reason, stored in ``summary["empty_values"]`` and printed under the summary."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from marketsai.runner import load_experiment, run_experiment, summary_text
from marketsai.runner.notes import REASONS, empty_value_notes

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(300)


def empty_keys(summary: dict) -> set[str]:
    out = set()
    for key, value in summary.items():
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == []:
            out.add(key)
        elif key == "table_1" and any(v is None for row in value for v in row.values()):
            out.add(key)
    return out


def test_a_monopolist_run_explains_each_empty_value(tmp_path):
    run = run_experiment({
        "kind": "tabular", "name": "mono", "economy": str(ROOT / "economies" / "monopolist.yaml"),
        "seed": 1, "sessions": 1, "chunk_size": 1,
        "learner": {"stable_periods": 50, "max_periods": 3000, "beta": 1e-3}}, out=tmp_path / "run",
        progress=False)
    summary = json.loads((run / "summary.json").read_text())
    empty = empty_keys(summary)
    # one firm: no gain (Nash = monopoly), no rival, one session: no sd
    assert {"profit_gain", "profit_gain_sd", "impulse_best_response_t2_rival",
            "impulse_best_response_rival", "table_1"} <= empty
    notes = summary["empty_values"]
    assert set(notes) == empty
    assert notes["profit_gain"] == REASONS["no_gain"]
    assert notes["impulse_best_response_t2_rival"] == REASONS["no_rival"]
    assert notes["profit_gain_cycle_2"] == REASONS["empty_class"]
    text = summary_text(run)
    assert "empty values:" in text and f"  profit_gain: {REASONS['no_gain']}" in text


def test_a_model_with_shocks_explains_its_missing_cycle():
    """The growth model's tabular results: no limit cycle under TFP shocks."""
    exp = load_experiment({"kind": "tabular", "economy": str(ROOT / "economies" / "brock_mirman.yaml"),
                           "sessions": 3, "analysis": {"growth": False}})
    results = pd.DataFrame({"session": range(3), "seed": 0, "converged": [True, False, True],
                            "periods": [10, 20, 30], "cycle_length": 0, "mean_consumption": np.nan,
                            "mean_consumption_0": np.nan, "mean_reward_0": np.nan})
    summary = exp.kind.summarise({"results": results}, exp.config)
    assert summary["mean_consumption"] is None
    notes = empty_value_notes(summary, results)
    assert set(notes) == empty_keys(summary) | {"results.cycle_length"}
    assert notes["mean_consumption"] == REASONS["no_cycle"]
    assert notes["results.cycle_length"].endswith(REASONS["no_cycle"])


def test_a_full_summary_has_no_notes():
    results = pd.DataFrame({"cycle_length": [1, 2], "profit_gain": [0.5, 0.7]})
    assert empty_value_notes({"profit_gain": 0.6, "profit_gain_sd": 0.14}, results) == {}


def test_the_docs_list_every_reason():
    doc = " ".join((ROOT / "docs" / "experiments.md").read_text().split())
    for key, reason in REASONS.items():
        assert reason in doc, key


def test_interval_actions_explain_their_missing_cycle_and_one_episode_its_sd():
    """The calvano evaluation of prices on an interval (the deep learners' case)."""
    from marketsai.analysis.evaluations import run_evaluation
    from marketsai.economy import Economy
    from marketsai.policies import FunctionPolicy
    from marketsai.yamlio import read_yaml

    data = read_yaml(ROOT / "economies" / "bertrand_duopoly.yaml")
    data["agents"][0]["action"] = {"kind": "interval", "xi": 0.1}
    econ = Economy.from_dict(data)
    price = FunctionPolicy({a: (lambda o: np.full((len(o), 1), 1.6)) for a in econ.actors})
    out = run_evaluation("calvano", econ, price, {"episodes": 1, "periods": 20, "tail": 5,
                                                  "impulse_periods": 3})
    notes = empty_value_notes(out.summary, out.tables["results"])
    assert set(notes) == empty_keys(out.summary) | {"results.cycle_length"}
    assert notes["cycle_length_mean"] == REASONS["interval"]
    assert notes["profit_gain_total_sd"] == REASONS["one_session"]
    assert notes["results.cycle_length"].endswith(REASONS["interval"])


def test_a_one_period_impulse_explains_its_missing_t2():
    from marketsai.analysis.evaluations import run_evaluation
    from marketsai.economy import load_economy
    from marketsai.policies import ConstantPolicy

    out = run_evaluation("calvano", load_economy(ROOT / "economies" / "bertrand_duopoly.yaml"),
                         ConstantPolicy({"firm_0": 7, "firm_1": 7}), {"episodes": 1, "impulse_periods": 1})
    notes = empty_value_notes(out.summary, out.tables["results"])
    assert set(notes) == empty_keys(out.summary)
    assert notes["impulse_best_response_t2_rival"] == REASONS["short_impulse"]


def test_infinite_growth_measures_are_explained():
    summary = {"euler_mean": math.inf, "welfare_loss_pct": None, "euler_max_median": None,
               "growth_nonfinite": 2, "floor_euler_mean": -3.1}
    notes = empty_value_notes(summary, None)
    assert notes == dict.fromkeys(["euler_mean", "welfare_loss_pct", "euler_max_median"],
                                  REASONS["nonfinite_growth"])
