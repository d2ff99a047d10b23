"""Households of a market economy sharing one policy, read against the price-taking rule.

Why: in ``economies/growth_market.yaml`` (N households, one competitive firm, capital,
labour and goods markets) the exact price-taking household is known in closed form, so a
learned household policy can be read the way :mod:`marketsai.analysis.growth_policy`
reads a planner: through the economy's own observations of hand-built states.

* :func:`household_observations` -- what household 0 observes at own capital ``k``, mean
  capital ``K`` and TFP state ``iz`` (the other households hold the rest of ``N K``);
* :func:`household_share` -- ``share(k, K, iz)`` of any policy;
* :func:`competitive_share` -- the exact price-taking household's share in the
  Brock--Mirman calibration, ``alpha beta x / (alpha x + 1 - alpha)`` at ``x = k / K``
  (``alpha beta`` in the symmetric equilibrium), and :func:`exact_household_actor`;
* :func:`capital_path` -- the market economy played by the one simulator;
* :func:`market_report` -- share error on the symmetric-equilibrium ergodic set and on a
  grid of own ``k`` around ``K``, aggregate capital against the exact economy's, Euler
  errors and welfare of the symmetric rule (:func:`market_growth_model`).
"""

from __future__ import annotations

import numpy as np

from marketsai.analysis.growth_policy import growth_measures
from marketsai.analysis.simulate import agent_columns, as_policy, observe_at, simulate
from marketsai.errors import SpecError
from marketsai.processes import MarkovChain
from marketsai.solvers.growth import GrowthModel

__all__ = ["MARKET_KEYS", "capital_path", "competitive_share", "exact_household_actor",
           "household_observations", "household_share", "market_growth_model", "market_report"]

#: the entries of :func:`market_report`, in table order
MARKET_KEYS = ("share_err_mean", "share_err_max", "share_min", "share_max", "grid_err_mean",
               "grid_err_max", "K_mean", "K_mean_exact", "K_err", "euler_mean", "euler_max",
               "euler_ergodic_mean", "euler_ergodic_max", "welfare_loss_pct")


def _households(econ):
    """The entry of a market economy's acting households (one entry, capital ``k``, one
    aggregate process, prices not observed), or a :class:`SpecError` naming the field."""
    if econ.clearing is None or not len(econ.actors):
        raise SpecError("a household policy needs a market economy with acting households",
                        path="economy.markets", value=[m.type for m in econ.spec.markets],
                        allowed="competitive markets and households")
    entries = sorted({int(econ.entry_of[i]) for i in econ.actor_index})
    ent = econ.entries[entries[0]]
    if len(entries) != 1 or "k" not in ent.kind.state:
        raise SpecError("a household policy reads one entry of households owning capital k",
                        path="economy.agents", value=[econ.entries[e].name for e in entries],
                        allowed="one acting entry with state k")
    if len(econ.aggregate) != 1 or econ.idiosyncratic:
        raise SpecError("a household policy reads one aggregate TFP process", path="economy.processes",
                        value=[p.name for p in econ.aggregate + econ.idiosyncratic],
                        allowed="exactly one aggregate process")
    ob = econ.spec.agents[ent.members[0]].observation
    if ob["prices"] or ob["memory"]:
        raise SpecError("prices and memory are last period's: a hand-built state cannot give them",
                        path=f"{ent.where}.observation", value={"prices": ob["prices"], "memory": ob["memory"]},
                        allowed="state, exo and moments only")
    return ent


def household_observations(econ, k, K, iz) -> np.ndarray:
    """``(n, dim)`` float32: what household 0 observes at own capital ``k``, mean capital
    ``K`` of its entry and TFP state ``iz`` (broadcast together).

    Built by hand (:func:`~marketsai.analysis.simulate.observe_at`): a fresh initial state with household 0 at
    ``k`` and the other ``N - 1`` at ``(N K - k) / (N - 1)`` each (so the mean is ``K``;
    with ``N = 1``, ``k`` must be ``K``), then ``econ.observe``, i.e. the economy's own
    scaling of own state, process fields and moments.

    >>> from marketsai.economy import load_economy
    >>> econ = load_economy("economies/growth_market.yaml")
    >>> k_ss = econ.entries[0].kind.k_steady
    >>> obs = household_observations(econ, np.array([0.5, 1.5]) * k_ss, k_ss, np.array([0, 4]))
    >>> (obs.round(6) + 0.0).tolist()  # own k, z, mean k: scaled to [-1, 1] on their ranges
    [[-1.0, -1.0, 0.0], [1.0, 1.0, 0.0]]
    """
    ent = _households(econ)
    k, K, iz = np.broadcast_arrays(np.asarray(k, np.float64).ravel(), np.asarray(K, np.float64).ravel(),
                                   np.asarray(iz, np.int64).ravel())
    n = len(ent.members)
    if n == 1 and not np.allclose(k, K, rtol=1e-12, atol=0.0):
        raise SpecError("with one household its capital is the mean", path=f"{ent.where}.count", value=1,
                        allowed="k == K, or count > 1")
    fields = np.empty((k.size, n))
    fields[:, 0] = k
    if n > 1:
        fields[:, 1:] = ((n * K - k) / (n - 1))[:, None]
    return observe_at(econ, {f"{ent.name}.k": fields}, iz)[econ.agents[ent.members[0]]]


