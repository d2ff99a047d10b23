"""Learning curves: the sampled price and profit of tabular runs across sessions over time,
and the evaluations of policies kept along a learner's training, by seed.

The table is the ``learning_curve`` table of a tabular run folder
(:mod:`marketsai.tabular.learning_curve` documents its columns: ``session``, ``t``,
``periods``, ``price``, ``profit``). :func:`learning_curve_bands` summarises it per ``t``
over the sessions still learning then; :func:`plot_learning_curve` draws that summary.
:func:`plot_seed_curves` draws a learn run's ``curve`` table (one row per seed and kept
period, :mod:`marketsai.runner.learn`): chosen columns against the periods trained, a line
per seed.

Examples
--------
>>> table = pd.DataFrame({"session": [0, 1, 0], "t": [0, 0, 10], "periods": 5,
...                       "price": [1.5, 1.7, 1.8], "profit": [0.2, 0.3, 0.3]})
>>> learning_curve_bands(table)[["t", "sessions", "price_median"]].to_dict("list")
{'t': [0, 10], 'sessions': [2, 1], 'price_median': [1.6, 1.8]}
"""

from __future__ import annotations

import pandas as pd

#: the band drawn around the median: these quantiles across sessions
BAND = (0.1, 0.9)


def learning_curve_bands(table: pd.DataFrame, band=BAND) -> pd.DataFrame:
    """Per ``t``: ``sessions`` (how many still learn) and, for ``price`` and ``profit``,
    the median and the ``band`` quantiles across them (``<col>_median``, ``<col>_lo``,
    ``<col>_hi``)."""
    by_t = table.groupby("t", sort=True)
    out = pd.DataFrame({"t": sorted(table["t"].unique()), "sessions": by_t.size().to_numpy()})
    for col in ("price", "profit"):
        out[f"{col}_median"] = by_t[col].median().to_numpy()
        out[f"{col}_lo"] = by_t[col].quantile(band[0]).to_numpy()
        out[f"{col}_hi"] = by_t[col].quantile(band[1]).to_numpy()
    return out


def plot_learning_curve(table: pd.DataFrame, nash=None, coop=None, band=BAND):
    """Two panels over periods ``t``: price and profit, median across the sessions with
    the ``band`` quantiles shaded; ``nash`` / ``coop``: optional ``(price, profit)`` pairs
    drawn as reference lines. Returns a :class:`matplotlib.figure.Figure`."""
    from matplotlib.figure import Figure

    bands = learning_curve_bands(table, band)
    fig = Figure(figsize=(6.4, 5.6))
    axes = fig.subplots(2, 1, sharex=True)
    for k, (ax, col) in enumerate(zip(axes, ("price", "profit"), strict=True)):
        line, = ax.plot(bands["t"], bands[f"{col}_median"], label="median over sessions")
        ax.fill_between(bands["t"], bands[f"{col}_lo"], bands[f"{col}_hi"], color=line.get_color(),
                        alpha=0.2, label=f"{band[0]:.0%}-{band[1]:.0%} of sessions")
        for ref, style, label in ((nash, "--", "Nash"), (coop, ":", "monopoly")):
            if ref is not None:
                ax.axhline(ref[k], color="grey", ls=style, lw=1, label=label)
        ax.set_ylabel(col)
        ax.legend(fontsize=8)
    axes[0].set_title("Learning curve: sampled play while learning (mean over agents and window)")
    axes[1].set_xlabel("period t")
    fig.tight_layout()
    return fig


def plot_seed_curves(curve: pd.DataFrame, columns):
    """One panel per column of ``columns`` found in ``curve`` (a learn run's ``curve``
    table), against ``periods``: a line and markers per seed; the training seconds of each
    seed's last point in its label. Returns a :class:`matplotlib.figure.Figure`, or None
    when no column is there."""
    from matplotlib.figure import Figure

    columns = [c for c in columns if c in curve]
    if not columns:
        return None
    fig = Figure(figsize=(6.4, 2.4 * len(columns) + 0.8))
    axes = fig.subplots(len(columns), 1, sharex=True, squeeze=False)[:, 0]
    for seed, rows in curve.sort_values("periods").groupby("seed", sort=True):
        secs = rows["train_seconds"].iloc[-1] if "train_seconds" in rows else None
        label = f"seed {seed}" + (f" ({secs / 60:.0f} min)" if secs is not None and pd.notna(secs) else "")
        for ax, col in zip(axes, columns, strict=True):
            ax.plot(rows["periods"], rows[col], marker="o", ms=3, lw=1, label=label)
    for ax, col in zip(axes, columns, strict=True):
        ax.set_ylabel(col)
    axes[0].legend(fontsize=7, ncol=2)
    axes[0].set_title("Learning curve: kept policies evaluated, by seed")
    axes[-1].set_xlabel("periods trained (per seed)")
    fig.tight_layout()
    return fig
