"""The ``interventions`` experiment kind end to end on a small game: run folder, tables,
summary with CIs, resume without retraining, validation through the experiment file."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from marketsai.errors import SpecError
from marketsai.interventions import baselines
from marketsai.runner import load_experiment, run_experiment

ECONOMY = str(Path(__file__).resolve().parents[1] / "economies" / "bertrand_duopoly.yaml")


def _study(tmp_path) -> dict:
    return {
        "kind": "interventions", "name": "tiny", "seed": 1, "economy": ECONOMY,
        "learner": {"alpha": 0.15, "beta": 2e-4, "stable_periods": 2000},
        "sessions": 12, "chunk_size": 6, "record": {"before": 5, "after": 10},
        "bootstrap": 200, "baseline_dir": str(tmp_path / "cache"),
        "interventions": [
            {"name": "forced", "phases": [{"type": "force_price", "firm": 0, "periods": 5,
                                           "learning": {"firm_0": False}}],
             "sweep": {"phases[0].periods": [1, 20]}},
            {"name": "reset0", "phases": [{"type": "memory_reset", "firm": 0}],
             "protocol": ["correct", "seed"], "sessions": 6},
        ],
        "sensitivity": {"alpha": [0.1], "beta": [2e-4, 5e-4], "sessions": 6,
                        "interventions": ["reset0/correct"]},
    }


OVERRIDES = {"economy.agents[0].action.points": 5}  # the file entry of both firms


def test_study_runs_resumes_and_summarises(tmp_path, monkeypatch):
    out = tmp_path / "run"
    run_experiment(_study(tmp_path), out=out, overrides=OVERRIDES, progress=False)
    res = pd.read_parquet(out / "results.parquet")
    base = pd.read_parquet(out / "baselines.parquet")
    assert (out / "paths.parquet").exists() and (out / "results.csv").exists()
    # main: 12 baselines x 2 forced + 6 x 2 reset protocols; grid: 2 cells x 6 x 1
    assert len(base) == 12 + 2 * 6
    assert len(res) == 12 * 2 + 6 * 2 + 2 * 6
    assert set(res["label"]) == {"forced[periods=1]", "forced[periods=20]", "reset0"}
    # the same baseline sessions under every intervention
    main = res[res["population"] == "main"]
    for _, g in main.groupby(["label", "protocol"]):
        b = base[base["population"] == "main"].set_index("session").loc[g["session"]]
        assert (g["p_base"].to_numpy() == b["price"].to_numpy()).all()
    summary = json.loads((out / "summary.json").read_text())
    rows = pd.DataFrame(summary["interventions"])
    assert {"R_mean", "R_sd", "R_ci_lo", "R_ci_hi", "delta_post_mean", "delta_post_ci_lo"} <= set(rows)
    assert (rows["R_ci_lo"] <= rows["R_mean"] + 1e-12).all()
    assert {"price_paths", "R_distribution", "R_vs_k"} <= {p.stem for p in (out / "figures").glob("*.png")}

    # resume: nothing retrained, nothing recomputed
    calls = []
    monkeypatch.setattr(baselines.tabular, "run_sessions",
                        lambda *a, **k: calls.append(1) or pytest.fail("retrained"))
    run_experiment(_study(tmp_path), out=out, overrides=OVERRIDES, progress=False)
    assert not calls
    # a new run folder reuses the cached baselines (no training either)
    run_experiment(_study(tmp_path), out=tmp_path / "run2", overrides=OVERRIDES, progress=False)
    res2 = pd.read_parquet(tmp_path / "run2" / "results.parquet")
    pd.testing.assert_frame_equal(res, res2)


def test_study_file_validation_names_the_field(tmp_path):
    bad = _study(tmp_path)
    bad["interventions"][1]["phases"][0]["firm"] = 7
    with pytest.raises(SpecError) as err:
        load_experiment(bad, OVERRIDES)
    assert err.value.path == "interventions[1].phases[0].firm"
    bad = _study(tmp_path)
    bad["interventions"][0]["sweep"]["phases[0].periods"] = [1, -3]
    with pytest.raises(SpecError) as err:
        load_experiment(bad, OVERRIDES)
    assert err.value.path == "interventions[0].phases[0].periods"
    bad = _study(tmp_path)
    bad["interventions"][0]["phases"][0]["price"] = "cheap"
    with pytest.raises(SpecError) as err:
        load_experiment(bad, OVERRIDES)
    assert err.value.path == "interventions[0].phases[0].price"
    bad = _study(tmp_path)
    bad["sensitivity"]["interventions"] = ["reset9"]
    with pytest.raises(SpecError) as err:
        load_experiment(bad, OVERRIDES)
    assert err.value.path == "sensitivity.interventions[0]"


def test_shipped_study_file_is_valid():
    path = Path(__file__).resolve().parents[1] / "experiments" / "interventions" / "study.yaml"
    exp = load_experiment(path)
    units = exp.units()
    assert sum(u.size for _, u, _ in units if u.params["type"] == "baseline") == 1000 + 9 * 100
    labels = {u.params["intervention"]["name"] for _, u, _ in units
              if u.params["type"] == "intervention"}
    assert {"forced_nash", "exploration", "reset_firm0", "reset_all"} <= labels


def test_path_sums_of_chunks_combine_to_the_whole():
    import numpy as np

    from marketsai.interventions.measures import combine_paths, path_table

    rng = np.random.default_rng(0)
    prices = rng.uniform(1.4, 2.0, size=(10, 6, 2))
    prices[3, 4:] = np.nan  # a session that stopped early
    whole = combine_paths(path_table(prices, -2, "after").assign(k="x"), ["k"])
    parts = pd.concat([path_table(prices[:4], -2, "after"), path_table(prices[4:], -2, "after")])
    split = combine_paths(parts.assign(k="x"), ["k"])
    pd.testing.assert_frame_equal(whole, split)
    avg = prices.mean(axis=2)
    np.testing.assert_allclose(whole["price_mean"], np.nanmean(avg, axis=0))
    np.testing.assert_allclose(whole["price_sd"], np.nanstd(avg, axis=0, ddof=1))
    assert whole["n"].tolist() == [10, 10, 10, 10, 9, 9]
