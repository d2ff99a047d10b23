"""The tabular kind end to end on a small economy: tables, columns, figures, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from marketsai import analysis
from marketsai.cli import main
from marketsai.economy import load_economy
from marketsai.tabular import QLearningConfig, run_sessions

ROOT = Path(__file__).resolve().parents[1]
ECONOMY = ROOT / "economies" / "bertrand_duopoly.yaml"
SMALL = f"""\
kind: tabular
name: small
economy: {ECONOMY}
seed: 11
sessions: 6
chunk_size: 4
learner: {{alpha: 0.15, beta: 5.0e-4, stable_periods: 500}}
analysis: {{impulse_response: [best_response, nash, calvano_fortran], impulse_periods: 6}}
reference: {{profit_gain: 0.849}}
"""


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tab")
    (tmp / "small.yaml").write_text(SMALL)
    res = CliRunner().invoke(main, ["run", str(tmp / "small.yaml"), "--out", str(tmp / "run"),
                                    "--set", "sessions=5", "--set", "learner.alpha=0.2",
                                    "--no-progress"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return tmp / "run", res.output


def test_cli_run_prints_summary_beside_published(small_run):
    _, output = small_run
    assert "Table I layout" in output
    line = next(ln for ln in output.splitlines() if ln.startswith("profit_gain "))
    assert line.split()[-1] == "0.8490"


def test_set_overrides_reach_the_config(small_run):
    run, _ = small_run
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    assert cfg["sessions"] == 5 and cfg["learner"]["alpha"] == 0.2
    assert cfg["learner"]["stable_periods"] == 500 and cfg["learner"]["q0"] == "calvano"


def test_results_columns_and_files(small_run):
    run, _ = small_run
    res = pd.read_parquet(run / "results.parquet")
    expected = ["session", "seed", "converged", "periods", "cycle_length", "mean_price",
                "profit_gain"]
    assert list(res.columns[:7]) == expected
    for i in (0, 1):
        for c in ("mean_price", "mean_profit", "profit_gain", "eq_on_path", "eq_all_states",
                  "br_share"):
            assert f"{c}_{i}" in res
    assert {"eq_on_path", "eq_all_states", "osd_on_path", "osd_all_states"} <= set(res.columns)
    assert (res["osd_all_states"] == res["eq_all_states"]).all()  # one-shot deviation principle
    assert res["session"].tolist() == list(range(5))
    assert len(pd.read_csv(run / "results.csv")) == 5
    imp = pd.read_parquet(run / "impulse_response.parquet")
    assert list(imp.columns) == ["session", "deviation", "t", "price_0", "price_1"]
    assert len(imp) == 5 * 3 * 7
    for name in ("impulse_response_best_response", "impulse_response_nash",
                 "impulse_response_calvano_fortran",
                 "profit_gain_histogram", "cycle_lengths", "learning_curve"):
        assert (run / "figures" / f"{name}.png").stat().st_size > 1000
    summary = json.loads((run / "summary.json").read_text())
    assert summary["sessions"] == 5
    assert summary["profit_gain"] == pytest.approx(res["profit_gain"].mean())
    assert summary["reference"] == {"profit_gain": 0.849}
    assert [r["cycle"] for r in summary["table_1"]] == ["1", "2", "3+", "all"]


def test_results_match_the_engine_and_the_analysis(small_run):
    """The run folder holds exactly what run_sessions gives for those sessions, and the
    analysis' limit cycles agree with the engine's."""
    run, _ = small_run
    res = pd.read_parquet(run / "results.parquet")
    game = load_economy(ECONOMY).finite_game()
    direct = run_sessions(game, QLearningConfig(alpha=0.2, beta=5e-4, stable_periods=500),
                          seed=11, sessions=range(5))
    frame = direct.to_frame()
    pd.testing.assert_frame_equal(res[frame.columns], frame)
    cyc = analysis.limit_cycles(game, direct.strategies, start_states=direct.final.state)
    np.testing.assert_array_equal(cyc.length, frame["cycle_length"])
    np.testing.assert_allclose(cyc.mean_price.mean(axis=1), frame["mean_price"])
    imp = pd.read_parquet(run / "impulse_response.parquet")
    pre = imp[imp["t"] == 0].groupby("session")[["price_0", "price_1"]].first().mean(axis=1)
    np.testing.assert_allclose(pre.to_numpy(), frame["mean_price"])


def test_report_command_redraws(small_run):
    run, _ = small_run
    for p in (run / "figures").glob("*.png"):
        p.unlink()
    res = CliRunner().invoke(main, ["report", str(run)], catch_exceptions=False)
    assert res.exit_code == 0 and "profit_gain" in res.output
    assert len(list((run / "figures").glob("*.png"))) == 6  # 3 impulse responses, histogram, cycle lengths, learning curve


def test_cli_interrupt_and_resume(tmp_path, small_run, monkeypatch):
    """Ctrl-C after one chunk (simulated): exit 130, the chunk is kept, rerunning the same
    command computes only the rest and gives the uninterrupted run's tables."""
    full, _ = small_run
    (tmp_path / "small.yaml").write_text(SMALL)
    args = ["run", str(tmp_path / "small.yaml"), "--out", str(tmp_path / "run"),
            "--set", "sessions=5", "--set", "learner.alpha=0.2", "--no-progress"]
    monkeypatch.setenv("MARKETSAI_STOP_AFTER_CHUNKS", "1")
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 130 and "rerun the same command to resume" in res.output
    marker = tmp_path / "run" / "chunks" / "s0000000-0000003" / "done.json"
    mtime = marker.stat().st_mtime_ns
    monkeypatch.delenv("MARKETSAI_STOP_AFTER_CHUNKS")
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert marker.stat().st_mtime_ns == mtime
    log = (tmp_path / "run" / "log").read_text()
    assert "2 units (5 sessions), 1 already done" in log
    for name in ("results", "impulse_response"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "run" / f"{name}.parquet"),
                                      pd.read_parquet(full / f"{name}.parquet"))
