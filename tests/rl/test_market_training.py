"""A few RLlib iterations on the market economies: N = 10 households as one policy, stepped
with their sessions as one VectorEnv (``env.sessions``); the competitive firms do not act."""

from __future__ import annotations

import numpy as np
import pytest
from rl_helpers import ROOT, experiment

import marketsai as mai
from marketsai.rl.spec import RLExperimentSpec

GROWTH = ROOT / "economies" / "growth_market.yaml"
TWO_SECTOR = ROOT / "economies" / "two_sector_labor.yaml"


def _train(algorithm: str, path, iterations: int = 2, sessions: int = 2):
    """``(results, module, econ)`` after ``iterations`` of a tiny ``algorithm`` experiment."""
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import register_economy
    econ = mai.load_economy(path)
    assert len(econ.actors) == 10 and len(econ.agents) > 10  # households act, firms do not
    data = experiment(algorithm, economy=str(path), env={"sessions": sessions, "max_cycles": 20})
    data["algorithm"]["settings"]["gamma"] = econ.discount
    if algorithm == "PPO":
        data["algorithm"]["settings"]["vf_clip_param"] = 1000.0
    config = build_config(RLExperimentSpec.from_dict(data), econ, register_economy(econ))
    assert config.num_envs_per_env_runner == sessions * 10
    algo = config.build_algo()
    try:
        results = [algo.train() for _ in range(iterations)]
        module = algo.get_module()
    finally:
        algo.stop()
    return results, module, econ


def _losses(result, keys):
    learner = result["learners"]["default_policy"]
    return [float(learner[k]) for k in keys if k in learner]


@pytest.mark.rllib
@pytest.mark.parametrize("algorithm,keys", [("PPO", ("total_loss", "policy_loss", "vf_loss")),
                                            ("SAC", ("actor_loss", "critic_loss", "alpha_loss"))])
def test_households_train_on_the_growth_market(local_ray, algorithm, keys):
    from marketsai.analysis.households import household_observations, household_share
    from marketsai.rl.policy import module_actor
    results, module, econ = _train(algorithm, GROWTH)
    assert results[-1]["num_env_steps_sampled_lifetime"] > 0
    losses = _losses(results[-1], keys)
    assert losses and np.all(np.isfinite(losses))
    k_ss = econ.entries[0].kind.k_steady
    obs = household_observations(econ, np.array([0.9, 1.0, 1.1]) * k_ss, k_ss, np.array([0, 2, 4]))
    act = module_actor(module)
    assert act(obs).shape == (3, 1)
    s = household_share(econ, act)(np.array([0.9, 1.1]) * k_ss, k_ss, 2)
    assert s.shape == (2,) and np.all(np.isfinite(s))  # in bounds by construction (clip)


def test_household_share_evaluates_a_known_policy():
    """``household_share`` builds each household's observation at ``(k, K, iz)`` and reads the
    policy's share there: the exact price-taking rule, acting on those observations, comes
    back as the closed form at every point; a constant alpha*beta policy, or one that reads
    mean capital where own capital is, does not."""
    from marketsai.analysis.households import (
        competitive_share,
        exact_household_actor,
        household_share,
    )
    econ = mai.load_economy(GROWTH)
    k_ss = econ.entries[0].kind.k_steady
    k = np.array([0.8, 0.9, 1.0, 1.1, 1.25]) * k_ss
    K = np.array([1.0, 0.9, 1.15, 0.95, 1.1]) * k_ss
    iz = np.array([0, 1, 2, 3, 4])
    exact = competitive_share(econ)(k, K)
    np.testing.assert_allclose(household_share(econ, exact_household_actor(econ))(k, K, iz), exact,
                               rtol=0, atol=1e-6)
    alpha_beta = competitive_share(econ)(1.0, 1.0)
    constant = household_share(econ, lambda obs: np.full((len(obs), 1), alpha_beta))(k, K, iz)
    assert np.max(np.abs(constant - exact)) > 0.02
    mean_only = household_share(econ, lambda obs: exact_household_actor(econ)(obs[:, ::-1]))(k, K, iz)
    assert np.max(np.abs(mean_only - exact)) > 0.02


@pytest.mark.rllib
def test_households_choose_savings_and_hours_in_the_two_sector_economy(local_ray):
    from marketsai.rl.policy import module_actor
    results, module, econ = _train("PPO", TWO_SECTOR)
    assert results[-1]["num_env_steps_sampled_lifetime"] > 0
    losses = _losses(results[-1], ("total_loss", "policy_loss", "vf_loss"))
    assert losses and np.all(np.isfinite(losses))
    env = econ.vector_env(sessions=1)
    assert env.single_action_space.shape == (2,)  # savings share and hours
    obs, _ = env.reset(seed=0)
    a = module_actor(module)(obs)
    assert a.shape == (10, 2) and np.all(np.isfinite(a))  # in the action space by construction
