"""What a full disk, a read-only folder or a vanished one means for a run, in words.

Why: a run that dies with ``OSError: [Errno 28] No space left on device`` deep inside
pyarrow leaves its user guessing whether the finished work is lost. Writes are atomic
(:mod:`marketsai.runner.store`), so it never is: :func:`folder_errors` turns these
operating-system errors into a :class:`~marketsai.errors.RunFolderError` that names the
folder, says that finished chunks are kept and what to do before rerunning.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from marketsai.errors import RunFolderError

FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)
GONE = (errno.ENOENT, errno.ESTALE, errno.ENOTDIR)
RESUME = "finished chunks are kept; rerun the same command to resume"


def _inside(name, root: Path) -> bool:
    """Whether path ``name`` is ``root`` or lies below it."""
    if not name:
        return False
    try:
        Path(name).absolute().relative_to(root.absolute())
    except (ValueError, TypeError, OSError):
        return False
    return True


def describe(exc: OSError, root: Path) -> RunFolderError | None:
    """Our error for an OSError met while writing run folder ``root`` (None: not the
    folder's problem, e.g. a missing input file elsewhere)."""
    root = Path(root)
    code = exc.errno
    if code is None:  # pyarrow's OSError carries the code in its text: "[errno 28] No space ..."
        found = re.search(r"\[errno (\d+)\]", str(exc), re.IGNORECASE)
        code = int(found.group(1)) if found else None
    names = [n for n in (exc.filename, exc.filename2) if n]
    where = f" (writing {Path(names[0]).name})" if names else ""
    if code in FULL:
        return RunFolderError(f"no space left on the disk of run folder {root}{where}; {RESUME} "
                              "once space is free (or pass another --out)", root, code)
    ours = any(_inside(n, root) for n in names)
    if code in READ_ONLY and (ours or not names):
        return RunFolderError(f"run folder {root} is not writable ({exc.strerror or os.strerror(code)}{where}); make it "
                              f"writable (e.g. chmod -R u+w {root}) or pass another --out; {RESUME}",
                              root, code)
    if code in GONE and (ours or not root.exists()):
        return RunFolderError(f"run folder {root} vanished during the run{where}; if its disk was "
                              "unmounted, mount it again and rerun the same command to resume; if it "
                              "was deleted, the rerun starts it afresh", root, code)
    return None


@contextmanager
def folder_errors(root: Path) -> Iterator[None]:
    """Translate a full disk, a read-only or vanished ``root`` into RunFolderError."""
    try:
        yield
    except OSError as exc:
        err = describe(exc, root)
        if err is None:
            raise
        raise err from None
