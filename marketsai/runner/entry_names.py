"""Where each ``evaluate`` entry of ``kind: learn`` writes its tables, ``results`` columns,
summary keys and figures, and how an entry reads its own back (:mod:`marketsai.runner.learn`).

Why one module: the names an entry's output goes under and the view its ``summarise`` and
``figures`` read are two halves of one rule; apart, an entry would read another's numbers.
The rule: the first entry to use a name keeps it; a later entry of another evaluation
writes ``<label>_<name>`` instead (its label: :func:`entry_labels`), and its view maps
``<label>_<name>`` back to ``<name>`` wherever ``<name>`` is there too. A second entry of
one evaluation writes every table under its label. Nothing is dropped or overwritten:
where ``<label>_<name>`` is taken as well, or a name would read as another entry's own,
the run is refused.
"""

from __future__ import annotations

import re

import pandas as pd

from marketsai.errors import SpecError

#: suffix of an evaluation's tables of the untrained policies (``untrained: true``)
UNTRAINED = "_untrained"
#: the tables evaluations of one row count share, side by side
RESULTS = ("results", "results" + UNTRAINED)


def entry_labels(entries: list[dict]) -> list[str]:
    """The name that tells each entry's own tables apart: its evaluation's name (an import
    path's characters other than letters, digits and ``_`` as ``_``), and for a second entry
    of the same evaluation also its index in ``evaluate`` (``calvano_2``)."""
    labels, seen = [], set()
    for k, entry in enumerate(entries):
        labels.append(_plain(entry) if entry["name"] not in seen else f"{_plain(entry)}_{k}")
        seen.add(entry["name"])
    return labels


def _plain(entry: dict) -> str:
    """The entry's evaluation name as a table-name prefix (an import path's ``.`` and ``:`` as ``_``)."""
    return re.sub(r"\W", "_", entry["name"])


def is_repeated(entry: dict, label: str) -> bool:
    """Whether ``label`` is that of a second (third, ...) entry of one evaluation: all its
    tables, and its summary, go under the label."""
    return label != _plain(entry)


def place(name: str, taken, label: str, what: str, k: int, own: bool = False) -> str:
    """Where entry ``k`` (``label``) writes its ``name``: ``name`` itself while no earlier
    entry took it, else ``<label>_<name>`` (``own``: there in any case); refused where
    that is taken too."""
    options = [f"{label}_{name}"] if own else [name, f"{label}_{name}"]
    for at in options:
        if at not in taken:
            return at
    raise SpecError(f"its {what} {name!r} has nowhere to go: {' and '.join(map(repr, options))} "
                    "are taken already", path=f"evaluate[{k}]", value=name,
                    allowed=f"evaluations whose {what}s can be told apart")


def moved(names, label: str) -> dict[str, str]:
    """``{name: <label>_<name>}`` for the names that read as entry ``label``'s own, written
    under its label: ``<label>_<name>`` where ``<name>`` is there too."""
    prefix, names = label + "_", set(names)
    return {n[len(prefix):]: n for n in names if n.startswith(prefix) and n[len(prefix):] in names}


def side_by_side(merged: pd.DataFrame, frame: pd.DataFrame, label: str, k: int) -> tuple[pd.DataFrame, set]:
    """``frame``'s columns beside ``merged``'s (equal row counts), each column ``merged``
    has already as ``<label>_<column>``; the table and the columns so moved."""
    taken = set(merged) | set(frame)
    new = {c: place(c, taken, label, "results column", k) for c in frame if c in merged}
    return pd.concat([merged, frame.rename(columns=new).reset_index(drop=True)], axis=1), set(new.values())


def check_readable(entries: list[dict], tables: dict[str, pd.DataFrame], placed: list[set]) -> None:
    """Refuse output in which a name reads as an entry's own (:func:`moved`) that the entry
    did not write there (``placed[k]``: the tables, and ``(table, column)`` pairs, entry
    ``k`` wrote under its label): its ``summarise`` would read another entry's numbers."""
    for k, (entry, label) in enumerate(zip(entries, entry_labels(entries), strict=True)):
        if is_repeated(entry, label):
            continue
        stray = set(moved(tables, label).values())
        for name in RESULTS:
            if name in tables:
                stray |= {(name, c) for c in moved(tables[name].columns, label).values()}
        stray -= placed[k]
        if stray:
            what = min(stray, key=str)
            what = f"table {what!r}" if isinstance(what, str) else f"column {what[1]!r} of {what[0]}"
            raise SpecError(f"{what}, another entry's, would read as entry {k}'s own moved under its "
                            f"label {label!r}", path=f"evaluate[{k}]", value=entry["name"],
                            allowed="evaluations whose table and column names do not start with "
                                    "another entry's label")


def entry_tables(tables: dict[str, pd.DataFrame], entries: list[dict], k: int) -> dict[str, pd.DataFrame]:
    """The run's tables as entry ``k`` of ``evaluate`` wrote them, each under its own name:
    what that entry's ``summarise`` and ``figures`` read (see the module docstring)."""
    label = entry_labels(entries)[k]
    prefix = label + "_"
    if is_repeated(entries[k], label):
        own = {name[len(prefix):]: frame for name, frame in tables.items() if name.startswith(prefix)}
    else:
        own = {name: tables[at] for name, at in moved(tables, label).items()}
        for name in RESULTS:  # shared side by side: its own columns under their names
            cols = moved(tables[name].columns, label) if name in tables and name not in own else {}
            if cols:
                own[name] = tables[name].drop(columns=list(cols)).rename(
                    columns={at: col for col, at in cols.items()})
    return tables | own


def untrained_tables(tables: dict[str, pd.DataFrame], economy_tables) -> dict[str, pd.DataFrame]:
    """The untrained policies' tables (``<name>_untrained``) under their trained names, beside
    the economy's own tables (``economy_tables``: names): what an evaluation's ``summarise``
    reads for the floor, exactly as it reads the trained policies' tables."""
    floor = {name.removesuffix(UNTRAINED): frame for name, frame in tables.items()
             if name.endswith(UNTRAINED)}
    return floor | {name: tables[name] for name in economy_tables if name in tables}


def merge_keys(into: dict, new: dict, label: str, what: str, k: int) -> dict:
    """``into`` with ``new``'s keys added, each key ``into`` has already as ``<label>_<key>``
    (summary keys, figures of another evaluation)."""
    out = dict(into)
    for key, value in new.items():
        out[place(key, set(out) | set(new), label, what, k) if key in into else key] = value
    return out
