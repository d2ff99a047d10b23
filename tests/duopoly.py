"""The games the tabular tests share -- the Calvano duopoly as they use it: the game of ``economies/bertrand_duopoly.yaml``
built by the economy layer. No fallback: if the economy path breaks, these tests must fail."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import marketsai as mai

DUOPOLY = Path(__file__).resolve().parents[1] / "economies" / "bertrand_duopoly.yaml"


def calvano():
    """The duopoly's FiniteGame, from the economy file (absolute path: any working directory)."""
    return mai.load_economy(DUOPOLY).finite_game()


#: the prisoner's dilemma payoffs ``(a_0, a_1, agent)`` of the small parity cases
PD = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)


def assert_same_state(a, b):
    """Two session states equal field by field, dtypes included (the parity tests' verdict)."""
    from marketsai.tabular.sessions import STATE_FIELDS
    for f in STATE_FIELDS + ("sessions",):
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and np.array_equal(x, y), f
