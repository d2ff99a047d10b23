"""The scripts that write the committed results CSVs the docs quote compute what they say,
on small tables whose answers are worked out by hand."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script(relative: str):
    name = "results_script_" + Path(relative).stem
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


baseline_tables = _script("experiments/calvano2020/baseline_tables.py")
make_figures = _script("experiments/interventions/make_figures.py")
aggregate = _script("experiments/aggregate.py")
tuning_table = _script("experiments/growth/tuning_table.py")
heatmap_cost = _script("experiments/calvano2020/heatmap_cost.py")


def _sessions() -> pd.DataFrame:
    """Five sessions: cycle lengths 1, 1, 2, 3, 5; firm 1 fails one check in session 0."""
    return pd.DataFrame({
        "cycle_length": [1, 1, 2, 3, 5], "profit_gain": [0.9, 0.7, 0.8, 0.6, 0.5],
        "periods": [1.0e6, 2.0e6, 3.0e6, 4.0e6, 5.0e6], "converged": [True] * 5,
        "osd_on_path": [False, True, True, False, False], "osd_on_path_0": [True, True, True, False, False],
        "osd_on_path_1": [False, True, True, True, False],
        "osd_all_states": [False] * 5, "osd_all_states_0": [False] * 5, "osd_all_states_1": [False] * 5,
        "eq_on_path": [False, True, False, False, False], "eq_on_path_0": [False, True, False, False, True],
        "eq_on_path_1": [False, True, False, False, False],
        "eq_all_states": [False] * 5, "eq_all_states_0": [False] * 5, "eq_all_states_1": [False] * 5,
        "br_share_0": [0.1, 0.2, 0.3, 0.4, 0.5], "br_share_1": [0.5, 0.4, 0.3, 0.2, 0.1]})


def test_delta_by_cycle_length_and_periods():
    ref = {"cycle_share_1": 0.6, "profit_gain_cycle_1": 0.85, "cycle_share_3plus": 0.1}
    tab = baseline_tables.cycles_table(_sessions(), ref, stable_periods=100_000)
    assert tab["cycle"].tolist() == ["1", "2", "3+"]
    assert tab["sessions"].tolist() == [2, 1, 2]
    assert tab["share"].tolist() == pytest.approx([0.4, 0.2, 0.4])
    assert tab["profit_gain"].tolist() == pytest.approx([0.8, 0.8, 0.55])
    assert tab.loc[0, "profit_gain_se"] == pytest.approx(np.std([0.9, 0.7], ddof=1) / np.sqrt(2))
    assert tab["published_share"].tolist()[0] == 0.6 and tab["published_profit_gain"].isna().tolist()[1:] == [True, True]
    assert tab["periods_mean"].iloc[0] == 3.0e6 and tab["periods_median"].iloc[0] == 3.0e6
    assert tab["periods_mean_before_window"].iloc[0] == 2.9e6


def test_equilibrium_shares_per_firm_and_cycle():
    tab = baseline_tables.equilibrium_table(_sessions()).set_index(["check", "where"])
    osd = tab.loc[("one-shot deviation", "on path")]
    assert (osd["both"], osd["firm_0"], osd["firm_1"]) == pytest.approx((0.4, 0.6, 0.6))
    assert (osd["cycle_1"], osd["cycle_2"], osd["cycle_3plus"]) == pytest.approx((0.5, 1.0, 0.0))
    br = tab.loc[("greedy action optimal (Q*)", "share of all states")]
    assert (br["both"], br["firm_0"], br["cycle_2"]) == pytest.approx((0.3, 0.3, 0.3))
    assert br["cycle_1"] == pytest.approx(np.mean([0.1, 0.2, 0.5, 0.4]))


def test_impulse_means_per_role_and_the_published_column():
    imp = pd.DataFrame({"session": [0, 0, 1, 1], "deviation": ["nash"] * 4, "t": [0, 1, 0, 1],
                        "price_0": [1.8, 1.4, 1.6, 1.5], "price_1": [1.7, 1.7, 1.9, 1.9]})
    tab = baseline_tables.impulse_table(imp, agent=0)
    assert tab["t"].tolist() == [0, 1]
    assert tab["nash_deviator"].tolist() == pytest.approx([1.7, 1.45])
    assert tab["nash_rival"].tolist() == pytest.approx([1.8, 1.8])
    assert tab["published"].tolist() == ["1.7913", "deviator 1.5046"]
    # the rival deviating: the columns swap roles
    assert baseline_tables.impulse_table(imp, agent=1)["nash_deviator"].tolist() == pytest.approx([1.8, 1.8])


def _interventions() -> pd.DataFrame:
    """Two sweep values of one intervention, four sessions each (p_nash 1.0)."""
    base = [2.0, 2.0, 3.0, 3.0]
    rows = []
    for k, post in ((1, [2.0, 2.0, 3.0, 3.0]), (10, [2.0, 1.5, 3.5, 3.0])):
        for s, (pb, pp) in enumerate(zip(base, post, strict=True)):
            rows.append({"population": "main", "label": f"forced_nash[periods={k}]", "protocol": "correct",
                         "intervention": "forced_nash", "sweep_value": float(k), "session": s,
                         "p_base": pb, "p_post": pp, "R": (pp - 1) / (pb - 1), "delta_post": pp / 4,
                         "periods_to_reconverge": 100 * (s + 1)})
    return pd.DataFrame(rows)


def test_intervention_rows_and_the_sweep_side_by_side():
    full = make_figures.full_frame(_interventions(), p_nash=1.0)
    assert full["description"].tolist() == ["forced Nash, firm 0, k = 1", "forced Nash, firm 0, k = 10"]
    k10 = full.iloc[1]
    assert k10["R"] == pytest.approx(np.mean([1.0, 0.5, 1.25, 1.0]))
    assert k10["unchanged"] == pytest.approx(0.5)
    assert k10["above_of_changed"] == pytest.approx(0.5)  # one of the two changed sessions went up
    assert np.isnan(full.iloc[0]["above_of_changed"])  # nothing changed
    assert k10["periods"] == 250
    assert k10["R_of_means"] == pytest.approx((2.5 - 1) / (2.5 - 1))
    assert k10["R_lo"] <= k10["R"] <= k10["R_hi"]
    sweep = make_figures.sweep_frame(full)
    assert sweep["k"].tolist() == [1.0, 10.0]
    assert sweep["forced_nash_unchanged"].tolist() == pytest.approx([1.0, 0.5])
    assert sweep["forced_nash_R"].tolist() == pytest.approx(full["R"].tolist())


def test_aggregate_groups_in_file_order():
    table = pd.DataFrame({"experiment": ["b", "b", "a", "a"], "x": [1.0, 3.0, 2.0, 2.0]})
    out = aggregate.aggregate(table, "experiment", ["x"])
    assert out["experiment"].tolist() == ["b", "a"]
    assert out["n"].tolist() == [2, 2]
    assert out["x_mean"].tolist() == [2.0, 2.0]
    assert out["x_sd"].tolist() == pytest.approx([np.sqrt(2), 0.0])
    with pytest.raises(SystemExit, match="'nope'"):
        aggregate.aggregate(table, "experiment", ["nope"])


def test_the_tuning_table_reads_each_cases_learner():
    """A tuning row's settings are the file's learner with its case's learner keys set
    (other keys of the case, e.g. the economy's, are not the learner's)."""
    config = {"learner": {"alpha": 0.003, "beta": 2e-8, "q0": "zeros", "stable_periods": 2_000_000,
                          "max_periods": 500_000_000, "dtype": "float64"}}
    case = {"learner.alpha": 0.01, "learner.q0": "calvano", "economy.agents[0].state.k.points": 21}
    assert tuning_table.learner_of(config, case) == {"alpha": 0.01, "beta": 2e-8, "q0": "calvano",
                                                     "stable_periods": 2_000_000, "max_periods": 500_000_000}
    assert config["learner"]["alpha"] == 0.003  # the file's learner is not changed


def test_heatmap_cost_interpolates_session_lengths_log_log_in_beta_linear_in_alpha():
    a, b = heatmap_cost.ALPHA, heatmap_cost.BETA
    cells = pd.DataFrame({a: [0.01, 0.01, 0.03, 0.03], b: [1e-6, 1e-4, 1e-6, 1e-4],
                          "periods_mean": [1e6, 1e4, 4e6, 4e4]})
    length = heatmap_cost.SessionLength(cells)
    # slope -1 in log-log: 1e5 and 4e5 at beta 1e-5; alpha 0.02 lies halfway in log periods
    assert length([0.01, 0.03, 0.02], 1e-5) == pytest.approx([1e5, 4e5, 2e5])
    assert length(0.001, 1e-3) == pytest.approx(1e4)  # beyond the measured cells: the nearest
    assert length([[0.01], [0.03]], [[1e-6, 1e-4]]).shape == (2, 2)


def test_heatmap_cost_projection_and_rate():
    a, b = heatmap_cost.ALPHA, heatmap_cost.BETA
    flat = heatmap_cost.SessionLength(pd.DataFrame({a: [0.01, 0.01, 0.2, 0.2], b: [1e-7, 1e-4] * 2,
                                                    "periods_mean": [1e6] * 4}))
    row = heatmap_cost.project(flat, 1e7, 2, 3, 10)  # 6 cells x 10 sessions x 1e6 periods at 1e7/s
    assert row["periods"] == pytest.approx(6e7)
    assert row["core_hours"] == pytest.approx(6 / 3600)
    assert row["wall_hours_64_cores"] == pytest.approx(6 / 3600 / 64)
    # n^2 x 10 x 1e6 / 1e7 s on 2 cores <= 1 h: n^2 <= 7200, n = 84
    assert heatmap_cost.finest_square(
        lambda n: heatmap_cost.project(flat, 1e7, n, n, 10)["core_hours"] / 2, hours=1) == 84
    assert heatmap_cost.project(flat, 1e7, 2, 3, 10, measured_rate=2e7)["wall_hours_as_measured"] == \
        pytest.approx(3 / 3600)
    chunks = pd.DataFrame({"periods": [100, 1000, 3000, 500], "cpu_seconds": [50.0, 1.0, 2.0, np.nan],
                           "first": [True, False, False, False]})
    assert heatmap_cost.periods_per_second(chunks) == (pytest.approx(4000 / 3), 2, 4000)
    assert heatmap_cost.first_chunks("x; new run\nINFO chunk c0.s0 done in 1s\nINFO chunk c0.s1 done in 1s") == set()
