"""A planner with ``d`` capital stocks: the growth model whose dimension is a parameter.

One good is produced from ``d`` capital inputs (one per sector) with Cobb–Douglas shares
``alpha_j``, ``sum_j alpha_j < 1``, and productivity ``z``::

    y = z * prod_j k_j^alpha_j,        c + sum_j k_j' = y        (full depreciation)

and the planner is paid ``ln c``. ``z`` is a process field (an AR(1) in logs), the
product of several fields (one per sector: ``productivity: [z1, z2]``), or 1 (null).

Exact solution (any ``d``; Brock & Mirman 1972 is ``d = 1``). Guess
``V(k, z) = A + sum_j B_j ln k_j + D(z)`` in ``V = max ln(y - sum_j k_j') + beta E V(k', z')``.
The first-order conditions ``1/c = beta B_j / k_j'`` give ``k_j' = beta B_j c``; with the
budget, ``c = y / (1 + beta sum_l B_l)``. Substituting, ``ln c`` and every ``ln k_j'`` are
``ln y`` plus constants and ``ln y = ln z + sum_j alpha_j ln k_j``, so matching the
coefficient of ``ln k_j`` gives ``B_j = (1 + beta sum_l B_l) alpha_j``; summing,
``sum_l B_l = S / (1 - beta S)`` with ``S = sum_j alpha_j``, hence

* ``B_j = alpha_j / (1 - beta S)``, ``1 + beta sum_l B_l = 1 / (1 - beta S)``;
* policy ``k_j' = beta alpha_j y`` and ``c = (1 - beta S) y`` (save the share ``beta alpha_j``
  of output in stock ``j``, whatever the state);
* ``D = (I - beta P)^{-1} ln z / (1 - beta S)`` on the productivity chain, and
  ``(1 - beta) A = ln(1 - beta S) + beta sum_j B_j ln(beta alpha_j)``;
* deterministic steady state (``z = 1``): ``ln y = sum_j alpha_j ln(beta alpha_j) / (1 - S)``,
  ``k_j = beta alpha_j y``.

The Euler equation of stock ``j``, ``1/c = beta E[(1/c') alpha_j y' / k_j']``, holds exactly
under this policy (``c' = (1 - beta S) y'``). :mod:`marketsai.solvers.sectors` has the closed
form, its value function and Euler residuals.

Two ways to decide, both keeping the budget:

* ``choice: savings_shares`` -- ``d`` shares ``s_j`` of output, ``k_j' = s_j y``,
  ``c = (1 - sum_j s_j) y``, each ``s_j`` in ``[low, high]`` (interval or grid: deep learners).
  Shares whose sum exceeds ``total`` (< 1, so that consumption stays positive) are scaled
  down proportionally onto ``sum_j s_j = total`` and flagged ``infeasible``;
* ``choice: next_state`` -- ``k_j'`` is a point of stock ``j``'s grid (``state.kj``): ``d``
  grid decisions, one joint action of ``prod_j G_j`` in the finite model (tabular learners,
  DP). A choice with ``sum_j k_j' >= y`` is projected: the excess over the grids' low
  corner is scaled down until it is affordable and each stock rounded down to its grid,
  and the period is flagged ``infeasible``. In the finite model such actions stay
  available and do what their projection does (with ``d = 1`` the infeasible points are
  the top of the grid and are simply unavailable, as for :mod:`~marketsai.agents.planner`).

State fields ``k1 .. kd`` (``d = len(alphas)``), each with its own block under ``state:``;
a block ``k`` is a template for every stock (per-stock blocks override it), so that ``d``
can change with ``--set 'economy.agents[0].params.alphas=[0.12, 0.12, 0.12]'`` alone.
"""

from __future__ import annotations

import numpy as np

from marketsai.agents.base import AgentType, check_field_param
from marketsai.agents.planner import optional_share, resolve_saving_action
from marketsai.agents.registry import agent_types
from marketsai.errors import SpecError
from marketsai.params import Check, Param, one_of

#: largest number of sectors (a table of G^(2d) entries is refused long before)
MAX_SECTORS = 64


