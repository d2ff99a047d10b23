"""The schema of economy files: validation, defaults, errors a person can act on.

An economy file (YAML) says which markets exist, which agents take part in each, the
agents' characteristics, what they observe and what they choose::

    name: bertrand_duopoly
    discount: 0.95
    agents:
      - {name: firm, count: 2, type: firm, params: {cost: 1.0, quality: 2.0}}
    markets:
      - {type: bertrand_logit, participants: [firm_0, firm_1], params: {mu: 0.25}}

:func:`EconomySpec.from_dict` validates the whole description before anything runs and
raises :class:`marketsai.errors.SpecError` naming the field path (``markets[0].params.mu``),
the bad value and what is allowed. :meth:`EconomySpec.to_dict` is the fully resolved
description, every default visible; ``from_dict(to_dict(x)) == x``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from marketsai import limits
from marketsai.errors import SpecError
from marketsai.params import (
    Check,
    Param,
    did_you_mean,
    int_range,
    nonnegative,
    one_of,
    real,
    unit_open,
    validate_mapping,
)
from marketsai.yamlio import read_yaml

_name = Check(lambda x: isinstance(x, str) and x.isidentifier(), "an identifier (letters, digits, _)")
_text = Check(lambda x: isinstance(x, str), "a string")
_opt_real = Check(lambda x: x is None or real(x), "a finite number or null", True)
_opt_reals = Check(lambda x: x is None or (isinstance(x, list) and len(x) >= 2 and all(real(v) for v in x)),
                   "null or a list of at least two numbers")
_opt_dict = Check(lambda x: x is None or isinstance(x, dict), "a mapping")

ACTION_FIELDS = {
    "kind": Param("grid", one_of("grid", "interval"),
                  "grid: m discrete actions; interval: a continuous action in [low, high]"),
    "points": Param(15, int_range(2, limits.MAX_GRID_POINTS), "number m of grid points (kind: grid)"),
    "xi": Param(0.1, nonnegative,
                "extension beyond the Nash-to-joint-optimum span on each side, as a share of it"),
    "low": Param(None, _opt_real, "lowest action; null: Nash/joint-optimum span extended by xi"),
    "high": Param(None, _opt_real, "highest action; null: Nash/joint-optimum span extended by xi"),
    "values": Param(None, _opt_reals, "explicit grid values (kind: grid); overrides points/low/high/xi"),
}
_opt_names = Check(lambda x: x is None or (isinstance(x, list) and all(isinstance(v, str) for v in x)),
                   "null or a list of names")
OBSERVATION_FIELDS = {
    "memory": Param(None, Check(lambda x: x is None or int_range(0, limits.MAX_MEMORY)(x),
                                f"null or an integer in [0, {limits.MAX_MEMORY}]"),
                    "k: the agent observes the last k periods' actions of all participants of its "
                    "markets (null: 1 for agents that trade in markets, 0 otherwise)"),
    "state": Param(None, _opt_names, "own state fields observed (null: all of the agent type's fields)"),
    "exo": Param(None, _opt_names, "process fields observed (null: every aggregate process field)"),
    "moments": Param(None, _opt_names, "cross-agent moments observed, as 'entry.field:stat' with stat "
                                       "mean or std (e.g. 'household.k:mean'); null: none"),
    "prices": Param(None, _opt_names, "latest clearing prices of these competitive markets (by market name), "
                                      "as log prices when normalize is on; null: none"),
    "normalize": Param(True, one_of(True, False),
                       "scale observed actions to [-1, 1] by each action's bounds (for neural networks)"),
}
AGENT_FIELDS = {
    "name": Param(check=_name, doc="agent name; with count > 1 a prefix: name_0, name_1, ..."),
    "type": Param("firm", _text, "agent type (registered name or 'package.module:Class')"),
    "count": Param(1, int_range(1, limits.MAX_AGENTS), "number of identical agents declared by this entry"),
    "group": Param(None, Check(lambda x: x is None or _name(x), "null or an identifier"),
                   "policy-sharing group for learners (default: the agent type)"),
    "params": Param(None, _opt_dict, "the agent's characteristics (e.g. cost, quality) read by its markets"),
    "state": Param(None, _opt_dict, "the agent type's state fields (e.g. a planner's k): initial value, "
                                    "range and grid of each"),
    "action": Param(None, _opt_dict, "what the agent chooses: in each of its markets (firms), or its own "
                                     "decision (a planner's savings)"),
    "observation": Param(None, _opt_dict, "what the agent observes"),
}
MARKET_FIELDS = {
    "type": Param(check=_text, doc="market type (registered name or 'package.module:Class')"),
    "name": Param(None, Check(lambda x: x is None or _name(x), "null or an identifier"),
                  "market name (default market_<index>)"),
    "participants": Param(check=Check(lambda x: isinstance(x, list) and len(x) >= 1 and all(isinstance(v, str) for v in x),
                                      "a non-empty list of agent names"),
                          doc="agents trading in this market; an entry's name stands for all its agents "
                              "(household for household_0 ... household_99)"),
    "params": Param(None, _opt_dict, "market-level parameters"),
    "inputs": Param(None, _opt_dict, "exogenous values the market reads, input -> process field "
                                     "(null: each input bound to the process field of the same name, if any)"),
}
ECONOMY_FIELDS = {
    "name": Param(check=_name, doc="economy name"),
    "description": Param("", _text, "free text"),
    "discount": Param(0.95, unit_open, "discount factor delta of all agents"),
    "agents": Param(check=Check(lambda x: isinstance(x, list) and len(x) >= 1, "a non-empty list"),
                    doc="agent entries"),
    "markets": Param([], Check(lambda x: isinstance(x, list), "a list"),
                     doc="market entries (may be empty when no agent trades, e.g. a planner economy)"),
    "processes": Param(None, _opt_dict, "exogenous processes by name (see docs/processes.md)"),
    "shocks": Param(None, _opt_dict, "legacy: one Markov chain of demand shocks; read as the process "
                                     "'shock' (processes: {shock: {kind: markov, ...}})"),
}


def _freeze(x):
    """Plain data -> hashable, comparable (tuples), so specs compare by value."""
    if isinstance(x, dict):
        return tuple((k, _freeze(v)) for k, v in x.items())
    if isinstance(x, list | tuple):
        return tuple(_freeze(v) for v in x)
    return x


class _EqualAsPlainData:
    """Two entries are equal when their plain data (``to_dict``, what a file would say) is:
    the dicts inside make the dataclass's own comparison and hash unfit. Unhashable."""

    def __eq__(self, other):
        return type(other) is type(self) and _freeze(self.to_dict()) == _freeze(other.to_dict())

    __hash__ = None


