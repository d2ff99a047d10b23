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


def cli_evaluate_settings(episodes: int = 2) -> dict:
    """The calvano evaluation as `marketsai evaluate EXPORT --episodes N` runs it: random start
    states and a kind: rllib file's ``evaluation`` defaults (a run given these as its
    ``evaluate:`` entry writes the rows evaluate reproduces)."""
    from marketsai.rl.spec import RL_SCHEMA
    from marketsai.runner.schema import resolve
    return {"start": "random", **resolve({}, RL_SCHEMA["evaluation"]), "episodes": episodes}


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


#: ``sac_batched`` settings of its independence tests: as :data:`BATCHED_DQN_SMALL` (100
#: updates at period 119), clipping on so that it is exercised
BATCHED_SAC_SMALL = {"periods": 119, "learning_starts": 20, "hiddens": [16, 16], "train_batch_size": 16,
                     "checkpoint_every": 0, "episode_length": 50, "grad_clip": 1.0}


#: ``ppo_batched`` settings of its independence tests: rollouts of 25 periods, 4 epochs of 5
#: minibatches -- 100 updates at period 125; the KL penalty on (its per-member coefficients tested too)
BATCHED_PPO_SMALL = {"periods": 125, "rollout_periods": 25, "minibatch_size": 5, "num_epochs": 4, "hiddens": [16, 16],
                     "checkpoint_every": 0, "episode_length": 50, "grad_clip": 1.0, "lr": 1e-3, "lambda_": 0.9,
                     "use_kl_loss": True}


def batched_ppo_settings(**kw) -> dict:
    """:data:`BATCHED_PPO_SMALL` with ``kw``, checked as ``ppo_batched`` checks its settings."""
    from marketsai.params import validate_mapping
    from marketsai.rl.batched_ppo import SETTINGS
    return validate_mapping(BATCHED_PPO_SMALL | kw, SETTINGS, "learner.settings", "settings")


def batched_sac_settings(**kw) -> dict:
    """:data:`BATCHED_SAC_SMALL` with ``kw``, checked as ``sac_batched`` checks its settings."""
    from marketsai.params import validate_mapping
    from marketsai.rl.batched_sac import SETTINGS
    return validate_mapping(BATCHED_SAC_SMALL | kw, SETTINGS, "learner.settings", "settings")


def stacked_state(m: int, params, optimizers) -> list:
    """Member ``m``'s slices of stacked ``params`` and of every Adam moment of ``optimizers``
    (tensors with a leading member axis), as numpy arrays."""
    out = [p[m].detach().cpu().numpy().copy() for p in params]
    for opt in optimizers:
        for group in opt.param_groups:
            out += [opt.state[p][k][m].cpu().numpy().copy() for p in group["params"] for k in ("exp_avg", "exp_avg_sq")]
    return out


def member_state(run, m: int) -> list:
    """Member ``m``'s weights, target weights and Adam moments in a batched DQN run
    (``marketsai.rl.batched_dqn.BatchedRun``, either backend), as numpy arrays."""
    ens = run.ens
    return stacked_state(m, [*ens.online.parameters(), *ens.target.parameters()], [ens.optimizer])


#: the optimisers of RLlib's SAC learner, by name
SAC_OPTIMIZERS = ("qf", "qf_twin", "policy", "alpha")


def sac_member_state(ens, m: int) -> list:
    """Member ``m``'s actor, twin critics, their targets, temperature and every Adam moment
    in a ``marketsai.rl.seed_batched_sac.RLlibSACMembers`` (either loss)."""
    mod = ens.module
    nets = (mod.pi, mod.qf, mod.qf_twin, mod.target_qf, mod.target_qf_twin)
    return stacked_state(m, [p for net in nets for p in net.parameters()] + [ens.log_alpha],
                         [ens.optimizers[name] for name in SAC_OPTIMIZERS])


