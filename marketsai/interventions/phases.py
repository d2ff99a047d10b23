"""Intervention phases: declarative steps applied to converged sessions.

An intervention is a list of phases, run in order on every session of a batch, e.g.::

    phases:
      - {type: force_price, firm: 0, price: nash, periods: 50,
         learning: {firm_0: false, firm_1: true}}
      - {type: memory_reset, firm: all}

Built-in types (each declares its fields once, as markets do, in ``params``):

============== ============================================================ ==========
type           what it does                                                 periods
============== ============================================================ ==========
force_price    the named firms play a fixed grid price; per-firm learning    k
exploration    the named firms explore with probability ``epsilon``          k
memory_reset   the named firms' Q-tables back to Q0 (eq. (5)) or a table    0
price_cap      the named firms may not price above ``price``                k
replace_learner the named firms get fresh learners (Q0, own alpha, beta and  0
               their own exploration schedule from age 0)
learn          ordinary play (nothing changed) -- a spacer between phases    k
============== ============================================================ ==========

New types are added like markets: subclass :class:`Phase`, declare ``params``,
implement :meth:`Phase.apply`, and register it with ``@phases.register("name")`` -- or
name it in a file by import path, ``type: mypkg.mod:MyPhase``.

Examples
--------
>>> p = build_phase({"type": "force_price", "firm": 0, "periods": 50}, "phases[0]")
>>> p.periods, p.to_dict()["price"]
(50, 'nash')
>>> build_phase({"type": "force_price", "firm": 0, "periods": 0}, "interventions[2].phases[0]")
Traceback (most recent call last):
...
marketsai.errors.SpecError: interventions[2].phases[0].periods = 0: invalid value (allowed: an integer >= 1)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np

from marketsai.errors import SpecError
from marketsai.interventions import targets
from marketsai.params import Check, Param, positive, positive_int, unit_closed, validate_mapping
from marketsai.registry import Registry

anything = Check(lambda x: True, "see the phase's documentation")
unit_left_open = Check(lambda x: isinstance(x, (int, float)) and not isinstance(x, bool)
                       and 0 < x <= 1, "a number in (0, 1]", True)


class Phase(ABC):
    """Base class of intervention phases.

    Subclasses declare ``params`` (:class:`marketsai.params.Param`), may refine
    :meth:`check` (shape of values, no game) and :meth:`bind` (resolve against the game),
    and implement :meth:`apply`. ``self.path`` is the phase's field path in the file, so
    every error names e.g. ``interventions[2].phases[0].price``.
    """

    params: ClassVar[dict[str, Param]] = {}
    type_name: ClassVar[str] = ""

    def __init__(self, path: str = "", **values):
        self.path = path
        self.values = validate_mapping(values, self.params, path, f"{self.type_name or 'phase'} phase")
        self.check()
        self.game = None

    def field(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    @property
    def periods(self) -> int:
        """Periods of play this phase takes (0 for an instantaneous change)."""
        return int(self.values.get("periods", 0))

    def check(self) -> None:
        """Check the values' shape without a game; raise SpecError naming the field."""
        return None

    def bind(self, game) -> Phase:
        """Resolve firms and prices against ``game`` (raises SpecError); returns self."""
        self.game = game
        return self

    @abstractmethod
    def apply(self, ctx) -> np.ndarray | None:
        """Act on ``ctx`` (:class:`~marketsai.interventions.context.InterventionContext`);
        return the prices played, ``(S, self.periods, n)``, or ``None`` if instantaneous."""

    def to_dict(self) -> dict:
        return {"type": self.type_name, **self.values}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.values})"


phases: Registry[Phase] = Registry("phases", Phase)


def register(name: str):
    """Register a phase class under ``name`` (and set its ``type_name``)."""
    def deco(cls):
        phases.register(name, cls)
        cls.type_name = name
        return cls
    return deco


