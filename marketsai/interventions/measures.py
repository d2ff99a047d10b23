"""Per-session measures around an intervention: limit cycles, profit gain, recovery rate.

Definitions (one session; prices and profits averaged over the firms):

* ``p_base``, ``delta_base`` -- mean price and profit gain over the limit cycle of greedy
  play that the converged session is on before the intervention;
* ``p_post``, ``delta_post`` -- the same over the limit cycle after re-convergence;
* recovery rate ``R = (p_post - pN) / (p_base - pN)``, with ``pN`` the (continuous) static
  Nash price: 1 = back to the session's own collusive level, 0 = competitive;
* profit gain ``Delta = (pi - piN) / (piM - piN)`` per firm, averaged over firms
  (Calvano et al. 2020).

Paths are summarised across sessions in a long table (:func:`path_table`), so the
figures can be redrawn from a run folder.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketsai.analysis.cycles import limit_cycles
from marketsai.analysis.profit_gain import profit_gain as analysis_profit_gain


def nash_price(game) -> float:
    """Static Nash price averaged over firms (pN = 1.47293 in Calvano's baseline)."""
    return float(np.mean(game.nash_action))


def profit_gain(game, mean_payoff: np.ndarray) -> np.ndarray:
    """Profit gain per session ``(S,)`` (firm average) from per-firm mean payoffs ``(S, n)``."""
    return analysis_profit_gain(mean_payoff, game.nash_payoff, game.coop_payoff).mean(axis=-1)


def cycle_measures(game, strategy: np.ndarray, state: np.ndarray) -> dict[str, np.ndarray]:
    """Mean price, profit gain and length of the greedy limit cycle reached from ``state``.

    ``strategy`` is the ``(S, n, n_states)`` greedy-action cache, ``state`` ``(S,)``.
    """
    cyc = limit_cycles(game, strategy, start_states=state)
    return {"price": cyc.mean_price.mean(axis=1), "delta": profit_gain(game, cyc.mean_payoff),
            "cycle_length": cyc.length.astype(np.int64)}


def recovery_rate(p_post, p_base, p_nash: float) -> np.ndarray:
    """``R = (p_post - pN) / (p_base - pN)``.

    >>> recovery_rate(np.array([1.7]), np.array([1.9]), 1.5).round(6).tolist()
    [0.5]
    """
    return (np.asarray(p_post, float) - p_nash) / (np.asarray(p_base, float) - p_nash)


def greedy_path(game, strategy: np.ndarray, state: np.ndarray, periods: int) -> np.ndarray:
    """Prices ``(S, periods, n)`` of greedy play from ``state`` (no learning, no mutation).

    Used for the window before an intervention: a converged session is on its limit
    cycle, so this is the play an observer would have seen.
    """
    n_sessions, n, _ = strategy.shape
    m, joint, n_states = game.n_actions, game.n_joint, game.n_states
    rows = np.arange(n_sessions)
    s = np.asarray(state, np.int64).copy()
    out = np.empty((n_sessions, periods, n))
    prices = game.prices[0]
    for t in range(periods):
        j = np.zeros(n_sessions, np.int64)
        for i in range(n):
            j = j * m + strategy[rows, i, s]
        out[:, t] = prices[j]
        s = np.zeros_like(s) if n_states == 1 else (s * joint) % n_states + j
    return out


def path_table(prices: np.ndarray, start: int, phase: str) -> pd.DataFrame:
    """Sums of a price window ``(S, T, n)`` across sessions, one row per period.

    Sums (not means) so that tables of session chunks add up; :func:`combine_paths`
    turns them into means and SDs. Columns: ``t`` (period relative to the first period
    of the intervention), ``phase`` (before / during / after), ``n`` (sessions still
    playing), ``price_sum`` and ``price_sumsq`` (of the firm-average price),
    ``price_firm<i>_sum``. Sessions that had already stopped (NaN) are left out.
    """
    if prices.shape[1] == 0:
        return pd.DataFrame()
    avg = prices.mean(axis=2)
    ok = np.isfinite(avg)
    cols = {"t": np.arange(start, start + prices.shape[1]), "phase": phase,
            "n": ok.sum(axis=0), "price_sum": np.where(ok, avg, 0).sum(axis=0),
            "price_sumsq": np.where(ok, avg**2, 0).sum(axis=0)}
    for i in range(prices.shape[2]):
        cols[f"price_firm{i}_sum"] = np.where(ok, prices[:, :, i], 0).sum(axis=0)
    return pd.DataFrame(cols)


def combine_paths(paths: pd.DataFrame, by) -> pd.DataFrame:
    """Means and SDs across sessions from (chunked) :func:`path_table` sums.

    Returns ``by + [t, phase, n, price_mean, price_sd, price_firm<i>]``.
    """
    by = list(by)
    sums = [c for c in paths.columns if c.endswith("_sum") or c.endswith("_sumsq") or c == "n"]
    g = paths.groupby(by + ["t", "phase"], sort=False, dropna=False)[sums].sum().reset_index()
    n = g["n"].where(g["n"] > 0)
    g["price_mean"] = g["price_sum"] / n
    var = (g["price_sumsq"] / n - g["price_mean"] ** 2).clip(lower=0)
    g["price_sd"] = np.sqrt(var * n / (n - 1).where(n > 1))
    for c in sums:
        if c.startswith("price_firm"):
            g[c[:-4]] = g[c] / n
    return g.drop(columns=[c for c in sums if c != "n"]).sort_values(by + ["t"]).reset_index(drop=True)