def assert_sac_seeds_alone(train, economy) -> object:
    """Seeds 0, 1, 2 trained as one batch by ``train(economy, seeds)`` (a ``sac_batched``
    run, two firms a seed) equal each seed trained alone (every member's
    :func:`sac_member_state`); the temperatures are the members' own and the seeds differ.
    Returns the batched run.

    Unclipped gradients: clipped, every member's temperature gradient is cut to the same
    unit size here, Adam's steps are the same for all, and the temperatures differ only by
    rounding -- a shared temperature would pass the last check."""
    import numpy as np
    together = train(economy, [0, 1, 2], grad_clip=None)
    assert together.updates == 100
    for k, seed in enumerate([0, 1, 2]):
        alone = train(economy, [seed], grad_clip=None)
        for m in range(2):  # each firm's actor and critics
            assert_close(sac_member_state(together.ens, 2 * k + m), sac_member_state(alone.ens, m))
    second_moment = together.ens.optimizers["alpha"].state[together.ens.log_alpha]["exp_avg_sq"].numpy()
    assert not np.isclose(second_moment[0], second_moment[2], rtol=1e-4, atol=0)  # the temperatures are the members' own
    assert not np.allclose(sac_member_state(together.ens, 0)[0], sac_member_state(together.ens, 2)[0])  # not vacuous
    return together


def assert_only_member_0_differs(a, b, members: int) -> None:
    """Two ``sac_batched`` learners updated on batches that differ in member 0's only:
    member 0's weights, targets, temperature and Adam moments differ, every other member's
    are bit-identical."""
    import torch
    same = unchanged(sac_member_state, a, b, members)
    assert not any(same[0]) and all(all(s) for s in same[1:])
    assert not torch.equal(a.log_alpha[0], b.log_alpha[0]) and torch.equal(a.log_alpha[1:], b.log_alpha[1:])


def assert_sac_run_twice_identical(train, economy):
    """The same ``sac_batched`` run (seeds 3 and 4, 40 periods: 21 updates) twice: every
    member's state and every stored action bit-identical. Returns the first run."""
    import numpy as np
    a, b = (train(economy, [3, 4], root_seed=1, periods=40) for _ in range(2))
    assert all(all(same) for same in unchanged(sac_member_state, a.ens, b.ens, 4))
    assert np.array_equal(a.buf["actions"], b.buf["actions"])
    return a


def assert_sac_resumes_exactly(economy, tmp_path, monkeypatch, run_class) -> None:
    """A ``sac_batched`` run cut after its checkpoint at period 40 and rerun equals the
    uninterrupted one bit for bit (RLlib's learner state and the temperature come back)."""
    cfg = batched_sac_settings(periods=60, checkpoint_every=40, learning_starts=30)
    whole, resumed = interrupted_and_whole(economy, cfg, tmp_path, monkeypatch, run_class=run_class)
    assert resumed.periods == 60 and resumed.updates == whole.updates == 31
    assert all(all(same) for same in unchanged(sac_member_state, whole.ens, resumed.ens, 4))


def rllib_default_learner(config, obs_dim: int = 2, n_actions: int = 5, hiddens=(16, 16), action_space=None):
    """``(group, learner, module)``: RLlib's local learner group of ``config``'s learner over
    its default RLModule (ReLU MLPs of ``hiddens``) on a box of ``obs_dim`` and ``n_actions``
    discrete actions (or ``action_space``), module id ``marketsai.rl.seed_batched_rllib.MODULE_ID``
    -- what a member of a batched learner is compared with."""
    import gymnasium as gym
    import numpy as np
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    from marketsai.rl.rllib_internals import local_learner
    from marketsai.rl.seed_batched_rllib import MODULE_ID
    config = config.learners(num_learners=0).rl_module(
        model_config={"fcnet_hiddens": list(hiddens), "fcnet_activation": "relu"})
    spec = RLModuleSpec(module_class=config.get_default_rl_module_spec().module_class,
                        observation_space=gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32),
                        action_space=action_space or gym.spaces.Discrete(n_actions), model_config=config.model_config)
    group = config.build_learner_group(rl_module_spec=MultiRLModuleSpec(rl_module_specs={MODULE_ID: spec}))
    learner = local_learner(group)
    return group, learner, learner.module[MODULE_ID]


