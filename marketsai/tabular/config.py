"""Parameters of tabular Q-learning sessions (a frozen dataclass; the kernel gets arrays).

Every field is declared once in :data:`SETTINGS` (``Param``: default, check, doc) and
checked when the config is made; a bad value raises :class:`~marketsai.errors.SpecError`
naming the field and what is allowed.
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

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from marketsai.errors import SpecError
from marketsai.limits import MAX_PERIODS
from marketsai.params import Check, Param, all_of

EXPLORATION = {"exp_decay": 0, "constant": 1, "boltzmann": 2}
PROTOCOL = {"simultaneous": 0, "alternating": 1}
DTYPES = ("float64", "float32")
Q0_NAMES = ("calvano", "zeros")
STEP_SIZE = {"constant": 0, "visits": 1}
TARGET = {"sampled": 0, "expected": 1}
UPDATE = {"q_learning": 0, "enhanced_pi": 1}
DEVICES = ("cpu", "cuda")


def _per_agent(ok) -> Callable:
    """A number, or a non-empty list of numbers (one per agent), each finite and ``ok``."""
    def check(value) -> bool:
        if isinstance(value, (bool, str)) or (isinstance(value, (list, tuple))
                                               and any(isinstance(v, (bool, str)) for v in value)):
            return False
        vals = np.atleast_1d(np.asarray(value, dtype=float))
        return vals.ndim == 1 and vals.size > 0 and bool(np.all(np.isfinite(vals))) \
            and all(ok(v) for v in vals)
    return check


def _plain_per_agent(value):
    vals = np.atleast_1d(np.asarray(value, dtype=float))
    return float(vals[0]) if np.ndim(value) == 0 else [float(v) for v in vals]


def _q0_ok(value) -> bool:
    if isinstance(value, str):
        return value in Q0_NAMES
    try:  # a ragged or non-numeric list is our error, not numpy's
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        return False
    return arr.ndim in (2, 3) and arr.size > 0 and bool(np.all(np.isfinite(arr)))


def _whole(value) -> bool:
    return (isinstance(value, (int, np.integer)) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer())


def _periods(lo: int) -> Check:
    return all_of(Check(lambda v: _whole(v) and v >= lo, f"an integer >= {lo}",
                        reason="must be a positive integer"),
                  Check(lambda v: v <= MAX_PERIODS, f"an integer in [{lo}, {MAX_PERIODS:.0e}]",
                        reason="too large"),  # int64 clocks in the kernel; limits.MAX_PERIODS
                  convert=int)


def _step(ok, allowed: str) -> Check:
    return Check(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and bool(np.isfinite(v))
                 and ok(v), allowed, as_float=True, reason="step-size parameter out of range")


def _choice(names, reason: str) -> Check:
    return Check(lambda v: isinstance(v, str) and v in names, ", ".join(names), reason=reason)


#: the declared settings of tabular Q-learning: the one source of defaults, checks and
#: docs (``QLearningConfig``, the ``q_learning`` learner and ``kind: tabular``'s ``learner:``)
SETTINGS: dict[str, Param] = {
    "alpha": Param(0.15, Check(_per_agent(lambda v: 0.0 < v <= 1.0),
                               "0 < alpha <= 1, a number or one per agent",
                               reason="learning rate out of range", convert=_plain_per_agent),
                   "learning rate, 0 < alpha <= 1 (one number or one per agent)"),
    "beta": Param(4e-6, Check(_per_agent(lambda v: v >= 0.0), "beta >= 0, a number or one per agent",
                              reason="value out of range", convert=_plain_per_agent),
                  "exploration decay: eps_t = exp(-beta t) (one number or one per agent)"),
    "exploration": Param("exp_decay", _choice(EXPLORATION, "unknown exploration rule"),
                         "exp_decay | constant | boltzmann"),
    "epsilon": Param(0.0, Check(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
                                and 0.0 <= v <= 1.0, "0 <= epsilon <= 1",
                                reason="exploration rate out of range"),
                     "exploration rate for exploration: constant"),
    "temperature": Param(1.0, Check(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
                                    and v > 0 and np.isfinite(v), "a number > 0",
                                    reason="temperature must be positive"),
                         "Boltzmann temperature (exploration: boltzmann)"),
    "q0": Param("calvano", Check(_q0_ok, "'calvano', 'zeros' or an array (n, n_states, m) or (n, m)",
                                 reason="initial Q-table must be 'calvano', 'zeros' or a finite array"),
                "initial Q-table: calvano (eq. 5) | zeros | an array (n, n_states, m) or (n, m)"),
    "stable_periods": Param(100_000, _periods(1),
                            "convergence: greedy actions unchanged this many consecutive periods"),
    "max_periods": Param(1_250_000_000, _periods(1),
                         "cap on a session's periods (stopped sessions count as not converged)"),
    "protocol": Param("simultaneous", _choice(PROTOCOL, "unknown move protocol"),
                      "simultaneous | alternating moves"),
    "dtype": Param("float64", _choice(DTYPES, "unsupported Q-table type"),
                   "Q-table storage: float64 | float32"),
    # the solver options (docs/q_learning_solver.md); the defaults are plain Q-learning
    "step_size": Param("constant", _choice(STEP_SIZE, "unknown step size"),
                       "constant (alpha) | visits: alpha = step_a / (step_b + n(s, a))^step_omega"),
    "step_a": Param(1.0, _step(lambda v: v > 0, "step_a > 0"),
                    "Robbins-Monro step scale, > 0 (step_size: visits)"),
    "step_b": Param(0.0, _step(lambda v: v >= 0, "step_b >= 0"),
                    "Robbins-Monro visit offset, >= 0 (step_size: visits)"),
    "step_omega": Param(0.7, _step(lambda v: 0.5 < v <= 1, "0.5 < step_omega <= 1 (Robbins-Monro)"),
                        "Robbins-Monro decay exponent in (0.5, 1] (step_size: visits)"),
    "target": Param("sampled", _choice(TARGET, "unknown target"),
                    "sampled | expected: average over the next shock with the known chain"),
    "update": Param("q_learning", _choice(UPDATE, "unknown update"),
                    "q_learning | enhanced_pi (Bertsekas and Yu 2012)"),
    "improve_every": Param(10_000, _periods(1), "periods between policy improvements of update: enhanced_pi"),
    # where the sessions run; results are the same bit for bit (marketsai.tabular.gpu)
    "device": Param("cpu", _choice(DEVICES, "unknown device"),
                    "cpu | cuda: the sessions on a CUDA GPU, one thread per session (two "
                    "agents, simultaneous moves, no exogenous state, exp_decay or constant "
                    "exploration, float64; see marketsai.tabular.gpu)"),
}


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
    device : {"cpu", "cuda"}
        Where the sessions run: ``cuda`` runs them on a CUDA GPU, one thread per session
        (:mod:`marketsai.tabular.gpu`; the case of the CPU fast path only), with the same
        results bit for bit. Left out of :meth:`to_dict` when ``cpu``, so that CPU runs'
        files and run folders are as before the setting existed.
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
    device: str = "cpu"

    def __post_init__(self):
        for f in fields(self):  # the declared checks (SETTINGS); paths are the field names
            object.__setattr__(self, f.name, SETTINGS[f.name].validate(getattr(self, f.name), f.name))
        for name in ("alpha", "beta"):  # kernels read tuples; a scalar stays a float
            v = getattr(self, name)
            if isinstance(v, list):
                object.__setattr__(self, name, tuple(v))
        if not isinstance(self.q0, str):
            arr = np.array(self.q0, dtype=float)
            arr.flags.writeable = False
            object.__setattr__(self, "q0", arr)
        first = self.step_a / (self.step_b + 1.0) ** self.step_omega
        if first > 1.0:
            raise SpecError("first Robbins-Monro step exceeds 1", path="step_a",
                            value=self.step_a,
                            allowed=f"step_a <= (step_b + 1)^step_omega = "
                                    f"{(self.step_b + 1.0) ** self.step_omega:.6g}")

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
            if f.name == "device" and v == "cpu":  # where it ran, not what: see the class doc
                continue
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
