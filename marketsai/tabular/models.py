"""A :class:`~marketsai.finite_model.FiniteModel` as the arrays the model kernel reads.

Why a module of its own: the session front end (:mod:`marketsai.tabular.sessions`)
serves games and models alike; what is specific to models -- flattening the arrays,
the feasibility table, initial Q-tables (eq. 5 generalised), per-agent controls, the
check that the alternating protocol has a joint action in force -- lives here.

Examples
--------
>>> from marketsai.finite_model import FiniteModel
>>> r = np.array([[[[0.0], [0.0]], [[1.0], [1.0]]]])   # state 1 pays 1
>>> nx = np.array([[[0, 1], [1, 0]]])                   # action 0 stays, 1 switches
>>> mdp = FiniteModel(agents=("a",), n_actions=[2], rewards=r, next_x=nx, discount=0.5)
>>> ma = model_arrays(mdp)
>>> ma.n_states, ma.m, ma.next_x.tolist()
(2, 2, [[0, 1], [1, 0]])
>>> calvano_q0_model(mdp)[0][0]       # r(s, a) / (1 - delta), one row per state
array([[0., 0.],
       [2., 2.]])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marketsai.errors import SpecError


@dataclass(frozen=True)
class ModelArrays:
    """Flattened model arrays (see :mod:`marketsai.tabular.model_kernel` for the layout)."""

    rewards: np.ndarray  # (n_exo * n_rx, M, n)
    outcomes: np.ndarray  # (n_exo * n_ox, M, n)
    next_x: np.ndarray  # (n_exo * n_x, M)
    exo_cdf: np.ndarray
    exo_p: np.ndarray  # (n_exo, n_exo) the chain itself (expected targets)
    exo_init_cdf: np.ndarray
    x_uniform: bool
    x_init_cdf: np.ndarray
    nf: np.ndarray  # (n_states, n), or (1, n) = n_actions when all actions are feasible
    n_actions: np.ndarray
    n_x: int
    n_rx: int
    n_ox: int
    n: int
    m: int
    n_states: int
    M: int
    delta: float
    dpow: np.ndarray


def _cdf(p) -> np.ndarray:
    c = np.cumsum(np.asarray(p, dtype=np.float64), axis=-1)
    c[..., -1] = 1.0
    return np.ascontiguousarray(c)


def model_arrays(model) -> ModelArrays:
    """The arrays :mod:`marketsai.tabular.model_kernel` reads, after checking sizes."""
    n, M, n_x, n_exo = model.n_agents, model.n_joint, model.n_x, model.n_exo
    if model.n_states >= 2**62 // max(M, 1):
        raise SpecError("state space too large to index", path="n_states", value=model.n_states,
                        allowed="fewer states or actions")
    n_rx, n_ox = model.rewards.shape[1], model.outcomes.shape[1]
    if model.n_feasible is None:
        nf = np.ascontiguousarray(model.n_actions[None, :])
    else:
        nf = np.ascontiguousarray(model.n_feasible.reshape(model.n_states, n))
    x_init = model.x_initial
    return ModelArrays(
        rewards=np.ascontiguousarray(model.rewards.reshape(n_exo * n_rx, M, n)),
        outcomes=np.ascontiguousarray(model.outcomes.reshape(n_exo * n_ox, M, n)),
        next_x=np.ascontiguousarray(model.next_x.reshape(n_exo * n_x, M)),
        exo_cdf=_cdf(model.exo_transition),
        exo_p=np.ascontiguousarray(model.exo_transition, dtype=np.float64),
        exo_init_cdf=_cdf(model.exo_initial), x_uniform=bool(np.all(x_init == x_init[0])), x_init_cdf=_cdf(x_init), nf=nf,
        n_actions=np.ascontiguousarray(model.n_actions), n_x=n_x, n_rx=n_rx, n_ox=n_ox, n=n,
        m=model.max_actions, n_states=model.n_states, M=M, delta=model.discount,
        dpow=np.array([model.discount ** k for k in range(n + 1)]))


def is_memory_model(model) -> bool:
    """True if ``x`` is the memory of the last k >= 1 joint actions: ``x' = (x M + j) mod M^k``.

    Only then does a state name "the joint action in force" (``x mod M``) that the
    alternating protocol needs.
    """
    M, n_x = model.n_joint, model.n_x
    k, size = 0, 1
    while size < n_x:
        size *= M
        k += 1
    if k < 1 or size != n_x:
        return False
    x = np.arange(n_x, dtype=np.int64)[:, None]
    j = np.arange(M, dtype=np.int64)[None, :]
    return bool(np.all(model.next_x == ((x * M + j) % n_x)[None]))


def check_protocol(model, protocol: str) -> None:
    """Refuse the alternating protocol on models without a joint action in force."""
    if protocol == "alternating" and not is_memory_model(model):
        raise SpecError("the alternating protocol needs a memory model (x = the last k >= 1 "
                        "joint actions, as FiniteModel.from_game builds)", path="protocol",
                        value=protocol, allowed="simultaneous for this model")


def calvano_q0_model(model) -> tuple[np.ndarray, int]:
    """Calvano et al. (2020) eq. (5) generalised: ``(q0 (n, rows, m), divisor)``.

    ``Q0_i(s, a_i) = mean over the other agents' (uniform, feasible) actions of
    r_i(s, a_i, a_-i) / (1 - delta)``; one agent: ``r(s, a) / (1 - delta)``. Row
    ``s // divisor`` initialises state ``s``. Without ``n_feasible`` and with rewards
    that ignore ``x`` there is one row per exogenous state, computed exactly as
    :func:`marketsai.tabular.sessions.calvano_q0` computes it for a game.
    """
    n, nact, m = model.n_agents, model.n_actions, model.max_actions
    n_exo, n_x, R = model.n_exo, model.n_x, model.rewards.shape[1]
    scale = 1.0 - model.discount
    if model.n_feasible is None or n == 1:
        out = np.zeros((n, n_exo * R, m))
        for e in range(n_exo):
            for xr in range(R):
                P = model.rewards[e, xr].reshape(tuple(int(k) for k in nact) + (n,))
                for i in range(n):
                    own_first = np.moveaxis(P[..., i], i, 0).reshape(int(nact[i]), -1)
                    out[i, e * R + xr, :nact[i]] = own_first.mean(axis=1) / scale
        return out, (n_x if R == 1 else 1)
    out = np.zeros((n, model.n_states, m))
    for e in range(n_exo):
        for x in range(n_x):
            P = model.rewards[e, x if R > 1 else 0].reshape(tuple(int(k) for k in nact) + (n,))
            f = model.n_feasible[e, x]
            for i in range(n):
                sub = P[tuple(slice(None) if ll == i else slice(0, int(f[ll])) for ll in range(n))]
                own_first = np.moveaxis(sub[..., i], i, 0).reshape(int(nact[i]), -1)
                out[i, e * n_x + x, :nact[i]] = own_first.mean(axis=1) / scale
    return out, 1


def check_solver_options(model, cfg) -> None:
    """Refuse solver options where they do not apply (see docs/q_learning_solver.md).

    Expected targets and enhanced policy iteration need the next state of the agent
    who updates to be one period ahead, ``(e', next_x[e, x, j])`` with ``e'`` drawn from
    the known chain; under alternating moves an agent's target is the state ``n``
    periods later, after its rivals' moves, which no known chain describes.
    """
    if cfg.protocol != "alternating":
        return
    for name, plain in (("target", "sampled"), ("update", "q_learning")):
        if getattr(cfg, name) != plain:
            raise SpecError(f"{name}={getattr(cfg, name)!r} needs simultaneous moves (under "
                            "alternating moves the next state an agent learns from is n periods "
                            "ahead, after its rivals' moves, not the known one-period chain)",
                            path=name, value=getattr(cfg, name),
                            allowed=f"{plain!r} with protocol 'alternating'")


def model_q0_table(model, cfg) -> tuple[np.ndarray, int]:
    """(q0 rows, divisor) for ``cfg.q0`` on a model: calvano, zeros, or an array."""
    n, m, S = model.n_agents, model.max_actions, model.n_states
    if isinstance(cfg.q0, str):
        if cfg.q0 == "calvano":
            return calvano_q0_model(model)
        return np.zeros((n, 1, m)), S
    arr = np.asarray(cfg.q0, dtype=np.float64)
    if arr.shape == (n, m):
        return np.ascontiguousarray(arr[:, None, :]), S
    if arr.shape == (n, S, m):
        return np.ascontiguousarray(arr), 1
    raise SpecError("initial Q-table has the wrong shape", path="q0",
                    value=f"array of shape {arr.shape}",
                    allowed=f"({n}, {S}, {m}) or ({n}, {m}) (rows padded to the largest action set)")


def model_controls(model, forced_action, epsilon_override, learn, action_cap):
    """Per-agent controls checked against each agent's own action count."""
    n, nact = model.n_agents, model.n_actions

    def vec(value, default, dtype, name, ok, allowed):
        if value is None:
            # a fresh writable array: a read-only view (np.broadcast_to) is another type to
            # numba, so single-agent models would compile every kernel a second time
            return np.array(np.broadcast_to(np.asarray(default, dtype=dtype), (n,)))
        arr = np.asarray(value, dtype=dtype)
        arr = np.full(n, arr.item(), dtype=dtype) if arr.ndim == 0 else arr
        if arr.shape != (n,) or not all(ok(v, i) for i, v in enumerate(arr)):
            raise SpecError("bad per-agent control", path=name, value=value, allowed=allowed)
        return np.ascontiguousarray(arr)

    sizes = ", ".join(str(int(k)) for k in nact)
    forced = vec(forced_action, -1, np.int64, "forced_action", lambda v, i: -1 <= v < nact[i],
                 f"{n} action indices, agent i's in -1..n_actions[i]-1 (n_actions: {sizes})")
    eps = vec(epsilon_override, -1.0, np.float64, "epsilon_override", lambda v, i: v < 0 or v <= 1,
              f"{n} numbers in [0, 1], or < 0 for the schedule")
    lrn = vec(learn, True, np.bool_, "learn", lambda v, i: True, f"{n} booleans")
    cap = vec(action_cap, nact - 1, np.int64, "action_cap", lambda v, i: 0 <= v < nact[i],
              f"{n} action indices, agent i's in 0..n_actions[i]-1 (n_actions: {sizes})")
    return forced, eps, lrn, cap
