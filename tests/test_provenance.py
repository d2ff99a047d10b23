"""Issue 23, item 7: a run folder explains itself -- ``provenance.json`` records versions,
commit, machine, command and times of every invocation, and stays out of the resume rule."""

from __future__ import annotations

import datetime
import json
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
