"""Plain-Python twin of :mod:`marketsai.tabular.klein` (Klein 2021's sequential learners).

Why: every fast path has a slow twin. This one is written from the paper's algorithm with
lists and loops; it draws the same random numbers in the same order as the kernel
(``tests/test_klein.py`` checks Q-tables, prices and profits for equality).
"""

from __future__ import annotations

import math

import numpy as np

from marketsai.tabular.klein import KleinSettings, own_rival_profits
from marketsai.tabular.rng import py_randint, py_uniform, session_rng_state


def _greedy(row, st):
    """Argmax with ties broken uniformly: one draw only when several prices tie."""
    best = max(row)
    ties = [a for a, v in enumerate(row) if v == best]
    if len(ties) == 1:
        return ties[0]
    return ties[int(py_uniform(st) * len(ties))]


def reference_klein_session(payoff_matrix, discount: float, settings: KleinSettings, seed: int,
                            session: int) -> dict:
    """One session: ``q`` (2, m, m) as lists, ``final`` prices, ``tail`` prices and profits."""
    pi = own_rival_profits(payoff_matrix).tolist()
    m = len(pi[0])
    st = [int(x) for x in session_rng_state(seed, session)]
    q = [[[0.0] * m for _ in range(m)] for _ in range(2)]  # q[i][rival price][own price]
    price = [py_randint(st, m), py_randint(st, m)]
    last = [None, None]  # (state, action, reward) of each firm's last move
    tail_p, tail_r = [], []
    for t in range(1, settings.periods + 1):
        i = (t - 1) % 2
        s = price[1 - i]
        if last[i] is not None:
            s0, a0, r0 = last[i]
            target = r0 + discount * pi[i][a0][s] + discount**2 * max(q[i][s])
            q[i][s0][a0] = (1.0 - settings.alpha) * q[i][s0][a0] + settings.alpha * target
        if py_uniform(st) < math.exp(-settings.decay * t):
            a = py_randint(st, m)
        else:
            a = _greedy(q[i][s], st)
        price[i] = a
        last[i] = (s, a, pi[i][a][s])
        if t > settings.periods - settings.tail:
            tail_p.append(list(price))
            tail_r.append([pi[0][price[0]][price[1]], pi[1][price[1]][price[0]]])
    return {"q": np.array(q), "final": np.array(price), "tail_prices": np.array(tail_p),
            "tail_profits": np.array(tail_r)}
