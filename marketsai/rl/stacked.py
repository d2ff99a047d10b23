"""A shared policy over a stacked population: one network per row, one return per row.

With :class:`~marketsai.envs.stacked.EconomyStackedEnv` each RLlib sub-environment is a
whole session of ``N`` agents, so RLlib's per-step bookkeeping is paid once per
session-period instead of once per agent (the "stacked population" of docs/scaling.md).
Three pieces make PPO learn the right thing from it:

* :class:`RowModule` -- an RLModule that applies one MLP (actor and critic) to every row
  of a stacked observation ``(B, N, d)``; its action distribution is the product of the
  rows' (a diagonal Gaussian, or one categorical per row). Applied to a plain batch of
  rows ``(B, d)`` it is the single-agent policy: the same weights.
* :class:`UnstackPopulation` -- the first learner connector: it splits every stacked
  episode into ``N`` single-agent episodes (row ``i``'s observations, actions, its own
  reward from ``info["rewards"]``, and its own log-probability and distribution inputs
  under the sampling policy), so that GAE, the value targets and the PPO loss are those
  of ``N`` agents sharing one policy, each learning from its own return -- independent
  learners with parameter sharing, not a planner maximising the sum.
* :class:`StackedPPOLearner` -- PPO's torch learner with that connector in front.

A **block baseline** (``env.block_baseline``): each row learns from its reward minus the
mean reward of the same agent in the block's *other* sessions (:func:`block_relative`).
Sessions of a block never interact, so the subtracted term does not depend on the row's
own actions and the policy gradient keeps its expectation; with ``env.common_shocks`` the
sessions share their shock path and the subtraction removes the shocks' noise from the
returns -- on Brock--Mirman almost all of it (docs of experiments/growth_deep/results).

A **peer baseline** (``env.peer_baseline``): each row learns from its reward minus the mean
reward of the *other rows of its own session* that period (:func:`peer_relative`), all of
them (``all``) or those sharing the row's value of a per-agent process field (``e``: the
same employment state). The agents of a session share its aggregate shocks, so this removes
the shocks' noise without common random numbers. Unlike sessions, agents of one session
interact (through prices): the peers' rewards depend on the row's action by ``O(1/N)``, the
price of this baseline (in Krusell--Smith at N = 100 it moves the optimal saved share by
about 2e-5, consumption by 0.04 %: experiments/krusell_smith/peer_baseline_bias.py).

A **centralised critic** over a stacked population (``algorithm: centralised_critic`` with
``env.stacked``): the environment puts each session's aggregate state in
``info["critic_state"]`` (:class:`~marketsai.envs.stacked.EconomyStackedEnv`), the unstacked
row episodes carry ``[own observation, aggregate state]`` in their infos, and
:class:`AddRowCriticInputs` turns that into the train-batch column
:data:`~marketsai.rl.critic_module.GLOBAL_OBS` from which the module's critic -- built only
on the learner, never on env runners -- computes the values GAE and the value loss use.
The actor still maps the row's own observation to its action. The critic's input is
``d + s`` wide whatever the number of rows: the aggregate state holds moments, not the
cross-section.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.connectors.common.add_observations_from_episodes_to_batch import (
    AddObservationsFromEpisodesToBatch,
)
from ray.rllib.connectors.connector_v2 import ConnectorV2
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.torch.torch_distribution import (
    TorchCategorical,
    TorchDiagGaussian,
)
from ray.rllib.core.rl_module.apis import InferenceOnlyAPI, ValueFunctionAPI
from ray.rllib.core.rl_module.torch.torch_rl_module import TorchRLModule
from ray.rllib.env.single_agent_episode import SingleAgentEpisode
from torch import nn

from marketsai.rl.critic_module import GLOBAL_OBS, mlp
from marketsai.rl.rllib_internals import learner_connector, torch_distribution


def _row_shape(action_space, n_rows: int):
    """``(n_rows, per_row)``: per_row is the action width (Box, flat ``n_rows * width``) or the
    number of choices (MultiDiscrete); ``n_rows`` is the stacked observation's first axis."""
    if isinstance(action_space, gym.spaces.MultiDiscrete):
        nvec = np.asarray(action_space.nvec).ravel()
        if len(set(nvec.tolist())) != 1 or nvec.size != n_rows:
            raise ValueError("a stacked population needs the same number of choices in every row")
        return n_rows, int(nvec[0])
    if isinstance(action_space, gym.spaces.Box):
        size = int(np.prod(action_space.shape))
        if size % n_rows:
            raise ValueError(f"a stacked action of {size} numbers does not split into {n_rows} rows")
        return n_rows, size // n_rows
    raise ValueError(f"unsupported stacked action space {action_space}")