@dataclasses.dataclass(frozen=True, eq=False)
class AgentSpec(_EqualAsPlainData):
    name: str
    type: str
    group: str
    params: dict
    action: dict
    observation: dict
    source: str = ""  # field path of the file entry that declared it, for messages
    state: dict = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "group": self.group, "params": dict(self.params),
                "state": {k: dict(v) for k, v in self.state.items()},
                "action": dict(self.action), "observation": dict(self.observation)}


@dataclasses.dataclass(frozen=True, eq=False)
class MarketSpec(_EqualAsPlainData):
    type: str
    name: str
    participants: tuple[str, ...]  # agent names, entry names expanded
    params: dict
    inputs: dict = dataclasses.field(default_factory=dict)
    written: tuple[str, ...] = ()  # participants as the file wrote them (entry names kept)

    def to_dict(self) -> dict:
        return {"type": self.type, "name": self.name, "participants": list(self.written or self.participants),
                "params": dict(self.params), "inputs": dict(self.inputs)}


@dataclasses.dataclass(frozen=True)
class EconomySpec:
    """A validated economy description (plain data; see the module docstring)."""

    name: str
    description: str
    discount: float
    agents: tuple[AgentSpec, ...]
    markets: tuple[MarketSpec, ...]
    processes: dict = dataclasses.field(default_factory=dict)  # name -> resolved process entry

    # ------------------------------------------------------------ reading
    @classmethod
    def from_dict(cls, data: Any, file: str | Path | None = None) -> EconomySpec:
        """Validate a whole economy description; raise SpecError naming the field."""
        try:
            return cls._from_dict(data)
        except SpecError as err:
            raise (err.with_file(file) if file else err) from None

    @classmethod
    def _from_dict(cls, data: Any) -> EconomySpec:
        from marketsai.agents import agent_types
        from marketsai.markets import markets as market_types

        top = validate_mapping(data, ECONOMY_FIELDS, "", "economy")
        processes = _processes(top)
        exo_fields = _exo_fields(processes)
        agents: list[AgentSpec] = []
        origin: dict[str, int] = {}  # agent name -> index of its entry in the file
        for idx, entry in enumerate(top["agents"]):
            path = f"agents[{idx}]"
            a = validate_mapping(entry, AGENT_FIELDS, path, "agent")
            agent_cls = agent_types.get(a["type"], path=f"{path}.type")
            if agent_cls.trades:
                action = validate_mapping(a["action"], ACTION_FIELDS, f"{path}.action", "action")
                _check_action(action, f"{path}.action")
            else:
                action = validate_mapping(a["action"], agent_cls.action_fields or {}, f"{path}.action",
                                          f"{agent_cls.__name__} action")
                action = agent_cls.resolve_action(action, f"{path}.action")
            own_params = agent_cls.validate_params(a["params"] or {}, f"{path}.params")
            state = agent_cls.validate_state(a["state"], f"{path}.state", own_params)
            observation = validate_mapping(a["observation"], OBSERVATION_FIELDS, f"{path}.observation",
                                           "observation")
            _check_observation(observation, agent_cls, exo_fields, f"{path}.observation", list(state))
            if observation["memory"] is None:
                observation["memory"] = 1 if agent_cls.trades else 0
            limits.check_int(len(agents) + a["count"], f"{path}.count", 1, limits.MAX_AGENTS,
                             "too many agents in the economy (all entries together)")
            names = [a["name"]] if a["count"] == 1 else [f"{a['name']}_{k}" for k in range(a["count"])]
            for nm in names:
                if nm in origin:
                    raise SpecError("duplicate agent name", path=f"{path}.name", value=nm,
                                    allowed=f"a name not used by agents[{origin[nm]}]")
                origin[nm] = idx
                agents.append(AgentSpec(name=nm, type=a["type"], group=a["group"] or a["type"],
                                        params={**(a["params"] or {}), **own_params}, action=action,
                                        observation=observation, source=path, state=state))

        entry_members: dict[str, list[str]] = {}  # entry name (count > 1) -> its agents
        for ag in agents:
            entry = top["agents"][origin[ag.name]]
            if entry.get("count", 1) > 1:
                entry_members.setdefault(entry["name"], []).append(ag.name)
        market_specs: list[MarketSpec] = []
        used_params: dict[str, set] = {ag.name: set() for ag in agents}
        by_name = {ag.name: ag for ag in agents}
        for idx, entry in enumerate(top["markets"]):
            path = f"markets[{idx}]"
            m = validate_mapping(entry, MARKET_FIELDS, path, "market")
            mcls = market_types.get(m["type"], path=f"{path}.type")
            parts = []
            for k, p in enumerate(m["participants"]):
                names = [p] if p in by_name else entry_members.get(p)
                if names is None:
                    hint = did_you_mean(p, list(by_name) + list(entry_members), cutoff=0.6)
                    members = {nm for ms in entry_members.values() for nm in ms}
                    known = list(entry_members) + [nm for nm in by_name if nm not in members]
                    expanded = [f"{e}_0 ... {e}_{len(ms) - 1}" for e, ms in entry_members.items()]
                    raise SpecError("unknown agent" + hint,
                                    path=f"{path}.participants[{k}]", value=p,
                                    allowed=", ".join(known) + (f" (or one agent of an entry: {', '.join(expanded)})"
                                                                if expanded else ""))
                for nm in names:  # an entry's agents share one type: report the name as written
                    _check_role(agent_types.get(by_name[nm].type), mcls, by_name[nm].type, p,
                                f"{path}.participants[{k}]")
                parts += names
            if len(set(parts)) != len(parts):
                raise SpecError("an agent is listed twice", path=f"{path}.participants", value=parts,
                                allowed="distinct agent names")
            mcls.from_spec(m["params"] or {},
                           [(f"agents[{origin[p]}].params", by_name[p].params) for p in parts], path)
            for p in parts:
                used_params[p] |= {k for k, prm in mcls.params.items() if prm.per_participant}
            params = validate_mapping(m["params"], {k: v for k, v in mcls.params.items()
                                                    if not v.per_participant}, f"{path}.params", "params")
            market_specs.append(MarketSpec(type=m["type"], name=m["name"] or f"market_{idx}",
                                           participants=tuple(parts), params=params,
                                           inputs=_bind_inputs(mcls, m["inputs"], exo_fields, path),
                                           written=tuple(m["participants"])))
        competitive = {ms.name for ms in market_specs if getattr(market_types.get(ms.type), "good", "")}
        for ag in agents:
            for nm in ag.observation["prices"] or []:
                if nm not in competitive:
                    raise SpecError("observed price of an unknown competitive market",
                                    path=f"{ag.source}.observation.prices", value=nm,
                                    allowed=", ".join(sorted(competitive)) or "no competitive markets")
        seen = [ms.name for ms in market_specs]
        for idx, nm in enumerate(seen):
            if seen.index(nm) != idx:
                raise SpecError("duplicate market name", path=f"markets[{idx}].name", value=nm,
                                allowed="distinct market names")
        for ag in agents:
            agent_cls = agent_types.get(ag.type)
            own = set(agent_cls.params)
            if (agent_cls.trades or agent_cls.market_roles) and not any(ag.name in ms.participants
                                                                         for ms in market_specs):
                raise SpecError("agent takes part in no market", path=f"agents[{origin[ag.name]}].name",
                                value=ag.name, allowed="an agent listed in some market's participants")
            for key in ag.params:
                if key not in used_params[ag.name] | own:
                    allowed = sorted(used_params[ag.name] | own)
                    raise SpecError("parameter not used by the agent's type or markets"
                                    + did_you_mean(key, allowed),
                                    path=f"agents[{origin[ag.name]}].params.{key}", value=ag.params[key],
                                    allowed=", ".join(allowed) or "no parameters")
        return cls(name=top["name"], description=top["description"], discount=top["discount"],
                   agents=tuple(agents), markets=tuple(market_specs), processes=processes)

    # ------------------------------------------------------------ writing
    def to_dict(self) -> dict:
        """The fully resolved description: every agent explicit, every default visible."""
        entries: dict[str, list[AgentSpec]] = {}  # one file entry per source, its count kept
        for i, a in enumerate(self.agents):
            entries.setdefault(a.source or f"agents[{i}]", []).append(a)
        agents = []
        for members in entries.values():
            d = members[0].to_dict()
            if len(members) > 1:
                d["name"] = members[0].name.rsplit("_", 1)[0]
                d["count"] = len(members)
            agents.append(d)
        return {"name": self.name, "description": self.description, "discount": self.discount,
                "agents": agents,
                "markets": [m.to_dict() for m in self.markets],
                "processes": {k: dict(v) for k, v in self.processes.items()}, "shocks": None}

    def __eq__(self, other):
        return isinstance(other, EconomySpec) and _freeze(self.to_dict()) == _freeze(other.to_dict())

    __hash__ = None


