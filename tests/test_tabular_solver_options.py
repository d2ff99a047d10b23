"""The tabular learner as a solver (docs/q_learning_solver.md): Robbins-Monro step sizes,
expected targets over the known exogenous chain and Bertsekas-Yu enhanced policy
iteration in the model kernel, each identical to its plain-Python twin on the same
seeds, refused where it does not apply, and -- with expected targets and Robbins-Monro
steps -- converging to value iteration's policy on a small stochastic MDP."""

from __future__ import annotations

import numpy as np
import pytest

from marketsai.errors import SpecError
from marketsai.finite_game import FiniteGame
from marketsai.finite_model import FiniteModel
from marketsai.solvers.dp import value_iteration
from marketsai.tabular import QLearningConfig, advance, init_sessions
from marketsai.tabular.reference import reference_advance, reference_init
from marketsai.tabular.sessions import SOLVER_FIELDS, STATE_FIELDS

PD = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)


def assert_same_state(a, b):
    for f in STATE_FIELDS + ("sessions",) + SOLVER_FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        if x is None or y is None:
            assert x is None and y is None, f
            continue
        assert x.dtype == y.dtype and np.array_equal(x, y), f


def growth_mdp(n_k=8, beta=0.9, z=(0.85, 1.0, 1.15)):
    """Brock-Mirman planner on a small capital grid with three TFP states (feasible sets)."""
    alpha = 0.36
    kss = (alpha * beta) ** (1 / (1 - alpha))
    grid = np.linspace(0.6 * kss, 1.4 * kss, n_k)
    zs = np.asarray(z, dtype=float)
    c = zs[:, None, None] * grid[None, :, None] ** alpha - grid[None, None, :]
    feasible = c > 0
    nf = feasible.sum(axis=2)
    rewards = np.where(feasible, np.log(np.where(feasible, c, 1.0)), -50.0)[..., None]
    P = np.array([[0.7, 0.3, 0.0], [0.15, 0.7, 0.15], [0.0, 0.3, 0.7]])[:len(zs), :len(zs)]
    P = P / P.sum(axis=1, keepdims=True)
    return FiniteModel(agents=("planner",), n_actions=[n_k], rewards=rewards,
                       next_x=np.broadcast_to(np.arange(n_k), (len(zs), n_k, n_k)),
                       discount=beta, exo_transition=P, n_feasible=nf[..., None],
                       outcomes=np.where(feasible, c, 0.0)[..., None], outcome_name="consumption",
                       action_values=(grid,), x_values={"k": grid}, exo_values={"z": zs})


def duopoly_model(seed=0):
    """Two agents (2 and 3 actions), 4 endogenous x 2 exogenous states, feasible sets."""
    rng = np.random.default_rng(seed)
    n_exo, n_x, M = 2, 4, 6
    nf = np.stack([rng.integers(1, 3, (n_exo, n_x)), rng.integers(1, 4, (n_exo, n_x))], axis=-1)
    return FiniteModel(agents=("a", "b"), n_actions=[2, 3],
                       rewards=rng.uniform(-1, 1, (n_exo, n_x, M, 2)),
                       next_x=rng.integers(0, n_x, (n_exo, n_x, M)), discount=0.9,
                       exo_transition=np.array([[0.6, 0.4], [0.25, 0.75]]),
                       exo_initial=np.array([0.2, 0.8]), n_feasible=nf)


OPTIONS = {
    "visits": dict(step_size="visits", step_a=1.0, step_b=1.0, step_omega=0.7),
    "expected": dict(target="expected"),
    "visits+expected": dict(step_size="visits", step_a=0.9, step_omega=1.0, target="expected"),
    "enhanced_pi": dict(update="enhanced_pi", improve_every=37),
    "enhanced_pi+expected+visits": dict(update="enhanced_pi", improve_every=50,
                                        target="expected", step_size="visits", step_omega=0.8),
}


@pytest.mark.parametrize("name", list(OPTIONS))
@pytest.mark.parametrize("model", ["growth", "duopoly"])
def test_each_option_equals_its_python_twin(name, model):
    problem = growth_mdp() if model == "growth" else duopoly_model()
    cfg = QLearningConfig(alpha=0.2, beta=2e-3, q0="zeros" if model == "growth" else "calvano",
                          stable_periods=400, **OPTIONS[name])
    fast = init_sessions(problem, cfg, seed=3, sessions=[0, 5])
    slow = reference_init(problem, cfg, seed=3, sessions=[0, 5])
    assert_same_state(fast, slow)
    advance(problem, cfg, fast, periods=1500, until_converged=False)  # resumed: two calls
    advance(problem, cfg, fast, periods=1500, until_converged=False)
    reference_advance(problem, cfg, slow, periods=3000, until_converged=False)
    assert_same_state(fast, slow)
    assert fast.t.tolist() == [3000, 3000]
    plain = init_sessions(problem, QLearningConfig(alpha=0.2, beta=2e-3, stable_periods=400,
                                                   q0=cfg.q0), seed=3, sessions=[0, 5])
    advance(problem, QLearningConfig(alpha=0.2, beta=2e-3, stable_periods=400, q0=cfg.q0), plain,
            periods=3000, until_converged=False)
    assert not np.array_equal(plain.q, fast.q)  # the option changes the learning


