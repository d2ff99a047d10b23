"""Sweeps: identical results locally, with other thread counts and chunkings, and as
Ray tasks on a real local cluster (the ``ray_cluster`` fixture in conftest.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numba
import pandas as pd
import pytest

from marketsai.runner import load_experiment, run_experiment

ECONOMY = Path(__file__).resolve().parents[1] / "economies" / "bertrand_duopoly.yaml"


def small_sweep(**kw):
    """2 x 2 cells x 6 sessions of a 5-price Bertrand duopoly that converges in ~1e4 periods."""
    return {
        "kind": "tabular", "name": "sweep-test", "seed": 7, "economy": str(ECONOMY),
        "sessions": 6, "chunk_size": 3,
        "learner": {"alpha": 0.15, "beta": 1e-3, "stable_periods": 300},
        "analysis": {"impulse_response": ["best_response"], "impulse_periods": 5},
        "sweep": {"learner.alpha": [0.1, 0.2], "learner.beta": {"logspace": [5e-4, 2e-3, 2]}},
    } | kw


OVERRIDES = {"economy.agents[0].action.points": 5}  # the file entry of both firms


def tables(run: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(run / f"{name}.parquet")
            for name in ("results", "impulse_response")}


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "local"
    return run_experiment(small_sweep(), out=out, overrides=OVERRIDES, progress=False, threads=1)


def test_sweep_cells(local_run):
    exp = load_experiment(small_sweep(), OVERRIDES)
    assert exp.cells == [{"learner.alpha": a, "learner.beta": b}
                         for a in (0.1, 0.2) for b in (5e-4, 2e-3)]
    res = tables(local_run)["results"]
    assert len(res) == 4 * 6
    assert list(res.columns[:3]) == ["cell", "learner.alpha", "learner.beta"]
    assert res.groupby("cell")["session"].apply(list).tolist() == [list(range(6))] * 4
    summary = json.loads((local_run / "summary.json").read_text())
    assert len(summary["cells"]) == 4 and "profit_gain" in summary["cells"][0]
    assert (local_run / "figures" / "heatmap_profit_gain.png").is_file()


def test_sweep_independent_of_threads_and_chunks(local_run, tmp_path):
    # two threads where the machine has them (NUMBA_NUM_THREADS=1: only the chunks differ;
    # thread independence is then left to test_tabular_parity, which skips)
    threads = min(2, numba.config.NUMBA_NUM_THREADS)
    other = run_experiment(small_sweep(chunk_size=4), out=tmp_path / "other",
                           overrides=OVERRIDES, progress=False, threads=threads)
    for name, frame in tables(local_run).items():
        pd.testing.assert_frame_equal(frame, tables(other)[name], obj=name)


def test_sweep_cell_equals_single_run(local_run, tmp_path):
    single = run_experiment(small_sweep(sweep={}), out=tmp_path / "single", progress=False,
                            overrides=OVERRIDES | {"learner.alpha": 0.2, "learner.beta": 5e-4})
    res = tables(local_run)["results"]
    cell = res[res["cell"] == 2].drop(columns=["cell", "learner.alpha", "learner.beta"])
    pd.testing.assert_frame_equal(cell.reset_index(drop=True),
                                  tables(single)["results"])


@pytest.mark.cluster
@pytest.mark.rllib
def test_sweep_on_ray_cluster_matches_local(local_run, ray_cluster, tmp_path):
    import ray
    ray.shutdown()  # another test may have left a local instance running
    try:
        remote = run_experiment(small_sweep(), out=tmp_path / "ray", overrides=OVERRIDES,
                                progress=False, address=ray_cluster)
    finally:
        ray.shutdown()
    assert not ray.is_initialized()
    log = (remote / "log").read_text()
    assert f"address {ray_cluster}" in log
    for name, frame in tables(local_run).items():
        pd.testing.assert_frame_equal(frame, tables(remote)[name], obj=name)
    done = [json.loads(p.read_text()) for p in (remote / "chunks").glob("*/done.json")]
    assert len(done) == 8 and all(d["cpu_seconds"] > 0 for d in done)  # timed on the worker


#: a cases axis: each label sets two keys together (the economy's grid and the learner's step)
CASES = {"grid": {"cases": {"coarse": {"economy.agents[0].action.points": 4, "learner.alpha": 0.1},
                            "fine": {"economy.agents[0].action.points": 6, "learner.alpha": 0.2}}}}


def test_sweep_cases_set_keys_together(tmp_path):
    exp = load_experiment(small_sweep(sweep=CASES, sessions=3))
    assert exp.cells == [{"grid": "coarse"}, {"grid": "fine"}]
    fine = exp.cell_config(1)
    assert fine["learner"]["alpha"] == 0.2 and fine["economy"]["agents"][0]["action"]["points"] == 6
    run = run_experiment(small_sweep(sweep=CASES, sessions=3), out=tmp_path / "cases", progress=False)
    single = run_experiment(small_sweep(sweep={}, sessions=3), out=tmp_path / "single", progress=False,
                            overrides={"economy.agents[0].action.points": 6, "learner.alpha": 0.2})
    res = tables(run)["results"]
    assert list(res.columns[:2]) == ["cell", "grid"]
    cell = res[res["grid"] == "fine"].drop(columns=["cell", "grid"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(cell, tables(single)["results"])


@pytest.mark.parametrize("sweep, message", [
    ({"learner": {"cases": {"a": {"learner.alpha": 0.1}}}}, "a cases axis is a name"),
    ({"g": {"cases": {"a": {"learner.nope": 0.1}}}}, "no such key to sweep"),
    ({"g": {"cases": {"a": {"learner.alpha": -1.0}}}}, "sweep value rejected"),
    ({"g": {"cases": {"a": 0.1}}}, "invalid sweep cases"),
])
def test_sweep_cases_refused(sweep, message):
    from marketsai.errors import SpecError
    with pytest.raises(SpecError, match=message):
        load_experiment(small_sweep(sweep=sweep))


def test_chunks_record_wall_and_cpu_seconds(local_run):
    """The cost model (experiments/calvano2020/heatmap_cost.py) reads both from done.json."""
    done = [json.loads(p.read_text()) for p in sorted((local_run / "chunks").glob("*/done.json"))]
    assert len(done) == 8
    assert all(d["seconds"] > 0 and d["cpu_seconds"] > 0 for d in done)


def test_heatmap_range_from_the_reference_section():
    """A sweep's heat map draws the file's published range (here Calvano's Figure 1 numbers,
    so it is named as Figure 1); a malformed range is refused when the file is read."""
    from marketsai.errors import SpecError
    from marketsai.runner.run import sweep_figures
    figure_1 = {"low": 0.64, "high": 0.94, "at_least": {"learner.alpha": 0.025}}
    exp = load_experiment(small_sweep(reference={"heatmap_range": figure_1}))
    cells = pd.DataFrame([c | {"profit_gain": g} for c, g in zip(exp.cells, (0.9, 0.5, 0.7, 0.97), strict=True)])
    fig = sweep_figures(exp, cells)["heatmap_profit_gain"]
    hatched = {(p.get_x() + 0.5, p.get_y() + 0.5) for p in fig.axes[0].patches
               if p.get_gid() == "outside_published"}
    assert hatched == {(0, 1), (1, 1)}  # (alpha 0.1, beta 2e-3): 0.5; (0.2, 2e-3): 0.97
    assert any("(Calvano et al. (2020), Figure 1)" in t.get_text() for t in fig.texts)
    for bad, where in (({"low": 0.9, "high": 0.1}, "heatmap_range"),
                       ({"low": 0.1, "high": 0.9, "at_least": {"learner.gamma": 0.1}},
                        "heatmap_range.at_least.learner.gamma")):
        with pytest.raises(SpecError, match=re.escape(f"reference.{where} =")):
            load_experiment(small_sweep(reference={"heatmap_range": bad}), OVERRIDES)


def test_unmoved_sessions_are_counted_and_marked_on_the_heat_map(tmp_path):
    """A session whose greedy strategy never changed stops after exactly stable_periods: a
    step size too small to move any greedy action within the stop window (alpha 1e-6) gives
    unmoved_share 1 in its cells; the learning cells of the same sweep give 0 (with a window
    of 300 periods some of them stop unmoved too: a window short against the exploration
    leaves greedy actions unvisited, so the share is the stop rule's, not a proof of
    learning); the heat map
    dots exactly the unmoved cells and says what the dot means."""
    from marketsai.runner.run import sweep_figures
    spec = small_sweep(sessions=3, chunk_size=3, analysis={"impulse_response": []},
                       learner={"alpha": 0.15, "beta": 1e-3, "stable_periods": 2000},
                       sweep={"learner.alpha": [1e-6, 0.2], "learner.beta": [5e-4, 2e-3]})
    run = run_experiment(spec, out=tmp_path / "run", overrides=OVERRIDES, progress=False, threads=1)
    res = pd.read_parquet(run / "results.parquet")
    cells = pd.DataFrame(json.loads((run / "summary.json").read_text())["cells"])
    tiny = res["learner.alpha"] == 1e-6
    assert (res.loc[tiny, "periods"] == 2000).all() and (res.loc[~tiny, "periods"] > 2000).all()
    assert cells["unmoved_share"].tolist() == [1.0, 1.0, 0.0, 0.0]
    fig = sweep_figures(load_experiment(spec, OVERRIDES), cells)["heatmap_profit_gain"]
    dots = [c for c in fig.axes[0].collections if c.get_gid() == "flagged"]
    assert len(dots) == 1 and sorted(map(tuple, dots[0].get_offsets().tolist())) == [(0.0, 0.0), (0.0, 1.0)]
    assert any("unmoved" in t.get_text() for t in fig.texts)
