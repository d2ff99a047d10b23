"""Who an intervention acts on and which grid price it uses.

Why a module of its own: every phase names firms (``firm: 0``, ``firms: all``,
``learning: {firm_0: false}``) and prices (``price: nash``, ``price: {index: 3}``,
``price: 1.6``) the same way. Phases are validated twice: the shape of the values
without a game (:func:`check_firms`, :func:`check_price`), then against the game they
run on (:func:`resolve_firms`, :func:`resolve_price`), each error naming its field path.
"""

from __future__ import annotations

import math
import re

import numpy as np

from marketsai.errors import SpecError

PRICE_WORDS = ("nash", "monopoly")
_FIRM_KEY = re.compile(r"^(?:firm|agent|player)_(\d+)$")


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _is_real(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool) \
        and math.isfinite(float(x))


# ------------------------------------------------------------------- firms
def check_firms(value, path: str):
    """Check the shape of a firm selection: ``all``, an index, a name, or a list of them.

    >>> check_firms([0, "firm_1"], "phases[0].firm")
    [0, 'firm_1']
    >>> check_firms(-1, "phases[0].firm")
    Traceback (most recent call last):
    ...
    marketsai.errors.SpecError: phases[0].firm = -1: invalid firm (allowed: 'all', a firm index >= 0, an agent name, or a list of these)
    """
    allowed = "'all', a firm index >= 0, an agent name, or a list of these"
    if value == "all":
        return value
    items = value if isinstance(value, list) else [value]
    if not items:
        raise SpecError("empty firm list", path=path, value=value, allowed=allowed)
    for k, f in enumerate(items):
        sub = f"{path}[{k}]" if isinstance(value, list) else path
        if not ((_is_int(f) and f >= 0) or (isinstance(f, str) and f and f != "all")):
            raise SpecError("invalid firm", path=sub, value=f, allowed=allowed)
    return value


def firm_index(game, name, path: str) -> int:
    """Index of one firm given as an int, an agent name of ``game`` or ``firm_<i>``."""
    n = game.n_agents
    if _is_int(name):
        i = int(name)
    elif name in game.agents:
        i = game.agents.index(name)
    elif isinstance(name, str) and _FIRM_KEY.match(name):
        i = int(_FIRM_KEY.match(name).group(1))
    else:
        raise SpecError("unknown firm", path=path, value=name,
                        allowed=f"0..{n - 1}, " + ", ".join(game.agents))
    if not 0 <= i < n:
        raise SpecError("firm index out of range", path=path, value=name,
                        allowed=f"0..{n - 1} (the game has {n} firms)")
    return i


def resolve_firms(game, value, path: str) -> np.ndarray:
    """Boolean mask ``(n,)`` of the selected firms."""
    mask = np.zeros(game.n_agents, dtype=bool)
    if value == "all":
        mask[:] = True
        return mask
    items = value if isinstance(value, list) else [value]
    for k, f in enumerate(items):
        mask[firm_index(game, f, f"{path}[{k}]" if isinstance(value, list) else path)] = True
    return mask


def check_learning(value, path: str):
    """``learning`` is a bool for all firms or a mapping firm -> bool."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, dict) or not value:
        raise SpecError("invalid learning switch", path=path, value=value,
                        allowed="true | false | a mapping firm -> true/false, e.g. {firm_0: false}")
    for k, v in value.items():
        if not isinstance(v, bool):
            raise SpecError("learning switch must be true or false", path=f"{path}.{k}", value=v,
                            allowed="true | false")
        check_firms(k, f"{path}.{k}")
    return value


def resolve_learning(game, value, path: str, default: bool = True) -> np.ndarray:
    """Boolean ``(n,)``: which firms update their Q-table; unnamed firms get ``default``."""
    if isinstance(value, bool):
        return np.full(game.n_agents, value)
    out = np.full(game.n_agents, default)
    for k, v in value.items():
        out[firm_index(game, k, f"{path}.{k}")] = v
    return out


# ------------------------------------------------------------------ prices
def check_price(value, path: str):
    """A price is ``nash`` / ``monopoly`` (the grid point nearest pN / pM), a value, or
    ``{index: k}`` (a grid index).

    >>> check_price({"index": 3}, "p")
    {'index': 3}
    >>> check_price("cheap", "p")
    Traceback (most recent call last):
    ...
    marketsai.errors.SpecError: p = 'cheap': invalid price (allowed: 'nash' | 'monopoly' | a price value | {index: k})
    """
    allowed = "'nash' | 'monopoly' | a price value | {index: k}"
    if value in PRICE_WORDS or _is_real(value):
        return value
    if isinstance(value, dict) and list(value) == ["index"]:
        if _is_int(value["index"]) and value["index"] >= 0:
            return value
        raise SpecError("invalid grid index", path=f"{path}.index", value=value["index"],
                        allowed="an integer >= 0")
    raise SpecError("invalid price", path=path, value=value, allowed=allowed)


def resolve_price(game, value, firm: int, path: str, *, mode: str = "nearest") -> int:
    """Grid index of ``value`` on ``firm``'s action grid.

    ``mode="nearest"``: the grid point nearest the price (``nash`` is the point nearest
    pN, which is not on Calvano's grid). ``mode="floor"``: the highest grid point not
    above the price (a price cap); ``nash`` and ``monopoly`` still mean the nearest point.
    """
    grid = game.actions[firm]
    m = grid.shape[0]
    if isinstance(value, dict):
        k = int(value["index"])
        if k >= m:
            raise SpecError("grid index out of range", path=f"{path}.index", value=k,
                            allowed=f"0..{m - 1}")
        return k
    if value == "nash":
        return int(np.argmin(np.abs(grid - game.nash_action[firm])))
    if value == "monopoly":
        return int(np.argmin(np.abs(grid - game.coop_action[firm])))
    v = float(value)
    if mode == "floor":
        below = np.nonzero(grid <= v + 1e-12)[0]
        if below.size == 0:
            raise SpecError("price cap below the lowest grid price", path=path, value=value,
                            allowed=f">= {grid[0]:.6g}")
        return int(below[-1])
    return int(np.argmin(np.abs(grid - v)))
