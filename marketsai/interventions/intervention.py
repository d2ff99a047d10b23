"""An intervention: a named list of phases, a post-intervention protocol, optional sweep.

In an experiment file::

    interventions:
      - name: forced_nash
        phases:
          - {type: force_price, firm: 0, price: nash, periods: 50,
             learning: {firm_0: false, firm_1: true}}
        protocol: [correct, seed]          # default: the study's protocol
        sweep: {"phases[0].periods": [1, 5, 10, 25, 50, 100, 200, 500, 1000]}

``sweep`` maps a field path inside the entry to a list of values; the entry expands to
one intervention per value (and per protocol). Every error names its field path, e.g.
``interventions[2].phases[0].periods``.

Examples
--------
>>> ivs = expand_interventions([{"name": "shock", "protocol": ["correct", "seed"],
...     "phases": [{"type": "exploration", "epsilon": 0.5, "periods": 100}],
...     "sweep": {"phases[0].periods": [10, 100]}}])
>>> [iv.key for iv in ivs]
['shock[periods=10]/correct', 'shock[periods=10]/seed', 'shock[periods=100]/correct', 'shock[periods=100]/seed']
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from marketsai.errors import SpecError
from marketsai.interventions.phases import Phase, build_phase

PROTOCOLS = ("correct", "seed")
ENTRY_KEYS = ("name", "phases", "protocol", "sweep", "sessions")
_STEP = re.compile(r"([A-Za-z_][A-Za-z_0-9]*)|\[(\d+)\]")
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass
class Intervention:
    """One concrete intervention (after sweep/protocol expansion)."""

    name: str
    phases: tuple[Phase, ...]
    protocol: str = "correct"
    sweep_field: str | None = None
    sweep_value: object = None
    sessions: int | None = None
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        """``name`` or ``name[field=value]`` -- one row per label in summary tables."""
        if self.sweep_field is None:
            return self.name
        return f"{self.name}[{self.sweep_field.rsplit('.', 1)[-1]}={self.sweep_value}]"

    @property
    def key(self) -> str:
        return f"{self.label}/{self.protocol}"

    @property
    def periods(self) -> int:
        """Periods the phases take in total (the intervention window)."""
        return sum(p.periods for p in self.phases)

    def bind(self, game) -> Intervention:
        for p in self.phases:
            p.bind(game)
        return self

    def to_dict(self) -> dict:
        return {"name": self.name, "protocol": self.protocol,
                "phases": [p.to_dict() for p in self.phases], "sessions": self.sessions,
                "sweep_field": self.sweep_field, "sweep_value": self.sweep_value}

    @classmethod
    def from_dict(cls, d: dict, path: str = "intervention") -> Intervention:
        """Inverse of :meth:`to_dict` (used to ship an intervention inside a work unit)."""
        phases = tuple(build_phase(p, f"{path}.phases[{k}]") for k, p in enumerate(d["phases"]))
        return cls(d["name"], phases, d["protocol"], d.get("sweep_field"), d.get("sweep_value"),
                   d.get("sessions"))


def check_protocol(value, path: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    for k, v in enumerate(items):
        if v not in PROTOCOLS:
            raise SpecError("unknown protocol", path=f"{path}[{k}]" if isinstance(value, list) else path,
                            value=v, allowed=" | ".join(PROTOCOLS) + " (or a list of them)")
    if not items:
        raise SpecError("empty protocol list", path=path, value=value, allowed=" | ".join(PROTOCOLS))
    return items


def _set_path(data: dict, spec: str, value, path: str) -> None:
    """Set the field at a dotted/indexed ``spec`` such as ``phases[0].periods``."""
    steps = [m.group(1) if m.group(1) else int(m.group(2)) for m in _STEP.finditer(spec)]
    rebuilt = "".join(f".{s}" if isinstance(s, str) else f"[{s}]" for s in steps).lstrip(".")
    if not steps or rebuilt != spec:
        raise SpecError("invalid sweep field path", path=path, value=spec,
                        allowed="a path such as phases[0].periods")
    node = data
    for k, key in enumerate(steps):
        last = k == len(steps) - 1
        if isinstance(key, str):
            ok = isinstance(node, dict) and (last or key in node)
        else:
            ok = isinstance(node, list) and key < len(node)
        if not ok:
            raise SpecError("sweep field path does not exist in the entry", path=path, value=spec,
                            allowed="a path to a field of this entry, e.g. phases[0].periods")
        if last:
            node[key] = value
        else:
            node = node[key]


def parse_entry(entry, path: str, default_protocol="correct") -> list[Intervention]:
    """Validate one ``interventions[i]`` entry and expand its sweep and protocols."""
    if not isinstance(entry, dict):
        raise SpecError("an intervention must be a mapping", path=path, value=entry,
                        allowed="{name: ..., phases: [...], protocol: ..., sweep: ...}")
    unknown = [k for k in entry if k not in ENTRY_KEYS]
    if unknown:
        raise SpecError("unknown key in intervention", path=f"{path}.{unknown[0]}",
                        value=entry[unknown[0]], allowed=", ".join(ENTRY_KEYS))
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SpecError("intervention name missing or invalid", path=f"{path}.name", value=name,
                        allowed="letters, digits, '_', '-', '.'")
    phases = entry.get("phases")
    if not isinstance(phases, list) or not phases:
        raise SpecError("an intervention needs a non-empty list of phases", path=f"{path}.phases",
                        value=phases, allowed="a list of {type: ..., ...}")
    protocols = check_protocol(entry.get("protocol", default_protocol), f"{path}.protocol")
    n_sessions = entry.get("sessions")
    if n_sessions is not None and not (isinstance(n_sessions, int) and not isinstance(n_sessions, bool)
                                       and n_sessions >= 1):
        raise SpecError("invalid session count", path=f"{path}.sessions", value=n_sessions,
                        allowed="an integer >= 1 (the first N baseline sessions)")
    sweep = entry.get("sweep")
    variants: list[tuple[str | None, object, dict]] = []
    if sweep is None:
        variants.append((None, None, entry))
    else:
        if not isinstance(sweep, dict) or len(sweep) != 1:
            raise SpecError("sweep must map one field path to a list of values", path=f"{path}.sweep",
                            value=sweep, allowed="{phases[0].periods: [1, 5, 10]}")
        (spec, values), = sweep.items()
        if not isinstance(values, list) or not values:
            raise SpecError("sweep values must be a non-empty list", path=f"{path}.sweep.{spec}",
                            value=values, allowed="a list of values")
        for v in values:
            d = copy.deepcopy({k: entry[k] for k in ("phases",)})
            _set_path(d, spec, v, f"{path}.sweep")
            variants.append((spec, v, d))
    out = []
    for spec, v, d in variants:
        for proto in protocols:  # each intervention owns its phase objects (they get bound)
            built = tuple(build_phase(p, f"{path}.phases[{k}]") for k, p in enumerate(d["phases"]))
            out.append(Intervention(name, built, proto, spec, v, n_sessions, raw=entry))
    return out


def expand_interventions(entries, path: str = "interventions",
                         default_protocol="correct") -> list[Intervention]:
    """Validate the ``interventions`` list; return the expanded interventions (unique keys)."""
    if not isinstance(entries, list) or not entries:
        raise SpecError("interventions must be a non-empty list", path=path, value=entries,
                        allowed="a list of {name: ..., phases: [...]}")
    out, seen = [], {}
    for k, e in enumerate(entries):
        for iv in parse_entry(e, f"{path}[{k}]", default_protocol):
            if iv.key in seen:
                raise SpecError(f"duplicate intervention {iv.key!r} (also {seen[iv.key]})",
                                path=f"{path}[{k}].name", value=iv.name,
                                allowed="distinct names")
            seen[iv.key] = f"{path}[{k}]"
            out.append(iv)
    return out
