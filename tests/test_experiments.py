"""Runner machinery (run folders, resume, overrides, validation) with a cheap test kind."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from marketsai.errors import SpecError
from marketsai.params import Param, positive, positive_int
from marketsai.runner import (
    ExperimentKind,
    Unit,
    experiment_kinds,
    load_experiment,
    report,
    run_experiment,
)
from marketsai.runner.execute import CHUNK_LIMIT_ENV

ECONOMY = str(Path(__file__).resolve().parents[1] / "economies" / "bertrand_duopoly.yaml")
CALLS: list[str] = []


@experiment_kinds.register("test_draws")
class DrawsKind(ExperimentKind):
    """Per-session uniform draws from (seed, session): cheap and deterministic."""

    schema = {"sessions": Param(10, positive_int), "chunk_size": Param(3, positive_int),
              "scale": Param(1.0, positive)}
    size_keys = ("sessions",)
    sweep_value = "mean_value"

    def units(self, cfg):
        n, c = cfg["sessions"], cfg["chunk_size"]
        return [Unit(f"s{lo:04d}", min(c, n - lo), {"lo": lo, "hi": min(n, lo + c)})
                for lo in range(0, n, c)]

    def run_unit(self, cfg, unit, threads=None):
        CALLS.append(unit.id)
        sessions = np.arange(unit.params["lo"], unit.params["hi"])
        values = [np.random.default_rng([cfg["seed"], s]).random() * cfg["scale"] for s in sessions]
        return {"results": pd.DataFrame({"session": sessions, "value": values,
                                         "converged": np.ones(len(sessions), bool)})}

    def summarise(self, tables, cfg):
        return {"sessions": len(tables["results"]),
                "mean_value": float(tables["results"]["value"].mean())}

    def figures(self, tables, cfg, summary):
        from matplotlib.figure import Figure
        fig = Figure()
        fig.add_subplot().hist(tables["results"]["value"])
        return {"values": fig}


def exp(**kw):
    return {"kind": "test_draws", "economy": ECONOMY, "seed": 3} | kw


def test_run_folder_contents(tmp_path):
    run = run_experiment(exp(name="demo"), out=tmp_path / "run", progress=False)
    for name in ("config.yaml", "results.parquet", "results.csv", "summary.json", "log",
                 "figures/values.png"):
        assert (run / name).is_file(), name
    res = pd.read_parquet(run / "results.parquet")
    assert list(res.columns) == ["session", "value", "converged"]
    assert res["session"].tolist() == list(range(10))
    assert pd.read_csv(run / "results.csv")["value"].round(12).tolist() == res["value"].round(12).tolist()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["sessions"] == 10 and summary["experiment"] == "demo"
    # config.yaml is fully resolved and is itself a valid experiment
    cfg = load_experiment(run / "config.yaml").config
    assert cfg["economy"]["markets"][0]["params"]["mu"] == 0.25
    assert cfg["chunk_size"] == 3 and cfg["scale"] == 1.0
    assert len(list((run / "chunks").iterdir())) == 4


def test_resume_skips_finished_chunks(tmp_path, monkeypatch):
    full = run_experiment(exp(), out=tmp_path / "full", progress=False)
    CALLS.clear()
    monkeypatch.setenv(CHUNK_LIMIT_ENV, "2")
    with pytest.raises(KeyboardInterrupt):
        run_experiment(exp(), out=tmp_path / "part", progress=False)
    assert CALLS == ["s0000", "s0003"]
    assert not (tmp_path / "part" / "results.parquet").exists()
    done = {p.parent.name: p.stat().st_mtime_ns for p in (tmp_path / "part" / "chunks").glob("*/done.json")}
    assert sorted(done) == ["s0000", "s0003"]
    monkeypatch.delenv(CHUNK_LIMIT_ENV)
    CALLS.clear()
    run_experiment(exp(), out=tmp_path / "part", progress=False)
    assert CALLS == ["s0006", "s0009"]  # finished chunks were not recomputed
    after = {p.parent.name: p.stat().st_mtime_ns for p in (tmp_path / "part" / "chunks").glob("*/done.json")}
    assert all(after[k] == v for k, v in done.items())
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "part" / "results.parquet"),
                                  pd.read_parquet(full / "results.parquet"))
    # a complete run reruns nothing
    CALLS.clear()
    run_experiment(exp(), out=tmp_path / "part", progress=False)
    assert CALLS == []


def test_different_config_refused_unless_force(tmp_path):
    run_experiment(exp(sessions=6), out=tmp_path / "r", progress=False)
    with pytest.raises(SpecError, match="different configuration.*scale"):
        run_experiment(exp(sessions=6, scale=2.0), out=tmp_path / "r", progress=False)
    CALLS.clear()
    run_experiment(exp(sessions=9), out=tmp_path / "r", progress=False, force=True)
    assert CALLS == ["s0006"]  # more sessions: the old chunks still fit and are reused
    CALLS.clear()
    run_experiment(exp(sessions=9, scale=2.0), out=tmp_path / "r", progress=False, force=True)
    assert CALLS == ["s0000", "s0003", "s0006"]  # a changed parameter recomputes everything
    res = pd.read_parquet(tmp_path / "r" / "results.parquet")
    assert len(res) == 9 and res["value"].max() <= 2.0


def test_overrides_and_chunking_do_not_change_results(tmp_path):
    a = run_experiment(exp(), out=tmp_path / "a", progress=False)
    b = run_experiment(exp(), out=tmp_path / "b", progress=False, overrides={"chunk_size": 7})
    ra, rb = (pd.read_parquet(p / "results.parquet") for p in (a, b))
    pd.testing.assert_frame_equal(ra, rb)
    c = run_experiment(exp(), out=tmp_path / "c", progress=False,
                       overrides={"scale": 2.0, "sessions": 4})
    rc = pd.read_parquet(c / "results.parquet")
    np.testing.assert_allclose(rc["value"], 2 * ra["value"][:4])


def test_sweep_table_and_summary(tmp_path):
    run = run_experiment(exp(sessions=4, sweep={"scale": [1, 2, 3], "seed": {"values": [3, 4]}}),
                         out=tmp_path / "s", progress=False)
    res = pd.read_parquet(run / "results.parquet")
    assert list(res.columns[:3]) == ["cell", "scale", "seed"]
    assert len(res) == 3 * 2 * 4 and res["cell"].nunique() == 6
    summary = json.loads((run / "summary.json").read_text())
    assert [c["scale"] for c in summary["cells"]] == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]
    assert (run / "figures" / "heatmap_mean_value.png").is_file()
    # a cell equals a standalone run with the cell's values
    alone = run_experiment(exp(sessions=4, scale=2, seed=4), out=tmp_path / "alone", progress=False)
    cell = res[res["cell"] == 3].drop(columns=["cell", "scale", "seed"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(cell, pd.read_parquet(alone / "results.parquet"))


def test_report_redraws_from_tables(tmp_path):
    run = run_experiment(exp(), out=tmp_path / "r", progress=False)
    (run / "figures" / "values.png").unlink()
    (run / "summary.json").unlink()
    report(run)
    assert (run / "figures" / "values.png").is_file()
    assert json.loads((run / "summary.json").read_text())["sessions"] == 10


@pytest.mark.parametrize("data, path, match", [
    (exp(scael=2), "scael", "did you mean 'scale'"),
    (exp(scale=-1), "scale", "invalid value"),
    (exp(sessions=2.5), "sessions", "invalid value"),
    ({"kind": "tabulr", "economy": ECONOMY}, "kind", "did you mean 'tabular'"),
    (exp(economy="nope.yaml"), "economy", "no such economy file or shipped economy"),
    (exp(sweep={"scale": {"linspace": [0, 1]}}), "sweep.scale", "invalid sweep range"),
    (exp(sweep={"scale": [1, -2]}), "sweep.scale", "sweep value rejected"),
    (exp(sweep={"scal": [1]}), "sweep.scal", "no such key"),
    (exp(economy={"name": "x"}), "economy", "missing"),
])
def test_validation_errors_name_the_field(data, path, match):
    with pytest.raises(SpecError, match=match) as info:
        load_experiment(data)
    assert info.value.path.startswith(path)


def test_economy_file_is_not_an_experiment():
    with pytest.raises(SpecError, match="economy file"):
        load_experiment(ECONOMY)


def test_economy_override(tmp_path):
    e = load_experiment(exp(), {"economy.markets[0].params.mu": 0.1, "economy.discount": 0.9})
    assert e.config["economy"]["markets"][0]["params"]["mu"] == 0.1
    assert e.config["economy"]["discount"] == 0.9
    with pytest.raises(SpecError, match="mu"):
        load_experiment(exp(), {"economy.markets[0].params.mu": -1})


def test_economy_overrides_in_the_file(tmp_path):
    """``economy_overrides`` in the file: the config ``--set economy.<key>`` gives, spent
    into the inline economy (no key left), so a run folder made from either resumes the other."""
    written = exp(economy_overrides={"markets[0].params.mu": 0.1, "economy.discount": 0.9}, sessions=6)
    from_file = load_experiment(written)
    from_cli = load_experiment(exp(sessions=6), {"economy.markets[0].params.mu": 0.1, "economy.discount": 0.9})
    assert from_file.config == from_cli.config and "economy_overrides" not in from_file.config
    assert from_file.config["economy"]["markets"][0]["params"]["mu"] == 0.1
    assert [from_file.unit_hash(0, u) for _, u, _ in from_file.units()] == \
        [from_cli.unit_hash(0, u) for _, u, _ in from_cli.units()]
    run = run_experiment(written, out=tmp_path / "r", progress=False)
    CALLS.clear()
    run_experiment(run / "config.yaml", out=run, progress=False)  # the resolved file, economy inline
    assert CALLS == []
    # the command line applies after the file, on a key it wrote or on a mapping above one
    later = load_experiment(written, {"economy.discount": 0.8, "economy.markets[0].params": {"mu": 0.3}})
    assert later.config["economy"]["discount"] == 0.8
    assert later.config["economy"]["markets"][0]["params"]["mu"] == 0.3


@pytest.mark.parametrize("section, sets, path, match", [
    ({"markets[0].params.muu": 0.1}, {}, "economy_overrides.markets[0].params.muu", "did you mean 'mu'"),
    ({"economy.discount": "high"}, {}, "economy_overrides.discount", "invalid value"),
    ({"markets[3].params.mu": 0.1}, {}, "economy_overrides.markets[3].params.mu", "no such list element"),
    ({"markets..mu": 0.1}, {}, "economy_overrides", "malformed key"),
    ({"discount": 0.9, "economy.discount": 0.9}, {}, "economy_overrides.economy.discount", "twice"),
    ([["discount", 0.9]], {}, "economy_overrides", "invalid value"),
    ({"discount": 0.9}, {"economy_overrides.discount": 0.8}, "economy_overrides.discount", "not set from outside"),
    ({"discount": -1}, {"economy.agents[0].params.cost": -1}, "economy_overrides.discount", "invalid value"),
])
def test_economy_overrides_errors_name_the_section(section, sets, path, match):
    with pytest.raises(SpecError, match=match) as info:
        load_experiment(exp(economy_overrides=section), sets)
    assert info.value.path == path


def test_economy_overrides_error_after_a_later_override_names_the_later_one():
    with pytest.raises(SpecError) as info:  # the command line replaced what the file wrote
        load_experiment(exp(economy_overrides={"discount": 0.9}), {"economy.discount": -1})
    assert info.value.path == "economy.discount"


def test_a_swept_economy_would_drop_the_files_economy_overrides():
    with pytest.raises(SpecError, match="replace the one economy_overrides changed") as info:
        load_experiment(exp(economy_overrides={"discount": 0.9}, sweep={"economy": [ECONOMY]}))
    assert info.value.path == "sweep.economy"


def test_published_values_are_dropped_when_an_override_changes_the_economy():
    """The baseline file's published column belongs to its duopoly: run on another economy
    (``--set economy=...`` or an ``economy.*`` key) it would sit beside unrelated numbers."""
    from marketsai.errors import SpecWarning

    base = Path(__file__).resolve().parents[1] / "experiments" / "calvano2020" / "baseline.yaml"
    assert load_experiment(base, {"sessions": 4}).config["reference"]["profit_gain"] == 0.849
    with pytest.warns(SpecWarning, match="economy.agents\\[0\\].params.cost changed"):
        exp = load_experiment(base, {"economy.agents[0].params.cost": 1.1})
    assert exp.config["reference"] == {}
