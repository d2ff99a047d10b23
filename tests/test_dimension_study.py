"""The dimension study's scoring (marketsai.analysis.sector_accuracy) and its setup
(experiments/dimension/*.yaml, d swept by cases): exact policies score zero, perturbed ones
do not, grid tables are read as the finite model plays them, the tabular file's budgets
follow the rule docs/dimension.md states, and tabulation is refused where it says the
tabular curve stops."""

import functools
from pathlib import Path

import numpy as np
import pytest

from marketsai.analysis.sector_accuracy import (
    KEYS,
    exact_policy,
    grid_policy,
    sector_observations,
    sector_report,
    share_policy,
)
from marketsai.economy import Economy
from marketsai.errors import SpecError
from marketsai.runner import load_experiment
from marketsai.solvers.dp import value_iteration
from marketsai.solvers.sectors import sector_model

ROOT = Path(__file__).resolve().parents[1]
FAST = {"T": 1000, "burn": 100, "box_points": 300, "welfare_paths": 30, "welfare_T": 200}


STUDY = ROOT / "experiments" / "dimension"


@functools.cache
def _experiment(name):
    return load_experiment(STUDY / f"{name}.yaml")


def _cell(name, d):
    """The resolved config of the file's cell ``d``."""
    exp = _experiment(name)
    return exp.cell_config(exp.cells.index({"d": d}))


def grid_economy(d):
    return Economy.from_dict(_cell("tabular", d)["economy"])


def share_bounds(econ):
    return econ.entries[0].kind.action["low"], econ.entries[0].kind.action["high"]


def _model(d):
    econ = Economy.from_dict(_cell("ppo", d)["economy"])
    return econ, sector_model(econ)


@pytest.mark.parametrize("d", [1, 3])
def test_the_exact_policy_scores_zero(d):
    _, m = _model(d)
    r = sector_report(m, exact_policy(m), **FAST)
    assert tuple(r) == KEYS
    assert r["err_max"] == r["box_err_max"] == 0.0 and r["welfare_loss_pct"] == 0.0
    assert r["euler_max"] < -12 and r["box_euler_max"] < -12


def test_a_perturbed_policy_scores_its_perturbation():
    _, m = _model(2)
    exact = exact_policy(m)
    tilt = np.array([1.05, 0.97])
    r = sector_report(m, lambda k, iz: exact(k, iz) * tilt, **FAST)
    assert np.isclose(r["err_max"], 0.05) and np.isclose(r["box_err_max"], 0.05)
    assert np.isclose(r["err_mean"], 0.04) and r["welfare_loss_pct"] > 0
    assert -3 < r["euler_mean"] < -0.5
    # a larger error costs more
    worse = sector_report(m, lambda k, iz: exact(k, iz) * 1.2, **FAST)
    assert worse["welfare_loss_pct"] > r["welfare_loss_pct"] and worse["err_max"] > r["err_max"]


def test_share_policy_reads_shares_through_the_budget():
    econ, m = _model(3)
    low, high = share_bounds(econ)
    assert (low, high) == (0.035 / 3, 0.95 / 3)
    k = m.steady_state()[0] * np.array([[1.0, 1.0, 1.0], [0.8, 1.1, 1.2]])
    iz = np.array([2, 0])
    # the optimal shares give the closed form; the observations are the economy's own
    rule = share_policy(econ, lambda obs: np.tile(m.savings_shares(), (len(obs), 1)))
    assert np.allclose(rule(k, iz), exact_policy(m)(k, iz), rtol=1e-12)
    obs = sector_observations(econ, k, iz)
    assert obs.shape == (2, 4) and np.allclose(obs[0, :3], 0.0, atol=1e-6)  # k_ss is the middle of (0.5, 1.5)
    # shares above the interval are clipped to it, sums above total scaled onto it
    y = m.output(k, m.z_values[iz])
    assert np.allclose(rule(k, iz).sum(axis=1), m.beta * m.S * y)
    big = share_policy(econ, lambda obs: np.full((len(obs), 3), 0.9))
    assert np.allclose(big(k, iz), np.minimum(0.9, high) * y[:, None])  # 3 * high = 0.95 = total