def _decision(econ, ent):
    return econ.decisions[int(agent_columns(econ)[econ.agents[ent.members[0]]][0])]


def household_share(econ, act):
    """``share(k, K, iz)``: the savings share (first decision) a household policy (a
    :class:`~marketsai.policies.Policy` or a shared ``act(obs) -> actions``) chooses at own capital ``k``, mean ``K``, TFP state ``iz``,
    clipped to the decision's interval (grid actions: indices into its grid)."""
    ent = _households(econ)
    dec = _decision(econ, ent)
    policy, agent = as_policy(econ, act), econ.agents[ent.members[0]]

    def share(k, K, iz):
        k, K, iz = np.broadcast_arrays(np.asarray(k, np.float64), np.asarray(K, np.float64),
                                       np.asarray(iz, np.int64))
        obs = household_observations(econ, k, K, iz)
        a = np.asarray(policy.act(agent, obs)).reshape(len(obs), -1)[:, 0]
        if dec.kind == "grid":
            d = np.asarray(dec.grid)[np.clip(a.astype(np.int64), 0, dec.size - 1)]
        else:
            d = np.clip(a.astype(np.float64), dec.low, dec.high)
        return d.reshape(k.shape)
    return share


def market_growth_model(econ):
    """The per-household :class:`~marketsai.solvers.growth.GrowthModel` of the symmetric
    equilibrium of a one-firm, one-good market economy with fixed hours ``h``.

    With ``K = N k`` and ``L = N h`` the firm pays ``r k + w h = A z k^alpha h^(1 - alpha)``
    to each household, so a symmetric household's budget is the planner's
    ``c + k' = y + (1 - delta) k`` with TFP levels ``A h^(1 - alpha) z``.

    >>> from marketsai.economy import load_economy
    >>> m = market_growth_model(load_economy("economies/growth_market.yaml"))
    >>> m.alpha, m.beta, m.delta, m.gamma, m.z.n_states
    (0.36, 0.95, 1.0, 1.0, 5)
    """
    ent = _households(econ)
    hh = ent.kind
    cl = econ.clearing
    firm = econ.entries[cl.firms[0][0]].kind.p if len(cl.firms) == 1 else None
    if firm is None or firm["technology"] != "cobb_douglas" or len(cl.by_good.get("goods", [])) > 1:
        raise SpecError("a symmetric growth model needs one Cobb–Douglas firm and one good",
                        path="economy.agents", value=[econ.entries[e].name for e, _ in cl.firms],
                        allowed="one competitive_firm with technology: cobb_douglas, goods use: both")
    if hh.action["hours"] != "fixed" or hh.p["efficiency"] is not None:
        raise SpecError("a symmetric growth model needs fixed, equal hours", path=f"{ent.where}.action.hours",
                        value=hh.action["hours"], allowed="fixed, efficiency null")
    chain = econ.exo_chain
    field = firm["productivity"]
    z = np.ones(chain.n_states) if field is None else np.asarray(chain.value(field), np.float64)
    z = z * firm["tfp"] * hh.p["hours"] ** (1.0 - firm["alpha"])
    return GrowthModel(alpha=firm["alpha"], beta=econ.discount, delta=hh.p["delta"], gamma=hh.p["gamma"],
                       z=MarkovChain(z, chain.P, p0=chain.p0, fields=("z",)))


