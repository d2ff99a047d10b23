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
history, every aggregate process field and the mean of every state field.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces


def _scale(lo, hi):
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    span = np.where(hi > lo, hi - lo, 1.0)
    return 2.0 / span, -(hi + lo) / span


class Observer:
    """Precomputed observation layout of an economy (one per economy)."""

    def __init__(self, econ):
        self.econ = econ
        dec = econ.decisions
        lo = np.array([s.low for s in dec])
        hi = np.array([s.high for s in dec])
        self.layout = []
        self.spaces = {}
        for i, name in enumerate(econ.agents):
            spec = econ.spec.agents[i]
            ob = spec.observation
            ent = econ.entries[econ.entry_of[i]]
            norm = ob["normalize"]
            own = econ._agent_cols[i]
            markets_i = {dec[d].market for d in own} - {-1}
            seen = np.array([d for d, s in enumerate(dec) if s.market in markets_i], dtype=np.intp)
            pieces, low, high = [], [], []
            k = ob["memory"]
            if k and len(seen):
                sc, of = _scale(lo[seen], hi[seen]) if norm else (np.ones(len(seen)), np.zeros(len(seen)))
                pieces.append(("memory", k, seen, sc, of))
                low += [np.tile(np.full(len(seen), -1.0) if norm else lo[seen], k)]
                high += [np.tile(np.full(len(seen), 1.0) if norm else hi[seen], k)]
            for f in (list(ent.kind.state) if ob["state"] is None else ob["state"]):
                flo, fhi = ent.kind.state_bounds(f)
                sc, of = _scale(flo, fhi) if norm else (1.0, 0.0)
                pieces.append(("state", f"{ent.name}.{f}", int(econ.position[i]), sc, of))
                low.append([-np.inf])
                high.append([np.inf])
            exo = [f for p in econ.aggregate for f in p.chain.fields] if ob["exo"] is None else ob["exo"]
            for f in exo:
                vals = econ.exo_fields[f]
                sc, of = _scale(vals.min(), vals.max()) if norm else (1.0, 0.0)
                agentwise = any(f in p.chain.fields and f not in p.chain.aggregate for p in econ.idiosyncratic)
                pieces.append(("exo", f, i if agentwise else None, sc, of))
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
            self.layout.append(pieces)
            if not pieces:
                low, high = [[0.0]], [[0.0]]
            self.spaces[name] = spaces.Box(np.concatenate(low).astype(np.float32),
                                           np.concatenate(high).astype(np.float32), dtype=np.float32)

    def observe(self, state) -> dict[str, np.ndarray]:
        """Agent name -> ``(B, dim)`` float32 observations."""
        from marketsai.dynamics import exo_values
        exo = exo_values(self.econ, state) if any(p[0] == "exo" for ps in self.layout for p in ps) else {}
        B = state.batch
        out = {}
        for name, pieces in zip(self.econ.agents, self.layout, strict=True):
            parts = []
            for kind, key, where, sc, of in pieces:
                if kind == "memory":
                    parts.append((state.history[:, :key, where] * sc + of).reshape(B, -1))
                elif kind == "state":
                    parts.append(state.fields[key][:, where:where + 1] * sc + of)
                elif kind == "exo":
                    v = exo[key] if where is None else exo[key][:, where]
                    parts.append(np.asarray(v).reshape(B, 1) * sc + of)
                elif kind == "price":
                    v = np.asarray(state.prices[key], dtype=float).reshape(B, 1)
                    parts.append(np.log(v) if where else v)
                else:
                    v = state.fields[key]
                    stat = v.mean(axis=1) if where == "mean" else v.std(axis=1)
                    parts.append(stat.reshape(B, 1) * sc + of)
            body = np.concatenate(parts, axis=1) if parts else np.zeros((B, 1))
            out[name] = body.astype(np.float32)
        return out

    def aggregate(self, state) -> np.ndarray:
        """The global state ``(B, dim)``: history, aggregate process fields, mean of each state field."""
        from marketsai.dynamics import exo_values
        exo = exo_values(self.econ, state)
        B = state.batch
        parts = [state.history.reshape(B, -1)]
        parts += [np.asarray(exo[f]).reshape(B, 1) for p in self.econ.aggregate for f in p.chain.fields]
        parts += [v.mean(axis=1, keepdims=True) for v in state.fields.values()]
        return np.concatenate(parts, axis=1).astype(np.float32)
