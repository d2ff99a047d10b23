"""``kind: learn`` with evaluations of different row counts: each evaluation's summary,
figures and untrained floor read its own rows, and two entries of one evaluation keep
their tables (and summaries) apart."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import marketsai as mai
from marketsai.analysis.evaluation import Evaluation
from marketsai.learners import Learner
from marketsai.params import Param, positive_int
from marketsai.policies import TablePolicy

ROOT = Path(__file__).resolve().parents[1]
DUOPOLY = str(ROOT / "economies" / "bertrand_duopoly.yaml")
SEEDS = [0, 1, 2]
TRAINED, UNTRAINED = 1, 5  # grid index of seed s: s + TRAINED after learning, s + UNTRAINED before


def _constant(economy, action: int, **info) -> TablePolicy:
    from marketsai.learners.q_learning import finite_problem
    game = finite_problem(economy)
    return TablePolicy(game.agents, np.full((game.n_agents, game.n_states), action), start_state=0,
                       info=info or None)


class SeedPrice(Learner):
    """Every firm plays grid index ``seed + 1`` after learning, ``seed + 5`` before."""

    seeds_per_unit = 3

    def train(self, economy, settings, seeds, run_dir, **kw):
        return [_constant(economy, s + TRAINED, converged=True, periods=0) for s in seeds]

    def initial_policy(self, economy, settings, seed=0):
        return _constant(economy, seed + UNTRAINED)


class Probe(Evaluation):
    """``rows`` rows per policy: ``value`` = 10 x the policy's grid index + the row number."""

    settings = {"rows": Param(3, positive_int, "rows per policy")}

    def evaluate(self, economy, policy, settings, seed=0):
        action = int(policy.strategies()[0, 0])
        return {"results": pd.DataFrame({"value": 10 * action + np.arange(settings["rows"])}),
                "probe_extra": pd.DataFrame({"rows": [settings["rows"]]})}

    def summarise(self, tables, settings):
        res = tables["results"]
        return {"probe_mean": float(res["value"].mean()), "probe_rows": len(res),
                "probe_extra_rows": int(tables["probe_extra"]["rows"].iloc[0])}

    def figures(self, tables, economy, settings):
        fig, ax = plt.subplots()
        ax.plot(tables["results"]["value"].to_numpy())
        return {"probe": fig}


def _expected_probe(rows: int, offset: int) -> dict:
    """Probe's summary of its own rows, computed here from the policies' grid indices."""
    values = [10 * (s + offset) + r for s in SEEDS for r in range(rows)]
    return {"probe_mean": float(np.mean(values)), "probe_rows": len(values), "probe_extra_rows": rows}


def _gain(action: int) -> float:
    game = mai.load_economy(DUOPOLY).finite_game()
    payoff = game.payoffs[0, game.joint_index([action, action])]
    return float(((payoff - game.nash_payoff) / (game.coop_payoff - game.nash_payoff)).mean())


def test_each_evaluation_summarises_its_own_rows_trained_and_untrained(tmp_path):
    probe = f"{__name__}:Probe"
    cfg = {"kind": "learn", "name": "rows", "economy": DUOPOLY, "seed": 3, "seeds": len(SEEDS),
           "learner": {"name": f"{__name__}:SeedPrice"},
           "evaluate": [  # calvano: one row per seed (the policy's start state); probe: 3, then 4
               {"name": "calvano", "settings": {"impulse_response": [], "equilibrium_check": False,
                                                "untrained": True}},
               {"name": probe, "settings": {"rows": 3, "untrained": True}},
               {"name": probe, "settings": {"rows": 4, "untrained": True}}]}
    run = mai.run_experiment(cfg, out=tmp_path / "run", progress=False)
    label = f"{__name__}_Probe".replace(".", "_")  # the import path as a table name
    files = {p.stem for p in run.glob("*.parquet")}
    assert {"results", "results_untrained", f"{label}_results", f"{label}_results_untrained",
            "probe_extra", f"{label}_2_results", f"{label}_2_results_untrained", f"{label}_2_probe_extra",
            f"{label}_2_probe_extra_untrained"} <= files
    assert len(pd.read_parquet(run / "results.parquet")) == len(SEEDS)  # calvano's rows alone
    assert len(pd.read_parquet(run / f"{label}_2_results.parquet")) == 4 * len(SEEDS)
    summary = json.loads((run / "summary.json").read_text())
    gains = np.mean([_gain(s + TRAINED) for s in SEEDS]), np.mean([_gain(s + UNTRAINED) for s in SEEDS])
    assert summary["sessions"] == len(SEEDS) and summary["profit_gain"] == pytest.approx(gains[0], rel=1e-12)
    assert summary["untrained"]["profit_gain"] == pytest.approx(gains[1], rel=1e-12)
    for key, value in _expected_probe(3, TRAINED).items():  # the first probe entry: flat keys
        assert summary[key] == pytest.approx(value, rel=1e-12), key
    for key, value in _expected_probe(3, UNTRAINED).items():
        assert summary["untrained"][key] == pytest.approx(value, rel=1e-12), key
    second = summary[f"{label}_2"]  # the second probe entry: its own keys under its label
    assert second == {**_expected_probe(4, TRAINED), "untrained": _expected_probe(4, UNTRAINED)}
    assert {"probe", f"{label}_2_probe", "profit_gain_histogram"} <= {p.stem for p in (run / "figures").iterdir()}


