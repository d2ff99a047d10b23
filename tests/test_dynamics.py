"""The one pure step, agent state, budgets, observations and finite models of dynamic economies."""

import numpy as np
import pytest

import marketsai as mai
from marketsai.dynamics import EconomyState
from marketsai.errors import SpecError

BM = "economies/brock_mirman.yaml"
RBC = "economies/rbc.yaml"


def _planner_file(**over):
    data = mai.load_economy(BM).to_dict()
    for key, value in over.items():
        node = data
        *path, last = key.split(".")
        for p in path:
            node = node[int(p)] if p.isdigit() else node[p]
        node[last] = value
    return data


def test_step_is_pure_and_batched_rows_step_independently():
    econ = mai.load_economy(RBC)
    rng = np.random.default_rng(0)
    state = econ.initial_state(rng, batch=6)
    before = {k: v.copy() for k, v in state.fields.items()}, state.exo.copy()
    x = np.linspace(0.6, 0.95, 6)[:, None]
    s1, r1, _ = econ.step(state, x, np.random.default_rng(1))
    s2, r2, _ = econ.step(state, x, np.random.default_rng(1))
    assert all(np.array_equal(before[0][k], state.fields[k]) for k in before[0])
    assert np.array_equal(before[1], state.exo), "step modified its input state"
    assert np.array_equal(r1, r2) and np.array_equal(s1.fields["planner.k"], s2.fields["planner.k"])
    for b in range(6):  # row b of the batch == a batch of one in the same state
        one = EconomyState(t=0, fields={k: v[b:b + 1] for k, v in state.fields.items()},
                           exo=state.exo[b:b + 1], exo_agent={}, history=state.history[b:b + 1])
        _, rb, _ = econ.step(one, x[b:b + 1], np.random.default_rng(1))
        assert rb[0, 0] == r1[b, 0]


def test_planner_budget_holds_exactly_for_random_decisions():
    for path in (BM, RBC):
        econ = mai.load_economy(path)
        rng = np.random.default_rng(3)
        state = econ.initial_state(rng, batch=64)
        dec = econ.decisions[0]
        for _ in range(50):
            x = (dec.grid[rng.integers(0, dec.size, 64)] if dec.kind == "grid"
                 else rng.uniform(dec.low, dec.high, 64))[:, None]
            k = state.fields["planner.k"]
            state, rewards, info = econ.step(state, x, rng)
            out = info["planner"]
            z = info["exo"]["z"][:, None]
            kind = econ.entries[0].kind
            y = z * k ** kind.p["alpha"] + (1 - kind.p["delta"]) * k
            assert np.allclose(out["consumption"] + out["k_next"], y, rtol=1e-13, atol=0)
            assert np.all(out["consumption"] > 0) and np.all(np.isfinite(rewards))
            assert np.array_equal(state.fields["planner.k"], out["k_next"])


def test_infeasible_next_capital_is_projected_and_flagged_never_nan():
    econ = mai.Economy.from_dict(_planner_file(**{"agents.0.state.k": {"low": 0.05, "high": 20.0, "points": 50}}))
    grid = econ.decisions[0].grid
    state = econ.initial_state(np.random.default_rng(0), batch=1)
    state = EconomyState(t=0, fields={"planner.k": np.array([[grid[0]]])}, exo=state.exo, exo_agent={},
                         history=state.history)
    _, rewards, info = econ.step(state, np.array([[grid[-1]]]), np.random.default_rng(0))
    out = info["planner"]
    assert out["infeasible"][0, 0] and np.isfinite(rewards[0, 0]) and out["consumption"][0, 0] > 0
    assert out["k_next"][0, 0] in grid and out["k_next"][0, 0] < out["output"][0, 0]


