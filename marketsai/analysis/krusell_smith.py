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
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd

from marketsai.analysis.evaluation import Evaluation, evaluations, simulation_settings
from marketsai.analysis.simulate import agent_columns, as_policy, simulate
from marketsai.errors import SpecError
from marketsai.params import Check, Param, int_range
from marketsai.solvers.krusell_smith import KrusellSmithModel, alm_regression, den_haan_error


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
    cols = np.concatenate([agent_columns(econ)[a][:1] for a in econ.actors])

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


def reference_actor(econ, policy):
    """``act(obs)`` of the reference solution (:class:`~marketsai.solvers.krusell_smith.KrusellSmithPolicy`)
    in the economy's observation (own k, e, z, mean k; normalised as the file says), so
    the reference can be run through the same simulation and scoring as a learned policy."""
    name, _, _, zv = parts(econ)
    obs_layout = econ.observer.layout[econ.actor_index[0]]
    cols = {}
    for col, (kind, key, where, sc, of) in enumerate(obs_layout):
        cols[(kind, key if kind != "moment" else (key, where))] = (col, sc, of)
    kc = cols[("state", f"{name}.k")]
    ec = cols[("exo", "e")]
    zc = cols[("exo", "z")]
    Kc = cols[("moment", (f"{name}.k", "mean"))]
    model = policy.model
    low, high = action_bounds(econ)

    def raw(obs, c):
        col, sc, of = c
        return (np.asarray(obs)[:, col] - of) / sc

    def act(obs):
        k, e, z, K = raw(obs, kc), raw(obs, ec), raw(obs, zc), raw(obs, Kc)
        iz = (np.abs(z[:, None] - zv[None]).argmin(axis=1))
        ie = (e > 0.5).astype(np.intp)
        out = np.empty(k.size)
        for a in range(2):
            for b in range(2):
                sel = (iz == a) & (ie == b)
                if sel.any():
                    r, w = model.prices(K[sel], a)
                    m = (1.0 + r - model.delta) * k[sel] + model.income(float(K[sel][0]), a, b)
                    out[sel] = policy.savings(k[sel], float(K[sel][0]), a, b) / m
        return np.clip(out, low, high)[:, None]
    return act


def score(econ, act, model: KrusellSmithModel, *, T: int = 3000, burn: int = 500, seed: int = 0,
          euler_snapshots: int = 20) -> tuple[dict, dict]:
    """One row of the statistics above (:attr:`KrusellSmithEvaluation.columns`) and the
    simulation they were read from (snapshots every ``T // 200`` kept periods; Euler errors
    on ``euler_snapshots`` of them)."""
    sim = simulate_economy(econ, act, T=T, burn=burn, seed=seed, snapshot_every=max(T // 200, 1))
    lm = law_of_motion(sim["K"], sim["z"])
    snaps = sim["snapshots"]
    name = parts(econ)[0]
    w = wealth(np.concatenate([s[3].fields[f"{name}.k"][0] for s in snaps]))
    bounds = action_bounds(econ)
    pick = snaps[:: max(len(snaps) // euler_snapshots, 1)][:euler_snapshots]
    errs = [euler_errors(econ, act, s, model, bounds) for s in pick]
    e = np.concatenate([x[0][x[1]] for x in errs])
    row = {"K_mean": float(sim["K"].mean()), "K_sd": float(sim["K"].std()),
           "b0_bad": lm["b"][0, 0], "b1_bad": lm["b"][0, 1], "b0_good": lm["b"][1, 0], "b1_good": lm["b"][1, 1],
           "r2_bad": lm["r2"][0], "r2_good": lm["r2"][1], "den_haan_mean": lm["den_haan_mean"],
           "den_haan_max": lm["den_haan_max"],
           "euler_mean": float(e.mean()) if e.size else float("nan"),
           "euler_max": float(e.max()) if e.size else float("nan"),
           "share_inside_bounds": float(np.mean(np.concatenate([x[1] for x in errs]))),
           "share_mean": float(sim["share"].mean()), **{f"w_{k}": v for k, v in w.items()}}
    return row, sim


_counts = Check(lambda x: isinstance(x, list) and len(x) <= 100 and all(
    isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 10_000_000 for n in x),
    "a list of at most 100 household counts in [1, 10,000,000]")


@evaluations.register("krusell_smith")
class KrusellSmithEvaluation(Evaluation):
    """Law of motion, wealth distribution and Euler errors of a household policy (module docstring)."""

    settings = {
        **simulation_settings(3000, 500, hi=1_000_000),
        "euler_snapshots": Param(20, int_range(1, 10_000), "cross-sections whose Euler errors are computed"),
        "households": Param([], _counts,
                            "also score the policy in panels of these sizes (one row each; [] : the "
                            "economy's own N): every household plays the first household's policy"),
    }
    columns = {"N": "households in the scored panel",
               "K_mean, K_sd": "aggregate capital on the path",
               "b0_<z>, b1_<z>, r2_<z>": "ln K' = b0(z) + b1(z) ln K by OLS (z: bad, good) and its R^2",
               "den_haan_mean, den_haan_max": "in-sample Den Haan error of that law (percent)",
               "euler_mean, euler_max": "log10 Euler errors of households inside the action bounds",
               "share_inside_bounds": "fraction of those households", "share_mean": "mean saved share",
               "w_<stat>": "wealth distribution: mean, p10 .. p99, gini, top1, top10, share_below_1pct_mean"}

    def check(self, economy) -> None:
        try:
            KrusellSmithModel.from_economy(economy)
        except ValueError as exc:
            raise SpecError(f"the krusell_smith evaluation needs a Krusell-Smith economy: {exc}",
                            path="economy") from None

    def evaluate(self, economy, policy, settings, seed=0):
        model, rows = KrusellSmithModel.from_economy(economy), []
        for n in settings["households"] or [None]:
            econ, act = economy, policy
            if n is not None:  # the same policy, shared by a panel of n households
                data = economy.to_dict()
                data["agents"][0]["count"] = n
                econ = type(economy).from_dict(data)
                act = functools.partial(policy.act, policy.agents[0])
            row, _ = score(econ, act, model, T=settings["periods"], burn=settings["burn"], seed=seed,
                           euler_snapshots=settings["euler_snapshots"])
            rows.append({"N": len(econ.actors), **row})
        return {"results": pd.DataFrame(rows)}

    def summarise(self, tables, settings):
        """The first panel's row (``N``: its size), numeric columns (not a learner's checkpoint path)."""
        return {c: float(v) for c, v in tables["results"].select_dtypes("number").iloc[0].items()}

