"""The economy constructor: a validated spec composed into one immutable model.

An :class:`Economy` instantiates each market of the spec with its participants'
characteristics, resolves every agent's action set (a price grid spanning the Nash
and joint-optimum benchmarks, extended by ``xi``, or a continuous interval) and then
exports the same model three ways:

* :meth:`Economy.finite_game` -- payoff tensor and memory states for tabular learners;
* :meth:`Economy.parallel_env` -- a PettingZoo ``ParallelEnv`` (a fresh simulation each call);
* :meth:`Economy.rllib_env_creator` / :meth:`Economy.gymnasium_env` -- thin adapters.

An agent takes one decision (a price or a quantity) in each market it trades in and is
paid through its agent type's ``reward`` (default: the sum of its profits).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from marketsai.agents import agent_types
from marketsai.errors import SpecError
from marketsai.finite_game import FiniteGame
from marketsai.markets import Market, markets
from marketsai.spec import EconomySpec, load_spec


@dataclasses.dataclass(frozen=True, eq=False)
class ActionSet:
    """One decision of one agent in one market: a grid of values or an interval."""

    agent: int
    market: int
    slot: int  # position of the agent among the market's participants
    kind: str  # "grid" | "interval"
    low: float
    high: float
    grid: np.ndarray | None  # (m,) for kind == "grid"

    @property
    def size(self) -> int:
        return 0 if self.grid is None else len(self.grid)


class Economy:
    """An immutable economy built from an :class:`~marketsai.spec.EconomySpec`.

    Examples
    --------
    >>> econ = load_economy("economies/bertrand_duopoly.yaml")
    >>> econ.agents
    ('firm_0', 'firm_1')
    >>> game = econ.finite_game()
    >>> game.n_actions, game.n_states
    (15, 225)
    >>> round(float(game.actions[0, 0]), 5), round(float(game.actions[0, -1]), 5)
    (1.42772, 1.97019)
    """

    def __init__(self, spec: EconomySpec):
        self.spec = spec
        self.agents: tuple[str, ...] = tuple(a.name for a in spec.agents)
        self.groups: dict[str, str] = {a.name: a.group for a in spec.agents}
        self.discount = spec.discount
        index = {name: i for i, name in enumerate(self.agents)}
        self.markets: tuple[Market, ...] = tuple(
            markets.get(m.type).from_spec(m.params, [(a, spec.agents[index[a]].params) for a in m.participants],
                                          f"markets[{k}]")
            for k, m in enumerate(spec.markets))
        self.participants: tuple[tuple[int, ...], ...] = tuple(
            tuple(index[a] for a in m.participants) for m in spec.markets)
        self.agent_types = tuple(agent_types.get(a.type) for a in spec.agents)
        if spec.shocks is None:
            self.shock_values, self.shock_transition, self.shock_initial = np.zeros(1), np.ones((1, 1)), np.ones(1)
        else:
            self.shock_values = np.asarray(spec.shocks["values"], dtype=float)
            self.shock_transition = np.asarray(spec.shocks["transition"], dtype=float)
            self.shock_initial = np.asarray(spec.shocks["initial"], dtype=float)
        # static benchmarks of each market in each shock state, computed once
        self._benchmarks = [[mkt.benchmarks(float(z)) for z in self.shock_values] for mkt in self.markets]
        self.decisions: tuple[ActionSet, ...] = tuple(self._resolve_actions())
        # decision columns of each market (in participant order) and of each agent
        self._market_cols = [np.array(sorted((d for d, s in enumerate(self.decisions) if s.market == k),
                                             key=lambda d: self.decisions[d].slot), dtype=np.intp)
                             for k in range(len(self.markets))]
        self._agent_cols = [np.array([d for d, s in enumerate(self.decisions) if s.agent == i], dtype=np.intp)
                            for i in range(len(self.agents))]

    # ------------------------------------------------------------ building
    @classmethod
    def from_dict(cls, data: dict, file: str | Path | None = None) -> Economy:
        """Validate plain data (as in an economy file) and build the economy."""
        return cls(EconomySpec.from_dict(data, file=file))

    def to_dict(self) -> dict:
        """The fully resolved economy description (``Economy.from_dict`` reads it back)."""
        return self.spec.to_dict()

    def __eq__(self, other):
        return isinstance(other, Economy) and self.spec == other.spec

    __hash__ = None

    def __repr__(self):
        kinds = ", ".join(f"{m.type}({len(m.participants)})" for m in self.spec.markets)
        return f"Economy({self.spec.name!r}: {len(self.agents)} agents; markets {kinds})"

    def _resolve_actions(self):
        by_agent = {i: [] for i in range(len(self.agents))}
        for k, parts in enumerate(self.participants):
            for slot, i in enumerate(parts):
                by_agent[i].append((k, slot))
        for i, pairs in by_agent.items():
            a = self.spec.agents[i].action
            where = f"{self.spec.agents[i].source or f'agents[{i}]'}.action"
            for k, slot in pairs:
                mkt = self.markets[k]
                if a["values"] is not None:
                    grid = np.asarray(a["values"], dtype=float)
                    yield ActionSet(i, k, slot, "grid", float(grid[0]), float(grid[-1]), grid)
                    continue
                ends = []
                for b in self._benchmarks[k]:
                    ends += [b["nash_action"][slot], b["coop_action"][slot]]
                lo_b, hi_b = float(min(ends)), float(max(ends))
                span = hi_b - lo_b
                if span <= 1e-12 * max(1.0, abs(hi_b)) and (a["low"] is None or a["high"] is None):
                    raise SpecError(f"the Nash and joint-optimum {mkt.action}s of {self.agents[i]} coincide "
                                    f"({lo_b:.6g}), so the action span cannot be derived from them",
                                    path=f"{where}.low", value=a["low"],
                                    allowed="explicit action.low and action.high")
                low = a["low"] if a["low"] is not None else lo_b - a["xi"] * span
                high = a["high"] if a["high"] is not None else hi_b + a["xi"] * span
                if mkt.action == "quantity":
                    low = max(low, 0.0)
                if low >= high:
                    raise SpecError("the resolved action interval is empty", path=f"{where}.low",
                                    value=low, allowed=f"a number < {high:.6g}")
                grid = np.linspace(low, high, a["points"]) if a["kind"] == "grid" else None
                yield ActionSet(i, k, slot, a["kind"], float(low), float(high), grid)

    # ------------------------------------------------------------ the model
    def clear(self, decision_values, shock=0.0):
        """Clear every market. ``decision_values`` has shape ``batch + (n_decisions,)``.

        Returns ``(rewards, prices, quantities)``: rewards ``batch + (n_agents,)``,
        prices and quantities ``batch + (n_decisions,)``.
        """
        x = np.asarray(decision_values, dtype=float)
        batch = x.shape[:-1]
        prices = np.empty_like(x)
        quantities = np.empty_like(x)
        profits = np.empty_like(x)
        for mkt, cols in zip(self.markets, self._market_cols, strict=True):
            out = mkt.clear(x[..., cols], shock)
            prices[..., cols], quantities[..., cols], profits[..., cols] = out.price, out.quantity, out.profit
        rewards = np.empty(batch + (len(self.agents),))
        for i, agent_type in enumerate(self.agent_types):
            rewards[..., i] = agent_type.reward([profits[..., d] for d in self._agent_cols[i]])
        return rewards, prices, quantities

    def benchmarks(self):
        """Static Nash and joint-optimum actions and profits per decision, as a DataFrame."""
        import pandas as pd
        rows = []
        for e, z in enumerate(self.shock_values):
            for s in self.decisions:
                b = self._benchmarks[s.market][e]
                rows.append({"shock_state": e, "shock": float(z), "agent": self.agents[s.agent],
                             "market": self.spec.markets[s.market].name,
                             "nash_action": b["nash_action"][s.slot], "coop_action": b["coop_action"][s.slot],
                             "nash_profit": b["nash_profit"][s.slot], "coop_profit": b["coop_profit"][s.slot]})
        return pd.DataFrame(rows)

    def stationary_shock_distribution(self) -> np.ndarray:
        """The stationary distribution of the shock chain (uniform weights if it is not unique)."""
        P = self.shock_transition
        w, v = np.linalg.eig(P.T)
        k = int(np.argmin(np.abs(w - 1)))
        pi = np.real(v[:, k])
        return pi / pi.sum()

    # ------------------------------------------------------------ exports
    def finite_game(self) -> FiniteGame:
        """Tabulate the economy for tabular learners (see :mod:`marketsai.finite_game`).

        Requires every agent to take one grid decision, all grids of one size and one
        memory length. With shocks, the Nash and cooperative payoffs that define profit
        gains are averages over the stationary distribution of the shock chain.
        """
        n = len(self.agents)
        if len(self.decisions) != n:
            raise SpecError("finite_game needs every agent in exactly one market", path="markets",
                            allowed="one market per agent (use parallel_env for multi-market economies)")
        order = sorted(range(n), key=lambda d: self.decisions[d].agent)
        sets = [self.decisions[d] for d in order]
        if any(s.kind != "grid" for s in sets):
            bad = next(s for s in sets if s.kind != "grid")
            raise SpecError("finite_game needs grid actions", path=f"{self.spec.agents[bad.agent].source}.action.kind",
                            value="interval", allowed="grid")
        sizes = {s.size for s in sets}
        if len(sizes) != 1:
            raise SpecError("finite_game needs the same number of grid points for every agent",
                            path="agents[].action.points", value=sorted(sizes), allowed="one value")
        memories = {a.observation["memory"] for a in self.spec.agents}
        if len(memories) != 1:
            raise SpecError("finite_game needs one memory length for all agents",
                            path="agents[].observation.memory", value=sorted(memories), allowed="one value")
        m = sizes.pop()
        grids = np.stack([s.grid for s in sets])  # (n, m)
        idx = np.indices((m,) * n).reshape(n, -1).T  # (m**n, n), agent 0 most significant
        values = np.empty(idx.shape)
        for d in range(n):
            values[:, order[d]] = grids[d, idx[:, d]]
        payoffs, prices = [], []
        for z in self.shock_values:
            r, p, _ = self.clear(values, float(z))
            payoffs.append(r)
            prices.append(p[:, order])
        bench = self.benchmarks()
        weights = self.stationary_shock_distribution()

        def per_agent(col):
            tab = bench.pivot_table(index="shock_state", columns="agent", values=col, sort=False)
            return weights @ tab[list(self.agents)].to_numpy()

        return FiniteGame(agents=self.agents, actions=grids, payoffs=np.stack(payoffs), prices=np.stack(prices),
                          memory=memories.pop(), discount=self.discount,
                          nash_payoff=per_agent("nash_profit"), coop_payoff=per_agent("coop_profit"),
                          nash_action=per_agent("nash_action"), coop_action=per_agent("coop_action"),
                          exo_transition=self.shock_transition, exo_initial=self.shock_initial,
                          exo_values=self.shock_values)

    def parallel_env(self, max_cycles: int = 1000, render_mode: str | None = None):
        """A fresh running simulation as a PettingZoo ``ParallelEnv``."""
        from marketsai.envs.parallel import EconomyParallelEnv
        return EconomyParallelEnv(self, max_cycles=max_cycles, render_mode=render_mode)

    def gymnasium_env(self, max_cycles: int = 1000):
        """A gymnasium ``Env`` for an economy with one agent."""
        from marketsai.envs.gymnasium import SingleAgentEnv
        return SingleAgentEnv(self, max_cycles=max_cycles)

    def rllib_env_creator(self):
        """A picklable ``creator(env_config) -> MultiAgentEnv`` for ``ray.tune.register_env``."""
        from marketsai.envs.rllib import env_creator
        return env_creator(self.to_dict())


def load_economy(path: str | Path) -> Economy:
    """Read, validate and build an economy file."""
    try:
        return Economy(load_spec(path))
    except SpecError as err:
        raise (err if err.file else err.with_file(path)) from None
