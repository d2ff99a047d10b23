"""Heat maps of a statistic over a two-dimensional sweep (Calvano et al. 2020, Figure 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def heatmap_table(results: pd.DataFrame, x: str, y: str, value: str = "profit_gain",
                  stat: str = "mean") -> pd.DataFrame:
    """Pivot a per-session sweep table into a grid: index ``y``, columns ``x``.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 1, 2, 2], "b": [10, 20, 10, 20], "v": [0.1, 0.2, 0.3, 0.5]})
    >>> heatmap_table(df, "a", "b", "v").values.tolist()
    [[0.1, 0.3], [0.2, 0.5]]
    """
    for col in (x, y, value):
        if col not in results:
            raise KeyError(f"column {col!r} not in the table (has {list(results.columns)})")
    return results.pivot_table(index=y, columns=x, values=value, aggfunc=stat).sort_index()


def plot_heatmap(table: pd.DataFrame, xlabel=None, ylabel=None, title="Profit gain",
                 cmap="viridis", annotate: bool | None = None, max_ticks: int = 10):
    """Draw a :func:`heatmap_table` grid, one cell per swept value (rows: the ``y`` values,
    increasing upwards). Cells are annotated with their value when the grid is small
    (at most 12 x 12) unless told otherwise. Returns a :class:`matplotlib.figure.Figure`.
    """
    from matplotlib.figure import Figure

    grid = table.to_numpy(dtype=float)
    ny, nx = grid.shape
    annotate = (nx <= 12 and ny <= 12) if annotate is None else annotate
    fig = Figure(figsize=(6.4, 5.0))
    ax = fig.add_subplot()
    image = ax.imshow(grid, origin="lower", cmap=cmap, aspect="auto")
    fig.colorbar(image, ax=ax, label=title)
    for axis, values, n in ((ax.xaxis, table.columns, nx), (ax.yaxis, table.index, ny)):
        ticks = np.unique(np.linspace(0, n - 1, min(n, max_ticks)).round().astype(int))
        axis.set_ticks(ticks)
        axis.set_ticklabels([f"{float(values[i]):.3g}" for i in ticks])
    if annotate:
        lo, hi = np.nanmin(grid), np.nanmax(grid)
        for (i, j), v in np.ndenumerate(grid):
            if np.isfinite(v):
                dark = hi > lo and (v - lo) / (hi - lo) > 0.6
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="black" if dark else "white")
    ax.set_xlabel(xlabel or str(table.columns.name))
    ax.set_ylabel(ylabel or str(table.index.name))
    ax.set_title(title)
    fig.tight_layout()
    return fig
