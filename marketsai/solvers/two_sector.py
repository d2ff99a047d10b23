"""The two-sector economy with labour: steady state, its first-order conditions, closed form.

A consumption-good sector and an investment-good sector, each a competitive firm,
``C = A_c K_c^a_c L_c^(1-a_c)`` and ``I = A_i K_i^a_i L_i^(1-a_i)``; the consumption good is
the numeraire, the investment good sells at ``p``; capital and labour are mobile and rent
at ``r`` and ``w`` in both sectors. A representative household owns ``K``, works
``l = L_c + L_i``, maximises ``sum beta^t (ln c + psi ln(1 - l))`` subject to
``c + p i = r k + w l`` (profits are zero under constant returns) and
``k' = (1 - delta) k + i``. This is the reference the market economy
(``economies/two_sector_labor.yaml``) is measured against.

* :func:`steady_state` -- the deterministic steady state, in closed form (Cobb--Douglas
  reduces every condition to a formula) or by a damped Newton on the unreduced conditions
  (``method="newton"``, an independent check of the algebra);
* :func:`foc_residuals` -- every equilibrium condition's residual at a candidate;
* :func:`closed_form_policy` -- the exact dynamic policy at ``delta = 1``, ``a_c = a_i``;
* :func:`collapse_to_one_sector` -- the one-sector RBC-with-labour steady state that the
  model reduces to when ``a_c = a_i`` (computed from the one-sector formulas).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from marketsai.errors import SpecError

__all__ = ["TwoSectorModel", "TwoSectorSteadyState", "OneSectorSteadyState",
           "FullDepreciationPolicy", "steady_state", "foc_residuals", "closed_form_policy",
           "collapse_to_one_sector", "steady_state_table", "CALIBRATIONS"]

#: the two calibrations of the issue: beta 0.99, delta 0.025, psi 1.75, A_c = A_i = 1
CALIBRATIONS = {
    "equal": dict(a_c=0.33, a_i=0.33),  # collapses to the one-sector RBC with labour, p = 1
    "unequal": dict(a_c=0.30, a_i=0.40),  # capital-intensive investment sector, p != 1
}


@dataclass(frozen=True)
class TwoSectorModel:
    """Parameters of the two-sector economy (quarterly).

    >>> m = TwoSectorModel.calibration("unequal")
    >>> m.a_c, m.a_i, round(m.rho_rent, 8)
    (0.3, 0.4, 0.03510101)
    """

    beta: float = 0.99
    delta: float = 0.025
    psi: float = 1.75
    A_c: float = 1.0
    A_i: float = 1.0
    a_c: float = 0.33
    a_i: float = 0.33

    def __post_init__(self):
        rules = (("beta", 0.0, 1.0, False), ("delta", 0.0, 1.0, True), ("a_c", 0.0, 1.0, False),
                 ("a_i", 0.0, 1.0, False), ("psi", 0.0, np.inf, False),
                 ("A_c", 0.0, np.inf, False), ("A_i", 0.0, np.inf, False))
        for name, lo, hi, closed in rules:
            v = getattr(self, name)
            allowed = (f"a number in ({lo}, {hi}{']' if closed else ')'}" if np.isfinite(hi)
                       else "a finite number > 0")
            try:
                x = float(v)
            except (TypeError, ValueError):
                raise SpecError("must be a number", path=f"TwoSectorModel.{name}", value=v,
                                allowed=allowed) from None
            if not (np.isfinite(x) and lo < x and (x <= hi if closed else x < hi)):
                raise SpecError("out of range",
                                path=f"TwoSectorModel.{name}", value=v, allowed=allowed)
            object.__setattr__(self, name, x)

    @classmethod
    def calibration(cls, case: str) -> TwoSectorModel:
        """``"equal"`` (a_c = a_i = 0.33) or ``"unequal"`` (a_c = 0.30, a_i = 0.40)."""
        if case not in CALIBRATIONS:
            raise SpecError("unknown two-sector calibration", path="case", value=case,
                            allowed=", ".join(CALIBRATIONS))
        return cls(**CALIBRATIONS[case])

    @property
    def rho_rent(self) -> float:
        """``1/beta - 1 + delta``: the steady-state rental rate per unit of capital's price."""
        return 1.0 / self.beta - 1.0 + self.delta


