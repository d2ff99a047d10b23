"""Every algorithm trains on the duopoly through our config builder (new API stack)."""

from __future__ import annotations

import pytest
from rl_helpers import continuous_duopoly, experiment

from marketsai.economy import Economy
from marketsai.rl.algorithms import build_config
from marketsai.rl.envs import register_economy
from marketsai.rl.spec import RLExperimentSpec

pytestmark = pytest.mark.rllib

CASES = [("DQN", "grid", "group"), ("SAC", "grid", "group"), ("SAC", "interval", "group"),
         ("PPO", "grid", "agent"), ("PPO", "interval", "group"),
         ("centralised_critic", "grid", "group")]


#: off-policy updates per sampled step, here 1 in 8 (RLlib's natural ratio is one 32-row update per
#: step): two iterations still update every policy, in a few seconds rather than a minute
#: (continuous SAC's update is about 0.1 s on 2 cores)
LIGHT = {"DQN": {"training_intensity": 4}, "SAC": {"training_intensity": 4}}


def build(algorithm, action="grid", policies="group", **overrides):
    economy = continuous_duopoly() if action == "interval" else None
    data = experiment(algorithm, economy=economy, policies=policies, **overrides)
    data["algorithm"]["settings"].update(LIGHT.get(algorithm, {}))
    spec = RLExperimentSpec.from_dict(data)
    econ = Economy.from_dict(spec.economy_dict())
    config = build_config(spec, econ, register_economy(econ))
    return spec, econ, config


@pytest.mark.parametrize("algorithm, action, policies", CASES,
                         ids=[f"{a}-{k}-{p}" for a, k, p in CASES])
def test_trains_two_iterations(local_ray, algorithm, action, policies):
    spec, econ, config = build(algorithm, action, policies)
    assert config.enable_rl_module_and_learner and config.enable_env_runner_and_connector_v2
    assert config.num_env_runners == 0
    algo = config.build_algo()
    try:
        results = [algo.train() for _ in range(2)]
    finally:
        algo.stop()
    last = results[-1]
    assert last["training_iteration"] == 2
    assert last["num_env_steps_sampled_lifetime"] >= 2 * 200
    expected = set(econ.agents) if policies == "agent" else {"firm"}
    assert expected <= set(last["learners"])  # every policy was updated
