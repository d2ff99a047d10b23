"""A running simulation of an economy as a PettingZoo ``ParallelEnv``.

A shell around the economy's one pure step (:mod:`marketsai.dynamics`): it holds one
:class:`~marketsai.dynamics.EconomyState` (batch 1) and a generator, maps each agent's
action (an index into its grid, or a value clipped to its interval) onto decision values,
calls ``economy.step`` and returns the declared observations (:mod:`marketsai.observe`).
The initial history is drawn at random from the agents' action sets, as in Calvano
et al. (2020). ``last_outcome`` holds the latest prices, quantities, rewards, decisions,
the demand shock and, for agents with their own decisions, what they produced.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv


class EconomyParallelEnv(ParallelEnv):
    """PettingZoo view of an :class:`~marketsai.economy.Economy` (build with ``econ.parallel_env()``).

    Examples
    --------
    >>> import marketsai as mai
    >>> env = mai.load_economy("economies/bertrand_duopoly.yaml").parallel_env(max_cycles=5)
    >>> obs, infos = env.reset(seed=0)
    >>> obs["firm_0"].shape
    (2,)
    >>> obs, rewards, terms, truncs, infos = env.step({"firm_0": 14, "firm_1": 14})
    >>> round(float(env.last_outcome["price"][0]), 5), round(rewards["firm_0"], 5)
    (1.97019, 0.33599)
    """

    metadata = {"name": "marketsai_economy_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, economy, max_cycles: int = 1000, render_mode: str | None = None):
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.economy = economy
        self.max_cycles = int(max_cycles)
        self.render_mode = render_mode
        self.possible_agents = list(economy.actors)  # agents with decisions (not price-taking firms)
        self._actor_index = economy.actor_index
        self.agents: list[str] = []
        dec = economy.decisions
        self._own = [economy.layout.agent_cols[i] for i in economy.actor_index]
        self._own_lists = [[int(d) for d in cols] for cols in self._own]
        self._grids = [s.grid for s in dec]
        self._low = np.array([s.low for s in dec])
        self._high = np.array([s.high for s in dec])
        self._is_grid = np.array([s.kind == "grid" for s in dec])
        self._observation_spaces = {a: economy.observer.spaces[a] for a in self.possible_agents}
        self._action_spaces = {}
        for i, name in enumerate(self.possible_agents):
            own = [dec[d] for d in self._own[i]]
            if all(s.kind == "grid" for s in own):
                self._action_spaces[name] = (spaces.Discrete(own[0].size) if len(own) == 1
                                             else spaces.MultiDiscrete([s.size for s in own]))
            else:
                self._action_spaces[name] = spaces.Box(np.array([s.low for s in own], np.float32),
                                                       np.array([s.high for s in own], np.float32),
                                                       dtype=np.float32)
        self._rng = np.random.default_rng()
        self._state = None
        self._t = 0
        self.last_outcome: dict | None = None

    # PettingZoo asks for the same space object on every call
    def observation_space(self, agent):
        return self._observation_spaces[agent]

    def action_space(self, agent):
        return self._action_spaces[agent]

    @property
    def observation_spaces(self):
        return self._observation_spaces

    @property
    def action_spaces(self):
        return self._action_spaces

    # ------------------------------------------------------------ dynamics
    def reset(self, seed=None, options=None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._state = self.economy.initial_state(self._rng, 1)
        self._t = 0
        self.agents = list(self.possible_agents)
        self.last_outcome = None
        return self._observe(), {a: {} for a in self.agents}

    def decision_values(self, actions: dict) -> np.ndarray:
        """Decision values ``(n_decisions,)`` from an action dict (grid indices or clipped values)."""
        values = np.empty(len(self._grids))
        for name, own in zip(self.possible_agents, self._own_lists, strict=True):
            a = actions[name]
            if len(own) == 1 and np.ndim(a) == 0:  # the common case: one decision, a scalar action
                a = (a,)
            for d, v in zip(own, a, strict=True):
                values[d] = self._grids[d][int(v)] if self._is_grid[d] else min(max(float(v), self._low[d]),
                                                                                self._high[d])
        return values

    def step(self, actions):
        if not self.agents:
            raise RuntimeError("step() called on a finished episode; call reset() first")
        econ = self.economy
        values = self.decision_values(actions)
        shock = econ.shock_values[econ.exo_chain_index(self._state)[0]] if econ.shock_field else 0.0
        self._state, rewards, info = econ.step(self._state, values[None], self._rng)
        self.last_outcome = {"price": info["price"][0], "quantity": info["quantity"][0], "reward": rewards[0],
                             "action": values, "shock": float(shock)}
        for ent in econ.entries:
            if ent.name in info:
                self.last_outcome[ent.name] = {k: np.asarray(v)[0] for k, v in info[ent.name].items()
                                               if not isinstance(v, dict)}
        for name, rep in info.get("markets", {}).items():
            self.last_outcome.setdefault("markets", {})[name] = {k: np.asarray(v)[0] for k, v in rep._asdict().items()}
        self._t += 1
        done = self._t >= self.max_cycles
        obs = self._observe()
        rew = {a: float(rewards[0, i]) for i, a in zip(self._actor_index, self.possible_agents, strict=True)}
        terms = {a: False for a in self.possible_agents}
        truncs = {a: done for a in self.possible_agents}
        infos = {a: {} for a in self.possible_agents}
        if done:
            self.agents = []
        return obs, rew, terms, truncs, infos

    def _observe(self):
        obs = self.economy.observe(self._state)
        return {a: obs[a][0] for a in self.possible_agents}

    def render(self):
        if self.render_mode == "ansi" and self.last_outcome is not None:
            return f"t={self._t} prices={np.round(self.last_outcome['price'], 4).tolist()}"
        return None

    def close(self):
        pass

    @property
    def economy_state(self):
        """The :class:`~marketsai.dynamics.EconomyState` (batch 1; ``None`` before ``reset``):
        read it, never write it (``step`` replaces it)."""
        return self._state

    def state(self):
        """The global state (history, aggregate shocks, mean of each state field) for centralised critics."""
        return self.economy.state(self._state)[0]
