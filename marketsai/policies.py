"""Policies: what a learner gives back and the one thing an evaluation sees.

Why one shape: a Q-table, a torch module and a closed-form rule all answer the same
question -- "what does agent ``a`` do, given this batch of its observations?" -- so a
tabular run and a PPO run of the same economy are evaluated by the same code and give
the same columns.

Contract
--------
* ``agents``: the economy's actors, in the economy's order.
* ``act(agent, observations)``: greedy actions for a batch of that agent's observations
  ``(B, obs_dim)`` (the arrays the economy's environments emit): ``(B,)`` int64 grid
  indices for a grid decision, ``(B, *shape)`` float64 values **in the economy's own
  units** (a price, a savings share) for an interval decision. No RLlib normalisation
  leaks out of a policy.
* ``strategies()``: where the policy *is* a table on a finite game's or finite model's
  states, that table ``(n_agents, n_states)`` (action indices); else ``None``, and an
  evaluation that needs a table tabulates the policy through ``act`` on the states'
  observations.
* ``start_state``: the state the learner ended in, where an evaluation reads the limit
  cycle (tabular sessions: where the session converged); ``None`` when it has none.
* ``info``: what the learner records about how it got here (``seed``, ``converged``,
  ``periods``, ``iterations``; plain scalars): one row of a run's results table, beside
  the evaluations' columns. Empty by default.

A policy is pure: ``act`` never changes it and never draws random numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

import numpy as np


class Policy:
    """Base class of policies (see the module docstring)."""

    agents: tuple[str, ...] = ()
    start_state: int | None = None
    info: Mapping = MappingProxyType({})

    def act(self, agent: str, observations: np.ndarray) -> np.ndarray:
        """Greedy actions of ``agent`` for a batch of its observations ``(B, obs_dim)``."""
        raise NotImplementedError

    def act_all(self, observations: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every agent's greedy actions for one period's batched observations."""
        return {agent: self.act(agent, np.asarray(obs)) for agent, obs in observations.items()}

    def strategies(self) -> np.ndarray | None:
        """The greedy table ``(n_agents, n_states)`` if this policy is one, else ``None``."""
        return None

    def _index(self, agent: str) -> int:
        try:
            return self.agents.index(agent)
        except ValueError:
            raise KeyError(f"no agent {agent!r} in this policy; it has {list(self.agents)}") from None


class TablePolicy(Policy):
    """A greedy table on a finite state space (a converged tabular session).

    ``state_of`` maps a batch of observations ``(B, obs_dim)`` to state indices ``(B,)``;
    without it only :meth:`strategies` is available (evaluations on the finite game read
    the table directly).

    >>> pol = TablePolicy(("a", "b"), np.array([[0, 1], [1, 1]]),
    ...                   state_of=lambda obs: obs[:, 0].astype(int))
    >>> pol.act("a", np.array([[1.0], [0.0]]))
    array([1, 0])
    >>> pol.strategies().shape
    (2, 2)
    """

    def __init__(self, agents: Sequence[str], strategies: np.ndarray, *,
                 state_of: Callable[[np.ndarray], np.ndarray] | None = None,
                 start_state: int | None = None, info: Mapping | None = None):
        self.agents = tuple(agents)
        self.table = np.asarray(strategies, dtype=np.int64)
        if self.table.ndim != 2 or self.table.shape[0] != len(self.agents):
            raise ValueError(f"strategies must have shape (n_agents={len(self.agents)}, n_states); "
                             f"got {self.table.shape}")
        self.state_of = state_of
        self.start_state = None if start_state is None else int(start_state)
        if info is not None:
            self.info = dict(info)

    def act(self, agent: str, observations: np.ndarray) -> np.ndarray:
        if self.state_of is None:
            raise TypeError("this TablePolicy has no observation -> state map; read strategies()")
        states = np.asarray(self.state_of(np.asarray(observations)), dtype=np.int64)
        return self.table[self._index(agent), states]

    def strategies(self) -> np.ndarray:
        return self.table


class FunctionPolicy(Policy):
    """One function per agent: ``observations (B, obs_dim) -> actions`` (closed-form rules,
    reference solutions, trained networks wrapped by a learner).

    >>> pol = FunctionPolicy({"planner": lambda obs: 0.3 * np.ones(len(obs))})
    >>> pol.act("planner", np.zeros((2, 3)))
    array([0.3, 0.3])
    """

    def __init__(self, functions: Mapping[str, Callable[[np.ndarray], np.ndarray]], *,
                 info: Mapping | None = None):
        self.functions = dict(functions)
        self.agents = tuple(self.functions)
        if info is not None:
            self.info = dict(info)

    def act(self, agent: str, observations: np.ndarray) -> np.ndarray:
        self._index(agent)
        return np.asarray(self.functions[agent](np.asarray(observations)))


class SharedPolicy(Policy):
    """One function shared by a group of agents (N households, a planner): every agent's
    observations are one batch, so :meth:`act_all` makes one call per period whatever N.

    >>> pol = SharedPolicy(["h0", "h1"], lambda obs: 0.5 * obs[:, :1])
    >>> out = pol.act_all({"h0": np.ones((2, 3)), "h1": np.zeros((2, 3))})
    >>> out["h0"].ravel().tolist(), out["h1"].ravel().tolist()
    ([0.5, 0.5], [0.0, 0.0])
    """

    def __init__(self, agents: Sequence[str], function: Callable[[np.ndarray], np.ndarray]):
        self.agents = tuple(agents)
        self.function = function

    def __call__(self, observations: np.ndarray) -> np.ndarray:
        """The shared function itself: actions for a batch of any member's observations."""
        return np.asarray(self.function(np.asarray(observations)))

    def act(self, agent: str, observations: np.ndarray) -> np.ndarray:
        self._index(agent)
        return self(observations)

    def act_all(self, observations: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        agents = list(observations)
        unknown = set(agents).difference(self.agents)  # a set: O(N) a period, not O(N^2)
        if unknown:
            self._index(min(unknown))  # raises the KeyError that names it
        obs = np.stack([np.asarray(observations[a]) for a in agents], axis=1)  # (B, N, d)
        out = np.asarray(self.function(obs.reshape(-1, obs.shape[-1])))
        out = out.reshape((obs.shape[0], len(agents)) + out.shape[1:])
        return {a: out[:, i] for i, a in enumerate(agents)}


class ConstantPolicy(Policy):
    """Each agent always plays one action (a grid index or a value), whatever it observes.

    >>> ConstantPolicy({"firm_0": 3, "firm_1": 7}).act("firm_1", np.zeros((2, 4)))
    array([7, 7])
    """

    def __init__(self, actions: Mapping[str, int | float | Sequence[float]], *,
                 info: Mapping | None = None):
        self.actions = {a: np.asarray(v) for a, v in actions.items()}
        self.agents = tuple(self.actions)
        if info is not None:
            self.info = dict(info)

    def act(self, agent: str, observations: np.ndarray) -> np.ndarray:
        self._index(agent)
        value = self.actions[agent]
        return np.broadcast_to(value, (len(observations),) + value.shape).copy()
