"""One process at a time on a run folder: an advisory lock naming its holder.

Why: two ``marketsai run`` processes on the same ``--out`` would both compute every
chunk and overwrite each other's files. The lock is ``fcntl.flock`` on ``RUN/.lock``:
the kernel releases it when its process ends in any way (``kill -9`` included), so a
lock left behind by a dead process is simply taken over -- there is no stale state to
clean up. The file holds the holder's PID and host, which the refusal names.

``flock`` is local to one machine (and unreliable on some network file systems): run
one driver per run folder; Ray workers never touch the folder.

Examples
--------
>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> with RunLock(root) as lock:
...     holder_pid(root) == os.getpid()
True
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from marketsai.errors import SpecError

LOCK_FILE = ".lock"

try:  # POSIX; elsewhere the folder is not locked (documented in docs/cli.md)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None


def holder_pid(root: str | Path) -> int | None:
    """The PID written by the last process that held the lock (None if unreadable)."""
    try:
        first = (Path(root) / LOCK_FILE).read_text().split()[0]
        return int(first)
    except (OSError, ValueError, IndexError):
        return None


class RunLock:
    """Exclusive lock on a run folder (a context manager).

    ``wait``: seconds to wait for another holder to finish (0: refuse at once). A refusal
    is a :class:`~marketsai.errors.SpecError` naming the folder and the holder's PID.
    """

    def __init__(self, root: str | Path, wait: float = 0.0):
        self.root = Path(root)
        self.wait = float(wait)
        self._fh = None

    def __enter__(self) -> RunLock:
        self.root.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover
            return self
        fh = open(self.root / LOCK_FILE, "a+")  # noqa: SIM115 -- held until __exit__
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.close()
                    pid = holder_pid(self.root)
                    who = f"process {pid}" if pid is not None else "another process"
                    raise SpecError(
                        f"run folder {self.root} is in use by {who}; wait for it to finish "
                        "(or stop it), or choose another --out", path="--out",
                        value=str(self.root), allowed="a run folder no other process is using"
                    ) from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()} {socket.gethostname()}\n")
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
