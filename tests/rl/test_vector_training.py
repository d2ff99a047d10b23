"""RLlib's single-agent runner drives a batch of sessions through ``vector_entry_point``."""

import numpy as np
import pytest

import marketsai as mai


@pytest.mark.rllib
def test_ppo_trains_on_the_batched_planner_economy(local_ray):
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env
    econ = mai.load_economy("economies/rbc.yaml")
    register_env("marketsai_rbc_vector_test", econ.vector_env_creator())
    config = (PPOConfig().environment("marketsai_rbc_vector_test", env_config={"max_cycles": 10})
              .env_runners(num_env_runners=0, num_envs_per_env_runner=32,
                           gym_env_vectorize_mode="vector_entry_point", rollout_fragment_length=10)
              .training(train_batch_size_per_learner=320, minibatch_size=160, num_epochs=1)
              .rl_module(model_config={"fcnet_hiddens": [16]}).debugging(seed=0))
    algo = config.build_algo()
    try:
        results = [algo.train() for _ in range(3)]
    finally:
        algo.stop()
    runners = results[-1]["env_runners"]
    assert runners["num_env_steps_sampled_lifetime"] >= 3 * 320
    assert np.isfinite(runners["episode_return_mean"])  # 10-period episodes of 32 sessions completed
