"""The GPU kernel on numba's CUDA simulator against the CPU engine (run by
``tests/test_tabular_gpu.py`` in a subprocess: ``NUMBA_ENABLE_CUDASIM`` must be set before
``numba.cuda`` is imported). Each check prints ``ok <name>``; any difference raises.

The simulator runs every thread in Python (about 100 microseconds a period), so the
sessions are short: 5 prices, a few thousand periods.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

assert os.environ.get("NUMBA_ENABLE_CUDASIM") == "1", "run with NUMBA_ENABLE_CUDASIM=1"

from marketsai.errors import SpecError  # noqa: E402
from marketsai.finite_game import FiniteGame  # noqa: E402
from marketsai.tabular import (  # noqa: E402
    QLearningConfig,
    advance,
    init_sessions,
    kernel,
    model_kernel,
    run_sessions,
)
from marketsai.tabular.games import calvano_game  # noqa: E402
from marketsai.tabular.sessions import STATE_FIELDS, game_arrays  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiny_runs import tiny_experiment  # noqa: E402


def on_gpu(cfg: QLearningConfig) -> QLearningConfig:
    return dataclasses.replace(cfg, device="cuda")


def same_state(cpu, gpu, name):
    for f in STATE_FIELDS + ("sessions", "converged"):
        x, y = getattr(cpu, f), getattr(gpu, f)
        assert x.dtype == y.dtype and np.array_equal(x, y), f"{name}: {f} differs"


class CpuKernelsOff:
    """Within: the CPU kernels raise, so a GPU result cannot have come from them."""

    def __enter__(self):
        self.saved = kernel.init_kernel, kernel.advance_kernel, model_kernel.advance_model_kernel

        def off(*args, **kw):
            raise AssertionError("the CPU kernel ran for device: cuda")
        kernel.init_kernel = kernel.advance_kernel = model_kernel.advance_model_kernel = off

    def __exit__(self, *exc):
        kernel.init_kernel, kernel.advance_kernel, model_kernel.advance_model_kernel = self.saved


def both(game, cfg, seed, sessions, steps):
    """The same sessions advanced by the CPU engine and by the GPU kernel, step by step
    (``steps``: keyword dicts of ``advance``)."""
    cpu = init_sessions(game, cfg, seed=seed, sessions=sessions)
    with CpuKernelsOff():
        gpu = init_sessions(game, on_gpu(cfg), seed=seed, sessions=sessions)
    same_state(cpu, gpu, "init")
    for kw in steps:
        advance(game, cfg, cpu, **kw)
        with CpuKernelsOff():
            advance(game, on_gpu(cfg), gpu, **kw)
    return cpu, gpu


def check_converges_and_results():
    """Sessions run to convergence, with run_sessions' outcome arrays (what the runner reads)."""
    game = calvano_game(m=5)
    cfg = QLearningConfig(alpha=0.3, beta=3e-3, stable_periods=200, max_periods=6000)
    cpu = run_sessions(game, cfg, seed=1, sessions=range(3))
    with CpuKernelsOff():
        gpu = run_sessions(game, on_gpu(cfg), seed=1, sessions=range(3))
    assert cpu.converged.all(), cpu.periods
    same_state(cpu.final, gpu.final, "converged")
    assert cpu.to_frame().equals(gpu.to_frame())
    for f in ("strategies", "cycle_states", "cycle_prices", "periods"):
        assert np.array_equal(getattr(cpu, f), getattr(gpu, f), equal_nan=True), f


def check_period_cap():
    """Sessions stopped by ``max_periods`` (not converged), slices of 500 periods, on a
    device whose memory holds one session at a time (batches of one)."""
    from marketsai.tabular import gpu as gpu_module

    game = calvano_game(m=5)
    cfg = QLearningConfig(alpha=0.3, beta=3e-3, stable_periods=400, max_periods=1300)
    saved = gpu_module.device_free_bytes
    one = gpu_module.session_device_bytes(game_arrays(game))
    gpu_module.device_free_bytes = lambda: int(1.3 * one)  # 0.8 of it: one session
    try:
        cpu, gpu = both(game, cfg, 2, [0, 5, 6], [dict(slice_periods=500)])
    finally:
        gpu_module.device_free_bytes = saved
    assert (cpu.t == 1300).all() and not cpu.converged.any(), (cpu.t, cpu.stable)
    same_state(cpu, gpu, "cap")