def test_brock_mirman_finite_model_matches_the_reference_builder():
    from marketsai.solvers.growth import brock_mirman_calibration, growth_finite_model
    econ = mai.load_economy(BM)
    ours = econ.finite_model()
    ref = growth_finite_model(brock_mirman_calibration(), ours.x_values["k"])
    assert (ours.n_exo, ours.n_x, ours.n_joint) == (ref.n_exo, ref.n_x, ref.n_joint)
    assert np.allclose(ours.exo_transition, ref.exo_transition, atol=1e-14)
    assert np.allclose(ours.exo_values["z"], ref.exo_values["z"], rtol=1e-14)
    def n_feasible(m):
        return np.broadcast_to(m.n_actions, (m.n_exo, m.n_x, 1)) if m.n_feasible is None else m.n_feasible

    assert np.array_equal(n_feasible(ours), n_feasible(ref))
    feasible = np.arange(ours.n_joint)[None, None, :] < n_feasible(ours)
    assert np.allclose(ours.rewards[..., 0][feasible], ref.rewards[..., 0][feasible], rtol=1e-13, atol=1e-13)
    assert np.array_equal(ours.next_x[feasible], ref.next_x[feasible])


def test_value_iteration_on_the_economy_tracks_the_closed_form():
    from marketsai.solvers.dp import value_iteration
    econ = mai.Economy.from_dict(_planner_file(**{"agents.0.state.k.points": 301}))
    model = econ.finite_model()
    policy = value_iteration(model).policy.reshape(model.n_exo, model.n_x)
    k, z = model.x_values["k"], model.exo_values["z"]
    exact = 0.36 * 0.95 * z[:, None] * k[None, :] ** 0.36
    inside = (exact > k[0]) & (exact < k[-1])
    step = k[1] - k[0]
    assert np.max(np.abs(model.action_values[0][policy] - exact)[inside]) <= step


def test_rbc_steady_state_and_observation_layout():
    econ = mai.load_economy(RBC)
    assert round(econ.entries[0].kind.steady_state(), 3) == 37.989
    env = econ.parallel_env(max_cycles=3)
    obs, _ = env.reset(seed=0)
    assert obs["planner"].shape == (2,)  # own k (scaled to [-1, 1] on its range), z (scaled on its chain)
    assert obs["planner"][0] == pytest.approx(0.0, abs=1e-6)  # k starts at the steady state = range middle


def test_legacy_shocks_block_is_the_process_shock():
    legacy = {"name": "x", "agents": [{"name": "firm", "count": 2, "action": {"points": 5}}],
              "markets": [{"type": "bertrand_logit", "participants": ["firm_0", "firm_1"]}],
              "shocks": {"values": [-0.2, 0.2], "transition": [[0.9, 0.1], [0.2, 0.8]]}}
    modern = {**{k: v for k, v in legacy.items() if k != "shocks"},
              "processes": {"shock": {"kind": "markov", "values": [-0.2, 0.2],
                                      "transition": [[0.9, 0.1], [0.2, 0.8]], "initial": [0.5, 0.5]}}}
    a, b = mai.Economy.from_dict(legacy).finite_game(), mai.Economy.from_dict(modern).finite_game()
    assert np.array_equal(a.payoffs, b.payoffs) and np.array_equal(a.exo_initial, [0.5, 0.5])
    econ = mai.Economy.from_dict(legacy)
    assert econ.spec.markets[0].inputs == {"shock": "shock"}
    assert mai.Economy.from_dict(econ.to_dict()) == econ


def test_market_reads_a_named_process_field():
    econ = mai.Economy.from_dict({
        "name": "x", "agents": [{"name": "firm", "count": 2, "action": {"points": 5}}],
        "processes": {"demand": {"kind": "markov", "values": [-0.3, 0.3], "transition": [[0.5, 0.5], [0.5, 0.5]]}},
        "markets": [{"type": "bertrand_logit", "participants": ["firm_0", "firm_1"], "inputs": {"shock": "demand"}}]})
    game = econ.finite_game()
    assert game.n_exo == 2 and np.all(game.payoffs[1] > game.payoffs[0])


