"""The finite Markov model an economy exports for tabular learners and DP solvers.

Why: tabular kernels and dynamic-programming solvers take arrays only. Any economy
whose states and actions are finite (a repeated pricing game with price memory, a
planner on a capital grid, a monopolist with no memory) is tabulated once into this
frozen bundle; learners and solvers never import markets or agents.
:class:`~marketsai.finite_game.FiniteGame` (payoff tensor + memory states) is one way
to build it (:meth:`FiniteModel.from_game`).

Conventions (the contract kernels and solvers rely on)
------------------------------------------------------
* ``n`` agents; agent ``i`` has ``n_actions[i]`` actions ``0..n_actions[i]-1``.
  A joint action is the mixed-radix integer ``j = sum_i a_i * prod_{l>i} n_actions[l]``
  (agent 0 most significant), ``0 <= j < M = prod(n_actions)``.
* Exogenous Markov states ``e = 0..n_exo-1`` with ``exo_transition[e, e']``;
  endogenous states ``x = 0..n_x-1`` (price memory, a capital grid index, ...).
  The full state is ``s = e * n_x + x``; ``n_states = n_exo * n_x``.
* Timing of one period in state ``(e, x)`` with joint action ``j``: every agent ``i`` is
  paid ``rewards[e, x, j, i]``; the endogenous state moves to ``x' = next_x[e, x, j]``
  (deterministic) and the exogenous one to ``e' ~ exo_transition[e]``, independently.
* ``rewards`` and ``outcomes`` may have a length-1 ``x`` axis, meaning they do not depend
  on the endogenous state (the Calvano game: payoffs depend on prices only). Read them
  as ``rewards[e, x if rewards.shape[1] > 1 else 0, j, i]``.
* ``n_feasible[e, x, i]`` (optional): agent ``i`` may only choose actions
  ``0..n_feasible[e, x, i]-1`` in that state (at least one); order actions so that the
  feasible ones come first (for a planner choosing ``k'`` on an ascending grid, the
  ones that leave positive consumption). ``None``: every action is always feasible.
* Initial state: ``e ~ exo_initial``, ``x ~ x_initial``, independently.
* ``outcomes[e, x, j, i]`` is one number per agent and period that learners record
  (``outcome_name``: the price of agent i's good; a planner's consumption; ...).
* ``x_values`` / ``exo_values`` name the values behind the indices (``{"k": grid}``,
  ``{"z": values}``) for analysis; ``action_values[i]`` is agent i's action grid.
* ``benchmarks`` (optional, strategic games only): ``nash_payoff, coop_payoff,
  nash_action, coop_action``, each ``(n,)``, the static benchmarks of profit gains.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MAX_TABLE_ENTRIES = 50_000_000  # of a next-state table built here (400 MB of int64)


def _frozen(x, dtype):
    arr = np.ascontiguousarray(x, dtype=dtype)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class FiniteModel:
    """A finite (multi-agent) Markov model; see the module docstring for the contract.

    Examples
    --------
    A two-state, two-action single-agent MDP (stay or switch; being in state 1 pays 1):

    >>> r = np.array([[[[0.0], [0.0]], [[1.0], [1.0]]]])   # (n_exo=1, n_x=2, M=2, n=1)
    >>> nx = np.array([[[0, 1], [1, 0]]])                   # action 0 stays, 1 switches
    >>> mdp = FiniteModel(agents=("a",), n_actions=[2], rewards=r, next_x=nx, discount=0.9)
    >>> mdp.n_states, mdp.n_joint
    (2, 2)
    """

    agents: tuple[str, ...]
    n_actions: np.ndarray  # (n,) int64
    rewards: np.ndarray  # (n_exo, n_x or 1, M, n) float64
    next_x: np.ndarray  # (n_exo, n_x, M) int64
    discount: float
    exo_transition: np.ndarray = field(default_factory=lambda: np.ones((1, 1)))
    exo_initial: np.ndarray | None = None  # (n_exo,); default: uniform
    x_initial: np.ndarray | None = None  # (n_x,); default: uniform
    n_feasible: np.ndarray | None = None  # (n_exo, n_x, n) int64 or None
    outcomes: np.ndarray | None = None  # (n_exo, n_x or 1, M, n); default: rewards
    outcome_name: str = "reward"
    action_values: tuple[np.ndarray, ...] | None = None  # per agent (n_actions[i],)
    x_values: dict = field(default_factory=dict)  # name -> (n_x,)
    exo_values: dict = field(default_factory=dict)  # name -> (n_exo,)
    benchmarks: dict | None = None  # nash_payoff, coop_payoff, nash_action, coop_action

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        set_("agents", tuple(self.agents))
        set_("n_actions", _frozen(self.n_actions, np.int64))
        n = len(self.agents)
        if self.n_actions.shape != (n,) or np.any(self.n_actions < 1):
            raise ValueError(f"FiniteModel.n_actions must be {n} positive integers, got {self.n_actions}")
        M = int(np.prod(self.n_actions, dtype=np.int64))
        set_("exo_transition", _frozen(self.exo_transition, np.float64))
        n_exo = self.exo_transition.shape[0]
        if self.exo_transition.shape != (n_exo, n_exo) or not np.allclose(self.exo_transition.sum(axis=1), 1.0):
            raise ValueError("FiniteModel.exo_transition must be square with rows summing to 1")
        set_("next_x", _frozen(self.next_x, np.int64))
        if self.next_x.ndim != 3 or self.next_x.shape[0] != n_exo or self.next_x.shape[2] != M:
            raise ValueError(f"FiniteModel.next_x has shape {self.next_x.shape}, expected ({n_exo}, n_x, {M})")
        n_x = self.next_x.shape[1]
        if self.next_x.size and (self.next_x.min() < 0 or self.next_x.max() >= n_x):
            raise ValueError("FiniteModel.next_x holds states outside 0..n_x-1")
        for name in ("rewards", "outcomes"):
            arr = getattr(self, name)
            if arr is None:
                continue
            arr = _frozen(arr, np.float64)
            if arr.ndim != 4 or arr.shape[0] != n_exo or arr.shape[1] not in (1, n_x) or arr.shape[2:] != (M, n):
                raise ValueError(f"FiniteModel.{name} has shape {arr.shape}, expected ({n_exo}, {n_x} or 1, {M}, {n})")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"FiniteModel.{name} must be finite (mark infeasible actions with n_feasible)")
            set_(name, arr)
        if self.outcomes is None:
            set_("outcomes", self.rewards)
        if not 0.0 <= float(self.discount) < 1.0:
            raise ValueError(f"FiniteModel.discount must be in [0, 1), got {self.discount}")
        set_("discount", float(self.discount))
        for name, size in (("exo_initial", n_exo), ("x_initial", n_x)):
            p = getattr(self, name)
            p = np.full(size, 1.0 / size) if p is None else np.asarray(p, dtype=np.float64)
            if p.shape != (size,) or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
                raise ValueError(f"FiniteModel.{name} must be a probability vector of length {size}")
            set_(name, _frozen(p, np.float64))
        if self.n_feasible is not None:
            f = _frozen(self.n_feasible, np.int64)
            if f.shape != (n_exo, n_x, n) or np.any(f < 1) or np.any(f > self.n_actions):
                raise ValueError("FiniteModel.n_feasible must be (n_exo, n_x, n) with 1 <= value <= n_actions")
            set_("n_feasible", f)
        if self.action_values is None:
            set_("action_values", tuple(np.arange(k, dtype=np.float64) for k in self.n_actions))
        else:
            vals = tuple(_frozen(v, np.float64) for v in self.action_values)
            if tuple(len(v) for v in vals) != tuple(self.n_actions):
                raise ValueError("FiniteModel.action_values must have n_actions[i] values for agent i")
            set_("action_values", vals)
        set_("x_values", {k: _frozen(v, np.float64) for k, v in self.x_values.items()})
        set_("exo_values", {k: _frozen(v, np.float64) for k, v in self.exo_values.items()})
        if self.benchmarks is not None:
            set_("benchmarks", {k: _frozen(v, np.float64) for k, v in self.benchmarks.items()})

    # ----------------------------------------------------------------- sizes
    @property
    def n_agents(self) -> int:
        return len(self.agents)

    @property
    def n_joint(self) -> int:
        return int(self.next_x.shape[2])

    @property
    def n_exo(self) -> int:
        return int(self.exo_transition.shape[0])

    @property
    def n_x(self) -> int:
        return int(self.next_x.shape[1])

    @property
    def n_states(self) -> int:
        return self.n_exo * self.n_x

    @property
    def max_actions(self) -> int:
        return int(self.n_actions.max())

    def q_table_bytes(self, itemsize: int = 8) -> int:
        """Bytes of all agents' Q-tables for one session (rows padded to the largest action set)."""
        return self.n_agents * self.n_states * self.max_actions * itemsize

    # -------------------------------------------------------------- encoding
    def joint_index(self, action_indices) -> int:
        """Encode per-agent action indices as the joint-action integer."""
        j = 0
        for a, k in zip(action_indices, self.n_actions, strict=True):
            j = j * int(k) + int(a)
        return j

    def joint_actions(self, j: int) -> tuple[int, ...]:
        """Decode a joint-action integer into per-agent action indices."""
        out = []
        for k in self.n_actions[::-1]:
            out.append(int(j % k))
            j //= int(k)
        return tuple(reversed(out))

    def reward(self, e: int, x: int, j: int) -> np.ndarray:
        """Per-agent rewards in state (e, x) under joint action j."""
        return self.rewards[e, x if self.rewards.shape[1] > 1 else 0, j]

    # ---------------------------------------------------------- constructors
    @classmethod
    def from_game(cls, game) -> FiniteModel:
        """The memory-state model of a :class:`~marketsai.finite_game.FiniteGame`.

        ``x`` is the memory state ``sum_l j_{t-1-l} M**l``; after joint action ``j`` it
        becomes ``(x M + j) mod M**k``; initial memory uniform (Calvano et al. 2020).

        >>> from marketsai.tabular.games import calvano_game
        >>> model = FiniteModel.from_game(calvano_game())
        >>> model.n_states, model.n_joint, int(model.next_x[0, 3, 7])
        (225, 225, 7)
        """
        M, Mk, n = game.n_joint, game.n_memory_states, game.n_agents
        if not game.exo_observed:
            from marketsai.errors import SpecError
            raise SpecError("finite models have no unobserved exogenous states (the game path "
                            "runs them: pass the FiniteGame)", path="agents[].observation.exo",
                            value=[], allowed="observed process fields")
        entries = float(game.n_exo) * Mk * M
        if entries > MAX_TABLE_ENTRIES:
            from marketsai.errors import SpecError
            from marketsai.limits import format_bytes
            raise SpecError(f"the memory model's next-state table would take {format_bytes(entries * 8)} "
                            "(the tabular engine's game path needs none: pass the FiniteGame instead)",
                            path="agents[].observation.memory", value=game.memory,
                            allowed=f"n_exo * M**(k+1) <= {MAX_TABLE_ENTRIES:.0e}")
        x = np.arange(Mk, dtype=np.int64)[:, None]
        j = np.arange(M, dtype=np.int64)[None, :]
        nx = (x * M + j) % Mk if Mk > 1 else np.zeros((1, M), dtype=np.int64)
        return cls(agents=game.agents, n_actions=np.full(n, game.n_actions), rewards=game.payoffs[:, None],
                   next_x=np.broadcast_to(nx, (game.n_exo, Mk, M)), discount=game.discount,
                   exo_transition=game.exo_transition, exo_initial=game.exo_initial,
                   outcomes=game.prices[:, None], outcome_name="price",
                   action_values=tuple(game.actions), exo_values={"shock": game.exo_values},
                   benchmarks={"nash_payoff": game.nash_payoff, "coop_payoff": game.coop_payoff,
                               "nash_action": game.nash_action, "coop_action": game.coop_action})