def build_phase(data, path: str) -> Phase:
    """Build a phase from a mapping with a ``type`` key (a name or ``pkg.mod:Class``)."""
    if not isinstance(data, dict):
        raise SpecError("a phase must be a mapping with a 'type'", path=path, value=data,
                        allowed="{type: " + " | ".join(phases.names()) + ", ...}")
    if "type" not in data:
        raise SpecError("missing required key in phase", path=f"{path}.type",
                        allowed=" | ".join(phases.names()))
    cls = phases.get(data["type"], path=f"{path}.type")
    if not cls.type_name:
        cls.type_name = str(data["type"])
    rest = {k: v for k, v in data.items() if k != "type"}
    return cls(path=path, **rest)


# ------------------------------------------------------------- built-ins
class _FirmPhase(Phase):
    """A phase acting on a set of firms, with a ``learning`` switch per firm."""

    def check(self):
        if "firm" in self.values:
            targets.check_firms(self.values["firm"], self.field("firm"))
        if "learning" in self.values:
            targets.check_learning(self.values["learning"], self.field("learning"))

    def bind(self, game):
        super().bind(game)
        if "firm" in self.values:
            self.mask = targets.resolve_firms(game, self.values["firm"], self.field("firm"))
        if "learning" in self.values:
            self.learn = targets.resolve_learning(game, self.values["learning"], self.field("learning"))
        return self


class _PricePhase(_FirmPhase):
    """A firm phase with a ``price``: checked like any price target, and resolved to a grid
    point for each named firm (:func:`~marketsai.interventions.targets.resolve_price`)."""

    #: how a price between grid points resolves: ``nearest`` or ``floor``
    price_mode = "nearest"

    def check(self):
        super().check()
        targets.check_price(self.values["price"], self.field("price"))

    def price_points(self, game, others: int) -> np.ndarray:
        """The grid point of ``price`` for each named firm; ``others`` for the rest."""
        points = np.full(game.n_agents, others, np.int64)
        for i in np.nonzero(self.mask)[0]:
            points[i] = targets.resolve_price(game, self.values["price"], i, self.field("price"),
                                              mode=self.price_mode)
        return points


@register("force_price")
class ForcePrice(_PricePhase):
    """The named firms play a fixed price for ``periods`` periods (e.g. a consent decree).

    Rivals play as usual (learners choose, exploring on their schedule). ``learning``
    says which firms update their Q-tables meanwhile; the forced firm's update is for
    the action it was made to take.
    """

    params = {
        "firm": Param(check=anything, doc="firm(s) forced: an index, a name, a list or 'all'"),
        "price": Param("nash", anything, "'nash' (grid point nearest pN) | value | {index: k}"),
        "periods": Param(check=positive_int, doc="how many periods the price is forced"),
        "learning": Param(True, anything, "true | false | {firm_0: false, firm_1: true}"),
    }

    def bind(self, game):
        super().bind(game)
        self.index = self.price_points(game, -1)  # -1: the firm chooses as usual
        return self

    def apply(self, ctx):
        return ctx.play(self.periods, forced=self.index, learn=self.learn, record=self.periods)


@register("exploration")
class ExplorationShock(_FirmPhase):
    """The named firms explore with probability ``epsilon`` for ``periods`` periods
    (an audit that makes algorithms experiment); the others keep their schedule."""

    params = {
        "firm": Param("all", anything, "firm(s) shocked: an index, a name, a list or 'all'"),
        "epsilon": Param(check=unit_closed, doc="exploration probability during the shock"),
        "periods": Param(check=positive_int, doc="length of the shock"),
        "learning": Param(True, anything, "true | false | {firm_0: false, ...}"),
    }

    def apply(self, ctx):
        _, eps, _, _ = ctx.controls()
        eps[self.mask] = self.values["epsilon"]
        return ctx.play(self.periods, eps=eps, learn=self.learn, record=self.periods)


