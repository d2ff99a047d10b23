"""A running simulation of an economy as a PettingZoo ``ParallelEnv``.

Each period every agent takes its decisions, the economy clears every market, each
agent is paid its reward and observes the last ``k`` periods' actions of all
participants of its markets (scaled to [-1, 1] by default), plus the current demand
shock when the economy has one. The initial history is drawn at random from the
agents' action sets, as in Calvano et al. (2020).

With grid actions the per-period rewards are looked up in a table filled once from the
markets (the markets stay the single source of truth); continuous actions clear the
markets each step. ``last_outcome`` holds the latest prices, quantities and rewards.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

_TABLE_LIMIT = 1 << 20  # tabulate rewards when the joint grid has at most this many profiles


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
        self.possible_agents = list(economy.agents)
        self.agents: list[str] = []
        dec = economy.decisions
        n_agents = len(self.possible_agents)
        self._own = [[d for d, s in enumerate(dec) if s.agent == i] for i in range(n_agents)]
        self._discrete = all(s.kind == "grid" for s in dec)
        self._grids = [s.grid for s in dec]
        lo = np.array([s.low for s in dec])
        hi = np.array([s.high for s in dec])
        self._has_shock = len(economy.shock_values) > 1 or economy.shock_values[0] != 0.0
        self._memory = [a.observation["memory"] for a in economy.spec.agents]
        self._k = max(self._memory)
        self._seen, self._scale, self._offset = [], [], []
        self._action_spaces, self._observation_spaces = {}, {}
        zmax = float(np.max(np.abs(economy.shock_values))) or 1.0
        for i, name in enumerate(self.possible_agents):
            spec = economy.spec.agents[i]
            markets_i = {dec[d].market for d in self._own[i]}
            seen = [d for d, s in enumerate(dec) if s.market in markets_i]
            self._seen.append(np.array(seen, dtype=np.intp))
            if spec.observation["normalize"]:
                scale, offset = 2.0 / (hi[seen] - lo[seen]), -(hi[seen] + lo[seen]) / (hi[seen] - lo[seen])
                olo, ohi = np.full(len(seen), -1.0), np.full(len(seen), 1.0)
                zlo, zhi = -1.0, 1.0
            else:
                scale, offset, olo, ohi = np.ones(len(seen)), np.zeros(len(seen)), lo[seen], hi[seen]
                zlo, zhi = float(economy.shock_values.min()), float(economy.shock_values.max())
            self._scale.append(scale)
            self._offset.append(offset)
            k = self._memory[i]
            low = np.concatenate([np.tile(olo, k)] + ([[zlo]] if self._has_shock else []))
            high = np.concatenate([np.tile(ohi, k)] + ([[zhi]] if self._has_shock else []))
            if low.size == 0:  # memory 0 and no shock: a constant observation (a bandit)
                low, high = np.zeros(1), np.zeros(1)
            self._observation_spaces[name] = spaces.Box(low.astype(np.float32), high.astype(np.float32),
                                                        dtype=np.float32)
            own = [dec[d] for d in self._own[i]]
            if all(s.kind == "grid" for s in own):
                self._action_spaces[name] = (spaces.Discrete(own[0].size) if len(own) == 1
                                             else spaces.MultiDiscrete([s.size for s in own]))
            else:
                self._action_spaces[name] = spaces.Box(np.array([s.low for s in own], np.float32),
                                                       np.array([s.high for s in own], np.float32),
                                                       dtype=np.float32)
        self._shock_norm = 1.0 / zmax if any(a.observation["normalize"] for a in economy.spec.agents) else 1.0
        self._table = None
        if self._discrete:
            sizes = [len(g) for g in self._grids]
            if int(np.prod(sizes, dtype=float)) <= _TABLE_LIMIT:
                self._strides = np.cumprod([1] + sizes[::-1][:-1])[::-1].astype(np.intp)
                idx = np.indices(sizes).reshape(len(sizes), -1).T
                values = np.stack([g[idx[:, d]] for d, g in enumerate(self._grids)], axis=1)
                self._table = [economy.clear(values, float(z)) for z in economy.shock_values]
        self._rng = np.random.default_rng()
        self._hist = np.zeros((max(self._k, 1), len(dec)))
        self._shock_state = 0
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
        for d, s in enumerate(self.economy.decisions):
            if s.kind == "grid":
                self._hist[:, d] = s.grid[self._rng.integers(0, s.size, size=self._hist.shape[0])]
            else:
                self._hist[:, d] = self._rng.uniform(s.low, s.high, size=self._hist.shape[0])
        self._shock_state = int(self._rng.choice(len(self.economy.shock_initial), p=self.economy.shock_initial))
        self._t = 0
        self.agents = list(self.possible_agents)
        self.last_outcome = None
        return self._observe(), {a: {} for a in self.agents}

    def step(self, actions):
        if not self.agents:
            raise RuntimeError("step() called on a finished episode; call reset() first")
        e = self._shock_state
        if self._table is not None:
            j = 0
            idx = np.empty(len(self._grids), dtype=np.intp)
            for i, name in enumerate(self.possible_agents):
                a = actions[name]
                own = self._own[i]
                if len(own) == 1:
                    idx[own[0]] = int(a)
                else:
                    idx[own] = np.asarray(a, dtype=np.intp)
            j = int(idx @ self._strides)
            rewards, prices, quantities = (t[j] for t in self._table[e])
            values = np.array([g[k] for g, k in zip(self._grids, idx, strict=True)])
        else:
            values = np.empty(len(self._grids))
            for i, name in enumerate(self.possible_agents):
                a = np.atleast_1d(actions[name])
                for d, v in zip(self._own[i], a, strict=True):
                    s = self.economy.decisions[d]
                    values[d] = s.grid[int(v)] if s.kind == "grid" else min(max(float(v), s.low), s.high)
            rewards, prices, quantities = self.economy.clear(values, float(self.economy.shock_values[e]))
        self.last_outcome = {"price": prices, "quantity": quantities, "reward": rewards, "action": values,
                             "shock": float(self.economy.shock_values[e])}
        if self._hist.shape[0] > 1:
            self._hist[1:] = self._hist[:-1]
        self._hist[0] = values
        if len(self.economy.shock_values) > 1:
            self._shock_state = int(self._rng.choice(len(self.economy.shock_values),
                                                     p=self.economy.shock_transition[e]))
        self._t += 1
        done = self._t >= self.max_cycles
        obs = self._observe()
        rew = {a: float(rewards[i]) for i, a in enumerate(self.possible_agents)}
        terms = {a: False for a in self.possible_agents}
        truncs = {a: done for a in self.possible_agents}
        infos = {a: {} for a in self.possible_agents}
        if done:
            self.agents = []
        return obs, rew, terms, truncs, infos

    def _observe(self):
        out = {}
        z = self.economy.shock_values[self._shock_state] * self._shock_norm
        for i, name in enumerate(self.possible_agents):
            k = self._memory[i]
            if k == 0 and not self._has_shock:
                out[name] = np.zeros(1, dtype=np.float32)
                continue
            body = (self._hist[:k, self._seen[i]] * self._scale[i] + self._offset[i]).ravel()
            if self._has_shock:
                body = np.append(body, z)
            out[name] = body.astype(np.float32)
        return out

    def render(self):
        if self.render_mode == "ansi" and self.last_outcome is not None:
            return f"t={self._t} prices={np.round(self.last_outcome['price'], 4).tolist()}"
        return None

    def close(self):
        pass

    def state(self):
        """The global state: the whole action history and the shock (for centralised critics)."""
        return np.append(self._hist.ravel(), self.economy.shock_values[self._shock_state]).astype(np.float32)
