"""The market contract.

A market is a pure function from the actions of its participants to outcomes.

* Parameters are frozen at construction and declared once in ``params``
  (:class:`marketsai.params.Param`): market-level ones (``mu``) and per-participant
  ones (a firm's ``cost``), which each participating agent brings in its ``params``.
* :meth:`Market.clear` has no hidden state and no randomness. Exogenous state is passed
  in by name: a market declares the process values it reads in ``inputs`` (Bertrand and
  Cournot read one demand ``shock``) and the economy passes each as a keyword argument
  (``clear(actions, shock=z)``), bound to a process of the economy file. It is
  vectorised over any leading batch axes, so the same code tabulates a payoff table for
  tabular learners and steps an environment for deep ones.
* Two kinds. A :class:`StrategicMarket` (Bertrand, Cournot) is cleared from its
  participants' own decisions (prices or quantities) and adds the static benchmarks
  :meth:`~StrategicMarket.nash`, :meth:`~StrategicMarket.joint_optimum` and
  :meth:`~StrategicMarket.best_response`, from which the economy derives price grids
  (the ``xi`` span) and profit gains. A :class:`CompetitiveMarket` (capital rental,
  labour, a goods market) has no price setter: it trades one ``good`` between
  ``sellers`` and ``buyers`` (roles that agent types declare in ``market_roles``) and
  declares how its price is set (``pricing``); the economy's competitive clearing
  (:mod:`marketsai.clearing`) finds the prices at which all such markets clear together,
  and the market reports what was supplied, demanded and traded at them, and the
  excess demand.

A market must not import learners, environments, ray or torch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, NamedTuple

import numpy as np

from marketsai.errors import SpecError
from marketsai.params import Param, validate_mapping


class Outcome(NamedTuple):
    """Result of clearing a market; every field has shape ``batch + (n,)``.

    Parameters
    ----------
    price
        The price of each participant's good (for Cournot, the one market price repeated).
    quantity
        What each participant sells.
    profit
        Each participant's payoff.
    """

    price: np.ndarray
    quantity: np.ndarray
    profit: np.ndarray


class Market(ABC):
    """Base class of all markets; see the module docstring for the contract.

    Subclasses set ``action`` (what participants choose: ``"price"`` or
    ``"quantity"``), declare ``params`` and ``inputs`` (the names of the exogenous values
    :meth:`clear` reads as keyword arguments) and implement :meth:`clear`.
    """

    action: ClassVar[str] = "price"
    params: ClassVar[dict[str, Param]] = {}
    inputs: ClassVar[tuple[str, ...]] = ()

    def __init__(self, n_participants: int, **values):
        if n_participants < 1:
            raise SpecError("a market needs at least one participant", path="participants",
                            value=n_participants, allowed="one or more agent names")
        self.n = int(n_participants)
        for name, p in self.params.items():
            v = values.pop(name, p.default)
            if p.per_participant:
                v = np.broadcast_to(np.asarray(v, dtype=float), (self.n,)).copy()
                v.flags.writeable = False
            object.__setattr__(self, name, v)
        if values:
            raise TypeError(f"{type(self).__name__} got unknown parameters {sorted(values)}")
        self._frozen = True

    def __setattr__(self, name, value):
        if getattr(self, "_frozen", False):
            raise AttributeError(f"{type(self).__name__} is immutable; build a new market instead")
        object.__setattr__(self, name, value)

    # ------------------------------------------------------------- building
    @classmethod
    def from_spec(cls, market_params: dict, participants: list[tuple[str, dict]],
                  path: str = "") -> Market:
        """Validate a file's ``params`` and the participants' characteristics, then build.

        ``participants`` holds, per participating agent, the field path of its params
        (for messages, e.g. ``"agents[1].params"``) and the params themselves.
        """
        market_level = {k: p for k, p in cls.params.items() if not p.per_participant}
        values = validate_mapping(market_params, market_level, f"{path}.params" if path else "params",
                                  f"{cls.__name__} params")
        for name, p in cls.params.items():
            if not p.per_participant:
                continue
            column = []
            for where, agent_params in participants:
                if name in agent_params:
                    column.append(p.validate(agent_params[name], f"{where}.{name}"))
                elif p.required:
                    raise SpecError(f"participant of {cls.__name__} lacks parameter {name!r}",
                                    path=f"{where}.{name}",
                                    allowed=p.check.allowed + (f" -- {p.doc}" if p.doc else ""))
                else:
                    column.append(p.default)
            values[name] = column
        market = cls(len(participants), **values)
        market.check_parameters(path)
        return market

    def check_parameters(self, path: str = "") -> None:  # noqa: B027 (optional hook)
        """Cross-field checks (e.g. quality above cost); raise SpecError. Default: none."""

    def to_params(self) -> dict:
        """Market-level parameters as plain data (per-participant ones live with the agents)."""
        return {k: getattr(self, k) for k, p in self.params.items() if not p.per_participant}

    # ------------------------------------------------------------- contract
    @abstractmethod
    def clear(self, actions, **inputs) -> Outcome:
        """Outcomes for actions of shape ``batch + (n,)``; each input broadcasts over ``batch``."""


class Report(NamedTuple):
    """What a competitive market reports each period; fields ``(B,)`` except per-agent ones.

    ``supply`` and ``demand`` are per participant ``(B, n)`` (0 for the other side);
    ``traded`` the quantity that changed hands, ``excess_demand`` total demand minus total
    supply (zero when the market clears).
    """

    price: np.ndarray
    supply: np.ndarray
    demand: np.ndarray
    traded: np.ndarray
    excess_demand: np.ndarray


#: how a competitive market's price is set (see :mod:`marketsai.clearing`)
PRICING = {
    "unit_cost": "sold by price-taking producers under constant returns: the price is their unit cost "
                 "at the factor prices (zero profit), and they make what buyers demand",
    "marginal_product": "a factor hired by producers: the price at which their cost-minimising demand "
                        "equals what is supplied, i.e. its marginal revenue product",
    "exogenous": "set outside the market (a policy, a world price): exogenous_price; participants whose "
                 "type accommodates its good take what the others leave at it",
    "excess_demand": "the root of its participants' excess demand at candidate prices, all markets at once",
}

#: an agent's role in a competitive market: a trader in ``both`` takes either side by its net demand
ROLES = ("seller", "buyer", "both")


class CompetitiveMarket(Market):
    """A market cleared at a price no participant sets (see the module docstring).

    A subclass declares what clearing needs to know, and nothing else:

    * ``good`` -- the kind of thing traded (``"capital"``, ``"labour"``, ``"goods"``,
      a plug-in's ``"bonds"``); agent types declare their role per good
      (``AgentType.market_roles``), so a new agent type can join an existing market;
    * ``roles`` -- what a ``seller`` and a ``buyer`` do in it (documentation and messages);
    * ``pricing`` -- how its price is set, one of :data:`PRICING`;
    * :attr:`item` -- the name under which participants see its price and report their
      trades (``good``, or ``good:variety`` when one economy has several markets of a
      good, as goods markets by their use);
    * ``price_guess`` -- where the joint solve starts (``excess_demand`` markets);
    * ``numeraire`` -- True: its price is 1; None: it may be chosen as the numeraire
      (:meth:`may_be_numeraire`); False: never.

    The market then reports, at the clearing prices, what each participant supplied
    and demanded (:meth:`clear`).
    """

    good: ClassVar[str] = ""
    roles: ClassVar[dict[str, str]] = {"seller": "", "buyer": ""}
    pricing: ClassVar[str] = "excess_demand"
    price_guess: ClassVar[float] = 1.0
    numeraire: ClassVar[bool | None] = False

    @property
    def item(self) -> str:
        """The name of what this market trades, unique among an economy's competitive markets."""
        return self.good

    def may_be_numeraire(self) -> bool:
        """Whether, with ``numeraire: null``, this market is a default numeraire. Default: no."""
        return False

    def exogenous_price(self, exo: dict, batch: int) -> np.ndarray:
        """The price ``(B,)`` of a market with ``pricing = "exogenous"``, from parameters or processes."""
        raise NotImplementedError(f"{type(self).__name__} declares exogenous pricing but no exogenous_price")

    @classmethod
    def check_composition(cls, clearing, indices: list[int]) -> None:  # noqa: B027 (optional hook)
        """Checks across all of an economy's markets of this type (``indices``); raise SpecError. Default: none."""

    def clear(self, supply, demand, price) -> Report:
        """The report at ``price`` for per-participant ``supply`` and ``demand`` ``(B, n)``."""
        supply = np.asarray(supply, dtype=float)
        demand = np.asarray(demand, dtype=float)
        s, d = supply.sum(axis=-1), demand.sum(axis=-1)
        return Report(price=np.asarray(price, dtype=float), supply=supply, demand=demand,
                      traded=np.minimum(s, d), excess_demand=d - s)


class StrategicMarket(Market):
    """A market of strategic participants, with static Nash and joint-optimum benchmarks.

    Subclasses implement :meth:`clear`, :meth:`nash` and :meth:`joint_optimum`; they read
    one exogenous value, ``shock`` (0 when the economy binds none).

    Parameters
    ----------
    n_participants
        How many agents take part (the economy passes the number of agents the file names).
    values
        The market's declared parameters (its ``params``) by name; ``per_participant``
        ones may be one value for all or one per participant.
    """

    inputs: ClassVar[tuple[str, ...]] = ("shock",)

    @abstractmethod
    def clear(self, actions, shock=0.0) -> Outcome:
        """Outcomes for actions of shape ``batch + (n,)``; ``shock`` broadcasts over ``batch``."""

    @abstractmethod
    def nash(self, shock: float = 0.0) -> np.ndarray:
        """Actions of the static (one-shot) Nash equilibrium, shape ``(n,)``."""

    @abstractmethod
    def joint_optimum(self, shock: float = 0.0) -> np.ndarray:
        """Actions maximising the participants' total profit, shape ``(n,)``."""

    def best_response(self, i: int, actions, shock: float = 0.0) -> np.ndarray:
        """Participant ``i``'s profit-maximising action against ``actions`` (batch + (n,)).

        Default: a golden-section search on :meth:`action_bounds`; markets with a closed
        form or a first-order condition override it.
        """
        actions = np.array(actions, dtype=float)
        lo, hi = self.action_bounds(shock)
        a = np.full(actions.shape[:-1], lo)
        b = np.full(actions.shape[:-1], hi)
        g = (np.sqrt(5.0) - 1) / 2

        def f(x):
            trial = actions.copy()
            trial[..., i] = x
            return self.clear(trial, shock).profit[..., i]

        for _ in range(200):
            c = b - g * (b - a)
            d = a + g * (b - a)
            left = f(c) > f(d)
            b = np.where(left, d, b)
            a = np.where(left, a, c)
        return (a + b) / 2

    def action_bounds(self, shock: float = 0.0) -> tuple[float, float]:
        """A bracket that contains every sensible action (used by numeric searches)."""
        return 0.0, 1e3

    def benchmarks(self, shock: float = 0.0) -> dict[str, np.ndarray]:
        """Nash and joint-optimum actions and profits, each of shape ``(n,)``."""
        pn, pm = self.nash(shock), self.joint_optimum(shock)
        return {"nash_action": pn, "nash_profit": self.clear(pn, shock).profit,
                "coop_action": pm, "coop_profit": self.clear(pm, shock).profit}

