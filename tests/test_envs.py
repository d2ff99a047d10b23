"""Every shipped economy passes PettingZoo's and gymnasium's own API checkers and ours."""

import glob
from pathlib import Path

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test, parallel_seed_test

import marketsai as mai

ECONOMIES = sorted(glob.glob("economies/*.yaml"))


def test_there_are_shipped_economies():
    assert {"bertrand_duopoly", "bertrand_oligopoly", "cournot_duopoly", "monopolist"} <= \
        {Path(f).stem for f in ECONOMIES}


@pytest.mark.parametrize("path", ECONOMIES)
def test_pettingzoo_parallel_api(path):
    econ = mai.load_economy(path)
    parallel_api_test(econ.parallel_env(max_cycles=40), num_cycles=100)
    parallel_seed_test(lambda: econ.parallel_env(max_cycles=40))


@pytest.mark.parametrize("path", ECONOMIES)
def test_check_economy(path):
    mai.check_economy(mai.load_economy(path))


@pytest.mark.parametrize("path", [p for p in ECONOMIES if len(mai.load_economy(p).actors) == 1])
def test_gymnasium_check_env_single_agent(path):
    check_env(mai.load_economy(path).gymnasium_env(max_cycles=20), skip_render_check=True)


def test_gymnasium_env_refuses_several_agents():
    with pytest.raises(mai.SpecError, match="exactly one agent"):
        mai.load_economy("economies/bertrand_duopoly.yaml").gymnasium_env()


def test_observation_is_last_prices_scaled():
    econ = mai.load_economy("economies/bertrand_duopoly.yaml")
    env = econ.parallel_env(max_cycles=5)
    env.reset(seed=0)
    obs, *_ = env.step({"firm_0": 0, "firm_1": 14})
    assert np.allclose(obs["firm_0"], [-1.0, 1.0]) and np.allclose(obs["firm_1"], [-1.0, 1.0])
    raw = mai.Economy.from_dict({**econ.to_dict(), "agents": [
        {**a, "observation": {"memory": 2, "normalize": False}} for a in econ.to_dict()["agents"]]})
    env = raw.parallel_env(max_cycles=5)
    env.reset(seed=0)
    env.step({"firm_0": 1, "firm_1": 2})
    obs, *_ = env.step({"firm_0": 3, "firm_1": 4})
    g = raw.decisions[0].grid
    assert np.allclose(obs["firm_0"], [g[3], g[4], g[1], g[2]], atol=1e-6)


def test_continuous_actions_are_clipped_to_the_interval():
    econ = mai.load_economy("economies/bertrand_duopoly_continuous.yaml")
    env = econ.parallel_env(max_cycles=5)
    env.reset(seed=0)
    env.step({"firm_0": np.array([100.0], np.float32), "firm_1": np.array([1.6], np.float32)})
    assert np.isclose(env.last_outcome["price"][0], econ.decisions[0].high)
    assert np.isclose(env.last_outcome["price"][1], 1.6, atol=1e-6)


def test_rllib_adapter_is_a_new_api_stack_multi_agent_env():
    pytest.importorskip("ray")
    from ray.rllib.env.multi_agent_env import MultiAgentEnv
    creator = mai.load_economy("economies/bertrand_duopoly.yaml").rllib_env_creator()
    env = creator({"max_cycles": 3})
    assert isinstance(env, MultiAgentEnv)
    obs, _ = env.reset(seed=1)
    assert set(obs) == set(env.possible_agents) == set(env.observation_spaces) == set(env.action_spaces)
    for _ in range(3):
        obs, rew, term, trunc, _ = env.step({a: env.action_spaces[a].sample() for a in env.agents})
    assert trunc["__all__"] and not term["__all__"]
    import pickle
    assert pickle.loads(pickle.dumps(creator))({}).possible_agents == ["firm_0", "firm_1"]
