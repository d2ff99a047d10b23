"""The centralised critic: actors see their own observation, the critic sees everyone's."""

from __future__ import annotations

import numpy as np
import pytest
from rl_helpers import experiment

from marketsai.economy import Economy
from marketsai.rl.algorithms import build_config
from marketsai.rl.envs import register_economy
from marketsai.rl.spec import RLExperimentSpec

pytestmark = pytest.mark.rllib


@pytest.fixture(scope="module")
def algo(local_ray):
    spec = RLExperimentSpec.from_dict(experiment("centralised_critic", policies="agent"))
    econ = Economy.from_dict(spec.economy_dict())
    algo = build_config(spec, econ, register_economy(econ)).build_algo()
    yield algo
    algo.stop()


def _learner(algo):
    from marketsai.rl.rllib_internals import local_learner
    return local_learner(algo.learner_group)  # num_learners=0


def test_actor_and_critic_inputs_during_training(algo):
    """Forward hooks record the width of what each network really receives."""
    seen = {"actor": set(), "critic": set(), "runner_actor": set()}
    hooks = []
    learner_modules = _learner(algo).module
    for mid in ("firm_0", "firm_1"):
        m = learner_modules[mid]
        hooks.append(m.actor[0].register_forward_hook(
            lambda mod, inp, out: seen["actor"].add(inp[0].shape[-1])))
        hooks.append(m.vf[0].register_forward_hook(
            lambda mod, inp, out: seen["critic"].add(inp[0].shape[-1])))
        runner = algo.env_runner.module[mid]
        # decentralised execution: the acting copy has no critic at all
        assert not hasattr(runner, "vf")
        hooks.append(runner.actor[0].register_forward_hook(
            lambda mod, inp, out: seen["runner_actor"].add(inp[0].shape[-1])))
    try:
        result = algo.train()
    finally:
        for h in hooks:
            h.remove()
    obs_dim = 2  # last period's prices of both firms
    assert seen["actor"] == {obs_dim} and seen["runner_actor"] == {obs_dim}
    assert seen["critic"] == {2 * obs_dim + 2}  # both firms' observations + one-hot agent id
    for mid in ("firm_0", "firm_1"):
        assert result["learners"][mid]["central_critic_input_width"] == 2 * obs_dim + 2


def test_global_observation_lines_up_with_each_agents_rows(algo):
    from ray.rllib.core.columns import Columns

    from marketsai.rl.critic_module import GLOBAL_OBS

    learner = _learner(algo)
    episodes = algo.env_runner.sample(num_timesteps=40, random_actions=True)
    from marketsai.rl.rllib_internals import learner_connector
    batch = learner_connector(learner)(rl_module=learner.module, batch={}, episodes=episodes,
                                       shared_data={}, metrics=learner.metrics)
    for i, mid in enumerate(("firm_0", "firm_1")):
        obs = batch[mid][Columns.OBS].numpy()
        glob = batch[mid][GLOBAL_OBS].numpy()
        assert glob.shape == (obs.shape[0], 6)
        assert np.all(glob[:, 4 + i] == 1.0) and np.all(glob[:, 4 + 1 - i] == 0.0)
        # the agent's own observation sits in its slot of the global observation
        np.testing.assert_array_equal(glob[:, 2 * i:2 * i + 2], obs)
        # advantages come from the central value: present and finite
        assert np.isfinite(batch[mid]["advantages"].numpy()).all()
    # the rival's slot holds the rival's observation at the same period (here: identical
    # observations, since both firms see both last prices)
    np.testing.assert_array_equal(batch["firm_0"][GLOBAL_OBS].numpy()[:, :4],
                                  batch["firm_1"][GLOBAL_OBS].numpy()[:, :4])


def test_critic_refuses_batches_without_global_observation(algo):
    import torch
    from ray.rllib.core.columns import Columns
    module = _learner(algo).module["firm_0"]
    with pytest.raises(KeyError, match="global_obs"):
        module.compute_values({Columns.OBS: torch.zeros(3, 2)})
