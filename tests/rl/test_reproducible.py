"""Same seed, same deep-learner results: whatever the process's hash seed, and whichever
other seeds run beside it (the project's reproducibility rule, for RLlib learners)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from rl_helpers import DUOPOLY, ROOT, TINY

import marketsai as mai
from marketsai.runner import load_experiment
from marketsai.runner.cluster import workers_hash_seed_fixed

pytestmark = pytest.mark.rllib

COMMON = {"env": {"max_cycles": 50}, "model": {"fcnet_hiddens": [8]}, "policies": "agent",
          "stop": {"training_iteration": 1}, "resources": {"num_env_runners": 0},
          "checkpoint": {"frequency": 0, "keep": 1}}
SETTINGS = {**TINY["PPO"], **COMMON}

# the first weight of each firm's freshly initialised module (torch seed 1), as JSON
_INITIAL = """
import json
import marketsai as mai
from marketsai.learners import learners
from marketsai.runner import load_experiment
from marketsai.runner.cluster import workers_hash_seed_fixed
exp = load_experiment({"kind": "learn", "name": "x", "economy": %r, "seeds": [1],
                       "learner": {"name": "PPO", "settings": %r}})
econ = mai.load_economy(%r)
multi = learners.get("PPO")().initial_policy(econ, exp.config["learner"]["settings"], 1).multi
print(json.dumps({"set_order": list({"firm_0", "firm_1"}),
                  "first_weight": {m: float(next(multi[m].parameters()).flatten()[0]) for m in multi.keys()}}))
"""


def _initial_weights(hash_seed: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "RAY_USAGE_STATS_ENABLED": "0",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    code = _INITIAL % (str(DUOPOLY), SETTINGS, str(DUOPOLY))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_each_firm_starts_from_the_same_network_whatever_the_hash_seed():
    """RLlib builds the modules in the order it is given the policy ids; a set of them
    iterated in the process's hash order, so two runs of one seed could start with the
    firms' initial networks swapped (PPO's tutorial: seed 3 ended at Delta 0.31 and 0.03)."""
    a, b = _initial_weights("0"), _initial_weights("1")
    assert a["set_order"] != b["set_order"]  # the two processes do iterate a set differently
    assert a["first_weight"] == b["first_weight"]


def test_ray_workers_share_one_hash_seed(local_ray):
    """Each actor is its own worker process; RLlib's set orders inside a trial follow its hash
    seed, so marketsai's Ray starts every worker with the same one."""
    @local_ray.remote(num_cpus=0)
    class Probe:
        def order(self):
            return os.environ.get("PYTHONHASHSEED"), list({"firm_0", "firm_1", "firm_2", "firm_3"})

    probes = [Probe.remote() for _ in range(3)]
    orders = local_ray.get([p.order.remote() for p in probes])
    assert orders[0][0] is not None and orders.count(orders[0]) == len(orders), orders
    assert workers_hash_seed_fixed()  # what train_seed checks before it warns


def _trained(tmp_path, algorithm: str, settings: dict, seeds: list[int]) -> dict:
    from marketsai.learners import learners
    econ = mai.load_economy(DUOPOLY)
    checked = load_experiment({"kind": "learn", "name": "repro", "economy": str(DUOPOLY), "seeds": seeds,
                               "learner": {"name": algorithm, "settings": settings}}
                              ).config["learner"]["settings"]
    policies = learners.get(algorithm)().train(econ, checked, seeds, tmp_path)
    return dict(zip(seeds, policies, strict=True))


def _assert_same_training(a, b):
    for key in ("iterations", "env_steps", "episode_return_mean"):
        assert a.info[key] == b.info[key], key
    for module in ("firm_0", "firm_1"):
        ours, theirs = a.multi[module].state_dict(), b.multi[module].state_dict()
        assert ours.keys() == theirs.keys()
        for name in ours:
            np.testing.assert_array_equal(ours[name].numpy(), theirs[name].numpy(), err_msg=f"{module} {name}")


def test_a_seed_trains_the_same_alone_or_beside_other_seeds(tmp_path, local_ray):
    """PPO's seed 3 trained after seed 1 and on its own, in fresh Ray worker processes: the
    same training metrics and the same weights, to the bit."""
    beside = _trained(tmp_path / "beside", "PPO", SETTINGS, [1, 3])[3]
    _assert_same_training(beside, _trained(tmp_path / "alone", "PPO", SETTINGS, [3])[3])


def test_an_off_policy_seed_samples_its_replay_buffer_the_same_each_run(tmp_path, local_ray):
    """RLlib's replay buffers draw from fresh OS entropy unless the trial seeds them: DQN
    trained twice on one seed must learn from the same samples."""
    settings = {**TINY["DQN"], **COMMON, "stop": {"training_iteration": 2}}
    first = _trained(tmp_path / "first", "DQN", settings, [2])[2]
    _assert_same_training(first, _trained(tmp_path / "again", "DQN", settings, [2])[2])


def test_a_local_ray_does_not_hand_the_shell_thread_count_to_its_workers(monkeypatch):
    """OMP_NUM_THREADS=3 in the driver's environment: a trial's torch threads would follow it
    (and its float sums the thread count); the workers get Ray's count per assigned CPU.
    Last in this module: it stops the module's Ray to start its own."""
    import ray

    from marketsai.runner.cluster import init_ray
    if ray.is_initialized():
        ray.shutdown()
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    init_ray(num_cpus=2, object_store_memory=200 * 2**20, log_to_driver=False)
    try:
        @ray.remote(num_cpus=1)
        class Probe:
            def threads(self):
                return os.environ.get("OMP_NUM_THREADS")

        assert ray.get(Probe.remote().threads.remote()) == "1"
        assert os.environ["OMP_NUM_THREADS"] == "3"  # the driver's own setting is given back
    finally:
        ray.shutdown()
