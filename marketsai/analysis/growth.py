"""Accuracy of tabular policies of a growth planner, next to the accuracy floor of their grid.

Why: a tabular Q-learner on a ``(k, z)`` grid can at best find the dynamic-programming
(DP) policy of that grid, which is itself only an approximation of the continuous
optimum. To say how good a learned table is, it must be put on the same scales as the
grid's DP policy (the *floor* of the grid) and the continuous reference (the Brock--Mirman
closed form when ``delta = gamma = 1``, otherwise the endogenous grid method on a fine
grid). This module does that for the greedy policies of many sessions at once.

* :func:`growth_model_of` -- the :class:`~marketsai.solvers.growth.GrowthModel` with exactly
  the parameters of a planner economy (alpha, delta, gamma from the planner, beta from the
  discount, the TFP chain from the economy's own exogenous chain, state for state);
* :func:`reference_savings` -- the continuous reference policy;
* :func:`grid_savings` -- a greedy table read as a savings rule (linear in ``k``, as
  :func:`~marketsai.solvers.growth.tabulated_savings`);
* :func:`grid_ergodic_distribution` -- where the economy lives on the grid under a policy;
* :class:`GrowthAccuracy` -- per-session measures (:meth:`GrowthAccuracy.columns`) and the
  floor (:attr:`GrowthAccuracy.floor`).

Measures (:meth:`GrowthAccuracy.measures`; see :mod:`marketsai.analysis.euler`):
``euler_mean``, ``euler_max`` (log10, on the box ``(0.8, 1.2) k_ss`` within the grid,
1000 points times every z), ``euler_ergodic_mean``, ``euler_ergodic_max`` (on a path
simulated under the policy itself), ``policy_err_max``, ``policy_err_mean`` (``|k'/k'_ref - 1|``
on the reference's simulated ergodic set), ``welfare_loss_pct`` (consumption-equivalent
loss against the reference, ex ante at ``k_ss``, both evaluated on 2000 log-spaced points
spanning the capital grid). A table that leaves ``c <= 0`` somewhere scores ``+inf``. Comparisons with DP on the same grid:
``dp_agreement`` (share of all states whose greedy action is the DP action, the runner's
column of that name), ``dp_agreement_ergodic`` (the same share weighted by the DP policy's
stationary distribution on the grid), ``dp_within_one`` (share of all states within one
grid step of the DP action).
"""

from __future__ import annotations

import functools
import json

import numpy as np

from marketsai.analysis.euler import (
    ergodic_euler_stats,
    euler_error_stats,
    simulate_path,
    welfare_loss,
)

__all__ = ["GrowthAccuracy", "growth_model_of", "reference_savings", "grid_savings",
           "grid_ergodic_distribution", "growth_accuracy", "growth_summary", "MEASURES",
           "COLUMNS"]

#: per-policy measures, in the order of the result columns
MEASURES = ("euler_mean", "euler_max", "euler_ergodic_mean", "euler_ergodic_max",
            "policy_err_max", "policy_err_mean", "welfare_loss_pct")
#: every column :meth:`GrowthAccuracy.columns` returns
COLUMNS = MEASURES + ("dp_agreement", "dp_agreement_ergodic", "dp_within_one")


def growth_model_of(econ):
    """The :class:`~marketsai.solvers.growth.GrowthModel` of a one-planner economy.

    Its TFP chain is the economy's exogenous chain (``econ.exo_chain``) with the planner's
    productivity field as ``z``: state ``e`` of the economy's finite model is state ``e``
    of the model, so tables index both the same way. ``productivity: null`` gives
    ``z = 1`` in every state.

    >>> from marketsai.economy import load_economy
    >>> m = growth_model_of(load_economy("economies/brock_mirman.yaml"))
    >>> m.alpha, m.beta, m.delta, m.gamma, m.z.n_states
    (0.36, 0.95, 1.0, 1.0, 5)
    """
    from marketsai.errors import SpecError
    from marketsai.processes import MarkovChain
    from marketsai.solvers.growth import GrowthModel

    types = [a.type for a in econ.spec.agents]
    if types != ["planner"] or econ.markets:
        raise SpecError("growth measures need an economy of exactly one planner and no markets",
                        path="economy.agents", value=types, allowed="[planner]")
    p = econ.entries[0].kind.p
    chain = econ.exo_chain
    field = p["productivity"]
    z = np.ones(chain.n_states) if field is None else np.asarray(chain.value(field), np.float64)
    try:
        zc = MarkovChain(z, chain.P, p0=chain.p0, fields=("z",))
        return GrowthModel(alpha=p["alpha"], beta=econ.discount, delta=p["delta"],
                           gamma=p["gamma"], z=zc)
    except ValueError as exc:  # e.g. delta = 0 (a valid planner, not a growth model)
        raise SpecError(f"the planner is not a growth model the measures can solve: {exc}",
                        path="economy.agents[0].params", value=dict(p),
                        allowed="0 < delta <= 1, positive productivity") from None


