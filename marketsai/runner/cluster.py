"""Connecting to Ray: a local instance, or an existing cluster (with token auth).

Why in the runner: ``marketsai run --address`` distributes a run's chunks over a cluster
(:mod:`marketsai.runner.execute`) and ``kind: rllib`` trains its trials there
(:mod:`marketsai.rl.train`); both connect through :func:`init_ray`.

Ray >= 2.59 has token authentication. What the installed Ray (2.60) does, read from its
source (``ray/_private/worker.py``, ``ray/_private/authentication/``):

* a *new local* instance (``ray.init()`` without an address) turns token auth on by
  default unless ``RAY_AUTH_MODE`` is set, creating ``~/.ray/auth_token`` if missing;
* ``ray start --head`` turns it on when a token already exists (``RAY_AUTH_TOKEN``,
  ``RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token``) and ``RAY_AUTH_MODE`` is unset;
* ``ray.init(address="auto")`` enables it on the client when a token is found, but an
  *explicit* address (``--address 10.0.0.1:6379``) never does -- so a client of a
  token-protected cluster fails with ``AuthenticationError`` unless ``RAY_AUTH_MODE=token``.

:func:`init_ray` closes that gap: given an address, when ``RAY_AUTH_MODE`` is unset and a
token is available, it sets ``RAY_AUTH_MODE=token`` for this process (and the workers it
starts) before connecting, and turns an authentication failure into a message saying
where the token is looked for. ``RAY_AUTH_MODE=disabled`` is respected.

Every worker of the job starts with ``PYTHONHASHSEED`` fixed (:data:`WORKER_HASH_SEED`, a
job-level ``runtime_env``): RLlib iterates sets of agent and module ids inside a trial, whose
order follows the worker's hash seed, and that order decides which draws of the seeded RNGs
go to which firm -- without it, one seed trained twice could end in different networks.
A local instance does not pass this process's ``OMP_NUM_THREADS`` on to its workers: a
trial's torch threads follow its resources, not the shell (a different thread count sums
in another order and moves weights by an ulp).
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_OBJECT_STORE_BYTES = 512 * 2**20  # small machines: keep the plasma store modest
#: every Ray worker's PYTHONHASHSEED (set orders inside RLlib; see the module doc)
WORKER_HASH_SEED = "0"


def token_source() -> str | None:
    """Where a Ray auth token would come from (env var or file), or None."""
    if os.environ.get("RAY_AUTH_TOKEN"):
        return "RAY_AUTH_TOKEN"
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    if path and Path(path).expanduser().is_file():
        return path
    default = Path.home() / ".ray" / "auth_token"
    return str(default) if default.is_file() else None


def init_ray(address: str | None = None, *, num_cpus: int | None = None,
             object_store_memory: int | None = DEFAULT_OBJECT_STORE_BYTES, log_to_driver: bool = True,
             **join):
    """Start (``address=None``) or join (``address="host:port"``/``"auto"``) Ray once.

    Usage statistics are off (``RAY_USAGE_STATS_ENABLED=0``); the workers' hash seed is
    fixed (:func:`worker_runtime_env`). Returns the address of the cluster. Already
    initialised: returns its address unchanged (a Ray started elsewhere keeps its own
    workers' hash seeds). ``join``: more ``ray.init`` keywords when joining
    (``configure_logging=False``).
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    if ray.is_initialized():
        return ray.get_runtime_context().gcs_address
    if address:
        if "RAY_AUTH_MODE" not in os.environ and token_source():
            os.environ["RAY_AUTH_MODE"] = "token"
        try:
            runtime_env = worker_runtime_env(join.pop("runtime_env", None))
            ray.init(address=address, log_to_driver=log_to_driver, runtime_env=runtime_env, **join)
        except Exception as exc:  # ray raises several types here; re-raise with advice
            if "auth" in type(exc).__name__.lower() or "authenticat" in str(exc).lower() \
                    or "token" in str(exc).lower():
                raise RuntimeError(
                    f"Ray at {address} rejected this client ({exc.__class__.__name__}). The cluster "
                    "uses token authentication: put its token in ~/.ray/auth_token, or set "
                    "RAY_AUTH_TOKEN (the token) or RAY_AUTH_TOKEN_PATH (a file), and "
                    f"RAY_AUTH_MODE=token. Token found here: {token_source() or 'none'}.") from exc
            raise
    else:
        # a local Ray's workers inherit this process's environment; without OMP_NUM_THREADS
        # there, Ray gives each worker as many threads as CPUs it was assigned (a trial: its
        # resources), so torch's float sums do not follow the shell's thread count
        inherited = os.environ.pop("OMP_NUM_THREADS", None)
        try:
            ray.init(num_cpus=num_cpus, object_store_memory=object_store_memory,
                     include_dashboard=False, log_to_driver=log_to_driver, runtime_env=worker_runtime_env())
        finally:
            if inherited is not None:
                os.environ["OMP_NUM_THREADS"] = inherited
    return ray.get_runtime_context().gcs_address


def worker_runtime_env(runtime_env: dict | None = None) -> dict:
    """``runtime_env`` with the workers' ``PYTHONHASHSEED`` fixed (one the caller set is kept).

    >>> worker_runtime_env({"env_vars": {"A": "1"}})
    {'env_vars': {'PYTHONHASHSEED': '0', 'A': '1'}}
    """
    runtime_env = dict(runtime_env or {})
    runtime_env["env_vars"] = {"PYTHONHASHSEED": WORKER_HASH_SEED, **(runtime_env.get("env_vars") or {})}
    return runtime_env


def workers_hash_seed_fixed() -> bool:
    """Whether the connected Ray job starts its workers with a fixed ``PYTHONHASHSEED`` (ours
    through :func:`init_ray`, or inherited by a local Ray from this process's environment);
    a Ray started elsewhere without one gives RLlib trials set orders that vary per worker."""
    import ray

    env_vars = (ray.get_runtime_context().runtime_env or {}).get("env_vars") or {}
    return "PYTHONHASHSEED" in env_vars or "PYTHONHASHSEED" in os.environ
