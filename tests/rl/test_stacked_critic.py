"""A centralised critic over a stacked population (Krusell–Smith households).

The actor sees the household's own observation; the critic, on the learner only, also
sees the economy's aggregate state (the shock, employment rate, mean and spread of
capital), whose width does not depend on the number of households.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import marketsai as mai
from marketsai.rl.rllib_internals import local_learner

torch = pytest.importorskip("torch")

KS = "economies/krusell_smith.yaml"


def _ks(n: int) -> mai.Economy:
    d = mai.load_economy(KS).to_dict()
    d["agents"][0]["count"] = n
    return mai.Economy.from_dict(d)


def _experiment(n: int) -> dict:
    """A tiny stacked centralised-critic experiment on KS with ``n`` households (inline economy)."""
    import rl_helpers
    exp = rl_helpers.experiment("PPO", economy=_ks(n).to_dict(),
                                env={"max_cycles": 20, "sessions": 2, "stacked": True})
    exp["algorithm"] = {"name": "centralised_critic",
                        "settings": {"train_batch_size_per_learner": 40, "minibatch_size": 40, "num_epochs": 1},
                        "model": {"fcnet_hiddens": [16, 16]}}
    exp["evaluation"] = {"episodes": 1, "periods": 10, "tail": 5, "impulse_periods": 2}
    return exp


def test_critic_state_is_each_rows_sessions_aggregate_state():
    econ = _ks(10)
    env = econ.stacked_env(sessions=4, max_cycles=5, block=2, critic_state=True)
    obs, info = env.reset(seed=1)
    rng = np.random.default_rng(0)
    for _ in range(3):
        obs, _, _, _, info = env.step(rng.uniform(0.7, 0.995, (2, 20)).astype(np.float32))
    agg = econ.observer.aggregate(env.inner.economy_state, normalize=True)  # (4 sessions, s)
    cs = info["critic_state"]  # (2 sub-envs, 2 x 10 rows, s)
    assert cs.shape == (2, 20, agg.shape[1])
    for b in range(2):
        for j in range(2):
            np.testing.assert_array_equal(cs[b, j * 10:(j + 1) * 10], np.broadcast_to(agg[2 * b + j], (10, agg.shape[1])))
    # z, employment rate, mean k and its spread: mean k of the critic state is the observed moment
    raw = econ.state(env.inner.economy_state)
    k = env.inner.economy_state.fields["household.k"]
    np.testing.assert_allclose(raw[:, -2], k.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(raw[:, -1], k.std(axis=1), rtol=1e-4)
    from marketsai.dynamics import exo_values
    exo = exo_values(econ, env.inner.economy_state)
    np.testing.assert_allclose(raw[:, 0], exo["z"])
    np.testing.assert_allclose(raw[:, 1], np.asarray(exo["e"]).mean(axis=1))  # the employment rate


def test_critic_input_width_is_the_same_for_10_and_1000_households():
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import register_economy
    from marketsai.rl.spec import RLExperimentSpec

    widths = {}
    for n in (10, 1000):
        econ = _ks(n)
        config = build_config(RLExperimentSpec.from_dict(_experiment(n)), econ, register_economy(econ))
        assert config.env_config["critic_state"] is True
        env = econ.stacked_env(sessions=1, max_cycles=2)
        spec = dataclasses.replace(config.rl_module_spec, observation_space=env.single_observation_space,
                                   action_space=env.single_action_space)
        module = spec.build()
        widths[n] = (module.pi[0][0].in_features, module.vf[0][0].in_features)
    # own observation (k, e, z, mean k) for the actor; plus (z, employment rate, mean k, sd k) for the critic
    assert widths[10] == widths[1000] == (4, 8)


def _module(critic_state_dim: int, inference_only: bool = False, n: int = 3, d: int = 4):
    import gymnasium as gym
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    from marketsai.rl.stacked import RowModule
    spec = RLModuleSpec(module_class=RowModule,
                        observation_space=gym.spaces.Box(-1, 1, (n, d), np.float32),
                        action_space=gym.spaces.Box(0, 1, (n,), np.float32),
                        model_config={"fcnet_hiddens": [8], "critic_state_dim": critic_state_dim},
                        inference_only=inference_only)
    return spec.build()


def test_actor_reads_the_own_observation_only_and_env_runners_hold_no_critic():
    from ray.rllib.core.columns import Columns

    from marketsai.rl.critic_module import GLOBAL_OBS
    module = _module(critic_state_dim=2)
    assert module.vf[0][0].in_features == 4 + 2 and module.pi[0][0].in_features == 4
    runner_side = _module(critic_state_dim=2, inference_only=True)
    assert not hasattr(runner_side, "vf")  # acting cannot depend on the critic's inputs
    obs = torch.zeros((5, 4))
    g1 = torch.cat([obs, torch.zeros((5, 2))], dim=1)
    g2 = torch.cat([obs, torch.ones((5, 2))], dim=1)
    with torch.no_grad():
        a1 = module.forward_train({Columns.OBS: obs, GLOBAL_OBS: g1})[Columns.ACTION_DIST_INPUTS]
        a2 = module.forward_train({Columns.OBS: obs, GLOBAL_OBS: g2})[Columns.ACTION_DIST_INPUTS]
        v1 = module.compute_values({Columns.OBS: obs, GLOBAL_OBS: g1})
        v2 = module.compute_values({Columns.OBS: obs, GLOBAL_OBS: g2})
    torch.testing.assert_close(a1, a2)  # the policy ignores the aggregate state
    assert not torch.allclose(v1, v2)  # the critic reads it
    with pytest.raises(KeyError, match="global_obs"):
        module.compute_values({Columns.OBS: obs})


def test_learner_builds_the_critic_column_from_the_rows_and_their_sessions_state():
    """Row i's critic input at t is [its own observation, its session's aggregate state at t]."""
    import gymnasium as gym
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.columns import Columns
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.rllib.env.single_agent_episode import SingleAgentEpisode

    from marketsai.rl.critic_module import GLOBAL_OBS
    from marketsai.rl.stacked import RowModule, StackedPPOLearner

    n, T, d, s = 3, 4, 2, 2
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(T + 1, n, d)).astype(np.float32)
    state = rng.normal(size=(T + 1, n, s)).astype(np.float32)
    config = (PPOConfig().environment(observation_space=gym.spaces.Box(-9, 9, (n, d), np.float32),
                                      action_space=gym.spaces.Box(-1, 1, (n,), np.float32))
              .training(learner_class=StackedPPOLearner)
              .rl_module(rl_module_spec=RLModuleSpec(module_class=RowModule,
                                                     model_config={"critic_state_dim": s})))
    learner = config.build_learner(env=None)
    infos = [{"rewards": np.zeros(n), "critic_state": state[0]}] + \
            [{"rewards": rng.normal(size=n), "critic_state": state[t]} for t in range(1, T + 1)]
    ep = SingleAgentEpisode(observations=list(obs), actions=list(np.zeros((T, n), np.float32)),
                            rewards=[0.0] * T, infos=infos,
                            extra_model_outputs={Columns.ACTION_DIST_INPUTS: list(np.zeros((T, 2 * n), np.float32)),
                                                 Columns.ACTION_LOGP: list(np.zeros(T, np.float32))},
                            len_lookback_buffer=0, terminated=True)
    from marketsai.rl.rllib_internals import learner_connector
    batch = learner_connector(learner)(rl_module=learner.module, batch={}, episodes=[ep], shared_data={})
    g = batch["default_policy"][GLOBAL_OBS].detach().numpy().reshape(n, T + 1, d + s)
    for i in range(n):
        np.testing.assert_allclose(g[i], np.concatenate([obs[:, i], state[:, i]], axis=1))
    np.testing.assert_allclose(batch["default_policy"][Columns.OBS].detach().numpy().reshape(n, T + 1, d),
                               obs.transpose(1, 0, 2))


@pytest.mark.rllib
def test_centralised_critic_trains_krusell_smith_households_through_the_runner(local_ray, tmp_path):
    """A short centralised-critic training on the KS economy with N = 10 households."""
    import pandas as pd

    from marketsai.runner import run_experiment
    exp = _experiment(10)
    run = run_experiment(exp, out=tmp_path / "run", progress=False)
    row = pd.read_parquet(run / "results.parquet").iloc[0]
    assert row["env_steps"] >= 40
    assert row["agent_steps"] == 10 * row["env_steps"]


@pytest.mark.rllib
def test_trained_critic_is_central_on_the_learner_and_absent_from_the_env_runner(local_ray):
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import register_economy
    from marketsai.rl.spec import RLExperimentSpec

    econ = _ks(10)
    algo = build_config(RLExperimentSpec.from_dict(_experiment(10)), econ, register_economy(econ)).build_algo()
    try:
        result = algo.train()
        learned = local_learner(algo.learner_group).module["default_policy"]
        assert learned.vf[0][0].in_features == 4 + 4  # own observation + aggregate state
        assert not hasattr(algo.env_runner.module, "vf")  # acting holds the actor only
        assert np.isfinite(result["learners"]["default_policy"]["vf_loss"])
    finally:
        algo.stop()
