"""Applying an intervention to converged sessions, and what happens after it.

Two post-intervention protocols:

``correct`` (default)
    Learning continues on each session's own clock: exploration continues its decay
    ``eps_t = exp(-beta t)`` from the ``t`` at which the session converged (plus the
    periods the intervention took), play continues from the state the intervention
    left, and the session runs until it re-converges by the same rule as the baseline
    (every greedy action unchanged for ``stable_periods`` periods in a row).

``seed``
    The protocol of the seed study (``000_bed8b431566c38da``): the clock is restarted at
    ``t = 0`` (so ``eps = 1``) and play starts from the fixed state (0, 0). The Q-tables
    the intervention left are kept, so each "recovery" is in effect a fresh learning run
    from a warm start. Kept only to compare the two.

:func:`run_intervention` measures, per session: the limit cycle before (``p_base``,
``delta_base``) and after (``p_post``, ``delta_post``), the recovery rate ``R``, and the
periods to re-converge (counted from the end of the intervention, and including the
``stable_periods`` window that confirms convergence); and returns the price path
before, during and after the intervention summarised across sessions.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd

from marketsai.interventions import measures
from marketsai.interventions.context import InterventionContext
from marketsai.interventions.intervention import PROTOCOLS, Intervention


@dataclass
class InterventionRun:
    """What :func:`run_intervention` returns.

    ``sessions``: one row per session (columns in :data:`SESSION_COLUMNS`);
    ``paths``: the price path summarised across sessions (see
    :func:`marketsai.interventions.measures.path_table`), ``t = 0`` the first period of
    the intervention; ``states``: the sessions after re-convergence;
    ``prices``: the raw window ``(S, before + periods + after, n)`` if asked for.
    """

    sessions: pd.DataFrame
    paths: pd.DataFrame
    states: object
    prices: np.ndarray | None = None


SESSION_COLUMNS = {
    "session": "session index (same baseline across interventions)",
    "p_base": "mean price over the pre-intervention limit cycle (firm average)",
    "delta_base": "profit gain over the pre-intervention limit cycle",
    "cycle_base": "length of the pre-intervention limit cycle",
    "p_post": "mean price over the limit cycle after re-convergence",
    "delta_post": "profit gain over the post-intervention limit cycle",
    "cycle_post": "length of the post-intervention limit cycle",
    "R": "recovery rate (p_post - pN) / (p_base - pN)",
    "reconverged": "the session re-converged within max_periods",
    "periods_to_reconverge": "periods from the end of the intervention to re-convergence "
                             "(including the stable_periods window)",
    "t_start": "session clock when the intervention began",
    "t_end": "session clock at re-convergence",
}


def reconverge(ctx: InterventionContext, protocol: str, *, max_periods: int, record: int = 0):
    """Run the post-intervention phase under ``protocol``; return (prices, periods run)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; allowed: {', '.join(PROTOCOLS)}")
    st = ctx.states
    if protocol == "seed":
        ctx.restart_clock()
    else:
        st.stable[:] = 0  # re-convergence is counted afresh, by the same rule
        st.converged[:] = False
    t0 = st.t.copy()
    prices = ctx.play(int(max_periods), record=record, until_converged=True)
    return prices, st.t - t0


def copy_states(states):
    """A deep copy of a SessionState (the baseline is reused by every intervention)."""
    return copy.deepcopy(states)


def run_intervention(game, cfg, states, intervention: Intervention, *, before: int = 20,
                     after: int = 100, max_periods: int = 50_000_000, threads=None,
                     keep_prices: bool = False, sessions=None, copy: bool = True,
                     eps_chunk: int = 2000) -> InterventionRun:
    """Apply ``intervention`` to converged ``states`` and let them re-converge.

    Parameters
    ----------
    game, cfg
        The game and the baseline learners' configuration.
    states : SessionState
        Converged sessions; copied first unless ``copy=False``.
    intervention : Intervention
        Bound to ``game`` here if it is not yet.
    before, after : int
        Periods of the price path recorded before the intervention (greedy play on the
        converged cycle) and after it (the first periods of the post phase).
    max_periods : int
        Cap on the post phase; sessions still learning then have ``reconverged=False``.
    sessions : array-like, optional
        Session indices for the table (default ``0..S-1``).
    """
    st = copy_states(states) if copy else states
    for p in intervention.phases:
        if p.game is not game:
            p.bind(game)
    n_sessions = st.t.shape[0]
    pn = measures.nash_price(game)
    base = measures.cycle_measures(game, st.strategy, st.state)
    t_start = st.t.copy()
    before_w = measures.greedy_path(game, st.strategy, st.state, before)

    ctx = InterventionContext(game, cfg, st, threads=threads, eps_chunk=eps_chunk)
    during = [np.asarray(r, float) for r in (p.apply(ctx) for p in intervention.phases)
              if r is not None]
    during_w = (np.concatenate(during, axis=1) if during
                else np.zeros((n_sessions, 0, game.n_agents)))
    post, periods = reconverge(ctx, intervention.protocol, max_periods=max_periods, record=after)
    after_w = np.zeros((n_sessions, 0, game.n_agents)) if post is None else np.asarray(post, float)
    k = during_w.shape[1]

    after_m = measures.cycle_measures(game, st.strategy, st.state)
    table = pd.DataFrame({
        "session": np.arange(n_sessions) if sessions is None else np.asarray(sessions),
        "p_base": base["price"], "delta_base": base["delta"], "cycle_base": base["cycle_length"],
        "p_post": after_m["price"], "delta_post": after_m["delta"],
        "cycle_post": after_m["cycle_length"],
        "R": measures.recovery_rate(after_m["price"], base["price"], pn),
        "reconverged": np.asarray(st.converged, bool).copy(),
        "periods_to_reconverge": np.asarray(periods, np.int64),
        "t_start": t_start, "t_end": st.t.copy(),
    })
    paths = pd.concat([measures.path_table(before_w, -before, "before"),
                       measures.path_table(during_w, 0, "during"),
                       measures.path_table(after_w, k, "after")], ignore_index=True)
    raw = np.concatenate([before_w, during_w, after_w], axis=1) if keep_prices else None
    return InterventionRun(table, paths, st, raw)
