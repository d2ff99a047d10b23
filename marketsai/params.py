"""Declared parameters: one place for defaults, checks and docs of every field.

Why: markets and agents declare their parameters once (name, default, check, doc);
validation of files, the resolved view of ``marketsai validate`` and the economy-file
reference in the docs are all derived from these declarations.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from marketsai.errors import SpecError

REQUIRED = object()


@dataclasses.dataclass(frozen=True)
class Check:
    """A named predicate on a value; ``allowed`` is what the error message shows.

    ``reason`` is the error's message (say what is wrong: "learning rate out of range");
    ``convert`` is what a valid value becomes in the resolved config (``1e6`` -> an int
    for a count). :func:`all_of` chains checks, reporting the first that fails.

    >>> rate = Check(lambda x: 0 < x <= 1, "0 < alpha <= 1", reason="learning rate out of range")
    >>> Param(0.1, rate).validate(1.5, "learner.alpha")
    Traceback (most recent call last):
    ...
    marketsai.errors.SpecError: learner.alpha = 1.5: learning rate out of range (allowed: 0 < alpha <= 1)
    """

    predicate: Callable[[Any], bool]
    allowed: str
    as_float: bool = False  # a real-valued check: ints in a file become floats
    reason: str = "invalid value"
    convert: Callable[[Any], Any] | None = None

    def __call__(self, value) -> bool:
        try:
            return bool(self.predicate(value))
        except (TypeError, ValueError):
            return False

    def failure(self, value) -> Check | None:
        """The check that ``value`` fails (this one, or a part of :func:`all_of`), or None."""
        return None if self(value) else self

    def coerce(self, value):
        """``value`` (valid) as the resolved config holds it."""
        if self.convert is not None:
            return self.convert(value)
        return float(value) if self.as_float and value is not None else value

    def validate(self, value, path: str, file: str | None = None):
        """``value`` coerced, or a :class:`SpecError` naming ``path`` and the failed check."""
        bad = self.failure(value)
        if bad is not None:
            raise SpecError(bad.reason, path=path, value=value, allowed=bad.allowed, file=file)
        return self.coerce(value)


@dataclasses.dataclass(frozen=True)
class _AllOf(Check):
    parts: tuple = ()

    def failure(self, value):
        for part in self.parts:
            bad = part.failure(value)
            if bad is not None:
                return bad
        return None

    def __call__(self, value) -> bool:
        return self.failure(value) is None


def all_of(*checks: Check, allowed: str | None = None, convert=None) -> Check:
    """Every check in turn; an error reports the first that fails (its reason, its allowed).

    >>> count = all_of(Check(lambda x: isinstance(x, int), "an integer", reason="not an integer"),
    ...                Check(lambda x: x <= 10, "an integer <= 10", reason="too many"))
    >>> count.failure(11).reason, count(5), count.allowed
    ('too many', True, 'an integer <= 10')
    """
    return _AllOf(lambda x: True, allowed or checks[-1].allowed, checks[-1].as_float,
                  checks[-1].reason, convert, parts=tuple(checks))


def check_present(data: dict, declared: dict, path: str, file: str | None = None) -> None:
    """Check the keys of ``data`` that ``declared`` (``name -> Param``) declares: an open
    mapping, whose other keys are someone else's to check (RLlib's own config attributes)."""
    for key, value in (data or {}).items():
        if key in declared:
            declared[key].validate(value, f"{path}.{key}" if path else key, file)


def _is_real(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


real = Check(_is_real, "a finite number", True)
positive = Check(lambda x: _is_real(x) and x > 0, "a finite number > 0", True)
nonnegative = Check(lambda x: _is_real(x) and x >= 0, "a finite number >= 0", True)
unit_open = Check(lambda x: _is_real(x) and 0 < x < 1, "a number in (0, 1)", True)
unit_closed = Check(lambda x: _is_real(x) and 0 <= x <= 1, "a number in [0, 1]", True)
positive_int = Check(lambda x: isinstance(x, int) and not isinstance(x, bool) and x >= 1,
                     "an integer >= 1")
nonnegative_int = Check(lambda x: isinstance(x, int) and not isinstance(x, bool) and x >= 0,
                        "an integer >= 0")


anything = Check(lambda x: True, "any value")


def schedule_of(rule: Check, unit: str = "period") -> Check:
    """A number ``rule`` allows, or RLlib's piecewise-linear schedule of such numbers,
    ``[[period, value], ...]``: at least two points, the first at period 0, periods rising
    (``unit`` names the schedule's clock in the message: RLlib's own path counts timesteps).

    Why: RLlib's learners take a learning rate or an entropy weight as either (its
    ``Scheduler``, stepped with the periods trained); checking the form here turns a bad
    schedule into the field, its value and what is allowed, before any training starts."""
    def ok(x) -> bool:
        if not isinstance(x, list):
            return rule(x)
        points = [p for p in x if isinstance(p, list) and len(p) == 2 and isinstance(p[0], int)
                  and not isinstance(p[0], bool) and rule(p[1])]
        return (2 <= len(x) == len(points) and points[0][0] == 0
                and all(a[0] < b[0] for a, b in zip(points, points[1:], strict=False)))
    def convert(x):
        return [[int(t), rule.coerce(v)] for t, v in x] if isinstance(x, list) else rule.coerce(x)
    return Check(ok, f"{rule.allowed}, or a schedule [[{unit}, value], ...] of such values (the first at {unit} "
                 f"0, {unit}s rising; linear between points, the last value after)", reason=rule.reason,
                 convert=convert)



def or_null(check: Check) -> Check:
    """``check``, or null (a setting left to its owner's default or unset).

    >>> or_null(positive_int).allowed, or_null(positive_int)(None), or_null(positive_int)(0)
    ('null or an integer >= 1', True, False)
    """
    return Check(lambda x: x is None or check(x), f"null or {check.allowed}", check.as_float, check.reason)


def one_of(*choices) -> Check:
    return Check(lambda x: x in choices, "one of " + ", ".join(repr(c) for c in choices))


def at_least_int(lo: int) -> Check:
    return Check(lambda x: isinstance(x, int) and not isinstance(x, bool) and x >= lo,
                 f"an integer >= {lo}")


def int_range(lo: int, hi: int, why: str = "") -> Check:
    """An integer in ``[lo, hi]``: for numbers that size an allocation (see
    :mod:`marketsai.limits`), so that a huge value is refused before it is used.

    >>> check = int_range(1, 1000)
    >>> check(5), check(10**12), check(True), check(2.0)
    (True, False, False, False)
    >>> check.allowed
    'an integer in [1, 1000]'
    """
    span = f"[{lo}, {hi:,}]" if hi >= 10_000 else f"[{lo}, {hi}]"
    return Check(lambda x: isinstance(x, int) and not isinstance(x, bool) and lo <= x <= hi,
                 f"an integer in {span}" + (f" ({why})" if why else ""))


def bounded_list(check: Check, hi: int) -> Check:
    """``check`` and at most ``hi`` elements (tested first: a huge list is never walked).

    >>> lst = bounded_list(Check(lambda x: isinstance(x, list), "a list"), 3)
    >>> lst([1, 2]), lst([1, 2, 3, 4]), lst.allowed
    (True, False, 'a list (at most 3 elements)')
    """
    return Check(lambda x: (not isinstance(x, (list, tuple)) or len(x) <= hi) and check.predicate(x),
                 f"{check.allowed} (at most {hi:,} elements)", check.as_float)


class _Unset:
    def __repr__(self):
        return "unset (its library's default)"


#: the default of a setting another library owns (an RLlib config attribute): a file that
#: leaves it out gets that library's default, and the resolved config does not show it
UNSET = _Unset()


@dataclasses.dataclass(frozen=True)
class Param:
    """One declared parameter.

    Parameters
    ----------
    default
        The value when the file gives none; leave it out for a required parameter.
    check
        The :class:`Check` a given value must pass (its ``allowed`` is what errors show).
    doc
        One line that ``marketsai validate`` and the docs print beside the parameter.
    per_participant
        For a market's parameters: a characteristic each participating agent brings (a
        firm's cost), read from that agent's ``params``.
    """

    default: Any = REQUIRED
    check: Check = real
    doc: str = ""
    per_participant: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def validate(self, value, path: str, file: str | None = None):
        return self.check.validate(value, path, file)


def _at(cfg, path: str):
    for key in path.split("."):
        if not isinstance(cfg, dict) or key not in cfg:
            return None
        cfg = cfg[key]
    return cfg


@dataclasses.dataclass(frozen=True)
class Rule:
    """A constraint between fields of a resolved config, declared beside its schema.

    Why: a ``Param`` checks one value; "tail <= periods" or "stacked needs sessions" relate
    several, and as rules they are data (listed, tested, documented) rather than a long
    function of raises. ``holds(cfg)`` is the constraint; when it fails the error names
    ``path`` (dotted), the value there, ``reason`` and what is ``allowed`` (each a string,
    or a function of ``cfg``). ``when(cfg)`` limits the rule to the configs it concerns.

    >>> tail = Rule("tail", lambda c: c["tail"] <= c["periods"], "tail must not exceed periods",
    ...             lambda c: f"<= {c['periods']}")
    >>> check_rules({"tail": 60, "periods": 50}, [tail])
    Traceback (most recent call last):
    ...
    marketsai.errors.SpecError: tail = 60: tail must not exceed periods (allowed: <= 50)
    """

    path: str | Callable[[dict], str]
    holds: Callable[[dict], bool]
    reason: str | Callable[[dict], str]
    allowed: str | Callable[[dict], str]
    when: Callable[[dict], bool] | None = None

    def check(self, cfg: dict, file: str | None = None) -> None:
        if (self.when is None or self.when(cfg)) and not self.holds(cfg):
            path, reason, allowed = (x(cfg) if callable(x) else x for x in (self.path, self.reason, self.allowed))
            raise SpecError(reason, path=path, value=_at(cfg, path), allowed=allowed, file=file)


def check_rules(cfg: dict, rules, file: str | None = None) -> None:
    """Every rule in turn; the first that fails raises its :class:`SpecError`."""
    for rule in rules:
        rule.check(cfg, file)


def validate_mapping(data, declared: dict[str, Param], path: str, what: str) -> dict:
    """Validate ``data`` against declared parameters; fill defaults; reject unknown keys."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError(f"{what} must be a mapping", path=path, value=data,
                        allowed="a mapping of " + (", ".join(declared) or "no keys"))
    unknown = [k for k in data if k not in declared]
    if unknown:
        hint = did_you_mean(unknown[0], declared, cutoff=0.6)
        raise SpecError(f"unknown key in {what}{hint}", path=f"{path}.{unknown[0]}" if path else str(unknown[0]),
                        value=data[unknown[0]], allowed=", ".join(declared) or "no keys")
    out = {}
    for name, p in declared.items():
        sub = f"{path}.{name}" if path else name
        if name in data:
            out[name] = p.validate(data[name], sub)
        elif p.default is UNSET:
            continue
        elif p.required:
            raise SpecError(f"missing required key in {what}", path=sub,
                            allowed=p.check.allowed + (f" -- {p.doc}" if p.doc else ""))
        else:
            out[name] = p.default
    return out


