"""Say that numba is compiling, when it is: a first run otherwise sits at 0 % for minutes.

The kernels are compiled once and cached on disk (``@njit(cache=True)``); a process
that finds no cache index for a kernel it is about to call compiles it, which takes about
a minute per kernel family. :func:`announce` prints one line to stderr, once per process,
before such a call; a warm cache says nothing.
"""

from __future__ import annotations

import os
import sys

MESSAGE = "marketsai: compiling kernels (first run only, about a minute)"
_said = False


def cold(dispatcher) -> bool:
    """Whether calling ``dispatcher`` now compiles it: nothing loaded in this process and no
    index of its on-disk cache (a stale index after a source edit is not detected)."""
    if getattr(dispatcher, "signatures", None):
        return False
    try:  # numba internals, checked against numba 0.68: the cache's index file
        index = dispatcher._cache._cache_file._index_path
    except AttributeError:
        return False
    return not os.path.exists(index)


def announce(*dispatchers) -> bool:
    """Print :data:`MESSAGE` (once per process) if any of ``dispatchers`` is cold; returns
    whether it was printed now."""
    global _said
    if _said or not any(cold(d) for d in dispatchers):
        return False
    _said = True
    try:  # above a running progress bar, if there is one
        from tqdm import tqdm
        tqdm.write(MESSAGE, file=sys.stderr)
    except ImportError:  # pragma: no cover
        print(MESSAGE, file=sys.stderr, flush=True)
    return True
