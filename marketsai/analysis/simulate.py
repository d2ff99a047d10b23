"""One simulator of a policy in an economy: batched sessions through ``economy.step``.

Why one: every evaluation that plays a policy forward (interval-price duopolies, market
economies, Krusell--Smith) needs the same loop -- observe the state with the economy's
own observation function, ask the policy, map its actions onto the economy's decisions,
step. Written once here, the mapping (grid index -> grid value; interval value clipped
to its bounds, exactly as the environments do) cannot drift between evaluations.

* :func:`agent_columns` -- each acting agent's decision columns (the public layout read
  from :attr:`~marketsai.economy.Economy.decisions`);
* :func:`decision_values` -- one period's per-agent actions -> the ``(B, n_decisions)``
  array :meth:`~marketsai.economy.Economy.step` takes;
* :func:`observe_at` -- observations of hand-built states (a capital stock, a shock);
* :func:`act` -- a :class:`~marketsai.policies.Policy` on a state: observations in,
  decision values out;
* :func:`as_policy` -- a policy, or one plain function shared by every actor;
* :func:`simulate` -- ``periods`` periods of ``sessions`` simulations, recording what a
  caller asks for each period.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from marketsai.policies import Policy, SharedPolicy


def agent_columns(economy) -> dict[str, np.ndarray]:
    """Acting agent -> the indices of its decisions in ``economy.decisions`` (in order).

    >>> from marketsai.economy import load_economy
    >>> {a: c.tolist() for a, c in agent_columns(load_economy("economies/bertrand_duopoly.yaml")).items()}
    {'firm_0': [0], 'firm_1': [1]}
    """
    cols: dict[str, list[int]] = {a: [] for a in economy.actors}
    for d, s in enumerate(economy.decisions):
        cols[economy.agents[s.agent]].append(d)
    return {a: np.asarray(c, dtype=np.intp) for a, c in cols.items()}


def decision_values(economy, actions: dict[str, np.ndarray], batch: int) -> np.ndarray:
    """Decision values ``(batch, n_decisions)`` from each actor's actions ``(batch, ...)``:
    grid decisions take indices into their grid, interval decisions values (clipped to
    the interval, as the environments clip them).

    >>> from marketsai.economy import load_economy
    >>> econ = load_economy("economies/bertrand_duopoly.yaml")
    >>> v = decision_values(econ, {"firm_0": np.array([0]), "firm_1": np.array([14])}, 1)
    >>> v.round(4).tolist()
    [[1.4277, 1.9702]]
    """
    columns = agent_columns(economy)
    blocks = []
    for agent, cols in columns.items():
        a = np.asarray(actions[agent]).reshape(batch, -1)
        if a.shape[1] != len(cols):
            raise ValueError(f"{agent} has {len(cols)} decision(s); its policy gave {a.shape[1]} per row")
        blocks.append(a)
    # one array operation per decision kind, not per agent (10,000 households a period)
    given = np.concatenate(blocks, axis=1) if blocks else np.empty((batch, 0))
    order = np.concatenate([c for c in columns.values()]) if columns else np.empty(0, np.intp)
    values = np.empty((batch, len(economy.decisions)))
    grid = np.array([economy.decisions[d].kind == "grid" for d in order], dtype=bool)
    inside = order[~grid]
    low = np.array([economy.decisions[d].low for d in inside], dtype=np.float64)
    high = np.array([economy.decisions[d].high for d in inside], dtype=np.float64)
    values[:, inside] = np.clip(given[:, ~grid].astype(np.float64), low, high)
    for j in np.flatnonzero(grid):
        d = order[j]
        values[:, d] = np.asarray(economy.decisions[d].grid)[given[:, j].astype(np.intp)]
    return values


def observe_at(economy, fields: dict[str, np.ndarray], exo) -> dict[str, np.ndarray]:
    """Every agent's observation ``(B, dim)`` in hand-built states: a fresh initial state
    (seed 0) with the state ``fields`` (``"entry.field"`` -> ``(B, members)``, broadcast)
    replaced and the first aggregate process at indices ``exo`` ``(B,)``. The observation
    is then exactly the one a simulation in that state would produce (the economy's own
    scaling).
    """
    exo = np.asarray(exo, np.int64).ravel()
    state = economy.initial_state(np.random.default_rng(0), batch=exo.size)
    for name, value in fields.items():
        shape = state.fields[name].shape
        state.fields[name] = np.broadcast_to(np.asarray(value, np.float64).reshape(exo.size, -1), shape).copy()
    state.exo[:, 0] = exo
    return economy.observe(state)


def act(economy, policy: Policy, state) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The policy's actions ``{agent: (B, ...)}`` in ``state`` and their decision values."""
    obs = economy.observe(state)
    actions = policy.act_all({a: obs[a] for a in economy.actors})  # one call for a shared policy
    return actions, decision_values(economy, actions, state.batch)


def as_policy(economy, policy) -> Policy:
    """A :class:`Policy` of the economy's actors: ``policy`` itself, or a function
    ``act(obs) -> actions`` shared by every actor (a :class:`~marketsai.policies.SharedPolicy`;
    also a shared policy built without agents, such as a bare module's).

    >>> from marketsai.economy import load_economy
    >>> as_policy(load_economy("economies/brock_mirman_share.yaml"), lambda obs: obs[:, :1]).agents
    ('planner',)
    """
    if isinstance(policy, Policy) and policy.agents:
        return policy
    if callable(policy):
        return SharedPolicy(economy.actors, policy)
    raise TypeError(f"expected a Policy or a function obs -> actions, got {type(policy).__name__}")


def simulate(economy, policy: Policy, periods: int, *, sessions: int = 1, seed: int = 0, state=None,
             record: Callable | None = None, rng: np.random.Generator | None = None) -> dict:
    """Play ``policy`` for ``periods`` periods in ``sessions`` independent simulations.

    Starts from ``state`` (default: ``economy.initial_state`` drawn with ``seed``; shocks
    are drawn from the same generator, so two policies simulated with one seed face the
    same shocks when they start alike). ``record(t, state, actions, values, rewards, info,
    next_state) -> dict`` is called each period; its arrays are stacked over periods (other
    objects, such as states kept for later, are returned as lists).

    Returns ``{"state": final state, "values": (periods, sessions, n_decisions), "rewards":
    (periods, sessions, n_agents), **recorded}``.

    >>> from marketsai.economy import load_economy
    >>> from marketsai.policies import ConstantPolicy
    >>> econ = load_economy("economies/bertrand_duopoly.yaml")
    >>> out = simulate(econ, ConstantPolicy({"firm_0": 7, "firm_1": 7}), 3, sessions=2)
    >>> out["values"].shape, out["rewards"].shape
    ((3, 2, 2), (3, 2, 2))
    """
    policy = as_policy(economy, policy)
    rng = np.random.default_rng(seed) if rng is None else rng
    if state is None:
        state = economy.initial_state(rng, sessions)
    values, rewards, recorded = [], [], {}
    for t in range(periods):
        actions, v = act(economy, policy, state)
        nxt, r, info = economy.step(state, v, rng)
        values.append(v)
        rewards.append(r)
        if record is not None:
            for key, x in record(t, state, actions, v, r, info, nxt).items():
                recorded.setdefault(key, []).append(x)
        state = nxt
    out = {"state": state, "values": np.asarray(values), "rewards": np.asarray(rewards)}
    for k, v in recorded.items():  # arrays are stacked over periods; other objects kept as a list
        out[k] = np.asarray(v) if isinstance(v[0], (np.ndarray, np.number, int, float)) else v
    return out
