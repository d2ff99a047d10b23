"""A deep learner's growth policy, read as a savings rule and scored by the shared measures.

Why: a tabular table, EGM and a neural network are only comparable on one scale, and the
scale of :mod:`marketsai.analysis.euler` takes any vectorised ``savings(k, iz) -> k'``.
This module turns a trained single-agent RLModule into such a rule *through the
economy itself*: for each ``(k, z)`` it builds the :class:`~marketsai.dynamics.EconomyState`
the simulation would be in, takes the observation ``econ.observe`` gives the planner
(``k`` and ``z`` scaled as in training), acts deterministically (the mean, or mode, of the
action distribution, mapped to the action bounds the way RLlib's env runner maps it:
unsquashed from [-1, 1] when ``normalize_actions``, then clipped) and applies the
planner's budget (``k' = s y`` for a savings share, the grid point for ``next_state``).

* :func:`observations` -- the planner's observations of hand-built states ``(k, iz)``;
* :func:`module_actor` -- ``act(obs) -> actions`` of an RLModule (deterministic);
* :func:`policy_savings` -- ``savings(k, iz)`` of any ``act``;
* :func:`growth_report` -- the measures: savings share against the reference's share on
  the reference's ergodic set (Brock--Mirman: ``alpha beta``), Euler errors on the box
  ``(0.8, 1.2) k_ss`` and on the policy's own ergodic path, policy error and welfare loss
  against the reference (:func:`~marketsai.analysis.growth.reference_savings`);
* :func:`load_module` -- the ``default_policy`` module of a (trusted) checkpoint of an
  ``env.sessions`` experiment.

Households of a market economy (``economies/growth_market.yaml``: N households sharing one
policy, one competitive firm, capital, labour and goods markets) are read the same way:

* :func:`household_observations` -- what household 0 observes at own capital ``k``, mean
  capital ``K`` and TFP state ``iz`` (the other households hold the rest of ``N K``);
* :func:`household_share` -- ``share(k, K, iz)`` of any ``act``;
* :func:`competitive_share` -- the exact price-taking household's share in the
  Brock--Mirman calibration, ``alpha beta x / (alpha x + 1 - alpha)`` at ``x = k / K``
  (``alpha beta`` in the symmetric equilibrium), and :func:`exact_household_actor`;
* :func:`simulate_market` -- the market economy stepped by ``econ.step`` with every
  household acting on its own observation;
* :func:`market_report` -- share error on the symmetric-equilibrium ergodic set and on a
  grid of own ``k`` around ``K``, aggregate capital against the exact economy's, Euler
  errors and welfare of the symmetric rule (:func:`market_growth_model`);
* :func:`planner_capital` -- the same aggregate-capital measure for a planner economy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from marketsai.errors import SpecError

__all__ = ["observations", "module_actor", "policy_savings", "growth_report", "load_module",
           "REPORT_KEYS", "household_observations", "household_share", "competitive_share",
           "exact_household_actor", "simulate_market", "market_growth_model", "market_report",
           "planner_capital", "MARKET_KEYS"]

#: the entries of :func:`growth_report`, in table order
REPORT_KEYS = ("share_err_max", "share_err_mean", "share_min", "share_max", "euler_mean",
               "euler_max", "euler_ergodic_mean", "euler_ergodic_max", "policy_err_max",
               "policy_err_mean", "welfare_loss_pct")


def _planner(econ):
    if len(econ.agents) != 1 or econ.spec.agents[0].type != "planner" or econ.markets:
        raise SpecError("a growth policy needs an economy of exactly one planner and no markets",
                        path="economy.agents", value=[a.type for a in econ.spec.agents],
                        allowed="[planner]")
    if len(econ.aggregate) != 1 or econ.idiosyncratic:
        raise SpecError("a growth policy reads one aggregate TFP process", path="economy.processes",
                        value=[p.name for p in econ.aggregate + econ.idiosyncratic],
                        allowed="exactly one aggregate process")
    return econ.entries[0]


def observations(econ, k, iz) -> np.ndarray:
    """``(n, dim)`` float32: what the planner observes at capital ``k`` and TFP state ``iz``.

    The state is built by hand (capital field and exogenous chain index replaced in a
    fresh :meth:`~marketsai.economy.Economy.initial_state`), so the observation is the
    one the simulation would produce, with the economy's own scaling.

    >>> from marketsai.economy import load_economy
    >>> econ = load_economy("economies/brock_mirman_share.yaml")
    >>> k_ss = econ.entries[0].kind.steady_state()
    >>> observations(econ, np.array([0.5, 1.5]) * k_ss, np.array([0, 4])).round(6).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    ent = _planner(econ)
    k = np.asarray(k, np.float64).ravel()
    iz = np.asarray(iz, np.int64).ravel()
    state = econ.initial_state(np.random.default_rng(0), batch=k.size)
    state.fields[f"{ent.name}.k"] = k[:, None]
    state.exo[:, 0] = iz
    return econ.observe(state)[econ.agents[0]]