class RowModule(TorchRLModule, ValueFunctionAPI, InferenceOnlyAPI):
    """One actor MLP and one critic MLP applied to every row (see the module docstring).

    ``model_config``: ``fcnet_hiddens`` (default ``[64, 64]``), ``fcnet_activation``
    (``tanh``), ``row_heads`` (default 1): with ``H > 1`` the last ``H`` observation
    columns are a one-hot of the row's agent and each agent has its own actor and critic
    (independent learners: a head's weights get gradients from its own agent's rows only).
    ``critic_state_dim`` (default 0): with ``s > 0`` the critic is centralised -- it reads
    the batch column :data:`GLOBAL_OBS` (own observation and ``s`` aggregate columns)
    instead of the observation. Env runners build the module ``inference_only``: actors only.
    """

    def setup(self):
        cfg = self.model_config or {}
        hidden = list(cfg.get("fcnet_hiddens", [64, 64]))
        activation = cfg.get("fcnet_activation", "tanh")
        self.n_rows, self.per_row = _row_shape(self.action_space, int(self.observation_space.shape[0]))
        self.discrete = isinstance(self.action_space, gym.spaces.MultiDiscrete)
        self.heads = int(cfg.get("row_heads", 1))
        d = int(self.observation_space.shape[-1]) - (self.heads if self.heads > 1 else 0)
        n_out = self.per_row if self.discrete else 2 * self.per_row
        self.critic_state_dim = int(cfg.get("critic_state_dim", 0))
        self.pi = nn.ModuleList([mlp(d, hidden, n_out, activation) for _ in range(self.heads)])
        if not self.inference_only:
            self.vf = nn.ModuleList([mlp(d + self.critic_state_dim, hidden, 1, activation)
                                     for _ in range(self.heads)])

    def _per_head(self, nets, obs):
        if self.heads == 1:
            return nets[0](obs)
        x, ids = obs[..., :-self.heads], obs[..., -self.heads:]
        return sum(ids[..., k:k + 1] * net(x) for k, net in enumerate(nets))

    def _forward(self, batch, **kwargs):
        obs = batch[Columns.OBS]
        out = self._per_head(self.pi, obs)
        if obs.ndim == 3:  # stacked (B, N, d): the product distribution's inputs
            B = out.shape[0]
            if self.discrete:
                out = out.reshape(B, -1)
            else:
                a = self.per_row
                out = torch.cat([out[..., :a].reshape(B, -1), out[..., a:].reshape(B, -1)], dim=-1)
        return {Columns.ACTION_DIST_INPUTS: out}

    def compute_values(self, batch, embeddings=None):
        if not self.critic_state_dim:
            return self._per_head(self.vf, batch[Columns.OBS]).squeeze(-1)
        if GLOBAL_OBS not in batch:
            raise KeyError(f"the centralised critic needs batch[{GLOBAL_OBS!r}]; the learner connector "
                           "AddRowCriticInputs adds it from an env built with critic_state")
        return self._per_head(self.vf, batch[GLOBAL_OBS]).squeeze(-1)

    def get_non_inference_attributes(self) -> list[str]:
        return ["vf"]

    def get_exploration_action_dist_cls(self):
        if self.discrete:
            return row_categorical(self.per_row)
        return TorchDiagGaussian

    def get_inference_action_dist_cls(self):
        return self.get_exploration_action_dist_cls()

    def get_train_action_dist_cls(self):
        return TorchCategorical if self.discrete else TorchDiagGaussian


class RowCategorical(TorchCategorical):
    """Independent categoricals, one per row, as one torch distribution of batch shape ``(B, N)``.

    Why not RLlib's ``TorchMultiCategorical``: it keeps one Python object per row, which
    made sampling a stack of 2,000 rows about 100 times slower than this.
    """

    choices: int = 0

    @classmethod
    def from_logits(cls, logits, **kwargs):
        return cls(logits=logits.reshape(*logits.shape[:-1], -1, cls.choices))

    def logp(self, value, **kwargs):
        return torch_distribution(self).log_prob(value).sum(-1)

    def entropy(self):
        return torch_distribution(self).entropy().sum(-1)

    def kl(self, other):
        # PPO's KL term pairs the sampling distribution (this class, rows (B, N, k)) with the
        # train distribution of the unstacked rows (a TorchCategorical, (B, k)): compare row by row
        p, q = torch_distribution(self), torch_distribution(other)
        if q.logits.shape != p.logits.shape:
            q = torch.distributions.Categorical(logits=q.logits.reshape(p.logits.shape))
        return torch.distributions.kl.kl_divergence(p, q).sum(-1)