def ppo_member_state(ens, m: int) -> list:
    """Member ``m``'s policy, value function, Adam moments and KL coefficient in a
    ``marketsai.rl.seed_batched_ppo.RLlibPPOMembers``."""
    return stacked_state(m, [*ens.module.pi.parameters(), *ens.module.vf.parameters()], [ens.optimizer]) + [
        ens.kl_coeffs[m].cpu().numpy()]


def ppo_default_layers(theirs, name: str) -> list:
    """The linear layers of RLlib's default PPO module ``theirs``: its policy (``pi``) or
    value function (``vf``) -- separate MLP encoders (ReLU after each layer), linear heads."""
    encoder = theirs.encoder.actor_encoder if name == "pi" else theirs.encoder.critic_encoder
    return [encoder.net.mlp[0], encoder.net.mlp[2], getattr(theirs, name).net.mlp[0]]


def copy_member_into_ppo_default(module, theirs, m: int = 0) -> None:
    """Member ``m``'s policy and value function of a stacked PPO ``module`` copied into RLlib's
    default PPO module ``theirs`` (the same weights, to compare their updates)."""
    import torch
    with torch.no_grad():
        for name in ("pi", "vf"):
            layers = getattr(module, name).member_arrays(m)
            for lin, (w, b) in zip(ppo_default_layers(theirs, name), layers, strict=True):
                lin.weight.copy_(torch.from_numpy(w.T))
                lin.bias.copy_(torch.from_numpy(b))


def assert_close(a: list, b: list) -> None:
    """Two members' states equal within float tolerance (summation order differs batched)."""
    import numpy as np
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


def bumped_updates(a, b, batches, bump) -> None:
    """Update members ``a`` on ``batches`` and ``b`` on the same batches changed by
    ``bump(batch)`` (in place, on a copy), at periods 1, 2, ..."""
    for t, batch in enumerate(batches, start=1):
        bumped = {c: v.copy() for c, v in batch.items()}
        bump(bumped)
        a.update(batch, t)
        b.update(bumped, t)


def unchanged(state, a, b, members: int) -> list:
    """Per member, which arrays of ``state(x, m)`` are bit-identical in ``a`` and ``b``."""
    import numpy as np
    return [[np.array_equal(x, y) for x, y in zip(state(a, m), state(b, m), strict=True)] for m in range(members)]


def interrupted_and_whole(economy, cfg: dict, tmp_path, monkeypatch, seeds=(0, 1), run_class=None):
    """``(uninterrupted, resumed)`` batched runs of ``cfg`` (a ``run_class``, DQN's
    ``BatchedRun`` by default): the second is stopped after its checkpoint at period 40
    (``checkpoint_every: 40``) and rerun from its folder."""
    import functools

    import pytest

    from marketsai.rl.batched_dqn import BatchedRun, train_batched
    run_class = run_class or BatchedRun
    train_batched = functools.partial(train_batched, run_class=run_class)
    (tmp_path / "whole").mkdir()
    whole = train_batched(economy, cfg, list(seeds), tmp_path / "whole")
    (tmp_path / "cut").mkdir()
    advance = run_class.advance

    def cut(self, periods):
        if periods > 40:
            raise KeyboardInterrupt
        advance(self, periods)
    monkeypatch.setattr(run_class, "advance", cut)
    with pytest.raises(KeyboardInterrupt):
        train_batched(economy, cfg, list(seeds), tmp_path / "cut")
    assert (tmp_path / "cut" / run_class.checkpoint).is_file()
    monkeypatch.setattr(run_class, "advance", advance)
    return whole, train_batched(economy, cfg, list(seeds), tmp_path / "cut")
