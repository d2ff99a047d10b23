"""The one place where an economy moves: a frozen state and a pure ``step``.

Every economy -- a Bertrand duopoly with price memory, a planner accumulating capital --
is simulated by :func:`step`. Environments (PettingZoo, gymnasium, RLlib) are shells
around it, and :mod:`marketsai.tabulate` tabulates finite models from :func:`period`, the
deterministic part of it, so learners of both families see the same model.

Arrays carry a leading batch axis ``B``: ``B`` independent simulations (sessions, or
copies of an environment) step at once.

Timing of one period in state ``S`` with decisions ``x`` (``(B, n_decisions)`` values):
markets clear given the current exogenous values; each agent entry computes its own
outcome (consumption, ...), its reward and its next state; the decision history shifts;
the exogenous chains draw their next states.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class EconomyState:
    """The state of ``batch`` simulations of one economy (arrays are not modified in place).

    ``fields`` maps ``"<entry>.<field>"`` (``"planner.k"``) to ``(B, count)`` arrays;
    ``exo`` holds each aggregate process's chain index ``(B, n_aggregate)``;
    ``exo_agent`` each agent-scope process's indices ``(B, n_agents)``;
    ``history`` the last ``k`` periods' decision values ``(B, k, n_decisions)``, newest first;
    ``t`` the period; ``prices`` each competitive market's latest clearing price ``(B,)``
    (what agents observe of markets; before the first period, when some agent observes
    prices, those of a neutral period in which every decision sits at the middle of its
    range).
    """

    t: int
    fields: dict
    exo: np.ndarray
    exo_agent: dict
    history: np.ndarray
    prices: dict = dataclasses.field(default_factory=dict)

    @property
    def batch(self) -> int:
        return int(self.exo.shape[0])

    def sessions(self, lo: int, hi: int) -> EconomyState:
        """Sessions ``lo:hi`` (views of every array): a batched learner steps them apart when
        they draw from different generators."""
        return _each_array([self], lambda arrays: arrays[0][lo:hi])

    @staticmethod
    def concat(states) -> EconomyState:
        """States of one economy at one period as one batch of sessions, in order.

        >>> import marketsai as mai
        >>> econ = mai.load_economy("economies/bertrand_duopoly.yaml")
        >>> a, b = (econ.initial_state(np.random.default_rng(s), 2) for s in (0, 1))
        >>> both = EconomyState.concat([a, b])
        >>> both.batch, bool((both.sessions(2, 4).history == b.history).all())
        (4, True)
        """
        return states[0] if len(states) == 1 else _each_array(states, lambda arrays: np.concatenate(arrays))


def _each_array(states, combine) -> EconomyState:
    """``states[0]`` with every per-session array replaced by ``combine`` of the states' arrays."""
    first = states[0]

    def each(get):
        return combine([get(s) for s in states])
    return dataclasses.replace(
        first, fields={k: each(lambda s, k=k: s.fields[k]) for k in first.fields}, exo=each(lambda s: s.exo),
        exo_agent={k: each(lambda s, k=k: s.exo_agent[k]) for k in first.exo_agent},
        history=each(lambda s: s.history), prices={k: each(lambda s, k=k: s.prices[k]) for k in first.prices})


