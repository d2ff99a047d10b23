"""The ``best_response`` evaluation after a real batched learner, through ``kind: learn``:
does it run end to end and are its columns complete (not whether the learner learnt)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from rl_helpers import BATCHED_DQN_SMALL  # noqa: E402

import marketsai as mai  # noqa: E402
from marketsai.analysis.evaluations import evaluations  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_dqn_batched_on_the_fixed_rival_is_checked_with_its_untrained_networks(tmp_path):
    cfg = {"kind": "learn", "name": "br", "seed": 1, "seeds": [0, 1],
           "economy": str(ROOT / "experiments" / "tabular_vs_deep" / "bertrand_rival_nash.yaml"),
           "learner": {"name": "dqn_batched", "settings": BATCHED_DQN_SMALL | {"periods": 300}},
           "evaluate": [{"name": "best_response", "settings": {"untrained": True}}]}
    run = mai.run_experiment(cfg, out=tmp_path / "run", progress=False)
    columns = set(evaluations.get("best_response").columns)
    for table in ("results", "results_untrained"):
        res = pd.read_parquet(run / f"{table}.parquet")
        assert res["seed"].tolist() == [0, 1] and columns <= set(res.columns), table
        assert res[sorted(columns)].notna().all().all() and (res["states"] == 15).all()
        assert (res["best_response_index"] == 1).all()  # the rival at its Nash price: grid index 1
        assert all(len(s.split()) == 15 for s in res["greedy_by_state"])
    summary = json.loads((run / "summary.json").read_text())
    for part in (summary, summary["untrained"]):
        assert 0 <= part["passed_share"] <= 1 and part["max_steps_off"] >= 0
