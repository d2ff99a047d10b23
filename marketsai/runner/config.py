"""Experiment files -> a fully resolved :class:`Experiment` (validation, overrides, sweeps).

Top-level keys common to every kind (each kind adds its own, see
:mod:`marketsai.runner.kinds`)::

    kind: tabular            # which experiment kind runs it
    name: my-run             # default: the file name without .yaml
    description: ""
    seed: 0                  # root seed; per-session streams derive from (seed, session)
    economy: ../../economies/bertrand_duopoly.yaml   # path (relative to this file), shipped name or mapping
    economy_overrides: {}    # dotted economy key -> value, set in the economy before it is validated
    sweep: {}                # key -> values: a grid of cells, each a full run of the kind
                             # (or axis -> {cases: {label: {key: value, ...}}}: keys set together)
    reference: {}            # published numbers, printed beside the measured summary

``--set key=value`` overrides (dotted keys, ``economy.markets[0].params.mu`` included)
are applied before validation, ``--set economy.<key>`` after the file's
``economy_overrides``. The resolved configuration holds the economy inline, fully
resolved, with every override applied (and no ``economy_overrides``: they are spent), so
a run folder's ``config.yaml`` is itself a valid experiment file, and an economy changed
in the file or inline is the same configuration.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from marketsai import limits
from marketsai.dotted import economy_key, find_parts, missing_paths, without_parts
from marketsai.errors import SpecError, SpecWarning
from marketsai.params import Check, Param, nonnegative_int
from marketsai.runner.kinds import ExperimentKind, Unit, experiment_kinds, get_kind
from marketsai.runner.references import published_range
from marketsai.runner.schema import (
    get_path,
    mapping,
    read_yaml,
    resolve,
    set_path,
    split_path,
    text,
)
from marketsai.shipped import economy_file

#: the experiment file's changes to its economy; spent when the file is resolved
ECONOMY_OVERRIDES = "economy_overrides"
COMMON_KEYS = ("kind", "name", "description", "seed", "economy", ECONOMY_OVERRIDES)
TRAILING_KEYS = ("sweep", "reference")
#: keys that never change what a unit computes
LABEL_KEYS = ("name", "description", "reference", "sweep")

_economy_check = Check(lambda x: isinstance(x, (str, dict)),
                       "a path to an economy file (relative to the experiment file), the name of a "
                       "shipped economy (marketsai list) or a mapping")


_overrides_check = Check(
    lambda x: x is None or (isinstance(x, dict) and all(isinstance(k, str) for k in x)),
    "a mapping of the economy's dotted keys, as --set economy.<key> takes them (the economy. "
    "prefix optional), to values: {agents[0].params.alpha: 0.3}", convert=lambda x: x or {})


def _is_folder_name(x) -> bool:
    """One plain folder name: no separator, not ``.`` or ``..``, no control characters."""
    return (isinstance(x, str) and 0 < len(x.encode("utf-8", "surrogatepass")) <= 255
            and x not in (".", "..") and not any(c in x for c in "/\\")
            and all(c.isprintable() for c in x))


#: the run name becomes the folder ``runs/<name>``: it must stay inside ``runs/``
run_name = Check(_is_folder_name, "a folder name: 1 to 255 bytes of printable characters without "
                                  "'/' or '\\', not '.' or '..'")


def common_schema(default_name: str) -> dict:
    return {
        "kind": Param(check=text, doc="experiment kind (tabular, interventions, ...)"),
        "name": Param(default_name, run_name, "run name; the default run folder is runs/<name>"),
        "description": Param("", text, "free text"),
        "seed": Param(0, nonnegative_int, "root seed; results depend on it and nothing else random"),
        "economy": Param(check=_economy_check, doc="economy file path, shipped economy name (bertrand_duopoly) or inline mapping"),
    }


#: an experiment file's own section, not a resolved config's: spent on the economy when the
#: file is resolved (so a ``kind: rllib`` spec, which leaves its economy unread, has no such key)
OVERRIDES_SCHEMA = {
    ECONOMY_OVERRIDES: Param({}, _overrides_check,
                             "fields of the economy changed before it is validated (--set "
                             "economy.<key> applies after them); the resolved config holds the "
                             "economy with them applied, not this key"),
}


TRAILING_SCHEMA = {
    "sweep": Param({}, mapping, "grid of cells: key -> list | {values: [...]} | "
                                "{linspace: [a, b, n]} | {logspace: [a, b, n]} (endpoints are values); "
                                "or axis -> {cases: {label: {key: value, ...}}} (keys set together)"),
    "reference": Param({}, mapping, "published values keyed like summary.json, shown beside ours"),
}


@dataclass
class Experiment:
    """A validated experiment: its resolved config, kind, sweep cells and source file."""

    config: dict
    kind: ExperimentKind
    cells: list[dict]  # one {key: value} per sweep cell (a cases axis: {axis: label}); [{}] without a sweep
    file: str | None = None
    #: cases axes: axis -> label -> {key: resolved value} (what a cell's label sets)
    cases: dict = field(default_factory=dict)
    #: places (tuples of keys) left out of unit fingerprints: the settings a resumed run
    #: folder was written without, at their defaults (:func:`defaults_added`)
    unstamped: tuple = ()

    @property
    def name(self) -> str:
        return self.config["name"]

    @property
    def sweep_keys(self) -> list[str]:
        return list(self.config["sweep"])

    def cell_config(self, cell: int) -> dict:
        """The resolved config of one cell: the base with the cell's values set."""
        cfg = copy.deepcopy(self.config)
        cfg["sweep"] = {}
        for key, value in self.cells[cell].items():
            # a cases axis sets its label's keys; any other axis sets itself (its value may be
            # a whole mapping, e.g. a sweep over learners, so it is never used as a dict key)
            sets = self.cases[key][value] if key in self.cases else {key: value}
            for k, v in sets.items():
                set_path(cfg, k, v)
        return cfg

    def units(self) -> list[tuple[int, Unit, str]]:
        """All work units as ``(cell, unit, chunk id)``; ids are stable across runs."""
        out = []
        width = len(str(len(self.cells) - 1))
        for c in range(len(self.cells)):
            cfg = self.cell_config(c)
            for u in self.kind.units(cfg):
                cid = u.id if not self.config["sweep"] else f"c{c:0{width}d}.{u.id}"
                out.append((c, u, cid))
            if len(out) > limits.MAX_UNITS:
                raise SpecError(f"more than {limits.MAX_UNITS:,} work units in all cells",
                                path="chunk_size", value=self.config.get("chunk_size"),
                                allowed="larger chunks, fewer sessions or fewer sweep cells")
        return out

    def unit_hash(self, cell: int, unit: Unit) -> str:
        """Fingerprint of what a unit computes (config minus labels, size keys and the
        :attr:`unstamped` settings, so that a chunk finished before a setting existed
        still counts as done)."""
        cfg = self.cell_config(cell)
        for key in LABEL_KEYS + tuple(self.kind.size_keys):
            cfg.pop(key, None)
        if self.unstamped:
            cfg = without_parts(cfg, self.unstamped)
        return fingerprint({"config": cfg, "unit": unit.id, "params": unit.params})


