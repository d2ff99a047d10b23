"""The RLModule of the centralised critic: a decentralised actor, a centralised value.

Centralised training with decentralised execution (MAPPO, Yu et al. 2022; Lowe et al.
2017): the *actor* maps the agent's own observation to an action distribution and is all
that runs while acting; the *critic* maps the global observation -- every agent's
observation plus a one-hot of whose value it is -- to that agent's value, and is used
only by the learner (to compute GAE advantages and its own regression loss).

The global observation is not produced by the environment: the learner connector
:class:`~marketsai.rl.critic_connector.AddGlobalObservations` builds it from the
multi-agent episodes and puts it in the train batch under :data:`GLOBAL_OBS`. Env runners
build this module with ``inference_only=True``, which leaves the critic out entirely
(:meth:`get_non_inference_attributes`), so acting cannot depend on other agents'
observations by construction.

When agents share a policy (``policies: group``), one actor and one critic serve the
whole group: the critic is then shared by all its agents, the one-hot telling them apart.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import InferenceOnlyAPI, ValueFunctionAPI
from ray.rllib.core.rl_module.torch.torch_rl_module import TorchRLModule
from torch import nn

GLOBAL_OBS = "global_obs"


def mlp(n_in: int, hidden: list[int], n_out: int, activation: str = "tanh") -> nn.Sequential:
    act = {"tanh": nn.Tanh, "relu": nn.ReLU}[activation]
    layers, last = [], n_in
    for h in hidden:
        layers += [nn.Linear(last, h), act()]
        last = h
    layers.append(nn.Linear(last, n_out))
    return nn.Sequential(*layers)


def global_obs_dim(obs_dims: list[int]) -> int:
    """Width of the critic's input: all agents' observations plus a one-hot agent index."""
    return int(sum(obs_dims)) + len(obs_dims)


class CentralisedCriticModule(TorchRLModule, ValueFunctionAPI, InferenceOnlyAPI):
    """Actor on the own observation; critic on :data:`GLOBAL_OBS` (learner only).

    ``model_config`` keys: ``cc_obs_dims`` (flat observation size of every agent, in
    agent order; required), ``fcnet_hiddens`` (default ``[64, 64]``),
    ``vf_hiddens`` (default: ``fcnet_hiddens``), ``fcnet_activation`` (``tanh``).
    """

    def setup(self):
        cfg = self.model_config or {}
        if "cc_obs_dims" not in cfg:
            raise ValueError("CentralisedCriticModule needs model_config['cc_obs_dims'] "
                             "(set by marketsai.rl.critic_learner.CentralisedCriticConfig)")
        hidden = list(cfg.get("fcnet_hiddens", [64, 64]))
        activation = cfg.get("fcnet_activation", "tanh")
        obs_dim = int(np.prod(self.observation_space.shape))
        if isinstance(self.action_space, gym.spaces.Discrete):
            n_out = int(self.action_space.n)
        elif isinstance(self.action_space, gym.spaces.Box):
            n_out = 2 * int(np.prod(self.action_space.shape))  # mean and log-std (TorchDiagGaussian)
        else:
            raise ValueError(f"unsupported action space {self.action_space}")
        self.actor = mlp(obs_dim, hidden, n_out, activation)
        self.global_obs_dim = global_obs_dim(cfg["cc_obs_dims"])
        if not self.inference_only:
            self.vf = mlp(self.global_obs_dim, list(cfg.get("vf_hiddens", hidden)), 1, activation)

    def _forward(self, batch, **kwargs):
        # The actor sees the agent's own observation only.
        return {Columns.ACTION_DIST_INPUTS: self.actor(batch[Columns.OBS])}

    def compute_values(self, batch, embeddings=None):
        """V(global observation): needs the column the learner connector adds."""
        if GLOBAL_OBS not in batch:
            raise KeyError(f"the centralised critic needs batch[{GLOBAL_OBS!r}]; it is added by the "
                           "learner connector AddGlobalObservations (use CentralisedCriticLearner)")
        x = batch[GLOBAL_OBS]
        if x.shape[-1] != self.global_obs_dim:
            raise ValueError(f"global observation has width {x.shape[-1]}, critic expects "
                             f"{self.global_obs_dim}")
        return self.vf(x).squeeze(-1)

    def get_non_inference_attributes(self) -> list[str]:
        return ["vf"]
