"""The RLlib private names :mod:`marketsai.rl.rllib_internals` reads, pinned.

Each test exercises one access on real Ray objects and checks the kind of thing it gets
back; a Ray upgrade that renames or retypes one of them fails here, by name.
"""

from __future__ import annotations

import pytest

from marketsai.rl import rllib_internals as ri

ray = pytest.importorskip("ray")
torch = pytest.importorskip("torch")


def test_checked_against_the_installed_ray():
    """On another Ray, re-check every access of the adapter, then bump the version there."""
    assert ray.__version__ == ri.CHECKED_RAY_VERSION


def test_registered_env_creator_and_the_registry_prefix(local_ray):
    from ray.tune.registry import register_env

    def creator(cfg):
        return ("made", cfg["x"])

    register_env("marketsai-internals-probe", creator)
    assert ri.registered_env_creator("marketsai-internals-probe")({"x": 3}) == ("made", 3)

    from ray.tune import registry
    job = ray.get_runtime_context().get_job_id()
    assert registry._global_registry._prefix == job  # cached by the registration above
    assert ri.reset_stale_registry_prefix(job) is False  # current: left alone
    assert ri.reset_stale_registry_prefix("not-this-job") is True
    assert registry._global_registry._prefix is None
    assert ri.registered_env_creator("marketsai-internals-probe")({"x": 4}) == ("made", 4)
    assert registry._global_registry._prefix == job  # re-read from the current job


def test_local_learner_and_its_connector(local_ray):
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.connectors.connector_pipeline_v2 import ConnectorPipelineV2
    from ray.rllib.core.learner.learner import Learner

    config = (PPOConfig().environment("CartPole-v1").env_runners(num_env_runners=0)
              .learners(num_learners=0)
              .training(train_batch_size_per_learner=64, minibatch_size=32, num_epochs=1))
    algo = config.build_algo()
    try:
        learner = ri.local_learner(algo.learner_group)
        assert isinstance(learner, Learner)
        assert isinstance(ri.learner_connector(learner), ConnectorPipelineV2)
    finally:
        algo.stop()


def test_torch_distribution():
    from ray.rllib.core.distribution.torch.torch_distribution import TorchCategorical

    dist = TorchCategorical.from_logits(torch.zeros(2, 3))
    inner = ri.torch_distribution(dist)
    assert isinstance(inner, torch.distributions.Categorical)
    assert inner.logits.shape == (2, 3)


def test_include_in_model_config():
    from ray.rllib.algorithms.ppo import PPOConfig

    assert isinstance(PPOConfig()._model_config_auto_includes, dict)

    @ri.include_in_model_config(lambda config: {"probe_width": config.width})
    class Probe(PPOConfig):
        width = 7

    config = Probe()
    assert config.model_config["probe_width"] == 7
    base = PPOConfig().model_config
    assert {k: v for k, v in config.model_config.items() if k != "probe_width"} == base
    assert "probe_width" not in base  # the base class is untouched


def test_squashed_gaussian_at_is_rllibs_rsample_at_that_draw():
    from ray.rllib.core.distribution.torch.torch_distribution import TorchSquashedGaussian
    logits = torch.tensor([[0.3, -0.5], [-1.0, 0.2], [2.0, -3.0]], requires_grad=True)
    torch.manual_seed(7)
    want_a, want_logp = TorchSquashedGaussian.from_logits(logits).rsample_and_logp()
    torch.manual_seed(7)
    noise = torch.randn(3, 1)  # the draw rsample made
    a, logp = ri.squashed_gaussian_at(logits, noise)
    assert torch.allclose(a, want_a) and torch.allclose(logp, want_logp)
    assert a.requires_grad and logp.shape == (3,)


