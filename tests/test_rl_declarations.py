"""RLlib settings and the cross-field rules of ``kind: rllib`` in the one dialect of
:mod:`marketsai.params` (``Param`` declarations and ``Rule`` s; no ray import)."""

from __future__ import annotations

import pytest

from marketsai.errors import SpecError
from marketsai.params import (
    UNSET,
    Param,
    Rule,
    check_rules,
    or_null,
    positive_int,
    validate_mapping,
)
from marketsai.rl import numeric
from marketsai.rl.spec import REPLAY_RULES, RULES, RLExperimentSpec
from marketsai.runner.schema import resolve


def _experiment(**changes) -> dict:
    data = {"kind": "rllib", "economy": "duopoly.yaml", "algorithm": {"name": "PPO"},
            "stop": {"training_iteration": 2}, "resources": {"num_env_runners": 0}}
    for key, value in changes.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return data


def _error(data) -> SpecError:
    with pytest.raises(SpecError) as err:
        RLExperimentSpec.from_dict(data)
    return err.value


def test_a_rule_names_the_path_the_value_the_reason_and_what_is_allowed():
    rule = Rule("a.tail", lambda c: c["a"]["tail"] <= c["a"]["periods"], lambda c: f"tail > {c['a']['periods']}",
                lambda c: f"<= {c['a']['periods']}", when=lambda c: c["on"])
    check_rules({"on": False, "a": {"tail": 9, "periods": 5}}, [rule])  # `when` is false: not checked
    check_rules({"on": True, "a": {"tail": 5, "periods": 5}}, [rule])
    with pytest.raises(SpecError) as err:
        check_rules({"on": True, "a": {"tail": 9, "periods": 5}}, [rule], file="f.yaml")
    assert (err.value.path, err.value.value, err.value.reason, err.value.allowed, err.value.file) == \
        ("a.tail", 9, "tail > 5", "<= 5", "f.yaml")


def test_or_null_keeps_the_check_and_its_reason():
    check = or_null(numeric.SETTINGS["lr"].check)
    assert check(None) and check(0.1) and not check(-1.0)
    assert check.allowed.startswith("null or a number in (0, 1]") and check.reason == "out of range"
    assert or_null(positive_int).allowed == "null or an integer >= 1"


def test_an_unset_default_is_never_filled_in():
    declared = {"lr": Param(UNSET, positive_int, "owned by another library"), "n": Param(3, positive_int)}
    assert resolve({}, declared) == {"n": 3}
    assert validate_mapping({}, declared, "x", "x") == {"n": 3}
    assert resolve({"lr": 2}, declared) == {"lr": 2, "n": 3}
    with pytest.raises(SpecError, match="x.lr = 0"):
        validate_mapping({"lr": 0}, declared, "x", "x")


def test_every_rllib_setting_is_a_documented_param_with_rllibs_default():
    for table in (numeric.SETTINGS, numeric.MODEL, numeric.REPLAY):
        for name, param in table.items():
            assert isinstance(param, Param) and param.default is UNSET, name
            assert param.doc and param.check.allowed, name


@pytest.mark.parametrize(("section", "key", "value", "path"), [
    ("algorithm", "settings", {"gamma": 1.5}, "algorithm.settings.gamma"),
    ("algorithm", "settings", {"minibatch_size": 500, "train_batch_size_per_learner": 100},
     "algorithm.settings.minibatch_size"),
    ("algorithm", "model", {"lstm_cell_size": 0}, "algorithm.model.lstm_cell_size"),
    ("algorithm", "settings", {"replay_buffer_config": {"capacity": 0}},
     "algorithm.settings.replay_buffer_config.capacity"),
])
def test_rllib_settings_are_checked_by_their_declarations(section, key, value, path):
    err = _error(_experiment(algorithm={"name": "PPO", key: value}))
    assert err.path == path and err.has_value and err.allowed


@pytest.mark.parametrize(("changes", "path", "reason"), [
    ({"stop": {"training_iteration": None}}, "stop", "no stop condition set"),
    ({"env": {"sessions": 4}, "resources": {"num_env_runners": 0, "num_envs_per_env_runner": 2}},
     "resources.num_envs_per_env_runner", "leave num_envs_per_env_runner at 1"),
    ({"env": {"stacked": True}}, "env.stacked", "needs env.sessions"),
    ({"env": {"sessions": 4, "stacked": True, "block": 3}}, "env.block", "a divisor of env.sessions"),
    ({"evaluation": {"periods": 10, "tail": 20}}, "evaluation.tail", "tail must not exceed periods"),
    ({"seeds": [1, 2, 1]}, "seeds", "a seed appears twice"),
])
def test_each_rule_of_kind_rllib_fails_on_its_field(changes, path, reason):
    err = _error(_experiment(**changes))
    assert err.path == path and reason in err.reason


def test_the_replay_rules_apply_to_the_replay_path_only():
    replay = {"env": {"sessions": 2, "stacked": True}, "policies": "agent"}
    err = _error(_experiment(algorithm={"name": "DQN", "settings": {"n_step": 3}}, **replay))
    assert err.path == "algorithm.settings.n_step" and "sessions replay path of DQN" in err.reason
    err = _error(_experiment(algorithm={"name": "SAC"}, resources={"num_env_runners": 0, "num_learners": 1},
                             **replay))
    assert err.path == "resources.num_learners" and err.allowed == "0"
    # the per-agent path of DQN takes n-step returns and remote learners
    RLExperimentSpec.from_dict(_experiment(algorithm={"name": "DQN", "settings": {"n_step": 3}},
                                           resources={"num_env_runners": 0, "num_learners": 1}))
    assert all(rule.when is not None for rule in REPLAY_RULES) and all(rule.when is None for rule in RULES)


def test_kind_learn_checks_rllib_settings_with_the_same_declarations():
    from marketsai.learners import learners
    from marketsai.runner.config import describe_defaults

    ppo = learners.get("PPO")
    assert ppo.settings["lr"] is numeric.SETTINGS["lr"]
    with pytest.raises(SpecError) as err:
        resolve({"lr": -1.0, "resources": {"num_env_runners": 0}}, ppo.settings, "learner.settings")
    assert err.value.path == "learner.settings.lr" and "schedule" in err.value.allowed
    text = describe_defaults()
    assert "learner.settings.lr" in text and "learning rate" in text
    ppo_block = text[text.index("learner PPO"):text.index("learner SAC")]
    assert "0.0003 (ours)" in ppo_block and "our default replay_buffer_config" not in ppo_block
    assert "our default replay_buffer_config" in text[text.index("learner DQN"):text.index("learner IMPALA")]
