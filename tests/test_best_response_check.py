"""The ``best_response`` evaluation: a single firm's greedy price in every state against its
static best response, on the fixed-rival economies of experiments/tabular_vs_deep/."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import marketsai as mai
from marketsai.analysis.evaluations import evaluations, run_evaluation
from marketsai.errors import SpecError
from marketsai.policies import FunctionPolicy, TablePolicy

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "experiments" / "tabular_vs_deep"
#: the rival's fixed price in each file (the duopoly's static Nash and monopoly prices)
RIVAL = {"nash": 1.4729266600302218, "monopoly": 1.924980919017062}


def rival_economy(rival: str, interval: bool = False):
    return mai.load_economy(STUDY / f"bertrand_rival_{rival}{'_interval' if interval else ''}.yaml")


def check(economy, policy, **settings) -> pd.Series:
    return run_evaluation("best_response", economy, policy, settings).tables["results"].iloc[0]


@pytest.mark.parametrize(("rival", "price", "index"), [("nash", 1.4665, 1), ("monopoly", 1.6602, 6)])
def test_grid_best_response_is_the_duopolys_against_the_fixed_rival(rival, price, index):
    """From the one-firm market, the best response is the grid price the duopoly's own
    profits (rival at its fixed price, brute force over the grid) rank first."""
    econ = rival_economy(rival)
    duo = mai.load_economy(ROOT / "economies" / "bertrand_duopoly.yaml")
    grid = np.asarray(duo.decisions[0].grid)
    duo_profit = duo.clear(np.stack([grid, np.full(len(grid), RIVAL[rival])], axis=1))[0][:, 0]
    row = check(econ, TablePolicy(econ.actors, np.zeros((1, 15), np.int64)))
    assert row["best_response_index"] == int(np.argmax(duo_profit)) == index
    assert row["best_response_price"] == pytest.approx(price, abs=5e-5)


def test_interval_best_response_solves_the_first_order_condition():
    """Against the Nash rival the best response is the Nash price itself; in general the
    logit first-order condition p - c = mu / (1 - q(p)) holds (cost 1, mu 0.25)."""
    for rival in RIVAL:
        econ = rival_economy(rival, interval=True)
        best = check(econ, FunctionPolicy({"firm": lambda o: np.full((len(o), 1), 1.6)}))["best_response_price"]
        _, _, q = econ.clear(np.array([[best]]))
        assert best - 1.0 == pytest.approx(0.25 / (1 - q[0, 0]), rel=1e-5)
        if rival == "nash":
            assert best == pytest.approx(RIVAL["nash"], abs=1e-6)


def test_best_response_everywhere_passes_and_two_steps_off_in_one_state_fails():
    """A policy read through its observations (the last price, normalised): the best
    response in every state passes exactly; two steps up in the lowest-price state fails,
    with that one state counted."""
    econ = rival_economy("monopoly")
    grid = np.asarray(econ.decisions[0].grid)
    profit = econ.clear(grid[:, None])[0][:, 0]

    def playing(off_in_lowest: int):
        return FunctionPolicy({"firm": lambda o: np.where(o[:, 0] == o[:, 0].min(), 6 + off_in_lowest, 6)})

    good = check(econ, playing(0))
    assert good["passed"] and good["max_steps_off"] == 0 and good["share_states_at_best_response"] == 1
    assert good["greedy_by_state"] == " ".join(["6"] * 15) and good["profit_loss_vs_best_response"] == 0
    one = check(econ, playing(1))
    assert one["passed"] and one["share_states_at_best_response"] == pytest.approx(14 / 15)
    assert one["share_states_within_one_step"] == 1
    bad = check(econ, playing(2))
    assert not bad["passed"] and bad["max_steps_off"] == 2 and bad["states"] == 15
    assert bad["share_states_at_best_response"] == bad["share_states_within_one_step"] == pytest.approx(14 / 15)
    assert bad["greedy_by_state"] == " ".join(["8"] + ["6"] * 14)
    assert bad["greedy_price_modal"] == round(grid[6], 4) and bad["greedy_price_max"] == grid[8]
    assert bad["profit_loss_vs_best_response"] == pytest.approx((profit[6] - profit[8]) / 15, rel=1e-12)


def test_interval_policy_is_asked_after_each_of_its_own_last_prices():
    """On the interval: distances in steps of the 15 asked prices; within half a step is
    "at" the best response; a price beyond the interval is clipped as the environment does."""
    econ = rival_economy("nash", interval=True)
    low, high = econ.decisions[0].low, econ.decisions[0].high
    step = (high - low) / 14
    best = check(econ, FunctionPolicy({"firm": lambda o: np.full((len(o), 1), 1.6)}))["best_response_price"]

    def playing(offset_in_highest: float):  # observation 1.0: the last price was the interval's top
        return FunctionPolicy({"firm": lambda o: best + np.where(o >= 1.0, offset_in_highest * step, 0.0)})

    near = check(econ, playing(0.9))
    assert near["passed"] and near["share_states_at_best_response"] == pytest.approx(14 / 15)
    assert near["max_steps_off"] == pytest.approx(0.9) and near["best_response_index"] == 1
    far = check(econ, playing(2.0))
    assert not far["passed"] and far["share_states_within_one_step"] == pytest.approx(14 / 15)
    assert far["greedy_by_state"].split()[-1] == f"{best + 2 * step:.4f}"
    clipped = check(econ, FunctionPolicy({"firm": lambda o: np.full((len(o), 1), 9.0)}), points=5)
    assert clipped["states"] == 5 and clipped["greedy_price_min"] == high
    assert clipped["max_steps_off"] == pytest.approx((high - best) / ((high - low) / 4))


def test_two_deciding_firms_are_refused():
    duo = mai.load_economy(ROOT / "economies" / "bertrand_duopoly.yaml")
    with pytest.raises(SpecError, match="one agent decides") as err:
        run_evaluation("best_response", duo, TablePolicy(duo.actors, np.zeros((2, 225), np.int64)))
    assert err.value.path == "economy.agents" and "firm_0" in str(err.value)


def test_summary_is_the_pass_share_and_the_means_over_seeds():
    rows = pd.DataFrame({"seed": [0, 1], "checkpoint": ["a", "b"], "passed": [True, False],
                         "max_steps_off": [1.0, 4.0], "best_response_price": [1.5, 1.5], "states": [15, 15],
                         "best_response_index": [1, 1], "greedy_price_modal": [1.5, 1.6],
                         "greedy_price_min": [1.4, 1.5], "greedy_price_max": [1.6, 1.7],
                         "share_states_at_best_response": [1.0, 0.5], "share_states_within_one_step": [1.0, 0.5],
                         "profit_loss_vs_best_response": [0.0, 0.2], "greedy_by_state": ["1", "2"]})
    out = evaluations.get("best_response")().summarise({"results": rows}, {})
    assert out["passed_share"] == 0.5 and out["max_steps_off"] == 2.5 and out["profit_loss_vs_best_response"] == 0.1
    assert "seed" not in out and "greedy_by_state" not in out


@pytest.mark.parametrize("learner", ["dqn_batched_500k", "sac_batched_interval_500k", "sac_batched_grid_500k"])
def test_rival_study_files_mirror_their_published_scale_file(learner):
    """The full-budget sanity files copy the study's learner settings (the experiment format
    has no include): they must not drift from the file they mirror."""
    base = yaml.safe_load((STUDY / f"{learner}.yaml").read_text())
    for rival in RIVAL:
        mirror = yaml.safe_load((STUDY / f"{learner}_rival_{rival}.yaml").read_text())
        assert mirror["learner"] == base["learner"] and mirror.get("seed") == base.get("seed")
        suffix = "_interval" if "interval" in learner else ""
        assert mirror["economy"] == f"bertrand_rival_{rival}{suffix}.yaml"
        assert mirror["evaluate"] == [{"name": "best_response", "settings": {"untrained": True}}]


def test_docs_list_the_declared_settings():
    """docs/experiments.md's settings table of the evaluation is its declared settings."""
    from marketsai.params import describe
    text = (ROOT / "docs" / "experiments.md").read_text()
    section = text[text.index("**`best_response`**"):]
    for key, default, allowed, meaning in describe(evaluations.get("best_response").declared()):
        row = f"| `{key}` | {default} | {allowed} | {meaning} |"
        assert row in section, row