@dataclass(frozen=True)
class TwoSectorSteadyState:
    """A candidate equilibrium: aggregates, sector allocations, prices, household choices.

    ``Y = C + p I`` is output in consumption units; ``c, l, i, k`` are the household's
    consumption, hours, investment purchases and capital (equal to ``C, L, I, K`` in
    equilibrium -- :func:`foc_residuals` checks that rather than assuming it).
    """

    K: float
    L: float
    K_c: float
    K_i: float
    L_c: float
    L_i: float
    C: float
    I: float  # noqa: E741 -- the model's name for investment
    Y: float
    p: float
    r: float
    w: float
    c: float
    l: float  # noqa: E741 -- the model's name for hours
    i: float
    k: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _allocation(m: TwoSectorModel, K_c, K_i, L_c, L_i, p) -> TwoSectorSteadyState:
    """Everything implied by a factor allocation and ``p``: outputs from the technologies,
    ``r, w`` from the consumption sector's marginal products, the household buying it all."""
    C = m.A_c * K_c**m.a_c * L_c ** (1.0 - m.a_c)
    Inv = m.A_i * K_i**m.a_i * L_i ** (1.0 - m.a_i)
    K, L = K_c + K_i, L_c + L_i
    return TwoSectorSteadyState(K=K, L=L, K_c=K_c, K_i=K_i, L_c=L_c, L_i=L_i, C=C, I=Inv,
                                Y=C + p * Inv, p=p, r=m.a_c * C / K_c, w=(1.0 - m.a_c) * C / L_c,
                                c=C, l=L, i=Inv, k=K)


def _closed_form(m: TwoSectorModel) -> TwoSectorSteadyState:
    rho = m.rho_rent
    k_i = (m.a_i * m.A_i / rho) ** (1.0 / (1.0 - m.a_i))  # r/p = MPK_i = rho
    k_c = k_i * m.a_c * (1.0 - m.a_i) / ((1.0 - m.a_c) * m.a_i)  # same w/r in both sectors
    p = m.a_c * m.A_c * k_c ** (m.a_c - 1.0) / rho  # r = MPK_c = p rho
    # labour shares from factor incomes: w L_c = (1-a_c) C, w L_i = (1-a_i) p delta K and
    # C = p K (rho - a_i delta) / a_c (capital income r K = a_c C + a_i p I, I = delta K)
    lab_c = (1.0 - m.a_c) * (rho - m.a_i * m.delta) / m.a_c
    lab_i = (1.0 - m.a_i) * m.delta
    s_c = lab_c / (lab_c + lab_i)
    L = (1.0 - m.a_c) / ((1.0 - m.a_c) + m.psi * s_c)  # psi c / (1 - L) = w = (1-a_c) C / L_c
    L_c = s_c * L
    L_i = L - L_c
    return _allocation(m, k_c * L_c, k_i * L_i, L_c, L_i, p)


def _log_residuals(m: TwoSectorModel, x: np.ndarray) -> np.ndarray:
    """The five unreduced conditions in logs at ``x = log(K_c, K_i, L_c, L_i, p)``."""
    s = _allocation(m, *np.exp(x))
    if not s.L < 1.0:
        return np.full(5, np.inf)
    return np.array([
        np.log(s.p * m.a_i * s.I / s.K_i) - np.log(s.r),  # capital rents equal across sectors
        np.log(s.p * (1.0 - m.a_i) * s.I / s.L_i) - np.log(s.w),  # wages equal
        np.log(m.beta * (s.r + (1.0 - m.delta) * s.p)) - np.log(s.p),  # Euler
        np.log(m.psi * s.C / (1.0 - s.L)) - np.log(s.w),  # hours
        np.log(m.delta * s.K) - np.log(s.I),  # K' = K
    ])


