"""The batch of sessions an intervention acts on, and the one way phases play periods.

Why: phases must not each re-derive the kernel's per-agent controls, nor know that a
replaced learner explores on its own clock. :class:`InterventionContext` holds the
game, the learner configuration (per-agent after a replacement), the mutable
:class:`~marketsai.tabular.SessionState` and the per-agent exploration clocks, and
:meth:`InterventionContext.play` is the single call into ``tabular.advance``.

Exploration clocks. A learner that has been in the market since the start explores
at ``eps_t = exp(-beta t)`` on the session clock ``t``. A learner put in by
``replace_learner`` starts its own schedule: ``eps = exp(-beta_i * age_i)``, with
``age_i`` the periods since it arrived. All sessions of a batch are advanced in
lock-step (the post phase stops a session only when it has converged), so ``age_i`` is
one number for every session still playing, and it is passed to the kernel as a
per-agent ``epsilon_override`` that is held for ``eps_chunk`` periods at a time
(evaluated at the chunk's midpoint; with beta = 4e-6 and chunks of 1,000 periods eps
moves by 0.4% within a chunk).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from marketsai import tabular


def initial_q(game, cfg) -> np.ndarray:
    """Q0 of Calvano et al. (2020), eq. (5), as the engine builds it: ``(n, n_states, m)``.

    Taken from the engine (``init_sessions`` of one session) so a memory reset restores
    exactly the table a fresh learner starts from.
    """
    st = tabular.init_sessions(game, cfg, seed=0, sessions=range(1))
    return np.array(st.q[0], copy=True)


def greedy_cache(q: np.ndarray) -> np.ndarray:
    """Greedy-action cache ``argmax_a q[..., a]`` as int32, and -1 where the maximum is tied.

    A -1 entry is repaired by the kernel on its next call, which breaks the tie at random
    with the session's own RNG (as at initialisation) -- never "lowest index wins".
    """
    best = np.argmax(q, axis=-1)
    tied = (q == q.max(axis=-1, keepdims=True)).sum(axis=-1) > 1
    return np.where(tied, -1, best).astype(np.int32)


class InterventionContext:
    """Sessions under intervention; see the module docstring.

    Parameters
    ----------
    game : FiniteGame
    cfg : QLearningConfig
        The baseline learners' configuration; replaced by a per-agent one when a
        learner is replaced.
    states : SessionState
        Mutated in place by every phase.
    threads : int, optional
        Kernel threads (results do not depend on it).
    """

    def __init__(self, game, cfg, states, *, threads=None, eps_chunk: int = 1000):
        self.game = game
        self.cfg = cfg
        self.states = states
        self.threads = threads
        self.eps_chunk = int(eps_chunk)
        self.n = game.n_agents
        self.m = game.n_actions
        self.age = np.full(self.n, -1, dtype=np.int64)  # -1: explores on the session clock
        self._q0 = None

    # ------------------------------------------------------------ learners
    @property
    def q0(self) -> np.ndarray:
        if self._q0 is None:
            self._q0 = initial_q(self.game, self.cfg)
        return self._q0

    def per_agent(self, name: str) -> np.ndarray:
        v = np.asarray(getattr(self.cfg, name), dtype=float)
        return np.broadcast_to(v, (self.n,)).copy()

    def set_q(self, firm_mask: np.ndarray, table: np.ndarray) -> None:
        """Set the Q-table of the masked firms in every session; refresh the greedy cache."""
        st = self.states
        for i in np.nonzero(firm_mask)[0]:
            st.q[:, i] = np.broadcast_to(table[i], st.q.shape[2:]).astype(st.q.dtype)
            st.strategy[:, i] = greedy_cache(st.q[:, i])

    def replace_learners(self, firm_mask: np.ndarray, alpha: float, beta: float) -> None:
        """Fresh learners (Q0, own exploration schedule from age 0) for the masked firms."""
        a, b = self.per_agent("alpha"), self.per_agent("beta")
        a[firm_mask], b[firm_mask] = alpha, beta
        self.cfg = dataclasses.replace(self.cfg, alpha=tuple(a.tolist()), beta=tuple(b.tolist()))
        self.set_q(firm_mask, self.q0)
        self.age[firm_mask] = 0

    def restart_clock(self) -> None:
        """The seed's protocol: clock back to t = 0 (eps = 1), state (0, 0), not converged."""
        st = self.states
        st.t[:] = 0
        st.state[:] = 0
        st.stable[:] = 0
        st.converged[:] = False
        st.pend_s[:] = -1  # no decision pending (alternating moves)
        st.pend_a[:] = -1
        st.pend_r[:] = 0.0
        self.age[:] = -1  # every learner now explores on the restarted session clock

    # ---------------------------------------------------------------- play
    def controls(self):
        """Default per-agent controls: learner chooses, schedule eps, learns, no cap."""
        return (np.full(self.n, -1, np.int64), np.full(self.n, -1.0), np.ones(self.n, bool),
                np.full(self.n, self.m - 1, np.int64))

    def play(self, periods: int | None, *, forced=None, eps=None, learn=None, cap=None,
             record: int = 0, until_converged: bool = False):
        """Advance every session; return recorded prices ``(S, record, n)`` or ``None``.

        ``periods=None`` with ``until_converged=True`` plays until every session has
        converged (the engine's cap applies).
        """
        f0, e0, l0, c0 = self.controls()
        forced = f0 if forced is None else np.asarray(forced, np.int64)
        eps = e0 if eps is None else np.asarray(eps, float)
        learn = l0 if learn is None else np.asarray(learn, bool)
        cap = c0 if cap is None else np.asarray(cap, np.int64)
        own = (self.age >= 0) & (eps < 0)
        if not own.any():
            return self._advance(periods, forced, eps, learn, cap, record, until_converged)
        return self._play_own_clocks(periods, forced, eps, learn, cap, record, until_converged, own)

    def _advance(self, periods, forced, eps, learn, cap, record, until_converged):
        out = tabular.advance(self.game, self.cfg, self.states, periods, forced_action=forced,
                              epsilon_override=eps, learn=learn, action_cap=cap,
                              until_converged=until_converged, record=record,
                              threads=self.threads)
        if periods is not None:
            self.age[self.age >= 0] += int(periods)
        return out if record > 0 else None

    def _play_own_clocks(self, periods, forced, eps, learn, cap, record, until_converged, own):
        beta = self.per_agent("beta")
        cap_total = periods if periods is not None else self._max_periods()
        done, pieces = 0, []
        while done < cap_total:
            chunk = min(self.eps_chunk, cap_total - done)
            e = eps.copy()
            e[own] = np.exp(-beta[own] * (self.age[own] + 0.5 * chunk))
            rec = max(0, min(chunk, record - done))
            t_before = self.states.t.copy()
            out = self._advance(chunk, forced, e, learn, cap, rec, until_converged)
            if rec:
                pieces.append(out)
            done += chunk
            if until_converged and (self.states.converged.all() or
                                    np.array_equal(t_before, self.states.t)):
                break
        if record <= 0:
            return None
        got = np.concatenate(pieces, axis=1) if pieces else np.zeros((len(self.states.t), 0, self.n))
        if got.shape[1] < record:  # sessions stopped early: pad as the engine does (NaN)
            pad = np.full((got.shape[0], record - got.shape[1], self.n), math.nan)
            got = np.concatenate([got, pad], axis=1)
        return got

    def _max_periods(self) -> int:
        return int(getattr(self.cfg, "max_periods", 10**9))
