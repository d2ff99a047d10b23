"""The finite repeated game an economy exports for tabular learners.

Why a separate object: tabular kernels take arrays and scalars only. The economy
tabulates its markets once into this frozen bundle; learners never import markets.

Conventions (the contract the kernels rely on)
----------------------------------------------
* ``n`` agents, each with ``m`` actions (the same ``m`` for all agents).
* A *joint action* ``(a_0, ..., a_{n-1})`` is encoded as the integer
  ``j = sum_i a_i * m**(n-1-i)`` (agent 0 most significant), ``0 <= j < M = m**n``.
* Exogenous Markov states ``e = 0..n_exo-1`` (demand shocks, productivity, ...);
  ``n_exo == 1`` when the economy has none.
* The memory state holds the last ``k`` joint actions: ``s_mem = sum_l j_{t-1-l} * M**l``;
  after joint action ``j`` it becomes ``(s_mem * M + j) % M**k`` (always 0 when ``k == 0``).
  The full state is ``s = e * M**k + s_mem``; ``n_states = n_exo * M**k``.
* ``exo_observed=False`` (agents declare ``observation: {exo: []}``): the learners do
  not see ``e``. The state the kernels carry is still ``e * M**k + s_mem`` (payoffs
  use the realised ``e``), but a Q-table row is the memory state alone:
  ``n_states = M**k`` (the learner's states; ``n_env_states`` counts both).
  :meth:`FiniteGame.marginal` gives the game whose payoffs are the stationary means,
  on which greedy play (deterministic in the memory state) is analysed.
* ``payoffs[e, j, i]`` is agent ``i``'s per-period payoff; ``prices[e, j, i]`` the price
  of agent ``i``'s good (for Bertrand its own price; for Cournot the market price).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class FiniteGame:
    """Payoff tensor, action grids and state definition of a finite repeated game.

    Made by :meth:`marketsai.Economy.finite_game` or :meth:`FiniteGame.from_matrix`;
    the module docstring gives the index conventions.

    Parameters
    ----------
    agents : tuple of str
        Agent names, ``n`` of them.
    actions : ndarray, shape (n, m)
        Each agent's action values (e.g. its price grid).
    payoffs, prices : ndarray, shape (n_exo, m**n, n)
        Per-period payoff and price of agent ``i`` at exogenous state ``e`` and joint action ``j``.
    memory : int
        Periods of joint actions remembered in the state (``k >= 0``).
    discount : float
        Discount factor per period.
    nash_payoff, coop_payoff : ndarray, shape (n,)
        Static Nash payoff (the profit-gain baseline) and payoff at the joint-profit maximum.
    nash_action, coop_action : ndarray, shape (n,)
        Nash and joint-profit-maximising action values (continuous, not on the grid).
    exo_transition : ndarray, shape (n_exo, n_exo)
        Transition matrix of the exogenous states (rows sum to 1).
    exo_initial : ndarray, shape (n_exo,)
        Initial distribution of the exogenous state.
    exo_values : ndarray, shape (n_exo,)
        The exogenous value (demand shock) of each state.
    exo_observed : bool
        Whether the learners' state includes the exogenous state (default) or only the
        memory of joint actions (an unobserved shock: ``observation: {exo: []}``).

    Examples
    --------
    A 2x2 prisoner's dilemma with one period of memory:

    >>> pd = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)
    >>> g = FiniteGame.from_matrix(pd, memory=1, discount=0.9)
    >>> g.n_agents, g.n_actions, g.n_states
    (2, 2, 4)
    >>> float(g.payoffs[0, g.joint_index([1, 0]), 0])
    5.0
    """

    agents: tuple[str, ...]
    actions: np.ndarray  # (n, m) action values, e.g. the price grid of each firm
    payoffs: np.ndarray  # (n_exo, m**n, n)
    prices: np.ndarray  # (n_exo, m**n, n)
    memory: int
    discount: float
    nash_payoff: np.ndarray  # (n,) static one-shot Nash payoff (profit-gain baseline)
    coop_payoff: np.ndarray  # (n,) payoff at the joint-profit maximum
    nash_action: np.ndarray  # (n,) Nash action values (continuous, not on the grid)
    coop_action: np.ndarray  # (n,) joint-profit-maximising action values
    exo_transition: np.ndarray = field(default_factory=lambda: np.ones((1, 1)))
    exo_initial: np.ndarray = field(default_factory=lambda: np.ones(1))
    exo_values: np.ndarray = field(default_factory=lambda: np.zeros(1))
    exo_observed: bool = True

    def __post_init__(self):
        n, m = self.actions.shape
        n_exo = self.exo_transition.shape[0]
        expected = (n_exo, m**n, n)
        for name in ("payoffs", "prices"):
            arr = getattr(self, name)
            if arr.shape != expected:
                raise ValueError(f"FiniteGame.{name} has shape {arr.shape}, expected {expected}")
        if self.memory < 0:
            raise ValueError(f"FiniteGame.memory must be >= 0, got {self.memory}")
        if not np.allclose(self.exo_transition.sum(axis=1), 1.0):
            raise ValueError("FiniteGame.exo_transition rows must sum to 1")
        object.__setattr__(self, "exo_observed", bool(self.exo_observed))
        for name in ("actions", "payoffs", "prices", "nash_payoff", "coop_payoff",
                     "nash_action", "coop_action", "exo_transition", "exo_initial", "exo_values"):
            arr = np.ascontiguousarray(getattr(self, name), dtype=np.float64)
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    # ----------------------------------------------------------------- sizes
    @property
    def n_agents(self) -> int:
        return self.actions.shape[0]

    @property
    def n_actions(self) -> int:
        return self.actions.shape[1]

    @property
    def n_joint(self) -> int:
        return self.n_actions**self.n_agents

    @property
    def n_exo(self) -> int:
        return self.exo_transition.shape[0]

    @property
    def n_memory_states(self) -> int:
        return self.n_joint**self.memory

    @property
    def n_states(self) -> int:
        """States the learners condition on (rows of a Q-table)."""
        return self.n_env_states if self.exo_observed else self.n_memory_states

    @property
    def n_env_states(self) -> int:
        """States of the game itself: exogenous state x memory state."""
        return self.n_exo * self.n_memory_states

    def exo_stationary(self) -> np.ndarray:
        """Stationary distribution of the exogenous chain (its left eigenvector for eigenvalue 1)."""
        P = self.exo_transition
        if P.shape[0] == 1:
            return np.ones(1)
        vals, vecs = np.linalg.eig(P.T)
        v = np.real(vecs[:, np.argmin(np.abs(vals - 1.0))])
        return v / v.sum()

    def marginal(self) -> FiniteGame:
        """The game with one exogenous state whose payoffs are the stationary means.

        What greedy play of learners that do not observe ``e`` earns on average; exact for
        i.i.d. shocks (rows of ``exo_transition`` equal), where it is also the value of
        any continuation. Benchmarks (already stationary means) are kept.
        """
        w = self.exo_stationary()
        return FiniteGame(agents=self.agents, actions=self.actions,
                          payoffs=np.tensordot(w, self.payoffs, axes=1)[None],
                          prices=np.tensordot(w, self.prices, axes=1)[None], memory=self.memory,
                          discount=self.discount, nash_payoff=self.nash_payoff,
                          coop_payoff=self.coop_payoff, nash_action=self.nash_action,
                          coop_action=self.coop_action)

    def q_table_bytes(self, itemsize: int = 8) -> int:
        """Bytes of all agents' Q-tables for one session."""
        return self.n_agents * self.n_states * self.n_actions * itemsize

    # -------------------------------------------------------------- encoding
    def joint_index(self, action_indices) -> int:
        """Encode per-agent action indices as the joint-action integer."""
        j = 0
        for a in action_indices:
            j = j * self.n_actions + int(a)
        return j

    def joint_actions(self, j: int) -> tuple[int, ...]:
        """Decode a joint-action integer into per-agent action indices."""
        out = []
        for _ in range(self.n_agents):
            out.append(j % self.n_actions)
            j //= self.n_actions
        return tuple(reversed(out))

    def payoff_matrix(self, exo: int = 0) -> np.ndarray:
        """Payoffs as an ``(m,)*n + (n,)`` tensor for exogenous state ``exo``."""
        return self.payoffs[exo].reshape((self.n_actions,) * self.n_agents + (self.n_agents,))

    # ---------------------------------------------------------- constructors
    @classmethod
    def from_matrix(cls, payoff_tensor, memory: int = 1, discount: float = 0.95,
                    actions=None, agents=None) -> FiniteGame:
        """Build a game from an ``(m,)*n + (n,)`` payoff tensor (tests, textbook games).

        The Nash and cooperative payoffs are taken from the tensor: the pure Nash
        equilibrium with the lowest total payoff and the profile with the highest total.
        """
        t = np.asarray(payoff_tensor, dtype=float)
        n = t.shape[-1]
        m = t.shape[0]
        if t.shape != (m,) * n + (n,):
            raise ValueError(f"payoff tensor must have shape (m,)*n + (n,), got {t.shape}")
        flat = t.reshape(m**n, n)
        acts = np.tile(np.arange(m, dtype=float), (n, 1)) if actions is None else np.asarray(actions, float)
        nash = _pure_nash_profiles(t)
        if not nash:
            raise ValueError("payoff tensor has no pure Nash equilibrium")
        nash_j = min(nash, key=lambda j: flat[j].sum())
        coop_j = int(np.argmax(flat.sum(axis=1)))
        decode = lambda j: [(j // m ** (n - 1 - i)) % m for i in range(n)]  # noqa: E731
        prices = np.broadcast_to(
            np.array([[acts[i, decode(j)[i]] for i in range(n)] for j in range(m**n)]), (m**n, n))
        return cls(
            agents=tuple(agents or (f"player_{i}" for i in range(n))),
            actions=acts,
            payoffs=flat[None].copy(),
            prices=prices[None].copy(),
            memory=memory,
            discount=discount,
            nash_payoff=flat[nash_j].copy(),
            coop_payoff=flat[coop_j].copy(),
            nash_action=np.array([acts[i, a] for i, a in enumerate(decode(nash_j))]),
            coop_action=np.array([acts[i, a] for i, a in enumerate(decode(coop_j))]),
        )


def _pure_nash_profiles(t: np.ndarray) -> list[int]:
    n = t.shape[-1]
    m = t.shape[0]
    out = []
    for j in range(m**n):
        idx = [(j // m ** (n - 1 - i)) % m for i in range(n)]
        ok = True
        for i in range(n):
            sl = list(idx)
            sl[i] = slice(None)
            if t[tuple(sl) + (i,)].max() > t[tuple(idx) + (i,)] + 1e-12:
                ok = False
                break
        if ok:
            out.append(j)
    return out
