"""Registering an economy's RLlib environment with Ray Tune.

RLlib finds environments by name; the name registered here carries a digest of the
economy's resolved description, so two experiments with different economies in one
Ray session never collide, and the creator (a picklable partial holding the economy)
works on remote env runners and other nodes of a cluster unchanged.
"""

from __future__ import annotations

import hashlib
import json


def env_name(econ) -> str:
    """``marketsai-<economy name>-<digest of its description>``."""
    digest = hashlib.sha1(json.dumps(econ.to_dict(), sort_keys=True, default=str).encode()).hexdigest()[:10]
    return f"marketsai-{econ.spec.name}-{digest}"


def vector_name(name: str) -> str:
    """The name the batched creator of the economy registered as ``name`` is under.

    >>> vector_name("marketsai-rbc-0123456789")
    'marketsai-rbc-0123456789-vector'
    """
    return f"{name}-vector"


def stacked_name(name: str) -> str:
    """The name the stacked-population creator of the economy registered as ``name`` is under."""
    return f"{name}-stacked"


def register_economy(econ) -> str:
    """Register the economy's creators with Tune; returns the (MultiAgentEnv) env name.

    ``econ.rllib_env_creator()`` under the name, and ``econ.vector_env_creator()`` (the
    gymnasium VectorEnv of ``env.sessions`` experiments, RLlib's ``vector_entry_point``
    mode) under :func:`vector_name` of it. Registering is lazy: the vector creator of an
    economy with several policy groups refuses only if an experiment uses it.
    """
    from ray.tune.registry import register_env

    _registry_of_this_session()
    name = env_name(econ)
    register_env(name, econ.rllib_env_creator())
    register_env(vector_name(name), econ.vector_env_creator())
    register_env(stacked_name(name), econ.stacked_env_creator())
    return name


def _registry_of_this_session() -> None:
    """Point Tune's registry at the current Ray session.

    Why: Tune's global registry keys every entry by a prefix it caches on first use, the
    job id of the first Ray session in the process. After ``ray.shutdown()`` and a new
    ``ray.init`` (another cluster, the next experiment in a notebook, the next test
    module), entries would be written under the old job's prefix, and remote env runners,
    which look under their own job's, would not find the environment.
    """
    import ray

    from marketsai.rl.rllib_internals import reset_stale_registry_prefix

    if ray.is_initialized():
        reset_stale_registry_prefix(ray.get_runtime_context().get_job_id())
