"""The specialised fast path (``marketsai.tabular.fastpath``) against the general kernel
loop and the plain-Python twin: bit-identical Q-tables, strategies, clocks, RNG states,
on the Calvano duopoly and on tie-heavy integer games, for 1 and 2 threads and any
slicing; and configurations it does not cover still take the general loop."""

from __future__ import annotations

import numpy as np
import pytest

from marketsai.finite_game import FiniteGame
from marketsai.tabular import QLearningConfig, advance, init_sessions, kernel, reference, sessions
from marketsai.tabular.config import EXPLORATION
from marketsai.tabular.fastpath import fast_path_eligible, finite_table, run_duopoly
from marketsai.tabular.games import calvano_game
from marketsai.tabular.reference import reference_advance, reference_init
from marketsai.tabular.sessions import STATE_FIELDS, game_arrays

PD_INT = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)


def int_game(memory=1, m=3, seed=0, discount=0.5, top=3):
    """Small integer payoffs: with ``q0="zeros"``, ``alpha`` a power of 2 and discount 1/2
    (or 0) Q-values are exact dyadic fractions, so exact ties arise all the time."""
    pay = np.random.default_rng(seed).integers(0, top, size=(m, m, 2)).astype(float)
    return FiniteGame.from_matrix(pay, memory=memory, discount=discount)


CASES = {  # name: (game, config, seed, sessions, periods)
    "calvano": (calvano_game, dict(beta=2e-4, stable_periods=1500, max_periods=9000), 0, [0, 3], None),
    "calvano_constant": (calvano_game, dict(exploration="constant", epsilon=0.3), 4, [1], 4000),
    "pd_int_zeros": (lambda: FiniteGame.from_matrix(PD_INT, memory=1, discount=0.9),
                     dict(alpha=0.5, q0="zeros", beta=1e-3, stable_periods=400), 1, [0, 1, 2], 3000),
    "int3_ties_constant": (lambda: int_game(discount=0.0, top=2),
                           dict(alpha=1.0, q0="zeros", exploration="constant", epsilon=0.5),
                           2, [0, 7], 3000),
    "int3_ties_memory2": (lambda: int_game(memory=2, seed=1),
                          dict(alpha=(0.5, 0.25), q0="zeros", beta=(1e-3, 3e-3)), 3, [2, 5], 3000),
}


class _GeneralOnly:
    """Stands in for the ``kernel`` module in the front end, with the fast path disabled."""

    init_kernel = staticmethod(kernel.init_kernel)

    @staticmethod
    def advance_kernel(*args):
        return kernel.advance_kernel(*args, False)


def general_advance(monkeypatch, *args, **kw):
    with monkeypatch.context() as mp:
        mp.setattr(sessions, "kernel", _GeneralOnly)
        return advance(*args, **kw)


def assert_same_state(a, b):
    for f in STATE_FIELDS + ("sessions",):
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and np.array_equal(x, y), f


def _eligible(game, cfg, **controls):
    ga = game_arrays(game)
    forced, eps, lrn, cap = sessions.game_controls(game, controls.get("forced_action"),
                                               controls.get("epsilon_override"),
                                               controls.get("learn"), controls.get("action_cap"))
    return fast_path_eligible(ga.payoffs, ga.exo_cdf.shape[0], cfg.protocol == "alternating",
                              EXPLORATION[cfg.exploration], forced, eps, lrn, cap, ga.m,
                              int(controls.get("record", 0)), np.dtype(cfg.dtype).itemsize)


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_path_equals_general_loop_and_twin(case, monkeypatch):
    make, cfg_kw, seed, sess, periods = CASES[case]
    game, cfg = make(), QLearningConfig(**cfg_kw)
    assert _eligible(game, cfg)
    until = periods is None or "stable_periods" in cfg_kw
    fast = init_sessions(game, cfg, seed=seed, sessions=sess)
    general = init_sessions(game, cfg, seed=seed, sessions=sess)
    slow = reference_init(game, cfg, seed=seed, sessions=sess)
    advance(game, cfg, fast, periods=periods, until_converged=until)
    general_advance(monkeypatch, game, cfg, general, periods=periods, until_converged=until)
    ties = []  # the twin's argmax calls that met an exact tie (and drew for it)
    real = reference._argmax_ties

    def counting(row, hi, st):
        ties.append(sum(v == max(row[:hi + 1]) for v in row[:hi + 1]) > 1)
        return real(row, hi, st)

    monkeypatch.setattr(reference, "_argmax_ties", counting)
    reference_advance(game, cfg, slow, periods=periods, until_converged=until)
    assert_same_state(fast, general)
    assert_same_state(fast, slow)
    assert (fast.t > 0).all()
    if "ties" in case:  # the tie-heavy games really break ties at random
        assert sum(ties) > 20, sum(ties)


