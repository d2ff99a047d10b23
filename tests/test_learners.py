"""Learners as registered plug-ins: the registry, q_learning under ``kind: learn``, a
third-party learner by entry point, and one validation dialect."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import marketsai as mai
from marketsai.errors import SpecError
from marketsai.learners import Learner, learners
from marketsai.policies import Policy
from marketsai.registry import Registry
from marketsai.runner import load_experiment
from marketsai.runner.run import summary_text

ROOT = Path(__file__).resolve().parents[1]
DUOPOLY = str(ROOT / "economies" / "bertrand_duopoly.yaml")
FAST = {"alpha": 0.15, "beta": 5.0e-4, "stable_periods": 500}
CALVANO_COLUMNS = ["cycle_length", "mean_price", "profit_gain", "mean_price_0", "mean_profit_0",
                   "profit_gain_0", "mean_price_1", "mean_profit_1", "profit_gain_1"]


def _learn(learner: dict, **kw) -> dict:
    return {"kind": "learn", "name": "t", "economy": DUOPOLY, "seed": 11, "seeds": 3,
            "learner": learner, "evaluate": [{"name": "calvano"}], **kw}


def test_registry_lists_the_entries_and_is_loud():
    assert {"q_learning", "DQN", "SAC", "PPO", "IMPALA", "APPO", "centralised_critic"} <= set(learners.names())
    with pytest.raises(SpecError, match="did you mean 'q_learning'"):
        learners.get("q_lerning", "learner.name")
    with pytest.raises(TypeError, match="not a subclass of Learner"):
        learners.register("x", dict)
    with pytest.raises(ValueError, match="already registered"):
        learners.register("q_learning", type("Other", (Learner,), {}))


def test_importing_learners_does_not_import_ray_or_torch():
    import subprocess
    code = ("import sys, marketsai.learners, marketsai.runner.learn, marketsai.rl.spec; "
            "print('ray' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_rllib_entries_declare_paths_and_actions():
    from marketsai.rl.learners import RLlibLearner
    dqn, cc = learners.get("DQN")(), learners.get("centralised_critic")()
    assert isinstance(dqn, RLlibLearner) and dqn.action_kinds == ("grid",)
    assert dqn.path({"sessions": 4, "stacked": True}) == "replay"
    assert "vector" not in cc.paths and cc.path({"sessions": 4}) == "vector"
    ppo = learners.get("PPO")
    assert ppo.defaults["lr"] == 3e-4 and ppo.open_settings  # our defaults; RLlib's attributes open
    assert ppo.settings["env"]["max_cycles"].default == 1000  # kind: rllib's sections, as Params


def test_rl_spec_refuses_a_path_the_learner_does_not_declare():
    from marketsai.rl.spec import RLExperimentSpec
    base = {"kind": "rllib", "economy": DUOPOLY, "stop": {"training_iteration": 1},
            "resources": {"num_env_runners": 0}}
    with pytest.raises(SpecError, match="centralised critic reads") as err:
        RLExperimentSpec.from_dict({**base, "algorithm": {"name": "centralised_critic"},
                                    "env": {"sessions": 4}})
    assert err.value.path == "env.sessions"
    with pytest.raises(SpecError, match="IMPALA does not train on stacked sessions.*PPO / "
                                        "centralised_critic.*DQN / SAC") as err:
        RLExperimentSpec.from_dict({**base, "algorithm": {"name": "IMPALA"},
                                    "env": {"sessions": 4, "stacked": True}})
    assert err.value.path == "env.stacked" and "false for IMPALA" in str(err.value)
    with pytest.raises(SpecError, match="unknown algorithm; did you mean 'PPO'"):
        RLExperimentSpec.from_dict({**base, "algorithm": {"name": "ppo2"}})


def test_q_learning_under_kind_learn_gives_the_tabular_kinds_columns(tmp_path):
    run = mai.run_experiment(_learn({"name": "q_learning", "settings": FAST},
                                    evaluate=[{"name": "calvano", "settings": {"untrained": True}}]),
                             out=tmp_path / "learn", progress=False)
    res = pd.read_parquet(run / "results.parquet")
    tab_cfg = {"kind": "tabular", "name": "t", "economy": DUOPOLY, "seed": 11, "sessions": 3,
               "learner": FAST, "analysis": {"impulse_response": [], "equilibrium_check": False}}
    tab = pd.read_parquet(mai.run_experiment(tab_cfg, out=tmp_path / "tab", progress=False)
                          / "results.parquet")
    assert list(res.columns[:3]) == ["seed", "converged", "periods"]  # the learner's own columns first
    assert set(CALVANO_COLUMNS) <= set(res.columns)  # then the calvano evaluation's
    assert res["seed"].tolist() == tab["session"].tolist()  # a seed is a session of the root seed
    for col in ["converged", "periods", *CALVANO_COLUMNS]:
        np.testing.assert_allclose(res[col].to_numpy(float), tab[col].to_numpy(float), rtol=1e-12,
                                   err_msg=col)
    assert (run / "units" / "s0-2" / "sessions.npz").is_file()
    ours = json.loads((run / "summary.json").read_text())
    theirs = json.loads((tmp_path / "tab" / "summary.json").read_text())
    for key in ("converged_share", "periods_mean", "mean_price", "profit_gain", "profit_gain_sd",
                "cycle_share_1", "cycle_share_2", "cycle_share_3plus", "table_1"):
        assert ours[key] == pytest.approx(theirs[key], rel=1e-12) if key != "table_1" \
            else ours[key] == theirs[key], key
    # the untrained floor: summarised from results_untrained exactly as the trained policies
    floor, base = ours["untrained"], pd.read_parquet(run / "results_untrained.parquet")
    assert len(base) == 300 and list(base.columns) == [c for c in res.columns if c in base]
    for key in ("profit_gain", "mean_price", "profit_gain_0", "mean_price_1", "cycle_length_mean"):
        assert floor[key] == pytest.approx(base[key.removesuffix("_mean")].mean(), rel=1e-12), key
        assert floor[key] != pytest.approx(ours[key], rel=1e-6), key  # not the trained one
    assert floor["profit_gain_sd"] == pytest.approx(base["profit_gain"].std(ddof=1), rel=1e-12)
    assert floor["nash_price_0"] == ours["nash_price_0"]  # the economy's benchmarks
    assert floor["impulse_best_response_t2_rival"] is not None
    text = summary_text(run)
    assert "Untrained policies" in text and f"{floor['profit_gain']:.4f}" in text.split("Untrained")[1]


def test_q_learning_train_resumes_from_its_unit_folder(tmp_path):
    from marketsai.learners.q_learning import SESSIONS_FILE
    econ = mai.load_economy(DUOPOLY)
    ql = learners.get("q_learning")()
    settings = ql.check(econ, {**{k: p.default for k, p in ql.settings.items()}, **FAST})
    first = ql.train(econ, settings, [0, 1], tmp_path, root_seed=5)
    assert (tmp_path / SESSIONS_FILE).is_file()
    again = ql.train(econ, settings, [0, 1], tmp_path, root_seed=5)  # loads, does not learn
    assert all(isinstance(p, Policy) for p in again)
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a.strategies(), b.strategies()) and a.start_state == b.start_state
        assert a.info == b.info
    other = ql.train(econ, settings, [0, 1], tmp_path, root_seed=6)  # another unit: learns anew
    assert [p.info["seed"] for p in other] == [0, 1]


@pytest.fixture
def acme_learners(tmp_path, monkeypatch):
    """A real distribution on sys.path declaring ``fixed_price`` in ``marketsai.learners``."""
    from distributions import fake_distribution
    fake_distribution(tmp_path, "acme-learners", "marketsai.learners",
                      {"fixed_price": "fixed_price_learner:FixedPrice"})
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "plugins"))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(learners, "_entry_points_loaded", False)
    monkeypatch.setattr(learners, "_items", dict(learners._items))
    yield
    sys.modules.pop("fixed_price_learner", None)


def test_third_party_learner_by_entry_point_runs_and_is_evaluated(acme_learners, tmp_path):
    assert "fixed_price" in Registry("learners", Learner).names()
    run = mai.run_experiment(_learn({"name": "fixed_price", "settings": {"action": 14}}),
                             out=tmp_path / "run", progress=False)
    res = pd.read_parquet(run / "results.parquet")
    assert list(res.columns[:3]) == ["seed", "converged", "periods"]  # the learner's own columns first
    assert set(CALVANO_COLUMNS) <= set(res.columns)  # then the calvano evaluation's
    game = mai.load_economy(DUOPOLY).finite_game()
    joint = game.joint_index([14, 14])
    payoff = game.payoffs[0, joint]  # both firms at the top grid price, every period
    gain = (payoff - game.nash_payoff) / (game.coop_payoff - game.nash_payoff)
    assert (res["cycle_length"] == 1).all()
    np.testing.assert_allclose(res["mean_profit_0"], payoff[0])
    np.testing.assert_allclose(res["profit_gain"], gain.mean())
    np.testing.assert_allclose(res["mean_price"], game.prices[0, joint].mean())
    summary = (run / "summary.json").read_text()
    assert '"learner": "fixed_price"' in summary and '"cycle_share_1": 1.0' in summary


def test_third_party_learner_settings_are_validated_in_the_one_dialect(acme_learners):
    with pytest.raises(SpecError, match=r"learner\.settings\.actoin = 3: unknown key; did you mean 'action'"):
        load_experiment(_learn({"name": "fixed_price", "settings": {"actoin": 3}}))
    with pytest.raises(SpecError, match=r"learner\.settings\.action = 99: no such grid price"):
        load_experiment(_learn({"name": "fixed_price", "settings": {"action": 99}}))


def test_kind_learn_errors_name_the_field():
    with pytest.raises(SpecError, match=r"learner\.name = 'q_lerning'.*did you mean 'q_learning'"):
        load_experiment(_learn({"name": "q_lerning"}))
    with pytest.raises(SpecError, match=r"learner\.settings\.alpha = 1\.5: learning rate out of range"):
        load_experiment(_learn({"name": "q_learning", "settings": {"alpha": 1.5}}))
    with pytest.raises(SpecError, match=r"evaluate\[0\]\.name"):
        load_experiment(_learn({"name": "q_learning"}, evaluate=[{"name": "nope"}]))
    exp = load_experiment(_learn({"name": "q_learning"}))
    assert exp.config["learner"]["settings"]["stable_periods"] == 100_000  # every default shown


def test_validate_without_a_file_prints_every_default_of_every_kind_and_learner():
    from click.testing import CliRunner

    from marketsai.cli import main
    out = CliRunner().invoke(main, ["validate"], catch_exceptions=False).output
    for kind in ("tabular", "rllib", "interventions", "learn"):
        assert f"kind: {kind}\n" in out
    for name in learners.names():
        assert f"learner {name}" in out
    assert "learner.settings.alpha           0.15  (0 < alpha <= 1, a number or one per agent)" in out
    ppo = out[out.index("learner PPO"):out.index("learner SAC")]  # PPO's small-machine default, in its row
    assert re.search(r"learner\.settings\.lr +0\.0003 \(ours\)  \(a number in \(0, 1\]", ppo)
    assert "learner.settings.resources.num_env_runners" in out


def test_one_dialect_for_tabular_settings_in_every_kind():
    """kind: tabular, kind: interventions and the q_learning learner declare the same Params."""
    from marketsai.runner import get_kind
    from marketsai.tabular.config import SETTINGS
    assert get_kind("tabular").schema["learner"] == SETTINGS
    assert get_kind("interventions").schema["learner"] == SETTINGS
    assert learners.get("q_learning").settings is SETTINGS


def test_a_sweep_over_learners_gives_one_table_with_the_same_columns(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "plugins"))
    cfg = _learn({"name": "q_learning"}, seeds=2, sweep={"learner": [
        {"name": "q_learning", "settings": FAST},
        {"name": "fixed_price_learner:FixedPrice", "settings": {"action": 0}}]})
    res = pd.read_parquet(mai.run_experiment(cfg, out=tmp_path / "run", progress=False)
                          / "results.parquet")
    assert res["cell"].tolist() == [0, 0, 1, 1]
    assert list(res.columns[2:5]) == ["seed", "converged", "periods"]  # both learners' columns
    assert set(CALVANO_COLUMNS) <= set(res.columns) and res[CALVANO_COLUMNS].notna().all().all()
    assert (res.loc[res["cell"] == 1, "profit_gain"] < 0).all()  # the lowest grid price: below Nash
    sys.modules.pop("fixed_price_learner", None)
