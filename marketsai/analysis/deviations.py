"""What happens after a one-period deviation: punishment length, IC and IR.

Calvano et al. (2020, Section V and the online appendix tables) summarise the
strategies learned in each variation of their model by three statistics of a
one-period deviation to the static best response, taken at every state of a
session's limit cycle and by every agent in turn (the authors'
``DetailedAnalysis.f90`` and the R scripts of the replication package):

* **punishment length** -- ``ShockLength`` of their code: the first period ``t >= 1``
  after which play is back on the pre-deviation cycle; if it never returns, the
  period at which the new cycle it enters starts (``t`` counts the deviation period
  as 1, so a deviation answered by one period of punishment and an immediate return
  has length 3);
* **IC** -- share of deviations that do not pay: the deviator's discounted profit of
  deviating once and then following the strategies (``Q^sigma(s, dev)``, their
  ``computeQCell``) is strictly below that of following them (``Q^sigma(s, greedy)``);
* **IR** -- the non-deviators' relative price change from the deviation period to
  the next one, ``(p(2) - p(1)) / p(1)`` (negative: they punish).

The deviation is the static best response (lowest index on ties) to the others'
greedy actions at the cycle state. Per session the module returns means over its
deviations; :func:`pool_deviations` pools sessions as the authors' scripts do (every
(cycle state, deviator) pair one row, so sessions with longer cycles weigh more).
Q-values are exact: the path is followed until a state repeats and the cycle's value
summed in closed form, as ``computeQCell`` does.

Works for any finite game without observed exogenous states (pass the game whose
payoffs are the stationary means when a shock is unobserved), any number of agents
and any memory length.
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

COLUMNS = ("deviations", "punishment_length", "ic_share", "ir")


@nb.njit(cache=True)
def _follow(strat_b, s0, j1, agent, payoffs, n, m, n_states, joint, discount, pre, seen, path,
            pay):
    """Play ``j1`` at state ``s0``, then greedy: ``(Q of agent, shock length)``.

    ``pre[s]`` marks the pre-deviation cycle's states; ``seen`` (all -1 on entry, reset
    on exit), ``path`` and ``pay`` are scratch of length ``n_states + 2``.
    """
    s = next_state(s0, j1, n_states, joint)
    pay[1] = payoffs[j1, agent]
    t = 1
    shock_len = -1
    while True:
        if shock_len < 0 and pre[s]:  # back on the pre-deviation cycle (their case 1)
            shock_len = t
        if seen[s] >= 0:  # the state repeats: play has entered its cycle
            break
        seen[s] = t
        path[t] = s
        j = joint_of(strat_b, s, n, m)
        t += 1
        pay[t] = payoffs[j, agent]
        s = next_state(s, j, n_states, joint)
    t_rep = seen[s]  # s_T == s_{t_rep}: periods t_rep + 1 .. T form the cycle
    if shock_len < 0:  # a new cycle (their case 2): where it starts
        shock_len = t_rep
    head = 0.0
    w = 1.0
    for k in range(1, t_rep + 1):
        head += w * pay[k]
        w *= discount
    cyc = 0.0
    wc = 1.0
    for k in range(t_rep + 1, t + 1):
        cyc += wc * pay[k]
        wc *= discount
    for k in range(1, t):
        seen[path[k]] = -1
    return head + w * cyc / (1.0 - wc), shock_len


@nb.njit(cache=True, parallel=True)
def _deviation_stats(strategies, entry, length, prices, payoffs, m, discount):
    n_sessions, n, n_states = strategies.shape
    joint = m**n
    count = np.zeros(n_sessions, np.int64)
    punish = np.zeros(n_sessions)
    ic = np.zeros(n_sessions)
    ir = np.zeros(n_sessions)
    for b in nb.prange(n_sessions):
        strat_b = strategies[b]
        pre = np.zeros(n_states, np.bool_)
        cyc = np.empty(length[b], np.int64)
        s = entry[b]
        for k in range(length[b]):
            cyc[k] = s
            pre[s] = True
            s = next_state(s, joint_of(strat_b, s, n, m), n_states, joint)
        seen = np.full(n_states, -1, np.int64)
        path = np.empty(n_states + 2, np.int64)
        pay = np.empty(n_states + 2)
        n_ir = 0
        for k in range(length[b]):
            c = cyc[k]
            jg = joint_of(strat_b, c, n, m)
            for i in range(n):
                stride = m ** (n - 1 - i)
                base = jg - strat_b[i, c] * stride
                dev, best = 0, -np.inf
                for a in range(m):  # static best response, lowest index on ties
                    v = payoffs[base + a * stride, i]
                    if v > best:
                        dev, best = a, v
                j1 = base + dev * stride
                q_dev, shock_len = _follow(strat_b, c, j1, i, payoffs, n, m, n_states, joint,
                                           discount, pre, seen, path, pay)
                q_eq, _ = _follow(strat_b, c, jg, i, payoffs, n, m, n_states, joint, discount,
                                  pre, seen, path, pay)
                count[b] += 1
                punish[b] += shock_len
                if q_dev < q_eq:
                    ic[b] += 1.0
                j2 = joint_of(strat_b, next_state(c, j1, n_states, joint), n, m)
                for r in range(n):
                    if r != i:
                        ir[b] += (prices[j2, r] - prices[j1, r]) / prices[j1, r]
                        n_ir += 1
        punish[b] /= count[b]
        ic[b] /= count[b]
        ir[b] = ir[b] / n_ir if n_ir else np.nan
    return count, punish, ic, ir


def deviation_statistics(game: FiniteGame, strategies, start_states=None) -> pd.DataFrame:
    """Punishment length, IC and IR of each session (see the module docstring).

    Returns one row per session: ``session``, ``deviations`` (cycle length x agents),
    ``punishment_length``, ``ic_share`` and ``ir`` (means over the session's
    deviations; ``ir`` over every (deviation, non-deviator) pair).

    Examples
    --------
    Grim trigger in a prisoner's dilemma (action 0 cooperates at price 2, action 1
    defects at price 1): the deviation never pays, the rival halves its price, and play
    settles on mutual defection from period 2 on.

    >>> pd_ = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)
    >>> g = FiniteGame.from_matrix(pd_, memory=1, discount=0.9, actions=[[2, 1], [2, 1]])
    >>> grim = np.array([[[0, 1, 1, 1], [0, 1, 1, 1]]])
    >>> deviation_statistics(g, grim).round(3).values.tolist()
    [[0.0, 2.0, 2.0, 1.0, -0.5]]
    """
    strategies = check_strategies(game, strategies)
    if not 0 < game.discount < 1:
        raise ValueError(f"deviation values need 0 < discount < 1, got {game.discount}")
    if game.n_agents < 2:
        raise ValueError("deviations need at least two agents")
    start = start_states_of(start_states, strategies.shape[0])
    entry, length = find_cycles(strategies, start, game.n_actions)
    count, punish, ic, ir = _deviation_stats(strategies, entry, length, game.prices[0],
                                             game.payoffs[0], game.n_actions,
                                             float(game.discount))
    return pd.DataFrame({"session": np.arange(strategies.shape[0]), "deviations": count,
                         "punishment_length": punish, "ic_share": ic, "ir": ir})


def pool_deviations(frame: pd.DataFrame) -> dict:
    """Pooled statistics, each (cycle state, deviator) pair one observation.

    The authors' R scripts average over all such rows of all sessions; this weighs
    each session's means by its ``deviations``. Returns ``punishment_length``,
    ``ic_share``, ``ir`` (None when there are no rows).

    >>> f = pd.DataFrame({"deviations": [2, 6], "punishment_length": [3.0, 5.0],
    ...                   "ic_share": [1.0, 0.5], "ir": [-0.1, -0.2]})
    >>> {k: round(v, 4) for k, v in pool_deviations(f).items()}
    {'punishment_length': 4.5, 'ic_share': 0.625, 'ir': -0.175}
    """
    w = frame["deviations"].to_numpy(dtype=float)
    out = {}
    for col in ("punishment_length", "ic_share", "ir"):
        x = frame[col].to_numpy(dtype=float)
        ok = ~np.isnan(x) & (w > 0)
        out[col] = float(np.sum(w[ok] * x[ok]) / np.sum(w[ok])) if ok.any() else None
    return out
