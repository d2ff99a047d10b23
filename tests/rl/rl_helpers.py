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

#: ``dqn_batched`` settings of the independence tests: 20 periods before learning, then one
#: update per period -- 100 updates at period 119
BATCHED_DQN_SMALL = {"periods": 119, "learning_starts": 20, "hiddens": [32, 32], "train_batch_size": 16,
                     "target_network_update_freq": 30, "epsilon": [[0, 1.0], [80, 0.1]], "checkpoint_every": 0,
                     "episode_length": 50}


def batched_dqn_settings(**kw) -> dict:
    """:data:`BATCHED_DQN_SMALL` with ``kw``, checked as ``dqn_batched`` checks its settings."""
    from marketsai.params import validate_mapping
    from marketsai.rl.batched_dqn import SETTINGS
    return validate_mapping(BATCHED_DQN_SMALL | kw, SETTINGS, "learner.settings", "settings")


def member_state(run, m: int) -> list:
    """Member ``m``'s weights, target weights and Adam moments in a batched DQN run
    (``marketsai.rl.batched_dqn.BatchedRun``, either backend), as numpy arrays."""
    ens = run.ens
    out = [p[m].detach().cpu().numpy().copy() for p in ens.online.parameters()]
    out += [p[m].detach().cpu().numpy().copy() for p in ens.target.parameters()]
    for p in ens.online.parameters():
        st = ens.optimizer.state[p]
        out += [st["exp_avg"][m].cpu().numpy().copy(), st["exp_avg_sq"][m].cpu().numpy().copy()]
    return out


def interrupted_and_whole(economy, cfg: dict, tmp_path, monkeypatch, seeds=(0, 1)):
    """``(uninterrupted, resumed)`` batched DQN runs of ``cfg``: the second is stopped after
    its checkpoint at period 40 (``checkpoint_every: 40``) and rerun from its folder."""
    import pytest

    from marketsai.rl import batched_dqn
    from marketsai.rl.batched_dqn import BatchedRun, train_batched
    (tmp_path / "whole").mkdir()
    whole = train_batched(economy, cfg, list(seeds), tmp_path / "whole")
    (tmp_path / "cut").mkdir()
    advance = BatchedRun.advance

    def cut(self, periods):
        if periods > 40:
            raise KeyboardInterrupt
        advance(self, periods)
    monkeypatch.setattr(BatchedRun, "advance", cut)
    with pytest.raises(KeyboardInterrupt):
        train_batched(economy, cfg, list(seeds), tmp_path / "cut")
    assert (tmp_path / "cut" / batched_dqn.CHECKPOINT).is_file()
    monkeypatch.setattr(BatchedRun, "advance", advance)
    return whole, train_batched(economy, cfg, list(seeds), tmp_path / "cut")
