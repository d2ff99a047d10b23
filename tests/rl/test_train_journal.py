"""A batched training's journal of segments: the cost of a resumed run is the sum of its pieces.

The journal of an interrupted and resumed run: tests/rl/test_batched_dqn.py (its resume test).
"""

from __future__ import annotations

import datetime
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from rl_helpers import DUOPOLY, batched_dqn_settings  # noqa: E402

from marketsai.economy import load_economy  # noqa: E402
from marketsai.rl.batched_dqn import train_batched  # noqa: E402
from marketsai.rl.train_journal import JOURNAL  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def duopoly():
    return load_economy(DUOPOLY)


def segments(folder: Path) -> list[dict]:
    return json.loads((folder / JOURNAL).read_text())["segments"]


def test_a_journal_of_other_settings_is_started_afresh(duopoly, tmp_path):
    train_batched(duopoly, batched_dqn_settings(periods=40), [0], tmp_path)
    train_batched(duopoly, batched_dqn_settings(periods=60), [0], tmp_path)  # another key: trained anew
    (only,) = segments(tmp_path)
    assert (only["periods_from"], only["periods_to"]) == (0, 60)


def study_table():
    path = ROOT / "experiments" / "tabular_vs_deep" / "study_table.py"
    spec = importlib.util.spec_from_file_location("study_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_run(root: Path, seconds: float, outcomes: list[str], journal: list[dict] | None) -> Path:
    (root / "chunks" / "s0-1").mkdir(parents=True)
    (root / "chunks" / "s0-1" / "done.json").write_text(json.dumps({"seconds": seconds, "cpu_seconds": seconds / 2}))
    (root / "units" / "s0-1").mkdir(parents=True)
    if journal is not None:
        (root / "units" / "s0-1" / JOURNAL).write_text(json.dumps({"key": "k", "segments": journal}))
    (root / "provenance.json").write_text(json.dumps({"runs": [{"outcome": o} for o in outcomes]}))
    return root


def test_the_study_table_counts_every_segment_or_says_it_cannot(tmp_path):
    cost, piece = study_table().cost, {"periods_from": 0, "seconds": 3600.0, "cpu_seconds": 1800.0}
    resumed = fake_run(tmp_path / "a", 1800.0, ["running", "finished"], [piece, piece | {"seconds": 1700.0}])
    assert cost(resumed) == {"wall_hours": 1.5, "cpu_hours": 0.75, "segments": 2}
    whole = fake_run(tmp_path / "b", 1800.0, ["finished"], None)  # before the journal, in one piece
    assert cost(whole)["wall_hours"] == 0.5 and np.isnan(cost(whole)["segments"])
    unknown = fake_run(tmp_path / "c", 1800.0, ["running", "finished"], None)  # resumed, no journal
    assert np.isnan(cost(unknown)["wall_hours"]) and np.isnan(cost(unknown)["cpu_hours"])
    late = [piece | {"periods_from": 25_000}, piece]  # journaled only after a resume: earlier periods untimed
    assert np.isnan(cost(fake_run(tmp_path / "d", 1800.0, ["running", "running", "finished"], late))["wall_hours"])


def test_units_side_by_side_count_their_wall_time_once(tmp_path):
    """Two units that ran at the same time (``--processes 2``): the wall time is the union of
    the processes' spans, the CPU time their sum; a unit's earlier, resumed segment adds its
    own span."""
    t0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

    def at(hours: float) -> str:
        return (t0 + datetime.timedelta(hours=hours)).isoformat(timespec="milliseconds")

    fake_run(tmp_path, 3600.0, ["finished"], None)
    a, b = (tmp_path / "chunks" / "s0-1" / "done.json"), (tmp_path / "chunks" / "s2-3" / "done.json")
    a.write_text(json.dumps({"started": at(0), "seconds": 3600.0, "cpu_seconds": 3000.0}))
    b.parent.mkdir()
    b.write_text(json.dumps({"started": at(0.5), "seconds": 3600.0, "cpu_seconds": 3480.0}))
    cost = study_table().cost
    assert cost(tmp_path) == pytest.approx({"wall_hours": 1.5, "cpu_hours": 1.8, "segments": np.nan}, nan_ok=True)
    (tmp_path / "units" / "s2-3").mkdir()  # b resumed: a killed process trained it for an hour before
    earlier = {"started": at(-2), "periods_from": 0, "seconds": 3600.0, "cpu_seconds": 3600.0}
    (tmp_path / "units" / "s2-3" / JOURNAL).write_text(json.dumps({"key": "k", "segments": [earlier, earlier]}))
    assert cost(tmp_path) == pytest.approx({"wall_hours": 2.5, "cpu_hours": 2.8, "segments": 2})