def _newton(m: TwoSectorModel, guess, tol: float, max_iter: int) -> TwoSectorSteadyState:
    """Damped Newton (central-difference Jacobian, backtracking on the residual norm)."""
    x = np.log(np.asarray(guess, dtype=np.float64))
    f = _log_residuals(m, x)
    if x.shape != (5,) or not np.all(np.isfinite(f)):
        raise SpecError("needs 5 positive numbers (K_c, K_i, L_c, L_i, p) with L_c + L_i < 1",
                        path="guess", value=guess)
    for _ in range(max_iter):
        if np.max(np.abs(f)) < tol:
            return _allocation(m, *np.exp(x))
        h = 1e-6
        J = np.empty((5, 5))
        for j in range(5):
            e = np.zeros(5)
            e[j] = h
            J[:, j] = (_log_residuals(m, x + e) - _log_residuals(m, x - e)) / (2.0 * h)
        step = np.linalg.solve(J, -f)
        norm, t = np.linalg.norm(f), 1.0
        while t > 1e-10:
            f_new = _log_residuals(m, x + t * step)
            if np.all(np.isfinite(f_new)) and np.linalg.norm(f_new) < norm:
                break
            t *= 0.5
        else:
            raise RuntimeError("two-sector Newton: no step reduces the residual (line search failed)")
        x, f = x + t * step, f_new
    raise RuntimeError(f"two-sector Newton did not converge in {max_iter} iterations "
                       f"(max log residual {np.max(np.abs(f)):.2e})")


def steady_state(model: TwoSectorModel, method: str = "closed_form", guess=None,
                 tol: float = 1e-14, max_iter: int = 100) -> TwoSectorSteadyState:
    """The deterministic steady state of the two-sector economy.

    The conditions (``rho = 1/beta - 1 + delta``):

    * household Euler ``p = beta (r + (1 - delta) p)``, i.e. ``r = rho p``;
    * intratemporal ``psi c / (1 - l) = w``;
    * consumption firm ``r = a_c C / K_c``, ``w = (1 - a_c) C / L_c``;
    * investment firm ``r = p a_i I / K_i``, ``w = p (1 - a_i) I / L_i``;
    * factor markets ``K = K_c + K_i``, ``l = L_c + L_i``; goods ``c = C``, ``i = I``;
      capital constant ``I = delta K``.

    Cobb--Douglas reduces them to formulas (``method="closed_form"``): the investment
    firm's ``r / p = a_i A_i k_i^(a_i - 1) = rho`` fixes ``k_i = K_i / L_i``; equal
    ``w / r`` across sectors gives ``k_c = k_i a_c (1 - a_i) / ((1 - a_c) a_i)``, hence
    ``r, w`` and ``p = r / rho``; factor incomes give ``K_i / K = a_i delta / rho`` and the
    labour share ``s_c = L_c / L``; and the hours condition, with ``w = (1 - a_c) C / L_c``,
    is ``psi s_c L = (1 - a_c)(1 - L)``, so ``L = (1 - a_c) / (1 - a_c + psi s_c)``.
    ``method="newton"`` instead solves the five unreduced conditions (rents, wages, Euler,
    hours, ``I = delta K``) in the logs of ``(K_c, K_i, L_c, L_i, p)`` by a damped Newton
    from ``guess`` (default: a rough point far from the answer) -- it shares no algebra
    with the closed form, so agreement checks the derivation.

    >>> ss = steady_state(TwoSectorModel.calibration("unequal"))
    >>> round(ss.p, 4), round(ss.L, 4), round(ss.K, 3)
    (0.6812, 0.3344, 13.811)
    >>> nt = steady_state(TwoSectorModel.calibration("unequal"), method="newton")
    >>> bool(np.allclose(list(nt.as_dict().values()), list(ss.as_dict().values()), rtol=1e-12))
    True
    """
    if not isinstance(model, TwoSectorModel):
        raise SpecError("must be a TwoSectorModel", path="model", value=model)
    if method == "closed_form":
        return _closed_form(model)
    if method == "newton":
        return _newton(model, (8.0, 2.0, 0.25, 0.05, 1.0) if guess is None else guess,
                       float(tol), int(max_iter))
    raise SpecError("unknown steady-state method", path="method", value=method,
                    allowed="closed_form, newton")


