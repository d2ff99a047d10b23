"""The ``krusell_smith`` evaluation: the statistics the reference solver reports, of any policy.

A policy is any :class:`~marketsai.policies.Policy` (or one ``act(obs) -> shares`` shared
by the households: a trained module, or the reference policy through
:func:`reference_actor`), run in the economy file's own step (the one simulator,
:func:`marketsai.analysis.simulate.simulate`, N households, one session), so what is
scored is the RL economy itself: finite N, employment drawn per household, prices cleared
by the markets. Reported, like :class:`~marketsai.solvers.krusell_smith.KrusellSmithSolution`:

* aggregate capital's mean and standard deviation on the simulated path;
* the law of motion ``ln K' = b0(z) + b1(z) ln K`` estimated on that path, its R^2, and its
  Den Haan (2010) error on the same path (in-sample, percent);
* the wealth distribution of the pooled cross-sections (quantiles, Gini, top shares);
* individual Euler errors, ``log10 |1 - c_implied / c|`` with
  ``c_implied = (beta E[(1 + r' - delta) c'^-gamma])^(-1/gamma)``: the expectation over the
  household's four next ``(z', e')`` states, next period's ``K'`` the mean of this period's
  savings, prices ``r', w'`` at ``K'`` and the unemployment rate ``u(z')`` (what KS
  households believe), and ``c'`` from the same policy at the next observation.
  Households whose share sits on an action bound are left out (there the Euler equation
  is an inequality); their fraction is reported.

Flags of the ways a learned rule has been seen to fail (issue #22; settings say how
they are read, :class:`Diagnostics`):

* a non-monotone savings rule: ``k'`` on a grid of own capital for each ``(z, e)`` at the
  path's mean ``K`` (table ``savings_rule``), the share of grid steps where ``k'`` falls
  as ``k`` rises and the ``k`` range where it does (``savings_monotone``);
* mass at the action bounds (``share_at_low``, ``share_at_high``, ``bounds_clear``) and a
  pile-up detector: the largest share of a cross-section inside any narrow interval of
  capital (``pile_max_share``, where: ``pile_k``);
* with ``reference: true``, every statistic against the reference policy's economy at the
  same N, seed and shocks (``<stat>_ref``, ``<stat>_relerr``), ``no_pile_up``, and the
  issue's goals as ``goal_*`` booleans (:data:`GOALS`).
"""

from __future__ import annotations

import dataclasses
import functools
import json

import numpy as np
import pandas as pd

from marketsai.analysis.evaluation import Evaluation, evaluations, simulation_settings
from marketsai.analysis.simulate import agent_columns, as_policy, simulate
from marketsai.errors import SpecError
from marketsai.params import Check, Param, int_range, one_of, positive, unit_open
from marketsai.solvers.krusell_smith import (
    KrusellSmithModel,
    alm_regression,
    den_haan_error,
    solve_krusell_smith,
)


def chain_index(chain) -> np.ndarray:
    """``index[iz, ie]``: the joint chain state of aggregate state ``iz`` and employment ``ie``."""
    z, e = chain.value("z"), chain.value("e")
    zs = np.unique(z)
    out = np.empty((2, 2), dtype=np.intp)
    for s in range(chain.n_states):
        out[int(np.searchsorted(zs, z[s])), int(e[s] > 0.5)] = s
    return out


def parts(econ):
    """(household entry name, per-agent process name, its chain, sorted z values)."""
    ent = next(e for e in econ.entries if e.kind.state)  # the households own capital
    proc = next(p for p in econ.idiosyncratic)
    return ent.name, proc.name, proc.chain, np.unique(proc.chain.value("z"))


def shares(econ, act):
    """``shares(obs (N, dim)) -> (N,)``: the saved share of every household (one batch)."""
    policy = as_policy(econ, act)

    def f(obs):
        out = policy.act_all({a: obs[i:i + 1] for i, a in enumerate(econ.actors)})
        return np.concatenate([np.asarray(out[a], np.float64).reshape(-1) for a in econ.actors])
    return f


