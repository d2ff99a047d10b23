"""Python front end of the kernels: session state, ``init_sessions`` and ``advance``.

A batch of sessions is a :class:`SessionState` of plain arrays (docs/CONTRACTS.md).
The front end validates, tabulates the game into arrays, derives the per-session RNG
streams and checks memory; :mod:`marketsai.tabular.kernel` runs the loops.

Both entry points take a :class:`~marketsai.finite_game.FiniteGame` (the memory kernel,
:mod:`marketsai.tabular.kernel`) or any :class:`~marketsai.finite_model.FiniteModel`
(the general kernel, :mod:`marketsai.tabular.model_kernel`: transitions, per-agent
action counts and feasible actions read from the model's arrays). On
``FiniteModel.from_game(game)`` the two give bit-identical sessions.

Examples
--------
>>> from marketsai.tabular.games import prisoners_dilemma
>>> game = prisoners_dilemma(memory=1, discount=0.9)
>>> cfg = QLearningConfig(alpha=0.1, beta=1e-3, stable_periods=1000)
>>> st = init_sessions(game, cfg, seed=0, sessions=range(4))
>>> st.q.shape, st.strategy.shape
((4, 2, 4, 2), (4, 2, 4))
>>> _ = advance(game, cfg, st)
>>> bool(st.converged.all()), bool((st.stable >= 1000).all())
(True, True)
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

import numba
import numpy as np

from marketsai.errors import SpecError
from marketsai.finite_model import FiniteModel
from marketsai.tabular import kernel, model_kernel
from marketsai.tabular.compiling import announce
from marketsai.tabular.config import EXPLORATION, PROTOCOL, QLearningConfig
from marketsai.tabular.models import (
    check_protocol,
    check_solver_options,
    model_arrays,
    model_controls,
    model_q0_table,
)
from marketsai.tabular.rng import session_rng_state

STATE_FIELDS = ("q", "strategy", "state", "t", "rng", "stable", "converged",
                "pend_s", "pend_a", "pend_r")
SOLVER_FIELDS = ("visits", "pi_value", "pi_policy")  # None unless a solver option needs them


@dataclass(eq=False)
class SessionState:
    """A batch of S independent sessions (arrays are updated in place by :func:`advance`).

    q (S, n, n_states, m) Q-tables; strategy (S, n, n_states) int32 greedy actions;
    state (S,) current state; t (S,) session clock (periods simulated);
    rng (S, 4) uint64 xoshiro256** state; stable (S,) periods in a row with no greedy
    change; converged (S,) ``stable >= stable_periods``; sessions (S,) session indices;
    seed the root seed. ``pend_s, pend_a, pend_r`` (S, n) hold each agent's last
    decision (state, action, discounted payoff so far) for the alternating protocol
    (-1: none), so that a run can be resumed exactly.

    Solver options (docs/q_learning_solver.md) keep more state, None when unused:
    ``visits`` (S, n, n_states, m) int64 update counts of each state-action
    (``step_size="visits"``); ``pi_value`` (S, n, n_states) and ``pi_policy``
    (S, n, n_states) int32, ``J`` and ``nu`` of ``update="enhanced_pi"``. They are not
    part of ``STATE_FIELDS`` (not saved with SessionResults; a resumed ``advance`` keeps
    them in this object).
    """

    q: np.ndarray
    strategy: np.ndarray
    state: np.ndarray
    t: np.ndarray
    rng: np.ndarray
    stable: np.ndarray
    converged: np.ndarray
    pend_s: np.ndarray
    pend_a: np.ndarray
    pend_r: np.ndarray
    sessions: np.ndarray
    seed: int
    visits: np.ndarray | None = None
    pi_value: np.ndarray | None = None
    pi_policy: np.ndarray | None = None

    @property
    def n_sessions(self) -> int:
        return self.state.shape[0]

    def subset(self, idx) -> SessionState:
        """A copy holding only positions ``idx`` of this batch."""
        idx = np.asarray(idx)
        kw = {f: getattr(self, f)[idx].copy() for f in STATE_FIELDS + ("sessions",)}
        for f in SOLVER_FIELDS:
            if getattr(self, f) is not None:
                kw[f] = getattr(self, f)[idx].copy()
        return SessionState(seed=self.seed, **kw)


# ------------------------------------------------------------------- game arrays
@dataclass(frozen=True)
class GameArrays:
    payoffs: np.ndarray
    prices: np.ndarray
    exo_cdf: np.ndarray
    exo_init_cdf: np.ndarray
    Mk: int
    M: int
    n: int
    m: int
    n_states: int
    delta: float
    dpow: np.ndarray
    hide_exo: bool = False  # Q rows are memory states only (the learners do not see e)


def _cdf(p: np.ndarray) -> np.ndarray:
    c = np.cumsum(np.asarray(p, dtype=np.float64), axis=-1)
    c[..., -1] = 1.0
    return np.ascontiguousarray(c)


def game_arrays(game) -> GameArrays:
    """The arrays the kernels read, after checking the game suits them."""
    if game.memory < 1:
        raise SpecError("tabular Q-learning needs at least one period of memory",
                        path="memory", value=game.memory, allowed="an integer >= 1")
    if not 0.0 <= game.discount < 1.0:
        raise SpecError("discount factor out of range", path="discount", value=game.discount,
                        allowed="0 <= discount < 1")
    M = game.n_joint
    if game.n_env_states >= 2**62 // max(M, 1):
        raise SpecError("state space too large to index", path="memory", value=game.memory,
                        allowed="fewer actions, agents or periods of memory")
    n = game.n_agents
    return GameArrays(
        payoffs=np.ascontiguousarray(game.payoffs, dtype=np.float64),
        prices=np.ascontiguousarray(game.prices, dtype=np.float64),
        exo_cdf=_cdf(game.exo_transition), exo_init_cdf=_cdf(game.exo_initial),
        Mk=game.n_memory_states, M=M, n=n, m=game.n_actions, n_states=game.n_states,
        delta=float(game.discount),
        dpow=np.array([float(game.discount) ** k for k in range(n + 1)]),
        hide_exo=not game.exo_observed)


def calvano_q0(game) -> np.ndarray:
    """Calvano et al. (2020) eq. (5): ``Q0_i(s, a_i) = mean_{a_-i} pi_i(a_i, a_-i) / (1 - delta)``.

    Rivals' actions uniform; the same in every memory state; with exogenous states,
    that state's payoffs. Returns shape ``(n, n_exo, m)``.

    >>> from marketsai.finite_game import FiniteGame
    >>> pd = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)
    >>> calvano_q0(FiniteGame.from_matrix(pd, discount=0.5))[0, 0]   # (3+0)/2/0.5, (5+1)/2/0.5
    array([3., 6.])
    """
    n, m = game.n_agents, game.n_actions
    out = np.empty((n, game.n_exo, m))
    for e in range(game.n_exo):
        P = game.payoff_matrix(e)
        for i in range(n):
            own_first = np.moveaxis(P[..., i], i, 0).reshape(m, -1)
            out[i, e] = own_first.mean(axis=1) / (1.0 - game.discount)
    return out


def game_q0_table(game, cfg: QLearningConfig) -> tuple[np.ndarray, int]:
    """(q0 rows, divisor): row ``s // divisor`` of ``q0[i]`` initialises state ``s``."""
    n, m, ga_Mk = game.n_agents, game.n_actions, game.n_memory_states
    if isinstance(cfg.q0, str):
        if cfg.q0 == "calvano":
            if not game.exo_observed:  # one row for all: payoffs averaged over e
                return np.tensordot(calvano_q0(game), game.exo_stationary(), axes=([1], [0]))[
                    :, None, :], game.n_states
            return calvano_q0(game), ga_Mk
        return np.zeros((n, 1, m)), game.n_states
    arr = np.asarray(cfg.q0, dtype=np.float64)
    if arr.shape == (n, m):
        return np.ascontiguousarray(arr[:, None, :]), game.n_states
    if arr.shape == (n, game.n_states, m):
        return np.ascontiguousarray(arr), 1
    raise SpecError("initial Q-table has the wrong shape", path="q0",
                    value=f"array of shape {arr.shape}",
                    allowed=f"({n}, {game.n_states}, {m}) or ({n}, {m})")