def row_categorical(choices: int) -> type[RowCategorical]:
    """:class:`RowCategorical` over rows of ``choices`` actions each."""
    return type(f"RowCategorical{choices}", (RowCategorical,), {"choices": int(choices)})


def _row_logp(inputs: np.ndarray, actions: np.ndarray, n: int, per_row: int, discrete: bool):
    """Per-row distribution inputs ``(T, N, k)`` and log-probabilities ``(T, N)`` of sampled actions."""
    T = inputs.shape[0]
    if discrete:
        logits = inputs.reshape(T, n, per_row)
        z = logits - logits.max(axis=-1, keepdims=True)
        logz = np.log(np.exp(z).sum(axis=-1))
        a = actions.reshape(T, n).astype(np.intp)
        return logits, np.take_along_axis(z, a[..., None], axis=-1)[..., 0] - logz
    mean = inputs[:, :n * per_row].reshape(T, n, per_row)
    log_std = inputs[:, n * per_row:].reshape(T, n, per_row)
    x = actions.reshape(T, n, per_row)
    logp = -0.5 * ((x - mean) / np.exp(log_std)) ** 2 - log_std - 0.5 * np.log(2.0 * np.pi)
    return np.concatenate([mean, log_std], axis=-1), logp.sum(axis=-1)


