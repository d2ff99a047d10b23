"""An RLlib algorithm as a learner under ``kind: learn``: trained, resumed, a policy back."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from rl_helpers import DUOPOLY, TINY, cli_evaluate_settings

import marketsai as mai
from marketsai.errors import SpecError
from marketsai.policies import Policy
from marketsai.runner import load_experiment

pytestmark = pytest.mark.rllib


def _learn(settings: dict) -> dict:
    return {"kind": "learn", "name": "ppo_learn", "economy": str(DUOPOLY), "seeds": [3],
            "learner": {"name": "PPO", "settings": settings}}


SETTINGS = {**TINY["PPO"], "env": {"max_cycles": 50}, "model": {"fcnet_hiddens": [8]},
            "stop": {"training_iteration": 1}, "resources": {"num_env_runners": 0},
            "checkpoint": {"frequency": 0, "keep": 1}}


@pytest.fixture(scope="module")
def learn_run(tmp_path_factory, local_ray):
    """A one-seed (seed 3) kind: learn PPO run, its policy evaluated by the run (calvano)."""
    cfg = _learn(SETTINGS) | {"evaluate": [{"name": "calvano", "settings": cli_evaluate_settings()}]}
    return mai.run_experiment(cfg, out=tmp_path_factory.mktemp("learn") / "run", progress=False)


def test_rllib_settings_errors_name_the_learner_settings():
    with pytest.raises(SpecError, match=r"learner\.settings\.lr = -1: out of range"):
        load_experiment(_learn({**SETTINGS, "lr": -1}))
    with pytest.raises(SpecError, match=r"learner\.settings\.env\.block = 2: env\.block groups"):
        load_experiment(_learn({**SETTINGS, "env": {"sessions": 4, "block": 2}}))
    with pytest.raises(SpecError, match=r"learner\.settings\.resources\.num_env_runners: missing"):
        load_experiment(_learn({k: v for k, v in SETTINGS.items() if k != "resources"}))


@pytest.mark.parametrize(("key", "value", "message"), [
    ("lrr", 0.001, r"learner\.settings\.lrr = 0\.001: unknown setting for PPO; did you mean 'lr'\? "
                   r"\(allowed: an attribute of PPOConfig"),
    ("use_kl_loss", "yes", r"learner\.settings\.use_kl_loss = 'yes': wrong type of value \(allowed: true or false\)"),
    ("num_env_runners", 2, r"learner\.settings\.num_env_runners = 2: set this in the experiment file's "
                           r"'resources' section"),
])
def test_validate_checks_a_learners_rllib_settings_against_rllibs_config_class(tmp_path, key, value, message):
    """As for a kind: rllib file; the load itself does not import ray, so it passes them."""
    from click.testing import CliRunner

    from marketsai.cli import main
    from marketsai.runner.schema import dump_yaml
    cfg = _learn({**SETTINGS, key: value})
    load_experiment(cfg)  # RLlib's config class is asked only by validate (and the run)
    file = tmp_path / "learn.yaml"
    file.write_text(dump_yaml(cfg))
    res = CliRunner().invoke(main, ["validate", str(file)])
    assert res.exit_code == 1
    assert re.search(rf"^error: {re.escape(str(file))}: {message}", res.output), res.output
    file.write_text(dump_yaml(_learn(SETTINGS)))
    assert CliRunner().invoke(main, ["validate", str(file)]).exit_code == 0


def test_ppo_through_kind_learn_gives_a_policy_and_skips_a_finished_trial(tmp_path, learn_run):
    from marketsai.learners import learners
    econ = mai.load_economy(DUOPOLY)
    exp = load_experiment(_learn(SETTINGS))
    ppo = learners.get("PPO")()
    (policy,) = ppo.train(econ, exp.config["learner"]["settings"], [3], tmp_path)
    assert isinstance(policy, Policy) and policy.info["iterations"] == 1
    obs = econ.observe(econ.initial_state(np.random.default_rng(0), batch=5))
    actions = policy.act("firm_0", obs["firm_0"])
    assert actions.shape == (5,) and actions.dtype == np.int64
    assert ((0 <= actions) & (actions < len(econ.decisions[0].grid))).all()
    (again,) = ppo.train(econ, exp.config["learner"]["settings"], [3], tmp_path)  # the finished trial
    assert again.info["checkpoint"] == policy.info["checkpoint"]
    np.testing.assert_array_equal(again.act("firm_1", obs["firm_1"]), policy.act("firm_1", obs["firm_1"]))
    res = pd.read_parquet(learn_run / "results.parquet")
    assert list(res.columns[:8]) == ["seed", "iterations", "env_steps", "agent_steps", "time_total_s",
                                     "episode_return_mean", "checkpoint", "episode"]  # then calvano's


def test_export_and_evaluate_a_seeds_checkpoint_play_the_runs_own_policy(tmp_path, learn_run):
    """As docs/cli.md tells a user: a seed's checkpoint is its results row's ``checkpoint``
    under RUN/units/<chunk id>/; `marketsai export` and `marketsai evaluate` (the raw
    checkpoint and the export) read the trial's experiment.yaml and play the greedy policy
    the run evaluated -- the same episodes, prices and profits."""
    from click.testing import CliRunner

    from marketsai.cli import main
    res = pd.read_parquet(learn_run / "results.parquet")
    checkpoint = learn_run / "units" / "s3-3" / res["checkpoint"].iloc[0]
    runner = CliRunner()
    done = runner.invoke(main, ["export", str(checkpoint), "--out", str(tmp_path / "export")])
    assert done.exit_code == 0, done.output
    for name, source in (("raw", checkpoint), ("exported", tmp_path / "export")):
        done = runner.invoke(main, ["evaluate", str(source), "--episodes", "2", "--seed", "3",
                                    "--out", str(tmp_path / name)])
        assert done.exit_code == 0, done.output
        table = pd.read_parquet(tmp_path / name / "results.parquet")
        assert len(table) == 2 and set(table.columns) < set(res.columns)
        pd.testing.assert_frame_equal(table, res[list(table.columns)], check_dtype=False)


def test_trial_experiment_is_a_valid_rllib_file_and_older_ones_still_read(tmp_path, learn_run):
    """The experiment.yaml of a kind: learn trial is a kind: rllib file (``model`` under
    ``algorithm``); one written before, with a top-level copy of ``algorithm.model``, is
    read without the copy; any other stray key is refused."""
    from marketsai.rl.export import read_experiment
    from marketsai.rl.spec import RLExperimentSpec
    from marketsai.runner.schema import dump_yaml
    from marketsai.yamlio import read_yaml
    (file,) = (learn_run / "units").glob("*/seed3/experiment.yaml")
    data = read_yaml(file)
    spec = RLExperimentSpec.from_dict(data)
    assert "model" not in data and spec.model == {"fcnet_hiddens": [8]}
    (tmp_path / "old.yaml").write_text(dump_yaml(data | {"model": spec.model}))
    assert read_experiment(tmp_path / "old.yaml").config == spec.config
    (tmp_path / "bad.yaml").write_text(dump_yaml(data | {"model": {"fcnet_hiddens": [4]}}))
    with pytest.raises(SpecError, match=r"model = \{'fcnet_hiddens': \[4\]\}: unknown key"):
        read_experiment(tmp_path / "bad.yaml")


def test_a_batched_learners_unit_is_not_read_as_an_rllib_checkpoint(tmp_path, learn_run):
    """A seed-batched learner's unit folder holds one torch file, not an RLlib checkpoint:
    evaluate names what it reads and how to export a seed; export reads the file with torch's
    restricted loader only (an empty one is refused); --seed on an RLlib checkpoint is refused.
    The export of a real unit: tests/rl/test_seed_export.py."""
    from click.testing import CliRunner

    from marketsai.cli import main
    unit = tmp_path / "units" / "s0-7"
    unit.mkdir(parents=True)
    (unit / "dqn_batched.pt").write_bytes(b"")
    cli = CliRunner()
    done = cli.invoke(main, ["evaluate", str(unit)])
    assert done.exit_code == 1
    assert "is the checkpoint of the dqn_batched learner" in done.output
    assert "kind: learn with APPO, DQN, IMPALA, PPO, SAC, centralised_critic" in done.output
    assert "Export one seed first" in done.output and "warning" not in done.output
    done = cli.invoke(main, ["export", str(unit), "--seed", "0", "--out", str(tmp_path / "export")])
    assert done.exit_code == 1 and "by torch's restricted loader" in done.output and "EOFError" in done.output
    checkpoint = learn_run / "units" / "s3-3" / pd.read_parquet(learn_run / "results.parquet")["checkpoint"].iloc[0]
    done = cli.invoke(main, ["export", str(checkpoint), "--seed", "3", "--out", str(tmp_path / "export")])
    assert done.exit_code == 1 and "--seed = 3: --seed picks a seed of a seed-batched learner's unit" in done.output
    assert not (tmp_path / "export").exists()


def test_untrained_baseline_is_a_fresh_network_and_evaluates_like_the_trained_one():
    from marketsai.analysis.evaluations import run_evaluation
    from marketsai.learners import learners
    econ = mai.load_economy(DUOPOLY)
    settings = load_experiment(_learn(SETTINGS)).config["learner"]["settings"]
    ppo = learners.get("PPO")()
    first, again, other = (ppo.initial_policy(econ, settings, s) for s in (0, 0, 1))
    obs = econ.observe(econ.initial_state(np.random.default_rng(0), batch=64))["firm_0"]
    np.testing.assert_array_equal(first.act("firm_0", obs), again.act("firm_0", obs))  # torch seed 0 twice
    assert not np.array_equal(first.act("firm_0", obs), other.act("firm_0", obs)) or \
        not np.array_equal(first.act("firm_1", obs), other.act("firm_1", obs))
    out = run_evaluation("calvano", econ, first, {"untrained": True, "episodes": 2, "impulse_response": []},
                         learner=ppo, learner_settings=settings)
    pd.testing.assert_frame_equal(out.tables["results"], out.tables["results_untrained"])
