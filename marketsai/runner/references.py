"""Published values beside ours: which figure a number comes from, drawn in our figures.

Why here: an experiment file's ``reference:`` section holds the published numbers a run
is compared with (keyed like ``summary.json``), but not where they were published. This
module knows the values of the replications this project ships (docs/references.md has
the full citations) and

* names the published table or figure of each summary row (:func:`source_of`, used by
  the printed summary), flagging rows where the published value belongs to a
  different experiment than ours (:attr:`Published.note`);
* draws the published values into our figures as labelled reference lines and markers
  (:func:`annotate_figures`), so no figure of a replication shows our numbers alone.

A reference value counts as "the published one" only if it equals the value below
(within 0.1%): a file that changes it is quoting something else, and is shown as such.

Examples
--------
>>> source_of("profit_gain", 0.849).source
'Calvano et al. (2020), Table I'
>>> source_of("profit_gain", 0.5) is None
True
>>> bool(source_of("impulse_best_response_t1_deviator", 1.5046).note)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from marketsai.errors import SpecError

if TYPE_CHECKING:
    from marketsai.analysis.heatmap import PublishedRange

CALVANO = "Calvano et al. (2020)"


@dataclass(frozen=True)
class Published:
    """One published number: its value, where it was published and, if the comparison
    needs one, a warning printed with it."""

    value: float
    source: str
    note: str = ""


_T1 = f"{CALVANO}, Table I"
_F4 = f"{CALVANO}, Figure 4"
#: Figure 4's one-period deviation is the authors' Fortran "static best response"
FORTRAN_NOTE = ("Figure 4's deviation is the 'static best response' as the authors' Fortran "
                "computes it (our calvano_fortran, t=1 about 1.506); the static best response "
                "as the paper defines it (our best_response) cuts the price less (about 1.61) "
                "-- a different experiment, so this row is not a replication check")
PUBLISHED: dict[str, Published] = {
    "profit_gain": Published(0.849, _T1),
    "profit_gain_sd": Published(0.112, _T1),
    "cycle_share_1": Published(0.643, _T1),
    "cycle_share_2": Published(0.238, _T1),
    "cycle_share_3plus": Published(0.119, _T1),
    "profit_gain_cycle_1": Published(0.860, _T1),
    "profit_gain_cycle_2": Published(0.846, _T1),
    "profit_gain_cycle_3plus": Published(0.793, _T1),
    "periods_mean": Published(1_700_000, "ports of the Fortran, not the paper"),
}
NASH_NOTE = ("Figure 4's deviation is the 'static best response' as the authors' Fortran "
             "computes it (our calvano_fortran); this row's deviation is to the grid price "
             "nearest Nash -- a different experiment, so this row is not a replication check")
for _dev, _note in (("calvano_fortran", ""), ("best_response", FORTRAN_NOTE), ("nash", NASH_NOTE)):
    for _key, _value in (("pre_shock", 1.7913), ("t1_deviator", 1.5046), ("t2_rival", 1.5475)):
        PUBLISHED[f"impulse_{_dev}_{_key}"] = Published(
            _value, _F4, "" if _key == "pre_shock" else _note)


def calvano_published() -> dict[str, float]:
    """The published Table I mean and SD and Figure 4's impulse response, under short names
    (``profit_gain``, ``profit_gain_sd``, ``pre_shock``, ``deviator_t1``, ``rival_t2``)
    for tables that put them beside other learners' rows.

    >>> calvano_published()["deviator_t1"]
    1.5046
    """
    fig4 = {k: PUBLISHED[f"impulse_calvano_fortran_{k}"].value for k in ("pre_shock", "t1_deviator", "t2_rival")}
    return {"profit_gain": PUBLISHED["profit_gain"].value, "profit_gain_sd": PUBLISHED["profit_gain_sd"].value,
            "pre_shock": fig4["pre_shock"], "deviator_t1": fig4["t1_deviator"], "rival_t2": fig4["t2_rival"]}


#: Calvano et al. (2020), Figure 1 (100 x 100 grid, 1000 sessions a cell): Delta roughly
#: 0.64 to 0.94 for alpha >= 0.025, as an experiment file's ``reference: heatmap_range``
FIGURE_1_RANGE = {"low": 0.64, "high": 0.94, "at_least": {"learner.alpha": 0.025}}
HEATMAP_RANGE_ALLOWED = ("a mapping {low: number, high: number (> low), at_least: "
                         "{swept key: smallest value the range covers} (optional)}")


def published_range(reference: dict | None, sweep_keys=()) -> PublishedRange | None:
    """The ``heatmap_range`` of an experiment file's ``reference:`` section (None without
    one): the published range of the heat map's value, drawn on the sweep's heat map.
    Named as Calvano et al.'s Figure 1 when it is that range.

    >>> published_range({"heatmap_range": FIGURE_1_RANGE}, ["learner.alpha", "learner.beta"]).source
    'Calvano et al. (2020), Figure 1'
    >>> published_range({"heatmap_range": {"low": 0.9, "high": 0.1}}, ["a", "b"])
    Traceback (most recent call last):
    ...
    marketsai.errors.SpecError: reference.heatmap_range = {'low': 0.9, 'high': 0.1}: low must be below high (allowed: a mapping {low: number, high: number (> low), at_least: {swept key: smallest value the range covers} (optional)})
    """
    raw = (reference or {}).get("heatmap_range")
    if raw is None:
        return None
    path = "reference.heatmap_range"

    def bad(why, value=raw, where=path):
        return SpecError(why, path=where, value=value, allowed=HEATMAP_RANGE_ALLOWED)

    if len(sweep_keys) != 2:
        raise bad(f"a heat map needs a sweep over two keys (this one sweeps {list(sweep_keys)})")
    if not isinstance(raw, dict) or set(raw) - {"low", "high", "at_least"} or not {"low", "high"} <= set(raw):
        raise bad("needs low and high, and no keys but low, high, at_least")
    if not all(_is_number(raw[k]) for k in ("low", "high")):
        raise bad("low and high must be numbers")
    if not raw["low"] < raw["high"]:
        raise bad("low must be below high")
    at_least = raw.get("at_least") or {}
    if not isinstance(at_least, dict):
        raise bad("must map swept keys to numbers", at_least, path + ".at_least")
    for key, least in at_least.items():
        if key not in sweep_keys or not _is_number(least):
            raise bad(f"must map swept keys ({', '.join(sweep_keys)}) to numbers",
                      least, f"{path}.at_least.{key}")
    from marketsai.analysis.heatmap import PublishedRange

    figure_1 = {k: raw.get(k) for k in ("low", "high")} | {"at_least": at_least} == FIGURE_1_RANGE
    return PublishedRange(float(raw["low"]), float(raw["high"]),
                          {k: float(v) for k, v in at_least.items()},
                          f"{CALVANO}, Figure 1" if figure_1 else "experiment file reference")


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


#: the intervention study this project re-examines: recovery rates R it reported from ONE
#: baseline session, by intervention name and length k (None: no length)
SEED_STUDY = "seed study (1 session)"
SEED_REPORTED: dict[str, dict] = {"forced_nash": {50: 0.545, 100: 0.545},
                                  "exploration": {100: 0.682}, "reset_firm0": {None: 0.818}}


#: post-intervention mean prices the seed study reported (same single session)
SEED_POST_PRICE: dict[str, float] = {"forced_nash": 1.699, "exploration": 1.756, "reset_firm0": 1.812}


def seed_reported(intervention: str, k=None) -> float | None:
    """R reported by the seed study for an intervention (and length ``k``), if any.

    >>> seed_reported("forced_nash", 50.0), seed_reported("forced_nash", 7), seed_reported("reset_firm0")
    (0.545, None, 0.818)
    """
    table = SEED_REPORTED.get(intervention, {})
    if None in table:
        return table[None]
    if k is None or (isinstance(k, float) and math.isnan(k)):
        return None
    return table.get(int(k)) if float(k).is_integer() else None


def source_of(key: str, value) -> Published | None:
    """The publication of a reference row, if ``value`` is the published number."""
    pub = PUBLISHED.get(key)
    if pub is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return pub if math.isclose(float(value), pub.value, rel_tol=1e-3) else None


def _label(key: str, value) -> str:
    pub = source_of(key, value)
    return f"published {value:.4g} ({pub.source if pub else 'experiment file reference'})"


def annotate_figures(figures: dict, reference: dict) -> dict:
    """Draw the published values of ``reference`` into the kind's figures (in place).

    Knows the tabular kind's figures: ``profit_gain_histogram`` (a vertical line at the
    published mean Delta), ``cycle_lengths`` (markers at the published shares),
    ``impulse_response_<deviation>`` (markers at the published pre-shock, t = 1 and
    t = 2 prices; the label says when they belong to another deviation). A sweep's heat
    map draws its published range itself (:func:`published_range`, in
    :func:`marketsai.runner.run.sweep_figures`).
    """
    reference = reference or {}
    fig = figures.get("profit_gain_histogram")
    if fig is not None and isinstance(reference.get("profit_gain"), (int, float)):
        ax = fig.axes[0]
        v = float(reference["profit_gain"])
        ax.axvline(v, color="tab:red", lw=1.5, label=_label("profit_gain", v))
        ax.legend(fontsize=7)
    fig = figures.get("cycle_lengths")
    shares = {c: reference.get(f"cycle_share_{k}") for c, k in (("1", "1"), ("2", "2"), ("3+", "3plus"))}
    if fig is not None and all(isinstance(v, (int, float)) for v in shares.values()):
        ax = fig.axes[0]
        pub = source_of("cycle_share_1", shares["1"])
        ax.plot(list(shares), [100 * float(v) for v in shares.values()], "D", color="tab:red",
                label=f"published ({pub.source if pub else 'experiment file reference'})")
        ax.legend(fontsize=7)
    for name, fig in figures.items():
        if not name.startswith("impulse_response_"):
            continue
        dev = name[len("impulse_response_"):]
        keys = [f"impulse_{dev}_{k}" for k in ("pre_shock", "t1_deviator", "t2_rival")]
        pts = [(t, reference[k]) for t, k in enumerate(keys) if isinstance(reference.get(k), (int, float))]
        if not pts:
            continue
        ax = fig.axes[0]
        pub = source_of(keys[1], reference.get(keys[1]))
        label = f"published ({pub.source if pub else 'experiment file reference'})"
        if pub is not None and pub.note:
            label += ": authors' Fortran deviation, not this one"
        ax.plot([t for t, _ in pts], [float(v) for _, v in pts], "*", ms=11, color="tab:red",
                label=label, zorder=5)
        ax.legend(fontsize=7)
    return figures


def summary_notes(keys, reference: dict) -> list[str]:
    """Footnotes for the printed summary: one per distinct note of the rows shown."""
    notes = []
    for key in keys:
        pub = source_of(key, reference.get(key))
        if pub is not None and pub.note and pub.note not in notes:
            notes.append(pub.note)
    return notes
