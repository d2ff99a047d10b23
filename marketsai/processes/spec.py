"""The economy-file syntax of ``processes:`` entries: key tables, validation, legacy migration.

Why: an economy file's ``processes:`` entries are validated here, once, into a
:class:`Process` (its chain and its resolved spec, every default visible), with errors that
name the field path (:class:`~marketsai.errors.SpecError`).  The tables here also generate
the reference in ``docs/processes.md`` (:func:`describe_process_fields`).

Examples
--------
>>> process_from_spec({"kind": "markov", "values": [0, 1], "transition": [[1, 0], [0, 1]],
...                    "initial": [0.5, 0.5]}, "processes.d").chain.fields
('d',)
"""

from __future__ import annotations

import dataclasses

import numpy as np

from marketsai.errors import SpecError
from marketsai.params import Check, Param, at_least_int, describe, one_of, real, validate_mapping
from marketsai.processes.chain import MarkovChain
from marketsai.processes.discretise import krusell_smith_chain, rouwenhorst, tauchen


def _numlist(n=None, each=real, what="numbers"):
    return Check(lambda x: isinstance(x, list) and (len(x) == n if n else len(x) >= 1)
                 and all(each(v) for v in x), f"a list of {n or 'one or more'} {what}")


def _is_row(v) -> bool:
    return real(v) or (isinstance(v, list) and len(v) >= 1 and all(real(w) for w in v))


_names = Check(lambda x: isinstance(x, list) and all(isinstance(v, str) and v.isidentifier() for v in x),
               "a list of identifiers")
_duration = Check(lambda x: real(x) and x >= 1, "a number >= 1 (periods)", True)
_pos = Check(lambda x: real(x) and x > 0, "a finite number > 0", True)

COMMON_FIELDS = {
    "kind": Param(check=one_of("ar1", "markov", "krusell_smith"),
                  doc="ar1: discretised AR(1); markov: explicit chain; krusell_smith: KS (z, e) chain"),
    "scope": Param("aggregate", one_of("aggregate", "agent"),
                   "aggregate: one path for the economy; agent: one path per agent"),
}
AR1_FIELDS = {
    "rho": Param(check=Check(lambda x: real(x) and abs(x) < 1, "a number with |rho| < 1", True),
                 doc="persistence of y' = (1 - rho) mean + rho y + sigma eps"),
    "sigma": Param(check=_pos, doc="standard deviation of the innovation eps"),
    "mean": Param(0.0, real, "unconditional mean of y"),
    "log": Param(False, one_of(True, False), "true: the process value is exp(y)"),
    "method": Param("rouwenhorst", one_of("rouwenhorst", "tauchen"), "discretisation method"),
    "states": Param(7, Check(lambda x: at_least_int(2)(x) and x <= 10_000, "an integer in [2, 10000]"),
                    "number of grid points"),
    "n_std": Param(None, Check(lambda x: x is None or _pos(x), "null or a number > 0", True),
                   "Tauchen grid half-width in stationary std devs (null: 3.0; rouwenhorst: null)"),
}
MARKOV_FIELDS = {
    "values": Param(check=_numlist(each=_is_row, what="numbers, or equal-length lists of numbers"),
                    doc="value of each state: numbers (one field) or one list per state (fields)"),
    "transition": Param(check=Check(lambda x: isinstance(x, list), "a square list of lists"),
                        doc="transition matrix, rows non-negative summing to 1"),
    "initial": Param(None, Check(lambda x: x is None or isinstance(x, list), "null or a list"),
                     "initial distribution (null: the stationary one)"),
    "fields": Param(None, Check(lambda x: x is None or _names(x), "null or a list of identifiers"),
                    "names of the value columns (null: the process name, one column)"),
    "aggregate": Param([], _names, "fields common to all agents (scope: agent)"),
}
KS_FIELDS = {
    "z_values": Param([0.99, 1.01], _numlist(2, _pos, "distinct numbers > 0"),
                      "TFP in the bad and the good state"),
    "unemployment": Param([0.10, 0.04], _numlist(2, Check(lambda x: real(x) and 0 < x < 1, ""),
                                                 "numbers in (0, 1)"),
                          "unemployment rate in bad / good times"),
    "duration_z": Param(8.0, _duration, "mean duration of a bad or good regime (periods)"),
    "duration_unemployment": Param([2.5, 1.5], _numlist(2, _duration, "numbers >= 1"),
                                   "mean unemployment spell in bad / good times (periods)"),
    "ratio_bad_good": Param(0.75, _pos, "p(u'|u, bad->good) / p(u'|u, good->good)"),
    "ratio_good_bad": Param(1.25, _pos, "p(u'|u, good->bad) / p(u'|u, bad->bad)"),
}
PROCESS_KINDS = {"ar1": AR1_FIELDS, "markov": MARKOV_FIELDS, "krusell_smith": KS_FIELDS}
PROCESS_FIELDS = {**COMMON_FIELDS, **AR1_FIELDS, **MARKOV_FIELDS, **KS_FIELDS}