def test_grid_policy_is_the_table_the_finite_model_plays():
    econ = grid_economy(2)
    fm = econ.finite_model()
    m = sector_model(econ)
    dp = np.asarray(value_iteration(fm).policy)
    rule = grid_policy(fm, dp)
    kx = np.stack([fm.x_values["k1"], fm.x_values["k2"]], axis=-1)
    nxt = np.broadcast_to(fm.next_x, (fm.n_exo, fm.n_x, fm.n_joint))
    for e in (0, 4):
        reached = nxt[e, np.arange(fm.n_x), dp[e * fm.n_x:(e + 1) * fm.n_x]]
        assert np.allclose(rule(kx, np.full(fm.n_x, e)), kx[reached])
    # between nodes: the average of the corners' choices at the cell's centre
    g1, g2 = np.unique(kx[:, 0]), np.unique(kx[:, 1])
    centre = np.array([[(g1[1] + g1[2]) / 2, (g2[1] + g2[2]) / 2]])
    corners = [np.ravel_multi_index((i, j), (5, 5)) for i in (1, 2) for j in (1, 2)]
    assert np.allclose(rule(centre, [2])[0], rule(kx[corners], np.full(4, 2)).mean(axis=0))
    # the DP table on a 5-point grid is off the exact policy, but by less than a grid step
    r = sector_report(m, rule, **FAST)
    assert 0 < r["err_mean"] < 0.15 and r["welfare_loss_pct"] > 0


def test_an_all_random_table_scores_worse_than_dp():
    econ = grid_economy(1)
    fm = econ.finite_model()
    m = sector_model(econ)
    dp = sector_report(m, grid_policy(fm, value_iteration(fm).policy), **FAST)
    low = sector_report(m, grid_policy(fm, np.zeros(fm.n_states, np.int64)), **FAST)  # always the lowest k'
    assert low["err_mean"] > 3 * dp["err_mean"] and low["welfare_loss_pct"] > dp["welfare_loss_pct"]


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_tabular_budgets_follow_the_stated_rule(d):
    """beta = 1 / (4000 entries) unless that would not decay within the 1.2e9 cap, then
    5 / 1.2e9; stable for max(1e6, 0.5 / beta); between 2e8 and 1.2e9 periods."""
    cfg = _cell("tabular", d)
    fm = Economy.from_dict(cfg["economy"]).finite_model()
    assert fm.n_states == 5 * 5**d and fm.n_joint == 5**d
    assert cfg["economy"]["agents"][0]["params"]["alphas"] == pytest.approx([0.36 / d] * d, rel=1e-15)
    s = cfg["learner"]["settings"]
    beta = max(1.0 / (4000 * fm.n_states * fm.n_joint), 5.0 / 1.2e9)
    assert s["beta"] == pytest.approx(beta, rel=1e-15)
    assert s["stable_periods"] == int(max(1e6, 0.5 / beta))
    assert s["max_periods"] == int(min(max(5.0 / beta, 2e8), 1.2e9))
    assert cfg["evaluate"][0]["name"] == "sectors" and cfg["evaluate"][0]["settings"]["floor"] is True


def test_the_floor_option_scores_value_iteration_beside_the_policy():
    from marketsai.analysis.evaluations import run_evaluation
    from marketsai.policies import TablePolicy

    econ = grid_economy(1)
    fm = econ.finite_model()
    dp = np.asarray(value_iteration(fm).policy)
    fast = {"periods": 500, "burn": 50, "box_points": 100, "welfare_paths": 10, "floor": True}
    rows = [run_evaluation("sectors", econ, TablePolicy(econ.agents, table[None]), fast).tables["results"].iloc[0]
            for table in (dp, np.zeros_like(dp))]
    assert rows[0]["dp_agreement"] == 1.0 and rows[1]["dp_agreement"] == float(np.mean(dp == 0))
    for row in rows:  # the floor is the DP table's own score, whatever policy it sits beside
        assert [row[f"floor_{k}"] for k in KEYS] == [rows[0][k] for k in KEYS]
    row = rows[1]
    assert row["err_mean"] > 3 * row["floor_err_mean"]  # the lowest k' everywhere is far off the floor


def test_tabulation_is_refused_at_d5_with_five_points():
    raw = _cell("tabular", 4) | {"sweep": {}}
    agent = raw["economy"]["agents"][0]
    agent["params"]["alphas"] = [0.36 / 5] * 5
    agent["state"] = {f"k{j}": agent["state"]["k1"] for j in range(1, 6)}
    with pytest.raises(SpecError) as err:
        load_experiment(raw)
    msg = str(err.value)
    assert "alphas" in msg and "5x5x5x5x5" in msg and "6.9 GiB" in msg and "2.0 GiB" in msg