def block_relative(rewards: np.ndarray, block: int) -> np.ndarray:
    """Rewards ``(T, rows)`` of ``block`` sessions (rows ``b * N + i``) minus, for each row, the
    mean reward of the same agent ``i`` in the block's other sessions (a leave-one-out baseline).

    >>> block_relative(np.array([[1.0, 10.0, 3.0, 20.0]]), 2).tolist()  # 2 sessions of 2 agents
    [[-2.0, -10.0, 2.0, 10.0]]
    """
    if block < 2:
        raise ValueError(f"a block baseline needs at least 2 sessions a block, got {block}")
    T, rows = rewards.shape
    r = rewards.reshape(T, block, rows // block)
    others = (r.sum(axis=1, keepdims=True) - r) / (block - 1)
    return (r - others).reshape(T, rows)


def peer_relative(rewards: np.ndarray, sessions: int = 1, groups: np.ndarray | None = None) -> np.ndarray:
    """Rewards ``(T, rows)`` of ``sessions`` sessions (rows ``b * N + i``) minus, for each row, the
    mean reward that period of the *other* rows of its session (a leave-one-out baseline); with
    ``groups`` ``(T, rows)`` only of those in the row's group (equal values); a row with no peer
    in its group that period falls back to all the other rows of its session.

    >>> peer_relative(np.array([[1.0, 2.0, 6.0]])).tolist()  # 1 - (2 + 6) / 2, 2 - 3.5, 6 - 1.5
    [[-3.0, -1.5, 4.5]]
    >>> peer_relative(np.array([[1.0, 2.0, 6.0]]), groups=np.array([[0, 1, 0]])).tolist()  # row 1: no peer
    [[-5.0, -1.5, 5.0]]
    """
    T, rows = rewards.shape
    n = rows // sessions
    if n < 2 or rows != n * sessions:
        raise ValueError(f"a peer baseline needs sessions of at least 2 rows, got {rows} rows in {sessions} sessions")
    r = rewards.reshape(T, sessions, n)
    others = (r.sum(axis=2, keepdims=True) - r) / (n - 1)
    if groups is not None:
        g = np.asarray(groups).reshape(T, sessions, n)
        for value in np.unique(g):
            mine = g == value
            count = mine.sum(axis=2, keepdims=True)
            total = np.where(mine, r, 0.0).sum(axis=2, keepdims=True)
            others = np.where(mine & (count > 1), (total - r) / np.maximum(count - 1, 1), others)
    return (r - others).reshape(T, rows)


class UnstackPopulation(ConnectorV2):
    """Split each stacked episode into one single-agent episode per row (see the module docstring);
    ``baseline_block > 1``: each row's rewards relative to its block (:func:`block_relative`);
    ``peer_baseline`` (``all`` or a process field): relative to the other rows of its session
    (:func:`peer_relative`, sessions of ``block`` per sub-environment)."""

    def __init__(self, *args, baseline_block: int = 1, peer_baseline: str | None = None, block: int = 1,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.baseline_block = int(baseline_block)
        self.peer_baseline = peer_baseline
        self.block = int(block)

    def __call__(self, *, rl_module, batch, episodes, explore=None, shared_data=None, **kwargs):
        module = rl_module[next(iter(rl_module.keys()))] if hasattr(rl_module, "keys") else rl_module
        n, per_row, discrete = module.n_rows, module.per_row, module.discrete
        rows = []
        for ep in episodes:
            T = len(ep)
            if T == 0:
                continue
            obs = np.asarray(ep.get_observations(slice(0, T + 1)))  # (T+1, N, d)
            acts = np.asarray(ep.get_actions(slice(0, T)))
            infos = ep.get_infos(slice(0, T + 1))
            rewards = np.stack([np.asarray(info["rewards"], dtype=np.float64) for info in infos[1:]])  # (T, N)
            if self.baseline_block > 1:
                rewards = block_relative(rewards, self.baseline_block)
            if self.peer_baseline is not None:
                groups = None if self.peer_baseline == "all" else \
                    np.stack([np.asarray(info["peer_group"]) for info in infos[:-1]])  # the states acted on
                rewards = peer_relative(rewards, self.block, groups)
            inputs = np.asarray(ep.get_extra_model_outputs(Columns.ACTION_DIST_INPUTS, slice(0, T)))
            dist_in, logp = _row_logp(inputs, acts, n, per_row, discrete)
            row_acts = acts.reshape(T, n) if discrete else acts.reshape(T, n, per_row)
            glob = _critic_inputs(obs, infos, module) if getattr(module, "critic_state_dim", 0) else None
            for i in range(n):
                rows.append(SingleAgentEpisode(
                    id_=f"{ep.id_}_{i}", observations=list(obs[:, i]), actions=list(row_acts[:, i]),
                    infos=None if glob is None else [{GLOBAL_OBS: g} for g in glob[:, i]],
                    rewards=list(rewards[:, i]), terminated=ep.is_terminated, truncated=ep.is_truncated,
                    extra_model_outputs={Columns.ACTION_DIST_INPUTS: list(dist_in[:, i]),
                                         Columns.ACTION_LOGP: list(logp[:, i])},
                    t_started=ep.t_started, len_lookback_buffer=0))
        episodes[:] = rows
        return batch


def _critic_inputs(obs: np.ndarray, infos: list, module) -> np.ndarray:
    """``(T+1, N, d + s)``: each row's own observation (agent one-hot last) and its session's aggregate state."""
    if not infos or "critic_state" not in infos[0]:
        raise RuntimeError("the centralised critic of a stacked population needs info['critic_state'] "
                           "(build the environment with critic_state=True)")
    state = np.stack([np.asarray(info["critic_state"], np.float32) for info in infos])  # (T+1, N, s)
    if state.shape[-1] != module.critic_state_dim:
        raise RuntimeError(f"critic_state has width {state.shape[-1]}, the critic expects "
                           f"{module.critic_state_dim}")
    h = module.heads if module.heads > 1 else 0
    own, ids = obs[..., :obs.shape[-1] - h], obs[..., obs.shape[-1] - h:]
    return np.concatenate([own, state, ids], axis=-1).astype(np.float32)


class AddRowCriticInputs(ConnectorV2):
    """Add :data:`GLOBAL_OBS` from the row episodes' infos (after RLlib's observation column)."""

    def __call__(self, *, rl_module, batch, episodes, explore=None, shared_data=None, **kwargs):
        if GLOBAL_OBS in batch:
            return batch
        for sa in self.single_agent_episode_iterator(episodes, agents_that_stepped_only=False):
            infos = sa.get_infos(slice(0, len(sa)))
            if not infos or GLOBAL_OBS not in infos[0]:
                return batch  # a decentralised critic: nothing to add
            self.add_n_batch_items(batch, GLOBAL_OBS, items_to_add=np.stack([i[GLOBAL_OBS] for i in infos]),
                                   num_items=len(sa), single_agent_episode=sa)
        return batch


class StackedPPOLearner(PPOTorchLearner):
    """PPO on a stacked population: :class:`UnstackPopulation` runs before every other learner
    connector (with the block baseline when ``env_config`` sets ``block_baseline``, the peer
    baseline when it sets ``peer_baseline``), and
    :class:`AddRowCriticInputs` after the observations (for a centralised critic)."""

    def build(self) -> None:
        super().build()
        pipeline = learner_connector(self)
        if pipeline is not None:
            env = self.config.env_config or {}
            block = int(env.get("block") or 1)
            pipeline.prepend(UnstackPopulation(baseline_block=block if env.get("block_baseline") else 1,
                                               peer_baseline=env.get("peer_baseline"), block=block))
            pipeline.insert_after(AddObservationsFromEpisodesToBatch, AddRowCriticInputs())
