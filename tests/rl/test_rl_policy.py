"""RLlib modules as policies in economy units (the one action transform) and the untrained
baseline of an RLlib learner: its freshly built modules, through the one calvano
evaluation (no training, no Ray cluster)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import marketsai as mai
from marketsai.analysis.calvano import tabulate
from marketsai.analysis.evaluations import run_evaluation
from marketsai.analysis.growth_policy import observations
from marketsai.policies import TablePolicy
from marketsai.rl.export import untrained_policies
from marketsai.rl.policy import module_actor
from marketsai.rl.spec import load_rl_experiment


class PPOLearner:
    """What an RLlib learner's ``initial_policy`` does (the hook the evaluation asks)."""

    def __init__(self, spec):
        self.spec = spec

    def initial_policy(self, economy, settings, seed):
        return untrained_policies(self.spec, economy, seed)


def test_untrained_ppo_is_evaluated_like_a_trained_one():
    spec = load_rl_experiment("tests/files/rllib_ppo_duopoly.yaml")
    econ = mai.Economy.from_dict(spec.economy_dict())
    a, b = untrained_policies(spec, econ, seed=0), untrained_policies(spec, econ, seed=0)
    game = econ.finite_game()
    np.testing.assert_array_equal(tabulate(econ, a, game), tabulate(econ, b, game))  # seeded
    assert not np.array_equal(tabulate(econ, a, game), tabulate(econ, untrained_policies(spec, econ, 1), game))
    out = run_evaluation("calvano", econ, a, {"episodes": 3, "untrained": True, "impulse_response": []},
                         learner=PPOLearner(spec))
    assert list(out.tables["results_untrained"].columns) == list(out.tables["results"].columns)
    # the policy and its learner's start are the same fresh network (seed 0)
    assert out.summary["untrained"]["profit_gain"] == out.summary["profit_gain"]
    # a network and the Q-table it tabulates to: the same columns and the same numbers
    table = TablePolicy(econ.actors, tabulate(econ, a, game))
    same = run_evaluation("calvano", econ, table, {"episodes": 3, "impulse_response": []})
    pd.testing.assert_frame_equal(same.tables["results"], out.tables["results"])


@pytest.mark.rllib
def test_module_actor_is_the_unsquashed_mean_of_a_ppo_module():
    econ = mai.load_economy("economies/brock_mirman_share.yaml")
    torch = pytest.importorskip("torch")
    from ray.rllib.algorithms.ppo import PPOConfig
    env = econ.vector_env(sessions=1)
    spec = PPOConfig().rl_module(model_config={"fcnet_hiddens": [8]}).get_rl_module_spec(
        env=None, spaces={"default_policy": (env.single_observation_space, env.single_action_space)})
    module = spec.build()
    obs = observations(econ, np.linspace(0.1, 0.3, 7), np.arange(7) % 5)
    with torch.no_grad():
        mean = module.forward_inference({"obs": torch.as_tensor(obs)})["action_dist_inputs"][:, :1].numpy()
    space = env.single_action_space
    expected = np.clip(space.low + (mean + 1.0) * (space.high - space.low) / 2.0, space.low, space.high)
    np.testing.assert_allclose(module_actor(module)(obs), expected, rtol=1e-6)
    np.testing.assert_allclose(module_actor(module, normalize_actions=False)(obs),
                               np.clip(mean, space.low, space.high), rtol=1e-6)
