"""Klein (2021) sequential-move Q-learning: numba sessions on a duopoly's payoff table.

Why its own kernel: Klein's learners differ from Calvano's in three places the general
kernels do not express -- firms move in turn (firm 0 in odd periods, firm 1 in even ones,
a price stands for two periods), the mover's state is **only the rival's current price**
(Klein's Markov assumption: a Q-table of ``m x m`` per firm), and the update spans the two
periods a price stands (Klein 2021, eq. 5)::

    Q_i(p_i, p_j) <- (1 - alpha) Q_i(p_i, p_j)
                     + alpha [pi_i(p_i, p_j) + delta pi_i(p_i, p_j') + delta^2 max_p Q_i(p, p_j')]

where ``p_i`` is the price firm ``i`` set two periods ago in state ``p_j``, and ``p_j'`` the
price its rival set in reply (the mover's state now). Exploration is
``eps_t = (1 - theta)^t`` over the global period ``t`` (``theta = 1 - 1e-6^(1/T)`` puts
``eps_T`` at 1e-6); with probability ``eps_t`` the mover draws a price uniformly, else it
plays ``argmax_p Q_i(p, p_j)`` with ties broken uniformly at random.

Period ``t = 0`` draws both initial prices uniformly; periods ``1..T`` follow. Each
session's random numbers come from its own xoshiro256** stream ``(seed, session)``
(:mod:`marketsai.tabular.rng`), so results do not depend on threads or batching. Per
period the draws are: one uniform (explore or not), then one integer (the explored
price) or, on a tie of greedy prices, one uniform for the tie. The plain-Python twin,
:mod:`marketsai.tabular.klein_reference`, makes the same draws in the same order.

Outputs per session: both Q-tables ``(2, m, m)`` indexed ``[firm, rival price, own price]``,
the final prices, and the prices and profits of the last ``tail`` periods (Klein's
profitability is the mean profit over the last 1000 periods).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from marketsai.errors import SpecError
from marketsai.tabular.kernel_parts import argmax_random_ties
from marketsai.tabular.rng import randint, session_rng_state, uniform


@dataclass(frozen=True)
class KleinSettings:
    """Klein's learning parameters (defaults: his baseline)."""

    alpha: float = 0.3  # learning rate
    periods: int = 500_000  # T: exploration falls to eps_T = final_epsilon
    final_epsilon: float = 1e-6
    tail: int = 1000  # periods at the end whose prices and profits are kept

    @property
    def decay(self) -> float:
        """``-ln(1 - theta)`` with ``theta = 1 - final_epsilon^(1/T)``: ``eps_t = exp(-decay t)``."""
        return -math.log(self.final_epsilon) / self.periods

    def check(self) -> None:
        for name, ok, allowed in (
                ("alpha", 0 < self.alpha <= 1, "a number in (0, 1]"),
                ("periods", isinstance(self.periods, int) and self.periods >= 2, "an integer >= 2"),
                ("final_epsilon", 0 < self.final_epsilon < 1, "a number in (0, 1)"),
                ("tail", isinstance(self.tail, int) and 1 <= self.tail <= self.periods,
                 f"an integer in [1, periods = {self.periods}]")):
            if not ok:
                raise SpecError("invalid value", path=f"learner.{name}", value=getattr(self, name),
                                allowed=allowed)


@dataclass(frozen=True)
class KleinSessions:
    """Results of independent Klein sessions (``S`` sessions, ``m`` prices)."""

    q: np.ndarray  # (S, 2, m, m): Q_i[rival price, own price]
    final_prices: np.ndarray  # (S, 2) price indices after period T
    tail_prices: np.ndarray  # (S, tail, 2) price indices of the last periods
    tail_profits: np.ndarray  # (S, tail, 2)
    sessions: np.ndarray  # (S,) session ids (the RNG stream of each)

    @property
    def greedy(self) -> np.ndarray:
        """Greedy reaction functions ``(S, 2, m)``: own price index per rival price
        (first maximum on ties: a deterministic read of the table)."""
        return np.argmax(self.q, axis=-1)

    @property
    def profitability(self) -> np.ndarray:
        """Mean per-firm profit over the tail, per session ``(S,)`` (Klein's measure)."""
        return self.tail_profits.mean(axis=(1, 2))


