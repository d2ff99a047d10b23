"""Issue 23, item 2: a run folder that cannot be written -- a full disk, a read-only
folder, one that vanished -- ends the run with our clear error naming the folder and what
to do (never an OSError traceback), and loses no finished chunk: after the problem is
fixed the same command resumes and gives the clean run's results.

The failures are simulated by making the run folder's atomic writer raise what the
operating system raises (tests run as root, for whom ``chmod`` does not bite). A run
name that would put the folder outside ``runs/`` is refused at load.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from tiny_runs import finished_run, tiny_experiment

from marketsai.errors import RunFolderError, SpecError
from marketsai.runner import run_experiment, store
from marketsai.runner.store import RunFolder

TINY = tiny_experiment(seed=5, sessions=6)
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return finished_run(tmp_path_factory.mktemp("clean"), TINY)


def fail_after(monkeypatch, chunks: int, make_error):
    """The run folder's table writer works for the tables of the first ``chunks`` chunks (a chunk
    writes several: results, learning curve), then raises ``make_error(path)`` at the first
    write of the next."""
    real, folders = store.atomic_write_frame, []

    def writer(path, frame, fmt="parquet"):
        if Path(path).parent not in folders:
            folders.append(Path(path).parent)
        if len(folders) > chunks:
            raise make_error(path)
        return real(path, frame, fmt)
    monkeypatch.setattr(store, "atomic_write_frame", writer)


def finished(run: Path) -> list[str]:
    """Chunks that a resume counts (done, hashes matching)."""
    folder = RunFolder(run)
    done = [p for p in (run / "chunks").iterdir() if (p / "done.json").exists()]
    return sorted(p.name for p in done if folder.chunk_problem(
        p.name, json.loads((p / "done.json").read_text())["fingerprint"]) is None)


def resume_matches(run: Path, clean: Path, already: int) -> None:
    run_experiment(TINY, out=run, progress=False)
    pd.testing.assert_frame_equal(pd.read_parquet(run / "results.parquet"),
                                  pd.read_parquet(clean / "results.parquet"))
    assert f"3 units (6 sessions), {already} already done" in (run / "log").read_text()


def ENOSPC(path):  # noqa: N802 -- as write() raises it: no file name
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def ARROW_ENOSPC(path):  # noqa: N802 -- pyarrow's form: the code only in the text
    return OSError("Error writing bytes to file. Detail: [errno 28] No space left on device")


def EACCES(path):  # noqa: N802
    return PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))


def EROFS(path):  # noqa: N802
    return OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))


@pytest.mark.parametrize(("make_error", "words"), [
    (ENOSPC, "no space left on the disk of run folder"),
    (ARROW_ENOSPC, "no space left on the disk of run folder"),  # pyarrow's form: errno in the text
    (EACCES, "is not writable (Permission denied"),
    (EROFS, "is not writable (Read-only file system"),
], ids=["ENOSPC", "pyarrow-ENOSPC", "EACCES", "EROFS"])
def test_a_failing_disk_is_our_error_and_loses_no_finished_chunk(make_error, words, clean, tmp_path,
                                                                monkeypatch):
    run = tmp_path / "run"
    fail_after(monkeypatch, 1, make_error)  # the first chunk is written, the second fails
    with pytest.raises(RunFolderError) as info:
        run_experiment(TINY, out=run, progress=False)
    msg = str(info.value)
    assert words in msg and str(run) in msg and "rerun the same command to resume" in msg
    assert info.value.folder == str(run)
    assert finished(run) == ["s0000000-0000001"]
    assert not list(run.rglob("*.tmp"))  # no half-written file left behind
    monkeypatch.undo()
    resume_matches(run, clean, already=1)


def test_the_command_line_prints_one_error_line_and_no_traceback(tmp_path, monkeypatch):
    from marketsai.cli import main
    fail_after(monkeypatch, 0, ENOSPC)
    spec = tmp_path / "tiny.yaml"
    spec.write_text(yaml.safe_dump(TINY))
    result = CliRunner().invoke(main, ["run", str(spec), "--out", str(tmp_path / "run"), "--no-progress"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    assert result.stderr.startswith("error: no space left on the disk of run folder")


def test_a_vanished_folder_is_our_error_not_a_recreated_half_folder(clean, tmp_path, monkeypatch):
    run = tmp_path / "run"
    real = RunFolder.write_chunk

    def write_then_vanish(self, *args, **kwargs):
        real(self, *args, **kwargs)
        shutil.rmtree(self.root)  # deleted (or its disk unmounted) after the first chunk
    monkeypatch.setattr(RunFolder, "write_chunk", write_then_vanish)
    with pytest.raises(RunFolderError, match="vanished during the run") as info:
        run_experiment(TINY, out=run, progress=False)
    assert str(run) in str(info.value)
    assert not run.exists()  # the next chunk did not recreate a folder without config.yaml
    monkeypatch.undo()
    resume_matches(run, clean, already=0)  # deleted: the rerun starts afresh


def test_an_unrelated_os_error_is_not_disguised(tmp_path, monkeypatch):
    """A missing file elsewhere is not the run folder's problem: it stays what it is."""
    fail_after(monkeypatch, 0, lambda path: FileNotFoundError(errno.ENOENT, "gone", "/elsewhere/x.npz"))
    with pytest.raises(FileNotFoundError):
        run_experiment(TINY, out=tmp_path / "run", progress=False)


@pytest.mark.parametrize("name", ["../../escaped_run", "a/b", "..", ".", "a\\b", ""])
def test_a_run_name_that_leaves_runs_is_refused(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as info:
        run_experiment(TINY | {"name": name}, progress=False)
    assert info.value.path == "name" and "'/'" in info.value.allowed
    assert not any(tmp_path.iterdir()) and not (tmp_path.parent.parent / "escaped_run").exists()
