"""The growth grids on which the tabular tests measure Q-learning against dynamic
programming, and the measurements themselves.

Why a module: ``tests/test_tabular_model.py`` asserts bounds on these measurements and
``experiments/growth/tabular_dp_agreement.py`` writes them to the committed table that
docs/tabular.md quotes -- one code path, so the page shows what the tests measure.
"""

from __future__ import annotations

import numpy as np

from marketsai.finite_model import FiniteModel
from marketsai.tabular import QLearningConfig, advance, init_sessions


def growth_model(n_k=10, alpha=0.36, beta=0.95, z=(0.9, 1.1), x_initial=None):
    """Brock-Mirman planner on a capital grid: choose k' (index), c = z k^alpha - k' > 0.

    Actions (k' on the ascending grid) with positive consumption come first, so
    ``n_feasible`` is a count. Infeasible entries carry a finite placeholder reward.
    """
    kss = (alpha * beta) ** (1 / (1 - alpha))
    grid = np.linspace(0.5 * kss, 1.5 * kss, n_k)
    zs = np.asarray(z, dtype=float)
    c = zs[:, None, None] * grid[None, :, None] ** alpha - grid[None, None, :]  # (e, x, a)
    feasible = c > 0
    nf = feasible.sum(axis=2)
    assert nf.min() >= 1 and np.all(feasible == (np.arange(n_k) < nf[..., None]))
    rewards = np.where(feasible, np.log(np.where(feasible, c, 1.0)), -50.0)[..., None]
    next_x = np.broadcast_to(np.arange(n_k), (len(zs), n_k, n_k))
    P = np.array([[0.9, 0.1], [0.1, 0.9]]) if len(zs) == 2 else np.ones((1, 1))
    return FiniteModel(agents=("planner",), n_actions=[n_k], rewards=rewards, next_x=next_x,
                       discount=beta, exo_transition=P, n_feasible=nf[..., None],
                       x_initial=x_initial, outcomes=np.where(feasible, c, 0.0)[..., None],
                       outcome_name="consumption", action_values=(grid,),
                       x_values={"k": grid}, exo_values={"z": zs})


def value_iteration(model, tol=1e-12):
    """Q* of a single-agent model (readable; the test's own oracle)."""
    r = np.broadcast_to(model.rewards[..., 0], (model.n_exo, model.n_x, model.n_joint))
    nf = model.n_feasible[..., 0] if model.n_feasible is not None else None
    mask = np.arange(model.n_joint) < nf[..., None] if nf is not None else True
    V = np.zeros((model.n_exo, model.n_x))
    for _ in range(100_000):
        EV = model.exo_transition @ V  # (e, x'): E[V(e', x') | e]
        Q = r + model.discount * np.take_along_axis(EV, model.next_x.reshape(model.n_exo, -1),
                                                    axis=1).reshape(r.shape)
        Vn = np.where(mask, Q, -np.inf).max(axis=2)
        if np.abs(Vn - V).max() < tol:
            return np.where(mask, Q, -np.inf)
        V = Vn
    raise AssertionError("value iteration did not converge")


def dp_agreement(model, strategy):
    """Share of states whose greedy action is optimal (ties within 1e-9 count as optimal)."""
    Q = value_iteration(model).reshape(model.n_states, -1)
    a = strategy[0]
    best = Q.max(axis=1)
    return float(np.mean(Q[np.arange(model.n_states), a] >= best - 1e-9 * (1 + np.abs(best))))


#: the deterministic grid's run: 10 points, no shocks (the model above with z = 1)
DETERMINISTIC = dict(n_k=10, sessions=4, periods=400_000, alpha=0.05, epsilon=0.3, q0="zeros")
#: the stochastic grid's run: growth_finite_model of Brock-Mirman with 3 TFP states, 10 points
#: on (0.6, 1.4) k_ss
STOCHASTIC = dict(n_k=10, n_z=3, sessions=8, periods=20_000_000, alpha=0.002, epsilon=0.3, q0="calvano")