def test_share_bounds_put_the_optimum_at_one_point_at_every_d():
    where = []
    for d in (1, 2, 4, 8):
        econ, m = _model(d)
        low, high = share_bounds(econ)
        s = m.savings_shares()
        assert m.d == d and np.isclose(m.S, 0.36) and np.allclose(s, 0.342 / d)
        assert np.isclose(d * high, econ.entries[0].kind.action["total"])
        where.append((s[0] - low) / (high - low))
    assert np.allclose(where, where[0])


def test_the_stacked_ppo_variant_is_ppo_yaml_on_the_stacked_path():
    """ppo_stacked.yaml runs ppo.yaml's economies, iterations and data per iteration
    (train batch x block planner-periods, minibatch rows, the lr decay at the same
    planner-period) with sessions stacked in blocks: only the units differ."""
    for d in (1, 2, 3, 4, 6, 8):
        plain, stacked = _cell("ppo", d), _cell("ppo_stacked", d)
        assert stacked["economy"] == plain["economy"]
        a, b = plain["learner"]["settings"], stacked["learner"]["settings"]
        block = b["env"]["block"]
        assert b["env"]["stacked"] and not a["env"].get("stacked") and block > 1
        assert b["env"]["sessions"] == a["env"]["sessions"] and b["env"]["max_cycles"] == a["env"]["max_cycles"]
        assert b["train_batch_size_per_learner"] * block == a["train_batch_size_per_learner"]
        assert b["minibatch_size"] == a["minibatch_size"] <= b["train_batch_size_per_learner"]
        assert [[t * block, v] for t, v in b["lr"]] == a["lr"]
        assert b["stop"] == a["stop"]
        same = {k: v for k, v in a.items() if k not in ("env", "train_batch_size_per_learner", "lr")}
        assert {k: b[k] for k in same} == same


def test_an_untrained_network_is_scored_at_d8():
    """d = 8 end to end without training: the economy, its closed form, and a random
    network's shares read through the economy's observations and budget."""
    econ, m = _model(8)
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(9, 16)), rng.normal(size=(16, 8))  # obs: 8 stocks and z
    low, high = share_bounds(econ)
    r = sector_report(m, share_policy(econ, lambda obs: low + (high - low) * (np.tanh(np.tanh(obs @ w1) @ w2) + 1) / 2),
                      **FAST)
    assert m.d == 8 and all(np.isfinite(v) for v in r.values())
    assert r["err_mean"] > 0.05 and r["welfare_loss_pct"] > 0  # far from beta alpha_j: scored as such



def test_share_policy_reads_grid_indices_through_the_share_grid():
    """A DQN acts with indices into the share grid (kind: grid): the scorer reads them as
    the environment does, not as shares (an index clipped to the interval would read as
    its top)."""
    import marketsai as mai

    econ = mai.load_economy("economies/sectors_2.yaml", {
        "agents[0].params.alphas": [0.36],
        "agents[0].action": {"choice": "savings_shares", "kind": "grid", "low": 0.035, "high": 0.95, "points": 201}})
    m = sector_model(econ)
    grid = np.asarray(econ.decisions[0].grid)
    for i in (0, 67, 200):
        r = sector_report(m, share_policy(econ, lambda obs, i=i: np.full(len(obs), i)), **FAST)
        assert r["err_max"] == pytest.approx(abs(grid[i] / m.savings_shares()[0] - 1), rel=1e-9)

def _study(name):
    return _experiment(f"study_{name}")