def test_sac_losses():
    """Filled by the SAC loss, one per optimiser, and emptied by ``compute_gradients``."""
    import numpy as np
    from ray.rllib.core.columns import Columns

    from marketsai.rl.seed_batched_sac import NOISE, NOISE_NEXT, RLlibSACMembers, sac_learner_group
    members = RLlibSACMembers(sac_learner_group([1], 2, [4], actor_lr=1e-3, critic_lr=1e-3, alpha_lr=1e-3,
                                                initial_alpha=1.0, target_entropy=None, tau=0.1, grad_clip=None,
                                                gamma=0.9))
    learner, z = members.learner, torch.zeros(4, 2)
    batch = {Columns.OBS: z, Columns.NEXT_OBS: z, Columns.ACTIONS: torch.zeros(4, 1), Columns.REWARDS: torch.ones(4),
             Columns.TERMINATEDS: torch.zeros(4), "n_step": torch.ones(4), "weights": torch.ones(4),
             NOISE: torch.zeros(4, 1), NOISE_NEXT: torch.zeros(4, 1)}
    assert ri.sac_losses(learner) == {}
    fwd = learner.module["members"].forward_train(batch)
    learner.compute_loss_for_module(module_id="members", config=learner.config, batch=batch, fwd_out=fwd)
    assert sorted(k for _, k in ri.sac_losses(learner)) == ["alpha_loss", "policy_loss", "qf_loss", "qf_twin_loss"]
    learner.compute_gradients({"members": torch.zeros(())})
    assert ri.sac_losses(learner) == {} and np.isfinite(learner.curr_log_alpha["members"].grad.numpy()).all()


def test_adapt_members_kl_coeffs_is_rllibs_hook_per_member():
    """PPO's learner still calls the hook by that name and keywords, and the per-member rule
    is RLlib's own rule applied to each member's KL and coefficient."""
    import inspect
    from types import SimpleNamespace

    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.algorithms.ppo.ppo_learner import PPOLearner
    from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner

    assert "self._update_module_kl_coeff(" in inspect.getsource(PPOLearner.after_gradient_based_update)
    params = inspect.signature(PPOTorchLearner._update_module_kl_coeff).parameters
    assert [p for p in params if params[p].kind is inspect.Parameter.KEYWORD_ONLY] == ["module_id", "config", "kl_loss"]
    config = PPOConfig().training(kl_target=0.01)
    kls = torch.tensor([0.05, 0.02, 0.01, 0.005, 0.001])  # above 2 target, at it, between, at half, below
    coeffs = torch.tensor([0.2, 0.3, 0.4, 0.5, 0.6])
    ours = SimpleNamespace(members_kl={"m": kls}, curr_kl_coeffs_per_module={"m": coeffs.clone()})
    ri.adapt_members_kl_coeffs(ours, "m", config)
    for kl, coeff, got in zip(kls, coeffs, ours.curr_kl_coeffs_per_module["m"], strict=True):
        one = SimpleNamespace(curr_kl_coeffs_per_module={"m": coeff.clone()},
                              metrics=SimpleNamespace(log_value=lambda *a, **k: None))
        PPOTorchLearner._update_module_kl_coeff(one, module_id="m", config=config, kl_loss=kl.numpy())  # float32, as RLlib's
        assert got.item() == one.curr_kl_coeffs_per_module["m"].item()
    assert ours.curr_kl_coeffs_per_module["m"].tolist() == pytest.approx([0.3, 0.3, 0.4, 0.5, 0.3])


def test_exact_first_rates():
    """RLlib still starts a scheduled optimiser at its scheduler's float32 value; after
    ``exact_first_rates`` it is the schedule's first value as a Python float, and a fixed
    rate is left as it was."""
    from marketsai.rl.seed_batched_sac import sac_learner_group
    group = sac_learner_group([1], 2, [4], actor_lr=[[0, 1e-3], [10, 1e-4]], critic_lr=3e-4, alpha_lr=1e-3,
                              initial_alpha=1.0, target_entropy=None, tau=0.1, grad_clip=None, gamma=0.9)
    learner = ri.local_learner(group)
    rate = lambda name: learner.get_optimizer(module_id="members", optimizer_name=name).param_groups[0]["lr"]  # noqa: E731
    assert torch.is_tensor(rate("policy")) and float(rate("policy")) != 1e-3  # RLlib's float32 start
    ri.exact_first_rates(learner)
    assert rate("policy") == 1e-3 and type(rate("policy")) is float
    assert rate("qf") == 3e-4
