"""Nested schemas for experiment files, built on :mod:`marketsai.params`.

A schema is a mapping ``name -> Param | dict``: a :class:`~marketsai.params.Param`
declares a leaf (default, check, doc), a nested dict a section. :func:`resolve` checks a
file's mapping against it, rejects unknown keys (naming the nearest declared one) and
fills every default, so the resolved configuration shows everything.

Also here: the YAML reader for experiment files (YAML 1.2 floats: ``4e-6`` is a number,
not a string) and dotted-path access (``learner.alpha``, ``markets[0].params.mu``) used
by ``--set`` overrides and sweeps.
"""

from __future__ import annotations

import copy
import difflib
import re
from pathlib import Path
from typing import Any

import yaml

from marketsai.errors import SpecError
from marketsai.params import Check

# ------------------------------------------------------------------- YAML 1.2 floats


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads ``1e5`` / ``4e-6`` as floats (PyYAML's YAML 1.1 needs a dot)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                   |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                   |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                   |[-+]?\.(?:inf|Inf|INF)
                   |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."))


def parse_yaml(text: str, file: str | None = None) -> Any:
    """Parse YAML text; syntax errors become :class:`SpecError` naming the line."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 -- a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise SpecError(f"invalid YAML at {where}: {getattr(exc, 'problem', exc)}",
                        file=file) from None


def read_yaml(path: str | Path) -> Any:
    """Read a YAML file (see :func:`parse_yaml`)."""
    path = Path(path)
    if not path.is_file():
        raise SpecError("file not found", value=str(path), allowed="an existing YAML file")
    return parse_yaml(path.read_text(), file=str(path))


def parse_scalar(text: str) -> Any:
    """A ``--set`` value: parsed as a YAML scalar (or flow list/mapping).

    >>> parse_scalar("0.1"), parse_scalar("4e-6"), parse_scalar("[1, 2]"), parse_scalar("abc")
    (0.1, 4e-06, [1, 2], 'abc')
    """
    return parse_yaml(text)


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)


# ------------------------------------------------------------------------- schemas


def nearest(name: str, choices) -> str:
    near = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.5)
    return f"; did you mean {near[0]!r}?" if near else ""


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else str(key)


def resolve(data: Any, schema: dict, path: str = "", what: str = "section") -> dict:
    """Validate ``data`` against ``schema``; return it with every default filled.

    Examples
    --------
    >>> from marketsai.params import Param, positive_int
    >>> schema = {"sessions": Param(10, positive_int, "how many"), "learner": {"alpha": Param(0.15)}}
    >>> resolve({"learner": {}}, schema)
    {'sessions': 10, 'learner': {'alpha': 0.15}}
    >>> resolve({"sesions": 5}, schema)
    Traceback (most recent call last):
    ...
    marketsai.errors.SpecError: sesions = 5: unknown key; did you mean 'sessions'? (allowed: sessions, learner)
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError(f"{what} must be a mapping", path=path, value=data,
                        allowed="a mapping with keys " + ", ".join(schema))
    for key in data:
        if key not in schema:
            raise SpecError(f"unknown key{nearest(key, schema)}", path=join(path, key),
                            value=data[key], allowed=", ".join(schema))
    out = {}
    for key, decl in schema.items():
        sub = join(path, key)
        if isinstance(decl, dict):
            out[key] = resolve(data.get(key), decl, sub, key)
        elif key in data:
            out[key] = decl.validate(data[key], sub)
        elif decl.required:
            raise SpecError("missing required key", path=sub,
                            allowed=decl.check.allowed + (f" -- {decl.doc}" if decl.doc else ""))
        else:
            out[key] = copy.deepcopy(decl.default)
    return out


def describe_schema(schema: dict, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(dotted name, default, allowed, doc) rows of a nested schema, for docs."""
    rows = []
    for key, decl in schema.items():
        name = join(prefix, key)
        if isinstance(decl, dict):
            rows.extend(describe_schema(decl, name))
        else:
            default = "required" if decl.required else repr(decl.default)
            rows.append((name, default, decl.check.allowed, decl.doc))
    return rows


anything = Check(lambda x: True, "any value")
text = Check(lambda x: isinstance(x, str), "a string")
mapping = Check(lambda x: isinstance(x, dict), "a mapping")
boolean = Check(lambda x: isinstance(x, bool), "true or false")


# ------------------------------------------------------------------- dotted paths

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


def set_path(data: dict, path: str, value: Any) -> None:
    """Set ``data[path] = value`` creating missing mappings (lists must exist)."""
    parts = split_path(path)
    node = data
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise SpecError("no such list element", path=path, value=value)
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
            raise SpecError("no such list element", path=path, value=value)
    elif not isinstance(node, dict):
        raise SpecError("not a mapping", path=path, value=value)
    node[last] = value


def get_path(data: Any, path: str) -> Any:
    node = data
    for part in split_path(path):
        node = node[part]
    return node