@dataclasses.dataclass(frozen=True)
class Process:
    """One validated ``processes:`` entry: its chain and its resolved spec (every default)."""

    name: str
    scope: str
    chain: MarkovChain
    spec: dict


def _floats(x):
    return [_floats(v) for v in x] if isinstance(x, list) else float(x)


def process_from_spec(data: dict, path: str, name: str | None = None) -> Process:
    """Validate one economy-file entry ``processes.<name>`` and build its chain.

    ``name`` defaults to the last component of ``path`` (``"processes.z"`` -> ``"z"``);
    one-field chains (ar1, one-column markov) name their field after the process.  Raises
    SpecError naming the field path, the value and what is allowed.

    >>> p = process_from_spec({"kind": "ar1", "rho": 0.9, "sigma": 0.1}, "processes.z")
    >>> p.scope, p.chain.n_states, p.spec["method"], p.spec["n_std"]
    ('aggregate', 7, 'rouwenhorst', None)
    """
    name = path.rsplit(".", 1)[-1] if name is None else name
    if not (isinstance(name, str) and name.isidentifier()):
        raise SpecError("process name must be an identifier", path=path, value=name,
                        allowed="letters, digits, _")
    if not isinstance(data, dict):
        validate_mapping(data, COMMON_FIELDS, path, "process")  # raises: not a mapping
    if "kind" not in data:
        raise SpecError("missing required key in process", path=f"{path}.kind",
                        allowed=COMMON_FIELDS["kind"].check.allowed)
    kind = COMMON_FIELDS["kind"].validate(data["kind"], f"{path}.kind")
    s = validate_mapping(data, {**COMMON_FIELDS, **PROCESS_KINDS[kind]}, path, f"process (kind: {kind})")
    if kind == "ar1":
        chain = _ar1_chain(s, path, name)
    elif kind == "markov":
        chain = _markov_chain(s, path, name)
    else:
        s.update({k: _floats(list(s[k])) for k in ("z_values", "unemployment", "duration_unemployment")})
        if s["z_values"][0] == s["z_values"][1]:
            raise SpecError("the two z values must differ", path=f"{path}.z_values", value=s["z_values"],
                            allowed=KS_FIELDS["z_values"].check.allowed)
        try:
            chain = krusell_smith_chain(s["z_values"], s["unemployment"], s["duration_z"],
                                        s["duration_unemployment"], s["ratio_bad_good"], s["ratio_good_bad"])
        except ValueError as err:
            raise SpecError(str(err), path=path, value={k: s[k] for k in KS_FIELDS},
                            allowed="targets giving probabilities in [0, 1]") from None
    idio = [f for f in chain.fields if f not in chain.aggregate]
    if s["scope"] == "aggregate" and chain.aggregate and idio:
        raise SpecError(f"a chain with idiosyncratic fields {idio} is drawn per agent", path=f"{path}.scope",
                        value="aggregate", allowed="'agent'")
    return Process(name=name, scope=s["scope"], chain=chain, spec=s)