def test_direct_call_matches_the_dispatch():
    """``run_duopoly`` called directly gives what ``advance`` (which dispatches to it) gives."""
    game, cfg = calvano_game(), QLearningConfig(beta=1e-3, stable_periods=2000)
    a = init_sessions(game, cfg, seed=5, sessions=[0, 1])
    b = init_sessions(game, cfg, seed=5, sessions=[0, 1])
    advance(game, cfg, a, periods=5000)
    ga = game_arrays(game)
    for w in range(2):
        s, t, stable, done = run_duopoly(
            ga.payoffs, ga.Mk, ga.M, ga.delta, cfg.per_agent("alpha", 2), cfg.per_agent("beta", 2),
            EXPLORATION[cfg.exploration], cfg.epsilon, b.q[w], b.strategy[w], b.rng[w],
            b.state[w], 0, 0, 5000, True, cfg.stable_periods, cfg.max_periods)
        b.state[w], b.t[w], b.stable[w] = s, t, stable
    b.converged[:] = b.stable >= cfg.stable_periods
    assert_same_state(a, b)


@pytest.mark.skipif(__import__("numba").config.NUMBA_NUM_THREADS < 2, reason="needs 2 threads")
def test_threads_and_slicing_do_not_change_fast_results(monkeypatch):
    game = int_game(seed=2)
    cfg = QLearningConfig(alpha=0.7, q0="zeros", beta=2e-3, stable_periods=500)
    runs = []
    for threads, slice_periods in ((1, 1 << 21), (2, 1 << 21), (2, 97)):
        st = init_sessions(game, cfg, seed=9, sessions=range(5))
        advance(game, cfg, st, threads=threads, slice_periods=slice_periods)
        runs.append(st)
    resumed = init_sessions(game, cfg, seed=9, sessions=range(5))
    advance(game, cfg, resumed, periods=333)
    advance(game, cfg, resumed, periods=1)
    advance(game, cfg, resumed)
    general = init_sessions(game, cfg, seed=9, sessions=range(5))
    general_advance(monkeypatch, game, cfg, general, threads=2)
    for other in runs[1:] + [resumed, general]:
        assert_same_state(runs[0], other)
    assert runs[0].converged.all()


INELIGIBLE = {
    "alternating": (calvano_game, dict(protocol="alternating"), {}),
    "three_agents": (lambda: calvano_game(n=3, m=3, p_nash=1.37, p_coop=2.0), {}, {}),
    "boltzmann": (calvano_game, dict(exploration="boltzmann"), {}),
    "float32": (calvano_game, dict(dtype="float32"), {}),
    "record": (calvano_game, {}, dict(record=5)),
    "forced": (calvano_game, {}, dict(forced_action=[-1, 3])),
    "epsilon_override": (calvano_game, {}, dict(epsilon_override=[0.1, -1])),
    "learn_off": (calvano_game, {}, dict(learn=[True, False])),
    "action_cap": (calvano_game, {}, dict(action_cap=[14, 10])),
}


@pytest.mark.parametrize("case", sorted(INELIGIBLE))
def test_other_configurations_take_the_general_loop(case):
    make, cfg_kw, controls = INELIGIBLE[case]
    assert not _eligible(make(), QLearningConfig(**cfg_kw), **controls)


def test_exogenous_states_and_non_finite_values_take_the_general_loop():
    from duopoly import exo_duopoly
    assert not _eligible(exo_duopoly(), QLearningConfig())
    game = calvano_game()
    assert _eligible(game, QLearningConfig())
    bad = game_arrays(game).payoffs.copy()
    bad[0, 3, 1] = np.nan
    no, nf = np.array([-1, -1]), np.array([-1.0, -1.0])
    assert not fast_path_eligible(bad, 1, False, 0, no, nf, np.ones(2, bool), np.full(2, 14),
                                  15, 0, 8)
    q = np.zeros((2, 4, 3))
    assert finite_table(q)
    q[1, 2, 0] = np.inf
    assert not finite_table(q)


def test_non_finite_q_table_still_matches_the_twin():
    """A session whose Q-table holds NaN runs the general loop and still equals the twin."""
    game = FiniteGame.from_matrix(PD_INT, memory=1, discount=0.9)
    cfg = QLearningConfig(alpha=0.5, exploration="constant", epsilon=0.3)
    fast = init_sessions(game, cfg, seed=3, sessions=[0, 1])
    slow = reference_init(game, cfg, seed=3, sessions=[0, 1])
    for st in (fast, slow):
        st.q[1, 0, 2, 1] = np.nan
    advance(game, cfg, fast, periods=500, until_converged=False)
    reference_advance(game, cfg, slow, periods=500, until_converged=False)
    np.testing.assert_array_equal(fast.q, slow.q)  # NaN == NaN positionally
    for f in ("strategy", "state", "t", "rng", "stable"):
        assert np.array_equal(getattr(fast, f), getattr(slow, f)), f
