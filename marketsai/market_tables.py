"""Market outcomes on action grids, tabulated once: a cache of ``Market.clear``.

Why: a market whose participants all choose from grids has finitely many outcomes per
exogenous state. Clearing it with NumPy costs tens of microseconds for one small
profile, which dominates one environment step; looking the outcome up costs a few. The
table is filled by the market's own ``clear`` on every grid profile (the market stays the
single source of truth) and is used only when every decision value lies exactly on its
grid; anything else clears the market directly.
"""

from __future__ import annotations

import numpy as np

MAX_ENTRIES = 1 << 16  # grid profiles x exogenous states of one market's table


class MarketTable:
    """Outcomes ``(n_exo, M, n)`` of one market over the joint grid of its participants."""

    def __init__(self, market, grids: list[np.ndarray], inputs: dict, exo_chain):
        sizes = [len(g) for g in grids]
        self.grids = grids
        self._index = [{float(v): i for i, v in enumerate(g)} for g in grids]  # for batches of one
        self.strides = np.cumprod([1] + sizes[::-1][:-1])[::-1].astype(np.intp)
        idx = np.indices(sizes).reshape(len(sizes), -1).T
        values = np.stack([g[idx[:, c]] for c, g in enumerate(grids)], axis=1)
        outs = []
        for e in range(exo_chain.n_states):
            kw = {key: np.float64(exo_chain.value(field)[e]) for key, field in inputs.items()}
            outs.append(market.clear(values, **kw))
        self.price = np.stack([o.price for o in outs])
        self.quantity = np.stack([o.quantity for o in outs])
        self.profit = np.stack([o.profit for o in outs])

    def lookup(self, x: np.ndarray, e: np.ndarray):
        """Outcomes for decision values ``x (B, n)`` in joint exo states ``e (B,)``, or None if off-grid."""
        if x.shape[0] == 1:  # one environment step: dict lookups beat NumPy's per-call overhead
            j = 0
            for c, index in enumerate(self._index):
                i = index.get(float(x[0, c]))
                if i is None:
                    return None
                j += i * int(self.strides[c])
            return self.price[e, j], self.quantity[e, j], self.profit[e, j]
        j = np.zeros(x.shape[0], dtype=np.intp)
        for c, g in enumerate(self.grids):
            i = np.minimum(np.searchsorted(g, x[:, c]), len(g) - 1)
            if not np.array_equal(g[i], x[:, c]):
                return None
            j += i * self.strides[c]
        return self.price[e, j], self.quantity[e, j], self.profit[e, j]


def build_tables(econ) -> list[MarketTable | None]:
    """One table per market whose decisions are all grids and whose table is small."""
    tables = []
    for mkt, cols, ms in zip(econ.markets, econ.layout.market_cols, econ.spec.markets, strict=True):
        sets = [econ.decisions[d] for d in cols]
        if not len(cols):  # a competitive market: cleared by the economy's clearing, not from decisions
            tables.append(None)
            continue
        entries = econ.exo_chain.n_states * float(np.prod([s.size for s in sets]))
        if not all(s.kind == "grid" for s in sets) or entries > MAX_ENTRIES:
            tables.append(None)
            continue
        tables.append(MarketTable(mkt, [s.grid for s in sets], ms.inputs, econ.exo_chain))
    return tables