def test_options_on_a_game_run_on_its_memory_model():
    """A FiniteGame with a solver option runs as FiniteModel.from_game (same sessions)."""
    game = FiniteGame.from_matrix(PD, memory=1, discount=0.9)
    cfg = QLearningConfig(alpha=0.1, beta=1e-3, step_size="visits", target="expected",
                          stable_periods=300)
    a = init_sessions(game, cfg, seed=1, sessions=range(3))
    b = init_sessions(FiniteModel.from_game(game), cfg, seed=1, sessions=range(3))
    c = reference_init(game, cfg, seed=1, sessions=range(3))
    for st in (a, c):
        assert_same_state(st, b)
    advance(game, cfg, a, periods=2000)
    advance(FiniteModel.from_game(game), cfg, b, periods=2000)
    reference_advance(game, cfg, c, periods=2000)
    assert_same_state(a, b)
    assert_same_state(c, b)


def test_expected_target_equals_the_sampled_one_without_shocks():
    """With one exogenous state the expectation is the sampled value: bit-identical runs."""
    game = FiniteGame.from_matrix(PD, memory=1, discount=0.9)
    model = FiniteModel.from_game(game)
    plain = QLearningConfig(alpha=0.1, beta=1e-3, stable_periods=300)
    exp = QLearningConfig(alpha=0.1, beta=1e-3, stable_periods=300, target="expected")
    a, b = (init_sessions(model, c, seed=2, sessions=range(3)) for c in (plain, exp))
    advance(model, plain, a, periods=3000)
    advance(model, exp, b, periods=3000)
    assert_same_state(a, b)


def test_expected_targets_and_robbins_monro_steps_reach_the_value_iteration_policy():
    model = growth_mdp(n_k=8)
    sol = value_iteration(model, tol=1e-12)
    # alpha_n = 101 / (100 + n): the first hundred updates near 1, then 1/n -- without
    # sampling noise a slowly falling step is what makes the table settle fast
    cfg = QLearningConfig(exploration="constant", epsilon=0.5, q0="zeros", step_size="visits",
                          step_a=101.0, step_b=100.0, step_omega=1.0, target="expected")
    st = init_sessions(model, cfg, seed=0, sessions=range(4))
    advance(model, cfg, st, periods=300_000, until_converged=False)
    assert np.all(st.strategy[:, 0] == sol.policy[None]), (st.strategy[:, 0], sol.policy)
    q = st.q[:, 0].reshape(4, model.n_states, -1)
    vstar = np.asarray(sol.value).reshape(-1)
    assert np.abs(q.max(axis=2) - vstar[None]).max() < 1e-3


def test_enhanced_policy_iteration_reaches_the_value_iteration_policy():
    model = growth_mdp(n_k=8)
    sol = value_iteration(model, tol=1e-12)
    cfg = QLearningConfig(exploration="constant", epsilon=0.5, q0="zeros", step_size="visits",
                          step_a=101.0, step_b=100.0, step_omega=1.0, target="expected",
                          update="enhanced_pi", improve_every=500)
    st = init_sessions(model, cfg, seed=0, sessions=range(4))
    advance(model, cfg, st, periods=300_000, until_converged=False)
    assert np.all(st.strategy[:, 0] == sol.policy[None]), (st.strategy[:, 0], sol.policy)


@pytest.mark.parametrize("kw, path", [
    (dict(step_size="decreasing"), "step_size"),
    (dict(step_omega=0.5), "step_omega"),
    (dict(step_omega=1.2), "step_omega"),
    (dict(step_a=0.0), "step_a"),
    (dict(step_a=3.0, step_b=1.0, step_omega=1.0), "step_a"),  # first step 1.5 > 1
    (dict(step_b=-1.0), "step_b"),
    (dict(target="mean"), "target"),
    (dict(update="sarsa"), "update"),
    (dict(improve_every=0), "improve_every"),
])
def test_bad_solver_settings_name_the_field(kw, path):
    with pytest.raises(SpecError) as err:
        QLearningConfig(**kw)
    assert err.value.path == path


@pytest.mark.parametrize("kw", [dict(target="expected"), dict(update="enhanced_pi")])
def test_expected_targets_and_enhanced_pi_refuse_alternating_moves(kw):
    game = FiniteGame.from_matrix(PD, memory=1, discount=0.9)
    cfg = QLearningConfig(protocol="alternating", **kw)
    with pytest.raises(SpecError, match="simultaneous moves"):
        init_sessions(game, cfg, sessions=range(2))


def test_robbins_monro_steps_under_alternating_moves_equal_the_twin():
    game = FiniteGame.from_matrix(PD, memory=1, discount=0.9)
    cfg = QLearningConfig(protocol="alternating", step_size="visits", beta=1e-3,
                          stable_periods=300)
    a = init_sessions(game, cfg, seed=4, sessions=range(2))
    b = reference_init(game, cfg, seed=4, sessions=range(2))
    advance(game, cfg, a, periods=2000)
    reference_advance(game, cfg, b, periods=2000)
    assert_same_state(a, b)
    assert a.visits.sum() > 0


def test_defaults_are_plain_q_learning():
    cfg = QLearningConfig()
    assert not cfg.solver_options
    assert (cfg.step_size, cfg.target, cfg.update) == ("constant", "sampled", "q_learning")


def test_a_mismatched_visit_table_is_refused():
    model = growth_mdp(n_k=4)
    cfg = QLearningConfig(step_size="visits", stable_periods=100)
    st = init_sessions(model, cfg, seed=0, sessions=range(2))
    st.visits = st.visits[:, :, :3]
    with pytest.raises(SpecError) as err:
        advance(model, cfg, st, periods=10)
    assert err.value.path == "states.visits"
