"""The same experiment against an existing Ray cluster (`ray start --head`, token auth)."""

from __future__ import annotations

import pytest
from rl_helpers import experiment

from marketsai.rl.spec import RLExperimentSpec

pytestmark = [pytest.mark.rllib, pytest.mark.cluster]


def test_train_on_existing_cluster_with_a_remote_env_runner(ray_cluster, tmp_path):
    import ray

    from marketsai.rl.train import train

    if ray.is_initialized():
        ray.shutdown()
    spec = RLExperimentSpec.from_dict(experiment(
        "PPO", resources={"num_env_runners": 1}, checkpoint={"frequency": 0, "keep": 1}))
    try:
        table = train(spec, tmp_path / "run", address=ray_cluster, verbose=0)
        port = ray_cluster.rsplit(":", 1)[1]
        assert ray.get_runtime_context().gcs_address.endswith(":" + port)  # joined, not started
    finally:
        ray.shutdown()
    assert table["iterations"].tolist() == [1]
    assert table["env_steps"].tolist() == [200]
    assert table["error"].isna().all()
