"""The one exception type users see for bad input.

Why: a person editing a YAML file needs the file, the field path, the bad value and
what is allowed -- never a KeyError or a numba typing error from deep inside.
"""

from __future__ import annotations

import contextlib
import reprlib
import sys
from typing import Any

_MISSING = object()
#: characters of a value quoted in a message (marketsai.limits.MAX_QUOTED)
MAX_QUOTED = 200
_SMALL = 2_000  # nodes of a value that is quoted with the plain repr


def _small(value, budget: int = _SMALL) -> bool:
    """Whether ``value`` has at most ``budget`` nodes (stops counting there)."""
    stack, seen = [value], 0
    while stack:
        x = stack.pop()
        seen += 1
        if seen > budget:
            return False
        if isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, (list, tuple, set, frozenset)):
            stack.extend(x)
    return True


def _cut(text, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit - 4] + " ..."


_brief = reprlib.Repr()
_brief.maxlevel, _brief.maxlist, _brief.maxtuple, _brief.maxdict = 4, 12, 12, 8
_brief.maxstring, _brief.maxother, _brief.maxlong = 80, 80, 40


def quote(value, limit: int = MAX_QUOTED) -> str:
    """``repr(value)``, cut to ``limit`` characters; bounded in time for any value.

    Why: an error quotes the bad value, and a value can be huge (a YAML alias bomb, a
    list of a million numbers); the message must stay short and be built quickly.

    >>> quote(-1.0), quote("x" * 500)[-12:], quote(list(range(10**6)))
    ('-1.0', '... (500 ch)', '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ...]')
    """
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit - 20]) + f"... ({len(value)} ch)"
    try:
        text = repr(value) if _small(value) else _brief.repr(value)
    except RecursionError:  # a self-referencing structure
        text = _brief.repr(value)
    return text if len(text) <= limit else text[:limit - 4] + " ..."


class SpecError(ValueError):
    """An economy or experiment description is invalid.

    Every message says where (file, dotted field path), what (the bad value) and what is
    allowed, so a user can fix the file without reading the code.

    Parameters
    ----------
    message : str
        What is wrong.
    path : str
        Dotted field path (``markets[0].params.mu``); empty for the whole file.
    value : object, optional
        The offending value (omitted: no value is shown).
    allowed : str, optional
        What would be accepted.
    file : str, optional
        The file it came from.

    Examples
    --------
    >>> err = SpecError("must be > 0", path="markets[0].params.mu", value=-1.0,
    ...                 allowed="a positive number", file="duopoly.yaml")
    >>> print(err)
    duopoly.yaml: markets[0].params.mu = -1.0: must be > 0 (allowed: a positive number)
    """

    def __init__(self, message: str, *, path: str = "", value: Any = _MISSING,
                 allowed: str | None = None, file: str | None = None):
        self.reason = message
        self.path = path
        self.value = None if value is _MISSING else value
        self.has_value = value is not _MISSING
        self.allowed = allowed
        self.file = str(file) if file is not None else None
        super().__init__(self._format())

    def _format(self) -> str:
        where = self.path or "<root>"
        if self.has_value:
            where += f" = {quote(self.value)}"
        text = f"{where}: {_cut(self.reason, 3 * MAX_QUOTED)}"
        if self.allowed:
            text += f" (allowed: {_cut(self.allowed, 2 * MAX_QUOTED)})"
        if self.file:
            text = f"{self.file}: {text}"
        return text

    def _copy(self, **changes) -> SpecError:
        kwargs = dict(path=self.path, allowed=self.allowed, file=self.file) | changes
        if self.has_value:
            kwargs["value"] = self.value
        return SpecError(self.reason, **kwargs)

    def with_file(self, file) -> SpecError:
        """The same error, naming the file it came from."""
        return self._copy(file=file)

    def under(self, prefix: str) -> SpecError:
        """The same error with ``prefix`` prepended to its field path."""
        return self._copy(path=prefix + ("." + self.path if self.path and not self.path.startswith("[")
                                         else self.path))

    def at(self, path: str) -> SpecError:
        """The same error at another field path (where the user wrote the bad value)."""
        return self._copy(path=path)


