"""Observations: what each agent sees of an :class:`~marketsai.dynamics.EconomyState`.

An agent's observation concatenates the pieces its file declares
(``agents[].observation``), in this order:

* ``memory: k`` -- the last ``k`` periods' decisions of all participants of its markets;
* ``state`` -- its own state fields (a planner's ``k``);
* ``exo`` -- process fields (productivity ``z``, a demand shock; default: every aggregate one);
* ``moments`` -- cross-agent moments ``entry.field:mean|std`` (aggregate capital), whose size
  does not grow with the number of agents;
* ``prices`` -- the latest clearing prices of competitive markets (``r``, ``w``, ``p``).

With ``normalize`` (the default) decisions are scaled to [-1, 1] by their bounds, state
fields and moments by the field's declared range, process fields by their chain's
range, and prices are observed as logs. An agent that observes nothing gets a constant 0 (a bandit).
:meth:`Observer.aggregate` is the economy-wide state for centralised critics: the
history, every aggregate process field, the means of per-agent process fields, and the
mean (and, across several agents, the spread) of every state field.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces


def _scale(lo, hi):
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    span = np.where(hi > lo, hi - lo, 1.0)
    return 2.0 / span, -(hi + lo) / span


class Observer:
    """Precomputed observation layout of an economy (one per economy).

    Agents of one file entry share a layout, so each entry (a *group*; an entry whose
    agents watch different numbers of decisions is split into single agents) is observed
    as one array ``(B, count, dim)`` -- a population of households costs a few array
    operations, not a Python loop over households.
    """

    def __init__(self, econ):
        self.econ = econ
        dec = econ.decisions
        self._lo = np.array([s.low for s in dec])
        self._hi = np.array([s.high for s in dec])
        self._markets = np.array([s.market for s in dec], dtype=np.int64)
        self.groups = []  # (agent indices, pieces)
        self.spaces = {}
        for ent in econ.entries:
            seen = [self._seen(i) for i in ent.members]
            if len({len(x) for x in seen}) == 1:
                parts = [(list(ent.members), np.stack(seen))]
            else:
                parts = [([i], x[None]) for i, x in zip(ent.members, seen, strict=True)]
            for members, seen_rows in parts:
                pieces, space = self._layout(ent, members, seen_rows)
                self.groups.append((np.array(members, dtype=np.intp), pieces))
                for i in members:
                    self.spaces[econ.agents[i]] = space

    def _seen(self, i) -> np.ndarray:
        dec = self.econ.decisions
        markets_i = {dec[d].market for d in self.econ.layout.agent_cols[i]} - {-1}
        if not markets_i:  # decisions in no market (a household's saved share): sees none
            return np.empty(0, dtype=np.intp)
        # one array pass per agent: 10,000 households are 10,000 passes, not 10^8 Python steps
        return np.flatnonzero(np.isin(self._markets, sorted(markets_i))).astype(np.intp)

    def _layout(self, ent, members, seen):
        econ = self.econ
        ob = econ.spec.agents[members[0]].observation
        norm = ob["normalize"]
        positions = econ.position[members]
        pieces, low, high = [], [], []
        k = ob["memory"]
        if k and seen.shape[1]:
            lo, hi = self._lo[seen], self._hi[seen]  # (g, n_seen)
            sc, of = _scale(lo, hi) if norm else (np.ones_like(lo), np.zeros_like(lo))
            pieces.append(("memory", k, seen, sc, of))
            low += [np.tile(np.full(seen.shape[1], -1.0) if norm else lo[0], k)]
            high += [np.tile(np.full(seen.shape[1], 1.0) if norm else hi[0], k)]
        for f in (list(ent.kind.state) if ob["state"] is None else ob["state"]):
            flo, fhi = ent.kind.state_bounds(f)
            sc, of = _scale(flo, fhi) if norm else (1.0, 0.0)
            pieces.append(("state", f"{ent.name}.{f}", positions, sc, of))
            low.append([-np.inf])
            high.append([np.inf])
        exo = [f for p in econ.aggregate for f in p.chain.fields] if ob["exo"] is None else ob["exo"]
        for f in exo:
            vals = econ.exo_fields[f]
            sc, of = _scale(vals.min(), vals.max()) if norm else (1.0, 0.0)
            agentwise = any(f in p.chain.fields and f not in p.chain.aggregate for p in econ.idiosyncratic)
            pieces.append(("exo", f, np.asarray(members) if agentwise else None, sc, of))
            low.append([-1.0 if norm else float(vals.min())])
            high.append([1.0 if norm else float(vals.max())])
        for m in ob["moments"] or []:
            key, _, stat = m.partition(":")
            ent_name, _, f = key.partition(".")
            other = next(e for e in econ.entries if e.name == ent_name)
            flo, fhi = other.kind.state_bounds(f)
            sc, of = _scale(flo, fhi) if norm else (1.0, 0.0)
            if stat == "std":
                of = 0.0
            pieces.append(("moment", key, stat, sc, of))
            low.append([-np.inf])
            high.append([np.inf])
        for m in ob["prices"] or []:  # log prices are unit-free enough for a network
            pieces.append(("price", m, norm, 1.0, 0.0))
            low.append([-np.inf])
            high.append([np.inf])
        if not pieces:
            low, high = [[0.0]], [[0.0]]
        space = spaces.Box(np.concatenate(low).astype(np.float32), np.concatenate(high).astype(np.float32),
                           dtype=np.float32)
        return pieces, space

    @property
    def layout(self) -> list[list[tuple]]:
        """Per agent, its pieces ``(kind, key, where, scale, offset)`` in observation order.

        ``where`` is the agent's own: the decisions it remembers (memory), its position in
        its entry (state), its index for per-agent process fields, the statistic (moment),
        whether the price is logged (price).
        """
        out = [None] * len(self.econ.agents)
        for members, pieces in self.groups:
            for j, i in enumerate(members):
                mine = []
                for kind, key, where, sc, of in pieces:
                    if kind == "memory":
                        mine.append((kind, key, where[j], sc[j], of[j]))
                    elif kind in ("state", "exo") and where is not None:
                        mine.append((kind, key, int(where[j]), sc, of))
                    else:
                        mine.append((kind, key, where, sc, of))
                out[i] = mine
        return out

    def observe_groups(self, state) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per group: its agent indices and their observations ``(B, count, dim)`` float32."""
        from marketsai.dynamics import exo_values
        exo = exo_values(self.econ, state) if any(p[0] == "exo" for _, ps in self.groups for p in ps) else {}
        B = state.batch
        moments = {}
        out = []
        for members, pieces in self.groups:
            g = len(members)
            parts = []
            for kind, key, where, sc, of in pieces:
                if kind == "memory":  # (B, key, g, n_seen) -> (B, g, key * n_seen)
                    h = state.history[:, :key][:, :, where] * sc + of
                    parts.append(h.transpose(0, 2, 1, 3).reshape(B, g, -1))
                elif kind == "state":
                    parts.append((state.fields[key][:, where] * sc + of)[..., None])
                elif kind == "exo":
                    v = np.asarray(exo[key], dtype=float)
                    v = v[:, where] if where is not None else np.broadcast_to(v.reshape(B, 1), (B, g))
                    parts.append((v * sc + of)[..., None])
                elif kind == "price":
                    v = np.asarray(state.prices[key], dtype=float).reshape(B, 1, 1)
                    parts.append(np.broadcast_to(np.log(v) if where else v, (B, g, 1)))
                else:
                    if (key, where) not in moments:
                        v = state.fields[key]
                        moments[key, where] = v.mean(axis=1) if where == "mean" else v.std(axis=1)
                    parts.append(np.broadcast_to((moments[key, where] * sc + of).reshape(B, 1, 1), (B, g, 1)))
            body = np.concatenate(parts, axis=2) if parts else np.zeros((B, g, 1))
            out.append((members, body.astype(np.float32)))
        return out

    def observe(self, state) -> dict[str, np.ndarray]:
        """Agent name -> ``(B, dim)`` float32 observations."""
        names = self.econ.agents
        return {names[i]: obs[:, j] for members, obs in self.observe_groups(state) for j, i in enumerate(members)}

    def observe_actors(self, state) -> np.ndarray:
        """Every actor's observation as one array ``(B, n_actors, dim)`` (actors share one width)."""
        actor = np.zeros(len(self.econ.agents), dtype=bool)
        actor[self.econ.actor_index] = True
        parts = [obs[:, actor[members]] for members, obs in self.observe_groups(state) if actor[members].any()]
        return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]

    @property
    def _field_bounds(self) -> dict:
        """``"entry.field" -> (low, high)``, the declared range of every state field (computed once)."""
        out = self.__dict__.get("_bounds")
        if out is None:
            out = self.__dict__["_bounds"] = {f"{e.name}.{f}": e.kind.state_bounds(f)
                                              for e in self.econ.entries for f in e.kind.state}
        return out

    def aggregate(self, state, normalize: bool = False) -> np.ndarray:
        """The global state ``(B, dim)`` a centralised critic reads; its size does not grow with N.

        In order: the decision history; every aggregate process field (with the common
        fields of per-agent chains, Krusell–Smith's z); the cross-agent mean of every
        per-agent process field (the employment rate); per state field its mean and, where
        an entry has more than one agent, its standard deviation (the spread of wealth).
        With ``normalize`` each column is scaled as observations are (decisions by their
        bounds, fields by their ranges), so that a network can read it.
        """
        from marketsai.dynamics import exo_values
        econ = self.econ
        exo = exo_values(econ, state)
        B = state.batch
        h = state.history
        if normalize and h.size:
            sc, of = _scale(self._lo, self._hi)
            h = h * sc + of
        parts = [h.reshape(B, -1)]
        ranged = []  # (values (B, 1), low, high, is a spread)
        for f in [f for p in econ.aggregate for f in p.chain.fields] + \
                 [f for p in econ.idiosyncratic for f in p.chain.aggregate]:
            vals = econ.exo_fields[f]
            ranged.append((np.asarray(exo[f]).reshape(B, 1), vals.min(), vals.max(), False))
        for p in econ.idiosyncratic:
            for f in p.chain.fields:
                if f not in p.chain.aggregate:
                    vals = econ.exo_fields[f]
                    ranged.append((np.asarray(exo[f]).mean(axis=1, keepdims=True), vals.min(), vals.max(), False))
        for key, v in state.fields.items():
            lo, hi = self._field_bounds[key]
            ranged.append((v.mean(axis=1, keepdims=True), lo, hi, False))
            if v.shape[1] > 1:
                ranged.append((v.std(axis=1, keepdims=True), lo, hi, True))
        for v, lo, hi, spread in ranged:
            if normalize:
                sc, of = _scale(lo, hi)
                v = v * sc + (0.0 if spread else of)
            parts.append(v)
        return np.concatenate(parts, axis=1).astype(np.float32)
