"""A population as one stacked observation: each sub-environment is a whole session.

Why: RLlib's per-step bookkeeping is paid per sub-environment, so a gymnasium
``VectorEnv`` with one agent per sub-environment (:mod:`marketsai.envs.vector`) plateaus
at tens of thousands of agent-steps per second. Here each of the ``sessions``
sub-environments is one simulation whose observation stacks its ``N`` agents,
``(N, obs_dim)``, and whose action is one row per agent, so RLlib pays its bookkeeping
once per session-period while :mod:`marketsai.rl.stacked` applies one network per row.

A sub-environment may hold a ``block`` of sessions (rows ``b * N + i``), so that many
small sessions -- the Calvano duopoly run a thousand times -- also cost RLlib one step
per block. With ``agent_ids`` each row carries a one-hot of its agent's index, which
lets a module keep one network per agent (independent learners, ``policies: agent``).

Every agent keeps its own reward: ``info["rewards"]`` is ``(N,)`` per sub-environment
(the scalar reward RLlib logs is their mean) and the learner connector
:class:`~marketsai.rl.stacked.UnstackPopulation` turns each stacked episode back into
``N`` single-agent episodes before advantages are computed, so every agent learns from
its own return with the shared policy (the competitive semantics, not a planner's sum).

With ``critic_state`` every step's ``info["critic_state"]`` also carries, per row, the
economy's aggregate state (:meth:`marketsai.economy.Economy.state`: the shock, moments of
the capital distribution; normalised), which a centralised critic reads in learning only;
the observation -- what the policy acts on -- is unchanged.

With ``common_shocks`` the ``block`` sessions of a sub-environment share their aggregate
shock path (common random numbers, :class:`~marketsai.envs.vector.EconomyVectorEnv`).

With ``peer_group`` (``env.peer_baseline``: a per-agent process field, Krusell--Smith's employment ``e``) every
step's ``info["peer_group"]`` carries each row's value of that field in the state the row
acts on, so that a learner can compare a row with the peers of its session that share it
(:func:`marketsai.rl.stacked.peer_relative`).
"""

from __future__ import annotations

import functools

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from marketsai.dynamics import exo_values
from marketsai.envs.vector import EconomyVectorEnv
from marketsai.errors import SpecError


