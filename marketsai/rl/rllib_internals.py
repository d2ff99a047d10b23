"""Every access to a private name of RLlib / Ray Tune, in one place.

Why: RLlib gives no public way to do a few things we need (rebuild a registered env
creator in the driver, act with the local learner's modules, reset Tune's cached registry
prefix, add a key to the model config RLlib hands an RLModule, read a torch distribution's
inner distribution, adapt a stacked PPO module's KL coefficients per member, start a
scheduled learning rate at its exact first value). Each such access is one small function here, with the Ray version
it was checked against; tests/rl/test_rllib_internals.py pins each one, so a Ray upgrade
that changes them fails there, by name, rather than deep inside a training run. No other
module of the package reads an underscored RLlib name (tests/test_architecture.py).

Importing this module does not import ray; the functions do.
"""

from __future__ import annotations

#: the Ray release every access below was checked against
CHECKED_RAY_VERSION = "2.60.0"


def registered_env_creator(name: str):
    """The creator registered with ``ray.tune.register_env(name, creator)``.

    Ray 2.60.0: ``ray.tune.registry._global_registry.get(ENV_CREATOR, name)`` (Tune has
    no public getter of a registered creator).
    """
    from ray.tune.registry import ENV_CREATOR, _global_registry
    return _global_registry.get(ENV_CREATOR, name)


def reset_stale_registry_prefix(job_id: str) -> bool:
    """Make Tune's registry key new entries by the current Ray job; True if it was stale.

    Ray 2.60.0: ``_global_registry._prefix`` caches the job id of the first Ray session of
    the process (``None`` until first used); setting it to ``None`` makes the registry read
    the current job's id on its next use.
    """
    from ray.tune import registry
    cached = getattr(registry._global_registry, "_prefix", None)
    if cached is not None and cached != job_id:
        registry._global_registry._prefix = None
        return True
    return False


def local_learner(learner_group):
    """The learner of a LearnerGroup without remote learners (``num_learners: 0``), else None.

    Ray 2.60.0: ``LearnerGroup._learner`` (set in ``__init__`` when the group is local).
    """
    return learner_group._learner


def learner_connector(learner):
    """A Learner's learner connector pipeline (a ``ConnectorPipelineV2``).

    Ray 2.60.0: ``Learner._learner_connector`` (built in ``Learner.build``).
    """
    return learner._learner_connector


def torch_distribution(dist):
    """The ``torch.distributions.Distribution`` inside an RLlib ``TorchDistribution``.

    Ray 2.60.0: ``TorchDistribution._dist`` (set in ``__init__`` by ``_get_torch_distribution``).
    """
    return dist._dist


def include_in_model_config(extra):
    """Class decorator for an ``AlgorithmConfig`` subclass: add ``extra(config) -> dict`` to
    the model config RLlib passes to the RLModules it builds.

    Ray 2.60.0: ``AlgorithmConfig._model_config_auto_includes`` (a property returning a dict,
    merged into ``model_config`` when the RLModule spec is built).
    """
    def decorate(cls):
        def includes(self):
            return {**super(cls, self)._model_config_auto_includes, **extra(self)}
        cls._model_config_auto_includes = property(includes)
        return cls
    return decorate


def squashed_gaussian_at(logits, noise):
    """``(action, logp)`` of RLlib's SAC distribution (``TorchSquashedGaussian`` on
    ``[-1, 1]``) at the sample ``loc + scale * noise``: what ``rsample_and_logp()`` returns
    when its standard-normal draw is ``noise`` (differentiable in ``logits``).

    Why: the draw then comes from each seed's own stream, not torch's global generator.
    Ray 2.60.0: ``TorchSquashedGaussian._squash`` and ``._squashed_logp`` (the squashing and
    its exact log-density of an unsquashed sample; no public method takes the sample).
    """
    from ray.rllib.core.distribution.torch.torch_distribution import TorchSquashedGaussian
    dist = TorchSquashedGaussian.from_logits(logits)
    unsquashed = dist.loc + torch_distribution(dist).scale * noise
    return dist._squash(unsquashed), dist._squashed_logp(unsquashed)


def sac_losses(learner) -> dict:
    """The per-optimiser losses an RLlib ``SACTorchLearner`` keeps between its loss and its
    gradients, keyed ``(module_id, "<optimizer name>_loss")``.

    Ray 2.60.0: ``SACTorchLearner._temp_losses`` (filled in ``compute_loss_for_module``,
    emptied by ``compute_gradients``, which backpropagates each one to its optimiser).
    """
    return learner._temp_losses


def exact_first_rates(learner) -> None:
    """Every optimiser of ``learner`` that has a learning-rate schedule starts at its
    schedule's value at period 0 as a Python float, as a fixed rate does.

    Why: RLlib registers a scheduled optimiser at its ``Scheduler``'s current value, a
    float32 tensor (``1e-3`` becomes ``0.0010000000475``), until the first update steps it,
    so a flat schedule's first update would differ from the same fixed rate's.
    Ray 2.60.0: ``Learner._optimizer_lr_schedules`` (optimiser -> ``Scheduler``) and
    ``Learner._set_optimizer_lr``; ``Scheduler.update(0)`` returns the Python value.
    """
    for optimizer, schedule in learner._optimizer_lr_schedules.items():
        learner._set_optimizer_lr(optimizer, lr=schedule.update(timestep=0))


def adapt_members_kl_coeffs(learner, module_id, config) -> None:
    """RLlib's adaptive KL rule applied per member of a stacked PPO module: member ``m``'s
    coefficient times 1.5 when its own mean KL of the update's last minibatch is above
    ``2 kl_target``, times 0.5 below ``kl_target / 2``. The KLs are
    ``learner.members_kl[module_id]`` ``(M,)``; the coefficients ``(M,)`` sit in RLlib's place,
    ``learner.curr_kl_coeffs_per_module[module_id]``, updated in place.

    Why here: it replaces a private hook. Ray 2.60.0: ``PPOLearner.after_gradient_based_update``
    calls ``self._update_module_kl_coeff(module_id=, config=, kl_loss=)`` per module (with
    ``use_kl_loss`` and a logged KL); ``PPOTorchLearner``'s own adapts one scalar coefficient from
    ``kl_loss``, the mean KL over all rows, which would couple the members. The learner
    (:class:`marketsai.rl.seed_batched_ppo.StackedPPOLearner`) overrides the hook with this.
    """
    import torch
    kl, target = learner.members_kl[module_id], config.kl_target
    factor = torch.where(kl > 2.0 * target, 1.5, torch.where(kl < 0.5 * target, 0.5, 1.0))
    learner.curr_kl_coeffs_per_module[module_id].data *= factor.to(torch.float32)
