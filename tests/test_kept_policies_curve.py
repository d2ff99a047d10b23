"""A learning curve from policies kept along a training: a batched learner with
``keep_policies: true`` keeps each seed's policy at every checkpoint, and the learn kind's
``curve:`` evaluations score them into the table ``curve`` (issue 22: periods and wall
time to each accuracy; learning curves by seed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from marketsai.errors import SpecError
from marketsai.learners import kept_policies
from marketsai.runner import run_experiment

pytest.importorskip("torch")

ECONOMY = str(Path(__file__).resolve().parents[1] / "economies" / "bertrand_duopoly.yaml")
CALVANO = {"name": "calvano", "settings": {"episodes": 2, "periods": 30, "tail": 10, "impulse_response": [],
                                           "equilibrium_check": False}}


def config(keep: bool, curve: list, periods: int = 90) -> dict:
    settings = {"periods": periods, "learning_starts": 20, "hiddens": [8], "train_batch_size": 8,
                "checkpoint_every": 30, "episode_length": 20, "keep_policies": keep}
    return {"kind": "learn", "name": "curve", "economy": ECONOMY, "seed": 3, "seeds": 2,
            "learner": {"name": "dqn_batched", "settings": settings}, "evaluate": [CALVANO], "curve": curve}


@pytest.fixture(scope="module")
def kept_run(tmp_path_factory):
    return run_experiment(config(True, [CALVANO]), out=tmp_path_factory.mktemp("kept") / "run", threads=1,
                          progress=False)


def test_the_curve_scores_each_kept_period_and_ends_at_the_result(kept_run):
    """One row per seed and checkpoint period (30, 60, 90), training seconds rising; the
    last period's policy is the trained one, so its row is the results row's mean."""
    run = kept_run
    curve, res = pd.read_parquet(run / "curve.parquet"), pd.read_parquet(run / "results.parquet")
    assert sorted(zip(curve["seed"], curve["periods"], strict=True)) == [(s, p) for s in (0, 1) for p in (30, 60, 90)]
    for _, rows in curve.groupby("seed"):
        assert rows["train_seconds"].is_monotonic_increasing and (rows["train_seconds"] > 0).all()
    last = curve[curve["periods"] == 90].set_index("seed")
    means = res.groupby("seed")["profit_gain"].mean()
    pd.testing.assert_series_equal(last["profit_gain"], means, check_names=False)
    # each file holds its own period's networks: the Q-values move from checkpoint to checkpoint
    (unit,) = (run / "units").iterdir()
    q = [k["policies"][0].functions["firm_0"].q(np.zeros((1, 2))) for k in kept_policies.kept(unit)]
    assert len(q) == 3 and not np.array_equal(q[0], q[1]) and not np.array_equal(q[1], q[2])
    assert (run / "figures" / "learning_curve.png").is_file()  # the calvano headline by seed


def test_keeping_policies_changes_no_result(kept_run, tmp_path):
    kept = kept_run
    plain = run_experiment(config(False, []), out=tmp_path / "plain", threads=1, progress=False)
    pd.testing.assert_frame_equal(pd.read_parquet(kept / "results.parquet"), pd.read_parquet(plain / "results.parquet"))
    assert not (plain / "curve.parquet").exists()


def test_a_curve_without_kept_policies_is_refused_by_name(tmp_path):
    with pytest.raises(SpecError, match=r"curve = \['calvano'\].*keep_policies: true"):
        run_experiment(config(False, [CALVANO]), out=tmp_path / "run", threads=1, progress=False)
    assert not (tmp_path / "run").exists()


def test_a_kept_period_is_written_once(tmp_path):
    """A resumed training passes its last checkpoint again: the first file stands."""
    kept_policies.keep(tmp_path, 30, 1.5, ["first"])
    kept_policies.keep(tmp_path, 30, 9.0, ["second"])
    kept_policies.keep(tmp_path, 10, None, ["early"])
    assert [(k["periods"], k["seconds"], k["policies"]) for k in kept_policies.kept(tmp_path)] == [
        (10, None, ["early"]), (30, 1.5, ["first"])]
