"""Long-run averages of a market economy whose households share one (trained) policy.

Why: the two-sector economy's learners are measured by where the *market economy* they
drive settles, not by a savings rule on a grid: ``N`` households act on their own
observations, the markets clear, capital moves, and the long-run averages of the
aggregates (per household) are compared with the reference steady state
(:func:`marketsai.solvers.two_sector.steady_state`). Everything goes through the
economy's own :meth:`~marketsai.economy.Economy.initial_state`,
:meth:`~marketsai.economy.Economy.observe` and :meth:`~marketsai.economy.Economy.step`
(the one simulator, :func:`marketsai.analysis.simulate.simulate`), and actions are mapped
onto decisions exactly as the environments map them (clipped to the bounds).

* :func:`economy_with` -- the economy of a file (or mapping) with dotted overrides
  (``agents[0].count``, ``agents[1].params.alpha``), as ``--set economy.*`` applies them;
* :func:`constant_actor` -- ``act(obs)`` that always plays the same action (the exact
  steady-state shares: the sanity row);
* :func:`market_path` -- a long deterministic path of ``sessions`` economies under
  ``act``; per-period aggregates per household and the markets' largest excess demand;
* :func:`long_run` -- the averages after burn-in and their relative errors against a
  reference;
* :func:`two_sector_reference` -- the reference steady state of a two-sector economy
  file, with the households' steady-state shares ``s = p I / (r K + w L)`` and ``l = L``.
"""

from __future__ import annotations

import copy

import numpy as np

from marketsai.analysis.simulate import agent_columns, simulate

__all__ = ["economy_with", "constant_actor", "market_path", "long_run",
           "two_sector_reference", "AGGREGATES"]

#: per-household aggregates recorded each period, in table order
AGGREGATES = ("K", "L", "C", "I", "p", "r", "w")


def economy_with(source, overrides: dict | None = None):
    """The :class:`~marketsai.economy.Economy` of a file, a shipped economy's name or a
    mapping, with dotted overrides.

    >>> econ = economy_with("economies/two_sector_labor.yaml", {"agents[0].count": 3})
    >>> len(econ.actors)
    3
    """
    from marketsai.economy import Economy
    from marketsai.runner.schema import read_yaml, set_path
    from marketsai.shipped import economy_file

    if not isinstance(source, dict):
        source = economy_file(source)  # a file, or a shipped economy's name
    data = copy.deepcopy(source) if isinstance(source, dict) else read_yaml(source)
    for key, value in (overrides or {}).items():
        set_path(data, key, value)
    return Economy.from_dict(data, file=None if isinstance(source, dict) else source)


def constant_actor(action):
    """``act(obs) -> (n, len(action))``: the same action for every observation."""
    a = np.asarray(action, np.float64).ravel()

    def act(obs):
        return np.broadcast_to(a, (len(obs), a.size)).copy()
    return act


def market_path(econ, act, *, sessions: int = 8, periods: int = 3000, seed: int = 0) -> dict:
    """``periods`` periods of ``sessions`` simulations of ``econ`` with every household on ``act``
    (a :class:`~marketsai.policies.Policy` or a shared ``act(obs) -> actions``).

    Returns per-period arrays ``(periods, sessions)`` of :data:`AGGREGATES` -- capital
    (the stock rented out that period), hours, consumption and investment-good purchases
    per household; the investment good's price ``p`` and the rental and wage rates --, the
    households' mean decisions ``s`` and ``l`` (savings share and hours, as clipped), and
    ``excess`` (the largest absolute excess demand over all markets) and ``budget`` (the
    largest absolute budget residual ``c + p i - (r k + w l + dividend)``) per period.
    """
    hh = [e for e in econ.entries if e.kind.__class__.__name__ == "Household"]
    if len(hh) != 1:
        raise ValueError("market_path expects one household entry")
    name, delta = hh[0].name, hh[0].kind.p["delta"]
    own = np.stack([agent_columns(econ)[econ.agents[i]] for i in hh[0].members])  # (N, decisions)

    def record(t, state, actions, values, rewards, info, nxt):
        k = state.fields[f"{name}.k"]
        h, mk = info[name], info["markets"]
        inv = h["purchases"].get("investment")
        p = mk["investment"].price if "investment" in mk else np.ones(len(k))
        spend = h["consumption"] + (p[:, None] * inv if inv is not None else 0.0)
        return {"K": k.mean(axis=1), "L": h["hours"].mean(axis=1), "C": h["consumption"].mean(axis=1),
                "I": (inv if inv is not None else h["k_next"] - (1 - delta) * k).mean(axis=1),
                "p": p, "r": mk["capital"].price, "w": mk["labour"].price,
                "s": values[:, own[:, 0]].mean(axis=1), "l": values[:, own[:, -1]].mean(axis=1),
                "excess": np.max([np.max(np.abs(rep.excess_demand)) for rep in mk.values()]),
                "budget": np.max(np.abs(spend - h["income"])) if inv is not None else 0.0}

    run = simulate(econ, act, periods, sessions=sessions, seed=seed, record=record)
    return {k: np.broadcast_to(np.asarray(run[k], np.float64).reshape(periods, -1), (periods, sessions))
            for k in (*AGGREGATES, "s", "l", "excess", "budget")}