def _draw(P: np.ndarray, idx: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Next chain states by inverse CDF of the rows ``P[idx]``."""
    cdf = np.cumsum(P[idx], axis=-1)
    cdf[..., -1] = 1.0
    return (u[..., None] >= cdf).sum(axis=-1)


def exo_branches(econ, state: EconomyState, stepped: EconomyState) -> tuple[list, np.ndarray]:
    """Every next state the step from ``state`` to ``stepped`` could have reached: ``stepped``
    with its aggregate chain state set to each joint state ``e'`` of ``econ.exo_chain`` in
    turn (``E`` states), and each one's probability ``P(e, e')``, ``(B, E)``.

    Why: where the aggregate chain is a step's only draw, the next state is the period's
    deterministic part (:func:`period`) and that draw, so an expectation over the next state
    is an exact sum over the chain's row (a learner's expected targets). An economy with
    per-agent processes draws one chain state per agent as well: refused (ValueError).
    """
    if econ.idiosyncratic:
        raise ValueError("exo_branches covers the aggregate chain only; per-agent processes "
                         f"{[p.name for p in econ.idiosyncratic]} draw too")
    probs = np.asarray(econ.exo_chain.P)[econ.exo_chain_index(state)]
    n = econ.exo_chain.n_states  # the joint chain: the first process varies slowest
    joint = (np.stack(np.unravel_index(np.arange(n), econ.exo_sizes), axis=1) if econ.exo_sizes
             else np.zeros((n, 0), np.int64)).astype(np.int64)
    branches = [dataclasses.replace(stepped, exo=np.broadcast_to(index, stepped.exo.shape).copy()) for index in joint]
    return branches, probs


def initial_state(econ, rng: np.random.Generator, batch: int = 1) -> EconomyState:
    """Fresh simulations: agent states at their declared initial values, exo from p0, random history.

    The initial history of decisions is drawn uniformly from each decision's grid or
    interval, as in Calvano et al. (2020).
    """
    fields = {}
    for ent in econ.entries:
        for name, arr in ent.kind.initial_state(rng, batch).items():
            fields[f"{ent.name}.{name}"] = arr
    exo = np.zeros((batch, len(econ.aggregate)), dtype=np.int64)
    for c, p in enumerate(econ.aggregate):
        exo[:, c] = _draw(p.chain.p0[None], np.zeros(batch, dtype=np.int64), rng.random(batch))
    n = len(econ.agents)
    exo_agent = {p.name: p.chain.initial_panel(batch, n, rng) for p in econ.idiosyncratic}
    history = np.empty((batch, econ.memory, len(econ.decisions)))
    for d, s in enumerate(econ.decisions):
        if s.kind == "grid":
            history[:, :, d] = s.grid[rng.integers(0, s.size, size=(batch, econ.memory))]
        else:
            history[:, :, d] = rng.uniform(s.low, s.high, size=(batch, econ.memory))
    state = EconomyState(t=0, fields=fields, exo=exo, exo_agent=exo_agent, history=history)
    if econ.clearing is None or not any(a.observation["prices"] for a in econ.spec.agents):
        return state  # nobody observes prices before the first period clears them
    middle = np.array([s.grid[s.size // 2] if s.kind == "grid" else 0.5 * (s.low + s.high) for s in econ.decisions])
    _, _, info = period(econ, state, np.broadcast_to(middle, (batch, len(middle))))
    return dataclasses.replace(state, prices={k: rep.price for k, rep in info["markets"].items()})


def exo_values(econ, state: EconomyState) -> dict:
    """Process field -> current values: ``(B,)`` for aggregate fields, ``(B, n_agents)`` per agent."""
    out = {}
    for c, p in enumerate(econ.aggregate):
        for f in p.chain.fields:
            out[f] = p.chain.value(f)[state.exo[:, c]]
    for p in econ.idiosyncratic:
        idx = state.exo_agent[p.name]
        for f in p.chain.fields:  # a per-agent chain's aggregate fields (KS's z) are common: (B,)
            out[f] = p.chain.value(f)[idx[:, 0] if f in p.chain.aggregate else idx]
    return out


def _entry_exo(exo: dict, members) -> dict:
    """Process values as an entry sees them: per-agent fields cut to its members ``(B, count)``."""
    return {f: (v[:, list(members)] if np.ndim(v) == 2 else v) for f, v in exo.items()}


def entry_views(econ, state: EconomyState, x: np.ndarray, exo: dict) -> dict:
    """Entry index -> ``(own state, decisions, its exo)`` of every entry with its own decisions.

    What an agent type's functions read, and what the competitive clearing
    (:mod:`marketsai.clearing`) evaluates its participants at.
    """
    views = {}
    for e, ent in enumerate(econ.entries):
        if not ent.kind.trades:
            own_state = {f: state.fields[f"{ent.name}.{f}"] for f in ent.kind.state}
            views[e] = (own_state, x[:, econ.layout.entry_cols[e]], _entry_exo(exo, ent.members))
    return views


def period(econ, state: EconomyState, x: np.ndarray):
    """The deterministic part of a period: ``(rewards (B, n), next fields, info)``.

    ``info`` holds the strategic markets' outcome (``price``, ``quantity``, ``profit`` per
    decision), per entry what its agents' own decisions produced (``consumption``,
    ``infeasible``, ...), and, in an economy with competitive markets, ``markets``: each
    one's :class:`~marketsai.markets.Report` (price, supply, demand, excess demand).
    """
    x = np.asarray(x, dtype=float)
    B = x.shape[0]
    exo = exo_values(econ, state)
    prices, quantities, profits = econ.clear_markets(x, exo, econ.exo_chain_index(state))
    rewards = np.empty((B, len(econ.agents)))
    fields = {}
    info = {"price": prices, "quantity": quantities, "profit": profits, "action": x, "exo": exo}
    for ent in econ.entries:
        if ent.kind.trades:
            for i in ent.members:
                rewards[:, i] = ent.kind.reward(None, None, {"profit": profits[:, econ.layout.agent_cols[i]]}, exo)
    views = entry_views(econ, state, x, exo)
    clearing, settled = econ.clearing, {}
    if clearing is not None:  # competitive markets clear jointly, given every participant's state and decisions
        cleared = clearing.clear(views, exo, B)
        settled = clearing.settle(cleared, views)
    outcomes = {}
    for e, (own_state, dec, ex) in views.items():
        ent = econ.entries[e]
        out = outcomes[e] = settled[e] if e in settled else ent.kind.own_outcome(own_state, dec, ex, None)
        rewards[:, list(ent.members)] = ent.kind.reward(own_state, dec, out, ex)
        for f, v in ent.kind.transition(own_state, dec, out, ex).items():
            fields[f"{ent.name}.{f}"] = v
        info[ent.name] = out
    if clearing is not None:
        info["markets"] = clearing.report(cleared, outcomes)
    return rewards, fields, info


def step(econ, state: EconomyState, actions, rng: np.random.Generator):
    """One period of every simulation in the batch: ``(state', rewards (B, n_agents), info)``.

    ``actions`` are decision values ``(B, n_decisions)`` in the order of ``econ.decisions``
    (environments map their action spaces onto them). Pure: ``state`` is not modified and
    all randomness comes from ``rng``.
    """
    x = np.asarray(actions, dtype=float)
    rewards, fields, info = period(econ, state, x)
    fields = {**state.fields, **fields}
    k = state.history.shape[1]
    history = state.history
    if k:
        history = np.concatenate([x[:, None, :], state.history[:, :-1]], axis=1)
    exo = state.exo.copy()
    for c, p in enumerate(econ.aggregate):
        exo[:, c] = _draw(p.chain.P, state.exo[:, c], rng.random(state.batch))
    exo_agent = {}
    for p in econ.idiosyncratic:  # agents of a session share the chain's aggregate fields
        exo_agent[p.name] = p.chain.step_panel(state.exo_agent[p.name], rng)
    prices = {k: rep.price for k, rep in info["markets"].items()} if "markets" in info else state.prices
    return (EconomyState(t=state.t + 1, fields=fields, exo=exo, exo_agent=exo_agent, history=history, prices=prices),
            rewards, info)
