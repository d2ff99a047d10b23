"""Experiment files: clear errors for wrong algorithms and settings (no RLlib traceback)."""

from __future__ import annotations

import pytest
from rl_helpers import DUOPOLY, experiment

from marketsai.errors import SpecError
from marketsai.rl.spec import RLExperimentSpec, load_rl_experiment

pytestmark = pytest.mark.rllib


def test_wrong_algorithm_name_names_field_and_nearest():
    data = experiment("PPO")
    data["algorithm"]["name"] = "ppo2"
    with pytest.raises(SpecError) as err:
        RLExperimentSpec.from_dict(data)
    assert err.value.path == "algorithm.name"
    assert "did you mean 'PPO'" in str(err.value)
    assert "centralised_critic" in str(err.value)


def test_unknown_setting_names_nearest_attributes():
    from marketsai.rl.algorithms import check_settings
    with pytest.raises(SpecError) as err:
        check_settings("PPO", {"learning_rate": 1e-3, "lr": 1e-3})
    assert err.value.path == "algorithm.settings.learning_rate"
    with pytest.raises(SpecError) as err:
        check_settings("DQN", {"train_batch_size_per_lerner": 32})
    assert "train_batch_size_per_learner" in str(err.value)


def test_setting_of_wrong_type_and_reserved_keys():
    from marketsai.rl.algorithms import check_settings
    with pytest.raises(SpecError, match="wrong type") as err:
        check_settings("SAC", {"tau": "fast"})
    assert err.value.path == "algorithm.settings.tau"
    with pytest.raises(SpecError, match="resources") as err:
        check_settings("PPO", {"num_env_runners": 2})
    assert err.value.path == "algorithm.settings.num_env_runners"


def test_settings_merge_over_small_machine_defaults():
    from marketsai.rl.algorithms import check_settings
    merged = check_settings("DQN", {"replay_buffer_config": {"capacity": 1000}, "lr": 1e-4})
    assert merged["replay_buffer_config"] == {"type": "MultiAgentEpisodeReplayBuffer", "capacity": 1000}
    assert merged["lr"] == 1e-4


def test_num_env_runners_must_be_explicit_and_stop_nonempty():
    data = experiment("PPO", resources={})
    with pytest.raises(SpecError) as err:
        RLExperimentSpec.from_dict(data)
    assert err.value.path == "resources.num_env_runners"
    with pytest.raises(SpecError) as err:
        RLExperimentSpec.from_dict(experiment("PPO", stop={"training_iteration": None}))
    assert err.value.path == "stop"


def test_algorithm_that_cannot_take_interval_actions():
    from rl_helpers import continuous_duopoly

    from marketsai.economy import Economy
    from marketsai.rl.algorithms import build_config
    spec = RLExperimentSpec.from_dict(experiment("DQN", economy=continuous_duopoly()))
    with pytest.raises(SpecError, match="cannot learn 'interval' actions") as err:
        build_config(spec, Economy.from_dict(spec.economy_dict()), "unused")
    assert "SAC" in err.value.allowed


def test_dqn_and_sac_refuse_several_grid_decisions_of_one_agent():
    """RLlib's DQN and SAC modules take one Discrete action: a planner with two grid
    decisions (a MultiDiscrete action) is refused by name, not by RLlib's module builder in
    the first trial; one grid decision is accepted, and PPO takes several."""
    from pathlib import Path

    from marketsai.economy import Economy
    from marketsai.learners import learners
    from marketsai.yamlio import read_yaml

    data = read_yaml(Path(__file__).resolve().parents[2] / "economies" / "sectors_2.yaml")
    data["agents"][0]["action"].update(kind="grid", points=5)
    two = Economy.from_dict(data)
    data["agents"][0]["params"]["alphas"] = [0.36]
    one = Economy.from_dict(data)
    for name in ("DQN", "SAC"):
        with pytest.raises(SpecError, match="one grid decision per agent") as err:
            learners.get(name)().check_actions(two)
        assert "'planner' has 2 (s1, s2: a MultiDiscrete action)" in str(err.value)
        assert err.value.path == "algorithm.name" and "PPO" in err.value.allowed
        learners.get(name)().check_actions(one)
    learners.get("PPO")().check_actions(two)


def test_file_overrides_and_relative_economy(tmp_path):
    import yaml
    (tmp_path / "econ").mkdir()
    (tmp_path / "econ" / "d.yaml").write_text(DUOPOLY.read_text())
    data = experiment("PPO", economy="econ/d.yaml")
    f = tmp_path / "exp.yaml"
    f.write_text(yaml.safe_dump(data))
    spec = load_rl_experiment(f, ["algorithm.settings.lr=1e-3", "seeds=[3, 4]"])
    assert spec.settings["lr"] == 1e-3 and spec.seeds == (3, 4)
    assert spec.economy_dict()["name"] == "bertrand_duopoly"
    with pytest.raises(SpecError) as err:
        load_rl_experiment(f, ["algorithm.settings"])
    assert err.value.path == "--set"


def test_rl_schema_is_the_runners_dialect(tmp_path):
    """One schema dialect: kind rllib's keys are the runner's Param declarations, and the
    runner and the RLlib front end resolve a file (and its --set) to the same config."""
    import yaml

    from marketsai.params import Param
    from marketsai.rl.spec import RL_SCHEMA
    from marketsai.runner import get_kind, load_experiment
    from marketsai.runner.schema import describe_schema

    kind = get_kind("rllib")
    assert kind.schema is RL_SCHEMA

    def leaves(schema):
        for decl in schema.values():
            yield from leaves(decl) if isinstance(decl, dict) else [decl]
    assert all(isinstance(p, Param) for p in leaves(RL_SCHEMA))
    assert {row[0]: row[1] for row in describe_schema(RL_SCHEMA)}["algorithm.settings"] == "{}"
    f = tmp_path / "exp.yaml"
    f.write_text(yaml.safe_dump(experiment("PPO", seeds=[3, 4])))
    sets = {"economy.markets[0].params.mu": 0.3, "algorithm.settings.lr": 1e-3}
    via_runner = load_experiment(f, sets)
    spec = load_rl_experiment(f, ["economy.markets[0].params.mu=0.3", "algorithm.settings.lr=1e-3"])
    assert spec.to_dict() == via_runner.config
    assert spec.economy["markets"][0]["params"]["mu"] == 0.3 and spec.settings["lr"] == 1e-3
    assert [u.params["seed"] for _, u, _ in via_runner.units()] == [3, 4]
    # a file's mapping without the economy read (from_dict) round-trips through to_dict
    raw = RLExperimentSpec.from_dict(experiment("PPO"))
    assert RLExperimentSpec.from_dict(raw.to_dict()).to_dict() == raw.to_dict()
    assert raw.seeds == (0,) and raw.stop == {"training_iteration": 1}


def test_bad_keys_name_the_field(tmp_path):
    import yaml

    f = tmp_path / "exp.yaml"
    f.write_text(yaml.safe_dump(experiment("PPO")))
    for sets, path in ((["learner.lr=1e-4"], "learner"), (["algorithm.setings.lr=1"], "algorithm.setings"),
                       (["env.session=4"], "env.session"), (["seeds=[1, 1]"], "seeds"),
                       (["stop.training_iteration=null"], "stop")):
        with pytest.raises(SpecError) as err:
            load_rl_experiment(f, sets)
        assert err.value.path == path, (sets, err.value)
