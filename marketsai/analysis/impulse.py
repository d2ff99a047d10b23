"""Impulse responses: one agent deviates for one period, then everyone plays greedy.

Calvano et al. (2020, Figure 4): start on the limit cycle, let agent 0 deviate for one
period -- to its static best response on the grid, or to the grid action nearest the
Nash price -- and follow greedy play afterwards. Sessions with a cycle longer than one
period are shocked once at every cycle state and the paths averaged.

Two layers, so deep learners reuse the second one:

* :func:`impulse_response_paths` -- tabular strategies ``(S, n, n_states)`` to price
  paths ``(S, T + 1, n)`` (a numba kernel over sessions);
* :func:`impulse_response_table` and :func:`plot_impulse_response` -- price paths from
  *any* learner to a summary table, and the table to a figure.

Path time index: ``t = 0`` is the pre-shock average price over the limit cycle, ``t = 1``
the deviation period, ``t >= 2`` greedy play after it.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import pandas as pd

from marketsai.analysis.cycles import (
    check_strategies,
    find_cycles,
    joint_of,
    next_state,
    start_states_of,
)
from marketsai.finite_game import FiniteGame

DEVIATIONS = ("best_response", "nash", "calvano_fortran")


@nb.njit(cache=True, parallel=True)
def _impulse_paths(strategies, entry, length, prices, payoffs, m, agent, mode, nash_idx,
                   periods):
    n_sessions, n, n_states = strategies.shape
    joint = m**n
    stride = m ** (n - 1 - agent)  # weight of the deviator's action in the joint index
    paths = np.zeros((n_sessions, periods + 1, n))
    for b in nb.prange(n_sessions):
        c = entry[b]
        for _ in range(length[b]):  # pre-shock: average over the cycle
            j = joint_of(strategies[b], c, n, m)
            for i in range(n):
                paths[b, 0, i] += prices[j, i] / length[b]
            c = next_state(c, j, n_states, joint)
        for pos in range(length[b]):  # shock at every cycle state c
            j_greedy = joint_of(strategies[b], c, n, m)
            base = j_greedy - strategies[b, agent, c] * stride
            if mode == 1:
                dev = nash_idx
            else:  # static best response to the others' greedy actions ...
                # ... at the cycle state, or (mode 2, as the authors' Fortran code does) at
                # the state whose *number* is the position in the cycle
                sb = c if mode == 0 else pos
                ref = joint_of(strategies[b], sb, n, m) - strategies[b, agent, sb] * stride
                dev, best = 0, -np.inf
                for a in range(m):
                    v = payoffs[ref + a * stride, agent]
                    if v > best:
                        dev, best = a, v
            j = base + dev * stride
            s = c
            for t in range(1, periods + 1):
                if t > 1:
                    j = joint_of(strategies[b], s, n, m)
                for i in range(n):
                    paths[b, t, i] += prices[j, i] / length[b]
                s = next_state(s, j, n_states, joint)
            c = next_state(c, j_greedy, n_states, joint)
    return paths


def impulse_response_paths(game: FiniteGame, strategies, start_states=None, periods: int = 20,
                           deviation: str = "best_response", agent: int = 0) -> np.ndarray:
    """Price paths ``(S, periods + 1, n)`` after ``agent`` deviates for one period.

    Parameters
    ----------
    game : FiniteGame
        Without exogenous states.
    strategies : (S, n, n_states) int array
        Greedy action index of every agent in every state.
    start_states : (S,) int array, optional
        Where play starts before the cycle is found (default state 0); use the state a
        learner converged in, so the cycle is the one it actually played.
    periods : int
        Periods after the shock (``t = 1 .. periods``).
    deviation : {"best_response", "nash", "calvano_fortran"}
        The deviation: the static best response on the grid to the others' greedy
        actions, or the grid action nearest the agent's Nash action. ``calvano_fortran``
        reproduces the authors' published code (``ImpulseResponse.f90`` of the AER
        replication package), which passes the position in the cycle (1, 2, ...) where
        the cycle's state is meant, so the "static best response" is taken against the
        others' greedy actions at state number ``position`` (0-based here) -- for a
        fixed point, the state after everyone charged the lowest price.

    Examples
    --------
    Grim trigger in a prisoner's dilemma (0 = cooperate): a one-period defection at
    mutual cooperation is punished for ever.

    >>> pd_ = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)
    >>> g = FiniteGame.from_matrix(pd_, memory=1, discount=0.9)
    >>> grim = np.array([[[0, 1, 1, 1], [0, 1, 1, 1]]])  # cooperate only after (C, C)
    >>> impulse_response_paths(g, grim, periods=3)[0].tolist()
    [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [1.0, 1.0]]
    """
    strategies = check_strategies(game, strategies)
    if deviation not in DEVIATIONS:
        raise ValueError(f"deviation must be one of {DEVIATIONS}, got {deviation!r}")
    if not 0 <= agent < game.n_agents:
        raise ValueError(f"agent must be in 0..{game.n_agents - 1}, got {agent}")
    start = start_states_of(start_states, strategies.shape[0])
    entry, length = find_cycles(strategies, start, game.n_actions)
    nash_idx = int(np.argmin(np.abs(game.actions[agent] - game.nash_action[agent])))
    return _impulse_paths(strategies, entry, length, game.prices[0], game.payoffs[0],
                          game.n_actions, agent, DEVIATIONS.index(deviation), nash_idx,
                          int(periods))


def impulse_response_table(paths, agent: int = 0, quantiles=(0.1, 0.25, 0.5, 0.75, 0.9),
                           agents=None) -> pd.DataFrame:
    """Summarise price paths ``(S, T, n)`` of any learner, one row per (t, agent).

    Columns: ``t``, ``agent`` (index), ``name``, ``role`` ("deviator" for ``agent``,
    else "rival"), ``mean``, ``sd``, ``q10`` ... ``q90`` (one per quantile), ``sessions``.
    NaNs (e.g. sessions without a path) are ignored.

    Examples
    --------
    >>> paths = np.array([[[1.0, 1.0], [0.5, 1.0]], [[1.0, 1.0], [0.7, 1.0]]])
    >>> tab = impulse_response_table(paths, quantiles=(0.5,))
    >>> tab[["t", "role", "mean", "q50"]].round(3).values.tolist()
    [[0, 'deviator', 1.0, 1.0], [0, 'rival', 1.0, 1.0], [1, 'deviator', 0.6, 0.6], [1, 'rival', 1.0, 1.0]]
    """
    paths = np.asarray(paths, dtype=float)
    if paths.ndim != 3:
        raise ValueError(f"paths must have shape (sessions, T, n), got {paths.shape}")
    _, periods, n = paths.shape
    names = list(agents) if agents is not None else [f"agent_{i}" for i in range(n)]
    rows = []
    for t in range(periods):
        for i in range(n):
            x = paths[:, t, i]
            x = x[~np.isnan(x)]
            row = {"t": t, "agent": i, "name": names[i],
                   "role": "deviator" if i == agent else "rival",
                   "mean": float(x.mean()) if x.size else np.nan,
                   "sd": float(x.std(ddof=1)) if x.size > 1 else np.nan}
            for q in quantiles:
                row[f"q{round(100 * q):02d}"] = float(np.quantile(x, q)) if x.size else np.nan
            row["sessions"] = int(x.size)
            rows.append(row)
    return pd.DataFrame(rows)


def paths_to_frame(paths, sessions=None) -> pd.DataFrame:
    """Long table of price paths: ``session``, ``t``, ``price_0 .. price_{n-1}``.

    The inverse is :func:`frame_to_paths`; run folders store this table so figures can
    be redrawn without the strategies.
    """
    paths = np.asarray(paths, dtype=float)
    s, periods, n = paths.shape
    sessions = np.arange(s) if sessions is None else np.asarray(sessions)
    data = {"session": np.repeat(sessions, periods), "t": np.tile(np.arange(periods), s)}
    for i in range(n):
        data[f"price_{i}"] = paths[:, :, i].ravel()
    return pd.DataFrame(data)


def frame_to_paths(frame: pd.DataFrame) -> np.ndarray:
    """Price paths ``(S, T, n)`` from a :func:`paths_to_frame` table."""
    frame = frame.sort_values(["session", "t"])
    cols = sorted((c for c in frame.columns if c.startswith("price_")),
                  key=lambda c: int(c.split("_")[1]))
    s, periods = frame["session"].nunique(), frame["t"].nunique()
    return frame[cols].to_numpy().reshape(s, periods, len(cols))


def impulse_summary(frame: pd.DataFrame, deviation: str, agent: int = 0) -> dict:
    """Summary keys of one deviation's paths (a :func:`paths_to_frame` table):
    ``impulse_<dev>_pre_shock`` (t = 0, mean over all agents), ``impulse_<dev>_t1_deviator``,
    ``impulse_<dev>_t2_rival`` (mean over the rivals), per rival ``i``
    ``impulse_<dev>_t2_rival_<i>`` (with asymmetric rivals the mean is no rival's price),
    and the mean paths ``impulse_<dev>_deviator``, ``impulse_<dev>_rival``.

    >>> frame = paths_to_frame(np.array([[[1.0, 1.0, 1.0], [0.5, 1.0, 1.0], [0.6, 0.8, 0.9]]]))
    >>> out = impulse_summary(frame, "br")
    >>> out["impulse_br_t2_rival"], out["impulse_br_t2_rival_1"], out["impulse_br_t2_rival_2"]
    (0.8500000000000001, 0.8, 0.9)
    """
    tab = impulse_response_table(frame_to_paths(frame), agent=agent)
    dv = tab[tab["role"] == "deviator"].sort_values("t")["mean"].tolist()
    rivals = tab[tab["role"] == "rival"]
    rv = rivals.groupby("t")["mean"].mean().tolist()
    key = f"impulse_{deviation}"
    out = {f"{key}_pre_shock": float(tab[tab["t"] == 0]["mean"].mean()),  # all agents
           f"{key}_t1_deviator": float(dv[1]),
           f"{key}_t2_rival": float(rv[2]) if len(rv) > 2 else None,
           f"{key}_deviator": [float(x) for x in dv], f"{key}_rival": [float(x) for x in rv]}
    for i, g in rivals[rivals["t"] == 2].groupby("agent"):
        out[f"{key}_t2_rival_{i}"] = float(g["mean"].iloc[0])
    return out


def plot_impulse_response(table: pd.DataFrame, nash=None, coop=None, band=("q25", "q75"),
                          title="Impulse response", ylabel="price"):
    """Figure of each agent's mean path with a quantile band, from a table.

    ``nash`` / ``coop``: optional horizontal reference lines (Nash and monopoly prices):
    one number, or one per agent (indexed by the table's ``agent``) -- then agents sharing
    a value share one line, labelled with their names and, when it is one agent's alone,
    drawn in that agent's colour. Returns a :class:`matplotlib.figure.Figure` (no pyplot
    state).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.add_subplot()
    colors, names = {}, {}
    for (agent, name, role), g in table.groupby(["agent", "name", "role"], sort=True):
        g = g.sort_values("t")
        label = f"{name} ({role})"
        line, = ax.plot(g["t"], g["mean"], marker="o", ms=3, label=label)
        colors[agent], names[agent] = line.get_color(), name
        if band and all(b in g for b in band):
            ax.fill_between(g["t"], g[band[0]], g[band[1]], color=line.get_color(), alpha=0.15)
    for values, style, label in ((nash, "--", "Nash"), (coop, ":", "monopoly")):
        for y, agents in _reference_lines(values, sorted(names)):
            one = agents is not None and len(agents) == 1
            who = "" if agents is None else " (" + ", ".join(str(names[a]) for a in agents) + ")"
            ax.axhline(y, color=colors[agents[0]] if one else "grey", ls=style, lw=1,
                       label=label + who)
    ax.set_xlabel("t (0 = before the shock, 1 = deviation)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _reference_lines(values, agents) -> list:
    """``[(y, agents sharing it or None when it is everyone's)]`` for one kind of line."""
    if values is None:
        return []
    v = np.atleast_1d(np.asarray(values, dtype=float))
    if v.size == 1 or np.all(v == v[0]):
        return [(float(v[0]), None)]
    lines: dict[float, list] = {}
    for a in agents:
        lines.setdefault(float(v[a]), []).append(a)
    return list(lines.items())


def impulse_figures(imp: pd.DataFrame, agent: int, names, nash, coop) -> dict:
    """One impulse-response figure per deviation of an ``impulse_response`` table (columns
    ``session, deviation, t, price_<i>``), each firm against its own Nash / monopoly price
    (``nash``, ``coop``: one per agent)."""
    figs = {}
    for dev, frame in imp.groupby("deviation", sort=False):
        tab = impulse_response_table(frame_to_paths(frame.drop(columns="deviation")), agent=agent,
                                     agents=names)
        figs[f"impulse_response_{dev}"] = plot_impulse_response(
            tab, nash=nash, coop=coop,
            title=f"Impulse response: {names[agent]} deviates ({dev.replace('_', ' ')})")
    return figs