def fingerprint(data: Any) -> str:
    blob = json.dumps(data, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def defaults_added(stored: Any, exp: Experiment) -> tuple[tuple, ...]:
    """The settings a run folder's configuration ``stored`` was written without (made
    before they existed) whose value in ``exp`` is their resolved default: what today's
    code fills in when it resolves ``stored`` itself. Places as tuples of keys and indices.

    A folder that differs from ``exp`` by these alone computes what ``exp`` computes: it
    is resumed as it is (:meth:`~marketsai.runner.store.RunFolder.claim`), and its units'
    fingerprints leave them out (:attr:`Experiment.unstamped`).
    """
    if not isinstance(stored, dict) or stored == exp.config:
        return ()
    absent = missing_paths(exp.config, stored)
    if not absent:
        return ()
    try:
        with warnings.catch_warnings():  # the same warnings came with exp itself
            warnings.simplefilter("ignore")
            filled = load_experiment(copy.deepcopy(stored)).config
    except SpecError:  # e.g. a setting that no longer exists: a different configuration
        return ()
    missing = object()

    def same(a, b) -> bool:  # strict: False is not 0, 1 is not 1.0
        return json.dumps(a, sort_keys=True, default=repr) == json.dumps(b, sort_keys=True, default=repr)
    return tuple(p for p in absent if find_parts(filled, p, missing) is not missing
                 and same(find_parts(filled, p), find_parts(exp.config, p)))


def load_experiment(source: str | Path | dict, overrides: dict | None = None) -> Experiment:
    """Read, override and validate an experiment (file path or mapping).

    Errors are :class:`SpecError` naming the file and field path.
    """
    file = None
    if isinstance(source, dict):
        raw, base_dir, default_name = copy.deepcopy(source), Path.cwd(), "experiment"
    else:
        file = str(source)
        raw = read_yaml(source)
        base_dir, default_name = Path(source).resolve().parent, Path(source).stem
    try:
        return _resolve(raw, base_dir, default_name, overrides or {}, file)
    except SpecError as err:
        raise (err if err.file or file is None else err.with_file(file)) from None


def _resolve(raw: Any, base_dir: Path, default_name: str, overrides: dict,
             file: str | None) -> Experiment:
    if not isinstance(raw, dict):
        raise SpecError("an experiment file must be a mapping", value=type(raw).__name__,
                        allowed="a mapping with keys kind, economy, ...")
    if "kind" not in raw and not any(k == "kind" for k in overrides):
        hint = " (this looks like an economy file; run it with an experiment file)" \
            if "markets" in raw else ""
        raise SpecError("missing required key" + hint, path="kind",
                        allowed="an experiment kind, e.g. tabular")
    if any(split_path(k)[0] == ECONOMY_OVERRIDES for k in overrides):
        key = next(k for k in overrides if split_path(k)[0] == ECONOMY_OVERRIDES)
        raise SpecError("the file's economy overrides are not set from outside", path=key,
                        value=overrides[key], allowed="economy.<key>=value (applied after them)")
    econ_overrides = {k: v for k, v in overrides.items() if split_path(k)[0] == "economy"
                      and len(split_path(k)) > 1}
    for key, value in overrides.items():
        if key not in econ_overrides:
            set_path(raw, key, value)
    kind = get_kind(raw.get("kind"))
    cfg = _validate(raw, kind, base_dir, default_name, econ_overrides)
    published_range(cfg["reference"], list(cfg["sweep"]))  # a bad range fails now, not after the run
    changed = sorted(k for k in overrides if split_path(k)[0] == "economy")
    if changed and cfg.get("reference"):
        # the published values are the file's economy's: beside another economy they mislead
        warnings.warn(SpecWarning(f"the published values are for the file's own economy, which "
                                  f"{', '.join(changed)} changed: they are not shown beside this run",
                                  path="reference"), stacklevel=2)
        cfg["reference"] = {}
    cells, cases = _sweep_cells(cfg, kind, base_dir, default_name, bool(raw.get(ECONOMY_OVERRIDES)))
    return Experiment(cfg, kind, cells, file, cases)


def _validate(raw: dict, kind: ExperimentKind, base_dir: Path, default_name: str,
              econ_overrides: dict | None = None, memo: dict | None = None) -> dict:
    schema = common_schema(default_name) | OVERRIDES_SCHEMA | kind.schema | TRAILING_SCHEMA
    clash = set(kind.schema) & (set(COMMON_KEYS) | set(TRAILING_KEYS))
    if clash:
        raise TypeError(f"experiment kind {type(kind).__name__} redeclares common keys {clash}")
    cfg = resolve(raw, schema)
    check_sizes(cfg)
    written = written_overrides(cfg.pop(ECONOMY_OVERRIDES))
    later = econ_overrides or {}
    try:  # the file's overrides first, then those from outside (command line, sweep)
        cfg["economy"] = resolve_economy(
            cfg["economy"], base_dir, {k: v for k, v in written.items() if k not in later} | later, memo)
    except SpecError as err:
        raise _where_written(err, written, later) from None
    return kind.check(cfg)


def written_overrides(section: dict) -> dict:
    """An experiment file's ``economy_overrides`` as ``{economy.<key>: value}``, every key
    checked to be a dotted key (each once: ``discount`` and ``economy.discount`` are one)."""
    out = {}
    for key, value in section.items():
        full = economy_key(key)
        try:
            split_path(full)
        except SpecError as err:
            raise SpecError(err.reason, path=ECONOMY_OVERRIDES, value=key,
                            allowed="dotted economy keys like agents[0].params.alpha") from None
        if full in out:
            raise SpecError("the same economy key twice", path=f"{ECONOMY_OVERRIDES}.{key}", value=value,
                            allowed="each key once (the economy. prefix is optional)")
        out[full] = value
    return out


def _where_written(err: SpecError, written: dict, later: dict) -> SpecError:
    """An economy error at or under a key the file's ``economy_overrides`` set (and no later
    override replaced): named where the user wrote it, ``economy_overrides.<key>``."""
    def within(key: str) -> bool:
        return err.path == key or err.path.startswith((key + ".", key + "["))
    if any(map(within, written)) and not any(map(within, later)):
        return err.at(ECONOMY_OVERRIDES + err.path[len("economy"):])
    return err


#: experiment keys that size an allocation or a loop -> their upper bound (any kind that
#: declares the key is checked; see :mod:`marketsai.limits`)
SIZE_LIMITS = {
    "sessions": limits.MAX_SESSIONS,
    "chunk_size": limits.MAX_SESSIONS,
    "learner.max_periods": limits.MAX_PERIODS,
    "learner.stable_periods": limits.MAX_PERIODS,
    "max_post_periods": limits.MAX_PERIODS,
    "analysis.impulse_periods": limits.MAX_TRACE_PERIODS,
    "record.before": limits.MAX_TRACE_PERIODS,
    "record.after": limits.MAX_TRACE_PERIODS,
    "bootstrap": limits.MAX_SESSIONS,
    "sensitivity.sessions": limits.MAX_SESSIONS,
}


def check_sizes(cfg: dict) -> None:
    """Refuse sizes beyond :data:`SIZE_LIMITS` and too many work units, before any unit
    list or table is built (``--set sessions=1000000000000`` is an error, not gigabytes).

    >>> check_sizes({"sessions": 10**12, "chunk_size": 50})
    Traceback (most recent call last):
    ...
    marketsai.errors.SpecError: sessions = 1000000000000: too large (allowed: an integer in [1, 10,000,000])
    """
    for key, hi in SIZE_LIMITS.items():
        try:
            value = get_path(cfg, key)
        except (KeyError, IndexError, TypeError):
            continue
        if limits.is_int(value) and value > hi:
            limits.check_int(value, key, 0 if value < 1 else 1, hi)
        elif isinstance(value, float) and math.isfinite(value) and value > hi:
            raise SpecError("too large", path=key, value=value, allowed=f"an integer in [1, {hi:,}]")
    n, c = cfg.get("sessions"), cfg.get("chunk_size")
    if limits.is_int(n) and limits.is_int(c) and c >= 1 and -(-n // c) > limits.MAX_UNITS:
        raise SpecError(f"{-(-n // c):,} chunks of {c} sessions are too many", path="chunk_size",
                        value=c, allowed=f"at least {-(-n // limits.MAX_UNITS):,} sessions a chunk "
                                         f"(at most {limits.MAX_UNITS:,} chunks)")


def resolve_economy(value, base_dir: Path, overrides: dict, memo: dict | None = None) -> dict:
    """Economy path or mapping -> the economy's fully resolved mapping.

    ``memo``: resolved economies of inline mappings already seen (a sweep validates the
    same economy once per swept value; building one solves for its benchmarks).
    """
    from marketsai.economy import Economy
    from marketsai.spec import load_spec

    key = None
    if memo is not None and isinstance(value, dict):
        key = fingerprint([value, overrides])
        if key in memo:
            return json.loads(memo[key])  # a fresh copy, faster than deepcopy

    file = None
    if isinstance(value, str):
        path = economy_file(value, base_dir)  # a file, or a shipped economy's name
        if overrides:
            load_spec(path)  # a bad file is reported as itself (cheap: no benchmarks solved)
        data, file = read_yaml(path), (None if overrides else path)
    else:
        data = copy.deepcopy(value)
    # Overrides go into the mapping as written, not the resolved one: a template (a sector
    # planner's state block `k`) is then expanded after `--set economy...alphas=[...]`
    # changed the number of stocks, instead of leaving the old expansion behind.
    for okey, v in overrides.items():
        set_path({"economy": data}, okey, v)
    try:
        resolved = Economy.from_dict(data, file=file).to_dict()
    except SpecError as err:
        raise err.under("economy") if not err.path.startswith("economy") else err from None
    if key is not None:
        memo[key] = json.dumps(resolved)
    return resolved


# ------------------------------------------------------------------------- sweeps


def sweep_values(spec: Any, path: str) -> list:
    """Values of one swept key.

    >>> sweep_values({"linspace": [0, 1, 3]}, "x")
    [0.0, 0.5, 1.0]
    >>> [round(v, 12) for v in sweep_values({"logspace": [1e-6, 1e-4, 3]}, "x")]
    [1e-06, 1e-05, 0.0001]
    >>> sweep_values([1, 2], "x")
    [1, 2]
    """
    allowed = "a non-empty list, {values: [...]}, {linspace: [a, b, n]} or {logspace: [a, b, n]}"
    if isinstance(spec, (list, dict)):
        inner = spec.get("values") if isinstance(spec, dict) and len(spec) == 1 else spec
        limits.check_length(inner, path)
    if isinstance(spec, list) and spec:
        return list(spec)
    if isinstance(spec, dict) and len(spec) == 1:
        (how, args), = spec.items()
        if how == "values" and isinstance(args, list) and args:
            return list(args)
        if how in ("linspace", "logspace") and isinstance(args, list) and len(args) == 3:
            a, b, n = args
            ok = all(isinstance(x, (int, float)) and not isinstance(x, bool)
                     and abs(x) < 1e300 for x in (a, b)) \
                and isinstance(n, int) and not isinstance(n, bool) and n >= 1
            if how == "logspace":
                ok = ok and a > 0 and b > 0
            ok = ok and n <= limits.MAX_LIST
            if ok:
                a, b = float(a), float(b)
                grid = np.linspace(a, b, n) if how == "linspace" else np.geomspace(a, b, n)
                return [float(x) for x in grid]
        raise SpecError("invalid sweep range", path=path, value=spec,
                        allowed=allowed + f"; logspace endpoints > 0, n an integer in "
                                          f"[1, {limits.MAX_LIST:,}]")
    raise SpecError("invalid sweep values", path=path, value=spec, allowed=allowed)


def is_cases(spec: Any) -> bool:
    """Whether a sweep entry is a cases axis ``{cases: {label: {key: value, ...}}}``."""
    return isinstance(spec, dict) and list(spec) == ["cases"]


def _cases(spec: Any, path: str) -> dict:
    """The ``{label: {key: value}}`` of a cases axis, its shape checked."""
    allowed = "{cases: {label: {dotted key: value, ...}, ...}}: labels numbers or strings"
    cases = spec["cases"]
    if not isinstance(cases, dict) or not cases \
            or not all(isinstance(lab, (int, float, str)) and not isinstance(lab, bool)
                       and isinstance(v, dict) and v for lab, v in cases.items()):
        raise SpecError("invalid sweep cases", path=path, value=spec, allowed=allowed)
    limits.check_length(list(cases), path)
    return cases


def _sweep_cells(cfg: dict, kind: ExperimentKind, base_dir: Path, default_name: str,
                 overridden: bool = False) -> tuple[list[dict], dict]:
    """The cells (one ``{key or axis: value or label}`` each, the product of the axes in
    order) and the cases axes' resolved values (``{axis: {label: {key: value}}}``).

    A plain axis sweeps one key; a cases axis (``{cases: {...}}``) names each cell by a
    label and sets several keys together (the dimension study's ``d``: the economy's
    shares and state blocks with the learner settings that go with them). Each value
    (each case) is validated once, not every combination. ``overridden``: the file changed
    its economy with ``economy_overrides``, which a swept whole economy would drop."""
    sweep = cfg["sweep"]
    if not sweep:
        return [{}], {}
    cells = 1
    for key, spec in sweep.items():  # count the cells before building any of them
        path = f"sweep.{key}"
        cells *= len(_cases(spec, path)) if is_cases(spec) else len(sweep_values(spec, path))
        if cells > limits.MAX_SWEEP_CELLS:
            raise SpecError(f"the sweep has more than {limits.MAX_SWEEP_CELLS:,} cells",
                            path=path, value=spec,
                            allowed=f"at most {limits.MAX_SWEEP_CELLS:,} cells in all")
    base = copy.deepcopy(cfg)
    base["sweep"] = {}
    axes, cases = [], {}
    memo: dict = {}

    def checked(values: dict, path: str) -> dict:
        """``values`` ({key: value}) set together on the base, validated; their resolved values."""
        # the economy is only read here (resolve_economy copies it): share, not copy
        trial = {k: val if k == "economy" else copy.deepcopy(val) for k, val in base.items()}
        econ = {}
        for key, v in values.items():
            if split_path(key)[0] in ("kind", "sweep", "reference", "name", "description"):
                raise SpecError("this key cannot be swept", path=path, allowed="seed, economy.*, "
                                + ", ".join(kind.schema))
            try:
                get_path(trial, key)
            except (KeyError, IndexError, TypeError):
                raise SpecError(f"no such key to sweep{_near_key(key, base)}", path=path, value=key,
                                allowed="a dotted key of the resolved config") from None
            if key == "economy" and overridden:
                raise SpecError(f"a swept economy would replace the one {ECONOMY_OVERRIDES} changed",
                                path=path, allowed="economy.<key> sweeps, or no economy_overrides "
                                                   "(each swept economy complete)")
            if split_path(key)[0] == "economy":
                econ[key] = v
            else:
                set_path(trial, key, v)
        try:
            out = _validate(trial, kind, base_dir, default_name, econ, memo)
        except SpecError as err:
            shown = next(iter(values.values())) if len(values) == 1 else values
            raise SpecError(f"sweep value rejected: {err.reason}", path=path, value=shown,
                            allowed=err.allowed) from None
        return {key: get_path(out, key) for key in values}

    for key, spec in sweep.items():
        path = f"sweep.{key}"
        if is_cases(spec):
            try:
                get_path(base, key)
            except (KeyError, IndexError, TypeError):
                pass
            else:
                raise SpecError("a cases axis is a name, not a key of the config", path=path,
                                allowed="a name that is no key of the resolved config, e.g. d")
            cases[key] = {label: checked(values, f"{path}.cases.{label}")
                          for label, values in _cases(spec, path).items()}
            axes.append((key, list(cases[key])))
        else:
            axes.append((key, [checked({key: v}, path)[key] for v in sweep_values(spec, path)]))
    return [dict(zip([k for k, _ in axes], combo, strict=True))
            for combo in itertools.product(*[vals for _, vals in axes])], cases


def _near_key(key: str, cfg: dict) -> str:
    from marketsai.runner.schema import nearest

    def walk(d, prefix=""):
        for k, v in d.items():
            p = f"{prefix}.{k}" if prefix else k
            yield p
            if isinstance(v, dict) and k != "economy":
                yield from walk(v, p)
    return nearest(key, list(walk(cfg)))


def describe_defaults() -> str:
    """Every key and default of every experiment kind and of every learner's settings, as
    ``marketsai validate`` (without a file) prints them: one dialect, one listing.

    >>> text = describe_defaults()
    >>> "kind: tabular" in text and "learner q_learning" in text and "learner.alpha" in text
    True
    """
    from marketsai.learners import learners
    from marketsai.runner.schema import describe_schema, join

    def block(title: str, schema: dict, prefix: str = "", ours: dict | None = None) -> list[str]:
        ours = {join(prefix, k): v for k, v in (ours or {}).items()}  # a learner's own defaults
        rows = [(name, f"{ours[name]!r} (ours)" if name in ours else default, allowed, doc)
                for name, default, allowed, doc in describe_schema(schema, prefix)]
        width = max((len(r[0]) for r in rows), default=0)
        return [title] + [f"  {name:<{width}}  {default}  ({allowed}){' -- ' + doc if doc else ''}"
                          for name, default, allowed, doc in rows] + [""]

    names = experiment_kinds.names()
    lines = block("every experiment kind", common_schema("<file name>") | OVERRIDES_SCHEMA | TRAILING_SCHEMA)
    for name in names:
        try:
            kind = get_kind(name)
        except SpecError as err:  # e.g. a kind whose extra is not installed
            lines += [f"kind: {name}", f"  (unavailable: {err.reason})", ""]
            continue
        lines += block(f"kind: {name}", kind.schema)
    for name in learners.names():
        cls = learners.get(name)
        note = " (and any other attribute of its RLlib AlgorithmConfig)" if cls.open_settings else ""
        ours = getattr(cls, "defaults", None) or {}  # RLlib: the attributes we set unless the file does
        lines += block(f"learner {name}{note}: learner.settings in kind: learn", cls.settings, "learner.settings",
                       ours)
        if set(ours) - set(cls.settings):
            lines[-1:] = [f"  our default {k} = {v!r}" for k, v in ours.items() if k not in cls.settings] + [""]
    return "\n".join(lines)