def _ar1_chain(s: dict, path: str, name: str) -> MarkovChain:
    if s["method"] == "rouwenhorst" and s["n_std"] is not None:
        raise SpecError("n_std applies to method: tauchen only", path=f"{path}.n_std", value=s["n_std"],
                        allowed="null with method: rouwenhorst")
    args = (s["states"], s["rho"], s["sigma"], s["mean"])
    try:  # e.g. exp() of a huge grid overflows: our error, not numpy's
        if s["method"] == "tauchen":
            s["n_std"] = 3.0 if s["n_std"] is None else s["n_std"]
            return tauchen(*args, n_std=s["n_std"], field=name, log=s["log"])
        return rouwenhorst(*args, field=name, log=s["log"])
    except (ValueError, FloatingPointError) as err:
        raise SpecError(f"the discretised process is not usable: {err}", path=f"{path}.sigma",
                        value=s["sigma"], allowed="sigma and mean giving finite grid values") from None


def _markov_chain(s: dict, path: str, name: str) -> MarkovChain:
    vals = s["values"]
    flat = all(real(v) for v in vals)
    if not flat and (not all(isinstance(v, list) for v in vals) or len({len(v) for v in vals}) != 1):
        raise SpecError("values must be all numbers or all lists of one length", path=f"{path}.values",
                        value=vals, allowed="numbers, or equal-length lists of numbers")
    n, d = len(vals), 1 if flat else len(vals[0])
    fields = s["fields"] if s["fields"] is not None else ([name] if d == 1 else None)
    if fields is None or len(fields) != d or len(set(fields)) != d:
        raise SpecError(f"values have {d} column(s); fields must name each once", path=f"{path}.fields",
                        value=s["fields"], allowed=f"a list of {d} distinct identifiers")
    bad = [f for f in s["aggregate"] if f not in fields]
    if bad or len(set(s["aggregate"])) != len(s["aggregate"]):
        raise SpecError("aggregate must name distinct fields", path=f"{path}.aggregate",
                        value=s["aggregate"], allowed="a subset of " + ", ".join(fields))
    tp = f"{path}.transition"
    try:
        if not all(isinstance(r, list) and all(real(v) for v in r) for r in s["transition"]):
            raise TypeError
        P = np.asarray(s["transition"], dtype=float)
    except (TypeError, ValueError):
        raise SpecError("transition must be a matrix of numbers", path=tp, value=s["transition"],
                        allowed=f"a {n}x{n} list of lists of numbers") from None
    if P.ndim != 2 or P.shape[0] != P.shape[1]:
        raise SpecError("transition must be square", path=tp, value=s["transition"], allowed=f"a {n}x{n} matrix")
    if P.shape[0] != n:
        raise SpecError(f"transition is {P.shape[0]}x{P.shape[0]} but there are {n} values", path=tp,
                        value=s["transition"], allowed=f"a {n}x{n} matrix")
    if not np.all(np.isfinite(P)) or np.any(P < 0):
        raise SpecError("transition entries must be non-negative", path=tp, value=s["transition"],
                        allowed="finite numbers >= 0")
    rows = _checked_rows(P, tp, s["transition"])
    p0 = None
    if s["initial"] is not None:
        ok = len(s["initial"]) == n and all(real(v) and v >= 0 for v in s["initial"])
        if not ok or not np.isclose(sum(s["initial"]), 1.0):
            raise SpecError("initial must be a probability vector", path=f"{path}.initial",
                            value=s["initial"], allowed=f"{n} non-negative numbers summing to 1")
        p0 = np.asarray(s["initial"], dtype=float) / sum(s["initial"])
        s["initial"] = _floats(list(s["initial"]))
    s.update(values=_floats(list(vals)), transition=P.tolist(), fields=list(fields),
             aggregate=list(s["aggregate"]))
    try:
        chain = MarkovChain(np.asarray(s["values"]).reshape(n, d), P / rows[:, None], p0, tuple(fields),
                            tuple(s["aggregate"]))
    except ValueError as err:
        raise SpecError(str(err), path=f"{path}.initial", value=None,
                        allowed="an explicit initial distribution") from None
    if s["scope"] == "agent" and chain.aggregate:
        try:
            chain.marginal(chain.aggregate)
        except ValueError as err:
            raise SpecError(str(err), path=f"{path}.aggregate", value=s["aggregate"],
                            allowed="fields whose own chain is Markov") from None
    return chain


