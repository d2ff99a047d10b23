"""A planner: the representative agent who owns the technology of a growth economy.

Each period the planner has cash on hand ``y = z f(k) + (1 - delta) k`` with
Cobb–Douglas ``f(k) = k^alpha`` and splits it into consumption and next capital,
``c + k' = y`` (Brock & Mirman 1972; the RBC planner). It is paid CRRA utility
``u(c) = (c^(1 - gamma) - 1) / (1 - gamma)`` (log at ``gamma = 1``).

Two ways to decide, both keeping the budget by construction:

* ``choice: savings_share`` -- a share ``s`` of cash on hand is saved, ``k' = s y``,
  ``c = (1 - s) y``, with ``0 < low <= s <= high < 1`` (grid or interval; deep learners);
* ``choice: next_state`` -- ``k'`` is a point of the capital grid (``state.k``); a point
  that would leave ``c <= 0`` is replaced by the largest affordable one and flagged
  ``infeasible`` (tabular learners and DP; in the finite model those actions are simply
  not available).
"""

from __future__ import annotations

import numpy as np

from marketsai.agents.base import AgentType, check_field_param
from marketsai.agents.registry import agent_types
from marketsai.errors import SpecError
from marketsai.params import Check, Param, one_of, positive, unit_closed, unit_open

optional_share = Check(lambda x: x is None or (isinstance(x, (int, float)) and not isinstance(x, bool)
                                           and 0 < x < 1), "null or a number in (0, 1)", True)
_opt_field = Check(lambda x: x is None or (isinstance(x, str) and x.isidentifier()),
                   "null or a process field name")

PLANNER_ACTION = {
    "choice": Param("savings_share", one_of("savings_share", "next_state"),
                    "savings_share: save a share of cash on hand; next_state: pick k' on the capital grid"),
    "kind": Param("interval", one_of("grid", "interval"), "grid of shares or a continuous share "
                  "(choice: savings_share; next_state is always the capital grid)"),
    "points": Param(None, Check(lambda x: x is None or (isinstance(x, int) and x >= 2), "null or an integer >= 2"),
                    "number of savings shares on the grid (kind: grid; default 41)"),
    "low": Param(None, optional_share, "lowest savings share (null: 0.01; 0 < low, so capital stays positive)"),
    "high": Param(None, optional_share, "highest savings share (null: 0.99; high < 1, so consumption stays positive)"),
}


def resolve_saving_action(action: dict, path: str, defaults: dict, points: int, next_state: str) -> dict:
    """A planner's action block resolved: ``choice: next_state`` (a point of each capital grid)
    takes no share fields and is a grid; a share choice gets ``defaults`` for its null share
    fields, ``points`` on a grid, and needs ``low < high``. ``next_state`` says what that
    choice picks (for the message)."""
    action = dict(action)
    if action["choice"] == "next_state":
        for key in ("points", *defaults):
            if action[key] is not None:
                raise SpecError(f"choice: next_state {next_state}", path=f"{path}.{key}", value=action[key],
                                allowed="null")
        action["kind"] = "grid"
        return action
    for key, default in defaults.items():
        action[key] = default if action[key] is None else action[key]
    if action["kind"] == "grid" and action["points"] is None:
        action["points"] = points
    if action["low"] >= action["high"]:
        raise SpecError("low must be below high", path=f"{path}.low", value=action["low"],
                        allowed=f"a share < {action['high']}")
    return action


def crra(c, gamma):
    """CRRA utility, log at gamma = 1."""
    c = np.asarray(c, dtype=float)
    return np.log(c) if gamma == 1.0 else (c ** (1.0 - gamma) - 1.0) / (1.0 - gamma)


