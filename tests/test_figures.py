"""Issue 23, item 9: figures are tested by the data they plot.

Every figure the tabular runner writes (``profit_gain_histogram``, ``cycle_lengths``,
``impulse_response_<deviation>``, ``learning_curve``) is drawn from synthetic tables with spread-out values,
NaNs and several cycle classes, and its artists' data -- bar heights and edges, the mean
line, annotations, each path and its quantile band, the reference lines -- are compared
with numbers computed here directly from those tables (not with the plotting code's own
helpers). A run folder's ``figures/`` holds exactly the figures tested here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from marketsai.runner import load_experiment, run_experiment
from marketsai.runner.tabular import game_of

ROOT = Path(__file__).resolve().parents[1]
CONFIG = {
    "kind": "tabular", "name": "figures", "economy": str(ROOT / "economies" / "bertrand_duopoly.yaml"),
    "seed": 1, "sessions": 4, "chunk_size": 2,
    "learner": {"stable_periods": 50, "max_periods": 3000, "beta": 1e-3},
    "analysis": {"impulse_response": ["best_response", "nash"], "equilibrium_check": False},
}
RNG = np.random.default_rng(23)
S, T = 60, 12


@pytest.fixture(scope="module")
def drawn():
    """(tables, figures) of the tabular kind for synthetic tables."""
    cycle = RNG.choice([1, 1, 1, 2, 2, 3, 5], size=S)
    gain = RNG.normal(0.7, 0.15, size=S)
    gain[np.flatnonzero(cycle >= 3)[:3]] = np.nan  # e.g. no Nash-to-monopoly span: undefined
    results = pd.DataFrame({"session": np.arange(S), "cycle_length": cycle, "profit_gain": gain,
                            "converged": True})
    frames = []
    for dev in ("best_response", "nash"):
        prices = RNG.uniform(1.4, 2.0, size=(S // 3, T, 2))
        frames.append(pd.DataFrame({"session": np.repeat(np.arange(S // 3), T), "deviation": dev,
                                    "t": np.tile(np.arange(T), S // 3),
                                    "price_0": prices[:, :, 0].ravel(), "price_1": prices[:, :, 1].ravel()}))
    # learning curves: sessions drop out as they converge (fewer rows at later t)
    stops = RNG.integers(3, 9, size=S // 4)
    curve = pd.DataFrame([{"session": w, "t": k * 50_000, "periods": 100,
                           "price": RNG.uniform(1.45, 1.95), "profit": RNG.uniform(0.2, 0.34)}
                          for w, stop in enumerate(stops) for k in range(stop)])
    tables = {"results": results, "impulse_response": pd.concat(frames, ignore_index=True),
              "learning_curve": curve}
    exp = load_experiment(CONFIG)
    return tables, exp.config, exp.kind.figures(tables, exp.config, {})


def only_axes(fig):
    (ax,) = fig.axes
    return ax


def test_the_histogram_shows_every_finite_gain_and_their_mean(drawn):
    tables, _, figs = drawn
    ax = only_axes(figs["profit_gain_histogram"])
    gain = tables["results"]["profit_gain"].to_numpy()
    finite = gain[np.isfinite(gain)]
    assert finite.size == S - 3
    counts, edges = np.histogram(finite, bins=40)
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_array_equal(heights, counts)
    np.testing.assert_allclose([p.get_x() for p in ax.patches], edges[:-1], rtol=1e-12)
    np.testing.assert_allclose([p.get_width() for p in ax.patches], np.diff(edges), rtol=1e-9)
    (mean_line,) = [ln for ln in ax.lines if ln.get_label().startswith("mean")]
    np.testing.assert_allclose(mean_line.get_xdata(), [finite.mean()] * 2, rtol=1e-12)
    assert mean_line.get_label() == f"mean {finite.mean():.3f}"


def test_the_cycle_bars_are_percent_shares_with_each_class_mean(drawn):
    tables, _, figs = drawn
    ax = only_axes(figs["cycle_lengths"])
    res = tables["results"]
    cycle, gain = res["cycle_length"].to_numpy(), res["profit_gain"].to_numpy()
    classes = {"1": cycle <= 1, "2": cycle == 2, "3+": cycle >= 3}
    bars = ax.patches
    assert len(bars) == 3
    assert [t.get_text() for t in ax.get_xticklabels()] == list(classes)
    for bar, (name, mask) in zip(bars, classes.items(), strict=True):
        assert bar.get_height() == pytest.approx(100 * mask.mean(), rel=1e-12), name
    expected = {name: gain[mask].mean() for name, mask in classes.items()}
    assert np.isnan(expected["3+"])  # undefined gains make the class mean undefined: no label
    notes = {t.get_text(): t.xy for t in ax.texts}
    assert set(notes) == {f"Delta {expected[c]:.3f}" for c in ("1", "2")}
    for bar, name in zip(bars, classes, strict=True):
        if name != "3+":
            x, y = notes[f"Delta {expected[name]:.3f}"]
            assert x == pytest.approx(bar.get_x() + bar.get_width() / 2) and y == bar.get_height()


@pytest.mark.parametrize("dev", ["best_response", "nash"])
def test_each_impulse_response_path_and_band_is_the_sessions_mean_and_quartiles(drawn, dev):
    tables, cfg, figs = drawn
    ax = only_axes(figs[f"impulse_response_{dev}"])
    frame = tables["impulse_response"]
    frame = frame[frame["deviation"] == dev]
    game = game_of(cfg)
    deviator = cfg["analysis"]["impulse_agent"]
    paths = [ln for ln in ax.lines if "(" in ln.get_label()]
    assert len(paths) == 2 and len(ax.collections) == 2
    for i, (line, band) in enumerate(zip(paths, ax.collections, strict=True)):
        by_t = frame.groupby("t")[f"price_{i}"]
        role = "deviator" if i == deviator else "rival"
        assert line.get_label() == f"{game.agents[i]} ({role})"
        np.testing.assert_array_equal(line.get_xdata(), np.arange(T))
        np.testing.assert_allclose(line.get_ydata(), by_t.mean().to_numpy(), rtol=1e-12)
        verts = band.get_paths()[0].vertices
        low, high = by_t.quantile(0.25).to_numpy(), by_t.quantile(0.75).to_numpy()
        for t in range(T):  # the band spans the quartiles at every t
            ys = verts[np.isclose(verts[:, 0], t), 1]
            assert ys.min() == pytest.approx(low[t], rel=1e-12) and ys.max() == pytest.approx(high[t], rel=1e-12)
    for label, benchmark in (("Nash", game.nash_action), ("monopoly", game.coop_action)):
        refs = [ln for ln in ax.lines if ln.get_label().startswith(label)]
        assert refs, label
        for ln in refs:  # horizontal lines at the economy's benchmark prices
            y = np.unique(ln.get_ydata())
            assert len(y) == 1 and np.isclose(y[0], np.asarray(benchmark), rtol=1e-12).any(), label


def test_the_learning_curve_draws_the_median_and_band_of_its_table(drawn):
    tables, cfg, figs = drawn
    curve = tables["learning_curve"]
    game = game_of(cfg)
    ts = np.sort(curve["t"].unique())
    price_ax, profit_ax = figs["learning_curve"].axes
    for ax, col, nash, coop in ((price_ax, "price", game.nash_action, game.coop_action),
                                (profit_ax, "profit", game.nash_payoff, game.coop_payoff)):
        (median,) = [ln for ln in ax.lines if ln.get_label() == "median over sessions"]
        np.testing.assert_array_equal(median.get_xdata(), ts)
        at = [curve.loc[curve["t"] == t, col].to_numpy() for t in ts]
        np.testing.assert_allclose(median.get_ydata(), [np.median(v) for v in at], rtol=1e-12)
        verts = ax.collections[0].get_paths()[0].vertices
        for t, v in zip(ts, at, strict=True):  # the band spans the 10 % and 90 % quantiles
            ys = verts[np.isclose(verts[:, 0], t), 1]
            assert ys.min() == pytest.approx(np.quantile(v, 0.1), rel=1e-12)
            assert ys.max() == pytest.approx(np.quantile(v, 0.9), rel=1e-12)
        for label, ref in (("Nash", nash), ("monopoly", coop)):
            (ln,) = [x for x in ax.lines if x.get_label() == label]
            assert np.unique(ln.get_ydata()) == pytest.approx([np.mean(ref)], rel=1e-12)


def test_a_run_folder_holds_exactly_the_figures_tested_here(drawn, tmp_path):
    run = run_experiment(CONFIG, out=tmp_path / "run", progress=False)
    written = sorted(p.stem for p in (run / "figures").glob("*.png"))
    assert written == sorted(drawn[2])
