"""Nested schemas for experiment files, built on :mod:`marketsai.params`.

A schema is a mapping ``name -> Param | dict``: a :class:`~marketsai.params.Param`
declares a leaf (default, check, doc), a nested dict a section. :func:`resolve` checks a
file's mapping against it, rejects unknown keys (naming the nearest declared one) and
fills every default, so the resolved configuration shows everything.

Also here (re-exported from :mod:`marketsai.dotted`): dotted-path access
(``learner.alpha``, ``markets[0].params.mu``) used by ``--set`` overrides and sweeps.
"""

from __future__ import annotations

import copy
from typing import Any

from marketsai.dotted import get_path, set_path, split_path  # noqa: F401 (re-exported)
from marketsai.errors import SpecError
from marketsai.params import UNSET, Check, anything, did_you_mean  # noqa: F401 (anything re-exported)
from marketsai.yamlio import dump_yaml, parse_scalar, parse_yaml, read_yaml  # noqa: F401 (re-exported)

# ------------------------------------------------------------------------- schemas


def nearest(name: str, choices) -> str:
    """``"; did you mean 'x'?"`` for an unknown key (:func:`marketsai.params.did_you_mean`)."""
    return did_you_mean(name, choices, cutoff=0.5)


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
        elif decl.default is UNSET:  # another library's default: left out
            continue
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


text = Check(lambda x: isinstance(x, str), "a string")
mapping = Check(lambda x: isinstance(x, dict), "a mapping")
boolean = Check(lambda x: isinstance(x, bool), "true or false")


# ----------------------------------------------------------------- overrides


def parse_sets(values) -> dict:
    """``("a.b=1", "c=x")`` -> ``{"a.b": 1, "c": "x"}``: the click face of
    :func:`parse_overrides` for every command's ``--set`` (an item without ``=`` is a usage
    error, reported by click)."""
    import click
    for item in values:
        key, sep, _ = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not key=value", param_hint="--set")
    return parse_overrides(values)


def parse_overrides(items) -> dict:
    """``--set`` items -> ``{dotted key: value}``; values parsed as YAML scalars.

    The one parser of ``key=value`` overrides, for every experiment kind (the runner
    applies the result with :func:`set_path`; ``economy.*`` keys after the economy file
    is read).

    >>> parse_overrides(["stop.training_iteration=10", "economy.markets[0].params.mu=0.3"])
    {'stop.training_iteration': 10, 'economy.markets[0].params.mu': 0.3}
    >>> parse_overrides(["lr"])
    Traceback (most recent call last):
    ...
    marketsai.errors.SpecError: --set = 'lr': an override must look like key=value (allowed: e.g. learner.alpha=0.1 or economy.markets[0].params.mu=0.3)
    """
    out = {}
    for item in items:
        key, sep, raw = str(item).partition("=")
        if not sep or not key.strip():
            raise SpecError("an override must look like key=value", path="--set", value=item,
                            allowed="e.g. learner.alpha=0.1 or economy.markets[0].params.mu=0.3")
        split_path(key.strip())  # a malformed key is refused here, naming it
        try:
            out[key.strip()] = parse_scalar(raw)
        except SpecError as err:
            raise SpecError(f"--set value is not valid YAML ({err.reason})", path=key.strip(),
                            value=raw) from None
    return out


def apply_overrides(data: dict, overrides: dict) -> dict:
    """A copy of ``data`` with ``{dotted key: value}`` set (see :func:`set_path`).

    >>> apply_overrides({"algorithm": {"name": "PPO"}}, {"algorithm.settings.lr": 1e-3})
    {'algorithm': {'name': 'PPO', 'settings': {'lr': 0.001}}}
    """
    data = copy.deepcopy(data)
    for key, value in overrides.items():
        set_path(data, key, value)
    return data