def simulate_economy(econ, act, *, T: int = 3000, burn: int = 500, seed: int = 0, snapshot_every: int = 10) -> dict:
    """Run one session of the economy ``T + burn`` periods under ``act``; keep the last ``T``.

    Returns ``K`` (T + 1,): mean capital at the start of each kept period and after the
    last; ``z`` (T,): the aggregate state index (0 bad); ``share`` (T,): the mean saved
    share; ``snapshots``: every ``snapshot_every`` kept periods ``(state, shares,
    consumption, next state)`` (wealth statistics and Euler errors are computed on them).
    """
    name, proc, chain, zv = parts(econ)
    state = econ.initial_state(np.random.default_rng(seed), 1)
    columns = agent_columns(econ)  # once: it is O(N), and this is a loop over the N actors
    cols = np.concatenate([columns[a][:1] for a in econ.actors])

    def record(t, st, actions, values, rewards, info, nxt):
        if t < burn:
            return {}
        a = values[0, cols]
        out = {"K": float(st.fields[f"{name}.k"].mean()), "share": float(a.mean()),
               "z": int(np.searchsorted(zv, chain.value("z")[st.exo_agent[proc][0, 0]]))}
        if (t - burn) % snapshot_every == 0:
            out["snapshots"] = (st, a.copy(), np.asarray(info[name]["consumption"])[0].copy(), nxt)
        return out
    run = simulate(econ, act, T + burn, state=state, rng=np.random.default_rng(seed + 1), record=record)
    K = np.append(run["K"], float(run["state"].fields[f"{name}.k"].mean()))
    return {"K": K, "z": np.asarray(run["z"], dtype=np.intp), "share": run["share"],
            "snapshots": run.get("snapshots", [])}


def law_of_motion(K: np.ndarray, z: np.ndarray) -> dict:
    """``ln K' = b0(z) + b1(z) ln K`` by OLS on a path, its R^2 and in-sample Den Haan error (%)."""
    b, r2 = alm_regression(np.asarray(K), np.concatenate([z, z[-1:]]), 0)
    dh_mean, dh_max = den_haan_error(b, K[:-1], z)
    return {"b": b, "r2": r2, "den_haan_mean": dh_mean, "den_haan_max": dh_max}


def wealth(samples: np.ndarray) -> dict:
    """Quantiles, Gini and top shares of a sample of capital holdings (the keys of
    :func:`marketsai.solvers.krusell_smith.wealth_stats`)."""
    k = np.sort(np.asarray(samples, dtype=np.float64).ravel())
    n, total = k.size, k.sum()
    gini = float((2.0 * np.arange(1, n + 1) - n - 1) @ k / (n * total))
    qs = {f"p{int(round(100 * q))}": float(np.quantile(k, q)) for q in (0.10, 0.25, 0.50, 0.75, 0.90, 0.99)}
    top = {f"top{int(100 * f)}": float(k[int(np.floor(n * (1 - f))):].sum() / total) for f in (0.01, 0.10)}
    return {"mean": float(k.mean()), **qs, "gini": gini, **top,
            "share_below_1pct_mean": float(np.mean(k < 0.01 * k.mean()))}


def observe_households(econ, state, k_next, j):
    """Observations of every household in the next state with capital ``k_next`` and joint shock ``j``."""
    name, proc, _, _ = parts(econ)
    nxt = dataclasses.replace(state, fields={**state.fields, f"{name}.k": k_next.reshape(1, -1)},
                              exo_agent={**state.exo_agent, proc: np.full_like(state.exo_agent[proc], j)})
    return econ.observer.observe_actors(nxt)[0]