class EconomyStackedEnv(VectorEnv):
    """``sessions`` simulations; sub-environment ``b`` observes ``(N, dim)`` and acts ``(N, ...)``.

    Examples
    --------
    >>> import marketsai as mai
    >>> env = mai.load_economy("economies/growth_market.yaml").stacked_env(sessions=3, max_cycles=4)
    >>> env.reset(seed=0)[0].shape, env.single_action_space.shape  # 3 sessions, rows of 10 agents
    ((3, 10, 3), (10,))
    >>> _, reward, _, _, info = env.step(np.full((3, 10), 0.3, np.float32))
    >>> info["rewards"].shape, bool(np.allclose(reward, info["rewards"].mean(axis=1)))  # each row's own
    ((3, 10), True)
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, economy, sessions: int = 1, max_cycles: int = 1000, block: int = 1,
                 agent_ids: bool = False, critic_state: bool = False, common_shocks: bool = False,
                 peer_group: str | None = None):
        if block < 1 or sessions % block:
            raise SpecError("sessions must be a multiple of the block of sessions per sub-environment",
                            path="env.block", value=block, allowed=f"a divisor of {sessions}")
        self.inner = EconomyVectorEnv(economy, sessions=sessions, max_cycles=max_cycles,
                                      common_shocks=block if common_shocks else 1)
        self.economy = economy
        self.sessions = self.inner.sessions
        self.n_agents = self.inner.n_agents
        self.block = int(block)
        self.num_envs = self.sessions // self.block
        self.rows = self.block * self.n_agents  # row b * N + i: agent i of the sub-environment's session b
        self.agent_ids = bool(agent_ids)
        self.critic_state = bool(critic_state)
        check_peer_baseline(economy, peer_group)
        self.peer_group = None if peer_group == "all" else peer_group  # all: no grouping field
        one_obs, one_act = self.inner.single_observation_space, self.inner.single_action_space
        lo, hi = one_obs.low, one_obs.high
        if self.agent_ids:  # a one-hot of the agent's index, so that per-agent networks can tell rows apart
            lo = np.concatenate([lo, np.zeros(self.n_agents, np.float32)])
            hi = np.concatenate([hi, np.ones(self.n_agents, np.float32)])
            self._ids = np.tile(np.eye(self.n_agents, dtype=np.float32), (self.sessions, 1))
        rows = (self.rows,)
        self.single_observation_space = spaces.Box(np.broadcast_to(lo, rows + lo.shape),
                                                   np.broadcast_to(hi, rows + hi.shape), dtype=np.float32)
        if isinstance(one_act, spaces.Discrete):
            self.single_action_space = spaces.MultiDiscrete(np.full(self.rows, one_act.n))
        elif isinstance(one_act, spaces.Box) and one_act.shape == (1,):
            self.single_action_space = spaces.Box(np.full(rows, one_act.low[0], np.float32),
                                                  np.full(rows, one_act.high[0], np.float32), dtype=np.float32)
        elif isinstance(one_act, spaces.Box):  # several decisions a row: flat, row-major (row i: i*d ... i*d+d-1)
            self.single_action_space = spaces.Box(np.tile(one_act.low.ravel(), self.rows),
                                                  np.tile(one_act.high.ravel(), self.rows), dtype=np.float32)
        else:
            raise SpecError("a stacked population needs one grid decision or interval decisions per agent",
                            path="agents[].action", value=str(one_act), allowed="one grid, or intervals")
        self.row_action_space = one_act
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)

    def _stack(self, obs):
        if self.agent_ids:
            obs = np.concatenate([obs, self._ids], axis=1)
        return obs.reshape(self.num_envs, self.rows, -1)

    def reset(self, *, seed=None, options=None):
        obs, _ = self.inner.reset(seed=seed, options=options)
        return self._stack(obs), self._info(np.zeros(self.inner.num_envs))

    def aggregate_rows(self) -> np.ndarray:
        """``(num_envs, rows, s)``: each row's session's aggregate state (normalised), for a critic."""
        agg = self.economy.observer.aggregate(self.inner.economy_state, normalize=True)  # (sessions, s)
        s = agg.shape[1]
        rows = np.broadcast_to(agg.reshape(self.num_envs, self.block, 1, s),
                               (self.num_envs, self.block, self.n_agents, s))
        return rows.reshape(self.num_envs, self.rows, s)

    def step(self, actions):
        a = np.asarray(actions)
        obs, rew, term, trunc, _ = self.inner.step(a.reshape((self.inner.num_envs,) + self.row_action_space.shape))
        rows = rew.reshape(self.num_envs, self.rows)
        return (self._stack(obs), rows.mean(axis=1), term[::self.rows].copy(), trunc[::self.rows].copy(),
                self._info(rew))

    def _info(self, rewards):
        info = {"rewards": rewards.reshape(self.num_envs, self.rows),
                "_rewards": np.ones(self.num_envs, dtype=bool)}
        if self.critic_state:  # what a centralised critic reads beside the row's own observation
            info["critic_state"] = self.aggregate_rows()
            info["_critic_state"] = np.ones(self.num_envs, dtype=bool)
        if self.peer_group is not None:  # the value each row acts on, for a baseline of its peers
            v = np.asarray(exo_values(self.economy, self.inner.economy_state)[self.peer_group], np.float64)
            info["peer_group"] = v[:, self.economy.actor_index].reshape(self.num_envs, self.rows)
            info["_peer_group"] = np.ones(self.num_envs, dtype=bool)
        return info

    def close(self, **kwargs):
        pass


def peer_fields(economy) -> list[str]:
    """The per-agent process fields (not a chain's aggregate ones) peers can be grouped by."""
    return [f for p in economy.idiosyncratic for f in p.chain.fields if f not in p.chain.aggregate]


def check_peer_baseline(economy, value, file=None) -> None:
    """Refuse an ``env.peer_baseline`` that is neither null, ``all`` nor a field of
    :func:`peer_fields`, or any on an economy of one agent (it has no peers)."""
    if value is None:
        return
    if value != "all" and value not in peer_fields(economy):
        raise SpecError("peers are grouped by a per-agent process field of the economy",
                        path="env.peer_baseline", value=value, file=file,
                        allowed=", ".join(["null", "all"] + [repr(f) for f in peer_fields(economy)]))
    if len(economy.actors) < 2:
        raise SpecError("a peer baseline compares each agent with the other agents of its session; "
                        f"this economy has {len(economy.actors)} agent", path="env.peer_baseline",
                        value=value, file=file, allowed="null")


def critic_state_dim(economy) -> int:
    """Width of the aggregate state a stacked centralised critic reads; it does not grow with N."""
    return int(economy.observer.aggregate(economy.initial_state(np.random.default_rng(0), 1),
                                          normalize=True).shape[1])


def _create(econ, env_config: dict | None = None) -> EconomyStackedEnv:
    config = dict(env_config or {})
    block = int(config.get("block") or 1)
    return EconomyStackedEnv(econ, sessions=int(config.get("num_envs", 1)) * block,
                             max_cycles=int(config.get("max_cycles", 1000)), block=block,
                             agent_ids=bool(config.get("agent_ids", False)),
                             critic_state=bool(config.get("critic_state", False)),
                             common_shocks=bool(config.get("common_shocks", False)),
                             peer_group=config.get("peer_baseline"))


def stacked_creator(economy):
    """``creator(env_config) -> EconomyStackedEnv`` bound to an ``Economy`` (picklable).

    RLlib's ``num_envs`` is the number of sub-environments; each holds ``block`` sessions.
    """
    return functools.partial(_create, economy)