def competitive_share(econ):
    """``share(k, K, iz)`` of the exact price-taking household (Brock--Mirman calibration).

    With log utility and full depreciation the aggregate saves ``alpha beta`` of output,
    and a household holding ``x = k / K`` of mean capital consumes ``1 - beta`` of its
    wealth ``R k + h`` (``h = (1 - alpha) y / (1 - beta)``, the value of its wages): it
    saves ``k' = beta R k``, i.e. the share ``alpha beta x / (alpha x + 1 - alpha)`` of its
    cash on hand ``R k + w``, ``alpha beta`` at ``x = 1``, whatever ``z`` and ``K``. The
    rule is linear in ``k``, so it aggregates exactly (tests/test_growth_policy.py checks
    the household's Euler equation through ``econ.step``).

    >>> from marketsai.economy import load_economy
    >>> s = competitive_share(load_economy("economies/growth_market.yaml"))
    >>> [round(float(v), 6) for v in s(np.array([1.0, 1.2]), 1.0, 0)]
    [0.342, 0.382836]
    """
    model = market_growth_model(econ)
    if model.delta != 1.0 or model.gamma != 1.0:
        raise SpecError("the closed-form household rule needs log utility and full depreciation",
                        path=f"{_households(econ).where}.params", value={"gamma": model.gamma, "delta": model.delta},
                        allowed="gamma: 1, delta: 1")
    a, b = model.alpha, model.beta

    def share(k, K, iz=None):
        x = np.asarray(k, np.float64) / np.asarray(K, np.float64)
        return a * b * x / (a * x + 1.0 - a)
    return share


def exact_household_actor(econ):
    """``act(obs)``: :func:`competitive_share` read from a household's own observation
    (own ``k`` and the mean of its entry's ``k``, decoded with the observer's scaling)."""
    ent = _households(econ)
    exact = competitive_share(econ)
    col, own, mean = 0, None, None
    for kind, key, where, sc, of in econ.observer.layout[ent.members[0]]:
        if kind == "state" and key == f"{ent.name}.k":
            own = (col, sc, of)
        elif kind == "moment" and key == f"{ent.name}.k" and where == "mean":
            mean = (col, sc, of)
        col += key * len(where) if kind == "memory" else 1
    if own is None or (mean is None and len(ent.members) > 1):
        raise SpecError("the exact household rule reads own k and mean k from the observation",
                        path=f"{ent.where}.observation", allowed=f"state: [k], moments: [{ent.name}.k:mean]")
    mean = own if mean is None else mean

    def act(obs):
        obs = np.asarray(obs, np.float64)
        k = (obs[:, own[0]] - own[2]) / own[1]
        K = (obs[:, mean[0]] - mean[2]) / mean[1]
        return exact(k, K)[:, None]
    return act


def capital_path(econ, act, T: int, seed: int = 0, sessions: int = 1, k0=None) -> dict:
    """``{"K": (T, sessions), "iz": (T, sessions), "k": (sessions, N)}``: the market economy
    played ``T`` periods (:func:`~marketsai.analysis.simulate.simulate`), every household
    acting on its own observation.

    Households start at ``k0`` (default: all at the steady state, the symmetric
    equilibrium); ``K`` is mean capital and ``iz`` the TFP state at the start of each
    period, ``k`` the final cross-section. The TFP path depends only on ``seed``, so two
    policies simulated with one seed face the same shocks.
    """
    ent = _households(econ)
    rng = np.random.default_rng(seed)
    state = econ.initial_state(rng, batch=sessions)
    name = f"{ent.name}.k"
    state.fields[name] = np.broadcast_to(np.asarray(ent.kind.k_steady if k0 is None else k0, np.float64),
                                         state.fields[name].shape).copy()
    run = simulate(econ, act, T, state=state, rng=rng,
                   record=lambda t, st, *_: {"K": st.fields[name].mean(axis=1), "iz": st.exo[:, 0].copy()})
    return {"K": run["K"], "iz": run["iz"], "k": run["state"].fields[name]}


