"""Why a summary value is empty: each null (NaN) or placeholder gets its reason.

Why: ``mean_consumption: null`` or ``cycle_length 0`` in a run folder look like bugs
unless the folder says why. :func:`empty_value_notes` returns, for each empty value of a
summary (and each placeholder column of the results), one of the documented
:data:`REASONS`; the runner stores them as ``summary["empty_values"]`` and prints them under
the summary. docs/experiments.md lists the same reasons (a test keeps them in step).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

REASONS = {
    "no_cycle": "the economy has exogenous shocks, so greedy play has no single limit cycle: "
                "cycle_length is 0 and there is no cycle mean; the greedy policy itself is the "
                "result (analysis.growth scores it: policy and Euler errors)",
    "no_gain": "the profit gain (pi - piN) / (piM - piN) is undefined: the Nash and joint-optimum "
               "payoffs coincide (one firm, or a market without strategic benchmarks)",
    "one_session": "a standard deviation needs at least two sessions",
    "empty_class": "no session ended on a limit cycle of this length",
    "no_rival": "the economy has one agent: nobody responds to the deviation",
    "table_1": "cycle classes with no session (or undefined gains) have null mean and sd; sd is "
               "also null for a class of one session",
    "short_impulse": "impulse_periods is 1: the path ends at the deviation period, before t = 2",
    "interval": "interval actions have no finite state space, so greedy play has no limit cycle: "
                "cycle_length and start_state are NaN and prices are means over the simulation's "
                "last tail periods",
    "nonfinite_growth": "the rule leaves consumption c <= 0 somewhere (or drives capital to 0 or "
                        "infinity): its Euler errors or welfare loss are infinite, written as null "
                        "(growth_nonfinite counts the sessions)",
}

#: summary keys of the growth measures (``<measure>``, ``<measure>_mean``, ``_median``, ``floor_``)
_GROWTH = ("euler_", "welfare_loss_pct", "policy_err_", "share_err_", "floor_euler_",
           "floor_welfare_loss_pct", "floor_policy_err_")


def _empty(x) -> bool:
    """None, NaN or an infinity (summary.json writes both as null), or an empty list."""
    return x is None or (isinstance(x, float) and not math.isfinite(x)) or (isinstance(x, list) and not x)


def empty_value_notes(summary: dict, results: pd.DataFrame | None) -> dict[str, str]:
    """Key (or ``results.<column>``) -> reason, for the empty values we can explain."""
    res = results if results is not None else pd.DataFrame()
    no_cycle = "cycle_length" in res and len(res) > 0 and bool((res["cycle_length"] == 0).all())
    gain_reason = REASONS["no_cycle"] if no_cycle else REASONS["no_gain"]
    notes = {}
    if no_cycle:
        notes["results.cycle_length"] = "0 for every session: " + REASONS["no_cycle"]
    interval = "cycle_length" in res and len(res) > 0 and bool(res["cycle_length"].isna().all())
    if interval:
        notes["results.cycle_length"] = "NaN for every episode: " + REASONS["interval"]
    for key, value in summary.items():
        if key == "table_1" and isinstance(value, list):
            if any(_empty(v) for row in value if isinstance(row, dict) for v in row.values()):
                notes[key] = REASONS["table_1"]
            continue
        if not _empty(value):
            continue
        if key == "profit_gain":
            notes[key] = gain_reason
        elif key.startswith("profit_gain") and key.endswith("_sd"):
            col = key[:-3]
            undefined = col in res and not np.isfinite(res[col].to_numpy(float)).any()
            notes[key] = gain_reason if undefined else REASONS["one_session"]
        elif key.startswith("profit_gain_cycle_"):
            share = summary.get("cycle_share_" + key[len("profit_gain_cycle_"):])
            notes[key] = REASONS["empty_class"] if share == 0 else gain_reason
        elif key.startswith("impulse_") and key.endswith("_t2_rival") \
                and not _empty(summary.get(key[:-len("_t2_rival")] + "_rival")):
            notes[key] = REASONS["short_impulse"]
        elif key.startswith("impulse_") and (key.endswith("_t2_rival") or key.endswith("_rival")):
            notes[key] = REASONS["no_rival"]
        elif key.startswith("mean_") and no_cycle:
            notes[key] = REASONS["no_cycle"]
        elif key == "cycle_length_mean" and interval:
            notes[key] = REASONS["interval"]
        elif key.startswith(_GROWTH):
            notes[key] = REASONS["nonfinite_growth"]
    return notes
