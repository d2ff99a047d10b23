"""Issue 23, item 7: a run folder explains itself -- ``provenance.json`` records versions,
commit, machine, command and times of every invocation, and stays out of the resume rule."""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tiny_runs import tiny_experiment

import marketsai
from marketsai.runner import provenance, run_experiment

ROOT = Path(__file__).resolve().parents[1]
TINY = tiny_experiment(seed=2, sessions=4)
pytestmark = pytest.mark.timeout(300)


def records(run: Path) -> list[dict]:
    return json.loads((run / "provenance.json").read_text())["runs"]


def test_a_run_records_versions_machine_command_and_times_and_a_resume_appends(tmp_path):
    run = run_experiment(TINY, out=tmp_path / "run", progress=False, threads=1)
    (first,) = records(run)
    assert first["marketsai"] == marketsai.__version__
    assert first["python"] == platform.python_version()
    assert first["packages"]["numpy"] == np.__version__ and first["packages"]["pandas"] == pd.__version__
    assert first["packages"]["numba"] == metadata.version("numba")
    assert set(first["packages"]) >= {"numpy", "numba", "ray", "torch", "gymnasium"}
    assert first["cpus"] >= 1 and first["cpu"] and first["threads"] == 1
    assert first["command"] and first["resumed"] is False and first["outcome"] == "finished"
    if (ROOT / ".git").exists():  # a checkout: the commit is HEAD's 40 hex digits
        assert len(first["git_commit"]) == 40 and isinstance(first["git_dirty"], bool)
    started = datetime.datetime.fromisoformat(first["started"])
    ended = datetime.datetime.fromisoformat(first["ended"])
    assert started <= ended <= datetime.datetime.now(datetime.UTC)
    results = pd.read_parquet(run / "results.parquet")

    run_experiment(TINY, out=run, progress=False)  # resume: nothing recomputed, one more record
    assert "2 units (4 sessions), 2 already done" in (run / "log").read_text()
    again = records(run)
    assert len(again) == 2 and again[0] == first
    assert again[1]["resumed"] is True and again[1]["threads"] is None
    pd.testing.assert_frame_equal(pd.read_parquet(run / "results.parquet"), results)


def test_a_missing_package_is_null_and_never_imported(monkeypatch):
    real = metadata.version

    def version(name):
        if name == "torch":
            raise metadata.PackageNotFoundError(name)
        return real(name)
    monkeypatch.setattr(metadata, "version", version)
    had_torch = "torch" in sys.modules
    rec = provenance.record()
    assert rec["packages"]["torch"] is None
    assert ("torch" in sys.modules) == had_torch


def test_an_interrupted_run_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKETSAI_STOP_AFTER_CHUNKS", "1")
    with pytest.raises(KeyboardInterrupt):
        run_experiment(TINY, out=tmp_path / "run", progress=False)
    (rec,) = records(tmp_path / "run")
    assert rec["outcome"] == "interrupted" and rec["ended"] is not None


def test_a_results_table_gets_a_sidecar_with_command_seed_commit_load_and_its_runs(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    provenance.write(run, [provenance.record(threads=1) | {"outcome": "finished"}])
    table = tmp_path / "results" / "study.csv"
    table.parent.mkdir()
    table.write_text("a\n1\n")
    path = provenance.write_source(table, seed=2020, runs=[run], command="make the table")
    assert path == tmp_path / "results" / "study.source.json"
    side = json.loads(path.read_text())
    assert side["table"] == "study.csv" and side["command"] == "make the table" and side["seed"] == 2020
    assert side["runs"][str(run)] == provenance.read(run)
    assert side["cpu"] and side["cpus"] >= 1 and side["written"]
    if hasattr(os, "getloadavg"):
        assert len(side["load"]) == 3 and len(side["runs"][str(run)][0]["load"]) == 3
    if (ROOT / ".git").exists():
        assert len(side["git_commit"]) == 40


def test_a_benchmark_never_overwrites_a_results_file(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import common
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    first = common.dated("bench", folder=tmp_path)
    first.write_text("quoted by the docs")
    second = common.dated("bench", folder=tmp_path)
    assert first.name.startswith("bench_2") and second != first and not second.exists()
    second.write_text("a later run")
    assert first.read_text() == "quoted by the docs"
    assert common.latest("bench", folder=tmp_path) == second
