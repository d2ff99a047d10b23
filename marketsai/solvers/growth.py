"""The stochastic growth model: calibrations, closed form, endogenous grid method, DP grid.

A planner with capital ``k`` and TFP ``z`` has cash on hand ``y = z k^alpha + (1 - delta) k``,
consumes ``c = y - k'`` and maximises ``E sum beta^t u(c_t)``, CRRA
``u(c) = (c^(1-gamma) - 1) / (1 - gamma)`` (``log c`` at ``gamma = 1``); ``log z`` is an AR(1)
discretised into a finite :class:`~marketsai.processes.MarkovChain` of levels ``z``.
Everything here is exact *for that chain*: the closed form, EGM and DP all solve the
same discrete-shock model, so they can be compared to rounding.

* :func:`brock_mirman_policy`, :func:`brock_mirman_value` -- the closed form at
  ``delta = gamma = 1``;
* :func:`solve_egm` -- the endogenous grid method (Carroll 2006; Barillas and
  Fernandez-Villaverde 2007) for any ``(gamma, delta)``;
* :func:`growth_finite_model` -- the planner's :class:`~marketsai.finite_model.FiniteModel`
  on a capital grid, for DP solvers and tabular learners.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from marketsai.finite_model import FiniteModel
from marketsai.processes import MarkovChain, rouwenhorst
from marketsai.solvers.egm import inverse_euler, linear_above_first

__all__ = ["GrowthModel", "GrowthPolicy", "brock_mirman_calibration", "rbc_calibration",
           "brock_mirman_policy", "brock_mirman_coefficients", "brock_mirman_value", "solve_egm",
           "growth_finite_model", "tabulated_savings"]


@dataclass(frozen=True, eq=False)
class GrowthModel:
    """Parameters of the growth model; ``z`` is a MarkovChain of TFP *levels* (field "z").

    >>> m = rbc_calibration()
    >>> k, c, y = m.steady_state()
    >>> round(k, 3), round(c, 4), round(y, 3)
    (37.989, 2.7543, 3.704)
    """

    alpha: float
    beta: float
    delta: float
    gamma: float
    z: MarkovChain

    def __post_init__(self):
        for name, lo, hi in (("alpha", 0.0, 1.0), ("beta", 0.0, 1.0)):
            v = float(getattr(self, name))
            if not lo < v < hi:
                raise ValueError(f"GrowthModel.{name} must be in ({lo}, {hi}), got {v}")
            object.__setattr__(self, name, v)
        if not 0.0 < float(self.delta) <= 1.0:
            raise ValueError(f"GrowthModel.delta must be in (0, 1], got {self.delta}")
        if not float(self.gamma) > 0.0:
            raise ValueError(f"GrowthModel.gamma must be > 0, got {self.gamma}")
        object.__setattr__(self, "delta", float(self.delta))
        object.__setattr__(self, "gamma", float(self.gamma))
        if "z" not in self.z.fields or np.any(self.z.value("z") <= 0):
            raise ValueError("GrowthModel.z must be a MarkovChain with a positive field 'z' "
                             "(levels: build it with log=True)")

    @property
    def z_values(self) -> np.ndarray:
        """TFP levels ``(n_z,)``."""
        return np.ascontiguousarray(self.z.value("z"))

    @property
    def P(self) -> np.ndarray:
        """Transition matrix of the TFP chain ``(n_z, n_z)``."""
        return np.ascontiguousarray(self.z.P)

    def steady_state(self) -> tuple[float, float, float]:
        """Deterministic steady state at ``z = 1``: ``(k, c, y)``, ``y = k^alpha`` (output).

        From the Euler equation ``1 = beta (alpha k^(alpha-1) + 1 - delta)``.
        """
        k = (self.alpha / (1.0 / self.beta - 1.0 + self.delta)) ** (1.0 / (1.0 - self.alpha))
        y = k**self.alpha
        return float(k), float(y - self.delta * k), float(y)

    def cash_on_hand(self, k, z):
        """``z k^alpha + (1 - delta) k`` (broadcasting)."""
        k = np.asarray(k, dtype=np.float64)
        return np.asarray(z, dtype=np.float64) * k**self.alpha + (1.0 - self.delta) * k

    def utility(self, c):
        """CRRA utility; ``log c`` at ``gamma = 1``; ``-inf`` for ``c <= 0``."""
        c = np.asarray(c, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.gamma == 1.0:
                u = np.log(c)
            else:
                u = (c ** (1.0 - self.gamma) - 1.0) / (1.0 - self.gamma)
        return np.where(c > 0, u, -np.inf)

    def marginal_utility(self, c):
        return np.asarray(c, dtype=np.float64) ** (-self.gamma)

    def inverse_marginal_utility(self, m):
        return np.asarray(m, dtype=np.float64) ** (-1.0 / self.gamma)


def brock_mirman_calibration(n_z: int = 5) -> GrowthModel:
    """Brock--Mirman: alpha 0.36, beta 0.95, delta 1, log utility, log z AR(1) rho 0.9,
    sigma 0.02, Rouwenhorst ``n_z`` states."""
    return GrowthModel(alpha=0.36, beta=0.95, delta=1.0, gamma=1.0,
                       z=rouwenhorst(n_z, 0.9, 0.02, log=True))


def rbc_calibration(n_z: int = 7) -> GrowthModel:
    """RBC (quarterly): alpha 0.36, beta 0.99, delta 0.025, log utility, log z AR(1)
    rho 0.95, sigma 0.007, Rouwenhorst ``n_z`` states."""
    return GrowthModel(alpha=0.36, beta=0.99, delta=0.025, gamma=1.0,
                       z=rouwenhorst(n_z, 0.95, 0.007, log=True))


# ------------------------------------------------------------------ closed form
def _require_brock_mirman(model):
    if model.delta != 1.0 or model.gamma != 1.0:
        raise ValueError("the Brock-Mirman closed form needs delta = 1 and gamma = 1, got "
                         f"delta = {model.delta}, gamma = {model.gamma}")


def brock_mirman_policy(model: GrowthModel, k, z):
    """Optimal savings ``k' = alpha beta z k^alpha`` (z a level, broadcasting).

    >>> m = brock_mirman_calibration()
    >>> round(float(brock_mirman_policy(m, 1.0, 1.0)), 12)
    0.342
    """
    _require_brock_mirman(model)
    return model.alpha * model.beta * np.asarray(z, np.float64) * np.asarray(k, np.float64) ** model.alpha


def brock_mirman_coefficients(model: GrowthModel) -> tuple[float, float, np.ndarray]:
    """``(A, B, D)`` with ``V(k, z_i) = A + B ln k + D[i]`` the exact value on the chain.

    Guessing ``V = B ln k + G_i`` in the Bellman equation under the optimal policy gives
    ``B = alpha / (1 - alpha beta)`` and ``G = (I - beta P)^{-1} (c0 + ln z / (1 - alpha beta))``,
    ``c0 = ln(1 - alpha beta) + alpha beta / (1 - alpha beta) ln(alpha beta)``. Rows of
    ``P`` sum to one, so ``A = c0 / (1 - beta)`` and ``D = (I - beta P)^{-1} ln z / (1 - alpha beta)``
    -- which is ``ln z / ((1 - alpha beta)(1 - rho beta))`` whenever the chain's conditional
    mean of ``ln z'`` is ``rho ln z`` (Rouwenhorst; not exactly Tauchen).

    >>> A, B, D = brock_mirman_coefficients(brock_mirman_calibration())
    >>> round(B, 6), bool(np.allclose(D, np.log(brock_mirman_calibration().z_values) / (0.658 * 0.145)))
    (0.547112, True)
    """
    _require_brock_mirman(model)
    a, b = model.alpha, model.beta
    ab = a * b
    B = a / (1.0 - ab)
    A = (np.log(1.0 - ab) + ab / (1.0 - ab) * np.log(ab)) / (1.0 - b)
    n = model.z.n_states
    D = np.linalg.solve(np.eye(n) - b * model.P, np.log(model.z_values) / (1.0 - ab))
    return float(A), float(B), D


def brock_mirman_value(model: GrowthModel, k, iz):
    """The exact value ``A + B ln k + D[iz]`` of the discrete-shock Brock--Mirman model."""
    A, B, D = brock_mirman_coefficients(model)
    return A + B * np.log(np.asarray(k, np.float64)) + D[np.asarray(iz)]


# ------------------------------------------------------------------------- EGM
@nb.njit(cache=True)
def interp_savings(Y, Yn, kpn):
    """k'(Y) from nodes (Yn ascending, kpn): linear inside; towards the origin (0, 0) below
    the first node (keeps k' and c positive); linear extrapolation above the last."""
    if Y <= Yn[0]:
        return kpn[0] * Y / Yn[0]
    return linear_above_first(Y, Yn, kpn)


@nb.njit(cache=True)
def _egm(kp, zv, P, alpha, beta, delta, gamma, Y, tol, max_iter):
    """Iterate the EGM operator on the nodes Y[e, i] (cash on hand that makes saving kp[i]
    optimal in state e). Returns (Y, iterations, converged)."""
    n_z, n = Y.shape
    mu = np.empty((n_z, n))
    c = np.empty((n_z, n))
    for it in range(1, max_iter + 1):
        for e2 in range(n_z):
            for i in range(n):
                y2 = zv[e2] * kp[i] ** alpha + (1.0 - delta) * kp[i]
                c2 = y2 - interp_savings(y2, Y[e2], kp)  # EGM nodes: k' = kp in every state
                if c2 <= 0.0:
                    c2 = 1e-12 * y2  # only in early iterations from a poor guess
                mu[e2, i] = c2 ** (-gamma) * (alpha * zv[e2] * kp[i] ** (alpha - 1.0) + 1.0 - delta)
        diff = inverse_euler(P, mu, beta, gamma, Y - kp, c)
        Y[:, :] = c + kp
        if diff < tol:
            return Y, it, True
    return Y, max_iter, False


@nb.njit(cache=True)
def _savings_at(Yq, iz, Yn, kpn):
    out = np.empty(Yq.shape[0])
    for t in range(Yq.shape[0]):
        out[t] = interp_savings(Yq[t], Yn[iz[t]], kpn[iz[t]])
    return out


@dataclass(frozen=True, eq=False)
class GrowthPolicy:
    """A solved savings policy: nodes of ``k'(y; z)`` plus its values on the capital grid.

    Between nodes ``k'`` is linear in cash on hand ``y``; below the first node it runs
    linearly to ``(0, 0)``, above the last it extrapolates the last segment.

    Attributes
    ----------
    k_grid : (n,) the capital grid (also the EGM grid of end-of-period capital ``k'``).
    kp, c : (n_z, n) savings and consumption at ``(z_e, k_grid[i])``.
    y_nodes, kp_nodes : (n_z, n) node ``i`` of state ``e``: saving ``kp_nodes[e, i]`` is
        optimal at cash on hand ``y_nodes[e, i]`` (EGM: ``kp_nodes[e] = k_grid``; time
        iteration: ``y_nodes[e] = y(k_grid, z_e)``).
    method : ``"egm"`` or ``"time_iteration"``.
    """

    model: GrowthModel
    k_grid: np.ndarray
    kp: np.ndarray
    c: np.ndarray
    y_nodes: np.ndarray
    kp_nodes: np.ndarray
    iterations: int
    converged: bool
    method: str = "egm"

    def savings(self, k, iz):
        """``k'(k, z_iz)``, vectorised (broadcasting ``k`` and integer ``iz``)."""
        k, iz = np.broadcast_arrays(np.asarray(k, np.float64), np.asarray(iz, np.int64))
        y = self.model.cash_on_hand(k, self.model.z_values[iz])
        out = _savings_at(np.ascontiguousarray(y.ravel()), np.ascontiguousarray(iz.ravel()),
                          self.y_nodes, self.kp_nodes)
        return out.reshape(k.shape)

    def consumption(self, k, iz):
        """``c(k, z_iz) = y - k'``, vectorised."""
        k, iz = np.broadcast_arrays(np.asarray(k, np.float64), np.asarray(iz, np.int64))
        return self.model.cash_on_hand(k, self.model.z_values[iz]) - self.savings(k, iz)


def check_grid(k_grid):
    g = np.ascontiguousarray(k_grid, dtype=np.float64)
    if g.ndim != 1 or g.size < 2 or np.any(g <= 0) or np.any(np.diff(g) <= 0):
        raise ValueError("k_grid must be a strictly ascending 1-D array of positive numbers")
    return g


def solve_egm(model: GrowthModel, k_grid, tol: float = 1e-12, max_iter: int = 100_000,
              c_share0: float | None = None) -> GrowthPolicy:
    """Solve the Euler equation by the endogenous grid method on the discrete TFP chain.

    ``k_grid`` is the exogenous grid of end-of-period capital ``k'``. Given next period's
    policy, the Euler equation ``u'(c) = beta E[u'(c') (1 + alpha z' k'^(alpha-1) - delta)]``
    gives today's ``c`` for each ``(k', z)`` without root finding, hence the cash on hand
    ``y = c + k'`` at which ``k'`` is optimal. The policy is stored as ``k'(y)`` on these
    nodes and interpolated *linearly in cash on hand*: ``k'`` and ``c`` are close to linear
    in ``y`` (exactly linear, ``k' = alpha beta y``, in Brock--Mirman, where EGM is then
    exact up to ``tol``), so linear interpolation keeps the policy monotone and positive and
    its error (second order in the spacing, times the tiny curvature) is far below the
    Euler-error target (docs/solvers.md). Iterates until consumption at every node
    changes by less than ``tol`` (relative).

    Parameters
    ----------
    c_share0 : initial guess ``c = c_share0 * y`` (default: the steady-state ``c / y``).

    Examples
    --------
    >>> m = brock_mirman_calibration()
    >>> k_ss = m.steady_state()[0]
    >>> pol = solve_egm(m, np.linspace(0.5, 1.5, 50) * k_ss, c_share0=0.9)
    >>> k = np.array([0.8, 1.2]) * k_ss
    >>> bool(np.allclose(pol.savings(k, 2), brock_mirman_policy(m, k, m.z_values[2]), rtol=1e-10))
    True
    """
    g = check_grid(k_grid)
    k_ss, c_ss, _ = model.steady_state()
    share = c_ss / float(model.cash_on_hand(k_ss, 1.0)) if c_share0 is None else float(c_share0)
    if not 0.0 < share < 1.0:
        raise ValueError(f"c_share0 must be in (0, 1), got {share}")
    Y0 = np.tile(g / (1.0 - share), (model.z.n_states, 1))
    Y, it, ok = _egm(g, model.z_values, model.P, model.alpha, model.beta, model.delta, model.gamma,
                     Y0, float(tol), int(max_iter))
    if np.any(np.diff(Y, axis=1) <= 0):
        raise RuntimeError("EGM produced non-monotone cash-on-hand nodes; widen or refine k_grid")
    return growth_policy(model, g, Y, np.tile(g, (model.z.n_states, 1)), it, ok, "egm")


def growth_policy(model, g, y_nodes, kp_nodes, it, ok, method) -> GrowthPolicy:
    pol = GrowthPolicy(model=model, k_grid=g, kp=np.empty(0), c=np.empty(0), y_nodes=y_nodes,
                       kp_nodes=np.ascontiguousarray(kp_nodes), iterations=int(it),
                       converged=bool(ok), method=method)
    iz = np.arange(model.z.n_states)[:, None]
    kp = pol.savings(g[None, :], iz)
    object.__setattr__(pol, "kp", kp)
    object.__setattr__(pol, "c", model.cash_on_hand(g[None, :], model.z_values[iz]) - kp)
    return pol


def tabulated_savings(model: GrowthModel, k_grid, kp_table):
    """A vectorised ``savings(k, iz)`` from a table ``kp_table[iz, i]`` on ``k_grid``.

    Linear interpolation in ``k`` (constant beyond the ends): wraps a DP solution's or a
    Q-table's greedy policy (``k_grid[policy]``) for the Euler-error and welfare measures.

    >>> m = brock_mirman_calibration()
    >>> g = np.array([0.1, 0.2, 0.3])
    >>> f = tabulated_savings(m, g, np.tile([0.15, 0.2, 0.25], (5, 1)))
    >>> f(np.array([0.15, 0.3]), 0).tolist()
    [0.175, 0.25]
    """
    g = check_grid(k_grid)
    table = np.asarray(kp_table, np.float64)
    if table.shape != (model.z.n_states, g.size):
        raise ValueError(f"kp_table must be ({model.z.n_states}, {g.size}), got {table.shape}")

    def savings(k, iz):
        k, iz = np.broadcast_arrays(np.asarray(k, np.float64), np.asarray(iz, np.int64))
        out = np.empty(k.shape)
        for e in np.unique(iz):
            sel = iz == e
            out[sel] = np.interp(k[sel], g, table[e])
        return out

    return savings


# --------------------------------------------------------------- planner's grid
def growth_finite_model(model: GrowthModel, k_grid) -> FiniteModel:
    """The planner's finite MDP on a capital grid (the contract economy files reproduce).

    * one agent ``"planner"``; ``x`` = index of ``k`` in ``k_grid``; ``e`` = TFP state;
    * action ``j`` = index of ``k'`` in the same grid: ``next_x[e, x, j] = j``;
    * ``rewards[e, x, j, 0] = u(y(k_x, z_e) - k_j)`` for the feasible ``j``: those with
      ``c > 0``, a prefix of the ascending grid of length ``n_feasible[e, x, 0]``;
      infeasible entries repeat the last feasible reward (finite, never chosen);
    * ``outcomes`` = consumption (same filling), ``outcome_name = "consumption"``;
    * ``action_values = (k_grid,)``, ``x_values = {"k": k_grid}``,
      ``exo_values = {"z": z levels}``, ``discount = beta``, ``exo_transition = P``;
    * ``x_initial``: point mass on the grid point nearest the steady state (first on
      ties), ``exo_initial``: the chain's stationary distribution.

    Raises ValueError when even ``k' = k_grid[0]`` leaves no positive consumption somewhere.

    >>> m = brock_mirman_calibration()
    >>> fm = growth_finite_model(m, np.linspace(0.05, 0.4, 8))
    >>> fm.n_states, fm.n_joint, int(fm.n_feasible[0, 0, 0])
    (40, 8, 6)
    """
    g = check_grid(k_grid)
    zv = model.z_values
    y = model.cash_on_hand(g[None, :], zv[:, None])  # (n_z, n)
    c = y[:, :, None] - g[None, None, :]  # (n_z, n, n)
    nfeas = (c > 0).sum(axis=2)
    if np.any(nfeas < 1):
        raise ValueError("k_grid[0] leaves no positive consumption at some (k, z): lower it")
    last = np.take_along_axis(c, (nfeas - 1)[:, :, None], axis=2)
    c = np.where(c > 0, c, last)
    n_z, n = nfeas.shape
    x0 = np.zeros(n)
    x0[int(np.argmin(np.abs(g - model.steady_state()[0])))] = 1.0
    return FiniteModel(agents=("planner",), n_actions=[n], rewards=model.utility(c)[..., None],
                       next_x=np.broadcast_to(np.arange(n), (n_z, n, n)), discount=model.beta,
                       exo_transition=model.P, exo_initial=model.z.stationary(), x_initial=x0,
                       n_feasible=nfeas[..., None], outcomes=c[..., None],
                       outcome_name="consumption", action_values=(g,), x_values={"k": g},
                       exo_values={"z": zv})