def market_report(econ, act, *, T: int = 1000, burn: int = 100, sessions: int = 10, seed: int = 0,
                  grid=(0.8, 1.2),
                  grid_points: int = 21, welfare_points: int = 2000, table_points: int = 4001) -> dict:
    """The measures of a household policy ``act`` in a market economy (keys :data:`MARKET_KEYS`).

    * ``share_*``: on the symmetric-equilibrium ergodic set of the market economy
      (``sessions`` x ``T`` periods of :func:`capital_path` under the exact rule, each
      after ``burn``, every household at mean capital ``K``), ``|s / (alpha beta) - 1|``
      (mean, max) and the range of ``s``;
    * ``grid_err_*``: ``|s / s* - 1|`` on own capital ``k = x K`` for ``x`` on ``grid``
      (``grid_points``), ``K`` at the 5, 50 and 95 % quantiles of that path and every z,
      against the price-taker's exact share :func:`competitive_share` ``s*(x)`` (NaN with one
      household, whose capital is the mean);
    * ``K_mean``, ``K_mean_exact``, ``K_err``: mean capital per household under the policy
      and under the exact rule, the same shocks and periods, from the steady state, and the
      relative difference ``K_mean / K_mean_exact - 1``;
    * ``euler_*``, ``welfare_loss_pct``: the shared measures (:mod:`marketsai.analysis.euler`)
      of the symmetric rule ``k' = s(k, k, z) y`` on :func:`market_growth_model` (the
      household's Euler equation in the symmetric equilibrium is the planner's; ``sessions
      * T`` periods after ``sessions * burn``), its share
      tabulated on ``table_points`` capital stocks of ``(0.5, 1.5) k_ss`` per z and
      interpolated linearly (one batched call of the policy instead of one per period).

    >>> from marketsai.economy import load_economy
    >>> econ = load_economy("economies/growth_market.yaml")
    >>> r = market_report(econ, lambda obs: np.full((len(obs), 1), 0.9 * 0.342), T=100, burn=20,
    ...                   sessions=4, welfare_points=100)
    >>> round(r["share_err_max"], 6), round(r["grid_err_max"], 3), r["K_err"] < -0.05
    (0.1, 0.196, True)
    """
    model = market_growth_model(econ)
    share = household_share(econ, act)
    exact = competitive_share(econ)
    ref = capital_path(econ, exact_household_actor(econ), T + burn, seed, sessions=sessions)
    K, iz = ref["K"][burn:].ravel(), ref["iz"][burn:].ravel()
    s = share(K, K, iz)
    rel = np.abs(s / exact(K, K) - 1.0)
    n = len(_households(econ).members)
    if n > 1:
        Kq, x, zs = np.meshgrid(np.quantile(K, [0.05, 0.5, 0.95]), np.linspace(*grid, grid_points),
                                np.arange(econ.exo_chain.n_states), indexing="ij")
        g = np.abs(share(x * Kq, Kq, zs) / exact(x * Kq, Kq) - 1.0)
        grid_mean, grid_max = float(g.mean()), float(g.max())
    else:
        grid_mean = grid_max = float("nan")
    own = capital_path(econ, act, T + burn, seed, sessions=sessions)["K"][burn:].ravel()

    # the symmetric rule, tabulated once on `table_points` capital stocks of (0.5, 1.5) k_ss
    # per z state and interpolated linearly (the shares of a smooth network: error ~1e-7)
    lo, hi = 0.5 * model.steady_state()[0], 1.5 * model.steady_state()[0]
    kg = np.linspace(lo, hi, table_points)
    nz = econ.exo_chain.n_states
    table = share(np.tile(kg, nz), np.tile(kg, nz), np.repeat(np.arange(nz), table_points)).reshape(nz, -1)
    step = (hi - lo) / (table_points - 1)

    def symmetric(k, iz_):
        k, iz_ = np.broadcast_arrays(np.asarray(k, np.float64), np.asarray(iz_, np.int64))
        pos = np.clip((k - lo) / step, 0.0, table_points - 1.0)
        i = np.minimum(pos.astype(np.int64), table_points - 2)
        w = pos - i
        s_k = table[iz_, i] * (1.0 - w) + table[iz_, i + 1] * w
        return s_k * model.cash_on_hand(k, model.z_values[iz_])
    m = growth_measures(model, symmetric, T=T * sessions, burn=burn * sessions, seed=seed,
                         welfare_points=welfare_points)
    return {"share_err_mean": float(rel.mean()), "share_err_max": float(rel.max()),
            "share_min": float(s.min()), "share_max": float(s.max()),
            "grid_err_mean": grid_mean, "grid_err_max": grid_max,
            "K_mean": float(own.mean()), "K_mean_exact": float(K.mean()),
            "K_err": float(own.mean() / K.mean() - 1.0),
            **{key: m[key] for key in ("euler_mean", "euler_max", "euler_ergodic_mean", "euler_ergodic_max",
                                       "welfare_loss_pct")}}