def own_rival_profits(payoff_matrix: np.ndarray) -> np.ndarray:
    """``pi[i, own, rival]`` from a duopoly's payoff tensor ``(m, m, 2)`` indexed by
    (firm 0's action, firm 1's action, firm)."""
    pm = np.asarray(payoff_matrix, dtype=np.float64)
    if pm.ndim != 3 or pm.shape[0] != pm.shape[1] or pm.shape[2] != 2:
        raise SpecError("Klein's learner needs a duopoly with one grid of prices",
                        path="economy.agents", value=pm.shape, allowed="two firms on the same grid")
    return np.ascontiguousarray(np.stack([pm[:, :, 0], pm[:, :, 1].T]))


@njit(cache=True)
def _klein_session(pi, m, periods, alpha, delta, decay, st, q, tail_p, tail_r):
    """One session; fills ``q`` (2, m, m), ``tail_p``/``tail_r`` (tail, 2); returns final prices."""
    tail = tail_p.shape[0]
    price = np.empty(2, np.int64)
    price[0] = randint(st, m)
    price[1] = randint(st, m)
    last_state = np.full(2, -1, np.int64)  # the state (rival price) of each firm's last move
    last_action = np.zeros(2, np.int64)
    last_reward = np.zeros(2)
    d2 = delta * delta
    for t in range(1, periods + 1):
        i = (t - 1) % 2  # the mover: firm 0 in odd periods, firm 1 in even ones
        j = 1 - i
        s = price[j]  # Klein's state: the rival's current price
        if last_state[i] >= 0:  # eq. 5: the price set two periods ago, seen through both periods
            a0 = last_action[i]
            best = q[i, s, 0]
            for a in range(1, m):
                if q[i, s, a] > best:
                    best = q[i, s, a]
            target = last_reward[i] + delta * pi[i, a0, s] + d2 * best
            q[i, last_state[i], a0] = (1.0 - alpha) * q[i, last_state[i], a0] + alpha * target
        if uniform(st) < math.exp(-decay * t):
            a = randint(st, m)
        else:
            a, _ = argmax_random_ties(q, i, s, m - 1, st)
        price[i] = a
        last_state[i] = s
        last_action[i] = a
        last_reward[i] = pi[i, a, s]
        k = t - (periods - tail) - 1
        if k >= 0:
            tail_p[k, 0] = price[0]
            tail_p[k, 1] = price[1]
            tail_r[k, 0] = pi[0, price[0], price[1]]
            tail_r[k, 1] = pi[1, price[1], price[0]]
    return price[0], price[1]


@njit(cache=True, parallel=True)
def _klein_sessions(pi, m, periods, alpha, delta, decay, states, q, tail_p, tail_r, final):
    for k in prange(states.shape[0]):
        p0, p1 = _klein_session(pi, m, periods, alpha, delta, decay, states[k], q[k], tail_p[k], tail_r[k])
        final[k, 0] = p0
        final[k, 1] = p1


def run_klein_sessions(payoff_matrix, discount: float, settings: KleinSettings = KleinSettings(),
                       *, seed: int = 0, sessions=range(100), threads: int | None = None) -> KleinSessions:
    """Independent Klein sessions on a duopoly's payoff tensor ``(m, m, 2)``.

    Examples
    --------
    >>> import marketsai as mai
    >>> game = mai.load_economy("economies/klein_k6.yaml").finite_game()
    >>> res = run_klein_sessions(game.payoff_matrix(), 0.95, KleinSettings(periods=2000, tail=10),
    ...                          sessions=range(2))
    >>> res.q.shape, res.tail_prices.shape
    ((2, 2, 7, 7), (2, 10, 2))
    """
    settings.check()
    if not 0 <= discount < 1:
        raise SpecError("invalid value", path="economy.discount", value=discount, allowed="a number in [0, 1)")
    pi = own_rival_profits(payoff_matrix)
    m = pi.shape[1]
    ids = np.asarray(list(sessions), dtype=np.int64)
    states = np.stack([session_rng_state(seed, int(s)) for s in ids]) if len(ids) else np.zeros((0, 4), np.uint64)
    S = len(ids)
    q = np.zeros((S, 2, m, m))
    tail_p = np.zeros((S, settings.tail, 2), np.int64)
    tail_r = np.zeros((S, settings.tail, 2))
    final = np.zeros((S, 2), np.int64)
    import numba
    previous = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(int(threads))
    try:
        _klein_sessions(pi, m, int(settings.periods), float(settings.alpha), float(discount),
                        float(settings.decay), states, q, tail_p, tail_r, final)
    finally:
        numba.set_num_threads(previous)
    return KleinSessions(q=q, final_prices=final, tail_prices=tail_p, tail_profits=tail_r, sessions=ids)
