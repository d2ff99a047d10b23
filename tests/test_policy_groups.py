"""Issue 23, item 1: ``policies: group`` over agents whose parameters differ, or whose
observations cannot tell them apart, is a warning in ``marketsai validate`` and at run
start -- never silent."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import marketsai as mai
from marketsai.economy import Economy
from marketsai.errors import SpecWarning
from marketsai.policy_groups import shared_policy_warnings, warn_shared_policies
from marketsai.yamlio import read_yaml

ROOT = Path(__file__).resolve().parents[1]


def econ(name: str) -> Economy:
    return mai.load_economy(ROOT / "economies" / f"{name}.yaml")


def test_asymmetric_firms_in_one_group_are_named_with_what_differs():
    params, same_obs = shared_policy_warnings(econ("bertrand_oligopoly"), "group")
    assert params.startswith("group 'firm' shares one network among firm_0, firm_1, firm_2, whose "
                             "parameters differ (cost: 1.0, 0.9, 1.1; quality: 2.0, 1.9, 2.2)")
    assert "observations are identical" in same_obs and "policies: agent" in same_obs


def test_identical_firms_that_observe_the_same_history_cannot_be_told_apart():
    (msg,) = shared_policy_warnings(econ("bertrand_duopoly"), "group")
    assert "firm_0, firm_1" in msg and "observations are identical" in msg


@pytest.mark.parametrize("name", ["growth_market", "krusell_smith", "two_sector_labor"])
def test_households_that_observe_their_own_capital_share_a_policy_silently(name):
    assert shared_policy_warnings(econ(name), "group") == []


def test_one_policy_per_agent_or_separate_groups_are_silent():
    assert shared_policy_warnings(econ("bertrand_oligopoly"), "agent") == []
    data = read_yaml(ROOT / "economies" / "bertrand_oligopoly.yaml")
    for i, agent in enumerate(data["agents"]):
        agent["group"] = f"g{i}"
    assert shared_policy_warnings(Economy.from_dict(data), "group") == []


def test_validate_prints_them_as_warning_lines(tmp_path):
    from marketsai.cli import main
    exp = tmp_path / "olig.yaml"
    exp.write_text(yaml.safe_dump({
        "kind": "rllib", "economy": str(ROOT / "economies" / "bertrand_oligopoly.yaml"),
        "algorithm": {"name": "PPO"}, "resources": {"num_env_runners": 0},
        "stop": {"training_iteration": 1}}))
    result = CliRunner().invoke(main, ["validate", str(exp)])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("warning: policies: group 'firm'")]
    assert len(lines) == 2 and "Traceback" not in result.stderr


def test_run_start_warns_and_logs(caplog):
    config = {"policies": "group", "economy": econ("bertrand_duopoly").to_dict()}
    with pytest.warns(SpecWarning, match="observations are identical"):
        messages = warn_shared_policies(config, log=logging.getLogger("test"))
    assert len(messages) == 1 and messages[0] in caplog.text
    assert warn_shared_policies({"kind": "tabular", "economy": config["economy"]}) == []
