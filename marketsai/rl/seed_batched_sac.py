"""Seeds as a batch inside RLlib, SAC: one RLModule with a member axis, RLlib's own SAC loss
(continuous on a price interval, discrete on a price grid).

The pattern of :mod:`marketsai.rl.seed_batched_rllib` (DQN), for RLlib's
``SACTorchLearner``:

* :class:`StackedSACModule` holds ``M`` actors and ``M`` twin critics with their targets
  as :class:`~marketsai.rl.ensemble.StackedMLP` (parameters ``(M, in, out)``); its batches
  are ``M`` equal blocks of rows and it returns RLlib's continuous SAC columns flat
  (``qf_preds``, ``qf_twin_preds``, ``logp_resampled``, ``q_curr``,
  ``logp_next_resampled``, ``q_target_next``), so
  ``SACTorchLearner._compute_loss_for_module_continuous`` runs unchanged on ``M * R`` rows.
  Actions are on RLlib's normalised scale ``[-1, 1]`` (the run maps them to prices).
* The two Gaussian draws of the loss (the current action, reparameterised, and the next
  one) are columns of the batch (``noise``, ``noise_next``), drawn by the run from each
  seed's own stream: RLlib's ``rsample_and_logp`` would draw them from torch's global
  generator, one draw for all members, and a seed's result would depend on the others.
  :func:`~marketsai.rl.rllib_internals.squashed_gaussian_at` evaluates RLlib's squashed
  Gaussian at that draw.
* :class:`StackedSACLearner`: the temperature is one log-alpha *per member* (shape
  ``(M,)``, RLlib's is ``(1,)``); during the loss RLlib's ``curr_log_alpha[module]`` is that
  vector repeated over each member's rows, which the continuous loss only ever multiplies
  row by row (``alpha * logp``, ``log_alpha * (logp + target_entropy)``), so member ``m``'s
  temperature sees member ``m``'s rows only. Every loss RLlib keeps for its optimisers
  (critic, twin critic, actor, temperature: ``_temp_losses``) is multiplied by ``M``: a mean
  over ``M * R`` rows is ``(1/M) sum_m mean_m`` and the members' parameters are disjoint,
  so each member's gradient is its own. Gradients are clipped per member and optimiser
  (:class:`~marketsai.rl.seed_batched_rllib.PerMemberClipping`); Adam is elementwise and
  RLlib's polyak target update (``tau``) is elementwise.
* SAC on a *grid* (a ``Discrete`` action space): the module returns RLlib's discrete SAC
  columns flat (``action_probs(_next)``, ``action_log_probs(_next)``, ``q_target_next``,
  ``qf_preds``, ``qf_twin_preds``: ``(M * R, A)``, computed as
  ``DefaultSACTorchRLModule._forward_train_discrete`` does; no draws, the loss takes
  expectations over the actions) and ``SACTorchLearner._compute_loss_for_module_discrete``
  runs on them. There the temperature multiplies ``(rows, actions)`` (the critics' target
  and the actor's loss) and rows (the temperature's own loss): no one shape of a per-member
  temperature fits both (``(M * R, 1)`` fits the first and turns the second into an outer
  product over all members' rows). So during the loss ``curr_log_alpha[module]`` is the
  members' temperatures as a column ``(M * R, 1)`` -- RLlib's critic, twin-critic and actor
  losses are then each member's own, unchanged -- and the one loss RLlib's broadcasting
  would couple, the temperature's, is replaced (in ``_temp_losses`` and the total) by the
  same formula on rows, ``-mean(log_alpha_row * (sum_a p log p + target_entropy))``
  (:func:`discrete_temperature_loss`). ``tests/rl/test_batched_sac_grid.py`` holds one
  member equal to RLlib's own ``SACTorchLearner`` on its default module, the temperature
  included.

Checkpoints: RLlib's learner state (``Learner.get_state``) does *not* hold the temperature
(``curr_log_alpha`` lives outside the module and its optimiser's state holds only Adam's
moments), so :meth:`RLlibSACMembers.state_dict` carries it beside the state.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.sac import SACConfig
from ray.rllib.algorithms.sac.sac_learner import (
    ACTION_LOG_PROBS,
    ACTION_LOG_PROBS_NEXT,
    ACTION_PROBS,
    ACTION_PROBS_NEXT,
    QF_PREDS,
    QF_TARGET_NEXT,
    QF_TWIN_PREDS,
)
from ray.rllib.algorithms.sac.torch.sac_torch_learner import SACTorchLearner
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.utils import make_target_network
from ray.rllib.core.rl_module.apis import QNetAPI, TargetNetworkAPI
from ray.rllib.core.rl_module.torch.torch_rl_module import TorchRLModule

from marketsai.rl import seed_batched_rllib as stacked
from marketsai.rl.ensemble import StackedMLP
from marketsai.rl.expected_targets import NEXT_OBS_EACH, NEXT_PROBS
from marketsai.rl.rllib_internals import sac_losses, squashed_gaussian_at
from marketsai.rl.seed_batched_rllib import (
    MODULE_ID,
    LearnerMembers,
    PerMemberClipping,
    StopAtNonFinite,
    by_member,
)

#: the batch columns of the loss's two standard-normal draws, ``(M * R, action_dim)`` each
NOISE, NOISE_NEXT = "noise", "noise_next"


class StackedSACModule(TorchRLModule, QNetAPI, TargetNetworkAPI):
    """``M`` SAC actors and twin critics as one RLModule; rows in ``M`` equal blocks.

    ``model_config``: ``members``, ``hiddens``, ``member_seeds`` (member ``m``'s actor, critic
    and twin critic drawn in that order from ``torch.Generator().manual_seed(member_seeds[m])``).
    A ``Box`` action space: actors give (loc, log-std), critics read observation and action;
    a ``Discrete`` one (``A`` choices): actors give ``A`` logits, critics read the
    observation and give ``A`` Q-values, as RLlib's default SAC module on each.
    """

    def setup(self):
        cfg = self.model_config
        self.members, generators = stacked.member_generators(cfg)
        obs_dim = int(np.prod(self.observation_space.shape))
        self.discrete = isinstance(self.action_space, gym.spaces.Discrete)
        if self.discrete:
            n = int(self.action_space.n)
            pi_out, q_in, q_out = n, obs_dim, n
        else:
            act_dim = int(np.prod(self.action_space.shape))
            pi_out, q_in, q_out = 2 * act_dim, obs_dim + act_dim, 1
        self.pi = StackedMLP(self.members, obs_dim, cfg["hiddens"], pi_out)
        self.qf = StackedMLP(self.members, q_in, cfg["hiddens"], q_out)
        self.qf_twin = StackedMLP(self.members, q_in, cfg["hiddens"], q_out)
        for m, gen in enumerate(generators):
            for net in (self.pi, self.qf, self.qf_twin):
                net.init_member(m, gen)

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(-1, x.shape[-1])

    def _q(self, net: StackedMLP, obs, actions=None) -> torch.Tensor:
        """Rows' Q-values: ``(M * R,)`` of ``obs (M * R, d)`` and ``actions (M * R, a)``
        (continuous), ``(M * R, A)`` of ``obs`` (discrete)."""
        if self.discrete:
            return self._flat(net(by_member(obs.float(), self.members)))
        x = torch.cat([by_member(obs.float(), self.members), by_member(actions.float(), self.members)], dim=-1)
        return net(x).reshape(-1)

    def action_inputs(self, obs: torch.Tensor) -> torch.Tensor:
        """The actor's distribution inputs (loc, log-std) ``(M * R, 2 a)``."""
        return self._flat(self.pi(by_member(obs.float(), self.members)))

    # ---------------------------------------------------------------- RLlib's APIs
    def compute_q_values(self, batch):
        return torch.min(self._q(self.qf, batch[Columns.OBS], batch.get(Columns.ACTIONS)),
                         self._q(self.qf_twin, batch[Columns.OBS], batch.get(Columns.ACTIONS)))

    def make_target_networks(self) -> None:
        self.target_qf = make_target_network(self.qf)
        self.target_qf_twin = make_target_network(self.qf_twin)

    def get_target_network_pairs(self):
        return [(self.qf, self.target_qf), (self.qf_twin, self.target_qf_twin)]

    def forward_target(self, batch):
        return torch.min(self._q(self.target_qf, batch[Columns.OBS], batch.get(Columns.ACTIONS)),
                         self._q(self.target_qf_twin, batch[Columns.OBS], batch.get(Columns.ACTIONS)))

    def _forward_inference(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.action_inputs(batch[Columns.OBS])}

    def _forward_exploration(self, batch, **kwargs):
        return self._forward_inference(batch)

    def _forward_train(self, batch, **kwargs):
        """RLlib's continuous SAC columns (``DefaultSACTorchRLModule._forward_train_continuous``)
        with the draws taken from the batch's noise columns, or its discrete ones."""
        obs, nxt = batch[Columns.OBS], batch[Columns.NEXT_OBS]
        if self.discrete:
            return self._forward_train_discrete(obs, nxt)
        out = {QF_PREDS: self._q(self.qf, obs, batch[Columns.ACTIONS]),
               QF_TWIN_PREDS: self._q(self.qf_twin, obs, batch[Columns.ACTIONS])}
        actions, out["logp_resampled"] = squashed_gaussian_at(self.action_inputs(obs), batch[NOISE])
        critics = list(self.qf.parameters()) + list(self.qf_twin.parameters())
        for p in critics:  # the actor's loss reaches the actor only (as RLlib's module does)
            p.requires_grad = False
        out["q_curr"] = self.compute_q_values({Columns.OBS: obs, Columns.ACTIONS: actions})
        for p in critics:
            p.requires_grad = True
        if NEXT_OBS_EACH in batch:
            out["q_target_next"], out["logp_next_resampled"] = self._next_value_expected(batch)
        else:
            next_actions, logp_next = squashed_gaussian_at(self.action_inputs(nxt), batch[NOISE_NEXT])
            out["logp_next_resampled"] = logp_next.detach()
            out["q_target_next"] = self.forward_target({Columns.OBS: nxt, Columns.ACTIONS: next_actions.detach()}).detach()
        return out

    def _next_value_expected(self, batch) -> tuple:
        """``(q_target_next, logp_next_resampled)`` averaged over the next chain states
        (:mod:`marketsai.rl.expected_targets`): the targets' minimum and the actor's log-density
        at each row's next observation under every next state ``e'`` (``next_obs_each``,
        ``(M * R, E, d)``), the action drawn there with the row's one draw ``noise_next``,
        weighted by the chain row ``next_probs`` ``(M * R, E)``. RLlib's loss is linear in
        both, so its target is ``r + gamma sum_e' P(e, e') (Q - alpha logp)``."""
        each, probs = batch[NEXT_OBS_EACH], batch[NEXT_PROBS]
        n = each.shape[1]
        flat = each.reshape(-1, each.shape[-1])  # member-major rows, each row's E states together
        with torch.no_grad():  # a target: no gradient reaches any network through it
            actions, logp = squashed_gaussian_at(self.action_inputs(flat), batch[NOISE_NEXT].repeat_interleave(n, dim=0))
            q = self.forward_target({Columns.OBS: flat, Columns.ACTIONS: actions})
        return (probs * q.reshape(-1, n)).sum(-1), (probs * logp.reshape(-1, n)).sum(-1)

    def _forward_train_discrete(self, obs, nxt) -> dict:
        """RLlib's discrete SAC columns (``DefaultSACTorchRLModule._forward_train_discrete``):
        the actor's probabilities and their logarithms at the current and next observations,
        the critics' Q-values of every action, the targets' minimum at the next observation.

        One departure: the logarithms are ``log_softmax`` of the logits, where RLlib takes
        ``softmax(...).log()``. The two agree to rounding while every probability is a normal
        float; once an actor is nearly deterministic (logits about 87 apart in float32, fewer
        with ``flush_denormal``) a probability underflows to 0, RLlib's logarithm is -inf and
        ``p * log p`` is NaN in the critic target, the actor loss and the temperature loss:
        every later update of that seed is NaN, zeroed by RLlib's learner (this stopped the
        500,000-period grid study at about 25,000 periods). ``log_softmax`` stays finite there
        and ``p * log p`` is 0, its limit."""
        logits_next, logits = self.action_inputs(nxt), self.action_inputs(obs)
        return {ACTION_PROBS_NEXT: torch.softmax(logits_next, dim=-1),
                ACTION_LOG_PROBS_NEXT: torch.log_softmax(logits_next, dim=-1),
                QF_TARGET_NEXT: self.forward_target({Columns.OBS: nxt}),
                QF_PREDS: self._q(self.qf, obs), QF_TWIN_PREDS: self._q(self.qf_twin, obs),
                ACTION_PROBS: torch.softmax(logits, dim=-1), ACTION_LOG_PROBS: torch.log_softmax(logits, dim=-1)}


