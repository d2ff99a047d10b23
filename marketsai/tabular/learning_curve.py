"""Learning curves: the price and profit of sessions sampled while they learn.

Why here, in the front end, and not in the kernels: every ``every`` periods the sessions
are advanced ``window`` periods with the kernels' own ``record`` option, then the rest of
the ``every`` periods without it. Sessions are complete after any call and their results
do not depend on how a run is sliced (``tests/test_tabular_parity.py``), so recording
changes no random draw and no result (``tests/test_learning_curve.py`` checks a run
bit for bit). The kernel records what it is given as the game's ``prices``; here that is
a code of the period's exogenous state and joint action, ``e M + j``, so that the price
*and* the profit of each recorded period are read back exactly from the game's tables.

Memory: one row per session and sample, at most ``max_periods / every`` per session.
Time: two kernel calls per sample; each call costs a fixed few milliseconds (the greedy
caches rebuilt, the threads started). Measured on the Calvano baseline, 40 sessions in one
chunk on a shared 2-core machine: 1.3 s without curves, 2.1-2.3 s with ``every = 50,000``
(about 35 samples per session), 4.2-4.7 s with ``every = 10,000``. Hence the default
``every = 200,000`` (about 9 samples over a baseline session's 1.9 M periods): the whole
100-session baseline run took 4.0-4.9 s without curves and 4.2-4.8 s with them (same
machine, alternating).

The table (``learning_curve`` in a run folder) has one row per session and sample:

* ``session``: the session number;
* ``t``: the period at which the window starts (0, ``every``, ``2 every``, ...);
* ``periods``: periods the window holds (less than ``window`` when the session
  converged or reached ``max_periods`` inside it);
* ``price``, ``profit``: mean over those periods and over the agents of the prices and
  per-period profits (payoffs) played, exploration included.

A session stops learning when it converges: it has no rows after that.

Examples
--------
>>> from marketsai.tabular import QLearningConfig, init_sessions
>>> from marketsai.tabular.games import prisoners_dilemma
>>> game, cfg = prisoners_dilemma(), QLearningConfig(alpha=0.1, beta=1e-3, stable_periods=1000)
>>> st = init_sessions(game, cfg, seed=0, sessions=range(2))
>>> curve = LearningCurve(every=500, window=50)
>>> curve.advance(game, cfg, st)
>>> table = curve.frame()
>>> list(table.columns), sorted(set(table["t"] % 500))
(['session', 't', 'periods', 'price', 'profit'], [0])
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from marketsai.errors import SpecError
from marketsai.finite_model import FiniteModel
from marketsai.tabular.sessions import advance

COLUMNS = ("session", "t", "periods", "price", "profit")


def check_window(every: int, window: int, path: str = "learning_curve.window",
                 every_path: str = "every") -> None:
    """Refuse a recorded ``window`` longer than the sampling interval ``every``; the error
    names the fields as the caller knows them (``path``, ``every_path``)."""
    if window > every:
        raise SpecError("the recorded window is longer than the sampling interval",
                        path=path, value=window, allowed=f"at most {every_path} = {every}")


class LearningCurve:
    """Advances sessions to convergence while sampling their play (see the module).

    ``every``: periods between the starts of two windows; ``window``: periods recorded at
    each (1 <= window <= every). :meth:`frame` gives the rows collected so far.
    """

    def __init__(self, every: int = 50_000, window: int = 100):
        for name, v in (("every", every), ("window", window)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise SpecError("must be a positive integer", path=f"learning_curve.{name}",
                                value=v, allowed="an integer >= 1")
        check_window(every, window)
        self.every, self.window = int(every), int(window)
        self._parts: list[pd.DataFrame] = []

    def advance(self, game, cfg, states, threads=None) -> None:
        """``advance(game, cfg, states)`` to convergence (or ``max_periods``), sampling."""
        if isinstance(game, FiniteModel):
            raise SpecError("learning curves are recorded for games (FiniteGame) only",
                            path="learning_curve", value=type(game).__name__,
                            allowed="a FiniteGame, or no learning curve")
        M = game.n_joint
        codes = np.arange(game.n_exo * M, dtype=np.float64).reshape(game.n_exo, M, 1)
        coded = dataclasses.replace(game, prices=np.repeat(codes, game.n_agents, axis=2))
        price = game.prices.reshape(-1, game.n_agents).mean(axis=1)  # by code e M + j
        profit = game.payoffs.reshape(-1, game.n_agents).mean(axis=1)
        while True:
            t0 = states.t.copy()
            rec = advance(coded, cfg, states, periods=self.window, record=self.window,
                          threads=threads)
            ran = states.t - t0
            if not ran.any():
                return
            self._parts.append(_rows(states.sessions, t0, ran, rec[:, :, 0], price, profit))
            if self.every > self.window:
                advance(game, cfg, states, periods=self.every - self.window, threads=threads)

    def frame(self) -> pd.DataFrame:
        """The rows so far, sorted by session and ``t`` (columns :data:`COLUMNS`)."""
        if not self._parts:
            return pd.DataFrame({c: pd.Series(dtype=float if c in ("price", "profit") else np.int64)
                                 for c in COLUMNS})
        out = pd.concat(self._parts, ignore_index=True)
        return out.sort_values(["session", "t"], kind="stable").reset_index(drop=True)


def _rows(sessions, t0, ran, codes, price, profit) -> pd.DataFrame:
    """One row per session that ran: means over its recorded periods (NaN-padded codes)."""
    keep = np.flatnonzero(ran > 0)
    p = np.full(codes.shape, np.nan)
    g = np.full(codes.shape, np.nan)
    ok = ~np.isnan(codes)
    idx = codes[ok].astype(np.int64)
    p[ok], g[ok] = price[idx], profit[idx]
    n = ok.sum(axis=1)
    return pd.DataFrame({"session": np.asarray(sessions)[keep].astype(np.int64),
                         "t": t0[keep].astype(np.int64), "periods": ran[keep].astype(np.int64),
                         "price": np.nansum(p, axis=1)[keep] / n[keep],
                         "profit": np.nansum(g, axis=1)[keep] / n[keep]})