def reference_savings(model, k_grid=None, points: int = 1000):
    """``(savings, name)``: the closed form if ``delta = gamma = 1``, else EGM.

    EGM runs on ``points`` equally spaced capital stocks covering ``(0.5, 1.5) k_ss`` and
    ``k_grid`` (docs/solvers.md: mean log10 Euler error -7.8 on the RBC box at 1000 points).

    >>> from marketsai.solvers.growth import brock_mirman_calibration
    >>> f, name = reference_savings(brock_mirman_calibration())
    >>> name, round(float(f(np.array([1.0]), np.array([2]))[0]), 6)
    ('closed_form', 0.342)
    """
    from marketsai.solvers.growth import brock_mirman_policy, solve_egm

    if model.delta == 1.0 and model.gamma == 1.0:
        zv = model.z_values
        return (lambda k, iz: brock_mirman_policy(model, k, zv[np.asarray(iz)])), "closed_form"
    k_ss = model.steady_state()[0]
    lo, hi = 0.5 * k_ss, 1.5 * k_ss
    if k_grid is not None:
        lo, hi = min(lo, float(np.min(k_grid))), max(hi, float(np.max(k_grid)))
    return solve_egm(model, np.linspace(lo, hi, int(points))).savings, "egm"


def grid_savings(model, fm, policy):
    """A greedy table ``policy`` (``(n_states,)`` action indices, ``s = e * n_x + x``) as a
    savings rule ``k'(k, iz)``, linear in ``k`` between grid points (constant beyond)."""
    from marketsai.solvers.growth import tabulated_savings

    g = np.asarray(fm.x_values["k"])
    kp = np.asarray(fm.action_values[0])[np.asarray(policy).reshape(fm.n_exo, fm.n_x)]
    return tabulated_savings(model, g, kp)


def grid_ergodic_distribution(fm, policy, tol: float = 1e-13, max_iter: int = 200_000):
    """Stationary distribution ``(n_states,)`` of the grid chain under ``policy``, reached
    from the model's initial law (``exo_initial x x_initial``).

    >>> from marketsai.solvers.growth import brock_mirman_calibration, growth_finite_model
    >>> fm = growth_finite_model(brock_mirman_calibration(n_z=2), np.linspace(0.1, 0.3, 3))
    >>> grid_ergodic_distribution(fm, np.ones(fm.n_states, int)).reshape(2, 3)[:, 1].tolist()
    [0.5, 0.5]
    """
    pol = np.asarray(policy, np.int64).reshape(fm.n_exo, fm.n_x)
    nxt = np.take_along_axis(np.asarray(fm.next_x), pol[:, :, None], axis=2)[:, :, 0]
    P = np.asarray(fm.exo_transition)
    d = np.outer(fm.exo_initial, fm.x_initial)
    for _ in range(int(max_iter)):  # the lazy chain (I + T) / 2: same law, never periodic
        new = 0.5 * d
        for e in range(fm.n_exo):  # mass at (e, x) moves to (e', nxt[e, x])
            np.add.at(new, (slice(None), nxt[e]), 0.5 * np.outer(P[e], d[e]))
        if np.abs(new - d).max() < tol:
            return new.ravel()
        d = new
    return d.ravel()


