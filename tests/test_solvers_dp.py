"""Value / policy iteration on FiniteModels: closed forms, quantecon as oracle, feasibility."""

from __future__ import annotations

import numpy as np
import pytest
from dp_oracle import quantecon_solution, random_mdp

from marketsai.finite_game import FiniteGame
from marketsai.finite_model import FiniteModel
from marketsai.solvers import dp
from marketsai.solvers.growth import brock_mirman_calibration, growth_finite_model, rbc_calibration

SOLVERS = {"vi": dp.value_iteration, "pi": dp.policy_iteration, "mpi": dp.modified_policy_iteration}


def test_two_state_markov_chain_closed_form():
    # no choice: V = (I - beta P)^{-1} r, written out for a 2-state chain
    p, q, beta, r0, r1 = 0.3, 0.1, 0.9, 1.0, -2.0
    model = FiniteModel(agents=("a",), n_actions=[1], rewards=np.array([r0, r1]).reshape(2, 1, 1, 1),
                        next_x=np.zeros((2, 1, 1), np.int64), discount=beta,
                        exo_transition=[[1 - p, p], [q, 1 - q]])
    det = (1 - beta) * (1 - beta + beta * (p + q))
    exact = np.array([(1 - beta + beta * q) * r0 + beta * p * r1,
                      beta * q * r0 + (1 - beta + beta * p) * r1]) / det
    for solve in SOLVERS.values():
        np.testing.assert_allclose(solve(model).value, exact, rtol=0, atol=1e-9)
    for method in ("direct", "iterative"):
        np.testing.assert_allclose(dp.evaluate_policy(model, [0, 0], method=method), exact, atol=1e-11)


def cake_model(beta, N):
    """Cake eating, u = sqrt(c), on the grid {0} + {(beta^2)^(N-i)}: the continuous optimum
    x' = beta^2 x lies on the grid, so the grid model has the closed form
    V = sqrt(x / (1 - beta^2)) (up to the bottom of the truncated grid)."""
    grid = np.concatenate([[0.0], (beta**2) ** np.arange(N - 1, -1, -1.0)])  # ascending, x_N = 1
    n = grid.size
    c = grid[:, None] - grid[None, :]  # eat x - x'; feasible x' <= x: a prefix
    nf = (c >= 0).sum(axis=1)
    c = np.where(c >= 0, c, 0.0)
    r = np.sqrt(c)
    return grid, FiniteModel(agents=("eater",), n_actions=[n], rewards=r[None, :, :, None],
                             next_x=np.broadcast_to(np.arange(n), (1, n, n)), discount=beta,
                             n_feasible=nf[None, :, None])


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_cake_eating_closed_form(name):
    beta, N = 0.9, 120
    grid, model = cake_model(beta, N)
    sol = SOLVERS[name](model)
    exact = np.sqrt(grid / (1 - beta**2))
    top = np.arange(N // 2, N + 1)  # truncation at x_1 = beta^(2(N-1)) costs < beta^(N/2) x_1^0.5
    np.testing.assert_allclose(sol.value[top], exact[top], rtol=0, atol=1e-8)
    assert np.all(sol.value <= exact + 1e-9)  # a grid can only lose
    np.testing.assert_array_equal(sol.policy[top], top - 1)  # x' = beta^2 x: one grid step down
    assert sol.policy[1] == 0  # the smallest cake is eaten at once
    assert sol.converged


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_mdp_matches_quantecon(seed):
    model = random_mdp(seed, x_axis=seed != 2)
    ref = quantecon_solution(model)
    for name, solve in SOLVERS.items():
        sol = solve(model)
        assert sol.converged, name
        np.testing.assert_allclose(sol.value, ref.v, rtol=0, atol=1e-8, err_msg=name)
        np.testing.assert_array_equal(sol.policy, ref.sigma, err_msg=name)
    for method in ("direct", "iterative"):
        np.testing.assert_allclose(dp.evaluate_policy(model, ref.sigma, method=method), ref.v, atol=1e-9)


def test_infeasible_actions_are_never_chosen():
    model = random_mdp(3, feasible=True)
    huge = np.array(model.rewards)
    nf = model.n_feasible[..., 0]
    mask = np.arange(model.n_joint)[None, None, :] >= nf[..., None]
    huge[mask, 0] = 1e6  # tempting but infeasible
    model = FiniteModel(agents=("a",), n_actions=[model.n_joint], rewards=huge, next_x=model.next_x,
                        discount=model.discount, exo_transition=model.exo_transition,
                        n_feasible=model.n_feasible)
    for solve in SOLVERS.values():
        sol = solve(model)
        assert np.all(sol.policy < nf.reshape(-1))
        assert np.all(np.isneginf(sol.q[mask.reshape(model.n_states, -1)]))
        assert np.all(np.abs(sol.value) < 100)
        np.testing.assert_array_equal(sol.q.argmax(axis=1), sol.policy)
    with pytest.raises(ValueError, match="infeasible"):
        dp.evaluate_policy(model, np.full(model.n_states, model.n_joint - 1))


def test_q_values_is_bellman_of_value():
    model = random_mdp(4)
    sol = dp.policy_iteration(model)
    np.testing.assert_allclose(dp.q_values(model, sol.value).max(axis=1), sol.value, atol=1e-10)


@pytest.mark.parametrize("calibration,n_k", [(brock_mirman_calibration, 60), (rbc_calibration, 40)])
def test_growth_grid_matches_quantecon(calibration, n_k):
    model = calibration()
    k_ss = model.steady_state()[0]
    fm = growth_finite_model(model, np.linspace(0.6, 1.4, n_k) * k_ss)
    ref = quantecon_solution(fm)
    for name in ("vi", "pi", "mpi"):
        sol = SOLVERS[name](fm)
        np.testing.assert_allclose(sol.value, ref.v, rtol=0, atol=1e-8, err_msg=name)
        np.testing.assert_array_equal(sol.policy, ref.sigma, err_msg=name)


def test_best_response_matches_equilibrium_check():
    from marketsai.analysis.equilibrium import best_response_q

    pd_ = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)
    game = FiniteGame.from_matrix(pd_, memory=1, discount=0.9)
    rng = np.random.default_rng(0)
    strategies = rng.integers(0, 2, size=(1, 2, 4))
    model = FiniteModel.from_game(game)
    for agent in (0, 1):
        ref = best_response_q(game, strategies, agent=agent)[0]
        sol = dp.best_response_values(model, agent, strategies[0])
        np.testing.assert_allclose(sol.q, ref, atol=1e-9)


def test_multi_agent_model_is_rejected():
    pd_ = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)
    model = FiniteModel.from_game(FiniteGame.from_matrix(pd_, memory=1, discount=0.9))
    with pytest.raises(ValueError, match="single-agent"):
        dp.value_iteration(model)
