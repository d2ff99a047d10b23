"""The RLlib adapter: an economy as a new-API-stack ``MultiAgentEnv``.

The only module of the core that imports ray, and only when used.
"""

from __future__ import annotations

import functools

from ray.rllib.env.multi_agent_env import MultiAgentEnv


class EconomyMultiAgentEnv(MultiAgentEnv):
    """RLlib view of a PettingZoo economy env (build with ``econ.rllib_env_creator()``).

    ``config`` keys: ``economy`` (an :class:`~marketsai.economy.Economy`), ``max_cycles``
    (episode length, default 1000); RLlib may add its own keys, which are ignored.
    """

    def __init__(self, config: dict | None = None):
        super().__init__()
        config = dict(config or {})
        economy = config["economy"]
        self._env = economy.parallel_env(max_cycles=int(config.get("max_cycles", 1000)))
        self.possible_agents = list(self._env.possible_agents)
        self.agents = list(self.possible_agents)
        self.observation_spaces = dict(self._env.observation_spaces)
        self.action_spaces = dict(self._env.action_spaces)
        self.economy = economy

    def reset(self, *, seed=None, options=None):
        obs, infos = self._env.reset(seed=seed, options=options)
        self.agents = list(self._env.agents)
        return obs, infos

    def step(self, action_dict):
        obs, rew, term, trunc, infos = self._env.step(action_dict)
        term["__all__"] = all(term.values())
        trunc["__all__"] = all(trunc.values())
        self.agents = list(self._env.agents)
        return obs, rew, term, trunc, infos

    @property
    def last_outcome(self):
        return self._env.last_outcome


def _create(economy, env_config: dict | None = None) -> EconomyMultiAgentEnv:
    config = {"economy": economy}
    config.update({k: v for k, v in dict(env_config or {}).items() if k != "economy"})
    return EconomyMultiAgentEnv(config)


def env_creator(economy):
    """``creator(env_config) -> EconomyMultiAgentEnv`` bound to an ``Economy`` (picklable: the
    economy travels to remote env runners by pickle, its classes by reference)."""
    return functools.partial(_create, economy)
