"""Named size limits on user input, checked before anything is allocated.

Why: a file (or a ``--set``) decides how much memory and time a command takes. A typo
like ``count: 1000000000000`` must be a :class:`~marketsai.errors.SpecError` naming the
field and the allowed range -- not a machine that swaps for an hour. Every number that
sizes an allocation is bounded here, in one place, so the limits are documented and the
same everywhere (economy files, experiment files, ``--set`` overrides, the YAML reader).

The limits are generous for science (Calvano et al. 2020 need 2 agents, 15 grid points,
memory 1, 1000 sessions, at most 1.25e9 periods) and far below what would exhaust a
machine. Memory that a valid configuration still needs (a tabular Q-table grows as
``m ** (n k)``) is checked where it is allocated, with :func:`format_bytes` in the
message.

Examples
--------
>>> format_bytes(1536), format_bytes(3 * 1024**3), format_bytes(10**120)
('1.5 KiB', '3.0 GiB', '8.3e+95 YiB')
>>> check_int(5, "sessions", 1, MAX_SESSIONS)
5
>>> check_int(10**12, "agents[0].count", 1, MAX_AGENTS)
Traceback (most recent call last):
...
marketsai.errors.SpecError: agents[0].count = 1000000000000: too large (allowed: an integer in [1, 100,000])
"""

from __future__ import annotations

import math

from marketsai.errors import SpecError

#: agents in one economy (all entries together) and in one agent entry (``count``): a
#: Krusell–Smith population of 10,000 households fits; a billion does not
MAX_AGENTS = 100_000  # populations of households step as arrays; per-agent Python objects stay O(N)
#: points of one action grid (``action.points`` or ``len(action.values)``)
MAX_GRID_POINTS = 10_000
#: periods of memory in an observation (``observation.memory``)
MAX_MEMORY = 100
#: independent sessions (or trials) of one experiment (``sessions``)
MAX_SESSIONS = 10_000_000
#: work units (chunks) of one run, all sweep cells together
MAX_UNITS = 200_000
#: sweep cells of one experiment (the product of the swept value lists)
MAX_SWEEP_CELLS = 100_000
#: periods of a learning session (``learner.max_periods``, ``stable_periods``): int64-safe,
#: about 11 hours of one core at the fastest known 26 million periods/s
MAX_PERIODS = 10**12
#: periods traced after an impulse, recorded before/after an intervention
MAX_TRACE_PERIODS = 1_000_000
#: elements of any list in a file (participants, grid values, shock states, sweep values)
MAX_LIST = 10_000
#: YAML nodes of one file after expanding aliases (anchors referenced with ``*name``)
MAX_YAML_NODES = 250_000
#: nesting depth of one YAML file
MAX_YAML_DEPTH = 100
#: size of one YAML file
MAX_FILE_BYTES = 16 * 1024**2
#: characters of a value quoted in an error message
MAX_QUOTED = 200

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def format_bytes(n: float) -> str:
    """A byte count in binary units, readable at any size (never a 100-digit number).

    >>> format_bytes(0), format_bytes(1023), format_bytes(1024**2 * 5.25)
    ('0 B', '1023 B', '5.2 MiB')
    """
    n = float(n)
    if not math.isfinite(n) or n < 1024:
        return f"{n:.0f} B" if math.isfinite(n) else "unbounded"
    exp = min(int(math.log(n, 1024)), len(_UNITS) - 1)
    value = n / 1024**exp
    if value >= 1e4:
        return f"{value:.2g} {_UNITS[exp]}"
    return f"{value:.1f} {_UNITS[exp]}"


#: bytes one table (a joint-action payoff table, a Q-table) may take before it is refused
MAX_TABLE_BYTES = 8 * 1024**3


def check_bytes(nbytes: float, path: str, what: str, value=None, budget: float | None = None) -> None:
    """Refuse an allocation of ``nbytes`` beyond ``budget`` (default :data:`MAX_TABLE_BYTES`)
    *before* making it, with both sizes in readable units.

    >>> check_bytes(1024, "x", "a table")
    >>> check_bytes(15.0**60 * 8, "agents[0].action.points", "the joint action table", value=15)
    Traceback (most recent call last):
    ...
    marketsai.errors.SpecError: agents[0].action.points = 15: the joint action table needs 2.4e+47 YiB (allowed: at most 8.0 GiB)
    """
    budget = MAX_TABLE_BYTES if budget is None else budget
    if nbytes > budget:
        raise SpecError(f"{what} needs {format_bytes(nbytes)}", path=path,
                        value=format_bytes(nbytes) if value is None else value,
                        allowed=f"at most {format_bytes(budget)}")


def is_int(x) -> bool:
    """An integer that is not a bool (YAML ``true`` is not a count)."""
    return isinstance(x, int) and not isinstance(x, bool)


def check_int(value, path: str, lo: int, hi: int, what: str = "") -> int:
    """``value`` as an int in ``[lo, hi]`` or a SpecError naming ``path`` and the range."""
    allowed = f"an integer in [{lo}, {hi:,}]" if hi >= 10_000 else f"an integer in [{lo}, {hi}]"
    if not is_int(value):
        raise SpecError(what or "not an integer", path=path, value=value, allowed=allowed)
    if value < lo:
        raise SpecError(what or "too small", path=path, value=value, allowed=allowed)
    if value > hi:
        raise SpecError(what or "too large", path=path, value=value, allowed=allowed)
    return int(value)


def check_length(value, path: str, hi: int = MAX_LIST) -> None:
    """Refuse a list longer than ``hi`` (before anything iterates over it)."""
    if isinstance(value, (list, tuple, dict)) and len(value) > hi:
        raise SpecError(f"too many elements ({len(value):,})", path=path,
                        value=f"a {type(value).__name__} of {len(value):,} elements",
                        allowed=f"at most {hi:,} elements")
