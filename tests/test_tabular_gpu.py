"""The GPU kernel (``marketsai.tabular.gpu``): bit-identical to the CPU engine on numba's
CUDA simulator (one subprocess, ``tests/gpu_sim_checks.py``), no fused multiply-add or
unrounded add in its PTX, and the ``device`` setting's refusals. No test needs a GPU."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from marketsai.errors import SpecError
from marketsai.tabular import QLearningConfig, advance, init_sessions
from marketsai.tabular.games import calvano_game

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def simulator_run():
    """The simulator checks, started at once in a subprocess so that they run beside the
    PTX compilation (the two take seconds each)."""
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "gpu_sim_checks.py")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


def test_kernel_ptx_has_no_fused_or_unrounded_add(simulator_run):
    """Compiled for an H100/H200 (cc 9.0) without a device: the only float adds are the
    explicitly rounded ``add.rn.f64`` (never contracted into an fma), and no ``exp``,
    division or other libdevice call: the device does the CPU's IEEE operations."""
    import numba.cuda.dispatcher as cuda_dispatcher

    from marketsai.tabular import gpu

    try:
        from numba.cuda.cudadrv.nvvm import NVVM
        NVVM()
    except Exception as err:  # noqa: BLE001 - any failure to load NVVM means: no toolkit
        pytest.skip(f"CUDA's NVVM is not available here ({type(err).__name__})")
    # device functions are compiled for "the current device": say cc 9.0 instead of asking
    # a driver (there is none here)
    saved = cuda_dispatcher.get_current_device
    cuda_dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))
    try:
        ptx = gpu.kernel_ptx((9, 0))
    finally:
        cuda_dispatcher.get_current_device = saved
    float_ops = set(re.findall(r"\b((?:fma|mad|add|sub|div|rcp|sqrt|ex2|lg2)\.[\w.]*f64)", ptx))
    assert float_ops == {"add.rn.f64"}, float_ops
    assert "mul.rn.f64" in ptx and not re.search(r"\bcall\b", ptx)


def test_cuda_without_a_device_is_refused(monkeypatch):
    from marketsai.tabular import gpu

    monkeypatch.setattr(gpu, "cuda_available", lambda: False)
    game = calvano_game(m=3)
    cfg = QLearningConfig(beta=1e-3, device="cuda")
    with pytest.raises(SpecError, match="no CUDA device") as err:
        init_sessions(game, cfg, seed=0, sessions=[0])
    assert err.value.path == "device" and "cpu" in err.value.allowed
    st = init_sessions(game, QLearningConfig(beta=1e-3), seed=0, sessions=[0])
    with pytest.raises(SpecError, match="no CUDA device"):
        advance(game, cfg, st, periods=10)


def test_cuda_is_refused_before_a_run_folder_exists(monkeypatch, tmp_path):
    from tiny_runs import tiny_experiment

    from marketsai.runner import run_experiment
    from marketsai.tabular import gpu

    monkeypatch.setattr(gpu, "cuda_available", lambda: False)
    exp = tiny_experiment(seed=0, sessions=2)
    exp["learner"]["device"] = "cuda"
    exp["analysis"]["learning_curve_every"] = 0
    with pytest.raises(SpecError, match="no CUDA device") as err:
        run_experiment(exp, out=tmp_path / "run", progress=False)
    assert err.value.path.endswith("device")
    assert not (tmp_path / "run").exists()


def test_device_setting():
    with pytest.raises(SpecError, match="device = 'gpu'.*cpu, cuda"):
        QLearningConfig(device="gpu")
    assert "device" not in QLearningConfig().to_dict()  # CPU runs' files as before
    assert QLearningConfig(device="cuda").to_dict()["device"] == "cuda"


def test_gpu_kernel_on_the_simulator_equals_the_cpu_engine(simulator_run):
    """Q-tables, greedy actions, states, clocks, RNG words, convergence counters and flags,
    outcome arrays and a runner's results table, equal bit for bit (see the script)."""
    stdout, stderr = simulator_run.communicate(timeout=300)
    assert simulator_run.returncode == 0, stdout + stderr
    done = re.findall(r"^ok (\w+)$", stdout, flags=re.M)
    assert done == ["check_converges_and_results", "check_period_cap", "check_resume_mid_block",
                    "check_refusals", "check_runner"], stdout