def euler_errors(econ, act, snapshot, model: KrusellSmithModel, bounds: tuple[float, float]) -> tuple:
    """Per-household ``log10`` Euler errors at one snapshot, and the mask of those used
    (share strictly inside the action bounds); see the module docstring."""
    state, saved, c, nxt = snapshot
    act = shares(econ, act)
    name, proc, chain, _ = parts(econ)
    k_next = nxt.fields[f"{name}.k"][0]
    K_next = float(k_next.mean())
    index = chain_index(chain)
    now = state.exo_agent[proc][0][econ.actor_index]  # the households' joint (z, e) states
    expect = np.zeros(k_next.size)
    for iz in range(2):
        r, w = model.prices(K_next, iz)
        for ie in range(2):
            j = index[iz, ie]
            s_next = np.asarray(act(observe_households(econ, nxt, k_next, j)), dtype=np.float64).reshape(-1)
            m_next = (1.0 + r - model.delta) * k_next + model.income(K_next, iz, ie)
            c_next = (1.0 - s_next) * m_next
            expect += chain.P[now, j] * (1.0 + r - model.delta) * c_next ** (-model.gamma)
    implied = (model.beta * expect) ** (-1.0 / model.gamma)
    inside = (saved > bounds[0] + 1e-6) & (saved < bounds[1] - 1e-6)
    return np.log10(np.maximum(np.abs(1.0 - implied / c), 1e-16)), inside


def action_bounds(econ) -> tuple[float, float]:
    """The households' saved-share bounds (the action interval of the file)."""
    dec = econ.decisions[int(agent_columns(econ)[econ.actors[0]][0])]
    return float(dec.low), float(dec.high)


def observation_columns(econ) -> dict[str, tuple[int, float, float]]:
    """``{"k", "e", "z", "K"}`` -> ``(column, scale, offset)`` of own capital, employment,
    ``z`` and mean capital in a household's observation (``obs = raw * scale + offset``)."""
    name = parts(econ)[0]
    cols = {}
    for col, (kind, key, where, sc, of) in enumerate(econ.observer.layout[econ.actor_index[0]]):
        cols[(kind, key if kind != "moment" else (key, where))] = (col, float(sc), float(of))
    return {"k": cols[("state", f"{name}.k")], "e": cols[("exo", "e")], "z": cols[("exo", "z")],
            "K": cols[("moment", (f"{name}.k", "mean"))]}


def observations_at(econ, k, e: float, z: float, K: float) -> np.ndarray:
    """Household observations ``(len(k), dim)`` at own capital ``k`` (an array), employment
    ``e``, aggregate ``z`` and mean capital ``K``, in the economy's own scaling (any other
    observed column as in a fresh initial state)."""
    k = np.asarray(k, dtype=np.float64).ravel()
    template = econ.observer.observe_actors(econ.initial_state(np.random.default_rng(0), 1))[0][0]
    obs = np.tile(template, (k.size, 1)).astype(np.float64)
    for key, raw in (("k", k), ("e", e), ("z", z), ("K", K)):
        col, sc, of = observation_columns(econ)[key]
        obs[:, col] = raw * sc + of
    return obs


def reference_actor(econ, policy):
    """``act(obs)`` of the reference solution (:class:`~marketsai.solvers.krusell_smith.KrusellSmithPolicy`)
    in the economy's observation (own k, e, z, mean k; normalised as the file says), so
    the reference can be run through the same simulation and scoring as a learned policy.
    Rows may come from several sessions at once (a vector environment's): each row is
    priced at its own mean capital."""
    zv = parts(econ)[3]
    cols = observation_columns(econ)
    model = policy.model
    low, high = action_bounds(econ)

    def raw(obs, key):
        col, sc, of = cols[key]
        return (np.asarray(obs)[:, col] - of) / sc

    def act(obs):
        k, e, z, K = raw(obs, "k"), raw(obs, "e"), raw(obs, "z"), raw(obs, "K")
        iz = (np.abs(z[:, None] - zv[None]).argmin(axis=1))
        ie = (e > 0.5).astype(np.intp)
        out = np.empty(k.size)
        for a in range(2):
            for b in range(2):
                cell = (iz == a) & (ie == b)
                for Kv in np.unique(K[cell]):  # one mean capital a session
                    sel = cell & (K == Kv)
                    r, w = model.prices(K[sel], a)
                    m = (1.0 + r - model.delta) * k[sel] + model.income(float(Kv), a, b)
                    out[sel] = policy.savings(k[sel], float(Kv), a, b) / m
        return np.clip(out, low, high)[:, None]
    return act


