"""Say that numba is compiling, when it is: a first run otherwise sits at 0 % for minutes.

The kernels are compiled once and cached on disk (``@njit(cache=True)``); a process
that finds no cache index for a kernel it is about to call compiles it, which takes about
a minute per kernel family. :func:`announce` prints one line to stderr, once per process,
before such a call; a warm cache says nothing.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

MESSAGE = "marketsai: compiling kernels (first run only, about a minute)"
_said = False


def cold(dispatcher) -> bool:
    """Whether calling ``dispatcher`` now compiles it: nothing loaded in this process and no
    index of its on-disk cache (a stale index after a source edit is not detected).

    The index is found by numba's documented cache layout -- ``__pycache__`` beside the
    source, ``<module>.<function>-<line>.py<version>.nbi`` (or under ``NUMBA_CACHE_DIR``) -- not by
    numba's private attributes.
    """
    if getattr(dispatcher, "signatures", None):
        return False
    func = getattr(dispatcher, "py_func", None)
    if func is None:
        return False
    source = Path(inspect.getsourcefile(func) or "")
    pattern = f"{source.stem}.{func.__qualname__}-*.nbi"
    if os.environ.get("NUMBA_CACHE_DIR"):  # numba then mirrors the source tree under that folder
        return not any(Path(os.environ["NUMBA_CACHE_DIR"]).rglob(pattern))
    return not any((source.parent / "__pycache__").glob(pattern))


def announce(*dispatchers) -> bool:
    """Print :data:`MESSAGE` (once per process) if any of ``dispatchers`` is cold; returns
    whether it was printed now."""
    global _said
    if _said or not any(cold(d) for d in dispatchers):
        return False
    _said = True
    from marketsai.console import user_stream  # the console, also in a quiet deep run
    try:  # above a running progress bar, if there is one
        from tqdm import tqdm
        tqdm.write(MESSAGE, file=user_stream())
    except ImportError:  # pragma: no cover
        print(MESSAGE, file=user_stream(), flush=True)
    return True