# ------------------------------------------------------------------------ memory
def available_memory_bytes() -> int:
    """MemAvailable from /proc/meminfo (free + reclaimable), else free physical pages."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _action_label(game) -> str:
    nact = np.atleast_1d(np.asarray(game.n_actions))
    if nact.size == 1 or np.all(nact == nact[0]):
        return f"{int(nact[0])} actions"
    return f"{int(nact.max())} actions (the largest of {nact.tolist()})"


def is_model(game) -> bool:
    """True for a :class:`~marketsai.finite_model.FiniteModel` (the general kernel's input)."""
    return isinstance(game, FiniteModel)


def session_bytes(game, cfg: QLearningConfig) -> int:
    """Bytes one session holds: Q-table, greedy cache and (while running) row maxima.

    Works for a game and a model (whose Q rows are padded to the largest action set).
    """
    itemsize = np.dtype(cfg.dtype).itemsize
    extra = 0
    if cfg.step_size == "visits":  # int64 visit counts beside the Q-table
        extra += game.q_table_bytes(8)
    if cfg.update == "enhanced_pi":  # J and nu
        extra += game.n_agents * game.n_states * (8 + 4)
    return game.q_table_bytes(itemsize) + game.n_agents * game.n_states * (4 + 8) + extra


def check_memory(game, cfg: QLearningConfig, sessions_at_once: int, available=None) -> None:
    """Raise SpecError (size in GB, with hints) if the sessions' tables would not fit in RAM."""
    need = sessions_at_once * session_bytes(game, cfg)
    avail = available_memory_bytes() if available is None else int(available)
    if need > 0.9 * avail:
        from marketsai.limits import format_bytes as gb  # readable at any size
        raise SpecError(
            f"Q-tables need {gb(need)} ({sessions_at_once} sessions at once x "
            f"{gb(session_bytes(game, cfg))}: {game.n_agents} agents x "
            f"{game.n_states:.4g} states x {_action_label(game)}, {cfg.dtype}) but only "
            f"{gb(avail)} of memory is available",
            path="q_table", value=gb(need),
            allowed="fewer actions, a lower memory k, dtype='float32', "
                    "or fewer threads/sessions at once")


@contextmanager
def numba_threads(threads):
    """Temporarily run prange loops on ``threads`` threads (None: numba's current setting)."""
    if threads is None:
        yield
        return
    if not (isinstance(threads, (int, np.integer)) and 1 <= threads <= numba.config.NUMBA_NUM_THREADS):
        raise SpecError("thread count out of range", path="threads", value=threads,
                        allowed=f"1..{numba.config.NUMBA_NUM_THREADS}")
    old = numba.get_num_threads()
    numba.set_num_threads(int(threads))
    try:
        yield
    finally:
        numba.set_num_threads(old)


# ------------------------------------------------------------------------- init
def init_sessions(game, cfg: QLearningConfig, seed: int = 0, sessions=range(100),
                  threads=None) -> SessionState:
    """Fresh sessions: Q = Q0, random initial state, greedy strategies (random ties).

    ``game`` is a FiniteGame or a FiniteModel (initial state ``e ~ exo_initial``,
    ``x ~ x_initial``; ``q0="calvano"`` is eq. (5) generalised, see
    :func:`marketsai.tabular.models.calvano_q0_model`).
    Session ``k`` draws from ``np.random.SeedSequence(seed, spawn_key=(k,))``.
    With ``cfg.device == "cuda"`` the tables are filled on the GPU (same sessions).
    """
    if cfg.device == "cuda":  # refused before anything runs: no device, or a run the kernel lacks
        from marketsai.tabular import gpu
        gpu.check_run(game, cfg)
    game = solver_problem(game, cfg)
    if is_model(game):
        return _init_model_sessions(game, cfg, seed, sessions, threads)
    ga = game_arrays(game)
    sessions = _checked_sessions(game, cfg, sessions, ga.n)
    q0, q0_div = game_q0_table(game, cfg)
    states = _blank_state(cfg, seed, sessions, ga.n, ga.n_states, ga.m)
    if cfg.device == "cuda":  # the same sessions, initialised on the GPU (marketsai.tabular.gpu)
        gpu.init_on_device(q0, q0_div, ga.Mk, states)
        return states
    announce(kernel.init_kernel, kernel.advance_kernel)
    with numba_threads(threads):
        kernel.init_kernel(q0.astype(np.float64), q0_div, ga.Mk, ga.exo_init_cdf, states.q,
                           states.strategy, states.state, states.rng)
    return states


def _init_model_sessions(model, cfg, seed, sessions, threads) -> SessionState:
    ma = model_arrays(model)
    check_protocol(model, cfg.protocol)
    check_solver_options(model, cfg)
    sessions = _checked_sessions(model, cfg, sessions, ma.n)
    q0, q0_div = model_q0_table(model, cfg)
    states = _blank_state(cfg, seed, sessions, ma.n, ma.n_states, ma.m)
    announce(model_kernel.init_model_kernel, model_kernel.advance_model_kernel)
    with numba_threads(threads):
        model_kernel.init_model_kernel(np.ascontiguousarray(q0, dtype=np.float64), q0_div, ma.n_x,
                                       ma.x_uniform, ma.x_init_cdf, ma.exo_init_cdf, ma.nf,
                                       states.q, states.strategy, states.state, states.rng)
    solver_state(ma.nf, cfg, states)
    return states


def solver_problem(game, cfg: QLearningConfig):
    """The problem the kernels run: a game as ``FiniteModel.from_game`` when a solver option
    is on (the options live in the model kernel; on a game it gives the same sessions)."""
    if cfg.solver_options and not is_model(game):
        return FiniteModel.from_game(game)
    return game


def solver_state(nf, cfg: QLearningConfig, states: SessionState) -> None:
    """Create the state the solver options keep, where missing (in place).

    ``visits`` starts at zero; ``pi_value``/``pi_policy`` (J, nu of enhanced policy
    iteration) at the row maxima over feasible actions and the greedy actions of ``q``.
    """
    S, n, n_states, m = states.q.shape
    if cfg.step_size == "visits" and states.visits is None:
        states.visits = np.zeros((S, n, n_states, m), np.int64)
    if cfg.update == "enhanced_pi" and states.pi_value is None:
        hi = np.broadcast_to(nf, (n_states, n)).T  # (n, n_states) feasible counts
        feas = np.arange(m)[None, None, None, :] < hi[None, :, :, None]
        q = states.q.astype(np.float64)
        states.pi_value = np.where(feas, q, -np.inf).max(axis=3)
        states.pi_policy = states.strategy.copy()


def _solver_arrays(cfg: QLearningConfig, ga, states: SessionState):
    """``visits, exo_p, pi_value, pi_policy`` for the kernel: None for options that are off
    (the kernel is then compiled without them)."""
    exo_p = ga.exo_p if cfg.target == "expected" else None
    visits = states.visits if cfg.step_size == "visits" else None
    epi = cfg.update == "enhanced_pi"
    return visits, exo_p, states.pi_value if epi else None, states.pi_policy if epi else None


def _checked_sessions(game, cfg, sessions, n) -> np.ndarray:
    """Session indices as int64, after the checks both front ends share (rates, memory)."""
    sessions = np.asarray(list(sessions), dtype=np.int64).reshape(-1)
    if sessions.size and sessions.min() < 0:
        raise SpecError("session indices must be >= 0", path="sessions", value=int(sessions.min()))
    cfg.per_agent("alpha", n)
    cfg.per_agent("beta", n)
    check_memory(game, cfg, sessions.size)
    return sessions


def _blank_state(cfg, seed, sessions, n, n_states, m) -> SessionState:
    """A batch at t = 0 with each session's RNG stream; ``init_*kernel`` fills q, strategy, state.

    ``q`` starts at zero so that padding entries (a model's smaller action sets) are defined.
    """
    S = sessions.size
    rng = np.stack([session_rng_state(seed, k) for k in sessions]) if S else np.empty((0, 4), np.uint64)
    return SessionState(
        q=np.zeros((S, n, n_states, m), dtype=cfg.np_dtype),
        strategy=np.empty((S, n, n_states), dtype=np.int32), state=np.empty(S, dtype=np.int64),
        t=np.zeros(S, np.int64), rng=rng, stable=np.zeros(S, np.int64),
        converged=np.zeros(S, bool), pend_s=np.full((S, n), -1, np.int64),
        pend_a=np.full((S, n), -1, np.int64), pend_r=np.zeros((S, n)), sessions=sessions,
        seed=int(seed))


# ---------------------------------------------------------------------- advance
def game_controls(game, forced_action, epsilon_override, learn, action_cap):
    n, m = game.n_agents, game.n_actions

    def vec(value, default, dtype, name, ok, allowed):
        if value is None:
            return np.full(n, default, dtype=dtype)
        arr = np.asarray(value, dtype=dtype)
        arr = np.full(n, arr.item(), dtype=dtype) if arr.ndim == 0 else arr
        if arr.shape != (n,) or not all(ok(v) for v in arr):
            raise SpecError("bad per-agent control", path=name, value=value, allowed=allowed)
        return np.ascontiguousarray(arr)

    forced = vec(forced_action, -1, np.int64, "forced_action", lambda v: -1 <= v < m,
                 f"{n} action indices in -1..{m - 1} (-1: the learner chooses)")
    eps = vec(epsilon_override, -1.0, np.float64, "epsilon_override", lambda v: v < 0 or v <= 1,
              f"{n} numbers in [0, 1], or < 0 for the schedule")
    lrn = vec(learn, True, np.bool_, "learn", lambda v: True, f"{n} booleans")
    cap = vec(action_cap, m - 1, np.int64, "action_cap", lambda v: 0 <= v < m,
              f"{n} action indices in 0..{m - 1}")
    return forced, eps, lrn, cap


def _check_state(game, cfg, states: SessionState):
    S = states.n_sessions
    m = game.max_actions if is_model(game) else game.n_actions
    want = (S, game.n_agents, game.n_states, m)
    if states.q.shape != want or states.q.dtype != cfg.np_dtype:
        raise SpecError("session state does not match the game/config", path="states.q",
                        value=f"{states.q.dtype} {states.q.shape}", allowed=f"{cfg.dtype} {want}")
    for name, shape, dtype in (("visits", want, np.int64), ("pi_value", want[:3], np.float64),
                               ("pi_policy", want[:3], np.int32)):
        arr = getattr(states, name)
        if arr is not None and (arr.shape != shape or arr.dtype != dtype
                                or not arr.flags.c_contiguous):
            raise SpecError("session state does not match the game/config", path=f"states.{name}",
                            value=f"{arr.dtype} {arr.shape}", allowed=f"{np.dtype(dtype)} {shape}")


def advance(game, cfg: QLearningConfig, states: SessionState, periods=None, *,
            forced_action=None, epsilon_override=None, learn=None, action_cap=None,
            until_converged=True, record=0, threads=None, slice_periods=1 << 21):
    """Run the sessions in ``states`` forward (in place); the single entry to the kernel.

    Parameters
    ----------
    periods : int or None
        Periods to run each session. None: until convergence or ``cfg.max_periods``.
    forced_action, epsilon_override, learn, action_cap : length-n sequences, optional
        Per-agent controls: forced action index (-1: learner chooses); exploration rate
        used instead of the schedule (< 0: schedule at the session clock); whether the
        agent updates its Q-table; highest action index it may choose.
    until_converged : bool
        If True a session stops once converged (``stable >= stable_periods``; a session
        already converged does not move) or at ``cfg.max_periods``. If False it runs
        exactly ``periods`` periods.
    record : int
        Return the prices of the first ``record`` periods, shape (S, record, n); NaN
        after a session stopped.
    threads : int, optional
        Number of threads (results do not depend on it). With ``cfg.device == "cuda"``
        the sessions run on the GPU (:mod:`marketsai.tabular.gpu`; same results), which
        covers no controls and no recording.
    slice_periods : int
        Sessions run in slices of this many periods; after each slice unfinished
        sessions are redistributed over the threads (load balance). Results do not
        depend on it.
    """
    on_device = cfg.device == "cuda"
    if on_device:  # refused before anything runs (as in init_sessions), and per call
        from marketsai.tabular import gpu
        gpu.check_run(game, cfg)
        gpu.check_call(states, (forced_action, epsilon_override, learn, action_cap), record)
    game = solver_problem(game, cfg)
    model = is_model(game)
    ga = model_arrays(game) if model else game_arrays(game)
    if model:
        check_protocol(game, cfg.protocol)
        check_solver_options(game, cfg)
    _check_state(game, cfg, states)
    if model:
        solver_state(ga.nf, cfg, states)
        visits, exo_p, pi_value, pi_policy = _solver_arrays(cfg, ga, states)
    if periods is None and not until_converged:
        raise SpecError("with until_converged=False a number of periods is needed",
                        path="periods", value=None, allowed="an integer >= 0")
    if periods is not None and (int(periods) != periods or periods < 0):
        raise SpecError("must be a non-negative integer", path="periods", value=periods)
    if int(record) != record or record < 0:
        raise SpecError("must be a non-negative integer", path="record", value=record)
    controls = model_controls if model else game_controls
    forced, eps_ov, lrn, cap = controls(game, forced_action, epsilon_override, learn, action_cap)
    alpha = cfg.per_agent("alpha", ga.n)
    beta = cfg.per_agent("beta", ga.n)
    S = states.n_sessions
    record = int(record)
    rec = np.full((S, record, ga.n), np.nan)
    remaining = np.full(S, -1 if periods is None else int(periods), dtype=np.int64)
    mode = EXPLORATION[cfg.exploration]
    alternating = PROTOCOL[cfg.protocol] == 1
    slice_periods = max(int(slice_periods), 20 * ga.n * ga.n_states * ga.m)
    if until_converged:
        active = np.flatnonzero((states.stable < cfg.stable_periods) & (states.t < cfg.max_periods))
    else:
        active = np.arange(S)
    if periods is not None:
        active = active[remaining[active] > 0]
    if on_device:
        from marketsai.tabular.gpu import advance_on_device
        advance_on_device(ga, cfg, states, active, remaining, until_converged, run_in_slices,
                          slice_periods)
        states.converged[:] = states.stable >= cfg.stable_periods
        return None

    def cpu_slice(active, budget, done_total, done_out):
        if model:
            model_kernel.advance_model_kernel(
                active.astype(np.int64), ga.rewards, ga.outcomes, ga.next_x, ga.exo_cdf,
                ga.n_x, ga.n_rx, ga.n_ox, ga.n_actions, ga.nf, ga.delta, ga.dpow, alpha,
                beta, mode, float(cfg.epsilon), float(cfg.temperature), alternating,
                states.q, states.strategy, states.state, states.t, states.rng,
                states.stable, states.pend_s, states.pend_a, states.pend_r, forced, eps_ov,
                lrn, cap, budget, bool(until_converged), cfg.stable_periods,
                cfg.max_periods, rec, done_total, done_out,
                visits, cfg.step_a, cfg.step_b, cfg.step_omega, exo_p, pi_value, pi_policy,
                cfg.improve_every)
        else:
            kernel.advance_kernel(
                active.astype(np.int64), ga.payoffs, ga.prices, ga.exo_cdf, ga.Mk, ga.M,
                ga.delta, ga.dpow, alpha, beta, mode, float(cfg.epsilon),
                float(cfg.temperature), alternating, states.q, states.strategy, states.state,
                states.t, states.rng, states.stable, states.pend_s, states.pend_a,
                states.pend_r, forced, eps_ov, lrn, cap, budget, bool(until_converged),
                cfg.stable_periods, cfg.max_periods, rec, done_total, done_out,
                **({"hide_exo": True} if ga.hide_exo else {}))

    with numba_threads(threads):
        run_in_slices(cpu_slice, active, remaining, slice_periods)
    states.converged[:] = states.stable >= cfg.stable_periods
    return rec if record else None


def run_in_slices(run_slice, active, remaining, slice_periods) -> None:
    """The front end's slice loop: run positions ``active`` for at most ``slice_periods``
    periods per call of ``run_slice(active, budget, done_total, done_out)``, then again
    for those neither finished (converged or capped) nor out of ``remaining`` periods
    (-1: no limit; updated in place). Unfinished sessions are re-dispatched each slice
    (load balance); a session's state is complete after a slice, so results do not
    depend on the slicing. Shared by the CPU kernels and the GPU kernel."""
    S = remaining.shape[0]
    done_total = np.zeros(S, np.int64)
    done_out = np.zeros(S, np.int64)
    while active.size:
        budget = np.where(remaining < 0, slice_periods, np.minimum(remaining, slice_periods))
        done_out[:] = 0
        run_slice(active, budget, done_total.copy(), done_out)
        done_total[active] += done_out[active]
        finished = done_out[active] < budget[active]  # stopped by convergence or the cap
        has_left = remaining[active] >= 0
        remaining[active[has_left]] -= done_out[active[has_left]]
        active = active[~finished & (remaining[active] != 0)]
