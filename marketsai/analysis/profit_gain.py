"""Profit gain and its summary by limit-cycle length (Calvano et al. 2020, Table I).

``Delta = (mean profit on the limit cycle - piN) / (piM - piN)``: 0 at the static Nash
equilibrium, 1 at joint-profit maximisation. A session's Delta is the average over
agents of the per-agent gains.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CYCLE_CLASSES = ("1", "2", "3+")


def profit_gain(mean_profits, nash_payoff, coop_payoff) -> np.ndarray:
    """Per-agent profit gain; ``mean_profits`` has agents on its last axis.

    Examples
    --------
    >>> profit_gain([[0.3, 0.25]], [0.2, 0.2], [0.4, 0.4]).round(6).tolist()
    [[0.5, 0.25]]
    """
    mean_profits = np.asarray(mean_profits, dtype=float)
    nash = np.asarray(nash_payoff, dtype=float)
    coop = np.asarray(coop_payoff, dtype=float)
    return (mean_profits - nash) / (coop - nash)


def cycle_class(lengths) -> np.ndarray:
    """Cycle-length class of each session: "1", "2" or "3+".

    >>> cycle_class([1, 2, 3, 7]).tolist()
    ['1', '2', '3+', '3+']
    """
    lengths = np.asarray(lengths)
    return np.where(lengths <= 1, "1", np.where(lengths == 2, "2", "3+"))


def profit_gain_summary(results: pd.DataFrame, value: str = "profit_gain",
                        cycle_length: str = "cycle_length") -> pd.DataFrame:
    """Table I layout: one row per cycle class plus "all".

    Columns: ``cycle`` ("1", "2", "3+", "all"), ``sessions``, ``share`` (of all
    sessions), ``mean`` and ``sd`` of ``value``. Classes with no session have share 0
    and NaN statistics.

    Examples
    --------
    >>> df = pd.DataFrame({"profit_gain": [0.9, 0.8, 0.7, 0.6], "cycle_length": [1, 1, 2, 5]})
    >>> profit_gain_summary(df).round(3).values.tolist()
    [['1', 2, 0.5, 0.85, 0.071], ['2', 1, 0.25, 0.7, nan], ['3+', 1, 0.25, 0.6, nan], ['all', 4, 1.0, 0.75, 0.129]]
    """
    cls = cycle_class(results[cycle_length].to_numpy())
    x = results[value].to_numpy(dtype=float)
    total = len(x)
    rows = []
    for name, mask in [(c, cls == c) for c in CYCLE_CLASSES] + [("all", np.ones(total, bool))]:
        sel = x[mask]
        rows.append({"cycle": name, "sessions": int(mask.sum()),
                     "share": float(mask.sum() / total) if total else np.nan,
                     "mean": float(sel.mean()) if sel.size else np.nan,
                     "sd": float(sel.std(ddof=1)) if sel.size > 1 else np.nan})
    return pd.DataFrame(rows)


def plot_profit_gain_histogram(results: pd.DataFrame, value: str = "profit_gain", bins: int = 40,
                               title: str = "Profit gain across sessions"):
    """Histogram of session profit gains (a :class:`matplotlib.figure.Figure`)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.add_subplot()
    x = results[value].to_numpy(dtype=float)
    x = x[np.isfinite(x)]  # e.g. a monopolist: Nash = joint optimum, the gain is undefined
    if x.size:
        # values equal up to float noise would make numpy's bin edges degenerate: one bin then
        span = np.ptp(x)
        ax.hist(x, bins=bins if span > 1e-9 * max(1.0, np.abs(x).max()) else 1, color="tab:blue", alpha=0.8)
        ax.axvline(x.mean(), color="k", ls="--", lw=1, label=f"mean {x.mean():.3f}")
        ax.legend()
    ax.set_xlabel("profit gain Delta")
    ax.set_ylabel("sessions")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_cycle_shares(summary: pd.DataFrame, title: str = "Limit-cycle length"):
    """Bar chart of cycle-class shares with mean Delta annotated, from
    :func:`profit_gain_summary`'s table."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0, 3.6))
    ax = fig.add_subplot()
    tab = summary[summary["cycle"] != "all"]
    bars = ax.bar(tab["cycle"], 100 * tab["share"], color="tab:orange")
    for bar, mean in zip(bars, tab["mean"], strict=True):
        if np.isfinite(mean):
            ax.annotate(f"Delta {mean:.3f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=8)
    ax.set_xlabel("cycle length")
    ax.set_ylabel("% of sessions")
    ax.set_title(title)
    fig.tight_layout()
    return fig