def long_run(path: dict, reference: dict, burn: int) -> dict:
    """Averages of :data:`AGGREGATES` over periods ``burn:`` and sessions, their relative
    errors ``x / x_ref - 1`` against ``reference`` (``err_<name>``), the largest absolute
    error among K, L, C, I, p (``err_max``), the spread across sessions of the average K
    (``K_sd_sessions``), the mean decisions ``s``, ``l``, and, when ``reference`` holds the
    ``model``, the household's first-order conditions at the averages: ``euler_gap``
    ``r / (p rho) - 1`` with ``rho = 1/beta - 1 + delta``, capital's rent per unit of its
    price against the one the steady-state Euler equation asks (negative: too much saving) and ``hours_gap`` ``w (1 - l) / (psi c) - 1`` (negative:
    too many hours); then the largest excess demand and budget residual on the path."""
    row = {}
    for k in AGGREGATES:
        v = path[k][burn:]
        row[k] = float(v.mean())
        row[f"err_{k}"] = float(v.mean() / reference[k] - 1.0)
    row["err_max"] = float(max(abs(row[f"err_{k}"]) for k in ("K", "L", "C", "I", "p")))
    m = reference.get("model")
    if m is not None:  # the household's first-order conditions at the long-run averages
        row["euler_gap"] = float(row["r"] / (row["p"] * m.rho_rent) - 1.0)
        row["hours_gap"] = float(row["w"] * (1.0 - row["L"]) / (m.psi * row["C"]) - 1.0)
    row["s"] = float(path["s"][burn:].mean())
    row["l"] = float(path["l"][burn:].mean())
    row["K_sd_sessions"] = float(path["K"][burn:].mean(axis=0).std())
    row["K_sd_time"] = float(path["K"][burn:].std(axis=0).mean())
    row["max_excess_demand"] = float(path["excess"].max())
    row["max_budget_residual"] = float(path["budget"].max())
    return row


def two_sector_reference(econ, **solver) -> dict:
    """The reference steady state of a two-sector economy (per household) and the
    households' steady-state decisions: ``s = p I / (r K + w L)`` and ``l = L``; ``solver``:
    keywords of :func:`~marketsai.solvers.two_sector.steady_state` (``method``, ``tol``,
    ``max_iter``)."""
    from marketsai.solvers.two_sector import TwoSectorModel, steady_state

    hh = next(e for e in econ.entries if e.kind.__class__.__name__ == "Household").kind
    by_use = {}
    for m in econ.spec.markets:
        use = (m.params or {}).get("use")
        if use in ("consumption", "investment"):
            ent = next(e for e in econ.entries if e.name in m.written and e.kind is not hh)
            by_use[use] = ent.kind.p
    c, i = by_use["consumption"], by_use["investment"]
    model = TwoSectorModel(beta=econ.discount, delta=hh.p["delta"], psi=hh.p["psi"],
                           A_c=c["tfp"], A_i=i["tfp"], a_c=c["alpha"], a_i=i["alpha"])
    ss = steady_state(model, **solver)
    return {"K": ss.K, "L": ss.L, "C": ss.C, "I": ss.I, "p": ss.p, "r": ss.r, "w": ss.w,
            "s": ss.p * ss.I / (ss.r * ss.K + ss.w * ss.L), "l": ss.L, "model": model}