class Twin(Evaluation):
    """One row per policy: ``value`` = the policy's grid index x ``scale``; a table
    ``extra``, a summary key and a figure all named as every Twin names them."""

    settings = {"scale": Param(1, positive_int, "factor")}

    def evaluate(self, economy, policy, settings, seed=0):
        value = settings["scale"] * int(policy.strategies()[0, 0])
        return {"results": pd.DataFrame({"value": [value], type(self).__name__: [1]}),
                "extra": pd.DataFrame({"value": [value]})}

    def summarise(self, tables, settings):
        return {"value_mean": float(tables["results"]["value"].mean()),
                "extra_mean": float(tables["extra"]["value"].mean())}

    def figures(self, tables, economy, settings):
        return {"twin": plt.subplots()[0]}


class Twin10(Twin):
    """Another evaluation with the same names: ``value`` 10 x the grid index."""

    settings = {"scale": Param(10, positive_int, "factor")}


def test_two_evaluations_with_the_same_names_keep_both_under_their_labels(tmp_path):
    first, second = f"{__name__}:Twin", f"{__name__}:Twin10"
    label = f"{__name__}_Twin10".replace(".", "_")
    cfg = {"kind": "learn", "name": "twins", "economy": DUOPOLY, "seeds": len(SEEDS),
           "learner": {"name": f"{__name__}:SeedPrice"},
           "evaluate": [{"name": first, "settings": {"untrained": True}},
                        {"name": second, "settings": {"untrained": True}}]}
    run = mai.run_experiment(cfg, out=tmp_path / "run", progress=False)
    res = pd.read_parquet(run / "results.parquet")
    assert list(res.columns) == ["seed", "converged", "periods", "value", "Twin", f"{label}_value", "Twin10"]
    trained = [s + TRAINED for s in SEEDS]
    assert res["value"].tolist() == trained and res[f"{label}_value"].tolist() == [10 * a for a in trained]
    floor = pd.read_parquet(run / "results_untrained.parquet")
    assert floor[f"{label}_value"].tolist() == [10 * (s + UNTRAINED) for s in SEEDS]
    assert pd.read_parquet(run / f"{label}_extra.parquet")["value"].tolist() == [10 * a for a in trained]
    assert pd.read_parquet(run / "extra.parquet")["value"].tolist() == trained
    summary = json.loads((run / "summary.json").read_text())
    mean, floor_mean = float(np.mean(trained)), float(np.mean([s + UNTRAINED for s in SEEDS]))
    assert {k: summary[k] for k in ("value_mean", "extra_mean", f"{label}_value_mean", f"{label}_extra_mean")} \
        == {"value_mean": mean, "extra_mean": mean, f"{label}_value_mean": 10 * mean, f"{label}_extra_mean": 10 * mean}
    assert summary["untrained"] == {"value_mean": floor_mean, "extra_mean": floor_mean,
                                    f"{label}_value_mean": 10 * floor_mean, f"{label}_extra_mean": 10 * floor_mean}
    assert {"twin", f"{label}_twin"} <= {p.stem for p in (run / "figures").iterdir()}


class Crowded(Twin):
    """Its results hold ``value`` and also the name another's ``value`` would move to."""

    def evaluate(self, economy, policy, settings, seed=0):
        out = super().evaluate(economy, policy, settings, seed)
        label = f"{__name__}_Crowded".replace(".", "_")
        return out | {"results": out["results"].assign(**{f"{label}_value": 0})}


class Squatter(Twin):
    """Its results hold columns named as Twin10's ``value`` would be moved, and as Twin's
    ``Twin`` would be were it moved."""

    def evaluate(self, economy, policy, settings, seed=0):
        out = super().evaluate(economy, policy, settings, seed)
        prefix = f"{__name__}_".replace(".", "_")
        return out | {"results": out["results"].assign(**{f"{prefix}Twin10_value": 0, f"{prefix}Twin_Twin": 0})}


@pytest.mark.parametrize(("names", "message"), [
    (["Twin", "Crowded"], "results column 'value' has nowhere to go"),
    (["Squatter", "Twin10"], "results column 'value' has nowhere to go"),
    (["Squatter", "Twin"], "column '.*_Twin_Twin' of results, another entry's, would read as entry 1's own"),
])
def test_names_that_cannot_be_told_apart_are_refused(names, message):
    from marketsai.errors import SpecError
    from marketsai.runner.learn import evaluate_policy

    economy = mai.load_economy(DUOPOLY)
    entries = [{"name": f"{__name__}:{n}", "settings": {"untrained": False, "scale": 1}} for n in names]
    with pytest.raises(SpecError, match=message):
        evaluate_policy(economy, _constant(economy, 3), entries)