def module_actor(module, normalize_actions: bool = True):
    """``act(obs) -> (n, action_dim)`` actions of an RLModule, deterministically.

    The inference distribution's deterministic version (mean of a Gaussian, ``tanh`` of
    the mean of SAC's squashed Gaussian, mode of a categorical), then, for a bounded Box,
    what RLlib's module-to-env connector does: unsquash from [-1, 1] to the bounds when
    ``normalize_actions`` (RLlib's default) and clip to them.
    """
    import gymnasium as gym
    import torch

    space = module.action_space
    dist_cls = module.get_inference_action_dist_cls()
    if hasattr(module, "n_rows"):  # a stacked population's RowModule: one row's action
        dist_cls = module.get_train_action_dist_cls()
        if isinstance(space, gym.spaces.Box):
            k = module.per_row
            space = gym.spaces.Box(space.low.ravel()[:k], space.high.ravel()[:k], dtype=space.dtype)

    def act(obs):
        with torch.no_grad():
            out = module.forward_inference({"obs": torch.as_tensor(np.asarray(obs, np.float32))})
            a = dist_cls.from_logits(out["action_dist_inputs"]).to_deterministic().sample().numpy()
        if isinstance(space, gym.spaces.Box):
            a = a.reshape(a.shape[0], -1).astype(np.float64)
            if normalize_actions:
                a = space.low + (a + 1.0) * (space.high - space.low) / 2.0
            return np.clip(a, space.low, space.high)
        return a.reshape(a.shape[0], -1)
    return act


def untrained_actor(econ, hidden=(64, 64), seed: int = 0):
    """``act(obs)`` of a freshly initialised PPO network (torch seed ``seed``): the scale
    against which trained policies are read (about the middle of the action bounds)."""
    import torch
    from ray.rllib.algorithms.ppo import PPOConfig

    torch.manual_seed(seed)
    env = econ.vector_env(sessions=1)
    spec = PPOConfig().rl_module(model_config={"fcnet_hiddens": list(hidden)}).get_rl_module_spec(
        env=None, spaces={"default_policy": (env.single_observation_space, env.single_action_space)})
    return module_actor(spec.build())


def policy_savings(econ, act):
    """``savings(k, iz) -> k'`` of a policy ``act(obs) -> actions`` in the economy.

    Shares are clipped to the planner's interval (as the environment clips them); grid
    actions are indices into the decision's grid (a share, or ``k'`` for ``next_state``).

    >>> from marketsai.economy import load_economy
    >>> econ = load_economy("economies/brock_mirman_share.yaml")
    >>> f = policy_savings(econ, lambda obs: np.full((len(obs), 1), 0.342))
    >>> round(float(f(np.array([1.0]), np.array([2]))[0]), 6)  # 0.342 * 1 ** 0.36
    0.342
    """
    ent = _planner(econ)
    kind = ent.kind
    dec = econ.decisions[0]
    field = kind.p["productivity"]
    zv = np.ones(econ.exo_chain.n_states) if field is None else \
        np.asarray(econ.exo_chain.value(field), np.float64)
    share = kind.action["choice"] == "savings_share"

    def savings(k, iz):
        k, iz = np.broadcast_arrays(np.asarray(k, np.float64), np.asarray(iz, np.int64))
        a = np.asarray(act(observations(econ, k, iz)))[:, 0]
        if dec.kind == "grid":
            d = np.asarray(dec.grid)[np.clip(a.astype(np.int64), 0, dec.size - 1)]
        else:
            d = np.clip(a.astype(np.float64), dec.low, dec.high)
        if not share:
            return d.reshape(k.shape)
        y = kind.cash_on_hand(k.ravel(), zv[iz.ravel()])
        return (d * y).reshape(k.shape)
    return savings


