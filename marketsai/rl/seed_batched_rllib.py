"""Seeds as a batch *inside RLlib*: one RLModule with a member axis, RLlib's DQN learner.

Why: RLlib pays the fixed cost of its update (batch conversion, connectors, metrics,
optimiser step) once per algorithm, so one algorithm per seed pays it ``S`` times. Here the
``M`` members of a batched run -- every agent of every seed (``policies: agent``) or every
seed (``shared``) -- are *one* RLModule whose parameters carry a leading member axis
(:class:`~marketsai.rl.ensemble.StackedMLP`), and RLlib's own learner updates it:

* :class:`StackedQModule` implements RLlib's ``QNetAPI`` and ``TargetNetworkAPI``. Its
  batches hold ``M`` equal blocks of rows, member ``m``'s rows in block ``m``; its forward
  reshapes ``(M * R, d) -> (M, R, d)`` and returns RLlib's DQN columns flat
  (``qf_preds``, ``qf_next_preds``, ``qf_target_next_preds``), so that
  ``DQNTorchLearner.compute_loss_for_module`` -- RLlib's loss, unchanged -- runs on the
  flattened ``M * R`` rows.
* :class:`StackedDQNLearner` (a ``DQNTorchLearner``) multiplies that loss by ``M``: its
  mean over ``M * R`` rows is ``(1/M) sum_m mean_m`` and the members' parameters are
  disjoint, so the gradient with respect to member ``m``'s slice becomes member ``m``'s
  own (exact up to summation order). It clips gradients by global norm *per member*
  (``postprocess_gradients_for_module``: RLlib's norm over the module would couple the
  members) and builds Adam with ``adam_epsilon`` (RLlib 2.60's ``TorchLearner`` builds
  ``Adam(params)`` and ignores DQN's ``adam_epsilon``). Adam is elementwise, so one
  optimiser over the stacked tensors keeps each member's moments; RLlib's target update
  (``update_target_network``, a hard copy at ``tau: 1``) is elementwise too, and all
  members share the timestep that decides it.
* :class:`RLlibMembers` is what :class:`~marketsai.rl.batched_dqn.BatchedRun` trains with
  ``backend: rllib`` -- the same environment stepping, per-seed exploration, replay rings
  and per-seed random streams as the plain-torch backend -- with RLlib's ``LearnerGroup``
  (one local learner) doing each update:
  ``learner_group.update(batch=MultiAgentBatch, timesteps=...)`` as
  :class:`marketsai.rl.replay.SessionsReplay` does. Exploration stays in the run, drawn
  from each seed's own stream (the module's epsilon-greedy draws from torch's global
  generator, shared by all members); the module only gives the greedy actions
  (``forward_inference``).

Checkpoints: the learner's RLlib state (``Learner.get_state``: module with its target
network, optimiser, metrics) inside ``dqn_batched.pt`` with the run's per-seed state, plus
the learner's timestep of the last target update, which RLlib keeps outside its state
(``DQNLearner.last_update_ts_by_mid``) -- without it a restored learner would copy its
targets at the first update after a resume.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.dqn import DQNConfig
from ray.rllib.algorithms.dqn.dqn_learner import QF_NEXT_PREDS, QF_PREDS, QF_TARGET_NEXT_PREDS
from ray.rllib.algorithms.dqn.torch.dqn_torch_learner import DQNTorchLearner
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.utils import make_target_network
from ray.rllib.core.rl_module.apis import QNetAPI, TargetNetworkAPI
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.core.rl_module.torch.torch_rl_module import TorchRLModule
from ray.rllib.policy.sample_batch import MultiAgentBatch
from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

from marketsai.errors import NonFiniteLoss
from marketsai.rl.ensemble import (
    StackedMLP,
    clip_per_member,
    nonfinite_members,
    stop_unless_finite_gradients,
)
from marketsai.rl.replay import transitions
from marketsai.rl.rllib_internals import exact_first_rates, local_learner

#: the module id of the members' one RLModule
MODULE_ID = "members"


def by_member(x: torch.Tensor, members: int) -> torch.Tensor:
    """Rows ``(M * R, ...) -> (M, R, -1)`` (member ``m``'s rows are block ``m``)."""
    if x.shape[0] % members:
        raise ValueError(f"a batch of {x.shape[0]} rows is not {members} equal blocks of members' rows")
    return x.reshape(members, x.shape[0] // members, -1)


def member_generators(model_config) -> tuple[int, list]:
    """``(M, generators)``: member ``m``'s ``torch.Generator`` seeded ``member_seeds[m]`` (its
    initial weights and nothing else)."""
    members, seeds = int(model_config["members"]), list(model_config["member_seeds"])
    if len(seeds) != members:
        raise ValueError(f"member_seeds has {len(seeds)} entries for {members} members")
    return members, [torch.Generator().manual_seed(int(x)) for x in seeds]


class PerMemberClipping:
    """A Learner mixin: clip each optimiser's gradients by global norm *per member*, and stop
    at a non-finite gradient (:func:`~marketsai.rl.ensemble.stop_unless_finite_gradients`).

    RLlib clips by global norm once per optimiser of a module
    (``Learner.postprocess_gradients_for_module``); over a module with a member axis that
    norm would couple the members, so here it runs over each member's slices only
    (:func:`~marketsai.rl.ensemble.clip_per_member`). The members' norms it computes are
    what the gradient check reads (a non-finite gradient makes its member's norm non-finite),
    so with clipping on the check costs nothing; without, a sum of each gradient."""

    def postprocess_gradients_for_module(self, *, module_id, config=None, module_gradients_dict):
        members = self.module[module_id].unwrapped().members
        if config.grad_clip is None:
            stop_unless_finite_gradients(list(module_gradients_dict.values()), members)
            return dict(module_gradients_dict)
        if config.grad_clip_by != "global_norm":
            raise ValueError(f"grad_clip_by {config.grad_clip_by!r}: the members' learner clips by global_norm "
                             "per member only")
        for name, optimizer in self.get_optimizers_for_module(module_id):
            grads = list(self.filter_param_dict_for_optimizer(param_dict=module_gradients_dict,
                                                              optimizer=optimizer).values())
            norms = clip_per_member(grads, config.grad_clip)
            stop_unless_finite_gradients(grads, members, norms)
            self.metrics.log_value((module_id, f"gradients_{name}_max_member_global_norm"), norms.max().item(),
                                   window=1)
        return dict(module_gradients_dict)


class StopAtNonFinite:
    """A Learner mixin: raise :class:`~marketsai.errors.NonFiniteLoss` at the first NaN or
    infinite loss of the members' module, before the update is applied (its gradients are
    checked by :class:`PerMemberClipping`).

    Why: RLlib's ``TorchLearner.apply_gradients`` (2.60) sets non-finite gradients to zero,
    logs two warnings per parameter (each quoting the whole parameter) and steps on -- a run
    that learns nothing for hours and exits 0. Its ``torch_skip_nan_gradients: true`` is no
    cure: it then steps the optimiser *with* the NaN gradients (the skipping branch is
    unreachable), so it is left at its default, and these checks make that path unreachable.
    The cost is one ``isfinite`` of the total loss an update; only a failure pays for
    finding the members (their rows in the batch and the forward pass, and their share of
    the loss's gradients)."""

    def compute_losses(self, *, fwd_out, batch, **kwargs):
        losses = super().compute_losses(fwd_out=fwd_out, batch=batch, **kwargs)
        for module_id, loss in losses.items():
            if module_id in fwd_out and not bool(torch.isfinite(loss).all()):
                raise NonFiniteLoss(self._nonfinite_members(module_id, loss, batch[module_id], fwd_out[module_id]))
        return losses

    def _nonfinite_members(self, module_id, loss, batch, fwd_out) -> list[int]:
        """The members whose batch rows, forward-pass rows or share of the loss's gradients
        hold a NaN or an infinity."""
        members = self.module[module_id].unwrapped().members
        params = [p for _, optimizer in self.get_optimizers_for_module(module_id)
                  for group in optimizer.param_groups for p in group["params"] if p.requires_grad]
        grads = torch.autograd.grad(loss, params, allow_unused=True) if loss.requires_grad else []
        return nonfinite_members(members, [*batch.values(), *fwd_out.values(), *grads])


class StackedQModule(TorchRLModule, QNetAPI, TargetNetworkAPI):
    """``M`` Q-networks as one RLModule; rows in ``M`` equal blocks, one per member.

    ``model_config``: ``members`` (M), ``hiddens``, ``member_seeds`` (member ``m``'s
    initial weights from ``torch.Generator().manual_seed(member_seeds[m])``, as
    :class:`~marketsai.rl.ensemble.DQNEnsemble` draws them).
    """

    def setup(self):
        cfg = self.model_config
        self.members, generators = member_generators(cfg)
        obs_dim = int(np.prod(self.observation_space.shape))
        self.q_net = StackedMLP(self.members, obs_dim, cfg["hiddens"], int(self.action_space.n))
        for m, gen in enumerate(generators):
            self.q_net.init_member(m, gen)

    def _by_member(self, x: torch.Tensor) -> torch.Tensor:
        return by_member(x, self.members)

    def _q(self, net: StackedMLP, obs: torch.Tensor) -> torch.Tensor:
        q = net(self._by_member(obs.float()))
        return q.reshape(-1, q.shape[-1])

    # ---------------------------------------------------------------- RLlib's APIs
    def compute_q_values(self, batch):
        return {QF_PREDS: self._q(self.q_net, batch[Columns.OBS])}

    def make_target_networks(self) -> None:
        self.target_q_net = make_target_network(self.q_net)

    def get_target_network_pairs(self):
        return [(self.q_net, self.target_q_net)]

    def forward_target(self, batch):
        return {QF_PREDS: self._q(self.target_q_net, batch[Columns.OBS])}

    def _forward_inference(self, batch, **kwargs):
        with torch.no_grad():
            return {Columns.ACTIONS: self.compute_q_values(batch)[QF_PREDS].argmax(dim=-1)}

    def _forward_train(self, batch, **kwargs):
        """RLlib's DQN columns; the online network sees current and next observations in
        one forward pass (double-Q), concatenated along each member's rows."""
        obs, nxt = self._by_member(batch[Columns.OBS].float()), self._by_member(batch[Columns.NEXT_OBS].float())
        q = self.q_net(torch.cat([obs, nxt], dim=1))
        n = obs.shape[1]
        flat = lambda x: x.reshape(-1, x.shape[-1])  # noqa: E731
        return {QF_PREDS: flat(q[:, :n]), QF_NEXT_PREDS: flat(q[:, n:]),
                QF_TARGET_NEXT_PREDS: self.forward_target({Columns.OBS: batch[Columns.NEXT_OBS]})[QF_PREDS]}


class StackedDQNLearner(StopAtNonFinite, PerMemberClipping, DQNTorchLearner):
    """RLlib's DQN learner on a :class:`StackedQModule`: its loss times ``M``, per-member
    clipping, Adam with ``adam_epsilon`` (see the module docstring)."""

    def configure_optimizers_for_module(self, module_id, config=None):
        params = self.get_parameters(self.module[module_id])
        self.register_optimizer(module_id=module_id, optimizer=torch.optim.Adam(params, eps=config.adam_epsilon),
                                params=params, lr_or_lr_schedule=config.lr)

    def compute_loss_for_module(self, *, module_id, config, batch, fwd_out):
        members = self.module[module_id].unwrapped().members
        return members * super().compute_loss_for_module(module_id=module_id, config=config, batch=batch,
                                                         fwd_out=fwd_out)



def learner_group(member_seeds, obs_dim: int, hiddens, n_actions: int, *, lr: float, adam_epsilon: float,
                  grad_clip, gamma: float, double_q: bool, huber: bool, target_network_update_freq: int,
                  device: str = "cpu"):
    """RLlib's ``LearnerGroup`` (one local learner) of the members' :class:`StackedQModule`."""
    config = (DQNConfig()
              .training(lr=lr, adam_epsilon=adam_epsilon, gamma=gamma, double_q=double_q, dueling=False,
                        num_atoms=1, n_step=1, td_error_loss_fn="huber" if huber else "mse", grad_clip=grad_clip,
                        grad_clip_by="global_norm", tau=1.0, target_network_update_freq=target_network_update_freq)
              )
    return members_group(config, StackedDQNLearner, StackedQModule, member_seeds, obs_dim, hiddens,
                         gym.spaces.Discrete(n_actions), device)


def members_group(config, learner_class, module_class, member_seeds, obs_dim: int, hiddens, action_space,
                  device: str = "cpu"):
    """RLlib's ``LearnerGroup`` of ``config`` with one local ``learner_class`` over one
    ``module_class`` RLModule of the members (module id :data:`MODULE_ID`)."""
    config = config.learners(learner_class=learner_class, num_learners=0,
                             num_gpus_per_learner=0 if device == "cpu" else 1)
    spec = RLModuleSpec(module_class=module_class,
                        observation_space=gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32),
                        action_space=action_space,
                        model_config={"members": len(member_seeds), "hiddens": list(hiddens),
                                      "member_seeds": [int(x) for x in member_seeds]})
    return config.build_learner_group(rl_module_spec=MultiRLModuleSpec(rl_module_specs={MODULE_ID: spec}))


class LearnerMembers:
    """The members as RLlib's (local) learner holds them: the module, an update of all
    members on one batch, and the learner's state for a checkpoint."""

    def __init__(self, group):
        self.group = group
        self.learner = local_learner(group)
        exact_first_rates(self.learner)  # a schedule starts where the same fixed rate would
        self.module = self.learner.module[MODULE_ID].unwrapped()
        self.device = self.learner.device

    def columns(self, flat: dict):
        """RLlib's loss columns of the flattened ``M * k`` rows."""
        return transitions(flat["obs"], flat["actions"], flat["rewards"], flat["next_obs"])

    def update(self, batch: dict, periods: int, minibatches: int = 1) -> dict:
        """One RLlib update of all members on ``batch`` (arrays ``(M, n * k, ...)``): a
        gradient step on each of its ``n`` = ``minibatches`` minibatches in turn (member
        ``m``'s rows ``j * k`` to ``(j + 1) * k`` in the ``j``-th), cut by RLlib's unshuffled
        minibatch iterator from the minibatches laid end to end; RLlib's learner updates the
        targets when ``periods`` say so."""
        M, rows = next(iter(batch.values())).shape[:2]
        if rows % minibatches:
            raise ValueError(f"{rows} rows a member are not {minibatches} equal minibatches")
        k, cut, tail = rows // minibatches, {}, {c: v.shape[2:] for c, v in batch.items()}
        if minibatches > 1:  # minibatch-major: (n, M, k, ...)
            batch = {c: v.reshape((M, minibatches, k) + tail[c]).swapaxes(0, 1) for c, v in batch.items()}
            cut = {"minibatch_size": M * k}
        flat = {c: v.reshape((M * rows,) + tail[c]) for c, v in batch.items()}
        return self.group.update(batch=MultiAgentBatch({MODULE_ID: self.columns(flat)}, env_steps=M * rows),
                                 timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: int(periods)}, **cut)

    def state_dict(self) -> dict:
        return {"learner": self.learner.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.learner.set_state(state["learner"])


class RLlibMembers(LearnerMembers):
    """The DQN members, with what ``BatchedRun`` asks of its networks: Q-values to act on,
    the member layers, the device, an update and a state."""

    @property
    def online(self) -> StackedMLP:
        return self.module.q_net

    @property
    def target(self) -> StackedMLP:
        return self.module.target_q_net

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        return self.learner.get_optimizer(MODULE_ID)

    def q_values(self, obs: torch.Tensor) -> torch.Tensor:
        """``obs (M, R, d) -> (M, R, A)``."""
        with torch.no_grad():
            q = self.module.compute_q_values({Columns.OBS: obs.reshape(-1, obs.shape[-1])})[QF_PREDS]
        return q.reshape(obs.shape[0], obs.shape[1], -1)

    def state_dict(self) -> dict:
        """The learner's state and the timestep of its last target copy (RLlib keeps it outside)."""
        return super().state_dict() | {"last_target_update": dict(self.learner.last_update_ts_by_mid)}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.learner.last_update_ts_by_mid.clear()
        self.learner.last_update_ts_by_mid.update(state["last_target_update"])
