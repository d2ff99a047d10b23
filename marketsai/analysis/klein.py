"""Measures of Klein's (2021) sequential-pricing study, from greedy reaction functions.

A learned session is summarised by each firm's greedy reaction function ``R_i`` (own price
index for every rival price index; :attr:`marketsai.tabular.klein.KleinSessions.greedy`):

* :func:`greedy_cycle` -- alternating greedy play from the final prices until a node
  (prices, mover) repeats: a **fixed price** when neither firm's price changes on the
  cycle (Klein's focal prices), else a **cycle** (Edgeworth cycles among them);
* :func:`optimal_q` / :func:`gamma` -- Klein's optimality measure: ``Q*_i`` is the fixed
  point of eq. 5 against the rival's fixed greedy reaction ``R_j`` (the exact values of
  every own price in every state when the rival keeps ``R_j``); ``Gamma_i`` is the mean
  over states of ``Q*_i(s, R_i(s)) / max_p Q*_i(s, p)`` -- 1 when the learned reaction is
  a best response to the rival's everywhere;
* :func:`forced_undercut` -- Klein's Figure 3: from both firms at a price, firm 0 is made
  to undercut by one grid step once, then both play greedily;
* :func:`edgeworth_benchmark` -- the mean per-firm profit along Maskin and Tirole's (1988)
  Edgeworth cycle on the grid (undercut one step at a time from the monopoly price down to
  the lowest price, then relent), Klein's competitive benchmark (11/180 at k = 6).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketsai.analysis.evaluation import Evaluation, evaluations
from marketsai.params import Param, int_range, real


def greedy_path(reactions: np.ndarray, prices, mover: int, periods: int) -> np.ndarray:
    """Price indices ``(periods, 2)`` of alternating greedy play; ``mover`` moves first.

    >>> R = np.array([[1, 1, 1], [0, 0, 2]])      # firm 0 always plays 1; firm 1 matches 2 only
    >>> greedy_path(R, (2, 2), 0, 3).tolist()
    [[1, 2], [1, 0], [1, 0]]
    """
    p = [int(prices[0]), int(prices[1])]
    out = np.empty((periods, 2), np.int64)
    for t in range(periods):
        i = (mover + t) % 2
        p[i] = int(reactions[i, p[1 - i]])
        out[t] = p
    return out


def greedy_cycle(reactions: np.ndarray, prices, mover: int) -> dict:
    """The limit cycle of alternating greedy play from ``prices`` with ``mover`` to move.

    Returns ``{"kind": "fixed" | "cycle", "length": periods on the cycle, "prices": (L, 2)}``.

    >>> R = np.array([[3, 3, 3, 3], [3, 3, 3, 3]])
    >>> c = greedy_cycle(R, (0, 1), 0); c["kind"], c["length"], c["prices"][0].tolist()
    ('fixed', 2, [3, 3])
    """
    seen: dict = {}
    p = (int(prices[0]), int(prices[1]))
    i = int(mover)
    path = []
    while (p, i) not in seen:
        seen[(p, i)] = len(path)
        q = list(p)
        q[i] = int(reactions[i, p[1 - i]])
        p, i = (q[0], q[1]), 1 - i
        path.append(p)
    cyc = np.array(path[seen[(p, i)]:], np.int64)
    fixed = bool((cyc == cyc[0]).all())
    return {"kind": "fixed" if fixed else "cycle", "length": len(cyc), "prices": cyc}


def optimal_q(pi: np.ndarray, rival_reaction: np.ndarray, discount: float,
              tol: float = 1e-12, max_iter: int = 100_000) -> np.ndarray:
    """``Q*[s, p]`` of one firm against the rival's fixed reaction (eq. 5 as a Bellman equation).

    ``pi[p, s]`` is the firm's profit at own price ``p`` and rival price ``s``.
    ``Q*(s, p) = pi(p, s) + delta pi(p, R(p)) + delta^2 max_p' Q*(R(p), p')``.
    """
    pi = np.asarray(pi, dtype=float)
    R = np.asarray(rival_reaction, dtype=np.int64)
    m = pi.shape[0]
    now = pi.T  # (s, p)
    later = discount * pi[np.arange(m), R]  # (p,)
    v = np.zeros(m)
    for _ in range(max_iter):
        q = now + later[None, :] + discount**2 * v[R][None, :]
        v_new = q.max(axis=1)
        # a contraction of modulus delta^2: this step bounds the distance to the fixed point by tol
        if np.max(np.abs(v_new - v)) * discount**2 <= tol * (1 - discount**2) * max(1.0, np.max(np.abs(v_new))):
            return now + later[None, :] + discount**2 * v_new[R][None, :]
        v = v_new
    raise RuntimeError("optimal_q did not converge")


def gamma(q_star: np.ndarray, reaction: np.ndarray) -> float:
    """Mean over states of ``Q*(s, R(s)) / max_p Q*(s, p)`` (states with ``max Q* = 0`` count
    as optimal when the chosen value is 0 too)."""
    q_star = np.asarray(q_star, dtype=float)
    best = q_star.max(axis=1)
    chosen = q_star[np.arange(len(best)), np.asarray(reaction)]
    ratio = np.where(best > 0, chosen / np.where(best > 0, best, 1.0), (chosen >= best).astype(float))
    return float(ratio.mean())


def forced_undercut(reactions: np.ndarray, start: int, periods: int) -> np.ndarray:
    """Price indices ``(periods + 1, 2)``: row 0 both at ``start``; in period 1 firm 0 is made
    to charge ``start - 1``; then firm 1, firm 0, ... reply greedily."""
    out = np.empty((periods + 1, 2), np.int64)
    out[0] = start
    out[1] = (start - 1, start)
    if periods > 1:
        out[2:] = greedy_path(reactions, out[1], 1, periods - 1)
    return out


def edgeworth_benchmark(k: int) -> float:
    """Mean per-firm profit along Maskin–Tirole's Edgeworth cycle with prices ``{0, 1/k, ..., 1}``,
    demand ``1 - p`` and zero cost: the market price falls one step per period from the
    monopoly price 1/2 to 0, stays at 0 for the period in which the other firm relents, and
    jumps back to 1/2.

    >>> round(edgeworth_benchmark(6), 6), round(11 / 180, 6)
    (0.061111, 0.061111)
    """
    if k % 2:
        raise ValueError("the monopoly price 1/2 is on the grid only for even k")
    prices = np.arange(k // 2, -1, -1) / k  # 1/2, ..., 1/k, 0
    market = list(prices * (1 - prices)) + [0.0]  # the relenting period: the rival still sells at 0
    return float(np.mean(market) / 2)


# ---------------------------------------------------------------------- the evaluation
class KleinEvaluation(Evaluation):
    """Klein's (2021) measures of a duopoly policy under sequential moves (module docstring).

    The policy is read as each firm's reaction to the rival's price: its table on the
    memory-1 game (``strategies()``, or tabulated through ``act``) in states
    ``(p_0, p_1)``, firm 0's column at ``p_0 = 0`` and firm 1's row at ``p_1 = 0`` (a
    Klein policy does not depend on its own last price). Greedy alternating play starts
    from the policy's ``start_state`` (the final prices) with ``info["next_mover"]`` to move
    (else random prices, firm 0 first).
    """

    settings = {
        "undercut_periods": Param(20, int_range(1, 10_000), "periods traced after the forced undercut"),
        "undercut_from": Param(0.5, real, "the price both firms charge before firm 0 undercuts "
                                          "(the grid point nearest it)"),
    }
    columns = {
        "outcome": "'fixed' (neither price changes on the limit cycle: a focal price) or 'cycle'",
        "fixed_price": "the market (lowest) price of a fixed outcome; NaN for cycles",
        "cycle_length": "periods on the limit cycle of alternating greedy play",
        "cycle_profit": "mean per-firm profit on that cycle",
        "gamma_<i>": "firm i's Q*(s, R_i(s)) / max_p Q*(s, p), averaged over states (Q*: eq. 5 "
                     "against the rival's reaction)",
        "gamma": "mean of gamma_<i>",
    }

    def check(self, economy) -> None:
        from marketsai.learners.klein import klein_game
        klein_game(economy)

    def evaluate(self, economy, policy, settings, seed=0):
        from marketsai.analysis.calvano import tabulate
        from marketsai.learners.klein import klein_game
        from marketsai.tabular.klein import own_rival_profits

        game = klein_game(economy)
        m = game.n_actions
        table = tabulate(economy, policy, game)
        reactions = np.stack([table[0].reshape(m, m)[0], table[1].reshape(m, m)[:, 0]])
        if policy.start_state is not None:
            start = divmod(int(policy.start_state), m)
            mover = int(policy.info.get("next_mover", 0))
        else:
            start, mover = tuple(np.random.default_rng(seed).integers(0, m, size=2)), 0
        pi = own_rival_profits(game.payoff_matrix())
        cyc = greedy_cycle(reactions, start, mover)
        prices = game.actions[0]
        row = {"outcome": cyc["kind"], "cycle_length": cyc["length"],
               "fixed_price": float(prices[cyc["prices"][0].min()]) if cyc["kind"] == "fixed" else np.nan,
               "cycle_profit": float(np.mean([(pi[0, a, b] + pi[1, b, a]) / 2 for a, b in cyc["prices"]]))}
        for i in range(2):
            row[f"gamma_{i}"] = gamma(optimal_q(pi[i], reactions[1 - i], economy.discount), reactions[i])
        row["gamma"] = (row["gamma_0"] + row["gamma_1"]) / 2
        k = int(np.argmin(np.abs(prices - settings["undercut_from"])))
        path = forced_undercut(reactions, k, settings["undercut_periods"]) if k > 0 else None
        tables = {"results": pd.DataFrame([row])}
        if path is not None:
            tables["undercut"] = pd.DataFrame({"t": np.arange(len(path)), "price_0": prices[path[:, 0]],
                                               "price_1": prices[path[:, 1]]})
        return tables

    def summarise(self, tables, settings):
        res = tables["results"]
        out = {"outcome_fixed_share": float((res["outcome"] == "fixed").mean()),
               "outcome_cycle_share": float((res["outcome"] == "cycle").mean()),
               "fixed_price_shares": {f"{p:.4f}": float(c / len(res)) for p, c in
                                      res["fixed_price"].dropna().value_counts().sort_index().items()},
               "cycle_profit_mean": float(res["cycle_profit"].mean()),
               "gamma_mean": float(res["gamma"].mean()), "gamma_min": float(res["gamma"].min())}
        if "profitability" in res:
            out["profitability_mean"] = float(res["profitability"].mean())
            out["profitability_sd"] = float(res["profitability"].std(ddof=1)) if len(res) > 1 else None
        path = _undercut_mean(tables, settings)
        if path is not None:
            out["undercut_sessions"] = int(path.attrs["sessions"])
            out["undercut_price_0"] = path["price_0"].round(6).tolist()
            out["undercut_price_1"] = path["price_1"].round(6).tolist()
        return out

    def figures(self, tables, economy, settings):
        import matplotlib.pyplot as plt

        path = _undercut_mean(tables, settings)
        if path is None:
            return {}
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(path["t"], path["price_0"], "o-", label="firm 0 (forced to undercut at t = 1)")
        ax.plot(path["t"], path["price_1"], "s--", label="firm 1")
        ax.axhline(settings["undercut_from"], color="grey", lw=0.8, ls=":")
        ax.set_xlabel("period t")
        ax.set_ylabel("price")
        ax.set_title(f"Forced undercut from {settings['undercut_from']:g} "
                     f"({path.attrs['sessions']} sessions fixed there)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        return {"klein_undercut": fig}


def _undercut_mean(tables, settings) -> pd.DataFrame | None:
    """Mean undercut path over the sessions whose learned outcome is the fixed price the
    undercut starts from (Klein's Figure 3 reads those)."""
    res, und = tables["results"], tables.get("undercut")
    if und is None or not len(und):
        return None
    key = "seed" if "seed" in und and "seed" in res else None
    at = np.isclose(res["fixed_price"], settings["undercut_from"], atol=1e-9)
    if key is None:
        chosen = und if at.all() else und.iloc[0:0]
    else:
        chosen = und[und[key].isin(res.loc[at, key])]
    if not len(chosen):
        return None
    mean = chosen.groupby("t")[["price_0", "price_1"]].mean().reset_index()
    mean.attrs["sessions"] = int(at.sum())
    return mean


evaluations.register("klein", KleinEvaluation)
