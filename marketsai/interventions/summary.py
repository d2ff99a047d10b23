"""Population statistics of intervention results: means, SDs and bootstrap CIs.

Tables in, tables out (figures and docs are drawn from these):

* :func:`bootstrap_ci` -- percentile bootstrap CI of a mean (seeded, reproducible);
* :func:`intervention_table` -- one row per (population, intervention, protocol) with
  mean / SD / 95% CI of ``R`` and ``delta_post`` and re-convergence statistics;
* :func:`baseline_table` -- one row per population: the converged baselines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GROUP = ["population", "alpha", "beta", "intervention", "label", "protocol"]


def bootstrap_ci(x, level: float = 0.95, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of ``x`` (NaNs dropped).

    >>> lo, hi = bootstrap_ci(np.arange(100.0))
    >>> 43 < lo < 49.5 < hi < 56
    True
    """
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (float("nan"), float("nan"))
    if x.size == 1 or np.all(x == x[0]):
        return (float(x[0]), float(x[0]))
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for b0 in range(0, n_boot, 256):  # blocks keep memory at 256 x n
        b1 = min(n_boot, b0 + 256)
        idx = rng.integers(0, x.size, size=(b1 - b0, x.size))
        means[b0:b1] = x[idx].mean(axis=1)
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def _stats(x, prefix: str, n_boot: int, seed: int) -> dict:
    x = np.asarray(x, float)
    lo, hi = bootstrap_ci(x, n_boot=n_boot, seed=seed)
    return {f"{prefix}_mean": float(np.nanmean(x)), f"{prefix}_sd": float(np.nanstd(x, ddof=1))
            if np.isfinite(x).sum() > 1 else float("nan"),
            f"{prefix}_ci_lo": lo, f"{prefix}_ci_hi": hi, f"{prefix}_median": float(np.nanmedian(x))}


def intervention_table(results: pd.DataFrame, p_nash: float, n_boot: int = 2000,
                       seed: int = 0) -> pd.DataFrame:
    """One row per (population, alpha, beta, intervention, label, protocol).

    Columns: ``sessions``; ``R_*`` and ``delta_post_*`` (mean, sd, ci_lo, ci_hi, median);
    ``p_base_mean``, ``p_post_mean``, ``delta_base_mean``; ``R_of_means`` (the recovery
    rate of the mean prices, robust to sessions whose own ``p_base`` is near pN);
    ``share_unchanged`` (share of sessions back on exactly their old price level,
    ``|p_post - p_base| < 1e-9``); ``reconverged`` (share), ``periods_mean`` and
    ``periods_median`` (periods to re-converge); ``sweep_value``.
    """
    rows = []
    keys = [k for k in GROUP if k in results.columns]
    for key, g in results.groupby(keys, sort=False, dropna=False):
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        row["sweep_value"] = g["sweep_value"].iloc[0] if "sweep_value" in g else None
        row["sessions"] = len(g)
        row.update(_stats(g["R"], "R", n_boot, seed))
        row.update(_stats(g["delta_post"], "delta_post", n_boot, seed))
        row["p_base_mean"] = float(g["p_base"].mean())
        row["p_post_mean"] = float(g["p_post"].mean())
        row["delta_base_mean"] = float(g["delta_base"].mean())
        row["R_of_means"] = (row["p_post_mean"] - p_nash) / (row["p_base_mean"] - p_nash)
        row["share_unchanged"] = float((np.abs(g["p_post"] - g["p_base"]) < 1e-9).mean())
        row["reconverged"] = float(g["reconverged"].mean())
        row["periods_mean"] = float(g["periods_to_reconverge"].mean())
        row["periods_median"] = float(g["periods_to_reconverge"].median())
        rows.append(row)
    return pd.DataFrame(rows)


def baseline_table(baselines: pd.DataFrame, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per population: converged share, mean/SD/CI of Delta, mean price, cycles."""
    rows = []
    for key, g in baselines.groupby(["population", "alpha", "beta"], sort=False):
        row = dict(zip(["population", "alpha", "beta"], key, strict=True))
        row["sessions"] = len(g)
        row["converged"] = float(g["converged"].mean())
        row.update(_stats(g["delta"], "delta", n_boot, seed))
        row["price_mean"] = float(g["price"].mean())
        row["periods_mean"] = float(g["t"].mean())
        for k, name in ((1, "cycle1"), (2, "cycle2")):
            row[f"share_{name}"] = float((g["cycle_length"] == k).mean())
        row["share_cycle3plus"] = float((g["cycle_length"] >= 3).mean())
        rows.append(row)
    return pd.DataFrame(rows)