def _check_action(action: dict, path: str) -> None:
    if action["values"] is not None:
        if action["kind"] != "grid":
            raise SpecError("explicit values need kind: grid", path=f"{path}.values",
                            value=action["values"], allowed="null with kind: interval")
        vals = action["values"]
        if len(set(vals)) != len(vals) or sorted(vals) != vals:
            raise SpecError("grid values must be strictly increasing", path=f"{path}.values",
                            value=vals, allowed="a strictly increasing list")
        action["values"] = [float(v) for v in vals]
        action["points"] = len(vals)
    if action["low"] is not None and action["high"] is not None and action["low"] >= action["high"]:
        raise SpecError("low must be below high", path=f"{path}.low", value=action["low"],
                        allowed=f"a number < {action['high']}")
    if action["kind"] == "grid" and action["points"] < 2 and action["values"] is None:
        raise SpecError("a grid needs at least two points", path=f"{path}.points",
                        value=action["points"], allowed="an integer >= 2")


def _check_role(agent_cls, mcls, type_name: str, agent: str, path: str) -> None:
    """An agent may join a market only in a role its type declares (or, strategic markets, if it trades)."""
    from marketsai.markets import CompetitiveMarket
    if issubclass(mcls, CompetitiveMarket):
        if mcls.good not in agent_cls.market_roles:
            takers = "agent types whose market_roles include " + repr(mcls.good)
            raise SpecError(f"agent {agent!r} of type {type_name!r} has no role in a {mcls.good} market",
                            path=path, value=agent, allowed=f"{takers} (sellers: {mcls.roles['seller']}; "
                                                              f"buyers: {mcls.roles['buyer']})")
    elif not agent_cls.trades:
        raise SpecError(f"agent {agent!r} of type {type_name!r} has no role in a market of strategic "
                        "participants (it takes its own decisions)", path=path, value=agent,
                        allowed="agents whose type sets prices or quantities (e.g. firm)")


