"""A population as one stacked observation: each sub-environment is a whole session.

Why: RLlib's per-step bookkeeping is paid per sub-environment, so a gymnasium
``VectorEnv`` with one agent per sub-environment (:mod:`marketsai.envs.vector`) plateaus
at tens of thousands of agent-steps per second. Here each of the ``sessions``
sub-environments is one simulation whose observation stacks its ``N`` agents,
``(N, obs_dim)``, and whose action is one row per agent, so RLlib pays its bookkeeping
once per session-period while :mod:`marketsai.rl.stacked` applies one network per row.

Every agent keeps its own reward: ``info["rewards"]`` is ``(N,)`` per sub-environment
(the scalar reward RLlib logs is their mean) and the learner connector
:class:`~marketsai.rl.stacked.UnstackPopulation` turns each stacked episode back into
``N`` single-agent episodes before advantages are computed, so every agent learns from
its own return with the shared policy (the competitive semantics, not a planner's sum).
"""

from __future__ import annotations

import functools

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from marketsai.envs.vector import EconomyVectorEnv
from marketsai.errors import SpecError


class EconomyStackedEnv(VectorEnv):
    """``sessions`` simulations; sub-environment ``b`` observes ``(N, dim)`` and acts ``(N, ...)``.

    Examples
    --------
    >>> import marketsai as mai
    >>> env = mai.load_economy("economies/growth_market.yaml").stacked_env(sessions=3, max_cycles=4)
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, env.single_action_space.shape
    ((3, 10, 3), (10,))
    >>> obs, rew, term, trunc, info = env.step(np.full((3, 10), 0.3, np.float32))
    >>> rew.shape, info["rewards"].shape
    ((3,), (3, 10))
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, economy, sessions: int = 1, max_cycles: int = 1000):
        self.inner = EconomyVectorEnv(economy, sessions=sessions, max_cycles=max_cycles)
        self.economy = economy
        self.sessions = self.inner.sessions
        self.n_agents = self.inner.n_agents
        self.num_envs = self.sessions
        one_obs, one_act = self.inner.single_observation_space, self.inner.single_action_space
        self.single_observation_space = spaces.Box(np.broadcast_to(one_obs.low, (self.n_agents,) + one_obs.shape),
                                                   np.broadcast_to(one_obs.high, (self.n_agents,) + one_obs.shape),
                                                   dtype=np.float32)
        if isinstance(one_act, spaces.Discrete):
            self.single_action_space = spaces.MultiDiscrete(np.full(self.n_agents, one_act.n))
        elif isinstance(one_act, spaces.Box) and one_act.shape == (1,):
            self.single_action_space = spaces.Box(np.full(self.n_agents, one_act.low[0], np.float32),
                                                  np.full(self.n_agents, one_act.high[0], np.float32),
                                                  dtype=np.float32)
        elif isinstance(one_act, spaces.Box):
            self.single_action_space = spaces.Box(np.broadcast_to(one_act.low, (self.n_agents,) + one_act.shape),
                                                  np.broadcast_to(one_act.high, (self.n_agents,) + one_act.shape),
                                                  dtype=np.float32)
        else:
            raise SpecError("a stacked population needs one grid decision or interval decisions per agent",
                            path="agents[].action", value=str(one_act), allowed="one grid, or intervals")
        self.row_action_space = one_act
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)

    def _stack(self, obs):
        return obs.reshape(self.sessions, self.n_agents, -1)

    def reset(self, *, seed=None, options=None):
        obs, _ = self.inner.reset(seed=seed, options=options)
        return self._stack(obs), self._info(np.zeros(self.inner.num_envs))

    def step(self, actions):
        a = np.asarray(actions)
        obs, rew, term, trunc, _ = self.inner.step(a.reshape((self.inner.num_envs,) + self.row_action_space.shape))
        rows = rew.reshape(self.sessions, self.n_agents)
        return (self._stack(obs), rows.mean(axis=1), term[::self.n_agents].copy(), trunc[::self.n_agents].copy(),
                self._info(rew))

    def _info(self, rewards):
        return {"rewards": rewards.reshape(self.sessions, self.n_agents),
                "_rewards": np.ones(self.sessions, dtype=bool)}

    def close(self, **kwargs):
        pass


def _create(economy: dict, env_config: dict | None = None) -> EconomyStackedEnv:
    from marketsai.economy import Economy
    config = dict(env_config or {})
    econ = Economy.from_dict(economy)
    return EconomyStackedEnv(econ, sessions=int(config.get("num_envs", 1)),
                             max_cycles=int(config.get("max_cycles", 1000)))


def stacked_creator(economy: dict):
    """``creator(env_config) -> EconomyStackedEnv`` bound to an economy (picklable); ``num_envs`` = sessions."""
    return functools.partial(_create, economy)
