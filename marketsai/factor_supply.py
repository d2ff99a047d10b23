"""Checks at build that competitive clearing always has capital and labour to price.

Why: factor prices are marginal products at the aggregate ``K`` and ``L``; with ``K = 0``
or ``L = 0`` they do not exist, and a file that allows it used to load and then fail at
its first step with a numpy error. Three things make a factor vanish, each refused here
with the field that causes it:

* capital's unit: ``scale: steady_state`` with a steady state that over- or underflows
  (a ``tfp`` of ``1e300``, an ``alpha`` of ``1e-300``), so the scaled range of ``k`` is not
  finite and above :data:`MIN_CAPITAL`;
* labour efficiency (``params.efficiency``) that is 0 for every household at once: an
  aggregate process field with a zero value, or a per-agent field (Krusell–Smith's
  employment) with so few households that all of them are at 0 in the same period with
  a probability above :data:`ALL_ZERO_PROBABILITY` under the chain's stationary law
  (10 % unemployment: at least 10 households).
"""

from __future__ import annotations

import numpy as np

from marketsai.errors import SpecError

#: largest accepted probability that every household supplies no labour in one period
#: (under the stationary law of its efficiency process): once in a billion periods
ALL_ZERO_PROBABILITY = 1e-9


def households(econ) -> list[int]:
    """The entries whose agents hold capital ``k`` and sell labour by efficiency (households)."""
    return [e for e, ent in enumerate(econ.entries)
            if "k" in getattr(ent.kind, "state_spec", {}) and "efficiency" in getattr(ent.kind, "p", {})]


def state_units(econ, e: int) -> dict:
    """Entry ``e``'s state units from the composed economy (a household's steady-state
    capital); a steady state that over- or underflows is our error, naming the scale."""
    ent = econ.entries[e]
    try:
        with np.errstate(over="raise", under="ignore", divide="raise", invalid="raise"):
            return ent.kind.state_units(econ, e)
    except (OverflowError, FloatingPointError, ZeroDivisionError) as err:
        raise SpecError(f"the steady state of capital cannot be computed ({err}): the firms' "
                        "parameters are out of any usable range", path=f"{ent.where}.state.k.scale",
                        value=ent.kind.state_spec["k"]["scale"],
                        allowed="level (absolute values), or firm parameters with a finite steady "
                                "state") from None


#: smallest capital the clearing's arithmetic keeps positive: products of smaller numbers
#: (``K^alpha``, ``r k``) underflow to 0 (a firm with ``alpha: 1e-300`` has such a steady state)
MIN_CAPITAL = 1e-100


def check_capital(econ, e: int) -> None:
    """The scaled range of household entry ``e``'s capital is finite and above :data:`MIN_CAPITAL`."""
    ent = econ.entries[e]
    lo, hi = ent.kind.state_bounds("k")
    if np.isfinite(lo) and np.isfinite(hi) and lo >= MIN_CAPITAL:
        return
    b = ent.kind.state_spec["k"]
    what = f"[{lo:.3g}, {hi:.3g}]: clearing needs finite capital of at least {MIN_CAPITAL:g}"
    if b["scale"] == "level":
        raise SpecError(f"capital's range is {what}", path=f"{ent.where}.state.k.low", value=b["low"],
                        allowed=f"a number >= {MIN_CAPITAL:g}")
    raise SpecError(f"capital's range scaled by the steady state ({ent.kind.scale('k'):.3g}) is {what}",
                    path=f"{ent.where}.state.k.scale", value=b["scale"],
                    allowed="level (absolute values), or parameters with a usable steady state")


def zero_labour_probability(econ, e: int) -> float:
    """Probability that every household of entry ``e`` has efficiency 0 in one period."""
    field = econ.entries[e].kind.p.get("efficiency")
    if field is None:
        return 0.0
    proc = next(p for p in econ.processes.values() if field in p.chain.fields)
    chain = proc.chain
    zero = chain.value(field) <= 0
    if not zero.any():
        return 0.0
    if proc.scope == "aggregate" or field in chain.aggregate:
        return 1.0
    try:
        pi = chain.stationary()
    except ValueError:  # several recurrent classes: the law we start from
        pi = chain.p0
    # agents are independent given the aggregate fields: worst aggregate state
    agg = [tuple(row) for row in np.column_stack([chain.value(f) for f in chain.aggregate])] \
        if chain.aggregate else [()] * chain.n_states
    worst = 0.0
    for a in set(agg):
        member = np.array([x == a for x in agg])
        mass = pi[member].sum()
        if mass > 0:
            worst = max(worst, pi[member & zero].sum() / mass)
    return float(worst) ** len(econ.entries[e].members)


def check_labour(econ, households) -> None:
    """Refuse an economy whose households can all supply zero labour in one period."""
    if not households:
        return
    probs = {e: zero_labour_probability(econ, e) for e in households}
    e = min(probs, key=probs.get)
    if probs[e] <= ALL_ZERO_PROBABILITY:
        return
    ent = econ.entries[e]
    field = ent.kind.p["efficiency"]
    if probs[e] >= 1.0:
        raise SpecError(f"labour efficiency {field} is 0 in some state for every household at once, so "
                        "aggregate labour and the wage would vanish", path=f"{ent.where}.params.efficiency",
                        value=field, allowed="a field that is positive in every state, a per-agent one, or null")
    n = len(ent.members)
    per = probs[e] ** (1.0 / n)
    need = int(np.ceil(np.log(ALL_ZERO_PROBABILITY) / np.log(per))) if 0 < per < 1 else n + 1
    raise SpecError(f"with {n} household{'s' if n != 1 else ''}, all of them have labour efficiency {field} = 0 in the same "
                    f"period with probability {probs[e]:.2g} (above {ALL_ZERO_PROBABILITY:g}), when no "
                    "labour is supplied and clearing fails", path=f"{ent.where}.count", value=n,
                    allowed=f"at least {need} households")
