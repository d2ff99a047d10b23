"""Agents that share a policy, stepped as one batch: a gymnasium ``VectorEnv``.

Why: RLlib's per-agent dict path costs about 0.2 ms of bookkeeping per agent-step. When
every agent of an economy belongs to one policy group (a planner, N households of one
kind), the population of ``sessions`` independent simulations x ``N`` agents is one
gymnasium ``VectorEnv`` of ``sessions * N`` sub-environments: the economy's pure step
advances all of them at once in NumPy and one forward pass serves them all. Each
sub-environment keeps its own reward, so learners with parameter sharing keep
per-agent (competitive) semantics. Sub-environment ``b * N + i`` is agent ``i`` of
session ``b``.

All sessions start and end together (``max_cycles``); the vector env autoresets with
gymnasium's NEXT_STEP mode (the step after a truncation returns the reset observations
and zero rewards), which is what RLlib's ``vector_entry_point`` mode expects.

``common_shocks = g``: consecutive groups of ``g`` sessions share their aggregate shock
path (common random numbers): each group's sessions take its first session's draws, at
the start and every period, so the sessions of a group differ only by their own states
and actions -- what lets a learner compare them with the shocks' noise removed
(:func:`marketsai.rl.stacked.block_relative`).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from marketsai.errors import SpecError


class EconomyVectorEnv(VectorEnv):
    """``sessions`` simulations of an economy whose agents share one policy group.

    Examples
    --------
    >>> import marketsai as mai
    >>> env = mai.load_economy("economies/rbc.yaml").vector_env(sessions=4, max_cycles=3)
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, env.action_space.shape
    ((4, 2), (4, 1))
    >>> obs, rew, term, trunc, info = env.step(np.full((4, 1), 0.8, np.float32))
    >>> rew.shape, bool(trunc.any())
    ((4,), False)
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, economy, sessions: int = 1, max_cycles: int = 1000, common_shocks: int = 1):
        groups = {economy.groups[a] for a in economy.actors}
        if len(groups) != 1:
            raise SpecError("a vector env needs every agent in one policy group", path="agents[].group",
                            value=sorted(groups), allowed="one group (use parallel_env for several)")
        if sessions < 1:
            raise SpecError("sessions must be positive", path="sessions", value=sessions, allowed=">= 1")
        if common_shocks < 1 or sessions % common_shocks:
            raise SpecError("sessions sharing shocks must divide the sessions", path="common_shocks",
                            value=common_shocks, allowed=f"a divisor of {sessions}")
        self.economy = economy
        self.sessions = int(sessions)
        self.common_shocks = int(common_shocks)
        self.n_agents = len(economy.actors)  # agents with decisions (price-taking firms have none)
        self._actors = economy.actor_index
        self.num_envs = self.sessions * self.n_agents
        self.max_cycles = int(max_cycles)
        dec = economy.decisions
        cols = [economy.layout.agent_cols[i] for i in economy.actor_index]
        if len({len(c) for c in cols}) != 1:
            raise SpecError("agents of one policy group need the same decisions", path="agents[].action")
        #: (N, n_own): the decision columns of the N actors (rows of :meth:`decision_values`)
        self.actor_cols = np.stack(cols)
        first = [dec[d] for d in cols[0]]
        for c in cols[1:]:
            for a, b in zip(first, (dec[d] for d in c), strict=True):
                if a.kind != b.kind or a.size != b.size or (a.kind == "interval" and (a.low, a.high) != (b.low, b.high)):
                    raise SpecError("agents of one policy group need the same action sets", path="agents[].action")
        self._grid = all(s.kind == "grid" for s in first)
        self._grids = np.stack([np.stack([dec[d].grid for d in c]) for c in cols]) if self._grid else None
        self._low = np.array([[dec[d].low for d in c] for c in cols])
        self._high = np.array([[dec[d].high for d in c] for c in cols])
        spaces_obs = economy.observer.spaces
        self.single_observation_space = spaces_obs[economy.actors[0]]
        if any(spaces_obs[a].shape != self.single_observation_space.shape for a in economy.actors):
            raise SpecError("agents of one policy group need the same observation", path="agents[].observation")
        if self._grid:
            self.single_action_space = (spaces.Discrete(first[0].size) if len(first) == 1
                                        else spaces.MultiDiscrete([s.size for s in first]))
        else:
            self.single_action_space = spaces.Box(self._low[0].astype(np.float32), self._high[0].astype(np.float32),
                                                  dtype=np.float32)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._rng = np.random.default_rng()
        self._state = None
        self._t = 0
        self._needs_reset = False

    @property
    def economy_state(self):
        """The :class:`~marketsai.dynamics.EconomyState` of the sessions (``None`` before
        ``reset``): read it, never write it (``step`` replaces it)."""
        return self._state

    def decision_values(self, actions) -> np.ndarray:
        """Decision values ``(sessions, n_decisions)`` from batched actions (indices or clipped values)."""
        a = np.asarray(actions).reshape(self.sessions, self.n_agents, -1)
        values = np.empty((self.sessions, len(self.economy.decisions)))
        if self._grid:
            idx = a.astype(np.intp)
            picked = np.take_along_axis(self._grids[None], idx[..., None], axis=-1)[..., 0]
        else:
            picked = np.clip(a.astype(float), self._low[None], self._high[None])
        values[:, self.actor_cols.ravel()] = picked.reshape(self.sessions, -1)
        return values

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._state = self._share_shocks(self.economy.initial_state(self._rng, self.sessions))
        self._t = 0
        self._needs_reset = False
        return self._observe(), {}

    def step(self, actions):
        if self._needs_reset:  # NEXT_STEP autoreset: this step only resets
            obs, info = self.reset()
            zeros = np.zeros(self.num_envs, dtype=bool)
            return obs, np.zeros(self.num_envs), zeros, zeros.copy(), info
        values = self.decision_values(actions)
        state, rewards, _ = self.economy.step(self._state, values, self._rng)
        self._state = self._share_shocks(state)
        self._t += 1
        done = self._t >= self.max_cycles
        self._needs_reset = done
        trunc = np.full(self.num_envs, done)
        return self._observe(), rewards[:, self._actors].reshape(-1), np.zeros(self.num_envs, dtype=bool), trunc, {}

    def _share_shocks(self, state):
        """``state`` with each group of ``common_shocks`` sessions on its first session's aggregate shocks."""
        g = self.common_shocks
        if g == 1:
            return state
        return dataclasses.replace(state, exo=np.repeat(state.exo[::g], g, axis=0))

    def _observe(self) -> np.ndarray:
        return self.economy.observer.observe_actors(self._state).reshape(self.num_envs, -1)

    def close(self, **kwargs):
        pass


def _create(econ, env_config: dict | None = None) -> EconomyVectorEnv:
    config = dict(env_config or {})
    n = len(econ.actors)
    num_envs = int(config.get("num_envs", n))
    if num_envs % n:
        raise SpecError("num_envs must be a multiple of the number of agents", path="num_envs_per_env_runner",
                        value=num_envs, allowed=f"a multiple of {n}")
    return EconomyVectorEnv(econ, sessions=num_envs // n, max_cycles=int(config.get("max_cycles", 1000)))


def vector_creator(economy):
    """``creator(env_config) -> EconomyVectorEnv`` bound to an ``Economy`` (picklable)."""
    return functools.partial(_create, economy)
