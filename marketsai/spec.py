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
import difflib
from pathlib import Path
from typing import Any

import numpy as np

from marketsai.errors import SpecError
from marketsai.params import (
    Check,
    Param,
    nonnegative,
    nonnegative_int,
    one_of,
    positive_int,
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
    "points": Param(15, positive_int, "number m of grid points (kind: grid)"),
    "xi": Param(0.1, nonnegative,
                "extension beyond the Nash-to-joint-optimum span on each side, as a share of it"),
    "low": Param(None, _opt_real, "lowest action; null: Nash/joint-optimum span extended by xi"),
    "high": Param(None, _opt_real, "highest action; null: Nash/joint-optimum span extended by xi"),
    "values": Param(None, _opt_reals, "explicit grid values (kind: grid); overrides points/low/high/xi"),
}
OBSERVATION_FIELDS = {
    "memory": Param(1, nonnegative_int, "k: the agent observes the last k periods' actions of all "
                                        "participants of its markets"),
    "normalize": Param(True, one_of(True, False),
                       "scale observed actions to [-1, 1] by each action's bounds (for neural networks)"),
}
AGENT_FIELDS = {
    "name": Param(check=_name, doc="agent name; with count > 1 a prefix: name_0, name_1, ..."),
    "type": Param("firm", _text, "agent type (registered name or 'package.module:Class')"),
    "count": Param(1, positive_int, "number of identical agents declared by this entry"),
    "group": Param(None, Check(lambda x: x is None or _name(x), "null or an identifier"),
                   "policy-sharing group for learners (default: the agent type)"),
    "params": Param(None, _opt_dict, "the agent's characteristics (e.g. cost, quality) read by its markets"),
    "action": Param(None, _opt_dict, "what the agent chooses in each of its markets"),
    "observation": Param(None, _opt_dict, "what the agent observes"),
}
MARKET_FIELDS = {
    "type": Param(check=_text, doc="market type (registered name or 'package.module:Class')"),
    "name": Param(None, Check(lambda x: x is None or _name(x), "null or an identifier"),
                  "market name (default market_<index>)"),
    "participants": Param(check=Check(lambda x: isinstance(x, list) and len(x) >= 1 and all(isinstance(v, str) for v in x),
                                      "a non-empty list of agent names"), doc="agents trading in this market"),
    "params": Param(None, _opt_dict, "market-level parameters"),
}
SHOCK_FIELDS = {
    "values": Param(check=Check(lambda x: isinstance(x, list) and len(x) >= 1 and all(real(v) for v in x),
                                "a non-empty list of numbers"), doc="shock value of each Markov state"),
    "transition": Param(check=Check(lambda x: isinstance(x, list), "a square list of lists"),
                        doc="Markov transition matrix, rows sum to 1"),
    "initial": Param(None, Check(lambda x: x is None or isinstance(x, list), "null or a list"),
                     "initial distribution (default: uniform)"),
}
ECONOMY_FIELDS = {
    "name": Param(check=_name, doc="economy name"),
    "description": Param("", _text, "free text"),
    "discount": Param(0.95, unit_open, "discount factor delta of all agents"),
    "agents": Param(check=Check(lambda x: isinstance(x, list) and len(x) >= 1, "a non-empty list"),
                    doc="agent entries"),
    "markets": Param(check=Check(lambda x: isinstance(x, list) and len(x) >= 1, "a non-empty list"),
                     doc="market entries"),
    "shocks": Param(None, _opt_dict, "optional exogenous Markov chain of demand shocks"),
}


def _freeze(x):
    """Plain data -> hashable, comparable (tuples), so specs compare by value."""
    if isinstance(x, dict):
        return tuple((k, _freeze(v)) for k, v in x.items())
    if isinstance(x, list | tuple):
        return tuple(_freeze(v) for v in x)
    return x


@dataclasses.dataclass(frozen=True)
class AgentSpec:
    name: str
    type: str
    group: str
    params: dict
    action: dict
    observation: dict
    source: str = ""  # field path of the file entry that declared it, for messages

    def to_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "group": self.group, "params": dict(self.params),
                "action": dict(self.action), "observation": dict(self.observation)}

    def __eq__(self, other):
        return isinstance(other, AgentSpec) and _freeze(self.to_dict()) == _freeze(other.to_dict())

    __hash__ = None


@dataclasses.dataclass(frozen=True)
class MarketSpec:
    type: str
    name: str
    participants: tuple[str, ...]
    params: dict

    def to_dict(self) -> dict:
        return {"type": self.type, "name": self.name, "participants": list(self.participants),
                "params": dict(self.params)}

    def __eq__(self, other):
        return isinstance(other, MarketSpec) and _freeze(self.to_dict()) == _freeze(other.to_dict())

    __hash__ = None


