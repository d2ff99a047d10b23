r"""Reading and writing YAML for economy, experiment and run files.

Why one loader: PyYAML implements YAML 1.1, which reads ``4e-6`` (no dot) as a string;
people mean a number. Every file marketsai reads goes through :func:`read_yaml`, and
syntax errors become :class:`~marketsai.errors.SpecError` naming the line.

Why bounded: YAML anchors and aliases (``&a [*b, *b]``) share one node many times, so
a 1 kB file can stand for 10**9 values ("billion laughs"). PyYAML builds such a file
cheaply, but everything after it (validation, copying, hashing, the error message)
walks the expanded tree. The loader therefore counts the nodes *after* expanding
aliases (:data:`~marketsai.limits.MAX_YAML_NODES`), bounds the nesting depth and the
file size, refuses self-referencing aliases, and turns non-UTF-8 or binary input into
the same clear error -- for every kind of file.

>>> parse_yaml("a: &x [1, 2]\nb: *x")
{'a': [1, 2], 'b': [1, 2]}
>>> bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
...     f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh"))
>>> parse_yaml(bomb)
Traceback (most recent call last):
...
marketsai.errors.SpecError: <root>: the file expands to more than 250,000 values (YAML aliases) (allowed: at most 250,000 values after expanding aliases (&anchor / *alias))
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from marketsai import limits
from marketsai.errors import SpecError


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader that reads ``1e5`` / ``4e-6`` as floats (PyYAML's YAML 1.1 needs a dot).

    On libyaml's C parser where PyYAML has it (wheels do): about 13x faster than the
    pure-Python parser on the shipped files, which it reads to the same values. It is a
    little more lenient (a tab after ``key:`` is accepted); errors stay :class:`SpecError`.
    """


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                   |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                   |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                   |[-+]?\.(?:inf|Inf|INF)
                   |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."))


def _expanded_size(root: yaml.Node, file: str | None) -> int:
    """Nodes of the tree with every alias expanded (shared nodes counted each time).

    Iterative post-order with a memo per node, so the count costs one visit per distinct
    node however large the expansion; a node reached again while open is a cycle.
    """
    size: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            open_nodes.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            if size[key] > limits.MAX_YAML_NODES:
                raise SpecError(f"the file expands to more than {limits.MAX_YAML_NODES:,} values "
                                "(YAML aliases)", file=file,
                                allowed=f"at most {limits.MAX_YAML_NODES:,} values after "
                                        "expanding aliases (&anchor / *alias)")
            continue
        if key in size:
            continue
        if key in open_nodes:
            raise SpecError(f"an alias refers to a node that contains it{_at(node)}", file=file,
                            allowed="aliases (*name) to anchors (&name) outside themselves")
        if depth > limits.MAX_YAML_DEPTH:
            raise SpecError(f"nested too deeply{_at(node)}", file=file,
                            allowed=f"at most {limits.MAX_YAML_DEPTH} levels of nesting")
        open_nodes.add(key)
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in size)
    return size[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _at(node: yaml.Node) -> str:
    mark = node.start_mark
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def parse_yaml(text: str, file: str | None = None) -> Any:
    """Parse YAML text; syntax errors become :class:`SpecError` naming the line.

    Bounded (see the module docstring): at most :data:`~marketsai.limits.MAX_FILE_BYTES`
    characters, :data:`~marketsai.limits.MAX_YAML_NODES` values after expanding aliases
    and :data:`~marketsai.limits.MAX_YAML_DEPTH` levels.
    """
    if not isinstance(text, str):
        raise SpecError("YAML input must be text", value=type(text).__name__, file=file)
    if len(text) > limits.MAX_FILE_BYTES:
        raise SpecError(f"too large ({limits.format_bytes(len(text))})", file=file,
                        allowed=f"at most {limits.format_bytes(limits.MAX_FILE_BYTES)}")
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, file)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else (
            f"character {exc.position}" if isinstance(exc, yaml.reader.ReaderError)
            else "unknown position")
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "maximum nesting depth" in problem:  # libyaml stops at 1,000 levels, before our check
            raise _too_deep(file) from None
        raise SpecError(f"invalid YAML at {where}: {problem}", file=file) from None
    except RecursionError:
        raise _too_deep(file) from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        if isinstance(exc, SpecError):
            raise
        raise SpecError(f"invalid value in YAML: {str(exc)[:120]}", file=file) from None
    finally:
        if loader is not None:
            loader.dispose()


def _too_deep(file: str | None) -> SpecError:
    return SpecError("nested too deeply", file=file,
                     allowed=f"at most {limits.MAX_YAML_DEPTH} levels of nesting")


def is_file(path: str | Path) -> bool:
    """``Path.is_file`` that answers False, not OSError, for names the OS refuses (too long, ...).

    >>> is_file("a" * 5000), is_file("pyproject.toml")
    (False, True)
    """
    try:
        return Path(path).is_file()
    except (OSError, ValueError):  # ENAMETOOLONG, embedded NUL
        return False


def read_yaml(path: str | Path) -> Any:
    """Read a YAML file (see :func:`parse_yaml`); binary or non-UTF-8 files are refused."""
    path = Path(path)
    if not is_file(path):
        raise SpecError("file not found", value=str(path), allowed="an existing YAML file")
    size = path.stat().st_size
    if size > limits.MAX_FILE_BYTES:
        raise SpecError(f"file too large ({limits.format_bytes(size)})", file=str(path),
                        allowed=f"a YAML file of at most {limits.format_bytes(limits.MAX_FILE_BYTES)}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not a text file: byte {exc.start} is not UTF-8", file=str(path),
                        allowed="a UTF-8 YAML file") from None
    if "\x00" in text:
        raise SpecError(f"not a text file: NUL byte at offset {text.index(chr(0))}",
                        file=str(path), allowed="a UTF-8 YAML file") from None
    return parse_yaml(text, file=str(path))


def parse_scalar(text: str) -> Any:
    """A ``--set`` value: parsed as a YAML scalar (or flow list/mapping).

    >>> parse_scalar("0.1"), parse_scalar("4e-6"), parse_scalar("[1, 2]"), parse_scalar("abc")
    (0.1, 4e-06, [1, 2], 'abc')
    """
    return parse_yaml(text)


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)


