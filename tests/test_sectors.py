"""The d-sector growth planner (docs/dimension.md): closed form, finite model, budgets, limits."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import marketsai as mai
from marketsai.dynamics import initial_state, step
from marketsai.solvers.dp import value_iteration
from marketsai.solvers.growth import (
    brock_mirman_calibration,
    brock_mirman_coefficients,
    brock_mirman_policy,
)
from marketsai.solvers.sectors import SectorModel, sector_model
from marketsai.yamlio import read_yaml

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT / "economies" / "sectors_2_grid.yaml"
SHARES = ROOT / "economies" / "sectors_2.yaml"


def economy(path, alphas=None, **k_block):
    data = read_yaml(path)
    agent = data["agents"][0]
    if alphas is not None:
        agent["params"]["alphas"] = list(alphas)
    agent["state"]["k"].update(k_block)
    return mai.Economy.from_dict(data)


def model(d, seed=0, n_z=5):
    rng = np.random.default_rng(seed)
    alphas = rng.dirichlet(np.ones(d)) * rng.uniform(0.3, 0.9)
    return SectorModel(alphas=tuple(alphas), beta=0.95, **_chain(n_z))


def _chain(n_z):
    from marketsai.processes import rouwenhorst
    c = rouwenhorst(n_z, 0.9, 0.02, log=True)
    return {"z_values": c.value("z"), "P": c.P}


# ------------------------------------------------------------------ closed form
@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_closed_form_solves_the_euler_equations_and_the_bellman_equation(d):
    m = model(d, seed=d)
    rng = np.random.default_rng(d)
    kss = m.steady_state()[0]
    k = kss * rng.uniform(0.5, 1.5, size=(200, d))
    iz = rng.integers(0, len(m.z_values), size=200)
    assert np.abs(m.euler_residuals(k, iz)).max() < 1e-10
    # V(k, z) = ln c + beta E V(k', z') under the policy, and the FOC 1/c = beta dEV/dk_j'
    kp, c = m.policy(k, m.z_values[iz])
    EV = sum(m.P[iz, e2] * m.value(kp, e2) for e2 in range(len(m.z_values)))
    assert np.abs(m.value(k, iz) - (np.log(c) + m.beta * EV)).max() < 1e-10
    A, B, D = m.coefficients()
    assert np.allclose(1.0 / c[:, None], m.beta * B / kp, rtol=1e-12)
    # a perturbed policy does worse in the Bellman equation (the closed form is the maximiser)
    for eps in (-0.02, 0.02):
        kq = kp * (1.0 + eps)
        cq = m.output(k, m.z_values[iz]) - kq.sum(axis=-1)
        EVq = sum(m.P[iz, e2] * m.value(kq, e2) for e2 in range(len(m.z_values)))
        assert np.all(np.log(cq) + m.beta * EVq < m.value(k, iz))
    # steady state: a fixed point of the policy at z = 1
    k_ss, c_ss, y_ss = m.steady_state()
    assert np.allclose(m.policy(k_ss, 1.0)[0], k_ss, rtol=1e-12) and np.isclose(c_ss + k_ss.sum(), y_ss)


def test_one_sector_is_brock_mirman():
    bm = brock_mirman_calibration()
    m = SectorModel(alphas=(bm.alpha,), beta=bm.beta, z_values=bm.z_values, P=bm.P)
    A, B, D = m.coefficients()
    A0, B0, D0 = brock_mirman_coefficients(bm)
    assert np.isclose(A, A0, rtol=1e-13) and np.isclose(B[0], B0, rtol=1e-13) and np.allclose(D, D0, rtol=1e-13)
    k = np.linspace(0.1, 0.3, 7)
    assert np.allclose(m.policy(k[:, None], 1.1)[0][:, 0], brock_mirman_policy(bm, k, 1.1), rtol=1e-14)
    assert np.isclose(m.steady_state()[0][0], bm.steady_state()[0], rtol=1e-13)
    # the economies' finite models coincide, unavailable (infeasible) top grid points included
    wide = {"low": 0.3, "high": 3.5, "points": 31}
    one = economy(GRID, alphas=[0.36], **wide).finite_model()
    data = read_yaml(ROOT / "economies" / "brock_mirman.yaml")
    data["agents"][0]["state"]["k"].update(wide)
    ref = mai.Economy.from_dict(data).finite_model()
    assert ref.n_feasible is not None and np.array_equal(one.n_feasible, ref.n_feasible)
    assert np.array_equal(one.next_x, ref.next_x) and np.allclose(one.rewards, ref.rewards, rtol=1e-13)
    assert np.allclose(value_iteration(one).value, value_iteration(ref).value, atol=1e-9)


def test_economy_closed_form_matches_the_file():
    econ = mai.load_economy(SHARES)
    m = sector_model(econ)
    assert m.alphas == (0.2, 0.16) and m.beta == 0.95 and len(m.z_values) == 5
    kind = econ.entries[0].kind
    assert np.allclose(kind.steady_state(), m.steady_state()[0], rtol=1e-14)


# ------------------------------------------------------------------ finite model
@pytest.mark.parametrize("d,G", [(1, 7), (2, 5), (2, 11)])
def test_finite_model_has_g_to_the_d_states_and_joint_actions(d, G):
    econ = economy(GRID, alphas=[0.36 / d] * d, points=G)
    fm = econ.finite_model()
    assert fm.n_agents == 1 and fm.n_x == G**d and fm.n_joint == G**d and list(fm.n_actions) == [G**d]
    assert fm.n_exo == 5 and fm.rewards.shape == (5, G**d, G**d, 1)
    assert sorted(fm.x_values) == [f"k{j + 1}" for j in range(d)]
    kind = econ.entries[0].kind
    # row-major joint index: action a picks k_j' = grid_j[unravel(a)_j], state x' = a (grids coincide)
    feasible = fm.n_feasible is None
    a = np.arange(G**d)
    assert feasible and np.all(fm.next_x == a[None, None, :])
    coords = np.unravel_index(a, (G,) * d)
    for j in range(d):
        assert np.allclose(fm.x_values[f"k{j + 1}"], kind.state_grid(f"k{j + 1}")[coords[j]])
    # the reward is ln(y - sum_j k_j') at (x, a)
    k = np.stack([fm.x_values[f"k{j + 1}"] for j in range(d)], axis=-1)
    m = sector_model(econ)
    y = m.output(k, m.z_values[2])
    assert np.allclose(fm.rewards[2, :, :, 0], np.log(y[:, None] - k.sum(axis=-1)[None, :]), rtol=1e-12)


def _grid_value_error():
    """experiments/dimension/grid_value_error.py (which writes the grid errors the docs quote),
    imported by path."""
    spec = importlib.util.spec_from_file_location(
        "dimension_grid_value_error", ROOT / "experiments" / "dimension" / "grid_value_error.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_value_iteration_agrees_with_the_closed_form_up_to_grid_error():
    errors = []
    for G in (5, 9, 15):
        econ = economy(GRID, points=G)
        fm, sol, V, exact = _grid_value_error().solve_grid(econ)
        m = sector_model(econ)
        k = np.stack([fm.x_values["k1"], fm.x_values["k2"]], axis=-1)
        assert np.all(V <= exact + 1e-8)  # the grid constrains the planner
        errors.append(np.abs(V - exact).max())
        grids = [econ.entries[0].kind.state_grid(f) for f in ("k1", "k2")]
        a = np.unravel_index(sol.policy.reshape(fm.n_exo, fm.n_x), (G, G))
        for j in range(2):
            kp_exact = np.stack([m.policy(k, z)[0][:, j] for z in m.z_values])
            inside = (kp_exact > grids[j][0]) & (kp_exact < grids[j][-1])
            step_j = grids[j][1] - grids[j][0]
            assert np.all(np.abs(grids[j][a[j]] - kp_exact)[inside] <= step_j)  # within one grid step
    assert errors[-1] < 2e-3 and errors[0] > errors[1] > errors[2]


def test_memory_refusal_at_large_d_names_the_field():
    econ = economy(GRID, alphas=[0.06] * 6)
    with pytest.raises(mai.SpecError, match="tabulating the finite model needs") as err:
        econ.finite_model()
    assert err.value.path == "agents[0].params.alphas"
    assert "6 state grids of 9x9x9x9x9x9 points" in str(err.value)
    econ = economy(GRID, alphas=[0.01] * 40, points=11)  # 11^40 states: sizes never overflow
    with pytest.raises(mai.SpecError, match="agents\\[0\\].params.alphas"):
        econ.finite_model()


# ------------------------------------------------------------------ budgets
def test_exact_policy_keeps_the_budget_in_the_economy():
    econ = mai.load_economy(SHARES)
    m = sector_model(econ)
    rng = np.random.default_rng(0)
    state = initial_state(econ, rng, batch=16)
    shares = np.tile(m.savings_shares(), (16, 1))
    for _ in range(60):
        k = np.stack([state.fields["planner.k1"][:, 0], state.fields["planner.k2"][:, 0]], axis=-1)
        z = m.z_values[state.exo[:, 0]]
        state2, rewards, info = step(econ, state, shares, rng)
        out = info["planner"]
        y = m.output(k, z)
        assert not out["infeasible"].any()
        kp_exact, c_exact = m.policy(k, z)
        assert np.allclose(out["consumption"][:, 0], c_exact, rtol=1e-12)
        assert np.allclose(out["consumption"][:, 0] + out["k1_next"][:, 0] + out["k2_next"][:, 0], y, rtol=1e-12)
        assert np.allclose(state2.fields["planner.k1"][:, 0], kp_exact[:, 0], rtol=1e-12)
        assert np.allclose(rewards[:, 0], np.log(c_exact))
        state = state2
    # the closed form's own simulation keeps it too
    k, c, y, _ = m.simulate(m.steady_state()[0], 500, np.random.default_rng(1))
    assert np.allclose(c + k[1:].sum(axis=1), y, rtol=1e-12) and np.all(c > 0)


def test_infeasible_savings_shares_are_scaled_onto_the_total():
    econ = mai.load_economy(SHARES)
    rng = np.random.default_rng(0)
    state = initial_state(econ, rng, batch=3)
    x = np.array([[0.6, 0.6], [0.5, 0.45], [0.2, 0.1]])  # sums 1.2, 0.95 (= total), 0.3
    _, rewards, info = step(econ, state, x, rng)
    out = info["planner"]
    assert list(out["infeasible"][:, 0]) == [True, False, False]
    y = out["output"][:, 0]
    assert np.allclose(out["consumption"][:, 0], [0.05 * y[0], 0.05 * y[1], 0.7 * y[2]])
    assert np.allclose(out["k1_next"][0, 0], 0.475 * y[0]) and np.isclose(out["k2_next"][0, 0], 0.475 * y[0])
    assert np.all(np.isfinite(rewards))


def test_infeasible_grid_choices_are_projected_onto_affordable_grid_points():
    econ = economy(GRID, low=0.3, high=4.0, points=7)
    kind = econ.entries[0].kind
    grids = [kind.state_grid("k1"), kind.state_grid("k2")]
    rng = np.random.default_rng(0)
    state = initial_state(econ, rng, batch=2)
    state.fields["planner.k1"][:] = grids[0][0]
    state.fields["planner.k2"][:] = grids[1][0]
    x = np.array([[grids[0][-1], grids[1][-1]], [grids[0][0], grids[1][0]]])
    _, rewards, info = step(econ, state, x, rng)
    out = info["planner"]
    assert list(out["infeasible"][:, 0]) == [True, False]
    assert np.all(out["consumption"] > 0) and np.all(np.isfinite(rewards))
    assert out["k1_next"][0, 0] in grids[0] and out["k2_next"][0, 0] in grids[1]
    # in the finite model those actions stay available and do what their projection does
    fm = econ.finite_model()
    assert fm.n_feasible is not None and np.all(fm.n_feasible == fm.n_joint)
    assert np.all(np.isfinite(fm.rewards))


# ------------------------------------------------------------------ files, schema, envs
def test_dimension_is_set_by_alphas_and_the_state_template():
    econ = economy(SHARES, alphas=[0.12, 0.12, 0.12])
    kind = econ.entries[0].kind
    assert list(kind.state) == ["k1", "k2", "k3"] and len(econ.decisions) == 3
    assert kind.state_spec["k3"]["low"] == 0.5 and kind.state_spec["k3"]["initial"] == "uniform"
    assert mai.Economy.from_dict(econ.to_dict()) == econ
    env = econ.gymnasium_env(max_cycles=5)
    assert env.action_space.shape == (3,) and env.observation_space.shape == (4,)
    data = read_yaml(SHARES)
    data["agents"][0]["state"]["k4"] = {"low": 0.9}
    with pytest.raises(mai.SpecError, match="no state field 'k4'") as err:
        mai.Economy.from_dict(data)
    assert err.value.path == "agents[0].state.k4"
    data = read_yaml(SHARES)
    data["agents"][0]["params"]["alphas"] = [0.6, 0.5]
    with pytest.raises(mai.SpecError) as err:
        mai.Economy.from_dict(data)
    assert err.value.path == "agents[0].params.alphas"
    data = read_yaml(SHARES)
    data["agents"][0]["action"]["low"] = 0.5
    with pytest.raises(mai.SpecError, match="exceed the largest total share"):
        mai.Economy.from_dict(data)


def test_set_override_changes_the_dimension():
    from marketsai.runner.schema import parse_overrides
    sets = parse_overrides(["agents[0].params.alphas=[0.1, 0.1, 0.1, 0.1]", "agents[0].state.k.points=3"])
    assert sets["agents[0].params.alphas"] == [0.1, 0.1, 0.1, 0.1]
    fm = economy(GRID, alphas=sets["agents[0].params.alphas"], points=sets["agents[0].state.k.points"]).finite_model()
    assert fm.n_x == 81 and fm.n_joint == 81


def test_runner_set_on_an_economy_file_expands_the_state_template_again():
    """``marketsai run ... --set economy.agents[0].params.alphas=[...]`` on a file whose state is
    the template ``k``: the override goes into the file's mapping, so the template is expanded
    for the new number of stocks (applied to the resolved mapping, k1 and k2 would be left
    from the file's two stocks and a third stock would have no state)."""
    from marketsai.runner.config import resolve_economy

    sets = {"economy.agents[0].params.alphas": [0.2, 0.16, 0.1], "economy.agents[0].state.k.high": 1.4}
    resolved = resolve_economy(str(SHARES), SHARES.parent, sets)
    state = resolved["agents"][0]["state"]
    assert sorted(state) == ["k1", "k2", "k3"]
    assert all(state[k]["high"] == 1.4 for k in state)
    data = read_yaml(SHARES)
    data["agents"][0]["params"]["alphas"] = [0.2, 0.16, 0.1]
    data["agents"][0]["state"]["k"]["high"] = 1.4
    assert resolved == mai.Economy.from_dict(data).to_dict()


def test_gymnasium_check_env_on_the_interval_economy():
    from gymnasium.utils.env_checker import check_env
    check_env(mai.load_economy(SHARES).gymnasium_env(max_cycles=20), skip_render_check=True)
