"""The fast path of competitive clearing: prices in closed form where traders spend fixed income shares.

It applies where every trader supplies fixed quantities and spends fixed shares of its
income (``AgentType.income_shares``) and every market is a factor market or a produced
good. With one producer the factors are paid their marginal products at the aggregate
supplies, whatever the technology. With several producers of constant cost shares
``a_gf`` (Cobb–Douglas), factor ``f``'s share ``sigma_f`` of income solves the linear
system ``sigma_f = sum_g a_gf sum_h theta_hg sum_f' sigma_f' kappa_hf'`` with
``sum_f sigma_f = 1`` (``kappa_hf``: trader ``h``'s share of factor ``f``; ``theta_hg``: its
share of income spent on good ``g``); good ``g``'s share of spending is
``Theta_g = sum_h theta_hg sum_f sigma_f kappa_hf``, its inputs
``X_gf = a_gf Theta_g X_f / sigma_f``, and the numeraire fixes the level. With two
factors the system is one linear equation, ``sigma = sum_g a_g sum_h theta_hg (sigma
kappa_h + (1 - sigma) lambda_h)``. :meth:`marketsai.clearing.Clearing.solve` is its
general twin; ``tests/test_clearing.py`` holds them equal to 1e-10.
"""

from __future__ import annotations

import numpy as np


def closed_form(clearing, views: dict, exo: dict, batch: int) -> dict | None:
    """Prices and outputs in closed form (module docstring), or None where it does not apply."""
    econ = clearing.econ
    factors, goods = clearing.by_pricing["marginal_product"], clearing.by_pricing["unit_cost"]
    if not clearing.producers or clearing.by_pricing["exogenous"] or clearing.by_pricing["excess_demand"]:
        return None
    forms = {}
    for e in clearing.traders:
        items = {clearing.item_of[k] for k, _, _ in clearing.markets_of[e]}
        forms[e] = econ.entries[e].kind.income_shares(*views[e], items)
        if forms[e] is None:
            return None
    supplied = np.stack([_column(clearing, k, {e: f[0] for e, f in forms.items()}, batch) for k in factors])
    X = supplied.sum(axis=2)  # (F, B): every factor's supply
    if np.any(X <= 0):
        raise FloatingPointError("competitive clearing needs a positive supply of every factor")
    items = [clearing.item_of[k] for k in factors]
    if len(clearing.producers) == 1:
        (e, g), = clearing.producers
        if g != clearing.numeraire:
            return None
        kind = econ.entries[e].kind
        inputs = dict(zip(items, X, strict=True))
        mp = kind.marginal_products(inputs, views[e][2], batch)
        price = {k: mp[item] for k, item in zip(factors, items, strict=True)}
        price[g] = np.ones(batch)
        return {"price": price, "output": {e: kind.produce(inputs, views[e][2], batch)}, "path": "fast"}
    shares = {g: econ.entries[e].kind.cost_shares() for e, g in clearing.producers}
    if any(s is None for s in shares.values()):
        return None
    kappa = supplied / X[:, :, None]  # (F, B, H): each trader's share of each factor
    theta = np.stack([_column(clearing, g, {e: f[1] for e, f in forms.items()}, batch) for g in goods])  # (G, B, H)
    a = np.array([[shares[g].get(item, 0.0) for item in items] for g in goods])  # (G, F) cost shares
    M = np.einsum("gf,gbj->bfj", a, np.einsum("gbh,jbh->gbj", theta, kappa))
    A = M - np.eye(len(factors))
    A[:, -1, :] = 1.0
    rhs = np.zeros((batch, len(factors), 1))
    rhs[:, -1] = 1.0
    sigma = np.linalg.solve(A, rhs)[:, :, 0]  # (B, F): the factors' shares of income
    spend = np.einsum("bj,jbh->bh", sigma, kappa)  # each trader's share of income
    Theta = np.einsum("gbh,bh->gb", theta, spend)  # each good's share of spending
    inputs = a[:, :, None] * Theta[:, None, :] * X[None] / sigma.T[None]  # (G, F, B)
    output = {e: econ.entries[e].kind.produce(dict(zip(items, inputs[goods.index(g)], strict=True)), views[e][2], batch)
              for e, g in clearing.producers}
    n = goods.index(clearing.numeraire)
    nominal = output[dict((g, e) for e, g in clearing.producers)[clearing.numeraire]] / Theta[n]
    price = {f: sigma[:, j] * nominal / X[j] for j, f in enumerate(factors)}
    for e, g in clearing.producers:
        price[g] = np.ones(batch) if g == clearing.numeraire else Theta[goods.index(g)] * nominal / output[e]
    return {"price": price, "output": output, "path": "fast"}


def _column(clearing, k: int, per_entry: dict, batch: int) -> np.ndarray:
    """Traders' values of market ``k``'s item as one ``(B, members)`` array (0 where a trader has none)."""
    item = clearing.item_of[k]
    cols = []
    for e in clearing.traders:
        v = per_entry[e].get(item)
        count = len(clearing.econ.entries[e].members)
        cols.append(np.zeros((batch, count)) if v is None else v if np.shape(v) == (batch, count)
                    else np.broadcast_to(v, (batch, count)))
    return cols[0] if len(cols) == 1 else np.concatenate(cols, axis=1)
