"""Parameters of tabular Q-learning sessions (a frozen dataclass; the kernel gets arrays).

Every field is checked when the config is made; a bad value raises
:class:`~marketsai.errors.SpecError` naming the field and what is allowed.
Per-agent values (``alpha``, ``beta``) are checked against the game in
:meth:`QLearningConfig.per_agent`.

Examples
--------
>>> cfg = QLearningConfig(alpha=0.15, beta=4e-6)
>>> cfg.exploration, cfg.stable_periods, cfg.protocol
('exp_decay', 100000, 'simultaneous')
>>> QLearningConfig(alpha=1.5)
Traceback (most recent call last):
...
marketsai.errors.SpecError: alpha = 1.5: learning rate out of range (allowed: 0 < alpha <= 1, a number or one per agent)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from marketsai.errors import SpecError
from marketsai.limits import MAX_PERIODS

EXPLORATION = {"exp_decay": 0, "constant": 1, "boltzmann": 2}
PROTOCOL = {"simultaneous": 0, "alternating": 1}
DTYPES = ("float64", "float32")
Q0_NAMES = ("calvano", "zeros")
STEP_SIZE = {"constant": 0, "visits": 1}
TARGET = {"sampled": 0, "expected": 1}
UPDATE = {"q_learning": 0, "enhanced_pi": 1}


def _per_agent_values(value, name: str, allowed: str, ok) -> tuple:
    vals = np.atleast_1d(np.asarray(value, dtype=float)) if _is_number_or_seq(value) else None
    if vals is None or vals.ndim != 1 or vals.size == 0 or not np.all(np.isfinite(vals)) \
            or not all(ok(v) for v in vals):
        raise SpecError(f"{'learning rate' if name == 'alpha' else 'value'} out of range",
                        path=name, value=value, allowed=allowed)
    return tuple(float(v) for v in vals)


def _is_number_or_seq(value) -> bool:
    try:
        np.asarray(value, dtype=float)
        return True
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class QLearningConfig:
    """How the Q-learners learn (the game supplies payoffs and the discount factor).

    Parameters
    ----------
    alpha : float or sequence of float
        Learning rate, ``0 < alpha <= 1``; one value or one per agent.
    beta : float or sequence of float
        Exploration decay, ``eps_t = exp(-beta t)`` (``exploration="exp_decay"``), ``beta >= 0``.
    exploration : {"exp_decay", "constant", "boltzmann"}
        ``constant`` uses ``epsilon`` every period; ``boltzmann`` draws actions with
        probability proportional to ``exp(Q / temperature)``.
    epsilon : float
        Exploration rate for ``exploration="constant"``, in [0, 1].
    temperature : float
        Boltzmann temperature (> 0), used only by ``exploration="boltzmann"``.
    q0 : {"calvano", "zeros"} or ndarray
        Initial Q-table: Calvano et al. (2020) eq. (5), zeros, or an array of shape
        ``(n, n_states, m)`` or ``(n, m)`` (the same in every state).
    stable_periods : int
        Convergence: every agent's greedy action at each visited state unchanged for
        this many consecutive periods.
    max_periods : int
        Cap on a session's clock; a session stopped here is reported as not converged.
    protocol : {"simultaneous", "alternating"}
        ``alternating``: agent ``t mod n`` revises its action in period ``t`` (Klein 2021).
    dtype : {"float64", "float32"}
        Storage type of the Q-tables (float32 halves memory; arithmetic is float64).
    step_size : {"constant", "visits"}
        ``visits``: Robbins-Monro steps ``alpha = step_a / (step_b + n(s, a))^step_omega``
        per state-action visit count (Tsitsiklis 1994's conditions hold for omega in
        (0.5, 1]); ``alpha`` is then unused. Solver options: see docs/q_learning_solver.md.
    step_a, step_b, step_omega : float
        ``step_a > 0``, ``step_b >= 0``, ``0.5 < step_omega <= 1``, first step
        ``step_a / (step_b + 1)^step_omega <= 1``.
    target : {"sampled", "expected"}
        ``expected``: average ``max_a' Q(s', a')`` over the next exogenous state with the
        model's Markov chain instead of sampling it (the next endogenous state is the
        model's ``next_x``); simultaneous moves only.
    update : {"q_learning", "enhanced_pi"}
        ``enhanced_pi``: Bertsekas and Yu (2012) -- targets use ``max(J(s'), Q(s', nu(s')))``
        with ``J`` and the policy ``nu`` refreshed from ``Q`` every ``improve_every`` periods.
    improve_every : int
        Periods between policy improvements of ``enhanced_pi`` (>= 1).
    """

    alpha: Any = 0.15
    beta: Any = 4e-6
    exploration: str = "exp_decay"
    epsilon: float = 0.0
    temperature: float = 1.0
    q0: Any = "calvano"
    stable_periods: int = 100_000
    max_periods: int = 1_250_000_000
    protocol: str = "simultaneous"
    dtype: str = "float64"
    step_size: str = "constant"
    step_a: float = 1.0
    step_b: float = 0.0
    step_omega: float = 0.7
    target: str = "sampled"
    update: str = "q_learning"
    improve_every: int = 10_000

    def __post_init__(self):
        a = _per_agent_values(self.alpha, "alpha", "0 < alpha <= 1, a number or one per agent",
                              lambda v: 0.0 < v <= 1.0)
        b = _per_agent_values(self.beta, "beta", "beta >= 0, a number or one per agent",
                              lambda v: v >= 0.0)
        object.__setattr__(self, "alpha", a[0] if len(a) == 1 and np.ndim(self.alpha) == 0 else a)
        object.__setattr__(self, "beta", b[0] if len(b) == 1 and np.ndim(self.beta) == 0 else b)
        if self.exploration not in EXPLORATION:
            raise SpecError("unknown exploration rule", path="exploration",
                            value=self.exploration, allowed=", ".join(EXPLORATION))
        if not (isinstance(self.epsilon, (int, float)) and 0.0 <= self.epsilon <= 1.0):
            raise SpecError("exploration rate out of range", path="epsilon",
                            value=self.epsilon, allowed="0 <= epsilon <= 1")
        if not (isinstance(self.temperature, (int, float)) and self.temperature > 0
                and np.isfinite(self.temperature)):
            raise SpecError("temperature must be positive", path="temperature",
                            value=self.temperature, allowed="a number > 0")
        if isinstance(self.q0, str):
            if self.q0 not in Q0_NAMES:
                raise SpecError("unknown initial Q-table", path="q0", value=self.q0,
                                allowed="'calvano', 'zeros' or an array (n, n_states, m) or (n, m)")
        else:
            try:  # a ragged or non-numeric list is our error, not numpy's
                arr = np.array(self.q0, dtype=float)
            except (TypeError, ValueError):
                arr = np.zeros(0)
            if arr.ndim not in (2, 3) or not np.all(np.isfinite(arr)):
                raise SpecError("initial Q-table must be a finite array", path="q0",
                                value=f"array of shape {arr.shape}" if arr.size else self.q0,
                                allowed="shape (n, n_states, m) or (n, m)")
            arr.flags.writeable = False
            object.__setattr__(self, "q0", arr)
        for name, lo in (("stable_periods", 1), ("max_periods", 1)):
            v = getattr(self, name)
            if isinstance(v, float) and v.is_integer():
                v = int(v)
                object.__setattr__(self, name, v)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
                raise SpecError("must be a positive integer", path=name, value=v,
                                allowed=f"an integer >= {lo}")
            if v > MAX_PERIODS:  # int64 clocks in the kernel; limits.MAX_PERIODS
                raise SpecError("too many periods", path=name, value=v,
                                allowed=f"an integer in [{lo}, {MAX_PERIODS:.0e}]")
            object.__setattr__(self, name, int(v))
        if self.protocol not in PROTOCOL:
            raise SpecError("unknown move protocol", path="protocol", value=self.protocol,
                            allowed=", ".join(PROTOCOL))
        if self.dtype not in DTYPES:
            raise SpecError("unsupported Q-table type", path="dtype", value=self.dtype,
                            allowed=", ".join(DTYPES))
        self._check_solver_options()

    def _check_solver_options(self):
        """The solver options (step sizes, targets, update rule); see the class docstring."""
        for name, names in (("step_size", STEP_SIZE), ("target", TARGET), ("update", UPDATE)):
            if getattr(self, name) not in names:
                raise SpecError(f"unknown {name.replace('_', ' ')}", path=name,
                                value=getattr(self, name), allowed=", ".join(names))

        def number(name, ok, allowed):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) \
                    or not ok(v):
                raise SpecError("step-size parameter out of range", path=name, value=v,
                                allowed=allowed)
            object.__setattr__(self, name, float(v))

        number("step_a", lambda v: v > 0, "step_a > 0")
        number("step_b", lambda v: v >= 0, "step_b >= 0")
        number("step_omega", lambda v: 0.5 < v <= 1, "0.5 < step_omega <= 1 (Robbins-Monro)")
        first = self.step_a / (self.step_b + 1.0) ** self.step_omega
        if first > 1.0:
            raise SpecError("first Robbins-Monro step exceeds 1", path="step_a",
                            value=self.step_a,
                            allowed=f"step_a <= (step_b + 1)^step_omega = "
                                    f"{(self.step_b + 1.0) ** self.step_omega:.6g}")
        v = self.improve_every
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not 1 <= v <= MAX_PERIODS:
            raise SpecError("must be a positive integer", path="improve_every", value=v,
                            allowed=f"an integer in [1, {MAX_PERIODS:.0e}]")
        object.__setattr__(self, "improve_every", int(v))

    @property
    def solver_options(self) -> bool:
        """True if any of step_size, target, update differs from plain Q-learning."""
        return (self.step_size, self.target, self.update) != ("constant", "sampled", "q_learning")

    # ------------------------------------------------------------ for kernels
    def per_agent(self, name: str, n: int) -> np.ndarray:
        """``alpha`` or ``beta`` as a float64 array of length ``n`` (checked against the game)."""
        v = getattr(self, name)
        vals = np.full(n, v, dtype=np.float64) if np.ndim(v) == 0 else np.asarray(v, np.float64)
        if vals.shape != (n,):
            if vals.size == 1:
                return np.full(n, vals[0])
            raise SpecError(f"has {vals.size} values but the game has {n} agents", path=name,
                            value=v, allowed=f"one number or {n} numbers")
        return vals

    @property
    def np_dtype(self):
        return np.dtype(self.dtype)

    def to_dict(self) -> dict:
        """Plain-data form (for JSON metadata); an array ``q0`` becomes ``"array"``."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "q0" and not isinstance(v, str):
                v = "array"
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls, d: dict, q0_array=None) -> QLearningConfig:
        d = dict(d)
        if d.get("q0") == "array":
            d["q0"] = q0_array
        return cls(**d)