def _processes(top: dict) -> dict:
    """Validated ``processes`` (name -> resolved entry); a legacy ``shocks`` block becomes ``shock``."""
    from marketsai.processes import process_from_legacy_shocks, process_from_spec
    raw = dict(top["processes"] or {})
    if top["shocks"] is not None:
        if "shock" in raw:
            raise SpecError("both shocks (legacy) and processes.shock are given", path="shocks",
                            value=top["shocks"], allowed="only processes.shock")
        legacy = process_from_legacy_shocks(top["shocks"])
        process_from_spec(legacy["shock"], "shocks")  # errors name the legacy block
        raw = {**legacy, **raw}
    out = {}
    for name, entry in raw.items():
        if not (isinstance(name, str) and name.isidentifier()):
            raise SpecError("a process name must be an identifier", path="processes", value=name,
                            allowed="letters, digits, _")
        out[name] = process_from_spec(entry, f"processes.{name}").spec
    return out


def _exo_fields(processes: dict) -> dict[str, list[float]]:
    """Every process field -> its values; a field declared by two processes is an error."""
    from marketsai.processes import process_from_spec
    fields: dict[str, list[float]] = {}
    owner: dict[str, str] = {}
    for name, entry in processes.items():
        chain = process_from_spec(entry, f"processes.{name}").chain
        for f in chain.fields:
            if f in owner:
                raise SpecError(f"process field {f!r} is declared by processes {owner[f]!r} and {name!r}",
                                path=f"processes.{name}", value=f, allowed="distinct field names")
            owner[f] = name
            fields[f] = [float(v) for v in chain.value(f)]
    return fields


