"""Figures of a growth planner's policy: the learned rule against the exact one, and its
Euler errors, over the reference's ergodic set.

Why: summary numbers (``euler_mean``, ``policy_err_max``) say how far a learned rule is
off, not where; the two figures show it along ``k`` for every TFP state. Both are drawn
from one table, ``growth_curves`` (:func:`growth_curves`), which a run folder keeps, so
the figures can be redrawn and checked against it:

``iz``, ``z``, ``k``, ``kp`` (the learned ``k'``), ``kp_exact`` (the reference's: the
Brock--Mirman closed form, else EGM), ``euler`` and ``euler_exact`` (log10 Euler errors
of each, :func:`~marketsai.analysis.euler.euler_errors`; ``inf`` where a rule leaves
``c <= 0``), plus ``session`` or ``seed`` when several rules are stacked.

The figures show, per TFP state, the median over sessions (seeds) of the learned rule's
values (solid) and the reference's (dashed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketsai.analysis.euler import euler_errors, simulate_path

#: the columns that identify one of several stacked rules, in the order looked for
RULE_COLUMNS = ("seed", "session")


def ergodic_range(model, reference, T: int = 10_000, burn: int = 1000, seed: int = 0) -> tuple:
    """``(k_min, k_max)`` of a path simulated under the reference rule after ``burn``."""
    k, _ = simulate_path(model, reference, T + burn, np.random.default_rng(seed))
    return float(k[burn:].min()), float(k[burn:].max())


def growth_curves(model, savings, reference, k_range, points: int = 40) -> pd.DataFrame:
    """The ``growth_curves`` table (module docstring) of ``savings(k, iz)`` on ``points``
    equally spaced ``k`` in ``k_range`` times every TFP state."""
    k = np.linspace(k_range[0], k_range[1], int(points))
    iz = np.arange(model.z.n_states)
    kk, ii = np.broadcast_arrays(k[None, :], iz[:, None])
    kk, ii = kk.ravel(), ii.ravel()
    return pd.DataFrame({"iz": ii, "z": model.z_values[ii], "k": kk,
                         "kp": np.asarray(savings(kk, ii), np.float64),
                         "kp_exact": np.asarray(reference(kk, ii), np.float64),
                         "euler": euler_errors(model, savings, kk, ii),
                         "euler_exact": euler_errors(model, reference, kk, ii)})


def curve_medians(curves: pd.DataFrame) -> pd.DataFrame:
    """Per ``(iz, k)``: the median over stacked rules of every value column (what the
    figures plot)."""
    values = ["kp", "kp_exact", "euler", "euler_exact"]
    return curves.groupby(["iz", "z", "k"], sort=True)[values].median().reset_index()


def _plot(curves: pd.DataFrame, own: str, exact: str, ylabel: str, title: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.add_subplot()
    for (_iz, z), g in curve_medians(curves).groupby(["iz", "z"], sort=True):
        line, = ax.plot(g["k"], g[own], lw=1.5, label=f"learned, z = {z:.3g}")
        ax.plot(g["k"], g[exact], ls="--", lw=1, color=line.get_color(), label=f"exact, z = {z:.3g}")
    rules = next((curves[c].nunique() for c in RULE_COLUMNS if c in curves), 1)
    ax.set_xlabel("capital k (the reference's ergodic set)")
    ax.set_ylabel(ylabel)
    ax.set_title(title + (f" (median of {rules})" if rules > 1 else ""))
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def plot_growth_policy(curves: pd.DataFrame):
    """The learned ``k'(k)`` against the exact rule, one colour per TFP state."""
    return _plot(curves, "kp", "kp_exact", "next capital k'", "Savings rule: learned vs exact")


def plot_euler_errors(curves: pd.DataFrame):
    """The learned rule's log10 Euler errors against the exact rule's, per TFP state."""
    return _plot(curves, "euler", "euler_exact", "log10 Euler error", "Euler errors")


def growth_figures(curves: pd.DataFrame) -> dict:
    """``{"growth_policy": ..., "growth_euler_errors": ...}`` from a ``growth_curves`` table."""
    return {"growth_policy": plot_growth_policy(curves),
            "growth_euler_errors": plot_euler_errors(curves)}
