"""Dotted keys into plain data: ``markets[0].params.mu`` -> a place in nested dicts/lists.

Why here, below the runner: the same paths address an experiment file (``--set``,
sweeps) and an economy file (:func:`marketsai.load_economy` ``overrides``), so the one
parser lives where both the economy and the runner may import it.
"""

from __future__ import annotations

import re
from typing import Any

from marketsai.errors import SpecError

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_path(path: str) -> list[str | int]:
    """``"markets[0].params.mu"`` -> ``["markets", 0, "params", "mu"]``.

    >>> split_path("markets[0].params.mu")
    ['markets', 0, 'params', 'mu']
    """
    parts: list[str | int] = []
    pos = 0
    for m in _TOKEN.finditer(path):
        if m.start() != pos and path[pos:m.start()] != ".":
            raise SpecError("malformed key", value=path, allowed="dotted keys like learner.alpha "
                            "or economy.markets[0].params.mu")
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not parts or pos != len(path):
        raise SpecError("malformed key", value=path,
                        allowed="dotted keys like learner.alpha or economy.markets[0].params.mu")
    return parts


def economy_key(key) -> str:
    """An economy's dotted key as a key of the experiment (``economy.`` prefixed): the keys
    of an economy's overrides may be written with or without the prefix.

    >>> economy_key("agents[0].count"), economy_key("economy.discount")
    ('economy.agents[0].count', 'economy.discount')
    """
    key = str(key)
    return key if key.startswith(("economy.", "economy[")) else f"economy.{key}"


def _no_element(path: str, value, node, key) -> SpecError:
    n = len(node) if isinstance(node, list) else 0
    allowed = f"an index in [0, {n - 1}]" if n else "an existing list"
    if key == "agents":  # economies keep each file entry as one element, whatever its count
        allowed += ("; agents are the file's entries (an entry with count: n is one element, "
                    "agents[i].count sets n); to set one agent alone, declare it as its own entry")
    return SpecError("no such list element", path=path, value=value, allowed=allowed)


def set_path(data: dict, path: str, value: Any) -> None:
    """Set ``data[path] = value`` creating missing mappings (lists must exist)."""
    parts = split_path(path)
    node = data
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise _no_element(path, value, node, parts[i - 1] if i else None)
            node = node[part]
        else:
            if not isinstance(node, dict):
                raise SpecError("not a mapping", path=path, value=value)
            if node.get(part) is None:
                if isinstance(nxt, int):
                    raise SpecError("no such list", path=path, value=value)
                node[part] = {}
            node = node[part]
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise _no_element(path, value, node, parts[-2] if len(parts) > 1 else None)
    elif not isinstance(node, dict):
        raise SpecError("not a mapping", path=path, value=value)
    node[last] = value


def get_path(data: Any, path: str) -> Any:
    node = data
    for part in split_path(path):
        node = node[part]
    return node


# ------------------------------------------------------------------ paths as tuples
# (keys as they are, never re-parsed: a key with a '.' in it stays one key)


def dotted(parts: tuple) -> str:
    """``("evaluate", 0, "settings", "x")`` -> ``"evaluate[0].settings.x"``.

    >>> dotted(("learner", "settings", "flush_denormal"))
    'learner.settings.flush_denormal'
    """
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def missing_paths(data: Any, other: Any, parts: tuple = ()) -> list[tuple]:
    """The places of ``data`` that ``other`` lacks: keys of mappings absent from the
    mapping at the same place of ``other`` (lists of equal length compared element by
    element; a missing mapping is one place, not each key inside it).

    >>> missing_paths({"a": 1, "b": {"c": 2, "d": {"e": 3}}, "l": [{"x": 1}]}, {"a": 0, "b": {"c": 2}, "l": [{}]})
    [('b', 'd'), ('l', 0, 'x')]
    """
    if isinstance(data, dict) and isinstance(other, dict):
        return [p for k, v in data.items()
                for p in ([(*parts, k)] if k not in other else missing_paths(v, other[k], (*parts, k)))]
    if isinstance(data, list) and isinstance(other, list) and len(data) == len(other):
        return [p for i, (x, y) in enumerate(zip(data, other, strict=True))
                for p in missing_paths(x, y, (*parts, i))]
    return []


def find_parts(data: Any, parts: tuple, default: Any = None) -> Any:
    """The value at ``parts`` (a tuple of keys and indices), ``default`` where there is none."""
    node = data
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return default
    return node


def without_parts(data: Any, places) -> Any:
    """A copy of ``data`` without the mapping keys at ``places`` (tuples of keys and
    indices); places that are not there are ignored.

    >>> without_parts({"a": 1, "b": {"c": 2, "d": 3}}, [("b", "d"), ("x", "y")])
    {'a': 1, 'b': {'c': 2}}
    """
    import copy
    out = copy.deepcopy(data)
    for place in places:
        parent = find_parts(out, tuple(place[:-1]))
        if place and isinstance(parent, dict):
            parent.pop(place[-1], None)
    return out