def growth_report(econ, savings, *, T: int = 10_000, burn: int = 1000, seed: int = 0,
                  welfare_points: int = 2000) -> dict:
    """The measures of one savings rule in a planner economy (keys :data:`REPORT_KEYS`).

    ``share_*``: the saved share ``k'/y`` against the reference's share on the
    reference's simulated ergodic set (``T`` periods after ``burn``): ``share_err_max``,
    ``share_err_mean`` of ``|s / s_ref - 1|`` (for Brock--Mirman ``s_ref = alpha beta``; the
    goal of the deep-learners issue is ``share_err_max <= 0.01``), ``share_min``,
    ``share_max``. Then the shared measures (:mod:`marketsai.analysis.euler`): Euler errors
    (log10) on ``(0.8, 1.2) k_ss`` x every z and on the policy's own path, ``k'`` against
    the reference on its ergodic set, and the consumption-equivalent welfare loss in
    percent (``inf`` where the rule leaves ``c <= 0`` or drives ``k`` to 0 or infinity).
    Also ``reference`` (``closed_form`` or ``egm``) and ``reference_share`` (its mean share).

    >>> from marketsai.economy import load_economy
    >>> econ = load_economy("economies/brock_mirman_share.yaml")
    >>> rule = policy_savings(econ, lambda obs: np.full((len(obs), 1), 0.9 * 0.342))
    >>> r = growth_report(econ, rule, T=2000, burn=200, welfare_points=200)
    >>> round(r["share_err_max"], 6), round(r["welfare_loss_pct"], 6)
    (0.1, 0.410023)
    """
    from marketsai.analysis.growth import growth_model_of

    return _growth_measures(growth_model_of(econ), savings, T=T, burn=burn, seed=seed,
                            welfare_points=welfare_points)


def _growth_measures(model, savings, *, T, burn, seed, welfare_points) -> dict:
    from marketsai.analysis.euler import (
        ergodic_euler_stats,
        ergodic_policy_error,
        euler_error_stats,
        simulate_path,
        welfare_loss,
    )
    from marketsai.analysis.growth import reference_savings

    ref, ref_name = reference_savings(model)
    k, iz = simulate_path(model, ref, T + burn, np.random.default_rng(seed))
    k, iz = k[burn:], iz[burn:]
    y = model.cash_on_hand(k, model.z_values[iz])
    s = np.asarray(savings(k, iz), np.float64) / y
    s_ref = np.asarray(ref(k, iz), np.float64) / y
    rel = np.abs(s / s_ref - 1.0)
    box = euler_error_stats(model, savings)
    erg = ergodic_euler_stats(model, savings, T=T, burn=burn, seed=seed)
    pol = ergodic_policy_error(model, savings, ref, T=T, burn=burn, seed=seed)
    try:
        loss = welfare_loss(model, savings, ref, points=welfare_points)
    except ValueError:  # c <= 0 somewhere, or capital driven to 0 / infinity
        loss = float("inf")
    return {"share_err_max": float(rel.max()), "share_err_mean": float(rel.mean()),
            "share_min": float(s.min()), "share_max": float(s.max()),
            "euler_mean": box["mean"], "euler_max": box["max"],
            "euler_ergodic_mean": erg["mean"], "euler_ergodic_max": erg["max"],
            "policy_err_max": pol["max"], "policy_err_mean": pol["mean"],
            "welfare_loss_pct": float(loss), "reference": ref_name,
            "reference_share": float(s_ref.mean())}


def load_module(checkpoint: str | Path, module_id: str | None = None):
    """The RLModule ``module_id`` of an Algorithm checkpoint; ``None``: its only module (an
    ``env.sessions`` run's ``default_policy``, a DQN / SAC sessions run's group).
    Unpickles the checkpoint: only your own runs."""
    from ray.rllib.core.rl_module.rl_module import RLModule

    from marketsai.rl.export import warn_unsafe

    modules = Path(checkpoint) / "learner_group" / "learner" / "rl_module"
    if module_id is None:
        found = sorted(p.name for p in modules.iterdir() if p.is_dir()) if modules.is_dir() else []
        if len(found) != 1:
            raise SpecError("name the module: the checkpoint does not hold exactly one", path="module_id",
                            value=None, allowed=", ".join(found) or "an Algorithm checkpoint folder")
        module_id = found[0]
    path = modules / module_id
    if not path.is_dir():
        raise SpecError("no such module in the checkpoint", path="checkpoint", value=str(path),
                        allowed="an Algorithm checkpoint folder holding learner_group/learner/rl_module/"
                                + module_id)
    warn_unsafe(checkpoint)
    return RLModule.from_checkpoint(str(path))


# ------------------------------------------------------------------ households of a market economy

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

    Built by hand like :func:`observations`: a fresh initial state with household 0 at
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
    state = econ.initial_state(np.random.default_rng(0), batch=k.size)
    fields = np.empty((k.size, n))
    fields[:, 0] = k
    if n > 1:
        fields[:, 1:] = ((n * K - k) / (n - 1))[:, None]
    state.fields[f"{ent.name}.k"] = fields
    state.exo[:, 0] = iz
    return econ.observe(state)[econ.agents[ent.members[0]]]


def _decision(econ, ent):
    return econ.decisions[int(econ.layout.agent_cols[ent.members[0]][0])]


