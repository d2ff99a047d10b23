"""Per-firm benchmarks for asymmetric firms, and the profit gain on total profits.

Why: with symmetric firms the session's profit gain (the mean of the firms' gains) is
all one needs. With asymmetric firms each firm's gain has its own denominator
``piM_i - piN_i``, which need not be positive: in Calvano et al.'s cost-asymmetry
economy with ``c2 = 0.5`` the joint optimum gives the high-cost firm *less* than its
Nash profit (0.113 < 0.122), so its "gain" changes sign and explodes near that point.
The authors' code (``ConvergenceResults.f90``, column ``avgPrGain`` that their Table 4
prints) measures the gain on the firms' *average* (equivalently total) profits::

    Delta_total = (sum_i pi_i - sum_i piN_i) / (sum_i piM_i - sum_i piN_i)

which is well defined whenever the joint optimum beats Nash in total, and equals the
mean of the per-firm gains when firms are symmetric. The tabular kind offers both
(``analysis.profit_gain: per_firm | total``).

Table 4 also prints firm 2's Nash *market share* -- its Nash quantity over the inside
goods' total, ``q2N / (q1N + q2N)`` (``NashMktSh`` in their code) -- and the profit
ratio ``(pi1 / pi1N) / (pi2 / pi2N)`` of the means over sessions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def total_profit_gain(mean_profits, nash_payoff, coop_payoff) -> np.ndarray:
    """Profit gain on total profits, one value per row of ``mean_profits`` ``(S, n)``.

    >>> total_profit_gain([[0.3, 0.1]], [0.2, 0.1], [0.4, 0.05]).round(6).tolist()
    [0.666667]
    """
    p = np.asarray(mean_profits, dtype=float)
    nash = float(np.sum(nash_payoff))
    coop = float(np.sum(coop_payoff))
    return (p.sum(axis=-1) - nash) / (coop - nash)


def nash_quantity_shares(econ) -> np.ndarray:
    """Each firm's share of the inside goods' quantity at the static Nash equilibrium.

    With demand shocks, quantities are averaged over the shock chain's stationary
    distribution before the shares are taken. Returns ``(n_agents,)``.
    """
    bench = econ.benchmarks()
    weights = econ.stationary_shock_distribution()
    n_dec = len(econ.decisions)
    q = np.zeros(len(econ.agents))
    for e, z in enumerate(econ.shock_values):
        rows = bench[bench["shock_state"] == e].set_index("agent")
        x = np.array([rows.loc[econ.agents[s.agent], "nash_action"] for s in econ.decisions])
        _, _, quantities = econ.clear(x.reshape(1, n_dec), float(z))
        for d, s in enumerate(econ.decisions):
            q[s.agent] += weights[e] * quantities[0, d]
    return q / q.sum()


def per_firm_summary(results: pd.DataFrame, nash_payoff, coop_payoff, nash_shares=None) -> dict:
    """Per-firm means next to the averages, for a results table of the tabular kind.

    Keys: ``profit_gain_total`` and ``profit_gain_total_sd`` (gain on total profits, mean
    and SD over sessions); per firm ``i``: ``mean_price_<i>``, ``mean_profit_<i>``,
    ``profit_gain_<i>`` (session means), ``nash_profit_<i>``, ``coop_profit_<i>``,
    ``nash_share_<i>`` (if ``nash_shares``); for firms ``i >= 1``: ``profit_ratio_<i>``
    ``= (mean pi_0 / pi0N) / (mean pi_i / piN_i)`` (Calvano et al.'s Table 4 ratio for
    ``i = 1``).

    >>> res = pd.DataFrame({"mean_profit_0": [0.3, 0.3], "mean_profit_1": [0.2, 0.4],
    ...                     "mean_price_0": [1.8, 1.8], "mean_price_1": [1.7, 1.9],
    ...                     "profit_gain_0": [0.5, 0.5], "profit_gain_1": [0.0, 1.0]})
    >>> out = per_firm_summary(res, [0.2, 0.2], [0.4, 0.4], [0.5, 0.5])
    >>> round(out["profit_gain_total"], 4), round(out["profit_ratio_1"], 4)
    (0.5, 1.0)
    """
    n = len(np.atleast_1d(nash_payoff))
    nash = np.asarray(nash_payoff, dtype=float)
    coop = np.asarray(coop_payoff, dtype=float)
    profits = results[[f"mean_profit_{i}" for i in range(n)]].to_numpy(dtype=float)
    total = total_profit_gain(profits, nash, coop)
    out = {"profit_gain_total": float(np.mean(total)),
           "profit_gain_total_sd": float(np.std(total, ddof=1)) if len(total) > 1 else None}
    mean_profit = profits.mean(axis=0)
    for i in range(n):
        out[f"mean_price_{i}"] = float(results[f"mean_price_{i}"].mean())
        out[f"mean_profit_{i}"] = float(mean_profit[i])
        out[f"profit_gain_{i}"] = float(results[f"profit_gain_{i}"].mean())
        out[f"nash_profit_{i}"] = float(nash[i])
        out[f"coop_profit_{i}"] = float(coop[i])
        if nash_shares is not None:
            out[f"nash_share_{i}"] = float(nash_shares[i])
    for i in range(1, n):
        out[f"profit_ratio_{i}"] = float((mean_profit[0] / nash[0]) / (mean_profit[i] / nash[i]))
    return out


#: columns of the per-firm benchmarks table (``benchmarks.csv`` of a run folder)
BENCHMARK_COLUMNS = ("agent", "name", "nash_price", "monopoly_price", "nash_profit", "coop_profit",
                     "nash_share")


def firm_benchmarks(names, nash_price, monopoly_price, nash_profit, coop_profit,
                    nash_share=None) -> pd.DataFrame:
    """The per-firm benchmarks table, one row per firm: ``agent`` (index), ``name``,
    ``nash_price``, ``monopoly_price`` (the firm's price at the joint-profit optimum),
    ``nash_profit``, ``coop_profit`` (its profit there), ``nash_share`` (its share of the
    inside goods' quantity at Nash; NaN where the market gives no quantities).

    Why a table: with asymmetric firms each firm has its own Nash and monopoly point; an
    average over firms is no firm's benchmark.

    >>> firm_benchmarks(["a", "b"], [1.4, 1.6], [1.9, 2.2], [0.16, 0.05], [0.3, 0.09])["nash_price"].tolist()
    [1.4, 1.6]
    """
    n = len(names)
    share = np.full(n, np.nan) if nash_share is None else np.asarray(nash_share, dtype=float)
    return pd.DataFrame({"agent": np.arange(n), "name": list(names),
                         "nash_price": np.asarray(nash_price, dtype=float),
                         "monopoly_price": np.asarray(monopoly_price, dtype=float),
                         "nash_profit": np.asarray(nash_profit, dtype=float),
                         "coop_profit": np.asarray(coop_profit, dtype=float), "nash_share": share})


def nash_shares_or_none(econ):
    """:func:`nash_quantity_shares`, or None for markets that give no quantities."""
    from marketsai.errors import SpecError
    try:
        return nash_quantity_shares(econ)
    except SpecError:
        return None


def game_benchmarks(game, econ=None) -> pd.DataFrame:
    """:func:`firm_benchmarks` of a :class:`~marketsai.finite_game.FiniteGame` (the numbers
    its profit gains use); ``econ`` adds the Nash quantity shares."""
    return firm_benchmarks(game.agents, game.nash_action, game.coop_action, game.nash_payoff,
                           game.coop_payoff, None if econ is None else nash_shares_or_none(econ))


def economy_benchmarks(econ) -> pd.DataFrame:
    """:func:`firm_benchmarks` of an economy's strategic actors (with demand shocks, each
    firm's mean over the shock states under their stationary distribution:
    ``econ.expected_benchmarks()``, the numbers every profit gain is measured against)."""
    bench = econ.expected_benchmarks().loc[list(econ.actors)]
    return firm_benchmarks(list(econ.actors), bench["nash_action"], bench["coop_action"],
                           bench["nash_profit"], bench["coop_profit"], nash_shares_or_none(econ))


def benchmark_summary(bench: pd.DataFrame) -> dict:
    """Summary keys of a benchmarks table: the averages over firms ``nash_price`` and
    ``monopoly_price`` (kept for symmetric economies, where they are every firm's), and per
    firm ``nash_price_<i>``, ``monopoly_price_<i>``.

    >>> benchmark_summary(firm_benchmarks(["a", "b"], [1.0, 2.0], [3.0, 4.0], [0, 0], [1, 1]))
    {'nash_price': 1.5, 'monopoly_price': 3.5, 'nash_price_0': 1.0, 'monopoly_price_0': 3.0, \
'nash_price_1': 2.0, 'monopoly_price_1': 4.0}
    """
    out = {"nash_price": float(bench["nash_price"].mean()),
           "monopoly_price": float(bench["monopoly_price"].mean())}
    for row in bench.itertuples():
        out[f"nash_price_{row.agent}"] = float(row.nash_price)
        out[f"monopoly_price_{row.agent}"] = float(row.monopoly_price)
    return out


def benchmark_lines(bench: pd.DataFrame) -> tuple[list[float], list[float]]:
    """Each firm's Nash and monopoly price, in agent order, for figures."""
    bench = bench.sort_values("agent")
    return bench["nash_price"].tolist(), bench["monopoly_price"].tolist()