@pytest.mark.parametrize("change, path", [
    # an agent in a market with no role for it
    ({"markets": [{"type": "bertrand_logit", "participants": ["planner"]}]}, "markets[0].participants[0]"),
    # a process of the wrong shape
    ({"processes": {"z": {"kind": "markov", "values": [0.9, 1.1], "transition": [[1.0]]}}}, "processes.z.transition"),
    # a budget that cannot hold: the lowest capital on the grid is not affordable
    ({"agents.0.state.k": {"low": 5.0, "high": 10.0, "initial": 6.0, "scale": "level"}}, "agents[0].state.k.low"),
    # a savings share that leaves no consumption
    ({"agents.0.action": {"choice": "savings_share", "high": 1.0}}, "agents[0].action.high"),
    # productivity read from a process that does not exist
    ({"agents.0.params.productivity": "tfp"}, "agents[0].params.productivity"),
    # observing a field that does not exist
    ({"agents.0.observation": {"state": ["h"]}}, "agents[0].observation.state"),
    ({"agents.0.state": {"k": {"low": 1.2, "high": 1.1}}}, "agents[0].state.k.low"),
    ({"agents.0.state": {"h": {}}}, "agents[0].state.h"),
])
def test_inconsistent_compositions_name_the_field(change, path):
    data = _planner_file(**{k: v for k, v in change.items() if "." in k})
    data.update({k: v for k, v in change.items() if "." not in k})
    with pytest.raises(SpecError) as err:
        mai.Economy.from_dict(data)
    assert path in str(err.value), str(err.value)


def test_savings_share_economy_is_not_a_finite_model():
    with pytest.raises(SpecError, match="grid actions"):
        mai.load_economy(RBC).finite_model()
    econ = mai.Economy.from_dict(_planner_file(**{"agents.0.action": {"choice": "savings_share", "kind": "grid"}}))
    with pytest.raises(SpecError, match="do not land on the grid"):
        econ.finite_model()


def test_bertrand_finite_model_is_the_memory_model_of_its_game():
    econ = mai.load_economy("economies/bertrand_duopoly.yaml")
    model, game = econ.finite_model(), econ.finite_game()
    assert model.n_states == game.n_states == 225
    assert np.array_equal(model.rewards[0, 0], game.payoffs[0])
    assert model.benchmarks["nash_payoff"] == pytest.approx(game.nash_payoff)


def test_declared_moments_and_per_agent_processes_are_observed():
    econ = mai.Economy.from_dict({
        "name": "three_planners", "discount": 0.95,
        "processes": {"z": {"kind": "ar1", "rho": 0.9, "sigma": 0.02, "log": True, "states": 3},
                      "e": {"kind": "markov", "values": [0.0, 1.0], "transition": [[0.5, 0.5], [0.5, 0.5]],
                            "scope": "agent"}},
        "agents": [{"name": "planner", "type": "planner", "count": 3,
                    "state": {"k": {"initial": "uniform"}},
                    "observation": {"state": ["k"], "exo": ["z", "e"], "moments": ["planner.k:mean", "planner.k:std"],
                                    "normalize": False}}]})
    state = econ.initial_state(np.random.default_rng(2), batch=4)
    obs = econ.observe(state)
    k = state.fields["planner.k"]
    for i, name in enumerate(econ.agents):
        assert obs[name].shape == (4, 5)
        assert np.allclose(obs[name][:, 0], k[:, i], rtol=1e-6)
        assert np.allclose(obs[name][:, 2], state.exo_agent["e"][:, i])  # own employment-like state
        assert np.allclose(obs[name][:, 3], k.mean(axis=1), rtol=1e-6)
        assert np.allclose(obs[name][:, 4], k.std(axis=1), rtol=1e-5, atol=1e-7)
    assert np.allclose(obs["planner_0"][:, 1], obs["planner_2"][:, 1])  # aggregate z is common
    # aggregate state: z, the mean of e, mean and spread of k -- its size does not depend on the count
    agg = econ.state(state)
    assert agg.shape == (4, 4)
    assert np.allclose(agg[:, 1], state.exo_agent["e"].mean(axis=1))
    assert np.allclose(agg[:, 2:], np.stack([k.mean(axis=1), k.std(axis=1)], axis=1), rtol=1e-5, atol=1e-7)


