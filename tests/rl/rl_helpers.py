"""Tiny experiments for the RLlib tests (imported as ``rl_helpers``)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DUOPOLY = ROOT / "economies" / "bertrand_duopoly.yaml"

# Settings that make one training iteration take about a second on 2 cores.
TINY = {
    "PPO": {"train_batch_size_per_learner": 200, "minibatch_size": 100, "num_epochs": 2},
    "centralised_critic": {"train_batch_size_per_learner": 200, "minibatch_size": 100, "num_epochs": 2},
    "DQN": {"num_steps_sampled_before_learning_starts": 100, "min_sample_timesteps_per_iteration": 200,
            "train_batch_size_per_learner": 32, "target_network_update_freq": 100},
    "SAC": {"num_steps_sampled_before_learning_starts": 100, "min_sample_timesteps_per_iteration": 200,
            "train_batch_size_per_learner": 32},
    # one 200-step train batch per iteration, in 20-step fragments from the env runners
    "IMPALA": {"train_batch_size_per_learner": 200, "rollout_fragment_length": 20,
               "min_train_timesteps_per_iteration": 200},
    "APPO": {"train_batch_size_per_learner": 200, "rollout_fragment_length": 20,
             "min_train_timesteps_per_iteration": 200},
}


def continuous_duopoly() -> dict:
    """The duopoly with prices chosen from an interval instead of a grid."""
    import yaml
    econ = yaml.safe_load(DUOPOLY.read_text())
    econ["name"] = "bertrand_duopoly_interval"
    econ["agents"][0]["action"] = {"kind": "interval", "xi": 0.1}
    return econ


def experiment(algorithm: str, economy=None, **overrides) -> dict:
    """A tiny experiment mapping (a file's contents) for ``algorithm``."""
    data = {
        "kind": "rllib", "name": f"tiny_{algorithm.lower()}",
        "economy": economy if economy is not None else str(DUOPOLY),
        "env": {"max_cycles": 50},
        "algorithm": {"name": algorithm, "settings": dict(TINY[algorithm]),
                      "model": {"fcnet_hiddens": [16, 16]}},
        "stop": {"training_iteration": 1},
        "resources": {"num_env_runners": 0},
        "checkpoint": {"frequency": 1, "keep": 2},
        "evaluation": {"episodes": 3, "periods": 30, "tail": 10, "impulse_periods": 5},
    }
    data.update(overrides)
    return data
