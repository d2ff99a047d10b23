"""Fast kernel == slow twin, and results that do not depend on threads, on which
sessions run together, on how a run is sliced, or on a save/load round trip."""

from __future__ import annotations

import numpy as np
import pytest
from duopoly import (
    CODE_PATH_CASES,
    PD,
    assert_same_state,
    calvano,
    check_kernel_against_twin,
    exo_duopoly,
)

from marketsai.finite_game import FiniteGame
from marketsai.tabular import (
    QLearningConfig,
    SessionResults,
    advance,
    init_sessions,
    run_sessions,
)
from marketsai.tabular.reference import reference_advance, reference_init

CASES = {
    **CODE_PATH_CASES,
    "pd_exp_decay": (lambda: FiniteGame.from_matrix(PD, memory=1, discount=0.9),
                     dict(alpha=0.1, beta=1e-3, stable_periods=300), {}),
    "exo_mem2_constant": (exo_duopoly, dict(alpha=(0.1, 0.3), exploration="constant",
                                            epsilon=0.3), {}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_kernel_matches_slow_twin(case):
    make, cfg_kw, controls = CASES[case]
    fast, _ = check_kernel_against_twin(make(), cfg_kw, controls, seed=7, sessions=[0, 5],
                                        periods=3000, slice_periods=700)
    if case == "pd_exp_decay":
        assert fast.converged.all() and (fast.t < 3000).all()  # stopped by the rule


def test_calvano_truncated_run_matches_slow_twin():
    game = calvano()
    cfg = QLearningConfig(beta=2e-4, stable_periods=1500, max_periods=12_000)
    fast = init_sessions(game, cfg, seed=0, sessions=[0, 1])
    slow = reference_init(game, cfg, seed=0, sessions=[0, 1])
    advance(game, cfg, fast)
    reference_advance(game, cfg, slow)
    assert_same_state(fast, slow)
    assert (fast.t > 3000).all()


#: two threads where the machine has them; with NUMBA_NUM_THREADS=1 (one core, a container)
#: the tests below still check what they are about, on one thread
THREADS = min(2, __import__("numba").config.NUMBA_NUM_THREADS)


def small_run(threads, sessions=range(8), **kw):
    cfg = QLearningConfig(beta=4e-5, **kw)
    return run_sessions(calvano(), cfg, seed=11, sessions=sessions, threads=threads, keep_q=True)


@pytest.mark.skipif(__import__("numba").config.NUMBA_NUM_THREADS < 2, reason="needs 2 threads")
def test_bit_identical_for_one_and_two_threads():
    r1, r2 = small_run(1), small_run(2)
    assert_same_state(r1.final, r2.final)
    for k in ("strategies", "periods", "cycle_states", "profit_gain"):
        np.testing.assert_array_equal(getattr(r1, k), getattr(r2, k))


def test_sessions_do_not_depend_on_their_batch():
    alone = small_run(THREADS, sessions=[3, 4])
    together = small_run(THREADS, sessions=range(10))
    assert_same_state(alone.final, together.final.subset([3, 4]))
    np.testing.assert_array_equal(alone.profit_gain, together.profit_gain[3:5])


def test_slicing_and_resuming_do_not_change_results():
    game = calvano()
    cfg = QLearningConfig(beta=1e-4, stable_periods=3000)
    a = init_sessions(game, cfg, seed=2, sessions=range(3))
    b = init_sessions(game, cfg, seed=2, sessions=range(3))
    advance(game, cfg, a, slice_periods=1000)
    advance(game, cfg, b, periods=5000)  # resumed from the session clock t...
    advance(game, cfg, b, periods=7)
    advance(game, cfg, b)  # ...then to convergence
    assert_same_state(a, b)


def test_save_load_round_trip(tmp_path):
    res = small_run(THREADS, sessions=range(3))
    path = tmp_path / "res.npz"
    res.save(path)
    back = SessionResults.load(path)
    assert_same_state(res.final, back.final)
    assert back.to_frame().equals(res.to_frame())
    assert back.config == res.config and back.seed == 11
    game = calvano()
    cfg = QLearningConfig(**back.config)
    advance(game, cfg, back.final, periods=100, until_converged=False)  # restartable
    assert (back.final.t == res.final.t + 100).all()
