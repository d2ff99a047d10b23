"""Growth-policy accuracy against the grid's DP floor and the continuous reference
(marketsai.analysis.growth)."""

from pathlib import Path

import numpy as np
import pytest

from marketsai.analysis.euler import ergodic_policy_error, euler_error_stats, welfare_loss
from marketsai.analysis.growth import (
    MEASURES,
    GrowthAccuracy,
    grid_ergodic_distribution,
    grid_savings,
    growth_model_of,
    reference_savings,
)
from marketsai.economy import Economy
from marketsai.errors import SpecError
from marketsai.yamlio import read_yaml

ROOT = Path(__file__).resolve().parents[1]


def economy(path="brock_mirman.yaml", points=11, states=None, **planner):
    data = read_yaml(ROOT / "economies" / path)
    data["agents"][0]["state"]["k"]["points"] = points
    data["agents"][0]["action"] = {"choice": "next_state"}
    data["agents"][0]["params"].update(planner)
    if states is not None:
        data["processes"]["z"]["states"] = states
    return Economy.from_dict(data)


@pytest.fixture(scope="module")
def bm():
    econ = economy(points=15)
    return econ, GrowthAccuracy(growth_model_of(econ), econ.finite_model(), T=3000, burn=300)


def test_growth_model_has_the_economy_parameters_and_reproduces_its_rewards():
    econ = economy("rbc.yaml", points=9, gamma=2.0, delta=0.1)
    m, fm = growth_model_of(econ), econ.finite_model()
    assert (m.alpha, m.beta, m.delta, m.gamma) == (0.36, 0.99, 0.1, 2.0)
    np.testing.assert_array_equal(m.z_values, fm.exo_values["z"])
    np.testing.assert_array_equal(m.P, fm.exo_transition)
    # the planner's reward table is the model's utility of y(k, z) - k' at every feasible k'
    g = fm.x_values["k"]
    c = m.cash_on_hand(g[None, :, None], m.z_values[:, None, None]) - g[None, None, :]
    assert fm.n_feasible is not None  # delta < 1: high k' is unaffordable at low k
    feas = np.arange(g.size)[None, None, :] < fm.n_feasible[..., 0][..., None]
    np.testing.assert_allclose(fm.rewards[..., 0][feas], m.utility(c)[feas], rtol=1e-13)


def test_growth_model_of_refuses_a_market_economy():
    econ = Economy.from_dict(read_yaml(ROOT / "economies" / "bertrand_duopoly.yaml"))
    with pytest.raises(SpecError, match="one planner"):
        growth_model_of(econ)


def test_growth_model_of_names_a_planner_it_cannot_solve():
    with pytest.raises(SpecError, match="not a growth model") as err:
        growth_model_of(economy(delta=0.0))
    assert err.value.path == "economy.agents[0].params"


def test_reference_is_the_closed_form_for_brock_mirman_and_egm_otherwise():
    m = growth_model_of(economy())
    f, name = reference_savings(m)
    assert name == "closed_form"
    k = np.array([0.15, 0.2])
    np.testing.assert_allclose(f(k, np.array([0, 4])), 0.36 * 0.95 * m.z_values[[0, 4]] * k**0.36)
    r = growth_model_of(economy("rbc.yaml", points=9))
    f, name = reference_savings(r)
    assert name == "egm" and euler_error_stats(r, f)["mean"] < -7


def test_the_dp_policy_scores_exactly_the_floor(bm):
    _, acc = bm
    cols = acc.columns(np.stack([acc.dp_policy] * 2)[:, None, :])
    for name in MEASURES:
        np.testing.assert_array_equal(cols[name], acc.floor[name])
    for name in ("dp_agreement", "dp_agreement_ergodic", "dp_within_one"):
        np.testing.assert_allclose(cols[name], 1.0, rtol=1e-12)
    assert acc.floor["reference"] == "closed_form" and acc.floor["grid_points"] == 15


def test_measures_are_the_euler_module_measures_of_the_interpolated_table(bm):
    _, acc = bm
    f = grid_savings(acc.model, acc.fm, acc.dp_policy)
    pe = ergodic_policy_error(acc.model, f, acc.reference, T=acc.T, burn=acc.burn, seed=acc.seed)
    assert acc.floor["policy_err_max"] == pe["max"] and acc.floor["policy_err_mean"] == pe["mean"]
    assert acc.floor["welfare_loss_pct"] == welfare_loss(acc.model, f, acc.reference,
                                                         k_grid=acc.welfare_grid)
    # a grid policy is a few grid steps from the continuous optimum, never exact
    assert 1e-4 < acc.floor["policy_err_mean"] < 0.05 and acc.floor["welfare_loss_pct"] > 0


def test_a_perturbed_policy_scores_worse_than_the_floor(bm):
    _, acc = bm
    fm = acc.fm
    top = fm.n_x - 1 if fm.n_feasible is None else fm.n_feasible[..., 0].ravel() - 1
    off = np.minimum(acc.dp_policy + 1, top)  # one grid step more saving (where feasible)
    assert (off != acc.dp_policy).mean() > 0.5
    cols = acc.columns(off[None, None, :])
    for name in ("euler_mean", "euler_ergodic_mean", "policy_err_mean", "welfare_loss_pct"):
        assert cols[name][0] > acc.floor[name], name
    assert cols["dp_agreement"][0] == (off == acc.dp_policy).mean()
    assert cols["dp_within_one"][0] == 1.0 and cols["dp_agreement_ergodic"][0] < 0.5