class GrowthAccuracy:
    """Measures of tabular growth policies on one planner economy's grid.

    Built once per economy (it solves DP on the grid and the continuous reference, and
    simulates the reference's ergodic set once); :meth:`columns` then scores many
    sessions' greedy tables.

    Parameters
    ----------
    model : GrowthModel -- exactly the economy's parameters (:func:`growth_model_of`).
    fm : the economy's single-agent FiniteModel (``econ.finite_model()``).
    T, burn, seed : the simulated paths of the ergodic measures.

    Attributes
    ----------
    dp_policy : (n_states,) the DP (value iteration) policy, ties to the lowest index.
    floor : dict -- :meth:`measures` of the DP policy (the grid's accuracy floor), plus
        ``reference`` (``closed_form`` or ``egm``) and ``grid_points``.

    Examples
    --------
    >>> from marketsai.economy import Economy
    >>> from marketsai.yamlio import read_yaml
    >>> data = read_yaml("economies/brock_mirman.yaml")
    >>> data["agents"][0]["state"]["k"]["points"] = 11
    >>> econ = Economy.from_dict(data)
    >>> acc = GrowthAccuracy(growth_model_of(econ), econ.finite_model(), T=2000, burn=200)
    >>> cols = acc.columns(acc.dp_policy[None, None, :])
    >>> float(cols["dp_agreement"][0]), bool(cols["euler_max"][0] == acc.floor["euler_max"])
    (1.0, True)
    """

    def __init__(self, model, fm, T: int = 10_000, burn: int = 1000, seed: int = 0):
        from marketsai.solvers.dp import value_iteration

        if fm.n_agents != 1 or "k" not in fm.x_values:
            raise ValueError("GrowthAccuracy needs a single-agent planner FiniteModel")
        zv = np.asarray(fm.exo_values.get("z", np.ones(fm.n_exo)))
        if zv.shape != model.z_values.shape or not np.allclose(zv, model.z_values, rtol=1e-12) \
                or not np.allclose(fm.exo_transition, model.P, rtol=0, atol=1e-14) \
                or fm.discount != model.beta:
            raise ValueError("the GrowthModel does not match the FiniteModel (z, P or beta)")
        self.model, self.fm = model, fm
        self.T, self.burn, self.seed = int(T), int(burn), int(seed)
        g = np.asarray(fm.x_values["k"])
        k_ss = model.steady_state()[0]
        self.k_range = (max(0.8 * k_ss, g[0]), min(1.2 * k_ss, g[-1]))
        # a table maps its grid into itself, so lifetime utility is evaluated there (below
        # the grid a table's k' may exceed cash on hand); the reference is clamped to it
        self.welfare_grid = np.geomspace(g[0], g[-1], 2000)
        self.reference, self.reference_name = reference_savings(model, g)
        k, iz = simulate_path(model, self.reference, self.T + self.burn,
                              np.random.default_rng(self.seed))
        self._ref_k, self._ref_iz = k[self.burn:], iz[self.burn:]
        self._ref_kp = np.asarray(self.reference(self._ref_k, self._ref_iz))
        self.dp_policy = np.asarray(value_iteration(fm).policy, np.int64)
        self.dp_weights = grid_ergodic_distribution(fm, self.dp_policy)
        self.floor = {**self.measures(self.dp_policy), "reference": self.reference_name,
                      "grid_points": int(fm.n_x)}

    def measures(self, policy) -> dict:
        """The :data:`MEASURES` of one greedy table (``(n_states,)`` action indices)."""
        f = grid_savings(self.model, self.fm, policy)
        box = euler_error_stats(self.model, f, k_range=self.k_range)
        erg = ergodic_euler_stats(self.model, f, T=self.T, burn=self.burn, seed=self.seed)
        rel = np.abs(np.asarray(f(self._ref_k, self._ref_iz)) / self._ref_kp - 1.0)
        try:
            loss = welfare_loss(self.model, f, self.reference, k_grid=self.welfare_grid)
        except ValueError:  # the table leaves c <= 0 or drives k to 0 / infinity
            loss = np.inf
        return {"euler_mean": box["mean"], "euler_max": box["max"],
                "euler_ergodic_mean": erg["mean"], "euler_ergodic_max": erg["max"],
                "policy_err_max": float(rel.max()), "policy_err_mean": float(rel.mean()),
                "welfare_loss_pct": float(loss)}

    def curves(self, strategies, sessions):
        """The ``growth_curves`` table (:mod:`marketsai.analysis.growth_figures`) of greedy
        tables ``(S, 1, n_states)`` on the reference's ergodic set, with ``session``."""
        import pandas as pd

        from marketsai.analysis.growth_figures import growth_curves

        k_range = float(self._ref_k.min()), float(self._ref_k.max())
        greedy = np.asarray(strategies, np.int64)[:, 0, :]
        frames = [growth_curves(self.model, grid_savings(self.model, self.fm, pol), self.reference,
                                k_range).assign(session=s)
                  for s, pol in zip(np.asarray(sessions, np.int64), greedy, strict=True)]
        frame = pd.concat(frames, ignore_index=True)
        return frame[["session", *frame.columns.drop("session")]]

    def policy_table(self, strategies, sessions):
        """The greedy tables as a long frame: ``session, e, x, z, k, action, kp`` (one row
        per session and state), so that figures can be drawn from a run folder."""
        import pandas as pd

        greedy = np.asarray(strategies, np.int64)[:, 0, :]
        fm = self.fm
        e, x = np.divmod(np.arange(fm.n_states), fm.n_x)
        S = greedy.shape[0]
        return pd.DataFrame({
            "session": np.repeat(np.asarray(sessions, np.int64), fm.n_states),
            "e": np.tile(e, S), "x": np.tile(x, S),
            "z": np.tile(self.model.z_values[e], S), "k": np.tile(fm.x_values["k"][x], S),
            "action": greedy.ravel(), "kp": np.asarray(fm.action_values[0])[greedy.ravel()]})

    def columns(self, strategies) -> dict[str, np.ndarray]:
        """Result columns for tabular strategies ``(S, 1, n_states)``: :data:`MEASURES`,
        ``dp_agreement``, ``dp_agreement_ergodic``, ``dp_within_one``."""
        greedy = np.asarray(strategies, np.int64)[:, 0, :]
        rows = [self.measures(pol) for pol in greedy]
        out = {name: np.array([r[name] for r in rows], np.float64) for name in MEASURES}
        same = greedy == self.dp_policy[None, :]
        out["dp_agreement"] = same.mean(axis=1)
        out["dp_agreement_ergodic"] = (same * self.dp_weights).sum(axis=1)  # row by row:
        # the same number whatever the batch (a matrix product may round differently)
        out["dp_within_one"] = (np.abs(greedy - self.dp_policy[None, :]) <= 1).mean(axis=1)
        return out