def discrete_temperature_loss(log_alpha_rows: torch.Tensor, fwd_out: dict, target_entropy) -> torch.Tensor:
    """RLlib's discrete temperature loss (``_compute_loss_for_module_discrete``:
    ``-mean(log_alpha * (entropy.detach() + target_entropy))``, ``entropy = sum_a p log p``)
    with the temperature a row's own: ``log_alpha_rows (M * R,)``."""
    entropy = (fwd_out[ACTION_LOG_PROBS] * fwd_out[ACTION_PROBS]).sum(-1)
    return -torch.mean(log_alpha_rows * (entropy.detach() + target_entropy))


class StackedSACLearner(StopAtNonFinite, PerMemberClipping, SACTorchLearner):
    """RLlib's SAC learner on a :class:`StackedSACModule`: a temperature per member, every
    optimiser's loss times ``M``, per-member clipping (see the module docstring)."""

    def configure_optimizers_for_module(self, module_id, config=None):
        """RLlib's four SAC optimisers (``SACTorchLearner.configure_optimizers_for_module``:
        Adam, eps 1e-7, named ``qf``, ``qf_twin``, ``policy``, ``alpha``) over the stacked
        networks (RLlib's reads its module's encoders and heads), the temperature ``(M,)``."""
        module = self.module[module_id].unwrapped()
        self.curr_log_alpha[module_id] = torch.full((module.members,), math.log(config.initial_alpha),
                                                    dtype=torch.float32, device=self.device, requires_grad=True)
        for name, params, lr in (("qf", self.get_parameters(module.qf), config.critic_lr),
                                 ("qf_twin", self.get_parameters(module.qf_twin), config.critic_lr),
                                 ("policy", self.get_parameters(module.pi), config.actor_lr),
                                 ("alpha", [self.curr_log_alpha[module_id]], config.alpha_lr)):
            self.register_optimizer(module_id=module_id, optimizer_name=name, optimizer=torch.optim.Adam(params, eps=1e-7),
                                    params=params, lr_or_lr_schedule=lr)

    def compute_loss_for_module(self, *, module_id, config, batch, fwd_out):
        module = self.module[module_id].unwrapped()
        members, log_alpha = module.members, self.curr_log_alpha[module_id]
        rows = batch[Columns.REWARDS].shape[0] // members
        per_row = log_alpha.repeat_interleave(rows)  # member m's temperature on its rows
        # continuous: rows (M * R,); discrete: a column (M * R, 1) against (rows, actions)
        self.curr_log_alpha[module_id] = per_row[:, None] if module.discrete else per_row
        try:
            total = super().compute_loss_for_module(module_id=module_id, config=config, batch=batch, fwd_out=fwd_out)
        finally:
            self.curr_log_alpha[module_id] = log_alpha
        losses = sac_losses(self)
        if module.discrete:  # the temperature's loss on rows (RLlib's is an outer product over the members)
            own = discrete_temperature_loss(per_row, fwd_out, self.target_entropy[module_id])
            total = total - losses[(module_id, "alpha_loss")] + own
            losses[(module_id, "alpha_loss")] = own
        for key in [k for k in losses if k[0] == module_id]:
            losses[key] = members * losses[key]
        return members * total


