"""Seeds as a batch inside RLlib, PPO on a grid: one RLModule with a member axis, RLlib's own
PPO loss.

The pattern of :mod:`marketsai.rl.seed_batched_rllib` (DQN) for RLlib's
``PPOTorchLearner``: :class:`StackedPPOModule` holds ``M`` policies and value functions as
:class:`~marketsai.rl.ensemble.StackedMLP` and returns RLlib's columns on ``M`` equal blocks
of rows (``action_dist_inputs``; ``compute_values`` for RLlib's ``ValueFunctionAPI``), so
``PPOTorchLearner.compute_loss_for_module`` runs unchanged; :class:`StackedPPOLearner`
multiplies it by ``M`` (its terms are row means) and clips per member.

Three things RLlib does over the module's whole batch would couple the seeds; the run
(:mod:`marketsai.rl.batched_ppo`) does them per member instead:

* advantages: RLlib's ``GeneralAdvantageEstimation`` connector standardises them over the
  module's batch; the run computes GAE and standardises per member and passes
  ``advantages`` and ``value_targets`` as columns (a batch given to ``Learner.update``
  skips the learner connector);
* minibatches: RLlib's ``MiniBatchCyclicIterator`` slices the shuffled module batch; the
  run cuts each member's minibatch from its own permutation and updates once per
  minibatch;
* the KL penalty: ``curr_kl_coeffs_per_module`` is one scalar per module, adapted from the
  KL averaged over all rows, and the loss adds it times that mean; here ``use_kl_loss`` is
  off (refused: the clipped surrogate alone), as a per-member coefficient would need a
  per-member mean KL inside RLlib's loss.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.torch.torch_distribution import TorchCategorical
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.torch.torch_rl_module import TorchRLModule
from ray.rllib.evaluation.postprocessing import Postprocessing
from ray.rllib.policy.sample_batch import SampleBatch

from marketsai.rl import seed_batched_rllib as stacked
from marketsai.rl.ensemble import StackedMLP
from marketsai.rl.seed_batched_rllib import MODULE_ID, LearnerMembers, PerMemberClipping, by_member


class StackedPPOModule(TorchRLModule, ValueFunctionAPI):
    """``M`` categorical policies and value functions as one RLModule; rows in ``M`` blocks.

    ``model_config``: ``members``, ``hiddens``, ``member_seeds`` (member ``m``'s policy, then
    value function, drawn from ``torch.Generator().manual_seed(member_seeds[m])``).
    """

    def setup(self):
        cfg = self.model_config
        self.members, generators = stacked.member_generators(cfg)
        obs_dim = int(np.prod(self.observation_space.shape))
        self.pi = StackedMLP(self.members, obs_dim, cfg["hiddens"], int(self.action_space.n))
        self.vf = StackedMLP(self.members, obs_dim, cfg["hiddens"], 1)
        for m, gen in enumerate(generators):
            for net in (self.pi, self.vf):
                net.init_member(m, gen)

    def logits(self, obs: torch.Tensor) -> torch.Tensor:
        """The policies' logits ``(M * R, A)`` of rows ``(M * R, d)``."""
        x = self.pi(by_member(obs.float(), self.members))
        return x.reshape(-1, x.shape[-1])

    def get_train_action_dist_cls(self):
        return TorchCategorical

    def get_exploration_action_dist_cls(self):
        return TorchCategorical

    def get_inference_action_dist_cls(self):
        return TorchCategorical

    def compute_values(self, batch, embeddings=None):
        return self.vf(by_member(batch[Columns.OBS].float(), self.members)).reshape(-1)

    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.logits(batch[Columns.OBS])}


class StackedPPOLearner(PerMemberClipping, PPOTorchLearner):
    """RLlib's PPO learner on a :class:`StackedPPOModule`: its loss times ``M``, per-member
    clipping; no KL penalty (see the module docstring)."""

    def compute_loss_for_module(self, *, module_id, config, batch, fwd_out):
        if config.use_kl_loss:
            raise ValueError("the members' PPO learner runs without RLlib's KL penalty (one coefficient per module "
                             "couples the members)")
        members = self.module[module_id].unwrapped().members
        return members * super().compute_loss_for_module(module_id=module_id, config=config, batch=batch,
                                                         fwd_out=fwd_out)


def ppo_learner_group(member_seeds, obs_dim: int, hiddens, n_actions: int, *, lr: float, clip_param: float,
                      vf_clip_param: float, vf_loss_coeff: float, entropy_coeff: float, grad_clip, device: str = "cpu"):
    """RLlib's ``LearnerGroup`` (one local learner) of the members' :class:`StackedPPOModule`."""
    config = (PPOConfig()
              .training(lr=lr, clip_param=clip_param, vf_clip_param=vf_clip_param, vf_loss_coeff=vf_loss_coeff,
                        entropy_coeff=entropy_coeff, use_kl_loss=False, kl_coeff=0.0, grad_clip=grad_clip,
                        grad_clip_by="global_norm"))
    return stacked.members_group(config, StackedPPOLearner, StackedPPOModule, member_seeds, obs_dim, hiddens,
                         gym.spaces.Discrete(n_actions), device)


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

    def evaluate(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(logits (M, R, A), values (M, R))`` of ``obs (M, R, d)``."""
        with torch.no_grad():
            flat = torch.from_numpy(obs.reshape(-1, obs.shape[-1])).to(self.device)
            logits = self.module.logits(flat).cpu().numpy()
            values = self.module.compute_values({Columns.OBS: flat}).cpu().numpy()
        return logits.reshape(obs.shape[0], obs.shape[1], -1), values.reshape(obs.shape[0], obs.shape[1])

    @staticmethod
    def columns(flat: dict):
        """RLlib's PPO loss columns (advantages already standardised per member)."""
        return SampleBatch({Columns.OBS: flat["obs"], Columns.ACTIONS: flat["actions"],
                            Columns.ACTION_LOGP: flat["logp"], Columns.ACTION_DIST_INPUTS: flat["logits"],
                            Postprocessing.ADVANTAGES: flat["advantages"],
                            Postprocessing.VALUE_TARGETS: flat["value_targets"]})