@functools.lru_cache(maxsize=8)
def _accuracy(economy_json: str) -> GrowthAccuracy:
    from marketsai.economy import Economy

    econ = Economy.from_dict(json.loads(economy_json))
    return GrowthAccuracy(growth_model_of(econ), econ.finite_model())


def growth_accuracy(economy: dict) -> GrowthAccuracy:
    """:class:`GrowthAccuracy` of an economy mapping (a resolved ``cfg["economy"]``), with
    the default paths; cached per process, so the chunks and the summary of a run share it."""
    return _accuracy(json.dumps(economy, sort_keys=True))


def growth_summary(results, economy: dict) -> dict:
    """Summary entries of the growth columns of a results table: per column the mean and
    median over sessions (``<col>_mean``, ``<col>_median``; non-finite values -- a table
    that leaves ``c <= 0`` somewhere -- make the mean infinite and are counted in
    ``growth_nonfinite``), and the grid's floor as ``floor_<measure>``."""
    out: dict = {}
    bad = np.zeros(len(results), dtype=bool)
    for col in COLUMNS:
        if col not in results:
            continue
        v = np.asarray(results[col], np.float64)
        bad |= ~np.isfinite(v)
        out[f"{col}_mean"] = float(np.mean(v)) if len(v) else None
        out[f"{col}_median"] = float(np.median(v)) if len(v) else None
    out["growth_nonfinite"] = int(bad.sum())
    acc = growth_accuracy(economy)
    out |= {f"floor_{k}": v for k, v in acc.floor.items()}
    return out