@register("memory_reset")
class MemoryReset(_FirmPhase):
    """The named firms' Q-tables are set back to Q0 of eq. (5) (``to: q0``), to a constant
    (``to: 0.0`` -- what the seed did), or to a table in a ``.npy`` file of shape
    ``(n_states, m)`` or ``(n, n_states, m)`` (``to: {file: path}``). Takes no periods;
    the learner keeps its place on the exploration schedule."""

    params = {
        "firm": Param("all", anything, "firm(s) reset: an index, a name, a list or 'all'"),
        "to": Param("q0", anything, "'q0' | a constant | {file: table.npy}"),
    }

    def check(self):
        super().check()
        to = self.values["to"]
        ok = (to == "q0" or (isinstance(to, (int, float)) and not isinstance(to, bool))
              or (isinstance(to, dict) and list(to) == ["file"] and isinstance(to["file"], str)))
        if not ok:
            raise SpecError("invalid reset target", path=self.field("to"), value=to,
                            allowed="'q0' | a constant | {file: table.npy}")

    def bind(self, game):
        super().bind(game)
        to = self.values["to"]
        if isinstance(to, dict):
            path = Path(to["file"])
            if not path.exists():
                raise SpecError("file not found", path=self.field("to.file"), value=to["file"])
            shapes = [(game.n_states, game.n_actions), (game.n_agents, game.n_states, game.n_actions)]
            from marketsai.limits import check_bytes  # refuse a huge file before reading it
            check_bytes(path.stat().st_size, self.field("to.file"), "the reset table",
                        budget=8 * game.n_agents * game.n_states * game.n_actions + 4096)
            try:  # never unpickle; a foreign or damaged file is our error
                table = np.load(path, allow_pickle=False)
            except (ValueError, OSError, EOFError) as exc:
                raise SpecError(f"not a .npy array file ({str(exc)[:100]})", path=self.field("to.file"),
                                value=to["file"], allowed="a .npy file written by numpy.save") from None
            if not isinstance(table, np.ndarray) or table.shape not in shapes:
                raise SpecError(f"table has shape {getattr(table, 'shape', None)}", path=self.field("to.file"),
                                value=to["file"], allowed=f"shape {shapes[0]} or {shapes[1]}")
            self.table = np.broadcast_to(table, shapes[1]).astype(float)
        return self

    def apply(self, ctx):
        to = self.values["to"]
        if to == "q0":
            table = ctx.q0
        elif isinstance(to, dict):
            table = self.table
        else:
            table = np.full(ctx.q0.shape, float(to))
        ctx.set_q(self.mask, table)
        return None


@register("price_cap")
class PriceCap(_PricePhase):
    """The named firms may not charge more than ``price`` for ``periods`` periods: their
    choices (greedy and exploratory) are limited to grid points at or below the cap
    (``nash``/``monopoly``: the grid point nearest pN/pM; a value: the highest grid
    point not above it; ``{index: k}``: grid point k)."""

    params = {
        "firm": Param("all", anything, "firm(s) capped"),
        "price": Param("nash", anything, "'nash' | 'monopoly' | value | {index: k}"),
        "periods": Param(check=positive_int, doc="how long the cap holds"),
        "learning": Param(True, anything, "true | false | {firm_0: false, ...}"),
    }

    price_mode = "floor"

    def bind(self, game):
        super().bind(game)
        self.cap = self.price_points(game, game.n_actions - 1)  # the top of the grid: no cap
        return self

    def apply(self, ctx):
        return ctx.play(self.periods, cap=self.cap, learn=self.learn, record=self.periods)


@register("replace_learner")
class ReplaceLearner(_FirmPhase):
    """The named firms' learners are replaced by fresh ones: Q0 of eq. (5), learning rate
    ``alpha`` and exploration ``exp(-beta * age)`` with age counted from the replacement
    (the rivals stay on the session clock). Takes no periods."""

    params = {
        "firm": Param(check=anything, doc="firm(s) whose learner is replaced"),
        "alpha": Param(check=unit_left_open, doc="the new learner's learning rate"),
        "beta": Param(check=positive, doc="the new learner's exploration decay"),
    }

    def apply(self, ctx):
        ctx.replace_learners(self.mask, self.values["alpha"], self.values["beta"])
        return None


@register("learn")
class Learn(_FirmPhase):
    """Ordinary play for ``periods`` periods, optionally with some firms not learning."""

    params = {
        "periods": Param(check=positive_int, doc="periods of ordinary play"),
        "learning": Param(True, anything, "true | false | {firm_0: false, ...}"),
    }

    def apply(self, ctx):
        return ctx.play(self.periods, learn=self.learn, record=self.periods)
