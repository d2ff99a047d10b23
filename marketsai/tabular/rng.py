"""Per-session random numbers: xoshiro256** in numba, with a plain-Python twin.

Why not ``np.random`` inside the kernel: numba's global generator is shared by the
threads, so results would depend on scheduling. Each session owns four ``uint64``
words of state, seeded from ``np.random.SeedSequence(seed, spawn_key=(session,))``;
a session's draws therefore depend only on ``(seed, session)``.

Uniform numbers use the top 53 bits: ``u = (x >> 11) * 2**-53`` in ``[0, 1)``;
an integer in ``[0, k)`` is ``floor(u * k)``. The Python functions below produce the
same bits, which is what the slow twin (``reference.py``) relies on.

Examples
--------
>>> st = session_rng_state(0, 3)
>>> st.dtype, st.shape
(dtype('uint64'), (4,))
>>> py = [int(x) for x in st]
>>> a = uniform(st.copy()); b = py_uniform(py)
>>> a == b
True
"""

from __future__ import annotations

import numpy as np
from numba import njit

_MASK = (1 << 64) - 1
_TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53


def session_rng_state(seed: int, session: int) -> np.ndarray:
    """The four xoshiro256** words of session ``session`` under root ``seed``."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(int(session),))
    state = ss.generate_state(4, np.uint64)
    if not state.any():  # xoshiro's one forbidden state; never seen in practice
        state[0] = np.uint64(1)
    return state


def xor_words(s0, s1, s2, s3, t):
    """The xor steps of one xoshiro256** update (no shift or rotation: on Python ints and on
    ``uint64`` alike, so the numba step and the Python twin share them)."""
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    return s0, s1, s2, s3


# --------------------------------------------------------------------- numba
_xor_words = njit(cache=True, inline="always")(xor_words)


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True, inline="always")
def xoshiro(s0, s1, s2, s3):
    """One xoshiro256** step on state words held in local variables (the kernels' hot path).

    Returns ``(output, s0, s1, s2, s3)``; keeping the state in registers rather than in
    an array is what makes the kernel fast.
    """
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    s0, s1, s2, s3 = _xor_words(s0, s1, s2, s3, s1 << np.uint64(17))
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@njit(cache=True, inline="always")
def to_unit(x):
    """The top 53 bits of ``x`` as a float in [0, 1)."""
    return np.float64(x >> np.uint64(11)) * _TWO_M53


@njit(cache=True, inline="always")
def next_u64(st):
    """Advance the state array ``st`` (4 uint64) and return the next output."""
    result, s0, s1, s2, s3 = xoshiro(st[0], st[1], st[2], st[3])
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    return result


@njit(cache=True, inline="always")
def uniform(st):
    """A float in [0, 1) from the top 53 bits."""
    return np.float64(next_u64(st) >> np.uint64(11)) * _TWO_M53


@njit(cache=True, inline="always")
def randint(st, k):
    """An integer in [0, k)."""
    return np.int64(uniform(st) * k)


# -------------------------------------------------------------------- Python
def _py_rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & _MASK


def py_next_u64(st: list) -> int:
    """Python twin of :func:`next_u64`; ``st`` is a list of four ints, updated in place."""
    s0, s1, s2, s3 = st
    result = (_py_rotl((s1 * 5) & _MASK, 7) * 9) & _MASK
    s0, s1, s2, s3 = xor_words(s0, s1, s2, s3, (s1 << 17) & _MASK)
    s3 = _py_rotl(s3, 45)
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3
    return result


def py_uniform(st: list) -> float:
    return float(py_next_u64(st) >> 11) * _TWO_M53


def py_randint(st: list, k: int) -> int:
    return int(py_uniform(st) * k)
