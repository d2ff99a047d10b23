"""`marketsai train` (the runner + Ray Tune) and `marketsai evaluate`: run folder, resume
from a checkpoint inside an interrupted seed, checkpoints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from rl_helpers import ROOT, experiment

pytestmark = pytest.mark.rllib


def _marketsai(*args, **kw):
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    return subprocess.Popen([sys.executable, "-m", "marketsai.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def _progress(run: Path) -> pd.DataFrame:
    """Tune's per-iteration results (result.json: one JSON object a line)."""
    (path,) = run.glob("trials/seed0/tune/*/result.json")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return pd.DataFrame({"training_iteration": [r["training_iteration"] for r in rows]})


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Train PPO with Tune, interrupt it (Ctrl-C) after a checkpoint, then resume it."""
    tmp = tmp_path_factory.mktemp("train")
    f = tmp / "ppo.yaml"
    f.write_text(yaml.safe_dump(experiment("PPO", stop={"training_iteration": 12},
                                           checkpoint={"frequency": 2, "keep": 2})))
    out = tmp / "run"
    proc = _marketsai("train", str(f), "--out", str(out), "--num-cpus", "2", "--quiet")
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("trials/seed0/tune/*/checkpoint_000001")):
        if proc.poll() is not None:
            pytest.fail(f"training ended early:\n{proc.stdout.read()}")
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    interrupted = _progress(out)
    unit_done = (out / "chunks" / "seed0" / "done.json").exists()
    resumed = _marketsai("train", str(f), "--out", str(out), "--num-cpus", "2", "--quiet")
    log, _ = resumed.communicate(timeout=240)
    assert resumed.returncode == 0, log
    return {"out": out, "interrupted": interrupted, "log": log, "file": f, "unit_done": unit_done,
            "interrupt_code": proc.returncode}


def test_run_folder_and_logs(run):
    out = run["out"]
    for name in ("config.yaml", "results.parquet", "progress.parquet", "log",
                 "figures/training_curve.png", "trials/seed0/experiment.yaml"):
        assert (out / name).is_file(), name
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["economy"]["name"] == "bertrand_duopoly"  # economy stored inline
    trials = pd.read_csv(out / "trials.csv")
    assert trials["iterations"].tolist() == [12]
    assert Path(trials["checkpoint"][0]).is_dir()
    assert pd.read_parquet(out / "results.parquet")["iterations"].tolist() == [12]
    assert pd.read_parquet(out / "progress.parquet")["iteration"].tolist() == list(range(1, 13))
    assert list(out.glob("trials/seed0/tune/*/events.out.tfevents.*"))  # TensorBoard
    assert list(out.glob("trials/seed0/tune/*/progress.csv"))  # CSV log
    summary = json.loads((out / "summary.json").read_text())
    assert summary["algorithm"] == "PPO" and summary["kind"] == "rllib"


def test_interrupted_run_resumes_from_checkpoint(run):
    before = run["interrupted"]["training_iteration"].tolist()
    assert 2 <= before[-1] < 12  # really interrupted, after a checkpoint
    assert not run["unit_done"] and run["interrupt_code"] != 0  # the seed is not recorded as done
    after = _progress(run["out"])["training_iteration"].tolist()
    assert after[-1] == 12
    # resumed from a checkpoint, not restarted: iteration 1 appears once only
    assert after.count(1) == 1
    assert len(after) < len(before) + 12


def test_evaluate_checkpoint_writes_tabular_measures(run, tmp_path):
    from click.testing import CliRunner

    from marketsai.cli import main
    ck = pd.read_csv(run["out"] / "trials.csv")["checkpoint"][0]
    res = CliRunner().invoke(main, ["evaluate", ck, "--episodes", "4", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "profit gain Delta" in res.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    for key in ("profit_gain", "table_1", "mean_price", "cycle_length_mean",
                "impulse_best_response_t1_deviator", "eq_on_path_share"):
        assert key in summary
    results = pd.read_csv(tmp_path / "results.csv")
    assert len(results) == 4 and {"profit_gain", "cycle_length", "mean_price_0"} <= set(results)
    impulse = pd.read_csv(tmp_path / "impulse.csv")
    assert set(impulse["role"]) == {"deviator", "rival"}
    assert (tmp_path / "figures" / "impulse_response_best_response.png").is_file()  # the tabular names
    assert (tmp_path / "figures" / "profit_gain_histogram.png").is_file()


def test_tabulated_strategies_reproduce_play_in_the_environment(run):
    """The limit cycle found on the tabulated policy is what the policy does in the env."""
    import numpy as np

    from marketsai.analysis import limit_cycles
    from marketsai.analysis.calvano import tabulate
    from marketsai.economy import Economy
    from marketsai.rl.algorithms import policy_ids
    from marketsai.rl.policy import GreedyPolicies

    ck = pd.read_csv(run["out"] / "trials.csv")["checkpoint"][0]
    econ = Economy.from_dict(yaml.safe_load((run["out"] / "config.yaml").read_text())["economy"])
    env = econ.parallel_env(max_cycles=500)
    pol = GreedyPolicies(ck, policy_ids(econ, "group"), env.action_spaces)
    game = econ.finite_game()
    strategies = tabulate(econ, pol, game)[None]
    for start in (0, 17, 224):
        cyc = limit_cycles(game, strategies, start_states=[start])
        obs, _ = env.reset(seed=1)
        a = np.unravel_index(start, (game.n_actions,) * 2)
        obs, *_ = env.step({"firm_0": int(a[0]), "firm_1": int(a[1])})
        profits = []
        for _ in range(300):
            acts = pol.act_all({a: o[None] for a, o in obs.items()})
            obs, rew, *_ = env.step({a: int(v[0]) for a, v in acts.items()})
            profits.append([rew["firm_0"], rew["firm_1"]])
        length = int(cyc.length[0])
        np.testing.assert_allclose(np.mean(profits[-length * 10:], axis=0), cyc.mean_payoff[0], rtol=1e-9)


def test_checkpoint_round_trip(run, local_ray):
    """Algorithm.from_checkpoint restores the trained weights and keeps training."""
    import torch
    from ray.rllib.algorithms.algorithm import Algorithm

    from marketsai.economy import Economy
    from marketsai.rl.envs import register_economy
    from marketsai.rl.policy import GreedyPolicies

    ck = pd.read_csv(run["out"] / "trials.csv")["checkpoint"][0]
    econ = Economy.from_dict(yaml.safe_load((run["out"] / "config.yaml").read_text())["economy"])
    register_economy(econ)
    algo = Algorithm.from_checkpoint(ck)
    try:
        saved = GreedyPolicies(ck, {"firm_0": "firm"}, econ.parallel_env().action_spaces)
        restored = algo.get_module("firm").state_dict()  # the acting (inference-only) copy
        trained = saved.multi["firm"].state_dict()
        assert restored and set(restored) <= set(trained)
        for name, tensor in restored.items():
            assert torch.equal(tensor, trained[name]), name
        assert algo.iteration == 12
        assert algo.train()["training_iteration"] == 13
    finally:
        algo.stop()
