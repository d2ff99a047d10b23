"""Registering an economy's RLlib environment with Ray Tune.

RLlib finds environments by name; the name registered here carries a digest of the
economy's resolved description, so two experiments with different economies in one
Ray session never collide, and the creator (a picklable partial holding the economy as
plain data) works on remote env runners and other nodes of a cluster unchanged.
"""

from __future__ import annotations

import hashlib
import json


def env_name(econ) -> str:
    """``marketsai-<economy name>-<digest of its description>``."""
    digest = hashlib.sha1(json.dumps(econ.to_dict(), sort_keys=True, default=str).encode()).hexdigest()[:10]
    return f"marketsai-{econ.spec.name}-{digest}"


def register_economy(econ) -> str:
    """Register ``econ.rllib_env_creator()`` with Tune; returns the env name."""
    from ray.tune.registry import register_env

    name = env_name(econ)
    register_env(name, econ.rllib_env_creator())
    return name
