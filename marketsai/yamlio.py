"""Reading and writing YAML for economy, experiment and run files.

Why one loader: PyYAML implements YAML 1.1, which reads ``4e-6`` (no dot) as a string;
people mean a number. Every file marketsai reads goes through :func:`read_yaml`, and
syntax errors become :class:`~marketsai.errors.SpecError` naming the line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from marketsai.errors import SpecError


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


