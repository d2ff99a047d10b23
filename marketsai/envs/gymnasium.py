"""A one-agent economy as a gymnasium ``Env`` (a monopolist, a planner)."""

from __future__ import annotations

import gymnasium as gym


class SingleAgentEnv(gym.Env):
    """Gymnasium view of an economy with exactly one agent (``econ.gymnasium_env()``).

    Examples
    --------
    >>> import marketsai as mai
    >>> env = mai.load_economy("economies/monopolist.yaml").gymnasium_env(max_cycles=3)
    >>> obs, info = env.reset(seed=1)
    >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    >>> terminated, truncated
    (False, False)
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, economy, max_cycles: int = 1000, render_mode: str | None = None):
        from marketsai.errors import SpecError
        if len(economy.actors) != 1:
            raise SpecError("gymnasium_env needs an economy with exactly one agent that decides", path="agents",
                            value=list(economy.actors), allowed="one agent (use parallel_env otherwise)")
        self._env = economy.parallel_env(max_cycles=max_cycles, render_mode=render_mode)
        self._agent = economy.actors[0]
        self.observation_space = self._env.observation_space(self._agent)
        self.action_space = self._env.action_space(self._agent)
        self.render_mode = render_mode

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        obs, infos = self._env.reset(seed=seed, options=options)
        return obs[self._agent], infos[self._agent]

    def step(self, action):
        obs, rew, term, trunc, info = self._env.step({self._agent: action})
        a = self._agent
        return obs[a], rew[a], term[a], trunc[a], info[a]

    def render(self):
        return self._env.render()