def foc_residuals(model: TwoSectorModel, ss: TwoSectorSteadyState) -> dict[str, float]:
    """Every equilibrium condition's residual (``lhs - rhs``, in the model's units) at ``ss``.

    Evaluated from ``ss``'s own fields only, so a wrong field shows up somewhere:
    technologies, the four marginal-product (factor-price) conditions, zero profits, the
    household's Euler, hours and budget conditions, factor and goods market clearing,
    the capital stock being constant and ``Y = C + p I``.

    >>> m = TwoSectorModel.calibration("equal")
    >>> res = foc_residuals(m, steady_state(m))
    >>> len(res), max(abs(v) for v in res.values()) < 1e-12
    (20, True)
    """
    m, s = model, ss
    C_tech = m.A_c * s.K_c**m.a_c * s.L_c ** (1.0 - m.a_c)
    I_tech = m.A_i * s.K_i**m.a_i * s.L_i ** (1.0 - m.a_i)
    return {
        "technology_c": s.C - C_tech,
        "technology_i": s.I - I_tech,
        "mpk_c": s.r - m.a_c * C_tech / s.K_c,
        "mpl_c": s.w - (1.0 - m.a_c) * C_tech / s.L_c,
        "mpk_i": s.r - s.p * m.a_i * I_tech / s.K_i,
        "mpl_i": s.w - s.p * (1.0 - m.a_i) * I_tech / s.L_i,
        "zero_profit_c": s.C - s.r * s.K_c - s.w * s.L_c,
        "zero_profit_i": s.p * s.I - s.r * s.K_i - s.w * s.L_i,
        "euler": s.p - m.beta * (s.r + (1.0 - m.delta) * s.p),
        "hours": m.psi * s.c / (1.0 - s.l) - s.w,
        "budget": s.c + s.p * s.i - (s.r * s.k + s.w * s.l),
        "capital_market": s.k - (s.K_c + s.K_i),
        "labour_market": s.l - (s.L_c + s.L_i),
        "aggregate_capital": s.K - s.k,
        "aggregate_hours": s.L - s.l,
        "goods_c": s.c - s.C,
        "goods_i": s.i - s.I,
        "accumulation": (1.0 - m.delta) * s.k + s.i - s.k,
        "investment": s.I - m.delta * s.K,
        "output": s.Y - (s.C + s.p * s.I),
    }


# -------------------------------------------------------------- closed-form dynamics
@dataclass(frozen=True)
class FullDepreciationPolicy:
    """The exact policy at ``delta = 1``, ``a_c = a_i = a`` (log utility).

    With equal shares both sectors use the same ``K / L``, so the frontier is linear,
    ``C + (A_c / A_i) I = A_c K^a L^(1-a)``, and ``p = A_c / A_i``; with ``K' = I`` this is
    the one-sector model ``c + p k' = y``, ``y = A_c k^a l^(1-a)``. Guessing
    ``V(k) = E + B ln k`` in the Bellman equation: the ``k'`` condition
    ``p / c = beta B / k'`` and the envelope ``B / k = a y / (k c)`` give
    ``B = a / (1 - a beta)``, so ``p k' = a beta y`` and ``c = (1 - a beta) y`` (a constant
    savings share); the hours condition ``psi / (1 - l) = (1 - a) y / (l c)`` then holds at
    the constant ``l = (1 - a) / ((1 - a) + psi (1 - a beta))``. Each sector gets the
    share of both factors equal to its share of output: ``K_i / K = L_i / L = a beta``.
    """

    a: float
    beta: float
    psi: float
    A_c: float
    A_i: float
    hours: float
    savings_share: float  # p k' / y = a beta

    @property
    def p(self) -> float:
        return self.A_c / self.A_i

    def output(self, k):
        """``y = A_c k^a l^(1-a)`` in consumption units (broadcasting)."""
        return self.A_c * np.asarray(k, np.float64) ** self.a * self.hours ** (1.0 - self.a)

    def next_capital(self, k):
        """``k' = a beta y / p = a beta A_i k^a l^(1-a)``."""
        return self.savings_share * self.output(k) / self.p

    def consumption(self, k):
        """``c = (1 - a beta) y``."""
        return (1.0 - self.savings_share) * self.output(k)

    def path(self, k0: float, periods: int) -> np.ndarray:
        """Capital ``k_0, ..., k_periods`` under the policy."""
        out = np.empty(int(periods) + 1)
        out[0] = k0
        for t in range(int(periods)):
            out[t + 1] = self.next_capital(out[t])
        return out

    def fixed_point(self) -> float:
        """``k* = (a beta A_i l^(1-a))^(1/(1-a))``, where ``k' = k``."""
        return (self.savings_share * self.A_i * self.hours ** (1.0 - self.a)) ** (1.0 / (1.0 - self.a))