def nearest(name, choices, *, cutoff: float = 0.5, n: int = 1, ignore_case: bool = False) -> list[str]:
    """The ``n`` choices closest to ``name`` (difflib ratio >= ``cutoff``), best first: the
    one "did you mean" of every registry, schema and setting check.

    >>> nearest("sesions", ["sessions", "seed"]), nearest("ppo2", ["PPO", "DQN"], ignore_case=True)
    (['sessions'], ['PPO'])
    """
    import difflib
    choices = [str(c) for c in choices]
    if not ignore_case:
        return difflib.get_close_matches(str(name), choices, n=n, cutoff=cutoff)
    lower = {c.lower(): c for c in choices}
    return [lower[c] for c in difflib.get_close_matches(str(name).lower(), list(lower), n=n, cutoff=cutoff)]


def did_you_mean(name, choices, **kwargs) -> str:
    """``"; did you mean 'x'?"`` (or ``'x' or 'y'`` with ``n=2``), or ``""`` when nothing is close.

    >>> did_you_mean("alpah", ["alpha", "beta"])
    "; did you mean 'alpha'?"
    """
    near = nearest(name, choices, **kwargs)
    return f"; did you mean {' or '.join(repr(c) for c in near)}?" if near else ""


def describe(declared: dict[str, Param]) -> list[tuple[str, str, str, str]]:
    """(name, default, allowed, doc) rows for documentation."""
    rows = []
    for name, p in declared.items():
        default = "required" if p.required else repr(p.default)
        rows.append((name, default, p.check.allowed, p.doc))
    return rows
