"""The economy constructor: a validated spec composed into one immutable model.

An :class:`Economy` instantiates each market of the spec with its participants'
characteristics, each agent entry of the file as its agent type (one instance per entry;
its ``count`` agents share it and step as one array), the exogenous processes as Markov
chains, and resolves every decision (a price grid spanning the Nash and joint-optimum
benchmarks, extended by ``xi``; an interval; a planner's savings). It then exports the
same model several ways:

* :meth:`Economy.step` -- the one pure transition ``(state, actions, rng) -> (state',
  rewards, info)`` (:mod:`marketsai.dynamics`) that every environment wraps;
* :meth:`Economy.finite_model` / :meth:`Economy.finite_game` -- tables for tabular
  learners and DP solvers, built from the same period function (:mod:`marketsai.tabulate`);
* :meth:`Economy.parallel_env`, :meth:`Economy.gymnasium_env`,
  :meth:`Economy.rllib_env_creator` -- thin shells around ``step`` (:mod:`marketsai.envs`:
  they take the Economy and never import this module back);
* :attr:`Economy.layout` -- which decision columns belong to each agent, market and entry
  (:mod:`marketsai.layout`), the one public way to index a row of decision values.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from marketsai.agents import agent_types
from marketsai.dotted import economy_key, set_path
from marketsai.errors import SpecError
from marketsai.layout import DecisionLayout
from marketsai.markets import CompetitiveMarket, Market, StrategicMarket, markets
from marketsai.processes import process_from_spec, product
from marketsai.shipped import economy_file
from marketsai.spec import EconomySpec, load_spec
from marketsai.yamlio import read_yaml


@dataclasses.dataclass(frozen=True, eq=False)
class ActionSet:
    """One decision of one agent: a grid of values or an interval.

    ``market`` is the index of the market it is taken in (``slot``: the agent's position
    among its participants), or -1 for an agent's own decision (a planner's savings).
    """

    agent: int
    market: int
    slot: int
    kind: str  # "grid" | "interval"
    low: float
    high: float
    grid: np.ndarray | None  # (m,) for kind == "grid"
    name: str = ""

    @property
    def size(self) -> int:
        return 0 if self.grid is None else len(self.grid)


@dataclasses.dataclass(frozen=True, eq=False)
class Entry:
    """One agent entry of the file: its type instance and the agents it declares."""

    name: str
    kind: object  # the AgentType instance
    members: tuple[int, ...]  # agent indices
    where: str


class Economy:
    """An immutable economy built from an :class:`~marketsai.spec.EconomySpec`.

    Build one with :func:`load_economy` (a file) or :meth:`Economy.from_dict` (plain
    data); the constructor takes a spec that is already validated.

    Parameters
    ----------
    spec : EconomySpec
        The validated economy description (:func:`marketsai.spec.load_spec`).

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
        self._build_processes()
        self.entries: tuple[Entry, ...] = tuple(self._build_entries())
        self.entry_of = np.empty(len(self.agents), dtype=np.intp)  # agent -> entry index
        self.position = np.empty(len(self.agents), dtype=np.intp)  # agent -> position in its entry
        for k, ent in enumerate(self.entries):
            self.entry_of[list(ent.members)] = k
            self.position[list(ent.members)] = np.arange(len(ent.members))
        # static benchmarks of each strategic market in each shock state, computed once
        self._benchmarks = [[mkt.benchmarks(float(z)) for z in self.shock_values]
                            if isinstance(mkt, StrategicMarket) else None for mkt in self.markets]
        self.clearing = None
        if any(isinstance(m, CompetitiveMarket) for m in self.markets):
            from marketsai.clearing import Clearing
            self.clearing = Clearing(self)
            from marketsai import factor_supply
            # units only the composed economy knows (a household's steady-state capital): the entries are
            # built again with them, never changed after building
            self.entries = tuple(self._build_entries([factor_supply.state_units(self, k)
                                                      for k in range(len(self.entries))]))
            households = factor_supply.households(self)
            for e in households:
                self.entries[e].kind.scale("k")  # a steady-state scale the economy cannot compute is an error now
                factor_supply.check_capital(self, e)
            factor_supply.check_labour(self, households)
        self.decisions: tuple[ActionSet, ...] = tuple(self._resolve_actions())
        self._check_sampled_ranges()
        #: the decision columns of each agent, market and entry (:mod:`marketsai.layout`)
        self.layout = DecisionLayout.of(self.decisions, len(self.agents), len(self.markets), self.entries)
        self.memory = max([a.observation["memory"] for a in spec.agents] + [0])
        self.has_state = any(ent.kind.state for ent in self.entries)
        # agents with decisions act in environments; price-taking firms have none
        self.actors: tuple[str, ...] = tuple(a for i, a in enumerate(self.agents) if len(self.layout.agent_cols[i]))
        self.actor_index = np.array([i for i in range(len(self.agents)) if len(self.layout.agent_cols[i])], dtype=np.intp)

    # ------------------------------------------------------------ building
    def _build_processes(self):
        procs = [process_from_spec(entry, f"processes.{name}") for name, entry in self.spec.processes.items()]
        self.processes = {p.name: p for p in procs}
        self.aggregate = tuple(p for p in procs if p.scope == "aggregate")
        self.idiosyncratic = tuple(p for p in procs if p.scope == "agent")
        if self.aggregate:
            self.exo_chain = product(*(p.chain for p in self.aggregate))
        else:
            from marketsai.processes import MarkovChain
            self.exo_chain = MarkovChain(np.zeros(1), np.ones((1, 1)), fields=("_none",))
        self.exo_fields = {f: np.asarray(p.chain.value(f)) for p in procs for f in p.chain.fields}
        self.exo_sizes = tuple(p.chain.n_states for p in self.aggregate)
        # the legacy single demand shock: the field read by strategic markets as "shock"
        bound = {m.inputs.get("shock") for m in self.spec.markets} - {None}
        if len(bound) > 1:
            raise SpecError("strategic markets read different shock processes; finite games need one",
                            path="markets[].inputs.shock", value=sorted(bound), allowed="one field")
        shock = bound.pop() if bound else None
        self.shock_field = shock
        self.shock_values = (np.asarray(self.exo_chain.value(shock)) if shock in self.exo_chain.fields
                             else np.zeros(self.exo_chain.n_states))
        self.shock_transition = np.asarray(self.exo_chain.P)
        self.shock_initial = np.asarray(self.exo_chain.p0)
        for k, m in enumerate(self.spec.markets):
            for key, field in m.inputs.items():
                if field not in self.exo_chain.fields:
                    raise SpecError("markets read aggregate process fields only", path=f"markets[{k}].inputs.{key}",
                                    value=field, allowed=", ".join(self.exo_chain.fields) or "none")


    def _build_entries(self, units=None):
        by_source: dict[str, list[int]] = {}
        for i, a in enumerate(self.spec.agents):
            by_source.setdefault(a.source or f"agents[{i}]", []).append(i)
        exo_values = {f: [float(v) for v in vals] for f, vals in self.exo_fields.items()}
        for n, (where, members) in enumerate(by_source.items()):
            first = self.spec.agents[members[0]]
            name = first.name if len(members) == 1 else first.name.rsplit("_", 1)[0]
            cls = self.agent_types[members[0]]
            own = {k: v for k, v in first.params.items() if k in cls.params}
            params = cls.validate_params(own, f"{where}.params")
            kind = cls(params, first.state, first.action, len(members), self.discount, where,
                       None if units is None else units[n])
            kind.check(exo_values, where)
            yield Entry(name=name, kind=kind, members=tuple(members), where=where)

    @classmethod
    def from_dict(cls, data: dict, file: str | Path | None = None) -> Economy:
        """Validate plain data (as in an economy file) and build the economy.

        Parameters
        ----------
        data : dict
            The economy as an economy file's mapping (``to_dict()`` gives one back).
        file : str or Path, optional
            Where the data came from, named in error messages.
        """
        spec = EconomySpec.from_dict(data, file=file)
        try:
            return cls(spec)
        except SpecError as err:
            raise (err.with_file(file) if file else err) from None

    def to_dict(self) -> dict:
        """The fully resolved economy description (``Economy.from_dict`` reads it back)."""
        return self.spec.to_dict()

    def __eq__(self, other):
        return isinstance(other, Economy) and self.spec == other.spec

    __hash__ = None

    def __repr__(self):
        kinds = ", ".join(f"{m.type}({len(m.participants)})" for m in self.spec.markets) or "none"
        return f"Economy({self.spec.name!r}: {len(self.agents)} agents; markets {kinds})"

    def _resolve_actions(self):
        by_agent = {i: [] for i in range(len(self.agents))}
        for k, parts in enumerate(self.participants):
            for slot, i in enumerate(parts):
                by_agent[i].append((k, slot))
        for i, pairs in by_agent.items():
            ent = self.entries[self.entry_of[i]]
            if not ent.kind.trades:
                for d in ent.kind.decision_sets():
                    yield ActionSet(i, -1, 0, d["kind"], float(d["low"]), float(d["high"]), d["grid"], d["name"])
                continue
            a = self.spec.agents[i].action
            where = f"{self.spec.agents[i].source or f'agents[{i}]'}.action"
            for k, slot in pairs:
                mkt = self.markets[k]
                if a["values"] is not None:
                    grid = np.asarray(a["values"], dtype=float)
                    yield ActionSet(i, k, slot, "grid", float(grid[0]), float(grid[-1]), grid, mkt.action)
                    continue
                if self._benchmarks[k] is None:
                    if a["low"] is None or a["high"] is None:
                        raise SpecError(f"market {self.spec.markets[k].name!r} is competitive (no Nash price), "
                                        "so the action span cannot be derived", path=f"{where}.low",
                                        value=a["low"], allowed="explicit action.low and action.high")
                    lo_b = hi_b = span = 0.0
                else:
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
                yield ActionSet(i, k, slot, a["kind"], float(low), float(high), grid, mkt.action)

    def _check_sampled_ranges(self):
        """Every range a simulation draws from uniformly (a state's initial value, an interval
        decision and its random initial history) has a finite width: numpy cannot draw from
        ``[-1e308, 1e308]``, so such a file is refused here, not at the first step."""
        for ent in self.entries:
            for name in ent.kind.state_spec:
                lo, hi = ent.kind.state_bounds(name)
                if not np.isfinite(hi - lo):
                    field = "high" if not np.isfinite(hi) or abs(hi) >= abs(lo) else "low"
                    b = ent.kind.state_spec[name]
                    raise SpecError(f"the range of state field {name} is too wide to draw from "
                                    f"([{lo:.6g}, {hi:.6g}] after scaling)",
                                    path=f"{ent.where}.state.{name}.{field}", value=b[field],
                                    allowed="low and high whose scaled difference is a finite number "
                                            f"(below {np.finfo(float).max:.3g})")
        for s in self.decisions:
            width = s.high - s.low
            if s.kind == "interval" and not np.isfinite(width):  # a grid's history draws indices
                i = s.agent
                where = f"{self.spec.agents[i].source or f'agents[{i}]'}.action"
                field = "high" if not np.isfinite(s.high) or abs(s.high) >= abs(s.low) else "low"
                raise SpecError(f"the {s.name or 'action'} range [{s.low:.6g}, {s.high:.6g}] is too wide "
                                "to draw from", path=f"{where}.{field}",
                                value=s.high if field == "high" else s.low,
                                allowed=f"low and high whose difference is a finite number "
                                        f"(below {np.finfo(float).max:.3g})")

    # ------------------------------------------------------------ the model
    def clear_markets(self, decision_values, exo: dict, exo_index=None):
        """Clear every market: ``(prices, quantities, profits)``, each ``batch + (n_decisions,)``.

        ``exo`` maps process fields to arrays broadcasting over the batch. With
        ``exo_index`` (the joint aggregate chain state, ``(B,)``) a market on grids is
        looked up in its table of outcomes (:mod:`marketsai.market_tables`) when every
        decision lies on its grid.
        """
        x = np.asarray(decision_values, dtype=float)
        prices = np.zeros_like(x)
        quantities = np.zeros_like(x)
        profits = np.zeros_like(x)
        tables = self._tables() if exo_index is not None and x.ndim == 2 else [None] * len(self.markets)
        for mkt, cols, ms, table in zip(self.markets, self.layout.market_cols, self.spec.markets, tables, strict=True):
            if isinstance(mkt, CompetitiveMarket):
                continue  # cleared with the agents' budgets in dynamics.period
            out = table.lookup(x[:, cols], exo_index) if table is not None else None
            if out is None:
                kw = {key: exo[field] for key, field in ms.inputs.items()}
                out = mkt.clear(x[..., cols], **kw)
            prices[..., cols], quantities[..., cols], profits[..., cols] = out
        return prices, quantities, profits

    def __getstate__(self):
        """Pickled (e.g. to RLlib's env runners, in an env creator) without its lazy caches,
        the market tables and the observer: they are rebuilt on first use."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_market_tables", "_observer")}

    def _tables(self):
        tables = self.__dict__.get("_market_tables")
        if tables is None:
            from marketsai.market_tables import build_tables
            tables = self.__dict__["_market_tables"] = build_tables(self)
        return tables

    def clear(self, decision_values, shock=0.0):
        """Clear every market with one demand shock; rewards of economies whose agents all trade.

        ``decision_values`` has shape ``batch + (n_decisions,)``. Returns ``(rewards, prices,
        quantities)``: rewards ``batch + (n_agents,)``, prices and quantities ``batch + (n_decisions,)``.
        """
        if self.has_state or not all(e.kind.trades for e in self.entries):
            raise SpecError("clear() needs an economy whose agents all trade in markets; use step()",
                            path="agents", allowed="firms only")
        x = np.asarray(decision_values, dtype=float)
        exo = {self.shock_field: np.asarray(shock, dtype=float)} if self.shock_field else {}
        prices, quantities, profits = self.clear_markets(x, exo)
        return self.market_rewards(profits), prices, quantities

    def market_rewards(self, profits):
        """Rewards ``batch + (n_agents,)`` of trading agents from per-decision profits."""
        rewards = np.empty(profits.shape[:-1] + (len(self.agents),))
        for i in range(len(self.agents)):
            kind = self.entries[self.entry_of[i]].kind
            rewards[..., i] = kind.reward(None, None, {"profit": profits[..., self.layout.agent_cols[i]]}, None)
        return rewards

    def benchmarks(self):
        """Static Nash and joint-optimum actions and profits per decision, as a DataFrame."""
        import pandas as pd
        rows = []
        for e, z in enumerate(self.shock_values):
            for s in self.decisions:
                if s.market < 0 or self._benchmarks[s.market] is None:
                    continue
                b = self._benchmarks[s.market][e]
                rows.append({"shock_state": e, "shock": float(z), "agent": self.agents[s.agent],
                             "market": self.spec.markets[s.market].name,
                             "nash_action": b["nash_action"][s.slot], "coop_action": b["coop_action"][s.slot],
                             "nash_profit": b["nash_profit"][s.slot], "coop_profit": b["coop_profit"][s.slot]})
        return pd.DataFrame(rows)

    def expected_benchmarks(self):
        """Each strategic agent's static Nash and joint-optimum actions and profits, averaged
        over the aggregate shock states with the shock chain's stationary distribution: the
        one definition every profit gain Delta and every benchmarks table uses.

        Why: with demand shocks a firm has a Nash point per shock state; Calvano et al.
        (2020, Section V, stochastic demand) measure Delta against the Nash and monopoly
        profits averaged over the states. Without shocks these are the benchmarks themselves.

        Returns
        -------
        DataFrame
            One row per agent in a strategic market (index ``agent``, agent order), columns
            ``nash_action``, ``coop_action``, ``nash_profit``, ``coop_profit``.
        """
        import pandas as pd
        bench = self.benchmarks()
        weights = self.stationary_shock_distribution()
        present = set(bench["agent"]) if len(bench) else set()
        agents = [a for a in self.agents if a in present]
        cols = ("nash_action", "coop_action", "nash_profit", "coop_profit")
        mean = {c: weights @ bench.pivot_table(index="shock_state", columns="agent", values=c,
                                               sort=False)[agents].to_numpy() for c in cols}
        return pd.DataFrame(mean, index=pd.Index(agents, name="agent"))

    def exo_chain_index(self, state) -> np.ndarray:
        """The joint aggregate chain state ``(B,)`` (the ``e`` of finite models) of a state."""
        if not self.exo_sizes:
            return np.zeros(state.batch, dtype=np.int64)
        return np.ravel_multi_index(tuple(state.exo.T), self.exo_sizes)

    def stationary_shock_distribution(self) -> np.ndarray:
        """The stationary distribution of the joint aggregate chain."""
        return np.asarray(self.exo_chain.stationary())

    # ------------------------------------------------------------ dynamics
    def initial_state(self, rng: np.random.Generator, batch: int = 1):
        """A fresh :class:`~marketsai.dynamics.EconomyState` of ``batch`` independent simulations.

        Parameters
        ----------
        rng : numpy.random.Generator
            Draws the initial exogenous states and any sampled initial agent state.
        batch : int
            Number of independent simulations ``B`` (the leading axis of every array).
        """
        from marketsai.dynamics import initial_state
        return initial_state(self, rng, batch)

    def step(self, state, actions, rng: np.random.Generator):
        """The one pure transition of ``B`` simulations at once (:mod:`marketsai.dynamics`).

        Parameters
        ----------
        state : EconomyState
            From :meth:`initial_state` or a previous ``step``; not modified.
        actions : array_like, shape (B, n_decisions)
            Decision values in the order of ``self.decisions``: one column per decision,
            not per agent (a firm in two markets has two; a household one; a competitive
            firm none -- it has no decision).
        rng : numpy.random.Generator
            The only source of randomness (the exogenous processes' draws).

        Returns
        -------
        state : EconomyState
            The next state.
        rewards : ndarray, shape (B, n_agents)
            One column per agent, in the order of ``self.agents`` -- agents, not decisions:
            every agent entry has its members' columns, including agents without a decision.
            In a market economy of N households and one competitive firm, ``actions`` are
            ``(B, N)`` and ``rewards`` ``(B, N + 1)``: the last column is the firm's reward,
            its profit (zero under constant returns to scale). Households are paid their
            period utility; firms in strategic markets their profit.
        info : dict
            ``price``, ``quantity``, ``profit``: ``(B, n_decisions)`` outcomes of the
            strategic markets per decision column (0 for decisions in no strategic market);
            ``action``: the decisions as given, ``(B, n_decisions)``; ``exo``: each process
            field's value this period, ``(B,)`` for an aggregate field, ``(B, n_agents)`` for
            a per-agent one; one entry per agent entry that decides or produces on its own,
            keyed by the entry's name, mapping what it produced to ``(B, count)`` arrays
            (a household: ``consumption``, ``k_next``, ``income``, ``hours``, ``labour``,
            ``rent``, ``wage_bill``, ``dividend``, ``transfer``; a competitive firm:
            ``output``, ``capital``, ``labour``, ``profit``, ``price``, each ``(B, 1)``; a
            planner: ``consumption``, ``k_next``, ``output``, ``infeasible``); and, in an
            economy with competitive markets, ``markets``: each market's
            :class:`~marketsai.markets.Report` by name (``price``, ``traded``,
            ``excess_demand`` ``(B,)``; ``supply``, ``demand`` ``(B, n)``).

        Examples
        --------
        >>> econ = load_economy("economies/growth_market.yaml", overrides={"agents[0].count": 50})
        >>> rng = np.random.default_rng(0)
        >>> state = econ.initial_state(rng, batch=4)
        >>> actions = np.full((4, len(econ.decisions)), 0.3)  # savings shares
        >>> state, rewards, info = econ.step(state, actions, rng)
        >>> actions.shape, rewards.shape  # 50 households decide; the firm is paid too
        ((4, 50), (4, 51))
        >>> econ.agents[-1], info["household"]["consumption"].shape, info["firm"]["output"].shape
        ('firm', (4, 50), (4, 1))
        """
        from marketsai.dynamics import step
        return step(self, state, actions, rng)

    def observe(self, state) -> dict:
        """Each agent's observation ``(batch, dim)`` float32; see :mod:`marketsai.observe`."""
        return self.observer.observe(state)

    def state(self, state):
        """The aggregate state a centralised critic reads, ``(batch, dim)``; its size does not grow with N."""
        return self.observer.aggregate(state)

    @property
    def observer(self):
        obs = self.__dict__.get("_observer")
        if obs is None:
            from marketsai.observe import Observer
            obs = self.__dict__["_observer"] = Observer(self)
        return obs

    # ------------------------------------------------------------ exports
    def finite_game(self):
        """Tabulate a pricing/quantity game for tabular learners (see :mod:`marketsai.tabulate`)."""
        from marketsai.tabulate import finite_game
        return finite_game(self)

    def finite_model(self):
        """The finite Markov model of the economy (see :mod:`marketsai.tabulate`)."""
        from marketsai.tabulate import finite_model
        return finite_model(self)

    def parallel_env(self, max_cycles: int = 1000, render_mode: str | None = None):
        """A fresh running simulation as a PettingZoo ``ParallelEnv``.

        Parameters
        ----------
        max_cycles : int
            Periods per episode (then every agent is truncated).
        render_mode : str, optional
            ``"ansi"``: ``render()`` returns the last period's prices as text; None: no rendering.
        """
        from marketsai.envs.parallel import EconomyParallelEnv
        return EconomyParallelEnv(self, max_cycles=max_cycles, render_mode=render_mode)

    def gymnasium_env(self, max_cycles: int = 1000):
        """A gymnasium ``Env`` for an economy with one agent."""
        from marketsai.envs.gymnasium import SingleAgentEnv
        return SingleAgentEnv(self, max_cycles=max_cycles)

    def vector_env(self, sessions: int = 1, max_cycles: int = 1000):
        """``sessions`` simulations of an economy of one policy group as one gymnasium ``VectorEnv``."""
        from marketsai.envs.vector import EconomyVectorEnv
        return EconomyVectorEnv(self, sessions=sessions, max_cycles=max_cycles)

    def stacked_env(self, sessions: int = 1, max_cycles: int = 1000, block: int = 1, agent_ids: bool = False,
                    critic_state: bool = False, common_shocks: bool = False):
        """``sessions`` simulations as a ``VectorEnv`` whose sub-environments stack the agents of
        ``block`` sessions as rows (see :mod:`marketsai.envs.stacked`)."""
        from marketsai.envs.stacked import EconomyStackedEnv
        return EconomyStackedEnv(self, sessions=sessions, max_cycles=max_cycles, block=block, agent_ids=agent_ids,
                                 critic_state=critic_state, common_shocks=common_shocks)

    def stacked_env_creator(self):
        """A picklable ``creator(env_config) -> EconomyStackedEnv`` (``num_envs`` = sessions) for RLlib."""
        from marketsai.envs.stacked import stacked_creator
        return stacked_creator(self)

    def vector_env_creator(self):
        """A picklable ``creator(env_config) -> VectorEnv`` for RLlib's ``vector_entry_point`` mode.

        RLlib passes ``num_envs`` (sub-environments = sessions x agents) in ``env_config``.
        """
        from marketsai.envs.vector import vector_creator
        return vector_creator(self)

    def rllib_env_creator(self):
        """A picklable ``creator(env_config) -> MultiAgentEnv`` for ``ray.tune.register_env``."""
        from marketsai.envs.rllib import env_creator
        return env_creator(self)


def load_economy(path: str | Path, overrides: dict | None = None) -> Economy:
    """Read, validate and build an economy file, optionally with keys overridden.

    Parameters
    ----------
    path : str or Path
        The economy file (YAML), or the name of an economy shipped with the package
        (``"bertrand_duopoly"``; ``marketsai list`` shows them) when no such file exists.
    overrides : dict, optional
        ``{dotted key: value}`` set in the file as written, before validation: the keys
        of ``marketsai run --set economy.<key>=...`` with or without the ``economy.``
        prefix (``{"agents[0].count": 50}``, ``{"markets[0].params.mu": 0.3}``).

    Returns
    -------
    Economy
        The validated, built economy.

    Raises
    ------
    SpecError
        The file or an override is invalid (naming the file, the field and what is allowed).

    Examples
    --------
    >>> econ = load_economy("economies/growth_market.yaml", overrides={"agents[0].count": 50})
    >>> len(econ.agents)  # 50 households and the firm
    51
    """
    path = economy_file(path)  # a file, or a shipped economy's name
    try:
        if not overrides:
            return Economy(load_spec(path))
        load_spec(path)  # a bad file is reported as itself, before any override
        data = read_yaml(path)
        for key, value in overrides.items():
            set_path({"economy": data}, economy_key(key), value)
        return Economy.from_dict(data)
    except SpecError as err:
        raise (err if err.file else err.with_file(path)) from None