def sac_config(*, actor_lr: float, critic_lr: float, alpha_lr: float, initial_alpha: float, target_entropy,
               tau: float, grad_clip, gamma: float) -> SACConfig:
    """RLlib's ``SACConfig`` of the members' training: twin critics, one-step targets, a
    polyak update (``tau``) after every update, global-norm clipping; ``target_entropy``
    null is RLlib's ``auto``."""
    return SACConfig().training(
        actor_lr=actor_lr, critic_lr=critic_lr, alpha_lr=alpha_lr, initial_alpha=initial_alpha,
        target_entropy="auto" if target_entropy is None else float(target_entropy), tau=tau,
        target_network_update_freq=0, twin_q=True, gamma=gamma, n_step=1, grad_clip=grad_clip,
        grad_clip_by="global_norm")


def sac_learner_group(member_seeds, obs_dim: int, hiddens, *, device: str = "cpu", n_actions: int | None = None,
                      action_dim: int = 1, **training):
    """RLlib's ``LearnerGroup`` (one local learner) of the members' :class:`StackedSACModule`
    trained as :func:`sac_config` (``training``) says: ``action_dim`` action dimensions on
    ``[-1, 1]``, or with ``n_actions`` one choice of that many."""
    space = (gym.spaces.Box(-1.0, 1.0, (int(action_dim),), np.float32) if n_actions is None
             else gym.spaces.Discrete(int(n_actions)))
    return stacked.members_group(sac_config(**training), StackedSACLearner, StackedSACModule, member_seeds, obs_dim,
                                 hiddens, space, device)