def check_resume_mid_block():
    """Fixed periods in two calls that stop off a multiple of EPS_RESYNC (the schedule
    is picked up mid-block), constant exploration, memory 2 and an integer game full of
    exact ties (rescans and their random pick)."""
    game = calvano_game(m=5)
    cfg = QLearningConfig(alpha=0.2, beta=1e-3)
    steps = [dict(periods=700, until_converged=False), dict(periods=900, until_converged=False)]
    same_state(*both(game, cfg, 3, [4], steps), "resume")
    const = QLearningConfig(alpha=0.2, exploration="constant", epsilon=0.3)
    same_state(*both(game, const, 4, [1], steps[:1]), "constant")
    mem2 = QLearningConfig(alpha=(0.5, 0.25), q0="zeros", beta=(1e-3, 3e-3))
    pay = np.random.default_rng(1).integers(0, 3, size=(3, 3, 2)).astype(float)
    ties = FiniteGame.from_matrix(pay, memory=2, discount=0.5)
    same_state(*both(ties, mem2, 3, [2, 5], [dict(periods=1200, until_converged=False)]), "ties")


def check_refusals():
    """What the kernel does not cover is refused on ``device``, naming what it covers."""
    game = calvano_game(m=5)
    base = QLearningConfig(alpha=0.3, beta=3e-3)
    cases = {
        "boltzmann": (game, dict(exploration="boltzmann"), {}),
        "alternating": (game, dict(protocol="alternating"), {}),
        "float32": (game, dict(dtype="float32"), {}),
        "solver option": (game, dict(step_size="visits"), {}),
        "three agents": (calvano_game(n=3, m=3, p_nash=1.37016, p_coop=2.0), {}, {}),
        "controls": (game, {}, dict(forced_action=[0, -1], periods=10)),
        "recording": (game, {}, dict(record=5, periods=10)),
    }
    for name, (g, cfg_kw, kw) in cases.items():
        cfg = on_gpu(dataclasses.replace(base, **cfg_kw))
        st = init_sessions(g, dataclasses.replace(cfg, device="cpu"), seed=0, sessions=[0])
        try:
            advance(g, cfg, st, **kw)
        except SpecError as err:
            assert err.path == "device" and "does not cover" in str(err), (name, str(err))
            assert "two agents" in str(err), str(err)
        else:
            raise AssertionError(f"{name}: not refused")
    st = init_sessions(game, base, seed=0, sessions=[0])
    st.q[0, 0, 0, 0] = np.nan
    try:
        advance(game, on_gpu(base), st, periods=10)
    except SpecError as err:
        assert "NaN" in str(err), str(err)
    else:
        raise AssertionError("a NaN Q-table: not refused")


def check_runner():
    """A ``kind: tabular`` run with ``learner.device: cuda``: the same results table; a
    learning curve is refused before the run starts."""
    import pandas as pd

    from marketsai.runner import run_experiment

    exp = tiny_experiment(seed=5, sessions=2)
    exp["analysis"]["learning_curve_every"] = 0
    gpu_exp = dict(exp, learner=dict(exp["learner"], device="cuda"))
    with tempfile.TemporaryDirectory() as tmp:
        a = run_experiment(exp, out=Path(tmp) / "cpu", progress=False)
        b = run_experiment(gpu_exp, out=Path(tmp) / "gpu", progress=False)
        ta, tb = pd.read_parquet(a / "results.parquet"), pd.read_parquet(b / "results.parquet")
        assert ta.equals(tb), (ta, tb)
        curve = dict(gpu_exp, analysis=dict(gpu_exp["analysis"], learning_curve_every=1000))
        try:
            run_experiment(curve, out=Path(tmp) / "curve", progress=False)
        except SpecError as err:
            assert "learning_curve_every" in err.path, err.path
        else:
            raise AssertionError("a learning curve on the GPU: not refused")


CHECKS = [check_converges_and_results, check_period_cap, check_resume_mid_block,
          check_refusals, check_runner]

if __name__ == "__main__":
    for check in CHECKS:
        check()
        print("ok", check.__name__, flush=True)
