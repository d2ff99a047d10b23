"""Production technologies of competitive firms: output and marginal products, as pure functions.

A technology is a parameter of the firm (``params.technology``), not code in a market:
the factor markets pay whatever marginal products the firm's technology has.

* ``cobb_douglas`` -- ``Y = z A K^alpha L^(1 - alpha)``; its factor shares are constant,
  which is what lets several sectors clear in closed form (:mod:`marketsai.clearing`);
* ``ces`` -- ``Y = z A (alpha K^rho + (1 - alpha) L^rho)^(1/rho)`` with elasticity of
  substitution ``1 / (1 - rho)`` (one-sector economies).
"""

from __future__ import annotations

import numpy as np

TECHNOLOGIES = ("cobb_douglas", "ces")


def output(tech: str, K, L, z, A: float, alpha: float, rho: float = 0.0):
    """Output ``Y`` of inputs ``K, L`` (any broadcasting shapes)."""
    if tech == "cobb_douglas":
        return z * A * K**alpha * L ** (1.0 - alpha)
    return z * A * (alpha * K**rho + (1.0 - alpha) * L**rho) ** (1.0 / rho)


def marginal_products(tech: str, K, L, z, A: float, alpha: float, rho: float = 0.0):
    """``(F_K, F_L)`` at ``K, L``.

    >>> fk, fl = marginal_products("cobb_douglas", 4.0, 1.0, 1.0, 1.0, 0.5)
    >>> float(fk), float(fl)
    (0.25, 1.0)
    """
    Y = output(tech, K, L, z, A, alpha, rho)
    if tech == "cobb_douglas":
        return alpha * Y / K, (1.0 - alpha) * Y / L
    base = alpha * K**rho + (1.0 - alpha) * L**rho
    scale = z * A * base ** (1.0 / rho - 1.0)
    return scale * alpha * K ** (rho - 1.0), scale * (1.0 - alpha) * L ** (rho - 1.0)


def capital_per_labour(tech: str, rent: float, A: float, alpha: float, rho: float = 0.0) -> float:
    """``K / L`` at which ``F_K = rent`` (z = 1): the steady-state capital intensity."""
    if tech == "cobb_douglas":
        return (alpha * A / rent) ** (1.0 / (1.0 - alpha))
    # F_K = A alpha (alpha + (1-alpha) x^-rho)^(1/rho - 1) with x = K/L
    inner = ((rent / (A * alpha)) ** (rho / (1.0 - rho)) - alpha) / (1.0 - alpha)
    if not inner > 0:
        return float("nan")
    return float(inner ** (-1.0 / rho))


def unit_cost(tech: str, r, w, z, A: float, alpha: float, rho: float = 0.0):
    """The least cost of one unit of output at factor prices ``r, w`` (the dual of :func:`output`).

    Cobb–Douglas: ``(r / alpha)^alpha (w / (1 - alpha))^(1 - alpha) / (z A)``; CES with
    ``s = 1 / (1 - rho)``: ``(alpha^s r^(1-s) + (1-alpha)^s w^(1-s))^(1/(1-s)) / (z A)``.

    >>> round(float(unit_cost("cobb_douglas", 0.25, 1.0, 1.0, 1.0, 0.5)), 12)  # = F_K at K/L = 4
    1.0
    """
    if tech == "cobb_douglas":
        return (r / alpha) ** alpha * (w / (1.0 - alpha)) ** (1.0 - alpha) / (z * A)
    s = 1.0 / (1.0 - rho)
    return (alpha**s * r ** (1.0 - s) + (1.0 - alpha) ** s * w ** (1.0 - s)) ** (1.0 / (1.0 - s)) / (z * A)


def unit_inputs(tech: str, r, w, z, A: float, alpha: float, rho: float = 0.0):
    """``(a_K, a_L)``: the cost-minimising inputs per unit of output (Shephard's lemma, ``dc/dr``, ``dc/dw``)."""
    c = unit_cost(tech, r, w, z, A, alpha, rho)
    if tech == "cobb_douglas":
        return alpha * c / r, (1.0 - alpha) * c / w
    s = 1.0 / (1.0 - rho)
    scale = (c * z * A) ** s / (z * A)
    return scale * alpha**s * r ** (-s), scale * (1.0 - alpha) ** s * w ** (-s)


def check_inputs(K, L) -> None:
    """Factor inputs must be positive for marginal products to exist."""
    if np.any(np.asarray(K) <= 0) or np.any(np.asarray(L) <= 0):
        raise FloatingPointError("a competitive firm got non-positive capital or labour")