class SpecWarning(UserWarning):
    """A file that loads, with something its author should know (a transition row that was
    normalised, a shared policy over agents it cannot tell apart).

    Why: these are not errors -- a published matrix rounded to four digits is what the
    paper says -- but silently changing or accepting them would hide a decision. The
    message names the field path like :class:`SpecError`.

    >>> print(SpecWarning("sums to 1.0001; normalised", path="processes.z.transition[2]"))
    processes.z.transition[2]: sums to 1.0001; normalised
    """

    def __init__(self, message: str, *, path: str = ""):
        self.reason, self.path = message, path
        super().__init__(f"{path or '<root>'}: {message}")



class RunFolderError(RuntimeError):
    """A run folder cannot be written: the disk is full, the folder is read-only or it
    vanished during the run.

    Why: these are the machine's problems, not the file's; the message names the folder,
    what happened and what to do (finished chunks are kept, so the remedy is to fix the
    folder and rerun the same command) -- never an ``OSError`` traceback.
    """

    def __init__(self, message: str, folder, errno_: int | None = None):
        self.folder = str(folder)
        self.errno = errno_
        super().__init__(message)


class NonFiniteLoss(RuntimeError):
    """A deep learner's loss or gradients turned NaN or infinite: the run stops at that update.

    Why: RLlib's learner sets non-finite gradients to zero, warns twice per parameter and goes
    on; a 500,000-period study once ran four hours past its first NaN loss, learned nothing,
    wrote a 13.8 GB log and exited 0. The batched learners raise this instead, before the
    update is applied. ``members`` are the indices of the batched module's members found
    non-finite; :meth:`located` adds what the run knows (the learner, the period, the updates
    so far, each member as its seed and agent, the checkpoint that is kept).

    >>> print(NonFiniteLoss([3], learner="sac_batched", period=25_000, updates=24_001,
    ...                     names=["seed 1 agent firm_1"]))
    sac_batched: non-finite loss at period 25,000 (after 24,001 updates) in seed 1 agent firm_1
    """

    _CONTEXT = ("learner", "period", "updates", "names", "checkpoint")

    def __init__(self, members, *, what: str = "loss", learner: str = "", period: int | None = None,
                 updates: int | None = None, names=None, checkpoint: str = ""):
        self.members = tuple(int(m) for m in members)
        self.what, self.learner, self.period, self.updates = what, learner, period, updates
        self.names = list(names) if names is not None else None
        self.checkpoint = checkpoint
        super().__init__(self._format())

    def _format(self) -> str:
        text = f"non-finite {self.what}"
        if self.period is not None:
            text += f" at period {self.period:,}" + (f" (after {self.updates:,} updates)"
                                                     if self.updates is not None else "")
        if self.members:
            text += " in " + ", ".join(self.names or [f"member {m}" for m in self.members])
        else:
            text += " (no member's rows or gradients are non-finite: the sum over members overflowed)"
        if self.learner:
            text = f"{self.learner}: {text}"
        return f"{text}; {self.checkpoint}" if self.checkpoint else text

    def located(self, **context) -> NonFiniteLoss:
        """The same error with ``context`` (``learner``, ``period``, ``updates``, ``names``,
        ``checkpoint``) added to what it already says."""
        unknown = set(context) - set(self._CONTEXT)
        if unknown:
            raise TypeError(f"NonFiniteLoss.located: unknown context {sorted(unknown)}")
        fields = {k: getattr(self, k) for k in self._CONTEXT} | context
        return NonFiniteLoss(self.members, what=self.what, **fields)


@contextlib.contextmanager
def command_errors(interrupted: str, *expected: type[BaseException]):
    """A command's body: a :class:`SpecError` (or an ``expected`` error) prints as one
    ``error:`` line on stderr and exits 1; Ctrl-C prints ``interrupted`` (what was kept,
    how to resume) and exits 130 -- never a traceback. Every ``marketsai`` command's face."""
    try:
        yield
    except (SpecError, *expected) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt as exc:
        print(f"\ninterrupted ({exc}); {interrupted}", file=sys.stderr)
        sys.exit(130)
