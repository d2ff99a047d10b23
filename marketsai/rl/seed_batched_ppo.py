"""Seeds as a batch inside RLlib, PPO: one RLModule with a member axis, RLlib's own PPO loss
(categorical on a grid, diagonal Gaussian on intervals).

The pattern of :mod:`marketsai.rl.seed_batched_rllib` (DQN) for RLlib's
``PPOTorchLearner``: :class:`StackedPPOModule` holds ``M`` policies and value functions as
:class:`~marketsai.rl.ensemble.StackedMLP` and returns RLlib's columns on ``M`` equal blocks
of rows (``action_dist_inputs``; ``compute_values`` for RLlib's ``ValueFunctionAPI``), so
``PPOTorchLearner.compute_loss_for_module`` runs unchanged; :class:`StackedPPOLearner`
multiplies it by ``M`` (its terms are row means, so member ``m``'s gradient is its own) and
clips per member. On a ``Box`` action space of ``D`` dimensions each policy gives ``2 D``
outputs (the Gaussian's location and log-std, RLlib's ``TorchDiagGaussian`` inputs, as its
default PPO module without ``free_log_std``); actions live on RLlib's normalised scale and the
run maps them onto the intervals as RLlib's ``unsquash_action`` does (clipped).

Three things RLlib does over the module's whole batch would couple the seeds; they are done
per member instead:

* advantages: RLlib's ``GeneralAdvantageEstimation`` connector standardises them over the
  module's batch; the run (:mod:`marketsai.rl.batched_ppo`) computes GAE and standardises
  per member and passes ``advantages`` and ``value_targets`` as columns (a batch given to
  ``Learner.update`` skips the learner connector);
* minibatches: RLlib's ``MiniBatchCyclicIterator`` slices the shuffled module batch; the
  run cuts each member's minibatch from its own permutation, lays the rollout's
  minibatches end to end and makes one ``Learner.update`` of them, which RLlib's iterator
  (unshuffled, ``minibatch_size`` ``M`` times a member's rows) cuts back into the same
  minibatches -- one gradient step each, and one ``after_gradient_based_update`` per
  rollout, as RLlib's PPO has per training iteration;
* the KL penalty: RLlib keeps one coefficient per module (``curr_kl_coeffs_per_module``),
  adds it times the KL averaged over all rows, and adapts it from that mean KL. Here
  :class:`StackedPPOLearner` keeps one coefficient per member in the same place (a tensor
  ``(M,)``), runs RLlib's loss without its KL term and adds, per member, its coefficient
  times its own mean KL over its own rows (RLlib's ``kl`` of the old and the current action
  distribution); after each ``Learner.update`` RLlib calls its private hook (Ray 2.60), which
  here applies RLlib's rule per member (:func:`marketsai.rl.rllib_internals.adapt_members_kl_coeffs`)
  -- x1.5 when the member's KL of the update's last minibatch is above ``2 kl_target``, x0.5
  below ``kl_target / 2``.
  RLlib's learner state omits the coefficients; :class:`RLlibPPOMembers` checkpoints them.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.algorithms.ppo.ppo import LEARNER_RESULTS_KL_KEY
from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.torch.torch_distribution import TorchCategorical, TorchDiagGaussian
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.torch.torch_rl_module import TorchRLModule
from ray.rllib.evaluation.postprocessing import Postprocessing
from ray.rllib.policy.sample_batch import SampleBatch
from ray.rllib.utils.lambda_defaultdict import LambdaDefaultDict

from marketsai.rl import rllib_internals
from marketsai.rl import seed_batched_rllib as stacked
from marketsai.rl.ensemble import StackedMLP
from marketsai.rl.seed_batched_rllib import (
    MODULE_ID,
    LearnerMembers,
    PerMemberClipping,
    StopAtNonFinite,
    by_member,
)


class StackedPPOModule(TorchRLModule, ValueFunctionAPI):
    """``M`` policies (categorical on a ``Discrete`` space, diagonal Gaussian on a ``Box``)
    and value functions as one RLModule; rows in ``M`` blocks.

    ``model_config``: ``members``, ``hiddens``, ``member_seeds`` (member ``m``'s policy, then
    value function, drawn from ``torch.Generator().manual_seed(member_seeds[m])``).
    """

    def setup(self):
        cfg = self.model_config
        self.members, generators = stacked.member_generators(cfg)
        obs_dim = int(np.prod(self.observation_space.shape))
        self.discrete = isinstance(self.action_space, gym.spaces.Discrete)
        outputs = int(self.action_space.n) if self.discrete else 2 * int(np.prod(self.action_space.shape))
        self.dist_cls = TorchCategorical if self.discrete else TorchDiagGaussian
        self.pi = StackedMLP(self.members, obs_dim, cfg["hiddens"], outputs)
        self.vf = StackedMLP(self.members, obs_dim, cfg["hiddens"], 1)
        for m, gen in enumerate(generators):
            for net in (self.pi, self.vf):
                net.init_member(m, gen)

    def logits(self, obs: torch.Tensor) -> torch.Tensor:
        """The policies' distribution inputs of rows ``(M * R, d)``: logits ``(M * R, A)``, or
        locations and log-stds ``(M * R, 2 D)``."""
        x = self.pi(by_member(obs.float(), self.members))
        return x.reshape(-1, x.shape[-1])

    def get_train_action_dist_cls(self):
        return self.dist_cls

    def get_exploration_action_dist_cls(self):
        return self.dist_cls

    def get_inference_action_dist_cls(self):
        return self.dist_cls

    def compute_values(self, batch, embeddings=None):
        return self.vf(by_member(batch[Columns.OBS].float(), self.members)).reshape(-1)

    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.logits(batch[Columns.OBS])}


class StackedPPOLearner(StopAtNonFinite, PerMemberClipping, PPOTorchLearner):
    """RLlib's PPO learner on a :class:`StackedPPOModule`: its loss times ``M``, per-member
    clipping, and the KL penalty with one adaptive coefficient per member (see the module
    docstring)."""

    def build(self) -> None:
        super().build()
        # RLlib's one KL coefficient per module becomes one per member, in RLlib's place
        self.curr_kl_coeffs_per_module = LambdaDefaultDict(self.initial_kl_coeffs)
        #: each member's mean KL ``(M,)`` in the last loss, per module: what the coefficients adapt from
        self.members_kl = {}
        #: per module, its config without RLlib's KL term (the members' term replaces it)
        self.config_without_kl = LambdaDefaultDict(
            lambda module_id: self.config.get_config_for_module(module_id).copy(copy_frozen=False).training(
                use_kl_loss=False))

    def initial_kl_coeffs(self, module_id) -> torch.Tensor:
        """``(M,)`` copies of ``kl_coeff`` (float32, as RLlib's scalar)."""
        members = self.module[module_id].unwrapped().members
        return torch.full((members,), float(self.config.get_config_for_module(module_id).kl_coeff),
                          dtype=torch.float32, device=self.device)

    def compute_loss_for_module(self, *, module_id, config, batch, fwd_out):
        module = self.module[module_id].unwrapped()
        if not config.use_kl_loss:
            return module.members * super().compute_loss_for_module(module_id=module_id, config=config, batch=batch,
                                                                    fwd_out=fwd_out)
        loss = module.members * super().compute_loss_for_module(
            module_id=module_id, config=self.config_without_kl[module_id], batch=batch, fwd_out=fwd_out)
        # RLlib's KL of the old and the current action distribution, averaged over each member's rows
        old = module.get_exploration_action_dist_cls().from_logits(batch[Columns.ACTION_DIST_INPUTS])
        new = module.get_train_action_dist_cls().from_logits(fwd_out[Columns.ACTION_DIST_INPUTS])
        kl = by_member(old.kl(new), module.members).mean(dim=1)[:, 0]
        self.members_kl[module_id] = kl.detach()
        self.metrics.log_value((module_id, LEARNER_RESULTS_KL_KEY), kl.detach().mean(), window=1)
        return loss + (self.curr_kl_coeffs_per_module[module_id] * kl).sum()

    def _update_module_kl_coeff(self, *, module_id, config, kl_loss) -> None:  # RLlib's hook: see the adapter
        rllib_internals.adapt_members_kl_coeffs(self, module_id, config)


def ppo_learner_group(member_seeds, obs_dim: int, hiddens, n_actions: int | None, *, lr: float, clip_param: float,
                      vf_clip_param: float, vf_loss_coeff: float, entropy_coeff: float, grad_clip,
                      use_kl_loss: bool, kl_coeff: float, kl_target: float, device: str = "cpu",
                      action_dim: int = 1):
    """RLlib's ``LearnerGroup`` (one local learner) of the members' :class:`StackedPPOModule`:
    ``n_actions`` choices, or with ``n_actions`` None ``action_dim`` dimensions on ``[-1, 1]``."""
    config = (PPOConfig()
              .training(lr=lr, clip_param=clip_param, vf_clip_param=vf_clip_param, vf_loss_coeff=vf_loss_coeff,
                        entropy_coeff=entropy_coeff, use_kl_loss=use_kl_loss, kl_coeff=float(kl_coeff),
                        kl_target=float(kl_target), grad_clip=grad_clip, grad_clip_by="global_norm"))
    return stacked.members_group(config, StackedPPOLearner, StackedPPOModule, member_seeds, obs_dim, hiddens,
                         gym.spaces.Discrete(n_actions) if n_actions is not None
                         else gym.spaces.Box(-1.0, 1.0, (int(action_dim),), np.float32), device)


class RLlibPPOMembers(LearnerMembers):
    """The PPO members: action probabilities and values to act and estimate advantages with,
    the policies' layers, the optimiser, an update on a minibatch and a state."""

    @property
    def online(self) -> StackedMLP:
        """The policies (a greedy policy acts on their logits' argmax)."""
        return self.module.pi

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        return self.learner.get_optimizer(MODULE_ID)

    def _flat(self, obs: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(obs.reshape(-1, obs.shape[-1])).to(self.device)

    def dist_inputs(self, obs: np.ndarray) -> np.ndarray:
        """The policies' distribution inputs ``(M, R, A or 2 D)`` of ``obs (M, R, d)`` (what
        acting needs: no value function)."""
        with torch.no_grad():
            logits = self.module.logits(self._flat(obs)).cpu().numpy()
        return logits.reshape(obs.shape[0], obs.shape[1], -1)

    def values(self, obs: np.ndarray) -> np.ndarray:
        """The value functions' estimates ``(M, R)`` of ``obs (M, R, d)``."""
        with torch.no_grad():
            values = self.module.compute_values({Columns.OBS: self._flat(obs)}).cpu().numpy()
        return values.reshape(obs.shape[0], obs.shape[1])

    def evaluate(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(distribution inputs (M, R, A or 2 D), values (M, R))`` of ``obs (M, R, d)``."""
        return self.dist_inputs(obs), self.values(obs)

    @staticmethod
    def columns(flat: dict):
        """RLlib's PPO loss columns (advantages already standardised per member)."""
        return SampleBatch({Columns.OBS: flat["obs"], Columns.ACTIONS: flat["actions"],
                            Columns.ACTION_LOGP: flat["logp"], Columns.ACTION_DIST_INPUTS: flat["logits"],
                            Postprocessing.ADVANTAGES: flat["advantages"],
                            Postprocessing.VALUE_TARGETS: flat["value_targets"]})

    @property
    def kl_coeffs(self) -> torch.Tensor:
        """The members' KL coefficients ``(M,)`` (RLlib's ``curr_kl_coeffs_per_module``, one per member)."""
        return self.learner.curr_kl_coeffs_per_module[MODULE_ID]

    def state_dict(self) -> dict:
        """The learner's state and the KL coefficients (RLlib's learner state omits them)."""
        return super().state_dict() | {"kl_coeffs": self.kl_coeffs.detach().cpu().clone()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.kl_coeffs.data.copy_(state["kl_coeffs"])