def _study_cell(name, d):
    exp = _study(name)
    return exp.cell_config(exp.cells.index({"d": d}))


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_study_tabular_budgets_follow_the_stated_rule(d):
    """The solver's steps and targets (experiments/growth/solver_brock_mirman.yaml); per d
    with E table entries: beta = 1 / (1000 E), max_periods = min(max(2e7, 5000 E), 1e10),
    stable_periods = max(1e6, 100 E); three seeds; the DP floor scored beside it."""
    cfg = _study_cell("tabular", d)
    # the published study's grids (whose finite model has 5 * 5^d states and 5^d joint actions)
    assert cfg["economy"] == _cell("tabular", d)["economy"] and len(cfg["seeds"]) >= 3
    entries = 5 * 25**d
    s = cfg["learner"]["settings"]
    solver = load_experiment(ROOT / "experiments" / "growth" / "solver_brock_mirman.yaml").config["learner"]
    assert {k: s[k] for k in ("step_size", "step_a", "step_b", "step_omega", "target", "q0")} == \
        {k: solver[k] for k in ("step_size", "step_a", "step_b", "step_omega", "target", "q0")}
    assert s["beta"] == pytest.approx(1.0 / (1000 * entries), rel=1e-12)
    assert s["max_periods"] == int(min(max(2e7, 5000 * entries), 1e10))
    assert s["stable_periods"] == int(max(1e6, 100 * entries))
    assert cfg["evaluate"][0]["name"] == "sectors" and cfg["evaluate"][0]["settings"]["floor"] is True


def test_study_deep_files_are_their_recipes_with_time_stops():
    """study_ppo.yaml is growth_deep/ppo_crn.yaml's learner (common shocks, block baseline)
    and study_sac.yaml is sac.yaml's, each with a time stop, three seeds, at d = 1..8 on
    ppo.yaml's economies (where ppo.yaml has that d)."""
    crn = load_experiment(ROOT / "experiments" / "growth_deep" / "ppo_crn.yaml").config["learner"]["settings"]
    for name, recipe, stop in (("ppo", crn, 900), ("sac", _cell("sac", 1)["learner"]["settings"], 600)):
        assert sorted(c["d"] for c in _study(name).cells) == list(range(1, 9))
        for d in range(1, 9):
            cfg = _study_cell(name, d)
            s = cfg["learner"]["settings"]
            assert len(cfg["seeds"]) >= 3 and s["stop"]["time_total_s"] == stop
            assert {k: v for k, v in s.items() if k != "stop"} == {k: v for k, v in recipe.items() if k != "stop"}
            assert cfg["economy"] == _study_cell("ppo", d)["economy"]
            if d in (1, 2, 3, 4, 6, 8):
                assert cfg["economy"] == _cell("ppo", d)["economy"]
    assert crn["env"]["common_shocks"] and crn["env"]["block_baseline"]
    assert _study_cell("ppo", 1)["learner"]["settings"]["stop"]["training_iteration"] == crn["stop"]["training_iteration"]


def test_study_dqn_is_one_grid_decision_and_the_report_records_the_refusals():
    """DQN at d = 1: 201 grid shares whose nearest point to the optimum is within 0.15 %;
    at d = 2 (two grid decisions, a MultiDiscrete action) the runner refuses it by name, and
    make_report.py records that refusal as a row, as it does tabulation's at d = 5."""
    import sys
    from types import SimpleNamespace

    cfg = _study_cell("dqn", 1)
    econ = Economy.from_dict(cfg["economy"])
    (decision,) = econ.decisions
    assert decision.kind == "grid" and len(decision.grid) == 201 and len(cfg["seeds"]) >= 3
    s = sector_model(econ).savings_shares()[0]
    assert np.abs(decision.grid / s - 1).min() < 0.0015
    sys.path.insert(0, str(STUDY))
    from make_report import refused_rows

    (row,) = refused_rows(SimpleNamespace(config=_study("dqn").config), ("dqn",))
    assert row["d"] == 2 and row["status"] == "refused"
    assert "MultiDiscrete" in row["note"] and "DQN" in row["note"]
    # and the tabular study's boundary: one stock past d = 4
    rows = refused_rows(SimpleNamespace(config=_study("tabular").config))
    assert [(r["method"], r["d"]) for r in rows] == [("dp", 5), ("tabular", 5)]
    assert "5 stocks of 5 grid points" in rows[1]["note"] and "needs 6.9 GiB" in rows[1]["note"]


