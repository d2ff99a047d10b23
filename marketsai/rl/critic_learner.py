"""The learner, config and algorithm of the centralised critic (MAPPO-style PPO).

* :class:`CentralisedCriticLearner` -- PPO's torch learner with (1) the learner connector
  piece :class:`~marketsai.rl.critic_connector.AddGlobalObservations` inserted right after
  RLlib's observation piece, so that GAE (appended by PPO at the end of the pipeline)
  computes advantages from the central value, and (2) our PPO loss, written out below,
  whose value term regresses the central value on the GAE value targets.
* :class:`CentralisedCriticConfig` -- a ``PPOConfig`` whose learner and RLModule default
  to ours; :meth:`CentralisedCriticConfig.centralised_critic` tells it the agents (their
  order defines the global observation) and their observation sizes.
* :class:`CentralisedCriticPPO` -- PPO's training loop, unchanged, with this config.

See ``docs/centralised_critic.md`` for the data flow.
"""

from __future__ import annotations

import torch
from ray.rllib.algorithms.ppo import PPO, PPOConfig
from ray.rllib.algorithms.ppo.ppo import (
    LEARNER_RESULTS_KL_KEY,
    LEARNER_RESULTS_VF_EXPLAINED_VAR_KEY,
    LEARNER_RESULTS_VF_LOSS_UNCLIPPED_KEY,
)
from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.connectors.common.add_observations_from_episodes_to_batch import (
    AddObservationsFromEpisodesToBatch,
)
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.learner import ENTROPY_KEY, POLICY_LOSS_KEY, VF_LOSS_KEY
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.evaluation.postprocessing import Postprocessing
from ray.rllib.utils.torch_utils import explained_variance

from marketsai.rl.critic_connector import AddGlobalObservations
from marketsai.rl.critic_module import GLOBAL_OBS, CentralisedCriticModule
from marketsai.rl.rllib_internals import include_in_model_config, learner_connector


class CentralisedCriticLearner(PPOTorchLearner):
    """PPO learner whose advantages and value loss use the centralised critic."""

    def build(self) -> None:
        super().build()  # PPO: prepends AddOneTsToEpisodesAndTruncate, appends GAE
        pipeline = learner_connector(self)
        if pipeline is None:
            return
        names = [type(c).__name__ for c in pipeline.connectors]
        if "AddObservationsFromEpisodesToBatch" not in names:
            raise RuntimeError("the learner pipeline has no AddObservationsFromEpisodesToBatch; "
                               "keep add_default_connectors_to_learner_pipeline=True")
        pipeline.insert_after(AddObservationsFromEpisodesToBatch,
                              AddGlobalObservations(agents=self.config.cc_agents))

    def compute_loss_for_module(self, *, module_id, config, batch, fwd_out):
        module = self.module[module_id].unwrapped()
        if GLOBAL_OBS not in batch:
            raise KeyError(f"train batch of {module_id!r} lacks {GLOBAL_OBS!r}")
        if Columns.LOSS_MASK in batch:
            mask = batch[Columns.LOSS_MASK]

            def mean(x):
                return torch.sum(x[mask]) / torch.sum(mask)
        else:
            mean = torch.mean

        # Policy: PPO's clipped surrogate on the advantages from the *central* value.
        dist = module.get_train_action_dist_cls().from_logits(fwd_out[Columns.ACTION_DIST_INPUTS])
        ratio = torch.exp(dist.logp(batch[Columns.ACTIONS]) - batch[Columns.ACTION_LOGP])
        adv = batch[Postprocessing.ADVANTAGES]
        surrogate = torch.min(adv * ratio,
                              adv * torch.clamp(ratio, 1 - config.clip_param, 1 + config.clip_param))
        entropy = dist.entropy()

        # Critic: V(global observation) regressed on the GAE value targets.
        values = module.compute_values(batch)
        vf_err = torch.pow(values - batch[Postprocessing.VALUE_TARGETS], 2.0)
        vf_clipped = torch.clamp(vf_err, 0, config.vf_clip_param)

        entropy_coeff = self.entropy_coeff_schedulers_per_module[module_id].get_current_value()
        total = mean(-surrogate + config.vf_loss_coeff * vf_clipped - entropy_coeff * entropy)
        if config.use_kl_loss:
            old = module.get_exploration_action_dist_cls().from_logits(batch[Columns.ACTION_DIST_INPUTS])
            kl = mean(old.kl(dist))
            total = total + self.curr_kl_coeffs_per_module[module_id] * kl
        else:
            kl = torch.tensor(0.0, device=total.device)

        self.metrics.log_dict({
            POLICY_LOSS_KEY: -mean(surrogate),
            VF_LOSS_KEY: mean(vf_clipped),
            LEARNER_RESULTS_VF_LOSS_UNCLIPPED_KEY: mean(vf_err),
            LEARNER_RESULTS_VF_EXPLAINED_VAR_KEY: explained_variance(
                batch[Postprocessing.VALUE_TARGETS], values),
            ENTROPY_KEY: mean(entropy),
            LEARNER_RESULTS_KL_KEY: kl,
            "central_critic_input_width": float(batch[GLOBAL_OBS].shape[-1]),
        }, key=module_id, window=1)
        return total


# the module needs every agent's observation width to size its critic
@include_in_model_config(lambda config: {"cc_obs_dims": list(config.cc_obs_dims)})
class CentralisedCriticConfig(PPOConfig):
    """PPOConfig for :class:`CentralisedCriticPPO` (our learner and RLModule)."""

    def __init__(self, algo_class=None):
        super().__init__(algo_class=algo_class or CentralisedCriticPPO)
        self.cc_agents: list[str] = []
        self.cc_obs_dims: list[int] = []

    def get_default_learner_class(self):
        return CentralisedCriticLearner

    def get_default_rl_module_spec(self):
        return RLModuleSpec(module_class=CentralisedCriticModule)

    def centralised_critic(self, agents, obs_dims) -> CentralisedCriticConfig:
        """Agents in the order of the global observation, and their flat observation sizes."""
        if len(agents) != len(obs_dims):
            raise ValueError("one observation size per agent is needed")
        self.cc_agents = list(agents)
        self.cc_obs_dims = [int(d) for d in obs_dims]
        return self


class CentralisedCriticPPO(PPO):
    """PPO's training loop with the centralised-critic learner and module."""

    @classmethod
    def get_default_config(cls) -> CentralisedCriticConfig:
        return CentralisedCriticConfig()