def closed_form_policy(model: TwoSectorModel) -> FullDepreciationPolicy:
    """The closed-form dynamic policy; only at ``delta = 1`` and ``a_c = a_i``.

    >>> pol = closed_form_policy(TwoSectorModel(delta=1.0, a_c=0.33, a_i=0.33))
    >>> round(pol.hours, 4), round(pol.savings_share, 4), round(pol.fixed_point(), 6)
    (0.3625, 0.3267, 0.068259)
    """
    if model.delta != 1.0 or model.a_c != model.a_i:
        raise ValueError("the closed-form two-sector policy needs delta = 1 and a_c = a_i, got "
                         f"delta = {model.delta}, a_c = {model.a_c}, a_i = {model.a_i}")
    a, b = model.a_c, model.beta
    hours = (1.0 - a) / ((1.0 - a) + model.psi * (1.0 - a * b))
    return FullDepreciationPolicy(a=a, beta=b, psi=model.psi, A_c=model.A_c, A_i=model.A_i,
                                  hours=hours, savings_share=a * b)


# --------------------------------------------------------------- one-sector benchmark
@dataclass(frozen=True)
class OneSectorSteadyState:
    """Steady state of the one-sector RBC with labour, ``y = A k^a l^(1-a) = c + i``."""

    K: float
    L: float
    C: float
    I: float  # noqa: E741
    Y: float
    p: float
    r: float
    w: float


def collapse_to_one_sector(model: TwoSectorModel) -> OneSectorSteadyState:
    """The one-sector steady state the two-sector model reduces to when ``a_c = a_i``.

    One-sector formulas (``A = A_c = A_i``, ``a = a_c``): the Euler equation
    ``1 = beta (a A (K/L)^(a-1) + 1 - delta)`` gives ``K / L``; the hours condition
    ``psi C / (1 - L) = (1 - a) Y / L`` with ``C / L = A (K/L)^a - delta K / L`` gives ``L``;
    ``p = 1`` because the two technologies coincide.

    >>> one = collapse_to_one_sector(TwoSectorModel.calibration("equal"))
    >>> round(one.K, 4), round(one.L, 4), one.p
    (9.4556, 0.3336, 1.0)
    """
    m = model
    if m.a_c != m.a_i or m.A_c != m.A_i:
        raise ValueError("the two-sector model collapses to one sector only when a_c = a_i and "
                         f"A_c = A_i, got a_c = {m.a_c}, a_i = {m.a_i}, A_c = {m.A_c}, A_i = {m.A_i}")
    a, A = m.a_c, m.A_c
    kl = (a * A / (1.0 / m.beta - 1.0 + m.delta)) ** (1.0 / (1.0 - a))
    yl = A * kl**a
    cl = yl - m.delta * kl
    L = (1.0 - a) * yl / ((1.0 - a) * yl + m.psi * cl)
    return OneSectorSteadyState(K=kl * L, L=L, C=cl * L, I=m.delta * kl * L, Y=yl * L, p=1.0,
                                r=a * A * kl ** (a - 1.0), w=(1.0 - a) * yl)


def steady_state_table(model: TwoSectorModel) -> str:
    """A markdown table of the steady state, 6 significant digits (docs/solvers.md's table is
    generated from experiments/market_economies/results/two_sector_steady_states.csv)."""
    ss = steady_state(model)
    names = [f.name for f in fields(ss)][:12]
    head = "| " + " | ".join(names) + " |\n|" + "---|" * len(names) + "\n"
    return head + "| " + " | ".join(f"{getattr(ss, n):.6g}" for n in names) + " |"
