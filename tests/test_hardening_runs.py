"""Issue 11, finding 3: run folders prove their contents, and one process owns a folder.

Each test tampers with a finished run folder the way the issue did (a chunk's table
copied over another's, a truncated chunk, a forged ``done.json``, a binary
``config.yaml``, two processes on one ``--out``) and checks that the rerun recomputes
exactly the damaged chunks and produces the clean run's results -- or refuses with a
message naming the chunk or the holder's PID.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from tiny_runs import finished_run, tiny_experiment

from marketsai.errors import SpecError
from marketsai.runner import run_experiment
from marketsai.runner.lock import LOCK_FILE, RunLock
from marketsai.runner.run import report
from marketsai.runner.store import RunFolder

TINY = tiny_experiment(seed=3, sessions=6)
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return finished_run(tmp_path_factory.mktemp("clean"), TINY)


def _copy(clean: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(clean, out)
    return out


def _chunks(run: Path) -> list[Path]:
    return sorted(p for p in (run / "chunks").iterdir() if p.is_dir())


def _recomputed(run: Path) -> list[str]:
    return [ln for ln in (run / "log").read_text().splitlines() if "is recomputed" in ln]


def _same_results(a: Path, b: Path) -> None:
    pd.testing.assert_frame_equal(pd.read_parquet(a / "results.parquet"),
                                  pd.read_parquet(b / "results.parquet"))


def test_a_chunk_copied_over_another_is_recomputed(clean, tmp_path):
    run = _copy(clean, tmp_path)
    first, second = _chunks(run)[:2]
    shutil.copy(first / "results.parquet", second / "results.parquet")
    run_experiment(TINY, out=run, progress=False)
    res = pd.read_parquet(run / "results.parquet")
    assert res["session"].tolist() == list(range(6))  # no duplicated sessions
    _same_results(run, clean)
    (line,) = _recomputed(run)
    assert second.name in line and "SHA-256" in line


def test_a_truncated_chunk_is_recomputed(clean, tmp_path):
    run = _copy(clean, tmp_path)
    chunk = _chunks(run)[0] / "results.parquet"
    chunk.write_bytes(chunk.read_bytes()[:100])
    run_experiment(TINY, out=run, progress=False)
    _same_results(run, clean)
    assert len(_recomputed(run)) == 1


def test_a_forged_done_json_does_not_make_a_chunk_count(clean, tmp_path):
    """Whole chunk folder copied and its done.json rewritten to claim the other unit: the
    hash matches (same file) but the recorded sessions are the wrong range."""
    run = _copy(clean, tmp_path)
    first, second = _chunks(run)[:2]
    meta_second = json.loads((second / "done.json").read_text())
    shutil.rmtree(second)
    shutil.copytree(first, second)
    meta = json.loads((second / "done.json").read_text())
    meta["fingerprint"], meta["unit"] = meta_second["fingerprint"], meta_second["unit"]
    (second / "done.json").write_text(json.dumps(meta))
    run_experiment(TINY, out=run, progress=False)
    _same_results(run, clean)
    (line,) = _recomputed(run)
    assert second.name in line and "sessions 0..1" in line


def test_chunks_without_hashes_are_recomputed_not_trusted(clean, tmp_path):
    run = _copy(clean, tmp_path)
    chunk = _chunks(run)[0]
    meta = json.loads((chunk / "done.json").read_text())
    del meta["files"]
    (chunk / "done.json").write_text(json.dumps(meta))
    run_experiment(TINY, out=run, progress=False)
    _same_results(run, clean)
    assert "older version" in _recomputed(run)[0]


def test_duplicated_sessions_are_never_assembled():
    from marketsai.runner.kinds import Unit
    from marketsai.runner.run import _check_unique_sessions
    plan = [(0, Unit("a", 2, {"start": 0, "stop": 2}), "a", ""),
            (0, Unit("b", 2, {"start": 2, "stop": 4}), "b", "")]
    _check_unique_sessions(pd.DataFrame({"session": [0, 1, 2, 3]}), plan)
    with pytest.raises(SpecError, match=r"session 0 appears 2 times.*chunks a"):
        _check_unique_sessions(pd.DataFrame({"session": [0, 1, 0, 1]}), plan)


def test_binary_config_yaml_gives_our_error(clean, tmp_path):
    run = _copy(clean, tmp_path)
    (run / "config.yaml").write_bytes(bytes(range(256)))
    with pytest.raises(SpecError, match="damaged config.yaml.*not a text file"):
        run_experiment(TINY, out=run, progress=False)
    with pytest.raises(SpecError, match="not a text file"):
        report(run)
    run_experiment(TINY, out=run, progress=False, force=True)  # --force rewrites it
    _same_results(run, clean)


def test_truncated_assembled_table_gives_our_error_and_is_rebuilt(clean, tmp_path):
    run = _copy(clean, tmp_path)
    path = run / "results.parquet"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(SpecError, match="cannot be read"):
        report(run)
    run_experiment(TINY, out=run, progress=False)
    _same_results(run, clean)
    assert not _recomputed(run)  # the chunks were fine: nothing recomputed


def test_a_second_process_is_refused_naming_the_holder(clean, tmp_path):
    run = _copy(clean, tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom marketsai.runner.lock import RunLock\n"
         f"with RunLock({str(run)!r}):\n    print('locked', flush=True)\n    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        with pytest.raises(SpecError, match=f"in use by process {holder.pid}"):
            run_experiment(TINY, out=run, progress=False)
        with pytest.raises(SpecError, match=f"in use by process {holder.pid}"):
            run_experiment(TINY, out=run, progress=False, wait=0.5)  # waits, then refuses
        assert time.monotonic() - t0 < 10
    finally:
        holder.kill()
        holder.wait()
    run_experiment(TINY, out=run, progress=False)  # the holder died: the lock is free


def test_a_stale_lock_of_a_dead_process_is_taken_over(clean, tmp_path):
    run = _copy(clean, tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (run / LOCK_FILE).write_text(f"{dead.pid} somehost\n")
    run_experiment(TINY, out=run, progress=False)
    assert (run / LOCK_FILE).read_text().split()[0] == str(os.getpid())
    with RunLock(run):  # and it is released after the run
        pass


def test_a_recorded_chunk_names_its_unit_and_hashes(clean):
    folder = RunFolder(clean)
    meta = json.loads((_chunks(clean)[1] / "done.json").read_text())
    assert meta["unit"] == {"id": "s0000002-0000003", "size": 2, "params": {"start": 2, "stop": 4}}
    assert set(meta["files"]) == {"results", "learning_curve"}  # every table the chunk wrote
    assert len(meta["files"]["results"]["sha256"]) == 64
    assert meta["files"]["results"]["rows"] == 2
    assert folder.chunk_problem("s0000002-0000003", meta["fingerprint"]) is None
