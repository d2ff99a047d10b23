"""Where each agent's, market's and entry's decisions sit in a row of decision values.

An economy's decisions (``econ.decisions``, one :class:`~marketsai.economy.ActionSet` each)
are the columns of every joint action row that ``step``, ``clear`` and the environments
take. ``econ.layout`` names the columns of each agent, market and agent entry, so the step,
the env shells and the evaluations index those rows one way, through a public object.

>>> import marketsai as mai
>>> lay = mai.load_economy("economies/bertrand_duopoly.yaml").layout
>>> [c.tolist() for c in lay.agent_cols], [c.tolist() for c in lay.market_cols]
([[0], [1]], [[0, 1]])
>>> lay.entry_cols[0].tolist()  # one entry of two firms: (count, own decisions)
[[0], [1]]
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class DecisionLayout:
    """Decision columns (indices into ``econ.decisions``) by agent, market and entry."""

    agent_cols: tuple[np.ndarray, ...]  # agent i's decisions, in declaration order
    market_cols: tuple[np.ndarray, ...]  # market m's decisions, in participant (slot) order
    entry_cols: tuple[np.ndarray, ...]  # entry e's (count, n_own): its agents' decisions as one array

    @classmethod
    def of(cls, decisions, n_agents: int, n_markets: int, entries) -> DecisionLayout:
        """The layout of ``decisions`` (ActionSets) among ``n_agents`` agents, ``n_markets``
        markets and ``entries`` (each with the agent indices ``members``)."""
        by_market = [[] for _ in range(n_markets)]
        by_agent = [[] for _ in range(n_agents)]
        for d, s in enumerate(decisions):
            by_agent[s.agent].append(d)
            if s.market >= 0:
                by_market[s.market].append(d)
        agent = tuple(np.array(c, dtype=np.intp) for c in by_agent)
        market = tuple(np.array(sorted(c, key=lambda d: decisions[d].slot), dtype=np.intp)
                       for c in by_market)
        entry = tuple(np.stack([agent[i] for i in ent.members]) for ent in entries)
        return cls(agent, market, entry)
