"""The games the tabular tests share -- the Calvano duopoly as they use it: the game of ``economies/bertrand_duopoly.yaml``
built by the economy layer. No fallback: if the economy path breaks, these tests must fail."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import marketsai as mai
from marketsai.finite_game import FiniteGame
from marketsai.tabular.games import calvano_game

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


#: game, config and controls of the cases that walk the kernels' code paths (ties, float32
#: tables, Boltzmann exploration, alternating moves, three agents, controls); both the
#: twin-parity tests and the memory-vs-model-kernel tests run each of them
CODE_PATH_CASES = {
    "pd_mem2_zeros_ties": (lambda: FiniteGame.from_matrix(PD, memory=2, discount=0.9),
                           dict(alpha=0.5, q0="zeros", exploration="constant", epsilon=0.2), {}),
    "exo_mem2_boltzmann_f32": (exo_duopoly, dict(exploration="boltzmann", temperature=0.3,
                                                 dtype="float32"), {}),
    "exo_alternating": (exo_duopoly, dict(alpha=0.2, beta=(1e-3, 2e-3),
                                          protocol="alternating"), {}),
    "three_firms_alternating": (lambda: calvano_game(n=3, m=3, p_nash=1.37, p_coop=2.0),
                                dict(protocol="alternating", exploration="constant",
                                     epsilon=0.1), {}),
    "controls": (exo_duopoly, dict(beta=1e-3), dict(forced_action=[-1, 2], action_cap=[1, 2],
                                                     epsilon_override=[0.5, -1],
                                                     learn=[True, False], record=50)),
}


def assert_same_state(a, b):
    """Two session states equal field by field, dtypes included (the parity tests' verdict)."""
    from marketsai.tabular.sessions import STATE_FIELDS
    for f in STATE_FIELDS + ("sessions",):
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and np.array_equal(x, y), f


def check_kernel_against_twin(game, cfg_kw, controls, seed, sessions, periods, slice_periods):
    """Run the kernels and the slow twin on the same sessions and assert the same states (and
    the same recordings); returns the kernels' state and recording."""
    from marketsai.tabular import QLearningConfig, advance, init_sessions
    from marketsai.tabular.reference import reference_advance, reference_init
    cfg = QLearningConfig(**cfg_kw)
    fast = init_sessions(game, cfg, seed=seed, sessions=sessions)
    slow = reference_init(game, cfg, seed=seed, sessions=sessions)
    assert_same_state(fast, slow)
    until = "stable_periods" in cfg_kw
    a = advance(game, cfg, fast, periods=periods, until_converged=until,
                slice_periods=slice_periods, **controls)
    b = reference_advance(game, cfg, slow, periods=periods, until_converged=until, **controls)
    assert_same_state(fast, slow)
    if "record" in controls:
        np.testing.assert_array_equal(a, b)
    return fast, a
