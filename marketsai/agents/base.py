"""The agent contract: what an agent kind owns, observes, chooses and is paid.

An agent type is declared once (class attributes) and built once per entry of an
economy file (``count`` identical agents share one instance; their arrays have a
``count`` axis). It declares

* ``params``: its own parameters (beyond the characteristics its markets read, such as
  a firm's cost);
* ``state``: its state fields (a planner's capital ``k``), each configured in the file's
  ``state:`` block (initial value, bounds, grid; see :data:`STATE_FIELDS`); a type whose
  fields depend on its parameters (a planner with one capital stock per sector) overrides
  :meth:`AgentType.state_fields`, and an instance's ``state`` is the fields of its params;
* its decisions: ``trades = True`` means one decision in each market the agent trades
  in (a firm's price); otherwise the type declares ``action_fields`` and its own
  decisions (a planner's savings), validated against them;
* ``market_roles``: its role (``seller``, ``buyer`` or ``both``) in each kind of
  competitive market, by the market's good, and its flows in them: a *trader*'s
  :meth:`own_outcome` at given prices reports ``outcome["trades"]``, its net demand of
  each item it trades (negative: what it supplies), from its state and decisions; a
  *producer* (:class:`Producer`) sells at its unit cost and hires what its output needs
  (see :mod:`marketsai.clearing`). The economy checks an agent's markets with
  :meth:`check_markets` and never changes an agent after building it: a unit of a state
  field that only the composed economy knows (a household's steady-state capital) is
  computed by :meth:`state_units` and passed to the constructor (``units``);
* pure functions :meth:`reward` and :meth:`transition` of ``(state, decisions, outcome,
  exo)``. ``state`` maps field -> ``(batch, count)`` arrays, ``decisions`` is
  ``(batch, count, n_decisions)``, ``outcome`` maps names (``profit``: ``(batch, count,
  n_markets)``) to arrays, ``exo`` maps process fields (``z``) to ``(batch,)`` arrays.

Budgets hold by construction: a decision is a share of what is available or a point of
a feasible set, and a decision that would leave non-positive consumption is projected
onto the feasible set and flagged in the outcome (``infeasible``), never paid a NaN.
The running simulation (:mod:`marketsai.dynamics`) holds the state; an agent type
holds none.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from marketsai.errors import SpecError
from marketsai.limits import MAX_GRID_POINTS
from marketsai.params import Check, Param, int_range, one_of, real, validate_mapping

_initial = Check(lambda x: x == "uniform" or real(x), "a finite number or 'uniform'")
STATE_FIELDS = {
    "initial": Param(1.0, _initial, "initial value (in units of `scale`), or 'uniform' on [low, high]"),
    "low": Param(0.5, real, "lowest value of the field's range (in units of `scale`)", ),
    "high": Param(1.5, real, "highest value of the field's range (in units of `scale`)"),
    "points": Param(41, int_range(2, MAX_GRID_POINTS), "grid points on [low, high] (finite models, tabular learners)"),
    "dispersion": Param(None, Check(lambda x: x is None or (real(x) and 0 <= x < 1), "null or a number in [0, 1)"),
                        "with initial: uniform, draw one level per session on [low, high] and each agent's "
                        "value within +-dispersion of it (null: every agent drawn independently), so that "
                        "the mean across agents also varies between sessions"),
    "scale": Param("steady_state", one_of("steady_state", "level"),
                   "steady_state: low/high/initial are multiples of the deterministic steady state; "
                   "level: absolute values"),
}


def check_field_param(name, exo_fields: dict, path: str, what: str, unit: str, minimum=None,
                      strict: bool = True) -> None:
    """A parameter naming a process field (``productivity: z``): declared, and its values in range.

    ``what`` says what the field is read as (``productivity``), ``unit`` what null means
    (``z = 1``); with ``minimum`` the field's values must be above it (``>=`` unless
    ``strict``).
    """
    if name is None:
        return
    if name not in exo_fields:
        raise SpecError(f"{what} is read from a process field the economy does not declare", path=path,
                        value=name, allowed=", ".join(sorted(exo_fields)) + f" or null ({unit})" if exo_fields
                        else f"null ({unit}), or declare the process under processes:")
    low = min(exo_fields[name])
    if minimum is not None and (low <= minimum if strict else low < minimum):
        raise SpecError(f"{what} must be {'>' if strict else '>='} {minimum}", path=path, value=name,
                        allowed=f"a process field with values {'>' if strict else '>='} {minimum}")


class AgentType:
    """Base class of agent kinds; see the module docstring for the contract."""

    params: ClassVar[dict[str, Param]] = {}
    state: ClassVar[dict[str, str]] = {}  # field name -> doc
    trades: ClassVar[bool] = True
    action_fields: ClassVar[dict[str, Param] | None] = None  # own decisions (trades is False)
    #: role in each kind of competitive market, by the market's good ("capital", "labour",
    #: "goods", a plug-in's "bonds") -> "seller" | "buyer" | "both"; an agent may join only
    #: markets it has a role in
    market_roles: ClassVar[dict[str, str]] = {}
    #: goods in whose exogenously priced markets it takes what the others leave (a rest of the world,
    #: a central bank): its ``own_outcome`` reads ``prices["residual:<item>"]``
    accommodates: ClassVar[tuple[str, ...]] = ()
    #: a producer sells at unit cost in competitive markets (:class:`Producer`); others trade at prices
    producer: ClassVar[bool] = False
    #: receives an equal share of the competitive firms' profits (zero under constant returns)
    shareholder: ClassVar[bool] = False

    def __init__(self, params: dict, state: dict, action: dict, count: int, discount: float,
                 where: str = "agents[0]", units: dict | None = None):
        #: units of state fields that the composed economy determines (None: not yet composed)
        self.units = None if units is None else dict(units)
        self.p = dict(params)
        self.state = self.state_fields(self.p)  # this agent's fields (the class default for most types)
        self.state_spec = {k: dict(v) for k, v in state.items()}
        self.action = dict(action)
        self.count = int(count)
        self.discount = float(discount)
        self.where = where

    # ------------------------------------------------------------ validation
    @classmethod
    def validate_params(cls, params: dict, path: str) -> dict:
        """Check the agent's own parameters; market characteristics are checked by markets."""
        own = {k: v for k, v in params.items() if k in cls.params}
        return validate_mapping(own, cls.params, path, f"{cls.__name__} params")

    @classmethod
    def state_fields(cls, params: dict | None = None) -> dict[str, str]:
        """State field name -> doc of an agent with these (validated) own params; default ``cls.state``."""
        return dict(cls.state)

    @classmethod
    def validate_state(cls, state: dict | None, path: str, params: dict | None = None) -> dict:
        """Each state field's block with every default filled in; unknown fields are errors.

        ``params`` are the agent's validated own params (for types whose fields depend on them).
        """
        state = dict(state or {})
        fields = cls.state_fields(params)
        for name in state:
            if name not in fields:
                raise SpecError(f"{cls.__name__} has no state field {name!r}", path=f"{path}.{name}",
                                value=state[name], allowed=", ".join(fields) or "no state fields")
        out = {}
        for name in fields:
            block = validate_mapping(state.get(name), STATE_FIELDS, f"{path}.{name}", "state field")
            if block["low"] >= block["high"]:
                raise SpecError("low must be below high", path=f"{path}.{name}.low", value=block["low"],
                                allowed=f"a number < {block['high']}")
            if block["points"] < 2:
                raise SpecError("a state grid needs at least two points", path=f"{path}.{name}.points",
                                value=block["points"], allowed="an integer >= 2")
            ini = block["initial"]
            if block["dispersion"] is not None and ini != "uniform":
                raise SpecError("dispersion spreads agents around a uniform draw", path=f"{path}.{name}.dispersion",
                                value=block["dispersion"], allowed="null, or initial: uniform")
            if ini != "uniform" and not block["low"] <= ini <= block["high"]:
                raise SpecError("initial value outside [low, high]", path=f"{path}.{name}.initial",
                                value=ini, allowed=f"a number in [{block['low']}, {block['high']}] or 'uniform'")
            out[name] = block
        return out

    @classmethod
    def resolve_action(cls, action: dict, path: str) -> dict:
        """Own decisions (``trades`` False): fill derived defaults, check cross-field rules."""
        return action

    def check(self, exo_fields: dict, path: str) -> None:  # noqa: B027 (optional hook)
        """Cross-field checks against the economy (processes it reads, budgets); raise SpecError."""

    def check_markets(self, name: str, mine: list, clearing) -> None:  # noqa: B027 (optional hook)
        """Check the competitive markets this entry (``name``) is in; raise SpecError naming the field.

        ``mine`` lists ``(k, market, role)`` for each competitive market ``k`` it is in;
        ``clearing`` is the economy's :class:`~marketsai.clearing.Clearing` (its other markets
        and producers). Default: any markets will do.
        """

    def state_units(self, econ, e: int) -> dict:
        """Units of state fields that only the composed economy ``econ`` knows (entry ``e``). Default: none."""
        return {}

    # ------------------------------------------------------------ decisions and state
    def decision_sets(self) -> list[dict]:
        """Own decisions (``trades`` False): dicts with kind, low, high, grid, name."""
        return []

    def scale(self, field: str) -> float:
        """The unit of a state field's ``low``/``high``/``initial`` (its steady state or 1)."""
        return 1.0

    def state_grid(self, field: str) -> np.ndarray:
        b = self.state_spec[field]
        return np.linspace(b["low"], b["high"], b["points"]) * self.scale(field)

    def state_bounds(self, field: str) -> tuple[float, float]:
        b = self.state_spec[field]
        s = self.scale(field)
        return b["low"] * s, b["high"] * s

    def initial_state(self, rng: np.random.Generator, batch: int) -> dict[str, np.ndarray]:
        out = {}
        for name, b in self.state_spec.items():
            lo, hi = self.state_bounds(name)
            if b["initial"] == "uniform" and b.get("dispersion") is not None:
                level = rng.uniform(lo, hi, size=(batch, 1))
                d = b["dispersion"]
                out[name] = level * rng.uniform(1.0 - d, 1.0 + d, size=(batch, self.count))
            elif b["initial"] == "uniform":
                out[name] = rng.uniform(lo, hi, size=(batch, self.count))
            else:
                out[name] = np.full((batch, self.count), b["initial"] * self.scale(name))
        return out

    # ------------------------------------------------------------ the period
    def reward(self, state, decisions, outcome, exo) -> np.ndarray:
        """Per-period reward ``(batch, count)``. Default: the sum of profits across markets."""
        return outcome["profit"].sum(axis=-1)

    def transition(self, state, decisions, outcome, exo) -> dict[str, np.ndarray]:
        """Next state fields. Default: no state."""
        return {}

    def own_outcome(self, state, decisions, exo, prices=None) -> dict[str, np.ndarray]:
        """What the agent's own decisions produce (consumption, next capital, ...).

        ``prices`` is what the competitive clearing (:mod:`marketsai.clearing`) gives an
        agent that trades in competitive markets, else None: each market's price by its
        item (``(B, 1)``: ``"capital"``, ``"goods:both"``, ...) and ``"dividend"``, its share
        of profits ``(B, count)``. A trader's outcome then holds ``"trades"``: item -> its
        net demand ``(B, count)`` (negative: supply) at those prices. The clearing calls
        it at candidate prices, so it must be a pure function of its arguments.
        """
        return {}

    def income_shares(self, state, decisions, exo, items) -> tuple[dict, dict] | None:
        """The fast path's form of a trader (:mod:`marketsai.clearing`), or None.

        ``(supplies, shares)``: what it supplies of each item whatever the prices
        (``(B, count)``), and the shares of its income it spends on each item (summing to
        1), where ``items`` are the items of its markets. Default: None (not of this form;
        the economy clears on the general path).
        """
        return None


