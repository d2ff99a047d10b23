"""Issue 23, item 2: what a fuzzer found accepted and then crashing is refused (or repaired,
with a warning) when the file is loaded -- never a numpy error at the first step.

Rounded transition matrices, unbounded ranges that are sampled, economies whose clearing
has no positive factor supply, and parameter values that make no economic sense.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import pytest

from marketsai.economy import Economy
from marketsai.errors import SpecError, SpecWarning
from marketsai.processes import process_from_spec
from marketsai.yamlio import read_yaml

ROOT = Path(__file__).resolve().parents[1]

# a 5-state chain as a paper prints it, to four digits: the middle row sums to 1.0001
ROUNDED = [[0.9727, 0.0273, 0.0000, 0.0000, 0.0000],
           [0.0041, 0.9806, 0.0153, 0.0000, 0.0000],
           [0.0000, 0.0082, 0.9837, 0.0082, 0.0000],
           [0.0000, 0.0000, 0.0153, 0.9806, 0.0041],
           [0.0000, 0.0000, 0.0000, 0.0273, 0.9727]]


def economy(name: str) -> dict:
    return read_yaml(ROOT / "economies" / f"{name}.yaml")


def stepped(econ: Economy, periods: int = 3) -> np.ndarray:
    """Rewards of ``periods`` periods of random decisions."""
    rng = np.random.default_rng(1)
    state = econ.initial_state(rng, 4)
    for _ in range(periods):
        x = np.column_stack([s.grid[rng.integers(0, s.size, 4)] if s.kind == "grid"
                             else rng.uniform(s.low, s.high, 4) for s in econ.decisions])
        state, rewards, _ = econ.step(state, x, rng)
    return rewards


def test_a_rounded_published_matrix_loads_normalised_with_a_warning_naming_the_row():
    assert abs(sum(ROUNDED[2]) - 1.0001) < 1e-12
    entry = {"kind": "markov", "values": [-2, -1, 0, 1, 2], "transition": ROUNDED}
    with pytest.warns(SpecWarning) as caught:
        p = process_from_spec(copy.deepcopy(entry), "processes.z")
    messages = [str(w.message) for w in caught]
    assert messages == ["processes.z.transition[2]: row 2 sums to 1.0001, not 1; normalised "
                        "(divided by its sum)"]
    np.testing.assert_allclose(p.chain.P.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(p.chain.P[2], np.array(ROUNDED[2]) / 1.0001, rtol=1e-15)
    np.testing.assert_array_equal(p.chain.P[0], ROUNDED[0])  # exact rows stay exactly as written
    assert p.spec["transition"] == ROUNDED  # the file's numbers are what the resolved form shows


def test_a_row_further_off_stays_an_error_naming_it():
    bad = copy.deepcopy(ROUNDED)
    bad[3][3] = 0.9826  # sums to 1.002
    with pytest.raises(SpecError) as info:
        process_from_spec({"kind": "markov", "values": [-2, -1, 0, 1, 2], "transition": bad},
                          "processes.z")
    assert info.value.path == "processes.z.transition[3]"
    assert "row 3 of transition sums to 1.002" in str(info.value)


def test_exact_matrices_load_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        process_from_spec({"kind": "markov", "values": [0, 1, 2],
                           "transition": [[0.1, 0.2, 0.7], [0.3, 0.3, 0.4], [0.0, 0.5, 0.5]]},
                          "processes.z")


# ------------------------------------------------------------ ranges that are sampled
def test_an_unbounded_action_interval_is_refused_at_load_naming_the_field():
    data = economy("bertrand_duopoly_continuous")
    data["agents"][0]["action"].update(low=-1e308, high=1e308)  # numpy cannot draw from it
    with pytest.raises(SpecError) as info:
        Economy.from_dict(data)
    assert info.value.path == "agents[0].action.high"
    assert "too wide to draw from" in str(info.value)


def test_an_unbounded_state_range_is_refused_at_load_naming_the_field():
    data = economy("krusell_smith")
    data["agents"][0]["state"]["k"].update(low=1e-50, high=1.7e308)
    Economy.from_dict(copy.deepcopy(data))  # wide but drawable: accepted
    data["agents"][0]["state"]["k"].update(low=-1.7e308)
    with pytest.raises(SpecError) as info:  # the household refuses non-positive capital first
        Economy.from_dict(data)
    assert info.value.path == "agents[0].state.k.low"


def test_wide_but_finite_ranges_still_step():
    data = economy("bertrand_duopoly_continuous")
    data["agents"][0]["action"].update(low=-1e307, high=1e307)
    econ = Economy.from_dict(data)
    assert stepped(econ).shape == (4, 2)


# ------------------------------------------------------------ positive factor supply
@pytest.mark.parametrize("count", [1, 2, 5, 8])
def test_too_few_households_to_always_have_labour_are_refused(count):
    data = economy("krusell_smith")
    data["agents"][0]["count"] = count
    with pytest.raises(SpecError) as info:
        Economy.from_dict(data)
    err = info.value
    assert err.path == "agents[0].count" and err.value == count
    assert err.allowed == "at least 9 households"  # 10 % unemployment in bad times: 0.1 ** 9 = 1e-9
    assert f"probability {0.1 ** count:.2g}" in str(err)


def test_enough_households_load_and_step():
    data = economy("krusell_smith")
    data["agents"][0]["count"] = 9
    assert np.all(np.isfinite(stepped(Economy.from_dict(data), periods=20)))


def test_an_aggregate_efficiency_with_a_zero_state_is_refused():
    data = economy("growth_market")
    data["processes"]["e"] = {"kind": "markov", "values": [0.0, 1.0],
                              "transition": [[0.5, 0.5], [0.5, 0.5]]}
    data["agents"][0]["params"]["efficiency"] = "e"
    data["agents"][0]["state"]["k"]["scale"] = "level"
    with pytest.raises(SpecError) as info:
        Economy.from_dict(copy.deepcopy(data))
    assert info.value.path == "agents[0].params.efficiency"
    data["processes"]["e"]["scope"] = "agent"  # one draw per household: 0.5 ** 40 is negligible
    data["agents"][0]["count"] = 40
    assert np.all(np.isfinite(stepped(Economy.from_dict(data))))


def test_a_steady_state_that_overflows_is_our_error():
    data = economy("growth_market")
    data["agents"][1]["params"]["tfp"] = 1e300
    with pytest.raises(SpecError) as info:
        Economy.from_dict(data)
    assert info.value.path == "agents[0].state.k.scale"


# ------------------------------------------------------------ values that make no economic sense
def test_a_negative_marginal_cost_is_refused():
    data = economy("bertrand_oligopoly")
    data["agents"][0]["params"]["cost"] = -1.3  # accepted before: a Nash price of 0.61
    with pytest.raises(SpecError) as info:
        Economy.from_dict(data)
    assert info.value.path.endswith("params.cost") and info.value.value == -1.3
    assert info.value.allowed == "a finite number >= 0"


def test_a_quality_at_which_the_firm_sells_nothing_is_refused_naming_the_firm():
    data = economy("bertrand_duopoly")  # cost 1, outside quality 0, mu 0.25
    data["agents"][0]["params"]["quality"] = -6.0  # demand at price = cost: e^-28 of the outside good
    with pytest.raises(SpecError) as info:
        Economy.from_dict(copy.deepcopy(data))
    assert info.value.path == "agents[0].params.quality" and info.value.value == -6.0
    assert "a quality > -5.90776" in info.value.allowed
    data["agents"][0]["params"]["quality"] = -5.8  # just inside: loads (its benchmarks coincide,
    data["agents"][0]["action"].update(low=1.0, high=2.0)  # so the price grid is given explicitly)
    Economy.from_dict(data)


def test_the_calvano_baseline_is_unchanged():
    game = Economy.from_dict(economy("bertrand_duopoly")).finite_game()
    assert [round(float(p), 5) for p in game.nash_action] == [1.47293, 1.47293]
    assert round(float(game.actions[0, 0]), 5) == 1.42772 and round(float(game.actions[0, -1]), 5) == 1.97019


@pytest.mark.parametrize("where", ["action", "state"])
def test_one_grid_point_is_refused_by_the_declaration_the_docs_show(where):
    from marketsai.agents.base import STATE_FIELDS
    from marketsai.spec import ACTION_FIELDS
    declared = (ACTION_FIELDS if where == "action" else STATE_FIELDS)["points"]
    assert not declared.check(1) and declared.check(2)
    doc = (ROOT / "docs" / "economy_files.md").read_text()
    assert f"| `points` | `{declared.default}` | an integer in [2, 10,000] |" in doc


def test_a_steady_state_that_underflows_is_our_error():
    data = economy("growth_market")
    data["agents"][1]["params"]["alpha"] = 1e-300  # k_ss ~ 1e-300: products underflow to 0
    with pytest.raises(SpecError) as info:
        Economy.from_dict(copy.deepcopy(data))
    assert info.value.path == "agents[0].state.k.scale" and "at least 1e-100" in str(info.value)
    data["agents"][1]["params"]["alpha"] = 1e-90  # tiny, yet representable: loads and steps
    assert np.all(np.isfinite(stepped(Economy.from_dict(data))))