def _learn(model, run: dict) -> np.ndarray:
    """Greedy tables ``(sessions, n_states)`` after ``run["periods"]`` periods of constant
    exploration (seed 0; no convergence stop)."""
    cfg = QLearningConfig(alpha=run["alpha"], exploration="constant", epsilon=run["epsilon"], q0=run["q0"])
    st = init_sessions(model, cfg, seed=0, sessions=range(run["sessions"]))
    advance(model, cfg, st, periods=run["periods"], until_converged=False)
    return st.strategy[:, 0]


def deterministic_grid_shares(run: dict = DETERMINISTIC) -> np.ndarray:
    """Per session, the share of states whose greedy action is DP-optimal (ties count) on
    the 10-point Brock-Mirman grid without shocks."""
    model = growth_model(n_k=run["n_k"], z=(1.0,))
    return np.array([dp_agreement(model, greedy[None]) for greedy in _learn(model, run)])


def stochastic_grid_model(n_k: int = 10, n_z: int = 3):
    """Brock-Mirman with ``n_z`` Rouwenhorst TFP states on ``n_k`` points of (0.6, 1.4) k_ss
    (the library's ``growth_finite_model``) and its value-iteration solution."""
    from marketsai.solvers import dp, growth

    bm = growth.brock_mirman_calibration(n_z=n_z)
    kss = bm.steady_state()[0]
    model = growth.growth_finite_model(bm, np.linspace(0.6 * kss, 1.4 * kss, n_k))
    return model, dp.value_iteration(model)


def stochastic_grid_agreement(run: dict = STOCHASTIC) -> tuple[np.ndarray, np.ndarray]:
    """Per session, the share of states whose greedy action is the DP policy's, and the share
    within one grid step of it, on the stochastic grid."""
    model, sol = stochastic_grid_model(run["n_k"], run["n_z"])
    greedy = _learn(model, run)
    return (greedy == sol.policy).mean(axis=1), (np.abs(greedy - sol.policy) <= 1).mean(axis=1)


def random_policy_agreement(n_k: int = 10, n_z: int = 3) -> tuple[float, float]:
    """What a uniformly random feasible policy scores on the stochastic grid (expected shares
    of states at the DP action and within one grid step of it): the chance level."""
    model, sol = stochastic_grid_model(n_k, n_z)
    nf = model.n_feasible.reshape(-1)
    actions = np.arange(model.n_joint)[None, :]
    feasible = actions < nf[:, None]
    near = feasible & (np.abs(actions - sol.policy[:, None]) <= 1)
    return float(np.mean(1.0 / nf)), float(np.mean(near.sum(axis=1) / nf))


#: the committed table of these measurements (experiments/growth/tabular_dp_agreement.py)
TABLE = "experiments/growth/results/tabular_dp_agreement.csv"
DETERMINISTIC_GRID = "Brock-Mirman, 10-point grid, no shocks"
STOCHASTIC_GRID = "Brock-Mirman, 10-point grid x 3 TFP states (growth_finite_model)"
OPTIMAL, EXACT, NEAR = ("greedy action DP-optimal (ties count)", "greedy action = DP policy",
                        "within one grid step of the DP policy")
RANDOM_EXACT, RANDOM_NEAR = (f"uniformly random feasible policy: {EXACT} (expected)",
                             f"uniformly random feasible policy: {NEAR} (expected)")


def table_row(grid: str, measure: str, shares, run: dict | None = None) -> dict:
    """One row of the committed table: the run's settings and the shares' mean, min and max
    over sessions (a chance level has no run: its value is the mean)."""
    shares = np.asarray(shares, dtype=float)
    if run is None:
        return {"grid": grid, "measure": measure, "mean": float(shares)}
    return {"grid": grid, "measure": measure,
            **{k: run[k] for k in ("sessions", "periods", "alpha", "epsilon", "q0")},
            "mean": float(shares.mean()), "min": float(shares.min()), "max": float(shares.max())}


def committed_row(root, grid: str, measure: str) -> dict:
    """The committed table's row of ``grid`` and ``measure`` (empty cells as NaN)."""
    import pandas as pd

    table = pd.read_csv(root / TABLE, comment="#")
    rows = table[(table["grid"] == grid) & (table["measure"] == measure)]
    assert len(rows) == 1, (grid, measure, len(rows))
    return rows.iloc[0].to_dict()
