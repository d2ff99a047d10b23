"""Experiments as files: every study's ``kind: learn`` file loads, the ``reference``
learner reproduces its solver through the runner, q_learning's untrained baseline is the
greedy table of Q0, the krusell_smith evaluation scores other panel sizes, and
``experiments/report.py`` reads run folders into a table."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import marketsai as mai
from marketsai.learners import learners
from marketsai.runner import load_experiment

ROOT = Path(__file__).resolve().parents[1]
LEARN_FILES = sorted(p for p in (ROOT / "experiments").glob("*/*.yaml") if "kind: learn" in p.read_text())
RLLIB = {"DQN", "SAC", "PPO", "IMPALA", "APPO", "centralised_critic"}


def _report():
    spec = importlib.util.spec_from_file_location("experiments_report", ROOT / "experiments" / "report.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("path", LEARN_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_study_file_is_a_valid_learn_experiment(path):
    text = path.read_text()
    if any(f"name: {n}\n" in text for n in RLLIB):
        pytest.importorskip("ray")  # an RLlib learner's settings are checked against RLlib
    exp = load_experiment(path)
    assert exp.config["evaluate"], "a study file names the evaluations of its table"


def test_no_study_script_starts_marketsai_or_builds_an_rllib_config():
    for path in (ROOT / "experiments").rglob("*.py"):
        text = path.read_text()
        assert "build_config" not in text, path
        assert not ("subprocess" in text and "marketsai" in text), path


def _two_sector(tmp_path, **sets):
    cfg = load_experiment(ROOT / "experiments" / "market_economies" / "two_sector_reference.yaml").config
    cfg = {k: v for k, v in cfg.items() if k not in ("sweep", "reference")}
    cfg["economy"]["agents"][0]["count"] = 3
    cfg["evaluate"] = [{"name": "market", "settings": {"sessions": 2, "periods": 100, "burn": 1000}}]
    return mai.run_experiment(cfg, out=tmp_path / "two_sector", progress=False)


def test_reference_learner_reproduces_the_two_sector_steady_state_and_report_reads_it(tmp_path):
    run = _two_sector(tmp_path)
    res = pd.read_parquet(run / "results.parquet")
    assert res["err_max"].abs().max() < 1e-8  # the exact shares settle exactly at the reference
    assert res["s"].iloc[0] == pytest.approx(0.2301, abs=1e-4)
    assert res["max_excess_demand"].max() < 1e-9
    report = _report()
    report.main([str(run), "--out", str(tmp_path / "table"), "--columns", "K,err_K,s", "--percent", "err_K"])
    table = pd.read_csv(tmp_path / "table.csv")
    assert table[["run", "policy"]].values.tolist() == [["two_sector", "reference"]]
    assert table["K"].iloc[0] == pytest.approx(res["K"].iloc[0], rel=1e-12)
    md = (tmp_path / "table.md").read_text().splitlines()
    assert md[0] == "| run | policy | K | err_K | s |" and md[2].startswith("| two_sector | reference | 13.811 | ")
    side = json.loads((tmp_path / "table.source.json").read_text())  # how the table was made
    assert side["table"] == "table.csv" and "--columns" in side["command"]
    assert side["runs"][str(run)][0]["outcome"] == "finished"


def test_closed_form_reference_scores_zero_under_growth(tmp_path):
    cfg = load_experiment(ROOT / "experiments" / "growth_deep" / "closed_form.yaml").config
    cfg["evaluate"] = [{"name": "growth", "settings": {"periods": 500, "burn": 100, "welfare_points": 50}}]
    res = pd.read_parquet(mai.run_experiment(cfg, out=tmp_path / "cf", progress=False) / "results.parquet")
    assert res["share_err_max"].iloc[0] < 1e-12 and res["euler_ergodic_max"].iloc[0] < -12


def test_q_learning_untrained_baseline_is_the_greedy_table_of_q0(tmp_path):
    from marketsai.tabular.sessions import calvano_q0
    econ = mai.load_economy(ROOT / "economies" / "bertrand_duopoly.yaml")
    settings = load_experiment({"kind": "learn", "economy": str(ROOT / "economies" / "bertrand_duopoly.yaml"),
                                "learner": {"name": "q_learning"}}).config["learner"]["settings"]
    policy = learners.get("q_learning")().initial_policy(econ, settings, 0)
    q0 = calvano_q0(econ.finite_game())  # one row for every memory state of the duopoly
    np.testing.assert_array_equal(policy.strategies(), np.repeat(q0.argmax(axis=2), policy.table.shape[1], axis=1))
    from marketsai.analysis.evaluations import run_evaluation
    from marketsai.policies import ConstantPolicy
    out = run_evaluation("calvano", econ, ConstantPolicy({"firm_0": 7, "firm_1": 7}),
                         {"untrained": True, "episodes": 2, "impulse_response": []},
                         learner=learners.get("q_learning")(), learner_settings=settings)
    base, grid = out.tables["results_untrained"], econ.decisions[0].grid
    assert len(base) == 2 and base["mean_price_0"].tolist() == pytest.approx([grid[4]] * 2)  # Q0's argmax: 4


def test_krusell_smith_evaluation_scores_other_panel_sizes():
    from marketsai.analysis.evaluations import run_evaluation
    from marketsai.policies import SharedPolicy
    econ = mai.load_economy(ROOT / "economies" / "krusell_smith.yaml")
    policy = SharedPolicy(econ.actors, lambda obs: np.full((len(obs), 1), 0.8))
    out = run_evaluation("krusell_smith", econ, policy, {"periods": 20, "burn": 0, "euler_snapshots": 1,
                                                         "households": [10, 12]})
    res = out.tables["results"]
    assert res["N"].tolist() == [10, 12] and np.isfinite(res["K_mean"]).all()  # 9+: see factor_supply
    assert res["share_mean"].tolist() == pytest.approx([0.8, 0.8])


@pytest.mark.parametrize("name", ["krusell_smith", "market", "sectors", "growth"])
def test_summaries_read_their_numbers_beside_a_learners_own_columns(name):
    """A kind: learn results table holds the learner's info (an RLlib checkpoint path, a
    missing episode return) beside the evaluation's columns; the summary must not choke."""
    from marketsai.analysis.evaluations import evaluations
    res = pd.DataFrame({"seed": [0], "checkpoint": ["seed0/tune/ckpt"], "episode_return_mean": [None],
                        "K_mean": [11.5], "share_err_max": [0.01]})
    out = evaluations.get(name)().summarise({"results": res}, {})
    assert out["K_mean"] == 11.5 and out["share_err_max"] == 0.01
