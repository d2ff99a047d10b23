"""Accuracy of any policy of the d-sector growth planner against its exact solution.

Why: the dimension study (docs/dimension.md) compares tabular Q-learning, value iteration
on a grid and deep learners at every number of sectors ``d``; they are only comparable on
one scale, and :class:`~marketsai.solvers.sectors.SectorModel` knows the exact answer
(``k_j' = beta alpha_j y`` in every state). This module scores a *rule*
``policy(k (n, d), iz (n,)) -> k' (n, d)`` however it was obtained:

* :func:`grid_policy` -- a greedy table of the economy's finite model (joint actions,
  ``s = e * n_x + x``) as a rule, multilinear in ``k`` between grid points (constant
  beyond), the table's own projection of unaffordable choices included (``next_x``);
* :func:`share_policy` -- ``act(obs) -> shares (n, d)`` (a network) as a rule, through the
  economy's own observations of hand-built states and its budget (clip to the interval,
  scale sums above ``total`` down onto it, as the environment does);
* :func:`exact_policy` -- the closed form as a rule (scores zero);
* :class:`SectorsEvaluation` -- the registered ``sectors`` evaluation: a table policy is
  read by :func:`grid_policy`, any other by :func:`share_policy`; with ``floor: true`` it
  also scores value iteration on the economy's finite model (the grid's accuracy floor,
  the best any table on that grid can do) beside the policy;
* :func:`sector_report` -- the measures (:data:`KEYS`): relative error of ``k_j'``
  against ``beta alpha_j y`` on the exact policy's simulated ergodic set and on a box of
  states around the steady state (off the ergodic set, which is one-dimensional: with
  one productivity process every stock moves with output); unit-free Euler errors
  (log10) on both; and the consumption-equivalent welfare loss, by simulation with
  common shocks against the exact policy.

>>> from marketsai.solvers.sectors import SectorModel
>>> m = SectorModel(alphas=(0.18, 0.18), beta=0.95)
>>> r = sector_report(m, exact_policy(m), T=500, burn=50, box_points=200, welfare_paths=20)
>>> r["err_max"], r["box_err_max"], r["welfare_loss_pct"]
(0.0, 0.0, 0.0)
>>> r = sector_report(m, lambda k, iz: 1.05 * exact_policy(m)(k, iz), T=500, burn=50,
...                   box_points=200, welfare_paths=20)
>>> round(r["err_max"], 6), r["welfare_loss_pct"] > 0
(0.05, True)
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from marketsai.analysis.evaluation import Evaluation, evaluations, simulation_settings
from marketsai.analysis.simulate import as_policy, decision_values, observe_at
from marketsai.errors import SpecError
from marketsai.params import Param, int_range, one_of

__all__ = ["KEYS", "SectorsEvaluation", "exact_policy", "grid_policy", "share_policy", "sector_observations",
           "sector_report", "ergodic_states"]

#: the entries of :func:`sector_report`, in table order
KEYS = ("err_max", "err_mean", "box_err_max", "box_err_mean", "euler_mean", "euler_max",
        "box_euler_mean", "box_euler_max", "welfare_loss_pct")


def exact_policy(model):
    """The closed form ``k_j' = beta alpha_j y`` as a rule ``(k, iz) -> k'``."""
    return lambda k, iz: model.policy(k, model.z_values[np.asarray(iz)])[0]


def grid_policy(fm, policy):
    """A greedy table of a sector planner's finite model as a rule ``(k (n, d), iz) -> k'``.

    ``policy`` holds ``(n_exo * n_x,)`` joint action indices (``s = e * n_x + x``). At a
    grid node the rule is the capital the action really reaches (``fm.next_x``: an
    unaffordable choice does what its projection does); between nodes each ``k_j'`` is
    multilinear in ``k`` (``2^d`` corners), beyond the grids it is the nearest edge's.

    >>> import marketsai as mai
    >>> from marketsai.yamlio import read_yaml
    >>> data = read_yaml("economies/sectors_2_grid.yaml")
    >>> data["agents"][0]["state"]["k"]["points"] = 3
    >>> fm = mai.Economy.from_dict(data).finite_model()
    >>> f = grid_policy(fm, np.full(fm.n_states, 4))    # joint action 4: middle of both grids
    >>> k = np.stack([fm.x_values["k1"], fm.x_values["k2"]], axis=-1)
    >>> bool(np.allclose(f(k[[0, 8]], [0, 4]), k[4]))
    True
    """
    fields = sorted(fm.x_values, key=lambda f: int(f[1:]))
    d = len(fields)
    kx = np.stack([np.asarray(fm.x_values[f], np.float64) for f in fields], axis=-1)  # (n_x, d)
    grids = [np.unique(kx[:, j]) for j in range(d)]
    shape = tuple(len(g) for g in grids)
    if int(np.prod(shape)) != fm.n_x:
        raise ValueError("grid_policy needs the row-major product of the stocks' grids as the state")
    pol = np.asarray(policy, np.int64).reshape(fm.n_exo, fm.n_x)
    nxt = np.broadcast_to(np.asarray(fm.next_x), (fm.n_exo, fm.n_x, fm.n_joint))
    reached = np.take_along_axis(nxt, pol[:, :, None], axis=2)[:, :, 0]  # (n_exo, n_x)
    table = kx[reached].reshape((fm.n_exo,) + shape + (d,))  # k' at every node

    def rule(k, iz):
        k = np.atleast_2d(np.asarray(k, np.float64))
        iz = np.broadcast_to(np.asarray(iz, np.int64), k.shape[:1])
        lo, w = [], []
        for j, g in enumerate(grids):
            x = np.clip(k[:, j], g[0], g[-1])
            i = np.clip(np.searchsorted(g, x, side="right") - 1, 0, len(g) - 2)
            lo.append(i)
            w.append((x - g[i]) / (g[i + 1] - g[i]))
        out = np.zeros(k.shape)
        for corner in itertools.product((0, 1), repeat=d):
            weight = np.ones(len(k))
            idx = [iz]
            for j, c in enumerate(corner):
                weight = weight * (w[j] if c else 1.0 - w[j])
                idx.append(lo[j] + c)
            out += weight[:, None] * table[tuple(idx)]
        return out
    return rule


def sector_observations(econ, k, iz) -> np.ndarray:
    """``(n, dim)`` float32: what the planner observes at capital ``k (n, d)``, state ``iz``.

    A fresh initial state with its capital fields and exogenous index replaced, observed
    by ``econ.observe`` (the economy's own scaling, as in training).
    """
    ent = econ.entries[0]
    k = np.atleast_2d(np.asarray(k, np.float64))
    iz = np.broadcast_to(np.asarray(iz, np.int64), k.shape[:1])
    fields = {f"{ent.name}.{f}": k[:, j] for j, f in enumerate(ent.kind.fields)}
    return observe_at(econ, fields, iz)[econ.agents[0]]


def share_policy(econ, act, model=None):
    """A savings-shares policy (a :class:`~marketsai.policies.Policy`, or ``act(obs) -> (n, d)``
    actions) as a rule ``(k, iz) -> k'``.

    Actions are read as the environments read them (:func:`~marketsai.analysis.simulate.decision_values`):
    shares clipped to ``[low, high]``, or, with ``kind: grid``, indices into the share grid
    (a DQN's); a sum above ``total`` is scaled down onto it, as the planner's budget does
    in the simulation.
    """
    from marketsai.solvers.sectors import sector_model

    model = sector_model(econ) if model is None else model
    a = econ.entries[0].kind.action
    policy = as_policy(econ, act)

    def rule(k, iz):
        k = np.atleast_2d(np.asarray(k, np.float64))
        iz = np.broadcast_to(np.asarray(iz, np.int64), k.shape[:1])
        obs = sector_observations(econ, k, iz)
        s = decision_values(econ, {econ.agents[0]: policy.act(econ.agents[0], obs)}, len(k))
        tot = s.sum(axis=1, keepdims=True)
        s = np.where(tot > a["total"], s * a["total"] / tot, s)
        return s * model.output(k, model.z_values[iz])[:, None]
    return rule


def ergodic_states(model, T: int = 10_000, burn: int = 1000, seed: int = 0):
    """``(k (T, d), iz (T,))``: the exact policy's path after ``burn`` periods from the steady state."""
    k, _, _, iz = model.simulate(model.steady_state()[0], T + burn, np.random.default_rng(seed))
    return k[burn:-1], iz[burn:]


def _euler(model, rule, k, iz):
    """log10 of the mean and of the largest ``|1 - beta E[(c/c') alpha_j y'/k_j']|`` (all stocks)."""
    def pol(kk, z):  # SectorModel's policy(k, z levels) -> (k', c)
        shape = kk.shape
        kk = kk.reshape(-1, model.d)
        izz = np.abs(np.asarray(z, np.float64).reshape(-1, 1) - model.z_values[None, :]).argmin(axis=1)
        kp = rule(kk, np.broadcast_to(izz, kk.shape[:1]))
        c = model.output(kk, model.z_values[izz]) - kp.sum(axis=1)
        return kp.reshape(shape), np.maximum(c, 1e-300).reshape(shape[:-1])
    r = np.abs(model.euler_residuals(k, iz, policy=pol))
    with np.errstate(divide="ignore"):
        return float(np.log10(r.mean())), float(np.log10(r.max()))


def _welfare_loss(model, rule, paths: int, T: int, seed: int) -> float:
    """Consumption-equivalent loss (%) of ``rule`` against the exact policy: ``paths``
    simulations of ``T`` periods from the steady state, ``z`` drawn from its stationary
    law, the same shocks for both; ``inf`` where the rule leaves ``c <= 0``."""
    nz = len(model.z_values)
    w, v = np.linalg.eig(model.P.T)
    pi = np.abs(np.real(v[:, np.argmin(np.abs(w - 1.0))]))
    pi /= pi.sum()
    rng = np.random.default_rng(seed)
    iz0 = np.minimum(np.searchsorted(np.cumsum(pi), rng.random(paths), side="right"), nz - 1)
    u = rng.random((T, paths))
    cum = np.cumsum(model.P, axis=1)
    exact = exact_policy(model)

    def lifetime(f):
        k = np.tile(model.steady_state()[0], (paths, 1))
        iz = iz0.copy()
        total = np.zeros(paths)
        for t in range(T):
            y = model.output(k, model.z_values[iz])
            kp = f(k, iz)
            c = y - kp.sum(axis=1)
            if np.any(c <= 0) or not np.all(np.isfinite(kp)) or np.any(kp <= 0):
                return None
            total += model.beta ** t * np.log(c)
            k = kp
            iz = np.minimum((u[t][:, None] > cum[iz]).sum(axis=1), nz - 1)
        return total.mean()
    w_ex, w_pol = lifetime(exact), lifetime(rule)
    if w_pol is None:
        return float("inf")
    # the same utility loss every period: (1 - beta^T) / (1 - beta) ln(1 - loss) = w_pol - w_ex
    scale = (1.0 - model.beta ** T) / (1.0 - model.beta)
    return float(100.0 * (1.0 - np.exp((w_pol - w_ex) / scale)))


def sector_report(model, rule, *, T: int = 10_000, burn: int = 1000, seed: int = 0,
                  box=(0.8, 1.2), box_points: int = 2000, welfare_paths: int = 200,
                  welfare_T: int = 300) -> dict:
    """The measures (:data:`KEYS`) of a rule ``(k (n, d), iz (n,)) -> k' (n, d)``.

    * ``err_max``, ``err_mean``: ``|k_j' / (beta alpha_j y) - 1|`` over every stock and
      every state of the exact policy's ergodic path (``T`` periods after ``burn``);
    * ``box_err_*``: the same on ``box_points`` states drawn uniformly from ``box`` times
      each stock's steady state, and uniformly over the productivity states (seed ``seed``);
    * ``euler_*``, ``box_euler_*``: log10 of the mean and of the largest unit-free Euler
      residual ``|1 - beta E[(c/c') alpha_j y'/k_j']|`` on those states (closed form: rounding);
    * ``welfare_loss_pct``: consumption-equivalent loss, :func:`_welfare_loss`.
    """
    k, iz = ergodic_states(model, T, burn, seed)
    rng = np.random.default_rng(seed)
    kss = model.steady_state()[0]
    kb = kss * rng.uniform(box[0], box[1], size=(box_points, model.d))
    izb = rng.integers(0, len(model.z_values), size=box_points)
    out = {}
    for name, (kk, ii) in (("", (k, iz)), ("box_", (kb, izb))):
        ref = exact_policy(model)(kk, ii)
        rel = np.abs(rule(kk, ii) / ref - 1.0)
        out[f"{name}err_max"], out[f"{name}err_mean"] = float(rel.max()), float(rel.mean())
        out[f"{name}euler_mean"], out[f"{name}euler_max"] = _euler(model, rule, kk, ii)
    out["welfare_loss_pct"] = _welfare_loss(model, rule, welfare_paths, welfare_T, seed)
    return {key: out[key] for key in KEYS}


@evaluations.register("sectors")
class SectorsEvaluation(Evaluation):
    """Any policy of the d-sector planner against its exact solution (module docstring)."""

    settings = {
        **simulation_settings(10_000, 1000),
        "box_points": Param(2000, int_range(1, 10_000_000), "states drawn around the steady state"),
        "welfare_paths": Param(200, int_range(1, 1_000_000), "simulated paths of the welfare loss"),
        "floor": Param(False, one_of(True, False), "also score value iteration on the economy's "
                       "finite model (the grid's floor): floor_<column>, dp_agreement"),
    }
    columns = {**{k: "see sector_report" for k in KEYS},
               **{f"floor_{k}": "(floor: true) the same of value iteration on the finite model" for k in KEYS},
               "dp_agreement": "(floor: true, a table policy) share of states where it takes the DP action"}

    def check(self, economy) -> None:
        from marketsai.solvers.sectors import sector_model
        try:
            sector_model(economy)
        except ValueError as exc:
            raise SpecError(f"the sectors evaluation needs a d-sector planner economy ({exc})",
                            path="economy.agents") from None

    def evaluate(self, economy, policy, settings, seed=0):
        from marketsai.solvers.sectors import sector_model

        model = sector_model(economy)
        table = policy.strategies()
        fm = economy.finite_model() if table is not None or settings["floor"] else None
        rule = share_policy(economy, policy, model) if table is None \
            else grid_policy(fm, np.asarray(table)[0])

        def report(rule):
            return sector_report(model, rule, T=settings["periods"], burn=settings["burn"], seed=seed,
                                 box_points=settings["box_points"], welfare_paths=settings["welfare_paths"])
        row = report(rule)
        if settings["floor"]:
            from marketsai.solvers.dp import value_iteration

            dp = np.asarray(value_iteration(fm).policy)
            row |= {f"floor_{k}": v for k, v in report(grid_policy(fm, dp)).items()}
            if table is not None:
                row["dp_agreement"] = float(np.mean(np.asarray(table)[0] == dp))
        return {"results": pd.DataFrame([row])}

    def summarise(self, tables, settings):
        """Its numeric columns (a learner's own columns, such as a checkpoint path, are not its)."""
        return {c: float(v) for c, v in tables["results"].select_dtypes("number").iloc[0].items()}

