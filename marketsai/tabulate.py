"""Tabulating an economy for tabular learners and DP solvers.

Both tables come from the economy's own period function (:func:`marketsai.dynamics.period`,
the deterministic part of :func:`~marketsai.dynamics.step`), evaluated on every
(state, joint action) at once, so a tabular learner and a deep one face the same model.

* :func:`finite_game` -- a repeated pricing/quantity game (payoff tensor + memory states,
  :class:`~marketsai.finite_game.FiniteGame`), for economies of firms;
* :func:`finite_model` -- the general :class:`~marketsai.finite_model.FiniteModel`: the
  game's memory model, or, for agents with state (a planner's capital), the product of
  their state grids as endogenous states, with next states read back onto the grids.
  An agent with several grid decisions (a planner choosing ``k_j'`` for each of ``d``
  capital stocks) is one agent of the model with ``prod_j G_j`` joint actions, the
  row-major index of its decisions (its first decision varies slowest), and all state
  grids together are one endogenous state index (first field varies slowest).
"""

from __future__ import annotations

import math

import numpy as np

from marketsai.errors import SpecError
from marketsai.finite_game import FiniteGame
from marketsai.finite_model import FiniteModel
from marketsai.limits import check_bytes

# Tabulating evaluates every (state, joint action) at once; the period function holds about
# a dozen float64 arrays of that length per decision or agent while it runs.
TABLE_BUDGET = 2 * 1024**3


def _grid_decisions(econ):
    sets = list(econ.decisions)
    for s in sets:
        if s.kind != "grid":
            raise SpecError("finite models need grid actions", path=f"{econ.spec.agents[s.agent].source}.action.kind",
                            value="interval", allowed="grid")
    return sets


def finite_game(econ) -> FiniteGame:
    """Tabulate an economy of firms as a :class:`FiniteGame`.

    Requires every agent to take one grid decision, all grids of one size and one
    memory length. With shocks, the Nash and cooperative payoffs that define profit
    gains are averages over the stationary distribution of the shock chain.
    """
    n = len(econ.agents)
    if econ.has_state or not all(e.kind.trades for e in econ.entries):
        raise SpecError("finite_game is for economies of firms; use finite_model", path="agents",
                        allowed="agents that trade in markets")
    if len(econ.decisions) != n:
        raise SpecError("finite_game needs every agent in exactly one market", path="markets",
                        allowed="one market per agent (use parallel_env for multi-market economies)")
    order = sorted(range(n), key=lambda d: econ.decisions[d].agent)
    sets = [econ.decisions[d] for d in order]
    _grid_decisions(econ)
    sizes = {s.size for s in sets}
    if len(sizes) != 1:
        raise SpecError("finite_game needs the same number of grid points for every agent",
                        path="agents[].action.points", value=sorted(sizes), allowed="one value")
    memories = {a.observation["memory"] for a in econ.spec.agents}
    if len(memories) != 1:
        raise SpecError("finite_game needs one memory length for all agents",
                        path="agents[].observation.memory", value=sorted(memories), allowed="one value")
    m = sizes.pop()
    check_bytes(float(m) ** n * n * 8 * (2 * econ.exo_chain.n_states + 12), "agents[].action.points",
                "tabulating the joint action table", value=m, budget=TABLE_BUDGET)
    grids = np.stack([s.grid for s in sets])  # (n, m)
    idx = np.indices((m,) * n).reshape(n, -1).T  # (m**n, n), agent 0 most significant
    values = np.empty(idx.shape)
    for d in range(n):
        values[:, order[d]] = grids[d, idx[:, d]]
    payoffs, prices = [], []
    for z in econ.shock_values:
        r, p, _ = econ.clear(values, float(z))
        payoffs.append(r)
        prices.append(p[:, order])
    bench = econ.expected_benchmarks().loc[list(econ.agents)]  # stationary mean over shock states

    def per_agent(col):
        return bench[col].to_numpy(dtype=np.float64, copy=True)

    return FiniteGame(agents=econ.agents, actions=grids, payoffs=np.stack(payoffs), prices=np.stack(prices),
                      memory=memories.pop(), discount=econ.discount, exo_observed=_exo_observed(econ),
                      nash_payoff=per_agent("nash_profit"), coop_payoff=per_agent("coop_profit"),
                      nash_action=per_agent("nash_action"), coop_action=per_agent("coop_action"),
                      exo_transition=econ.shock_transition, exo_initial=econ.shock_initial,
                      exo_values=econ.shock_values)


