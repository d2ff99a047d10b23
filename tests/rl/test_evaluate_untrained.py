"""The untrained baseline of an RLlib learner: its freshly built modules, through the one
calvano evaluation (no training, no Ray cluster)."""

from __future__ import annotations

import numpy as np

import marketsai as mai
from marketsai.analysis.calvano import tabulate
from marketsai.analysis.evaluations import run_evaluation
from marketsai.rl.export import untrained_policies
from marketsai.rl.spec import load_rl_experiment


class PPOLearner:
    """What an RLlib learner's ``initial_policy`` does (the hook the evaluation asks)."""

    def __init__(self, spec):
        self.spec = spec

    def initial_policy(self, economy, settings, seed):
        return untrained_policies(self.spec, economy, seed)


def test_untrained_ppo_is_evaluated_like_a_trained_one():
    spec = load_rl_experiment("experiments/tabular_vs_deep/ppo.yaml")
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
