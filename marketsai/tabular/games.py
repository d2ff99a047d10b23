"""Small reference games for tests, docs and benchmarks of the tabular engine.

``prisoners_dilemma`` is the two-action game of the doc examples (one definition, so the
modules' examples do not each write the matrix again).

``calvano_game`` builds the Calvano et al. (2020) logit Bertrand duopoly directly from
the published formulas (docs/references.md), so the engine can be tested and benchmarked without the
economy layer. Production code should use ``load_economy(...).finite_game()``.

Examples
--------
>>> g = calvano_game()
>>> g.n_agents, g.n_actions, g.n_states
(2, 15, 225)
>>> round(float(g.actions[0, 0]), 5), round(float(g.actions[0, -1]), 5)
(1.42773, 1.97018)
>>> [round(float(x), 5) for x in (g.nash_payoff[0], g.coop_payoff[0])]
[0.22293, 0.33749]
"""

from __future__ import annotations

import itertools

import numpy as np

from marketsai.finite_game import FiniteGame


def logit_profits(p, a=2.0, c=1.0, a0=0.0, mu=0.25) -> np.ndarray:
    """Per-firm profits ``(p_i - c) q_i`` under logit demand for a price vector ``p``."""
    p = np.asarray(p, dtype=float)
    num = np.exp((a - p) / mu)
    q = num / (num.sum() + np.exp(a0 / mu))
    return (p - c) * q


def calvano_game(n: int = 2, m: int = 15, memory: int = 1, xi: float = 0.1,
                 p_nash: float = 1.47293, p_coop: float = 1.92498,
                 discount: float = 0.95) -> FiniteGame:
    """Symmetric logit Bertrand game on Calvano's grid ``linspace(pN - xi d, pM + xi d, m)``.

    The default Nash and monopoly prices are the duopoly's (docs/references.md); pass others
    for ``n != 2``.
    """
    grid = np.linspace(p_nash - xi * (p_coop - p_nash), p_coop + xi * (p_coop - p_nash), m)
    M = m**n
    payoffs = np.empty((M, n))
    prices = np.empty((M, n))
    for j, idx in enumerate(itertools.product(range(m), repeat=n)):  # agent 0 most significant
        prices[j] = grid[list(idx)]
        payoffs[j] = logit_profits(prices[j])
    return FiniteGame(
        agents=tuple(f"firm_{i}" for i in range(n)),
        actions=np.tile(grid, (n, 1)),
        payoffs=payoffs[None], prices=prices[None], memory=memory, discount=discount,
        nash_payoff=logit_profits(np.full(n, p_nash)),
        coop_payoff=logit_profits(np.full(n, p_coop)),
        nash_action=np.full(n, p_nash), coop_action=np.full(n, p_coop))


#: the prisoner's dilemma payoffs ``(a_0, a_1, agent)``: cooperate (0) or defect (1)
PD_PAYOFFS = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)


def prisoners_dilemma(memory: int = 1, discount: float = 0.9) -> FiniteGame:
    """The repeated prisoner's dilemma :data:`PD_PAYOFFS` (the doc examples' small game).

    >>> prisoners_dilemma().n_states
    4
    """
    return FiniteGame.from_matrix(PD_PAYOFFS, memory=memory, discount=discount)