def savings_rule(econ, act, model: KrusellSmithModel, K: float, *, points: int = 200,
                 k_max: float = 4.0) -> pd.DataFrame:
    """Next-period capital ``k_next`` on ``points`` values of own capital ``k`` in
    ``(0, k_max K]`` for each ``(z, e)`` (0 bad / unemployed), at mean capital ``K``: the
    policy's saved share (clipped to the action bounds, as the economy's step clips it)
    times cash on hand. What a non-monotone rule is read from. The grid starts one step
    above 0 (an unemployed household with nothing has no cash on hand without a benefit)."""
    policy, agent = as_policy(econ, act), econ.actors[0]
    zv, (low, high) = parts(econ)[3], action_bounds(econ)
    k = np.linspace(0.0, k_max * K, points + 1)[1:]
    rows = []
    for iz in range(2):
        r, _ = model.prices(K, iz)
        for ie in range(2):
            obs = observations_at(econ, k, float(ie), float(zv[iz]), K)
            share = np.clip(np.asarray(policy.act(agent, obs), np.float64).reshape(-1), low, high)
            m = (1.0 + r - model.delta) * k + model.income(K, iz, ie)
            rows.append(pd.DataFrame({"z": iz, "e": ie, "k": k, "share": share, "k_next": share * m}))
    return pd.concat(rows, ignore_index=True)


def monotonicity(rule: pd.DataFrame, tol: float) -> dict:
    """Of a :func:`savings_rule`: the share of adjacent grid steps (all four ``(z, e)``
    curves) where ``k_next`` falls by more than ``tol`` as ``k`` rises, and the ``k`` range
    those steps span (NaN when none falls)."""
    falls, steps, lo, hi = 0, 0, np.inf, -np.inf
    for _, g in rule.groupby(["z", "e"], sort=True):
        k, kn = g["k"].to_numpy(), g["k_next"].to_numpy()
        down = np.diff(kn) < -tol
        falls, steps = falls + int(down.sum()), steps + down.size
        if down.any():
            lo, hi = min(lo, float(k[:-1][down].min())), max(hi, float(k[1:][down].max()))
    none = falls == 0
    return {"savings_falling_share": falls / max(steps, 1), "savings_falling_k_low": np.nan if none else lo,
            "savings_falling_k_high": np.nan if none else hi}


def densest_interval(k: np.ndarray, width: float) -> tuple[float, float]:
    """The largest share of a cross-section ``k`` inside any interval of ``width``, and
    where that interval starts (a mass point shows as a share far above a smooth density's)."""
    k = np.sort(np.asarray(k, dtype=np.float64).ravel())
    counts = np.searchsorted(k, k + width, side="right") - np.arange(k.size)
    i = int(np.argmax(counts))
    return float(counts[i] / k.size), float(k[i])


@dataclasses.dataclass(frozen=True)
class Diagnostics:
    """How the failure flags are read (the evaluation's settings of the same names)."""

    rule_points: int = 200      # grid points of the savings rule per (z, e)
    rule_kmax: float = 4.0      # the rule's grid ends at rule_kmax x mean K
    monotone_tol: float = 1e-4  # a step counts as falling when k' drops by more than this x mean K
    bound_tol: float = 1e-3     # a saved share within this of a bound is at the bound
    pile_width: float = 0.05    # the pile-up detector's interval, as a fraction of mean capital