def _exo_observed(econ) -> bool:
    """Whether the agents condition on the exogenous state (``observation.exo``).

    All agents must agree: each observes every field of the aggregate chain (the default,
    ``exo: null``) or none of them (``exo: []``: the shock moves payoffs unseen).
    """
    fields = set(econ.exo_chain.fields) - {"_none"}
    if not fields:
        return True
    seen = [fields if a.observation.get("exo") is None else set(a.observation["exo"]) & fields
            for a in econ.spec.agents]
    if all(s == fields for s in seen):
        return True
    if all(not s for s in seen):
        return False
    raise SpecError("finite games need every agent to observe all exogenous fields or none",
                    path="agents[].observation.exo", value=sorted(sorted(s) for s in seen),
                    allowed=f"null (all of {sorted(fields)}) or [] for every agent")


def finite_model(econ) -> FiniteModel:
    """The economy's :class:`FiniteModel` (see the module docstring).

    Economies of firms give their game's memory model. Economies with agent state need
    grid decisions that land on the state grids (a planner with ``choice: next_state``),
    no memory, and aggregate processes only; infeasible decisions (no positive
    consumption) become unavailable actions (``n_feasible``) when they are the top of an
    agent's action list, or -- for agent types that project them onto feasible ones
    (``projects_infeasible``) -- stay available and do what their projection does.

    An agent's decisions form one action of the model: with decisions of ``G_1 .. G_m``
    points its action ``a = sum_l a_l prod_{l' > l} G_l'`` (row-major), so that
    ``np.unravel_index(a, (G_1, .., G_m))`` gives back the decision indices;
    ``action_values[i]`` is the decision grid of an agent with one decision and the
    joint index ``0 .. prod G - 1`` (as floats) of an agent with several.
    The table is refused before it is built when it does not fit
    (:func:`marketsai.limits.check_bytes`, naming the field that sizes it).
    """
    if not econ.has_state:
        return FiniteModel.from_game(finite_game(econ))
    from marketsai.dynamics import EconomyState, period
    sets = _grid_decisions(econ)
    if econ.memory:
        raise SpecError("finite models of economies with agent state take no price memory",
                        path="agents[].observation.memory", value=econ.memory, allowed="0")
    if econ.idiosyncratic:
        raise SpecError("finite models take aggregate processes only", path=f"processes.{econ.idiosyncratic[0].name}.scope",
                        value="agent", allowed="aggregate")
    # endogenous states: the product of every state grid of every agent (first varies slowest)
    axes = []  # (key, position, grid)
    for ent in econ.entries:
        for f in ent.kind.state:
            for pos in range(len(ent.members)):
                axes.append((f"{ent.name}.{f}", pos, ent.kind.state_grid(f)))
    sizes = [len(g) for _, _, g in axes]
    dec_sizes = [s.size for s in sets]  # decisions in agent order
    agents_of = [s.agent for s in sets]
    if agents_of != sorted(agents_of) or len(set(agents_of)) != len(econ.agents):
        raise SpecError("finite models need at least one grid decision of every agent", path="agents[].action",
                        allowed="grid decisions for every agent")
    # an agent's decisions are one joint action (row-major): decisions are in agent order
    joint = [math.prod(z for a, z in zip(agents_of, dec_sizes, strict=True) if a == i)
             for i in range(len(econ.agents))]  # Python ints: no overflow before the size check
    n_x, M, n_exo = math.prod(sizes), math.prod(dec_sizes), econ.exo_chain.n_states
    owners = {key.split(".", 1)[0] for key, _, _ in axes}
    path, shape_of = "agents[].state", f"{n_exo} x {n_x:,} states x {M:,} joint actions"
    if len(owners) == 1:
        ent = next(e for e in econ.entries if e.name in owners)
        path = f"{ent.where}.{getattr(ent.kind, 'table_field', 'state')}"
        shape_of = (f"{len(axes)} state grids of {'x'.join(map(str, sizes))} points: {n_exo} x {n_x:,} states "
                    f"x {M:,} joint actions")
    check_bytes(float(n_x) * M * n_exo * 8 * (12 + 2 * len(econ.agents) + len(sets)), path,
                "tabulating the finite model", value=shape_of, budget=TABLE_BUDGET)
    n_actions = np.array(joint, dtype=np.int64)
    e_idx, x_idx, j_idx = (a.ravel() for a in np.indices((n_exo, n_x, M)))
    B = e_idx.size
    x_coords = np.unravel_index(x_idx, sizes) if axes else ()
    fields = {}
    for ent in econ.entries:
        for f in ent.kind.state:
            fields[f"{ent.name}.{f}"] = np.empty((B, len(ent.members)))
    for (key, pos, grid), c in zip(axes, x_coords, strict=True):
        fields[key][:, pos] = grid[c]
    exo = np.stack(np.unravel_index(e_idx, econ.exo_sizes), axis=1) if econ.exo_sizes else np.zeros((B, 0), np.int64)
    j_coords = np.unravel_index(j_idx, dec_sizes)
    x = np.stack([sets[d].grid[j_coords[d]] for d in range(len(sets))], axis=1)
    state = EconomyState(t=0, fields=fields, exo=exo, exo_agent={}, history=np.zeros((B, 0, len(sets))))
    rewards, nxt, info = period(econ, state, x)
    # next states back onto the grids
    next_coords = []
    for key, pos, grid in axes:
        v = nxt[key][:, pos]
        c = np.clip(np.searchsorted(grid, v), 0, len(grid) - 1)
        c = np.where(np.abs(grid[c - 1] - v) < np.abs(grid[c] - v), c - 1, c)
        if not np.allclose(grid[c], v, rtol=1e-12, atol=1e-12 * max(1.0, abs(grid[-1]))):
            ent = next(e for e in econ.entries if key.startswith(e.name + "."))
            raise SpecError(f"decisions do not land on the grid of {key}, so the model is not finite",
                            path=f"{ent.where}.action.choice", value=ent.kind.action.get("choice"),
                            allowed="next_state (choose the next value on the state grid)")
        next_coords.append(c)
    next_x = np.ravel_multi_index(next_coords, sizes) if axes else np.zeros(B, np.int64)
    infeasible = np.zeros((B, len(econ.agents)), dtype=bool)
    outcome, name = rewards, "reward"
    for ent in econ.entries:
        out = info.get(ent.name, {})
        if "infeasible" in out:
            infeasible[:, list(ent.members)] = out["infeasible"]
        if "consumption" in out and len(econ.entries) == 1:
            outcome, name = out["consumption"], "consumption"
    shape = (n_exo, n_x, M)
    n_feasible = None
    if infeasible.any():
        n_feasible = np.empty(shape[:2] + (len(econ.agents),), dtype=np.int64)
        for i in range(len(econ.agents)):
            # agent i's action a is feasible in (e, x) if it is feasible whatever the others do
            bad = infeasible[:, i].reshape(shape[:2] + tuple(n_actions)).any(
                axis=tuple(2 + d for d in range(len(n_actions)) if d != i))
            count = (~bad).sum(axis=-1)
            if np.any(bad[..., :-1] & ~bad[..., 1:]) or np.any(count < 1):
                if getattr(econ.entries[econ.entry_of[i]].kind, "projects_infeasible", False):
                    count = np.full(count.shape, n_actions[i])  # aliases of their projections
                else:
                    raise SpecError("the feasible decisions of an agent are not the lowest grid points",
                                    path=f"{econ.spec.agents[i].source}.action", allowed="ascending grids")
            n_feasible[..., i] = count
    xv = {}
    coords = np.unravel_index(np.arange(n_x), sizes) if axes else ()
    for a, (key, pos, grid) in enumerate(axes):
        count = len(next(e for e in econ.entries if key.startswith(e.name + ".")).members)
        one_agent = len(owners) == 1 and count == 1  # all fields are one agent's: name them by field
        label = key.split(".", 1)[1] if len(axes) == 1 or one_agent else (key if count == 1 else f"{key}[{pos}]")
        xv[label] = grid[coords[a]]
    action_values = []
    for i in range(len(econ.agents)):
        own = [s for s in sets if s.agent == i]
        action_values.append(own[0].grid if len(own) == 1 else np.arange(n_actions[i], dtype=np.float64))
    x_initial = _initial_distribution(econ, axes, sizes)
    return FiniteModel(agents=econ.agents, n_actions=n_actions, rewards=rewards.reshape(shape + (-1,)),
                       next_x=next_x.reshape(shape), discount=econ.discount,
                       exo_transition=econ.exo_chain.P, exo_initial=econ.exo_chain.p0, x_initial=x_initial,
                       n_feasible=n_feasible, outcomes=np.asarray(outcome).reshape(shape + (-1,)),
                       outcome_name=name, action_values=tuple(action_values), x_values=xv,
                       exo_values={f: econ.exo_chain.value(f) for f in econ.exo_chain.fields if f != "_none"})


def _initial_distribution(econ, axes, sizes) -> np.ndarray:
    """Point mass at the grid point nearest each declared initial value; 'uniform' spreads it."""
    p = np.ones(1)
    for key, _pos, grid in axes:
        ent_name, f = key.split(".", 1)
        ent = next(e for e in econ.entries if e.name == ent_name)
        ini = ent.kind.state_spec[f]["initial"]
        if ini == "uniform":
            q = np.full(len(grid), 1.0 / len(grid))
        else:
            q = np.zeros(len(grid))
            q[int(np.argmin(np.abs(grid - ini * ent.kind.scale(f))))] = 1.0
        p = np.outer(p, q).ravel()
    return p
