"""Quiet deep runs: what libraries print (Ray, RLlib, Tune) goes to the run's log file.

Why at the file-descriptor level: Ray prints from threads that relay its workers' output,
from its C++ core and through Python loggers bound to the console at import time; only
pointing the process's stdout and stderr (descriptors 1 and 2) at the log file catches
all of them; ``sys.stdout`` and ``sys.stderr`` are swapped too, for hosts whose streams
are no descriptors (pytest, Jupyter). Child processes started meanwhile (a local Ray
instance) inherit the file.
Our own messages keep the console: the progress bar writes to :func:`library_output_to`'s
stream, and messages for the user (the numba compile notice) to :func:`user_stream`.
``--verbose`` (``verbose=True``) leaves the console as it is. This module imports nothing
of marketsai, so any layer may ask it where the user is.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

_console = None  # the console while library_output_to redirects, else None


def user_stream():
    """Where a message for the user goes: the console, also inside :func:`library_output_to`."""
    return _console if _console is not None else sys.stderr


@contextlib.contextmanager
def library_output_to(path, enabled: bool = True):
    """Within the block, descriptors 1 and 2 write to ``path`` (appended); yields a text
    stream on the console's stderr for output meant for the user (``sys.stderr`` when not
    ``enabled``)."""
    global _console
    if not enabled:
        yield sys.stderr
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    log = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    console = os.fdopen(os.dup(saved[2]), "w", buffering=1)
    streams = sys.stdout, sys.stderr
    to_log = os.fdopen(os.dup(log), "w", buffering=1)  # where sys.stdout is no descriptor 1
    try:
        for fd in (1, 2):
            os.dup2(log, fd)
        sys.stdout = sys.stderr = to_log
        _console = console
        yield console
    finally:
        _console = None
        sys.stdout, sys.stderr = streams
        with contextlib.suppress(OSError, ValueError):
            to_log.close()
        for fd, old in saved.items():
            os.dup2(old, fd)
            os.close(old)
        os.close(log)
        console.close()