def _check_observation(obs: dict, agent_cls, exo_fields: dict, path: str, fields: list[str]) -> None:
    for f in obs["state"] or []:
        if f not in fields:
            raise SpecError(f"{agent_cls.__name__} has no state field {f!r} to observe", path=f"{path}.state",
                            value=f, allowed=", ".join(fields) or "no state fields ([])")
    for f in obs["exo"] or []:
        if f not in exo_fields:
            raise SpecError("observed process field is not declared", path=f"{path}.exo", value=f,
                            allowed=", ".join(exo_fields) or "no process fields ([])")
    for m in obs["moments"] or []:
        entry, _, stat = m.partition(":")
        if "." not in entry or stat not in ("mean", "std"):
            raise SpecError("a moment is 'entry.field:stat'", path=f"{path}.moments", value=m,
                            allowed="e.g. household.k:mean (stat: mean or std)")


def _bind_inputs(mcls, inputs: dict | None, exo_fields: dict, path: str) -> dict:
    """Market input -> process field; unbound inputs read 0."""
    inputs = dict(inputs or {})
    for key, field in inputs.items():
        if key not in mcls.inputs:
            raise SpecError(f"{mcls.__name__} reads no input {key!r}", path=f"{path}.inputs.{key}",
                            value=field, allowed=", ".join(mcls.inputs) or "no inputs")
        if field not in exo_fields:
            raise SpecError("market input bound to an undeclared process field", path=f"{path}.inputs.{key}",
                            value=field, allowed=", ".join(exo_fields) or "declare it under processes:")
    for key in mcls.inputs:
        if key not in inputs and key in exo_fields:
            inputs[key] = key
    return inputs


def load_spec(path: str | Path) -> EconomySpec:
    """Read and validate an economy file."""
    return EconomySpec.from_dict(read_yaml(path), file=path)


def describe_fields() -> dict[str, list[tuple[str, str, str, str]]]:
    """Every section's fields as (name, default, allowed, doc) rows, for the docs."""
    from marketsai.agents import agent_types
    from marketsai.agents.base import STATE_FIELDS
    from marketsai.agents.household import HOUSEHOLD_ACTION
    from marketsai.agents.planner import PLANNER_ACTION
    from marketsai.agents.sector_planner import SECTOR_ACTION
    from marketsai.params import describe
    from marketsai.processes import describe_process_fields
    out = {"economy": describe(ECONOMY_FIELDS), "agents[]": describe(AGENT_FIELDS),
           "agents[].action": describe(ACTION_FIELDS), "agents[].observation": describe(OBSERVATION_FIELDS),
           "agents[].state.<field>": describe(STATE_FIELDS), "agents[].action (planner)": describe(PLANNER_ACTION),
           "agents[].action (household)": describe(HOUSEHOLD_ACTION),
           "agents[].action (sector_planner)": describe(SECTOR_ACTION),
           "markets[]": describe(MARKET_FIELDS)}
    out.update(describe_process_fields())
    for name in agent_types.names():
        cls = agent_types.get(name)
        if ":" not in name and cls.__module__.startswith("marketsai.") and cls.params:
            out[f"agent type {name}: params"] = describe(cls.params)
    return out
