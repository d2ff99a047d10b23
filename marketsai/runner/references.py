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


#: Calvano et al. (2020), Figure 1: the (alpha, beta) heat map of Delta
FIGURE_1 = (f"{CALVANO}, Figure 1 (100 x 100 grid, 1000 sessions a cell): "
            "Delta roughly 0.64 to 0.94 for alpha >= 0.025")


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


def annotate_figures(figures: dict, reference: dict, sweep_keys=(), economy_name: str = "") -> dict:
    """Draw the published values of ``reference`` into the kind's figures (in place).

    Knows the tabular kind's figures: ``profit_gain_histogram`` (a vertical line at the
    published mean Delta), ``cycle_lengths`` (markers at the published shares),
    ``impulse_response_<deviation>`` (markers at the published pre-shock, t = 1 and
    t = 2 prices; the label says when they belong to another deviation) and the
    (alpha, beta) heat map of the baseline economy (Figure 1's range in the caption).
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
    if economy_name == "bertrand_duopoly" and sorted(sweep_keys) == ["learner.alpha", "learner.beta"]:
        for name, fig in figures.items():
            if name.startswith("heatmap_"):
                fig.text(0.01, 0.005, "published: " + FIGURE_1, fontsize=6, ha="left", va="bottom")
    return figures


def summary_notes(keys, reference: dict) -> list[str]:
    """Footnotes for the printed summary: one per distinct note of the rows shown."""
    notes = []
    for key in keys:
        pub = source_of(key, reference.get(key))
        if pub is not None and pub.note and pub.note not in notes:
            notes.append(pub.note)
    return notes
