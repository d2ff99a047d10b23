"""Shared fixtures of the RLlib tests: one small local Ray instance per test module.

Ray is started with 2 CPUs and a ~300 MB object store (no dashboard) and shut down when
the module's tests are done, so the cluster test (tests/conftest.py ``ray_cluster``)
can connect a fresh driver to its own ``ray start --head`` cluster. Without the rllib extra
the root conftest reports this folder's modules as skipped.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance for one test module (2 CPUs, ~300 MB object store), started as
    marketsai starts one (:func:`marketsai.runner.cluster.init_ray`: fixed worker hash seed)."""
    import ray

    from marketsai.runner.cluster import init_ray
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():
        ray.shutdown()
    init_ray(num_cpus=2, object_store_memory=300 * 2**20, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def one_torch_thread():
    """torch on one thread for the test (its results then do not depend on the machine's
    cores), the previous count given back."""
    import torch
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def duopoly():
    """The Calvano duopoly (economies/bertrand_duopoly.yaml)."""
    from rl_helpers import DUOPOLY

    from marketsai.economy import load_economy
    return load_economy(DUOPOLY)