@dataclasses.dataclass(frozen=True)
class EconomySpec:
    """A validated economy description (plain data; see the module docstring)."""

    name: str
    description: str
    discount: float
    agents: tuple[AgentSpec, ...]
    markets: tuple[MarketSpec, ...]
    shocks: dict | None = None

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
        agents: list[AgentSpec] = []
        origin: dict[str, int] = {}  # agent name -> index of its entry in the file
        for idx, entry in enumerate(top["agents"]):
            path = f"agents[{idx}]"
            a = validate_mapping(entry, AGENT_FIELDS, path, "agent")
            agent_cls = agent_types.get(a["type"], path=f"{path}.type")
            action = validate_mapping(a["action"], ACTION_FIELDS, f"{path}.action", "action")
            _check_action(action, f"{path}.action")
            observation = validate_mapping(a["observation"], OBSERVATION_FIELDS, f"{path}.observation",
                                           "observation")
            names = [a["name"]] if a["count"] == 1 else [f"{a['name']}_{k}" for k in range(a["count"])]
            for nm in names:
                if nm in origin:
                    raise SpecError("duplicate agent name", path=f"{path}.name", value=nm,
                                    allowed=f"a name not used by agents[{origin[nm]}]")
                origin[nm] = idx
                agents.append(AgentSpec(name=nm, type=a["type"], group=a["group"] or a["type"],
                                        params=dict(a["params"] or {}), action=action,
                                        observation=observation, source=path))
            agent_cls.validate_params(a["params"] or {}, f"{path}.params")

        market_specs: list[MarketSpec] = []
        used_params: dict[str, set] = {ag.name: set() for ag in agents}
        by_name = {ag.name: ag for ag in agents}
        for idx, entry in enumerate(top["markets"]):
            path = f"markets[{idx}]"
            m = validate_mapping(entry, MARKET_FIELDS, path, "market")
            mcls = market_types.get(m["type"], path=f"{path}.type")
            parts = m["participants"]
            for k, p in enumerate(parts):
                if p not in by_name:
                    near = difflib.get_close_matches(p, list(by_name), n=1)
                    raise SpecError("unknown agent" + (f"; did you mean {near[0]!r}?" if near else ""),
                                    path=f"{path}.participants[{k}]", value=p, allowed=", ".join(by_name))
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
                                           participants=tuple(parts), params=params))
        seen = [ms.name for ms in market_specs]
        for idx, nm in enumerate(seen):
            if seen.index(nm) != idx:
                raise SpecError("duplicate market name", path=f"markets[{idx}].name", value=nm,
                                allowed="distinct market names")
        for ag in agents:
            own = set(agent_types.get(ag.type).params)
            if not any(ag.name in ms.participants for ms in market_specs):
                raise SpecError("agent takes part in no market", path=f"agents[{origin[ag.name]}].name",
                                value=ag.name, allowed="an agent listed in some market's participants")
            for key in ag.params:
                if key not in used_params[ag.name] | own:
                    allowed = sorted(used_params[ag.name] | own)
                    raise SpecError("parameter not used by the agent's type or markets",
                                    path=f"agents[{origin[ag.name]}].params.{key}", value=ag.params[key],
                                    allowed=", ".join(allowed) or "no parameters")
        shocks = _check_shocks(top["shocks"]) if top["shocks"] is not None else None
        return cls(name=top["name"], description=top["description"], discount=top["discount"],
                   agents=tuple(agents), markets=tuple(market_specs), shocks=shocks)

    # ------------------------------------------------------------ writing
    def to_dict(self) -> dict:
        """The fully resolved description: every agent explicit, every default visible."""
        out = {"name": self.name, "description": self.description, "discount": self.discount,
               "agents": [a.to_dict() for a in self.agents],
               "markets": [m.to_dict() for m in self.markets]}
        if self.shocks is not None:
            out["shocks"] = {k: (list(map(list, v)) if k == "transition" else list(v))
                             for k, v in self.shocks.items()}
        else:
            out["shocks"] = None
        return out

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


def _check_shocks(data: dict) -> dict:
    s = validate_mapping(data, SHOCK_FIELDS, "shocks", "shocks")
    n = len(s["values"])
    try:
        P = np.asarray(s["transition"], dtype=float)
    except (TypeError, ValueError):
        raise SpecError("transition must be numbers", path="shocks.transition", value=s["transition"],
                        allowed=f"a {n}x{n} list of lists") from None
    if P.shape != (n, n) or not np.all(np.isfinite(P)) or np.any(P < 0) or not np.allclose(P.sum(axis=1), 1):
        raise SpecError("transition must be a square stochastic matrix matching values",
                        path="shocks.transition", value=s["transition"],
                        allowed=f"a {n}x{n} matrix of non-negative numbers, rows summing to 1")
    init = s["initial"] if s["initial"] is not None else [1.0 / n] * n
    p0 = np.asarray(init, dtype=float) if all(real(v) for v in init) else None
    if p0 is None or p0.shape != (n,) or np.any(p0 < 0) or not np.isclose(p0.sum(), 1):
        raise SpecError("initial must be a probability vector matching values", path="shocks.initial",
                        value=s["initial"], allowed=f"{n} non-negative numbers summing to 1")
    return {"values": [float(v) for v in s["values"]], "transition": P.tolist(), "initial": p0.tolist()}


def load_spec(path: str | Path) -> EconomySpec:
    """Read and validate an economy file."""
    return EconomySpec.from_dict(read_yaml(path), file=path)


def describe_fields() -> dict[str, list[tuple[str, str, str, str]]]:
    """Every section's fields as (name, default, allowed, doc) rows, for the docs."""
    from marketsai.params import describe
    return {"economy": describe(ECONOMY_FIELDS), "agents[]": describe(AGENT_FIELDS),
            "agents[].action": describe(ACTION_FIELDS), "agents[].observation": describe(OBSERVATION_FIELDS),
            "markets[]": describe(MARKET_FIELDS), "shocks": describe(SHOCK_FIELDS)}