def household_share(econ, act):
    """``share(k, K, iz)``: the savings share (first decision) a household policy
    ``act(obs) -> actions`` chooses at own capital ``k``, mean ``K``, TFP state ``iz``,
    clipped to the decision's interval (grid actions: indices into its grid)."""
    ent = _households(econ)
    dec = _decision(econ, ent)

    def share(k, K, iz):
        k, K, iz = np.broadcast_arrays(np.asarray(k, np.float64), np.asarray(K, np.float64),
                                       np.asarray(iz, np.int64))
        a = np.asarray(act(household_observations(econ, k, K, iz)))[:, 0]
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
    from marketsai.processes import MarkovChain
    from marketsai.solvers.growth import GrowthModel

    ent = _households(econ)
    hh = ent.kind
    cl = econ.clearing
    firm = econ.entries[cl.firms[0][0]].kind.p if len(cl.firms) == 1 else None
    if firm is None or firm["technology"] != "cobb_douglas" or cl.two_goods:
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
    rule is linear in ``k``, so it aggregates exactly (tests/rl/test_growth_eval.py checks
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


def simulate_market(econ, act, T: int, seed: int = 0, sessions: int = 1, k0=None) -> dict:
    """``{"K": (T, sessions), "iz": (T, sessions), "k": (sessions, N)}``: the market economy
    stepped ``T`` periods by ``econ.step``, every household acting on its own observation.

    Households start at ``k0`` (default: all at the steady state, the symmetric
    equilibrium); ``K`` is mean capital and ``iz`` the TFP state at the start of each
    period, ``k`` the final cross-section. The TFP path depends only on ``seed``, so two
    policies simulated with one seed face the same shocks.
    """
    ent = _households(econ)
    env = econ.vector_env(sessions=sessions, max_cycles=T + 1)
    rng = np.random.default_rng(seed)
    state = econ.initial_state(rng, batch=sessions)
    name = f"{ent.name}.k"
    state.fields[name] = np.broadcast_to(np.asarray(ent.kind.k_steady if k0 is None else k0, np.float64),
                                         state.fields[name].shape).copy()
    actors = [econ.agents[i] for i in econ.actor_index]
    K = np.empty((T, sessions))
    iz = np.empty((T, sessions), np.int64)
    for t in range(T):
        obs = econ.observe(state)
        a = np.asarray(act(np.stack([obs[n] for n in actors], axis=1).reshape(sessions * len(actors), -1)))
        K[t] = state.fields[name].mean(axis=1)
        iz[t] = state.exo[:, 0]
        state, _, _ = econ.step(state, env.decision_values(a), rng)
    return {"K": K, "iz": iz, "k": state.fields[name]}


def market_report(econ, act, *, T: int = 1000, burn: int = 100, sessions: int = 10, seed: int = 0,
                  grid=(0.8, 1.2),
                  grid_points: int = 21, welfare_points: int = 2000, table_points: int = 4001) -> dict:
    """The measures of a household policy ``act`` in a market economy (keys :data:`MARKET_KEYS`).

    * ``share_*``: on the symmetric-equilibrium ergodic set of the market economy
      (``sessions`` x ``T`` periods of :func:`simulate_market` under the exact rule, each
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
    ref = simulate_market(econ, exact_household_actor(econ), T + burn, seed, sessions=sessions)
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
    own = simulate_market(econ, act, T + burn, seed, sessions=sessions)["K"][burn:].ravel()

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
    m = _growth_measures(model, symmetric, T=T * sessions, burn=burn * sessions, seed=seed,
                         welfare_points=welfare_points)
    return {"share_err_mean": float(rel.mean()), "share_err_max": float(rel.max()),
            "share_min": float(s.min()), "share_max": float(s.max()),
            "grid_err_mean": grid_mean, "grid_err_max": grid_max,
            "K_mean": float(own.mean()), "K_mean_exact": float(K.mean()),
            "K_err": float(own.mean() / K.mean() - 1.0),
            **{key: m[key] for key in ("euler_mean", "euler_max", "euler_ergodic_mean", "euler_ergodic_max",
                                       "welfare_loss_pct")}}


def planner_capital(econ, act, *, T: int = 10_000, burn: int = 1000, seed: int = 0) -> dict:
    """``K_mean``, ``K_mean_exact``, ``K_err`` of a planner policy (as in :func:`market_report`):
    mean capital under ``act`` and under the reference, the same TFP path, from the steady state."""
    from marketsai.analysis.euler import simulate_path
    from marketsai.analysis.growth import growth_model_of, reference_savings

    model = growth_model_of(econ)
    ref, _ = reference_savings(model)
    k_ref, _ = simulate_path(model, ref, T + burn, np.random.default_rng(seed))
    k_own, _ = simulate_path(model, policy_savings(econ, act), T + burn, np.random.default_rng(seed))
    k_ref, k_own = k_ref[burn:-1], k_own[burn:-1]
    return {"K_mean": float(k_own.mean()), "K_mean_exact": float(k_ref.mean()),
            "K_err": float(k_own.mean() / k_ref.mean() - 1.0)}
