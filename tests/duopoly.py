"""The games the tabular tests share -- the Calvano duopoly as they use it: the game of ``economies/bertrand_duopoly.yaml``
built by the economy layer. No fallback: if the economy path breaks, these tests must fail."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import marketsai as mai
from marketsai.finite_game import FiniteGame

DUOPOLY = Path(__file__).resolve().parents[1] / "economies" / "bertrand_duopoly.yaml"


def calvano():
    """The duopoly's FiniteGame, from the economy file (absolute path: any working directory)."""
    return mai.load_economy(DUOPOLY).finite_game()


#: the prisoner's dilemma payoffs ``(a_0, a_1, agent)`` of the small parity cases
PD = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)


def exo_duopoly():
    """A 3-action duopoly with two demand states and memory 2: every code path of the kernels
    (exogenous shocks, memory beyond one period) on a game small enough for the slow twin."""
    rng = np.random.default_rng(0)
    pay = rng.uniform(0, 1, size=(2, 9, 2))
    return FiniteGame(agents=("a", "b"), actions=np.tile([1.0, 2.0, 3.0], (2, 1)), payoffs=pay,
                      prices=np.broadcast_to(rng.uniform(1, 2, (1, 9, 2)), (2, 9, 2)).copy(),
                      memory=2, discount=0.9, nash_payoff=np.full(2, 0.3),
                      coop_payoff=np.full(2, 0.8), nash_action=np.ones(2), coop_action=np.ones(2),
                      exo_transition=np.array([[0.7, 0.3], [0.4, 0.6]]),
                      exo_initial=np.array([0.5, 0.5]))


def assert_same_state(a, b):
    """Two session states equal field by field, dtypes included (the parity tests' verdict)."""
    from marketsai.tabular.sessions import STATE_FIELDS
    for f in STATE_FIELDS + ("sessions",):
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and np.array_equal(x, y), f
