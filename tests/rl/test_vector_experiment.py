"""``env: {sessions: N}`` in kind: rllib experiments: validation, the config, and training."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from rl_helpers import DUOPOLY, ROOT, experiment

import marketsai as mai
from marketsai.errors import SpecError
from marketsai.limits import MAX_SESSIONS
from marketsai.rl.spec import RLExperimentSpec

PLANNER = ROOT / "economies" / "brock_mirman.yaml"
SHARE = ROOT / "economies" / "brock_mirman_share.yaml"


def _spec(algorithm="PPO", economy=None, **overrides):
    return RLExperimentSpec.from_dict(experiment(algorithm, economy=economy or str(SHARE), **overrides))


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "64", MAX_SESSIONS + 1])
def test_sessions_must_be_a_positive_bounded_integer(bad):
    with pytest.raises(SpecError) as err:
        _spec(env={"max_cycles": 50, "sessions": bad})
    assert err.value.path == "env.sessions"


def test_env_keys_are_checked_and_defaults_visible():
    with pytest.raises(SpecError) as err:
        _spec(env={"session": 4})
    assert err.value.path == "env.session" and "sessions" in str(err.value)
    assert _spec(env={}).env == {"max_cycles": 1000, "sessions": None, "stacked": False, "block": 1,
                                 "common_shocks": False, "block_baseline": False,
                                 "peer_baseline": None}
    assert _spec(env={"sessions": 8}).to_dict()["env"] == {"max_cycles": 1000, "sessions": 8, "stacked": False, "block": 1,
                                                         "common_shocks": False, "block_baseline": False,
                                                         "peer_baseline": None}


def test_sessions_and_num_envs_per_env_runner_do_not_mix():
    with pytest.raises(SpecError) as err:
        _spec(env={"sessions": 8}, resources={"num_env_runners": 0, "num_envs_per_env_runner": 4})
    assert err.value.path == "resources.num_envs_per_env_runner"


def _two_groups() -> dict:
    econ = yaml.safe_load(DUOPOLY.read_text())
    firm = econ["agents"][0]
    econ["agents"] = [{**copy.deepcopy(firm), "name": "a", "count": 1, "group": "incumbent"},
                      {**copy.deepcopy(firm), "name": "b", "count": 1, "group": "entrant"}]
    econ["markets"][0]["participants"] = ["a", "b"]
    return econ


@pytest.mark.rllib
def test_build_config_refuses_what_one_module_cannot_learn():
    from marketsai.rl.algorithms import build_config
    econ = mai.Economy.from_dict(_two_groups())
    spec = _spec(economy=_two_groups(), env={"sessions": 4})
    with pytest.raises(SpecError, match="one policy group") as err:
        build_config(spec, econ, "x")
    assert err.value.path == "env.sessions"
    duo = mai.load_economy(DUOPOLY)
    with pytest.raises(SpecError) as err:
        build_config(_spec(economy=str(DUOPOLY), env={"sessions": 4}, policies="agent"), duo, "x")
    assert err.value.path == "policies"
    with pytest.raises(SpecError) as err:
        build_config(_spec("centralised_critic", economy=str(DUOPOLY), env={"sessions": 4}), duo, "x")
    assert err.value.path == "env.sessions"


@pytest.mark.rllib
def test_config_samples_sessions_times_agents_through_the_vector_env():
    from marketsai.rl.algorithms import build_config
    duo = mai.load_economy(DUOPOLY)
    config = build_config(_spec(economy=str(DUOPOLY), env={"sessions": 6, "max_cycles": 20}), duo, "env")
    assert config.env == "env-vector" and config.gym_env_vectorize_mode == "vector_entry_point"
    assert config.num_envs_per_env_runner == 12 and not config.is_multi_agent
    per_agent = build_config(_spec(economy=str(DUOPOLY)), duo, "env")
    assert per_agent.env == "env" and per_agent.is_multi_agent


@pytest.mark.rllib
def test_marketsai_train_runs_the_planner_through_the_vector_env(tmp_path):
    """Two PPO iterations on Brock-Mirman (grid k') with 8 sessions; the single module is
    then read as a savings rule on the capital grid."""
    from marketsai.analysis.growth_policy import policy_savings
    from marketsai.rl.export import load_module
    from marketsai.rl.policy import module_actor
    f = tmp_path / "ppo.yaml"
    data = experiment("PPO", economy=str(PLANNER), env={"max_cycles": 25, "sessions": 8},
                      stop={"training_iteration": 2})
    data.pop("evaluation")
    f.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    proc = subprocess.run([sys.executable, "-m", "marketsai.cli", "train", str(f), "--out", str(out),
                           "--num-cpus", "2", "--quiet"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    trials = pd.read_csv(out / "trials.csv")
    assert trials["iterations"].tolist() == [2]
    assert trials["env_steps"][0] >= 2 * 200
    assert "-vector" in trials["trial"][0]  # the batched creator's registered name
    econ = mai.load_economy(PLANNER)
    with pytest.warns(UserWarning, match="raw RLlib checkpoint"):
        module = load_module(trials["checkpoint"][0])
    savings = policy_savings(econ, module_actor(module))
    k = np.linspace(0.8, 1.2, 9) * econ.entries[0].kind.steady_state()
    kp = savings(k[None, :], np.arange(5)[:, None])
    assert kp.shape == (5, 9) and np.all(np.isin(kp, econ.decisions[0].grid))


@pytest.mark.rllib
def test_replay_learners_get_a_single_agent_buffer_and_train(local_ray):
    """SAC through the vector env: the default multi-agent episode buffer is swapped for the
    single-agent one (RLlib's MultiAgentEpisodeReplayBuffer cannot hold its episodes)."""
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import register_economy
    econ = mai.load_economy(SHARE)
    spec = _spec("SAC", env={"sessions": 4, "max_cycles": 20})
    config = build_config(spec, econ, register_economy(econ))
    assert config.replay_buffer_config["type"] == "EpisodeReplayBuffer"
    assert config.replay_buffer_config["capacity"] == 50_000  # the rest of our default kept
    algo = config.build_algo()
    try:
        result = algo.train()
    finally:
        algo.stop()
    assert result["num_env_steps_sampled_lifetime"] >= 200
    per_agent = build_config(_spec("SAC", env={"max_cycles": 20}), econ, "env")
    assert per_agent.replay_buffer_config["type"] == "MultiAgentEpisodeReplayBuffer"