def _is_share(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and 0 < x < 1


_alphas = Check(lambda x: isinstance(x, list) and 1 <= len(x) <= MAX_SECTORS and all(_is_share(a) for a in x)
                and sum(x) < 1, f"a list of 1 to {MAX_SECTORS} shares in (0, 1) with sum < 1")
_productivity = Check(lambda x: x is None or (isinstance(x, str) and x.isidentifier())
                      or (isinstance(x, list) and len(x) >= 1 and all(isinstance(v, str) and v.isidentifier()
                                                                      for v in x)),
                      "null (z = 1), a process field name, or a list of them (z is their product)")

SECTOR_ACTION = {
    "choice": Param("savings_shares", one_of("savings_shares", "next_state"),
                    "savings_shares: save a share of output in each stock; next_state: pick each k_j' "
                    "on its grid (d grid decisions)"),
    "kind": Param("interval", one_of("grid", "interval"), "grid of shares or continuous shares "
                  "(choice: savings_shares; next_state is always the capital grids)"),
    "points": Param(None, Check(lambda x: x is None or (isinstance(x, int) and not isinstance(x, bool) and x >= 2),
                                "null or an integer >= 2"),
                    "savings shares on each stock's grid (kind: grid; default 21)"),
    "low": Param(None, optional_share, "lowest share saved in each stock (null: 0.01)"),
    "high": Param(None, optional_share, "highest share saved in each stock (null: 0.99)"),
    "total": Param(None, optional_share, "largest total share saved; larger sums are scaled down onto it "
                   "and flagged infeasible (null: 0.99)"),
}


@agent_types.register("sector_planner")
class SectorPlanner(AgentType):
    """The planner of a ``d``-sector growth economy (see the module docstring).

    Examples
    --------
    >>> params = SectorPlanner.validate_params({"alphas": [0.2, 0.16], "productivity": None}, "params")
    >>> list(SectorPlanner.state_fields(params))
    ['k1', 'k2']
    >>> action = SectorPlanner.resolve_action({"choice": "savings_shares", "kind": "interval",
    ...                                        "points": None, "low": None, "high": None, "total": None}, "action")
    >>> p = SectorPlanner(params, SectorPlanner.validate_state({"k": {"low": 0.8}}, "state", params),
    ...                   action, count=1, discount=0.95)
    >>> p.d, p.state_spec["k2"]["low"], [round(float(k), 5) for k in p.steady_state()]
    (2, 0.8, [0.0706, 0.05648])
    """

    params = {
        "alphas": Param([0.2, 0.16], _alphas, "capital shares alpha_j of y = z prod_j k_j^alpha_j, one per "
                        "sector (d = their number; sum < 1)"),
        "productivity": Param("z", _productivity, "process field(s) read as productivity z (a list: their "
                              "product; null: z = 1)"),
    }
    state = {"k1": "capital of sector 1", "k2": "capital of sector 2"}  # of the default alphas
    trades = False
    action_fields = SECTOR_ACTION
    #: the field that sizes the finite model's table (named by its memory error)
    table_field = "params.alphas"
    #: infeasible decisions are projected onto feasible ones, so in a finite model they may
    #: stay available (aliases of their projections) when they are not the top of the grid
    projects_infeasible = True

    # ------------------------------------------------------------ validation
    @classmethod
    def validate_params(cls, params, path):
        out = super().validate_params(params, path)
        out["alphas"] = [float(a) for a in out["alphas"]]
        if isinstance(out["productivity"], list):
            out["productivity"] = list(out["productivity"])
        return out

    @classmethod
    def state_fields(cls, params=None):
        d = len((params or {}).get("alphas") or cls.params["alphas"].default)
        return {f"k{j + 1}": f"capital of sector {j + 1}" for j in range(d)}

    @classmethod
    def validate_state(cls, state, path, params=None):
        state = dict(state or {})
        template = state.pop("k", None)
        if template is not None:
            if not isinstance(template, dict):
                raise SpecError("state field block must be a mapping", path=f"{path}.k", value=template,
                                allowed="a mapping of initial, low, high, points, scale")
            fields = cls.state_fields(params)
            for f in fields:
                own = state.get(f)
                if own is None or isinstance(own, dict):  # anything else is the base class's error
                    state[f] = {**template, **(own or {})}
        return super().validate_state(state, path, params)

    @classmethod
    def resolve_action(cls, action, path):
        return resolve_saving_action(action, path, {"low": 0.01, "high": 0.99, "total": 0.99}, points=21,
                                     next_state="picks each k_j' on its capital grid (state.kj)")

    # ------------------------------------------------------------ the technology
    @property
    def alphas(self) -> np.ndarray:
        return np.asarray(self.p["alphas"], dtype=float)

    @property
    def d(self) -> int:
        return len(self.p["alphas"])

    @property
    def fields(self) -> list[str]:
        return list(self.state)

    def steady_state(self) -> np.ndarray:
        """Deterministic steady-state capital of each stock at ``z = 1``: ``k_j = beta alpha_j y``."""
        a, b = self.alphas, self.discount
        y = np.exp(np.sum(a * np.log(b * a)) / (1.0 - a.sum()))
        return b * a * y

    def scale(self, field):
        if self.state_spec[field]["scale"] != "steady_state":
            return 1.0
        return float(self.steady_state()[self.fields.index(field)])

    def output(self, k, z):
        """``z prod_j k_j^alpha_j`` of capital ``(..., d)`` and productivity ``(...)``."""
        return np.asarray(z) * np.exp(np.log(k) @ self.alphas)

    def productivity_fields(self) -> list[str]:
        p = self.p["productivity"]
        return [] if p is None else [p] if isinstance(p, str) else list(p)

    def _z(self, exo, like):
        z = np.ones_like(like)
        for name in self.productivity_fields():
            v = np.asarray(exo[name])
            z = z * (v[:, None] if v.ndim == 1 else v)
        return z

    def check(self, exo_fields, path):
        z_min = 1.0
        for name in self.productivity_fields():
            check_field_param(name, exo_fields, f"{path}.params.productivity", "productivity", "z = 1",
                              minimum=0.0)
            z_min *= min(exo_fields[name])
        lows = np.array([self.state_bounds(f)[0] for f in self.fields])
        for f, lo in zip(self.fields, lows, strict=True):
            if not lo > 0:
                raise SpecError("capital must stay positive", path=f"{path}.state.{f}.low",
                                value=self.state_spec[f]["low"], allowed="a number > 0")
        a = self.action
        if a["choice"] == "next_state":
            y = float(self.output(lows, z_min))
            if y <= lows.sum():
                raise SpecError("the budget cannot hold: at the lowest capital and productivity output "
                                f"({y:.6g}) does not cover the low corner of the capital grids ({lows.sum():.6g})",
                                path=f"{path}.state.{self.fields[0]}.low", value=self.state_spec[self.fields[0]]["low"],
                                allowed="higher low ends of the capital grids")
        elif self.d * a["low"] >= a["total"]:
            raise SpecError(f"{self.d} shares of at least low = {a['low']} exceed the largest total share "
                            f"{a['total']}", path=f"{path}.action.low", value=a["low"],
                            allowed=f"a share < total / d = {a['total'] / self.d:.6g}")

    # ------------------------------------------------------------ decisions
    def decision_sets(self):
        a = self.action
        if a["choice"] == "next_state":
            out = []
            for f in self.fields:
                g = self.state_grid(f)
                out.append({"name": f"{f}_next", "kind": "grid", "low": float(g[0]), "high": float(g[-1]), "grid": g})
            return out
        grid = np.linspace(a["low"], a["high"], a["points"]) if a["kind"] == "grid" else None
        return [{"name": f"s{j + 1}", "kind": a["kind"], "low": a["low"], "high": a["high"], "grid": grid}
                for j in range(self.d)]

    def project(self, k_next, y):
        """Grid choices ``(..., d)`` that cost ``y`` or more, moved onto affordable grid points.

        The excess over the grids' low corner is scaled by ``lambda < 1`` until the sum is
        just below ``y`` and each stock is rounded down to its grid (so the result stays
        affordable and on the grids; the low corner is affordable, checked at build).
        """
        grids = [self.state_grid(f) for f in self.fields]
        lo = np.array([g[0] for g in grids])
        excess = np.maximum((k_next - lo).sum(axis=-1), 1e-300)
        lam = np.clip((y - lo.sum()) * (1.0 - 1e-9) / excess, 0.0, 1.0)
        t = lo + lam[..., None] * (k_next - lo)
        out = np.empty_like(t)
        for j, g in enumerate(grids):
            out[..., j] = g[np.clip(np.searchsorted(g, t[..., j], side="right") - 1, 0, len(g) - 1)]
        return out

    def own_outcome(self, state, decisions, exo, prices=None):
        k = np.stack([state[f] for f in self.fields], axis=-1)  # (batch, count, d)
        y = self.output(k, self._z(exo, k[..., 0]))
        dec = np.asarray(decisions, dtype=float)
        if self.action["choice"] == "savings_shares":
            total = self.action["total"]
            tot = dec.sum(axis=-1)
            infeasible = tot > total * (1.0 + 1e-12)
            shares = np.where(infeasible[..., None], dec * (total / np.where(infeasible, tot, 1.0))[..., None], dec)
            k_next = shares * y[..., None]
            consumption = (1.0 - shares.sum(axis=-1)) * y
        else:
            infeasible = dec.sum(axis=-1) >= y
            k_next = dec
            if infeasible.any():
                k_next = np.where(infeasible[..., None], self.project(dec, y), dec)
            consumption = y - k_next.sum(axis=-1)
        out = {"consumption": consumption, "output": y, "infeasible": infeasible}
        for j, f in enumerate(self.fields):
            out[f"{f}_next"] = k_next[..., j]
        return out

    def reward(self, state, decisions, outcome, exo):
        return np.log(outcome["consumption"])

    def transition(self, state, decisions, outcome, exo):
        return {f: outcome[f"{f}_next"] for f in self.fields}