def test_the_study_summary_counts_seeds_within_the_goal():
    import sys

    sys.path.insert(0, str(STUDY))
    from make_report import seed_summary, table

    rows = [{"method": "ppo_crn", "d": 1, "seed": s, "status": "ok", "err_mean": e, "err_max": 2 * e,
             "steps": 10.0, "wall_s": 5.0} for s, e in enumerate((0.005, 0.02, 0.009))]
    rows.append({"method": "tabular", "d": 5, "status": "refused", "note": "needs 6.9 GiB"})
    out = seed_summary(table(rows)).set_index("method")
    assert out.loc["ppo_crn", "seeds"] == 3 and out.loc["ppo_crn", "within_goal"] == "2/3"
    assert np.isclose(out.loc["ppo_crn", "err_mean"], 0.034 / 3)
    assert (out.loc["ppo_crn", "err_mean_min"], out.loc["ppo_crn", "err_mean_max"]) == (0.005, 0.02)
    assert out.loc["tabular", "seeds"] == 0 and out.loc["tabular", "note"] == "needs 6.9 GiB"


def test_the_study_report_keeps_the_committed_rows_of_runs_not_here(tmp_path):
    """A method whose run folder is missing keeps its committed rows (the tabular run gives
    the DP floor's too); the methods read again are not duplicated."""
    import sys

    sys.path.insert(0, str(STUDY))
    from make_report import committed_rows, table

    old = table([{"method": "dp", "d": 1, "status": "ok", "err_mean": 0.01, "table": "125", "note": "value iteration"},
                 {"method": "tabular", "d": 1, "seed": 0, "status": "ok", "err_mean": 0.0101, "table": "125"},
                 {"method": "sac_batched", "d": 1, "seed": 0, "status": "ok", "err_mean": 0.5}])
    old.to_csv(tmp_path / "study_runs.csv", index=False)
    kept = committed_rows(tmp_path / "study_runs.csv", ["tabular", "dqn"])
    assert list(kept["method"]) == ["dp", "tabular"] and list(kept["table"]) == ["125", "125"]
    assert np.allclose(kept["err_mean"], [0.01, 0.0101]) and kept["note"].iloc[0] == "value iteration"
    assert committed_rows(tmp_path / "absent.csv", ["tabular"]).empty


def test_a_resumed_batched_unit_counts_every_training_segment(tmp_path):
    """The log's ``done in`` of a resumed unit is its last run only; the report takes the
    unit's training journal (every segment) plus that run's scoring, over its seeds."""
    import json
    import sys

    sys.path.insert(0, str(STUDY))
    from make_report import resumed_seconds

    (tmp_path / "log").write_text("x INFO chunk c0.s0-2 done in 796.0s (3)\nx INFO chunk c1.s0-1 done in 50.0s (2)\n")
    unit = tmp_path / "units" / "c0.s0-2"
    unit.mkdir(parents=True)
    unit.joinpath("segments.json").write_text(json.dumps({"segments": [{"seconds": 1049.0}, {"seconds": 790.0}]}))
    out = resumed_seconds(tmp_path)
    assert set(out) == {(0, 0), (0, 1), (0, 2)}  # c1 kept no journal: the log's seconds stand
    assert np.allclose(out[(0, 1)], ((1049 + 790) / 3, (1049 + 790 + 6) / 3))


def test_study_sac_batched_plays_d_shares_at_every_d():
    """study_sac_batched.yaml: study_sac.yaml's economies, d shares as one d-dimensional
    sac_batched action (expected targets, annealed rates, an entropy target of -2 a share);
    at d = 8 its untrained seed's policy plays 8 shares inside their interval and is scored."""
    from marketsai.analysis.evaluations import run_evaluation
    from marketsai.rl.batched_sac import BatchedSAC
    for d in range(1, 9):
        cfg = _study_cell("sac_batched", d)
        assert cfg["economy"] == _study_cell("sac", d)["economy"] and cfg["seeds"] == [0, 1, 2]
        s = cfg["learner"]["settings"]
        assert s["expected_targets"] and s["target_entropy"] == -2.0 * d and isinstance(s["actor_lr"], list)
    econ = Economy.from_dict(cfg["economy"])
    policy = BatchedSAC().initial_policy(econ, s)
    low, high = share_bounds(econ)
    shares = policy.act(policy.agents[0], np.random.default_rng(0).normal(size=(5, 9)))
    assert shares.shape == (5, 8) and np.all((shares >= low) & (shares <= high))
    out = run_evaluation("sectors", econ, policy, {"periods": 300, "burn": 50, "box_points": 50,
                                                   "welfare_paths": 5}, 0)
    assert np.isfinite(out.tables["results"]["err_mean"]).all()