def test_memory_model_too_large_to_tabulate_is_refused_before_allocation():
    from marketsai.finite_model import FiniteModel
    from marketsai.tabular.games import calvano_game
    game = calvano_game(n=3, m=15, memory=2, p_nash=1.37, p_coop=2.0)
    with pytest.raises(SpecError, match=r"GiB.*agents\[\]\.observation\.memory|observation\.memory.*GiB"):
        FiniteModel.from_game(game)


def test_tabulating_a_huge_joint_action_table_is_refused_with_its_size():
    econ = mai.Economy.from_dict({
        "name": "x", "agents": [{"name": "f", "count": 6, "action": {"points": 15}}],
        "markets": [{"type": "bertrand_logit", "participants": [f"f_{i}" for i in range(6)]}]})
    with pytest.raises(SpecError, match=r"agents\[\]\.action\.points = 15: tabulating .* GiB"):
        econ.finite_game()


@pytest.mark.parametrize("batch", [1, 37])
def test_tabulated_market_outcomes_equal_clearing_and_fall_back_off_grid(batch):
    econ = mai.Economy.from_dict({
        "name": "x", "agents": [{"name": "firm", "count": 3, "action": {"points": 6}}],
        "processes": {"shock": {"kind": "markov", "values": [-0.2, 0.1, 0.3], "transition": [[1 / 3] * 3] * 3}},
        "markets": [{"type": "bertrand_logit", "participants": ["firm_0", "firm_1", "firm_2"]}]})
    rng = np.random.default_rng(batch)
    grid = econ.decisions[0].grid
    x = grid[rng.integers(0, 6, size=(batch, 3))]
    e = rng.integers(0, 3, size=batch)
    exo = {"shock": econ.exo_chain.value("shock")[e]}
    looked_up = econ.clear_markets(x, exo, e)
    cleared = econ.clear_markets(x, exo)
    assert all(np.array_equal(a, b) for a, b in zip(looked_up, cleared, strict=True))
    off = x.copy()
    off[0, 1] += 1e-9  # not a grid point: the market clears directly
    assert all(np.array_equal(a, b) for a, b in zip(econ.clear_markets(off, exo, e), econ.clear_markets(off, exo),
                                                    strict=True))


def test_per_agent_chain_with_an_aggregate_component_shares_it_within_a_session():
    econ = mai.Economy.from_dict({
        "name": "ks_like", "discount": 0.95,
        "processes": {"ks": {"kind": "krusell_smith", "scope": "agent"}},
        "agents": [{"name": "planner", "type": "planner", "count": 400, "params": {"productivity": None},
                    "observation": {"exo": ["z", "e"]}}]})
    rng = np.random.default_rng(4)
    state = econ.initial_state(rng, batch=3)
    unemployment = {0.99: [], 1.01: []}
    x = np.full((3, 400), 0.3)
    for _ in range(300):
        state, _, info = econ.step(state, x, rng)
        z, e = info["exo"]["z"], info["exo"]["e"]
        assert z.shape == (3,) and e.shape == (3, 400)  # z is common to a session, e is each agent's
        for b in range(3):
            unemployment[round(float(z[b]), 2)].append(1 - e[b].mean())
    obs = econ.observe(state)
    assert np.all(obs["planner_0"][:, 1] == obs["planner_399"][:, 1])  # everyone sees the same z
    assert abs(np.mean(unemployment[0.99]) - 0.10) < 0.01 and abs(np.mean(unemployment[1.01]) - 0.04) < 0.01
