"""Heat maps of a statistic over a two-dimensional sweep (Calvano et al. 2020, Figure 1)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PublishedRange:
    """A published range ``[low, high]`` of a heat map's value, on the cells whose swept
    values are at least ``at_least[key]`` (e.g. Calvano et al.'s Figure 1: Delta roughly
    0.64 to 0.94 for alpha >= 0.025), so a figure can show where ours leaves it."""

    low: float
    high: float
    at_least: dict = field(default_factory=dict)  # swept key -> smallest value the range covers
    source: str = "experiment file reference"

    def covers(self, table: pd.DataFrame) -> np.ndarray:
        """Boolean grid (the shape of ``table``): the cells the range speaks of."""
        rows = np.ones(len(table.index), bool)
        cols = np.ones(len(table.columns), bool)
        for key, least in self.at_least.items():
            if key == table.index.name:
                rows &= np.asarray(table.index, float) >= least
            elif key == table.columns.name:
                cols &= np.asarray(table.columns, float) >= least
            else:
                raise KeyError(f"{key!r} is not an axis of the heat map "
                               f"({table.columns.name!r}, {table.index.name!r})")
        return rows[:, None] & cols[None, :]

    def outside(self, table: pd.DataFrame) -> np.ndarray:
        """Boolean grid: covered cells whose value lies outside ``[low, high]``."""
        grid = table.to_numpy(dtype=float)
        return self.covers(table) & np.isfinite(grid) & ((grid < self.low) | (grid > self.high))

    @property
    def label(self) -> str:
        where = ", ".join(f"{k} >= {v:g}" for k, v in self.at_least.items())
        return (f"published {self.low:g} to {self.high:g}" + (f" for {where}" if where else "")
                + f" ({self.source}); hatched: outside it")


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
                 cmap="viridis", annotate: bool | None = None, max_ticks: int = 10,
                 published: PublishedRange | None = None, flagged: np.ndarray | None = None,
                 flag_label: str = "flagged"):
    """Draw a :func:`heatmap_table` grid, one cell per swept value (rows: the ``y`` values,
    increasing upwards). Cells are annotated with their value when the grid is small
    (at most 12 x 12) unless told otherwise. ``published``: a published range, drawn as
    lines at its ends on the colour bar (whose limits are widened to hold them) and hatching
    over the covered cells outside it. ``flagged``: a boolean grid (the table's shape) of
    cells to mark with a white dot, whose meaning ``flag_label`` states under the figure
    (e.g. cells where most sessions never moved from their initial strategy). Returns a
    :class:`matplotlib.figure.Figure`.
    """
    from matplotlib.figure import Figure

    grid = table.to_numpy(dtype=float)
    ny, nx = grid.shape
    annotate = (nx <= 12 and ny <= 12) if annotate is None else annotate
    fig = Figure(figsize=(6.4, 5.0))
    ax = fig.add_subplot()
    image = ax.imshow(grid, origin="lower", cmap=cmap, aspect="auto")
    bar = fig.colorbar(image, ax=ax, label=title)
    if published is not None:
        _draw_published(fig, ax, image, bar, table, published)
    if flagged is not None:
        _draw_flagged(fig, ax, np.asarray(flagged, bool), grid.shape, flag_label)
    for axis, values, n in ((ax.xaxis, table.columns, nx), (ax.yaxis, table.index, ny)):
        ticks = np.unique(np.linspace(0, n - 1, min(n, max_ticks)).round().astype(int))
        axis.set_ticks(ticks)
        axis.set_ticklabels([f"{float(values[i]):.3g}" for i in ticks])
    if len(ax.get_xticks()) > 6:  # many columns: slanted labels do not run into each other
        ax.tick_params(axis="x", labelrotation=35)
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
    notes = [t for t in fig.texts if t.get_gid() == "heatmap_note"]
    for k, note in enumerate(notes):  # the notes on lines of their own under the axes
        note.set_y(0.005 + 0.025 * (len(notes) - 1 - k))
    if notes:
        fig.subplots_adjust(bottom=fig.subplotpars.bottom + 0.025 * len(notes))
    return fig


def _draw_published(fig, ax, image, bar, table: pd.DataFrame, published: PublishedRange) -> None:
    from matplotlib.patches import Rectangle

    lo, hi = image.get_clim()
    pad = 0.03 * (published.high - published.low)  # the marks stay visible off the bar's ends
    image.set_clim(min(lo, published.low - pad), max(hi, published.high + pad))
    for end in (published.low, published.high):
        bar.ax.axhline(end, color="tab:red", lw=2, gid="published_range")
    for i, j in zip(*np.nonzero(published.outside(table)), strict=True):
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///",
                               edgecolor="tab:red", lw=0, gid="outside_published"))
    fig.text(0.01, 0.005, published.label, fontsize=6, ha="left", va="bottom", gid="heatmap_note")


def _draw_flagged(fig, ax, flagged: np.ndarray, shape: tuple, label: str) -> None:
    if flagged.shape != shape:
        raise ValueError(f"flagged has shape {flagged.shape}, the heat map {shape}")
    rows, cols = np.nonzero(flagged)
    if len(rows):
        ax.scatter(cols, rows, s=12, c="white", edgecolors="black", linewidths=0.5, gid="flagged")
        fig.text(0.01, 0.005, f"dot: {label}", fontsize=6, ha="left", va="bottom", gid="heatmap_note")