@agent_types.register("planner")
class Planner(AgentType):
    """The representative agent of a one-sector growth economy (see the module docstring).

    Examples
    --------
    >>> action = Planner.resolve_action({"choice": "savings_share", "kind": "interval",
    ...                                  "points": None, "low": None, "high": None}, "action")
    >>> p = Planner({"alpha": 0.36, "delta": 0.025, "gamma": 1.0, "productivity": None},
    ...             Planner.validate_state(None, "state"), action, count=1, discount=0.99)
    >>> round(p.steady_state(), 3), action["low"], action["high"]
    (37.989, 0.01, 0.99)
    """

    params = {
        "alpha": Param(0.36, unit_open, "capital share of Cobb–Douglas output z k^alpha"),
        "delta": Param(1.0, unit_closed, "depreciation rate (1: full depreciation, Brock–Mirman)"),
        "gamma": Param(1.0, positive, "relative risk aversion of CRRA utility (1: log)"),
        "productivity": Param("z", _opt_field, "process field read as productivity z (null: z = 1)"),
    }
    state = {"k": "capital"}
    trades = False
    action_fields = PLANNER_ACTION

    @classmethod
    def resolve_action(cls, action: dict, path: str) -> dict:
        return resolve_saving_action(action, path, {"low": 0.01, "high": 0.99}, points=41,
                                     next_state="picks k' on the capital grid (state.k)")

    # ------------------------------------------------------------ the technology
    def steady_state(self) -> float:
        """Deterministic steady-state capital at z = 1: ``alpha z k^(alpha-1) = 1/beta - 1 + delta``."""
        a, d, b = self.p["alpha"], self.p["delta"], self.discount
        return (a / (1.0 / b - 1.0 + d)) ** (1.0 / (1.0 - a))

    def scale(self, field):
        return self.steady_state() if self.state_spec[field]["scale"] == "steady_state" else 1.0

    def cash_on_hand(self, k, z):
        return z * k ** self.p["alpha"] + (1.0 - self.p["delta"]) * k

    def _z(self, exo, like):
        name = self.p["productivity"]
        return np.ones_like(like) if name is None else np.asarray(exo[name])[:, None] * np.ones_like(like)

    def check(self, exo_fields, path):
        name = self.p["productivity"]
        check_field_param(name, exo_fields, f"{path}.params.productivity", "productivity", "z = 1")
        z_min = min(exo_fields[name]) if name is not None else 1.0
        lo = self.state_bounds("k")[0]
        if not lo > 0:  # k ** alpha of a negative k is complex
            raise SpecError("capital must stay positive", path=f"{path}.state.k.low",
                            value=self.state_spec["k"]["low"], allowed="a number > 0")
        if self.action["choice"] == "next_state" and self.cash_on_hand(lo, z_min) <= lo:
            raise SpecError("the budget cannot hold: at the lowest capital and productivity cash on hand "
                            f"({self.cash_on_hand(lo, z_min):.6g}) does not cover the lowest k' on the grid",
                            path=f"{path}.state.k.low", value=self.state_spec["k"]["low"],
                            allowed="a higher low end of the capital grid")

    # ------------------------------------------------------------ decisions
    def decision_sets(self):
        a = self.action
        if a["choice"] == "next_state":
            g = self.state_grid("k")
            return [{"name": "k_next", "kind": "grid", "low": float(g[0]), "high": float(g[-1]), "grid": g}]
        grid = np.linspace(a["low"], a["high"], a["points"]) if a["kind"] == "grid" else None
        return [{"name": "savings_share", "kind": a["kind"], "low": a["low"], "high": a["high"], "grid": grid}]

    def own_outcome(self, state, decisions, exo, prices=None):
        k = state["k"]
        y = self.cash_on_hand(k, self._z(exo, k))
        d = decisions[..., 0]
        if self.action["choice"] == "savings_share":
            k_next = d * y
            infeasible = np.zeros(k.shape, dtype=bool)
        else:
            grid = self.state_grid("k")
            infeasible = d >= y
            # the largest affordable grid point (the grid's low end is affordable: checked at build)
            best = grid[np.clip(np.searchsorted(grid, y, side="left") - 1, 0, len(grid) - 1)]
            k_next = np.where(infeasible, best, d)
        return {"consumption": y - k_next, "k_next": k_next, "output": y, "infeasible": infeasible}

    def reward(self, state, decisions, outcome, exo):
        return crra(outcome["consumption"], self.p["gamma"])

    def transition(self, state, decisions, outcome, exo):
        return {"k": outcome["k_next"]}