class RLlibSACMembers(LearnerMembers):
    """The SAC members: actions from observations and draws, the actors' layers, the
    temperature, the optimisers by name; the state carries the temperature."""

    @property
    def online(self) -> StackedMLP:
        """The actors (what a policy acts with)."""
        return self.module.pi

    @property
    def log_alpha(self) -> torch.Tensor:
        return self.learner.curr_log_alpha[MODULE_ID]

    @property
    def optimizers(self) -> dict:
        """RLlib's optimisers by name: ``qf``, ``qf_twin``, ``policy``, ``alpha``."""
        return dict(self.learner.get_optimizers_for_module(MODULE_ID))

    def actions(self, obs: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """Sampled actions on ``[-1, 1]``: ``obs (M, R, d)``, ``noise (M, R, D)`` -> ``(M, R, D)``
        (``D`` decisions a member)."""
        dim = noise.shape[-1]
        with torch.no_grad():
            inputs = self.module.action_inputs(torch.from_numpy(obs.reshape(-1, obs.shape[-1])).to(self.device))
            a, _ = squashed_gaussian_at(inputs, torch.from_numpy(noise.reshape(-1, dim)).to(self.device))
        return a.cpu().numpy().reshape(obs.shape[0], obs.shape[1], dim)

    def choices(self, obs: np.ndarray, uniform: np.ndarray) -> np.ndarray:
        """Sampled grid indices: ``obs (M, R, d)``, ``uniform (M, R)`` draws on ``[0, 1)`` ->
        ``(M, R)``, the first action whose cumulative probability exceeds the draw."""
        with torch.no_grad():
            logits = self.module.action_inputs(torch.from_numpy(obs.reshape(-1, obs.shape[-1])).to(self.device))
            cdf = torch.softmax(logits, dim=-1).cumsum(dim=-1).cpu().numpy()
        picks = (cdf < uniform.reshape(-1, 1)).sum(axis=-1)
        return np.minimum(picks, cdf.shape[-1] - 1).reshape(obs.shape[0], obs.shape[1])

    def columns(self, flat: dict):
        """The transitions and, on an interval, the loss's two draws (``noise``, ``noise_next``)
        and with expected targets the next states' columns (``next_obs_each``, ``next_probs``)."""
        columns = super().columns(flat)
        for c in (NOISE, NOISE_NEXT, NEXT_OBS_EACH, NEXT_PROBS):
            if c in flat:
                columns[c] = flat[c]
        return columns

    def state_dict(self) -> dict:
        return super().state_dict() | {"log_alpha": self.log_alpha.detach().cpu().clone()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