def score(econ, act, model: KrusellSmithModel, *, T: int = 3000, burn: int = 500, seed: int = 0,
          euler_snapshots: int = 20, diagnostics: Diagnostics = Diagnostics()) -> tuple[dict, dict]:
    """One row of the statistics above (:attr:`KrusellSmithEvaluation.columns`) and the
    simulation they were read from (snapshots every ``T // 200`` kept periods; Euler errors
    on ``euler_snapshots`` of them), with the savings rule at the path's mean ``K`` under
    ``sim["rule"]``."""
    sim = simulate_economy(econ, act, T=T, burn=burn, seed=seed, snapshot_every=max(T // 200, 1))
    lm = law_of_motion(sim["K"], sim["z"])
    snaps = sim["snapshots"]
    name = parts(econ)[0]
    cross = [s[3].fields[f"{name}.k"][0] for s in snaps]
    w = wealth(np.concatenate(cross))
    bounds = action_bounds(econ)
    pick = snaps[:: max(len(snaps) // euler_snapshots, 1)][:euler_snapshots]
    errs = [euler_errors(econ, act, s, model, bounds) for s in pick]
    e = np.concatenate([x[0][x[1]] for x in errs])
    saved = np.concatenate([s[1] for s in snaps])
    piles = [densest_interval(k, diagnostics.pile_width * k.mean()) for k in cross]
    K_mean = float(sim["K"].mean())
    sim["rule"] = savings_rule(econ, act, model, K_mean, points=diagnostics.rule_points, k_max=diagnostics.rule_kmax)
    row = {"K_mean": K_mean, "K_sd": float(sim["K"].std()),
           "b0_bad": lm["b"][0, 0], "b1_bad": lm["b"][0, 1], "b0_good": lm["b"][1, 0], "b1_good": lm["b"][1, 1],
           "r2_bad": lm["r2"][0], "r2_good": lm["r2"][1], "den_haan_mean": lm["den_haan_mean"],
           "den_haan_max": lm["den_haan_max"],
           "euler_mean": float(e.mean()) if e.size else float("nan"),
           "euler_max": float(e.max()) if e.size else float("nan"),
           "share_inside_bounds": float(np.mean(np.concatenate([x[1] for x in errs]))),
           "share_mean": float(sim["share"].mean()),
           "share_at_low": float(np.mean(saved <= bounds[0] + diagnostics.bound_tol)),
           "share_at_high": float(np.mean(saved >= bounds[1] - diagnostics.bound_tol)),
           "pile_max_share": float(np.mean([p[0] for p in piles])),
           "pile_k": float(np.median([p[1] for p in piles])),
           **monotonicity(sim["rule"], diagnostics.monotone_tol * K_mean),
           **{f"w_{k}": v for k, v in w.items()}}
    return row, sim


# ------------------------------------------------------------------ against the reference

#: statistics compared with the reference policy's economy at the same N, seed and shocks
#: (``<stat>_ref`` and ``<stat>_relerr`` = stat / reference - 1)
COMPARED = ("K_mean", "K_sd", "b0_bad", "b1_bad", "b0_good", "b1_good", "w_p10", "w_p25", "w_p50", "w_p75",
            "w_p90", "w_p99", "w_gini", "w_top10", "pile_max_share")
#: reported beside the row, without a relative error (a log10 or a share that may be 0)
REFERENCE_ONLY = ("euler_mean", "share_at_low", "share_at_high")

#: issue #22's goals for Krusell-Smith by RL, read against the reference at the same N
GOALS = {
    "goal_K_mean": ("mean K within 1 % of the reference", lambda r: abs(r["K_mean_relerr"]) <= 0.01),
    "goal_K_sd": ("SD of K within 15 %", lambda r: abs(r["K_sd_relerr"]) <= 0.15),
    "goal_slopes": ("both law-of-motion slopes b1 within 0.005",
                    lambda r: max(abs(r["b1_bad"] - r["b1_bad_ref"]), abs(r["b1_good"] - r["b1_good_ref"])) <= 0.005),
    "goal_gini": ("Gini within 0.02", lambda r: abs(r["w_gini"] - r["w_gini_ref"]) <= 0.02),
    "goal_p90": ("90th wealth percentile within 5 %", lambda r: abs(r["w_p90_relerr"]) <= 0.05),
    "goal_p99": ("99th wealth percentile within 5 %", lambda r: abs(r["w_p99_relerr"]) <= 0.05),
    "goal_euler": ("mean log10 Euler error <= -3", lambda r: r["euler_mean"] <= -3.0),
}
#: a pile-up: the densest interval holds more than this many times the reference's share
PILE_RATIO = 2.0

_SOLVED: dict[str, object] = {}
_REFERENCE_ROWS: dict[str, dict] = {}


def reference_solution(model: KrusellSmithModel):
    """The reference solver's solution of ``model`` with the solver's defaults (the
    published reference), solved once per process: every seed and panel of a run compares
    against the same one."""
    key = repr(model)
    if key not in _SOLVED:
        _SOLVED[key] = solve_krusell_smith(model)
    return _SOLVED[key]


def reference_row(econ, model: KrusellSmithModel, **opts) -> dict:
    """:func:`score` of the reference policy in ``econ`` (same N, seed and shocks as the
    row it is compared with); remembered per economy and options (the untrained baseline
    and every panel of a run reuse it)."""
    key = json.dumps([econ.to_dict(), repr(model), {k: repr(v) for k, v in opts.items()}], sort_keys=True, default=str)
    if key not in _REFERENCE_ROWS:
        act = reference_actor(econ, reference_solution(model).policy)
        _REFERENCE_ROWS[key] = score(econ, act, model, **opts)[0]
    return _REFERENCE_ROWS[key]


def compare(row: dict, ref: dict) -> dict:
    """``<stat>_ref`` and ``<stat>_relerr`` columns and the ``goal_*`` booleans (``goal_all``:
    every goal) of ``row`` against the reference's ``ref``."""
    out = {f"{c}_ref": ref[c] for c in (*COMPARED, *REFERENCE_ONLY)}
    out |= {f"{c}_relerr": row[c] / ref[c] - 1.0 if ref[c] != 0 else float("nan") for c in COMPARED}
    full = {**row, **out}
    goals = {g: bool(test(full)) for g, (_, test) in GOALS.items()}
    out["no_pile_up"] = bool(row["pile_max_share"] <= PILE_RATIO * ref["pile_max_share"])
    return out | goals | {"goal_all": all(goals.values())}


_counts = Check(lambda x: isinstance(x, list) and len(x) <= 100 and all(
    isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 10_000_000 for n in x),
    "a list of at most 100 household counts in [1, 10,000,000]")


_d = Diagnostics()


@evaluations.register("krusell_smith")
class KrusellSmithEvaluation(Evaluation):
    """Law of motion, wealth distribution, Euler errors and failure flags of a household
    policy (module docstring); with ``reference``, each row against the reference policy's
    economy at the same N and the issue's goals as ``goal_*`` booleans."""

    settings = {
        **simulation_settings(3000, 500, hi=1_000_000),
        "euler_snapshots": Param(20, int_range(1, 10_000), "cross-sections whose Euler errors are computed"),
        "households": Param([], _counts,
                            "also score the policy in panels of these sizes (one row each; [] : the "
                            "economy's own N): every household plays the first household's policy"),
        "reference": Param(False, one_of(True, False),
                           "also score the reference solver's policy in each panel (same N, seed and "
                           "shocks; solved once per process, seconds to a minute) and add <stat>_ref, "
                           "<stat>_relerr, no_pile_up and the goal_* columns"),
        "rule_points": Param(_d.rule_points, int_range(10, 100_000), "grid points of the savings rule per (z, e)"),
        "rule_kmax": Param(_d.rule_kmax, positive, "the savings rule's grid of own capital ends at this "
                                                   "multiple of mean capital"),
        "monotone_tol": Param(_d.monotone_tol, unit_open, "a grid step of the savings rule counts as falling "
                                                          "when k' drops by more than this times mean capital"),
        "bound_tol": Param(_d.bound_tol, unit_open, "a saved share within this of an action bound is at it"),
        "bound_mass": Param(0.01, unit_open, "bounds_clear: at most this share of household-periods at "
                                             "the two bounds together"),
        "pile_width": Param(_d.pile_width, unit_open, "the pile-up detector's capital interval, as a "
                                                      "fraction of mean capital"),
    }
    columns = {"N": "households in the scored panel",
               "K_mean, K_sd": "aggregate capital on the path",
               "b0_<z>, b1_<z>, r2_<z>": "ln K' = b0(z) + b1(z) ln K by OLS (z: bad, good) and its R^2",
               "den_haan_mean, den_haan_max": "in-sample Den Haan error of that law (percent)",
               "euler_mean, euler_max": "log10 Euler errors of households inside the action bounds",
               "share_inside_bounds": "fraction of those households", "share_mean": "mean saved share",
               "share_at_low, share_at_high": "household-periods whose saved share is within bound_tol "
                                              "of the lower / upper action bound",
               "bounds_clear": "share_at_low + share_at_high <= bound_mass",
               "pile_max_share, pile_k": "largest share of a cross-section inside any interval of "
                                         "pile_width x mean capital (mean over cross-sections), and "
                                         "where it starts (median)",
               "savings_falling_share": "share of the savings rule's grid steps (k on [0, rule_kmax K] "
                                        "at the path's mean K, each (z, e)) where k' falls by more "
                                        "than monotone_tol x K",
               "savings_falling_k_low, savings_falling_k_high": "the k range of those steps (NaN: none)",
               "savings_monotone": "no falling step",
               "w_<stat>": "wealth distribution: mean, p10 .. p99, gini, top1, top10, share_below_1pct_mean",
               "<stat>_ref, <stat>_relerr": "with reference: the reference policy's value in the same "
                                            "panel and stat / reference - 1 (stats: "
                                            + ", ".join(COMPARED) + "; _ref only: " + ", ".join(REFERENCE_ONLY) + ")",
               "no_pile_up": f"with reference: pile_max_share <= {PILE_RATIO:g} x the reference's",
               "goal_<name>, goal_all": "with reference: " + "; ".join(
                   f"{g[5:]}: {d}" for g, (d, _) in GOALS.items()) + "; all: every goal"}

    def check(self, economy) -> None:
        try:
            KrusellSmithModel.from_economy(economy)
        except ValueError as exc:
            raise SpecError(f"the krusell_smith evaluation needs a Krusell-Smith economy: {exc}",
                            path="economy") from None

    def evaluate(self, economy, policy, settings, seed=0):
        model, rows, rules = KrusellSmithModel.from_economy(economy), [], []
        diag = Diagnostics(**{f.name: settings[f.name] for f in dataclasses.fields(Diagnostics)})
        opts = {"T": settings["periods"], "burn": settings["burn"], "seed": seed,
                "euler_snapshots": settings["euler_snapshots"], "diagnostics": diag}
        for n in settings["households"] or [None]:
            econ, act = economy, policy
            if n is not None:  # the same policy, shared by a panel of n households
                data = economy.to_dict()
                data["agents"][0]["count"] = n
                econ = type(economy).from_dict(data)
                act = functools.partial(policy.act, policy.agents[0])
            row, sim = score(econ, act, model, **opts)
            row |= {"savings_monotone": row["savings_falling_share"] == 0.0,
                    "bounds_clear": row["share_at_low"] + row["share_at_high"] <= settings["bound_mass"]}
            if settings["reference"]:
                row |= compare(row, reference_row(econ, model, **opts))
            rows.append({"N": len(econ.actors), **row})
            rules.append(sim["rule"].assign(N=len(econ.actors)))
        return {"results": pd.DataFrame(rows), "savings_rule": pd.concat(rules, ignore_index=True)}

    def summarise(self, tables, settings):
        """The first panel size's numeric columns, averaged over seeds (one seed: its row);
        for each flag and goal the number of seeds that meet it there (``<flag>_seeds``);
        and ``by_seed``: every row's flags, goals and errors against the reference."""
        res = tables["results"]
        first = res[res["N"] == res["N"].iloc[0]] if "N" in res else res
        out = {c: float(v) for c, v in first.select_dtypes("number").mean().items() if c != "seed"}
        flags = [c for c in res if c.startswith("goal_") or c in ("savings_monotone", "bounds_clear", "no_pile_up")]
        out |= {f"{c}_seeds": int(first[c].astype(bool).sum()) for c in flags}
        keep = ["seed", "N", *flags, *[c for c in res if c.endswith("_relerr")], "euler_mean",
                "savings_falling_share", "savings_falling_k_low", "savings_falling_k_high",
                "share_at_low", "share_at_high", "pile_max_share", "pile_k"]
        kinds = {**dict.fromkeys(flags, bool), "seed": int, "N": int}
        out["by_seed"] = [{c: kinds.get(c, float)(v) for c, v in r.items()}
                          for r in res[[c for c in keep if c in res]].to_dict("records")]
        return out