#: a transition row may miss 1 by this much and is normalised, with a warning (papers print
#: matrices rounded to four digits, so a row of 0.2500 0.2500 0.2501 0.2500 sums to 1.0001)
ROW_TOLERANCE = 1e-3
_ROUNDING = 1e-9  # floating-point noise of a sum of decimals: normalised silently


def _checked_rows(P: np.ndarray, path: str, written) -> np.ndarray:
    """Row sums of ``P``: a row within :data:`ROW_TOLERANCE` of 1 is normalised (warning
    naming it), a row further off is an error naming it."""
    import warnings

    from marketsai.errors import SpecWarning
    rows = P.sum(axis=1)
    off = np.abs(rows - 1.0)
    if np.any(off > ROW_TOLERANCE):
        k = int(np.argmax(off))
        raise SpecError(f"row {k} of transition sums to {rows[k]:.6g}", path=f"{path}[{k}]", value=written[k],
                        allowed=f"non-negative numbers summing to 1 (within {ROW_TOLERANCE:g}; such rows "
                                "are normalised)")
    for k in np.flatnonzero(off > _ROUNDING):
        warnings.warn(SpecWarning(f"row {k} sums to {rows[k]:.6g}, not 1; normalised (divided by its sum)",
                                  path=f"{path}[{k}]"), stacklevel=1)  # one place: shown once per row
    return rows


def process_from_legacy_shocks(shocks: dict) -> dict:
    """The ``processes`` entry equivalent to an old scalar ``shocks:`` block.

    The old default initial distribution was uniform (the new one is stationary), so it is
    written out explicitly; the result validates with :func:`process_from_spec` under
    ``processes.shock``.

    >>> process_from_legacy_shocks({"values": [0.0, 1.0], "transition": [[0.9, 0.1], [0.1, 0.9]]})
    {'shock': {'kind': 'markov', 'values': [0.0, 1.0], 'transition': [[0.9, 0.1], [0.1, 0.9]], 'initial': [0.5, 0.5]}}
    """
    if not isinstance(shocks, dict):
        raise SpecError("shocks must be a mapping", path="shocks", value=shocks,
                        allowed="a mapping of values, transition, initial")
    for key in shocks:
        if key not in ("values", "transition", "initial"):
            raise SpecError("unknown key in shocks", path=f"shocks.{key}", value=shocks[key],
                            allowed="values, transition, initial")
    values = shocks.get("values")
    if not isinstance(values, list) or not values:
        raise SpecError("invalid value", path="shocks.values", value=values,
                        allowed="a non-empty list of numbers")
    initial = shocks.get("initial")
    initial = [1.0 / len(values)] * len(values) if initial is None else list(initial)
    return {"shock": {"kind": "markov", "values": list(values), "transition": shocks.get("transition"),
                      "initial": initial}}


def describe_process_fields() -> dict[str, list[tuple[str, str, str, str]]]:
    """(name, default, allowed, doc) rows of every process key, by section, for the docs."""
    return {"processes.<name>": describe(COMMON_FIELDS),
            **{f"processes.<name> (kind: {k})": describe(v) for k, v in PROCESS_KINDS.items()}}