def test_finer_grids_lower_the_floor():
    floors = []
    for n in (11, 41):
        econ = economy(points=n)
        floors.append(GrowthAccuracy(growth_model_of(econ), econ.finite_model(), T=2000,
                                     burn=200).floor)
    assert floors[1]["euler_mean"] < floors[0]["euler_mean"] - 0.4
    assert floors[1]["policy_err_max"] < floors[0]["policy_err_max"] / 2
    assert 0 < floors[1]["welfare_loss_pct"] < floors[0]["welfare_loss_pct"]


def test_rbc_grid_floor_is_finite_on_a_narrow_grid():
    econ = Economy.from_dict(read_yaml(ROOT / "economies" / "rbc_grid.yaml"))
    acc = GrowthAccuracy(growth_model_of(econ), econ.finite_model(), T=2000, burn=200)
    assert acc.floor["reference"] == "egm"
    assert all(np.isfinite(acc.floor[m]) for m in MEASURES)
    assert 0 < acc.floor["welfare_loss_pct"] < 0.1 and acc.floor["euler_ergodic_mean"] < -2


def test_grid_ergodic_distribution_is_stationary_under_the_policy(bm):
    _, acc = bm
    fm, pol = acc.fm, acc.dp_policy
    d = grid_ergodic_distribution(fm, pol).reshape(fm.n_exo, fm.n_x)
    assert np.isclose(d.sum(), 1.0) and np.all(d >= 0)
    np.testing.assert_allclose(d.sum(axis=1), fm.exo_initial, atol=1e-10)
    nxt = pol.reshape(fm.n_exo, fm.n_x)  # next_x[e, x, j] = j on a planner grid
    moved = np.zeros_like(d)
    for e in range(fm.n_exo):
        for x in range(fm.n_x):
            moved[:, nxt[e, x]] += fm.exo_transition[e] * d[e, x]
    np.testing.assert_allclose(moved, d, atol=1e-10)


def test_mismatched_model_is_refused():
    econ = economy(points=9)
    other = growth_model_of(economy(points=9, states=3))
    with pytest.raises(ValueError, match="does not match"):
        GrowthAccuracy(other, econ.finite_model())


def test_runner_growth_columns_are_these_sessions_measures(tmp_path):
    import pandas as pd
    from click.testing import CliRunner

    from marketsai.cli import main
    from marketsai.tabular import QLearningConfig, run_sessions
    from marketsai.yamlio import dump_yaml

    data = read_yaml(ROOT / "economies" / "brock_mirman.yaml")
    data["agents"][0]["state"]["k"]["points"] = 7
    data["processes"]["z"]["states"] = 2
    (tmp_path / "econ.yaml").write_text(dump_yaml(data))
    learner = dict(alpha=0.05, exploration="constant", epsilon=0.3, q0="zeros",
                   max_periods=200_000, stable_periods=200_000)
    (tmp_path / "exp.yaml").write_text(dump_yaml({
        "kind": "tabular", "name": "g", "economy": "econ.yaml", "seed": 0, "sessions": 2,
        "chunk_size": 1, "learner": learner, "analysis": {"growth": True}}))
    res = CliRunner().invoke(main, ["run", str(tmp_path / "exp.yaml"), "--out",
                                    str(tmp_path / "run"), "--no-progress"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    df = pd.read_parquet(tmp_path / "run" / "results.parquet")
    econ = Economy.from_dict(data)
    acc = GrowthAccuracy(growth_model_of(econ), econ.finite_model())
    out = run_sessions(econ.finite_model(), QLearningConfig(**learner), seed=0, sessions=range(2))
    for col, v in acc.columns(out.strategies).items():
        np.testing.assert_array_equal(df[col].to_numpy(), v, err_msg=col)
    pol = pd.read_parquet(tmp_path / "run" / "growth_policy.parquet")
    assert len(pol) == 2 * econ.finite_model().n_states
    for s in range(2):
        np.testing.assert_array_equal(pol[pol["session"] == s]["action"],
                                      np.asarray(out.strategies)[s, 0])
    np.testing.assert_array_equal(pol["kp"], econ.finite_model().x_values["k"][pol["action"]])
    import json
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["floor_euler_mean"] == acc.floor["euler_mean"]
    assert summary["floor_reference"] == "closed_form"
    assert summary["euler_mean_median"] == float(np.median(df["euler_mean"]))


def test_runner_refuses_growth_on_a_game(tmp_path):
    from marketsai.runner.config import load_experiment
    from marketsai.yamlio import dump_yaml

    (tmp_path / "exp.yaml").write_text(dump_yaml({
        "kind": "tabular", "economy": str(ROOT / "economies" / "bertrand_duopoly.yaml"), "analysis": {"growth": True}}))
    with pytest.raises(SpecError, match="planner") as err:
        load_experiment(tmp_path / "exp.yaml")
    assert err.value.path == "analysis.growth"