class Producer(AgentType):
    """A price-taking producer under constant returns: the seller in ``unit_cost`` markets.

    It takes no decisions: the clearing sets the price of its good to its unit cost at
    the factor prices and has it make what buyers demand, hiring the inputs one unit needs
    times its output. A subclass states its technology through these methods, each taking
    factor prices or inputs by item (``(B,)`` arrays) and the economy's process values.
    """

    trades = False
    action_fields: ClassVar[dict[str, Param]] = {}
    producer = True

    def unit_cost(self, prices: dict, exo: dict, batch: int) -> np.ndarray:
        """Least cost ``(B,)`` of one unit of output at these factor prices."""
        raise NotImplementedError

    def unit_inputs(self, prices: dict, exo: dict, batch: int) -> dict:
        """Item -> cost-minimising input per unit of output ``(B,)`` at these factor prices."""
        raise NotImplementedError

    def produce(self, inputs: dict, exo: dict, batch: int) -> np.ndarray:
        """Output ``(B,)`` of these inputs."""
        raise NotImplementedError

    def marginal_products(self, inputs: dict, exo: dict, batch: int) -> dict:
        """Item -> marginal product ``(B,)`` at these inputs (the fast path of one producer)."""
        raise NotImplementedError

    def cost_shares(self) -> dict | None:
        """Item -> constant share of cost (Cobb–Douglas), or None: the fast path of several producers."""
        return None

    def own_outcome(self, state, decisions, exo, prices=None):
        """What the clearing reports for it: ``output``, ``price``, inputs by item, ``profit``."""
        return dict(prices)

    def reward(self, state, decisions, outcome, exo):
        return outcome["profit"]
