"""IMPALA and APPO (RLlib 2.60, new API stack): validation, and training on a real cluster.

Both are asynchronous actor-learner algorithms (Espeholt et al. 2018): remote env runners
sample with the weights they last received while the learner updates, and V-trace
corrects for the lag. With ``num_env_runners: 0`` the driver samples and learns in turn,
which is just a slower on-policy method, so the training test runs them against the real
``ray start --head`` cluster of ``tests/conftest.py`` (token auth) with one remote env
runner, and checks that the remote runner did the sampling and received learned weights.

The economies: the Calvano duopoly (two firms, grid prices, one shared policy) and a
household economy, ``economies/growth_market.yaml`` with 3 households (one shared
policy, a continuous savings share, prices from the capital, labour and goods markets).
"""

from __future__ import annotations

import os

import pytest
from rl_helpers import ROOT, experiment

from marketsai.errors import SpecError
from marketsai.rl.spec import RLExperimentSpec

pytestmark = [pytest.mark.rllib, pytest.mark.cluster]

def households(n: int = 3) -> dict:
    """growth_market.yaml with ``n`` households, inline."""
    from marketsai.economy import load_economy
    d = load_economy(ROOT / "economies" / "growth_market.yaml").to_dict()
    d["agents"][0]["count"] = n
    return d


ITERATIONS = 3


def spec_of(algorithm, economy=None, settings=None, runners=1):
    data = experiment(algorithm, economy=economy, resources={"num_env_runners": runners})
    if settings is not None:
        data["algorithm"]["settings"] = settings
    return RLExperimentSpec.from_dict(data)


@pytest.mark.parametrize("algorithm, key, value", [
    ("IMPALA", "vtrace_clip_rho_threshold", 0.0),
    ("IMPALA", "vtrace_clip_pg_rho_threshold", -1.0),
    ("IMPALA", "vtrace", False),
    ("APPO", "circular_buffer_num_batches", 0),
    ("APPO", "target_worker_clipping", -2.0),
    ("APPO", "clip_param", 0),
    ("APPO", "broadcast_interval", 0),
])
def test_bad_setting_is_a_spec_error_naming_the_field(algorithm, key, value):
    with pytest.raises(SpecError, match="out of range") as err:
        spec_of(algorithm, settings={key: value})
    assert err.value.path == f"algorithm.settings.{key}"
    assert err.value.value == value


def test_typo_and_wrong_type_name_the_field_and_the_nearest_attribute():
    from marketsai.rl.algorithms import check_settings
    with pytest.raises(SpecError) as err:
        check_settings("IMPALA", {"vtrace_clip_rho_treshold": 1.0})
    assert err.value.path == "algorithm.settings.vtrace_clip_rho_treshold"
    assert "vtrace_clip_rho_threshold" in str(err.value)
    with pytest.raises(SpecError, match="wrong type") as err:
        check_settings("APPO", {"circular_buffer_iterations_per_batch": "twice"})
    assert err.value.path == "algorithm.settings.circular_buffer_iterations_per_batch"


@pytest.mark.parametrize("algorithm", ["IMPALA", "APPO"])
def test_small_machine_defaults_pass_rllib_validation(algorithm):
    from marketsai.economy import Economy
    from marketsai.rl.algorithms import build_config
    spec = spec_of(algorithm, settings={})
    config = build_config(spec, Economy.from_dict(spec.economy_dict()), "unused")
    assert config.enable_rl_module_and_learner and config.enable_env_runner_and_connector_v2
    assert config.num_env_runners == 1 and config.num_learners == 0
    assert config.min_time_s_per_iteration is None  # RLlib's 10 s minimum per iteration is off
    assert config.min_train_timesteps_per_iteration == config.train_batch_size_per_learner == 500
    assert config.rollout_fragment_length == 50 and config.vtrace


def test_minibatch_not_a_multiple_of_the_fragment_is_rllib_rejection_as_spec_error():
    from marketsai.economy import Economy
    from marketsai.rl.algorithms import build_config
    spec = spec_of("IMPALA", settings={"minibatch_size": 30, "rollout_fragment_length": 20})
    with pytest.raises(SpecError, match="RLlib rejected") as err:
        build_config(spec, Economy.from_dict(spec.economy_dict()), "unused")
    assert err.value.path == "algorithm.settings"


@pytest.fixture(scope="module")
def cluster_driver(ray_cluster):
    """This process as a driver of the session's ``ray start --head`` cluster."""
    import ray
    import torch

    from marketsai.runner.cluster import init_ray
    if ray.is_initialized():
        ray.shutdown()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the learner runs in this process; 2 cores are shared
    init_ray(ray_cluster, log_to_driver=False)
    try:
        yield ray_cluster
    finally:
        ray.shutdown()
        torch.set_num_threads(threads)


#: each algorithm once and each economy once (the env runner's path depends on the economy,
#: the learner's on the algorithm; the full cross took about 4 minutes of a 15-minute suite)
CASES = [("IMPALA", "duopoly"), ("APPO", "households")]


@pytest.mark.parametrize("algorithm, economy", CASES, ids=[f"{a}-{e}" for a, e in CASES])
def test_trains_on_the_cluster_with_a_remote_env_runner(cluster_driver, algorithm, economy):
    import ray

    from marketsai.economy import Economy
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import register_economy

    assert ray.get_runtime_context().gcs_address.endswith(":" + cluster_driver.rsplit(":", 1)[1])
    spec = spec_of(algorithm, economy=households() if economy == "households" else None)
    econ = Economy.from_dict(spec.economy_dict())
    config = build_config(spec, econ, register_economy(econ))
    assert config.num_env_runners == 1
    algo = config.build_algo()
    try:
        results = [algo.train() for _ in range(ITERATIONS)]
        group = algo.env_runner_group
        assert group.num_healthy_remote_workers() == 1
        # the driver's own env runner has no environment: every step came from the actor
        assert algo.env_runner is None or algo.env_runner.env is None
        (pid, sampled, weights_seq), = group.foreach_env_runner(
            lambda r: (os.getpid(), r.num_env_steps_sampled_lifetime, r._weights_seq_no),
            local_env_runner=False)
    finally:
        algo.stop()
    assert pid != os.getpid()
    assert sampled > 0
    assert weights_seq >= 1  # the remote runner pulled weights the learner had updated
    last = results[-1]
    batch = spec.settings["train_batch_size_per_learner"]
    assert last["training_iteration"] == ITERATIONS
    assert last["num_env_steps_sampled_lifetime"] >= ITERATIONS * batch
    assert last["learners"]["__all_modules__"]["num_env_steps_trained_lifetime"] >= ITERATIONS * batch
    policy = "households" if economy == "households" else "firm"
    assert policy in last["learners"]


def test_null_is_accepted_where_our_default_is_null():
    from marketsai.rl.algorithms import check_settings
    assert check_settings("IMPALA", {"min_time_s_per_iteration": None})["min_time_s_per_iteration"] is None
    with pytest.raises(SpecError, match="wrong type"):
        check_settings("PPO", {"lr": None})
