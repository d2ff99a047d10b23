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
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from marketsai.errors import SpecError

__all__ = ["observations", "module_actor", "policy_savings", "growth_report", "load_module",
           "REPORT_KEYS"]

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
    from marketsai.analysis.euler import (
        ergodic_euler_stats,
        ergodic_policy_error,
        euler_error_stats,
        simulate_path,
        welfare_loss,
    )
    from marketsai.analysis.growth import growth_model_of, reference_savings

    model = growth_model_of(econ)
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


def load_module(checkpoint: str | Path, module_id: str = "default_policy"):
    """The RLModule ``module_id`` of an Algorithm checkpoint (an ``env.sessions`` run's
    single module is ``default_policy``). Unpickles the checkpoint: only your own runs."""
    from ray.rllib.core.rl_module.rl_module import RLModule

    from marketsai.rl.export import warn_unsafe

    path = Path(checkpoint) / "learner_group" / "learner" / "rl_module" / module_id
    if not path.is_dir():
        raise SpecError("no such module in the checkpoint", path="checkpoint", value=str(path),
                        allowed="an Algorithm checkpoint folder holding learner_group/learner/rl_module/"
                                + module_id)
    warn_unsafe(checkpoint)
    return RLModule.from_checkpoint(str(path))
