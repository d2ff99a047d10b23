"""Tables and figures of docs/interventions.md, from a finished run folder only.

    python experiments/interventions/make_figures.py runs/interventions-study \
        [--figures docs/figures/interventions] [--tables runs/interventions-study/tables.md] \
        [--results experiments/interventions/results]

Computes the study's tables (the baselines; the seed's reported numbers beside the seed's
protocol and the correct one run by us; dependence on the session's own level; every
intervention; the duration sweeps; the short run after an intervention; the (alpha, beta)
grid), prints them, and copies/draws the figures. ``--results`` writes them as small CSVs
with ``.source.json`` sidecars: the committed sources of docs/interventions.md's tables
(docs/tables.py renders them).
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from marketsai.analysis.tables import markdown_table
from marketsai.interventions import figures
from marketsai.interventions.summary import bootstrap_ci, intervention_table

# The seed study's reported table (docs/references.md, "The intervention study"): one session.
SEED_TABLE = [
    ("forced_nash[periods=50]", "Forced Nash, firm 0 (k=50)", 1.699, 0.545),
    ("forced_nash[periods=100]", "Forced Nash, firm 0 (k=100)", 1.699, 0.545),
    ("exploration[periods=100]", "Exploration shock (both eps=0.5, 100 periods)", 1.756, 0.682),
    ("reset_firm0", "Memory reset, firm 0", 1.812, 0.818),
]
SEED_BASE = 1.887


def row_stats(g: pd.DataFrame, p_nash: float, n_boot: int = 2000) -> dict:
    """Means, SDs and bootstrap CIs of R and Delta_post, the unchanged share and the median
    periods to re-converge of one group of sessions."""
    r_lo, r_hi = bootstrap_ci(g["R"], n_boot=n_boot)
    d_lo, d_hi = bootstrap_ci(g["delta_post"], n_boot=n_boot)
    return {"n": len(g), "p_base": g["p_base"].mean(), "p_post": g["p_post"].mean(),
            "dp": (g["p_post"] - g["p_base"]).mean(), "R": g["R"].mean(), "R_sd": g["R"].std(),
            "R_lo": r_lo, "R_hi": r_hi, "d_post": g["delta_post"].mean(),
            "d_sd": g["delta_post"].std(), "d_lo": d_lo,
            "d_hi": d_hi, "unchanged": (np.abs(g["p_post"] - g["p_base"]) < 1e-9).mean(),
            "periods": g["periods_to_reconverge"].median(),
            "R_of_means": (g["p_post"].mean() - p_nash) / (g["p_base"].mean() - p_nash)}


# ---------------------------------------------------------------- committed result CSVs
#: how the docs name each intervention (a sweep adds ", k = <periods>")
DESCRIPTIONS = {
    "forced_nash": "forced Nash, firm 0",
    "exploration": "exploration shock, both firms eps = 0.5",
    "reset_firm0": "memory reset, firm 0 (asymmetric)",
    "reset_all": "memory reset, both firms (symmetric)",
    "price_cap_nash": "price cap at the Nash grid point, 100 periods",
    "replace_firm0": "firm 0's learner replaced (alpha 0.25, beta 1e-5)",
    "replace_firm0_same": "firm 0's learner replaced (alpha 0.15, beta 4e-6, as the incumbents)",
}


def _describe(name: str, k) -> str:
    text = DESCRIPTIONS.get(name, name)
    return text if pd.isna(k) else f"{text}, k = {k:g}"


def _slug(label: str) -> str:
    """A column-name prefix for an intervention label (``forced_nash[periods=100]`` -> ``forced_nash_100``)."""
    return label.replace("[periods=", "_").rstrip("]")


def baseline_frame(base: pd.DataFrame, p_seed: float = SEED_BASE, high: float = 1.85) -> pd.DataFrame:
    """The main population's baselines in one row (the page's 'The baselines' paragraph)."""
    b = base[base["population"] == "main"]
    cyc = b["cycle_length"]
    lo, hi = bootstrap_ci(b["delta"])
    return pd.DataFrame([{
        "sessions": len(b), "converged": b["converged"].mean(), "periods_mean": b["t"].mean(),
        "delta": b["delta"].mean(), "delta_sd": b["delta"].std(), "delta_lo": lo, "delta_hi": hi,
        "cycle_share_1": (cyc == 1).mean(), "cycle_share_2": (cyc == 2).mean(),
        "cycle_share_3plus": (cyc >= 3).mean(), "p_base": b["price"].mean(),
        "p_base_min": b["price"].min(), "sessions_at_seed_level": int((b["price"] >= p_seed).sum()),
        "sessions_high": int((b["price"] >= high).sum()), "high": high}])


def seed_frame(res: pd.DataFrame, p_nash: float) -> pd.DataFrame:
    """The seed's table beside the seed's protocol and the correct one run by us, same sessions."""
    main = res[res["population"] == "main"]
    sessions = main.loc[main["protocol"] == "seed", "session"].unique()
    rows = []
    for label, name, p_seed, r_seed in SEED_TABLE:
        row = {"intervention": name, "label": label, "reported_p_post": p_seed, "reported_R": r_seed}
        for proto in ("seed", "correct"):
            g = main[(main["label"] == label) & (main["protocol"] == proto) & main["session"].isin(sessions)]
            s = row_stats(g, p_nash)
            row |= {f"{proto}_sessions": s["n"], f"{proto}_p_post": s["p_post"], f"{proto}_R": s["R"],
                    f"{proto}_R_lo": s["R_lo"], f"{proto}_R_hi": s["R_hi"],
                    f"{proto}_R_of_means": s["R_of_means"]}
        rows.append(row)
    return pd.DataFrame(rows)


def regression_frame(res: pd.DataFrame, high: float = 1.85) -> pd.DataFrame:
    """Per seed intervention and protocol: corr(p_post, p_base), mean R over all sessions and
    over those with p_base >= ``high`` (regression to the mean under the seed's protocol)."""
    main = res[res["population"] == "main"]
    rows = []
    for label in main.loc[main["protocol"] == "seed", "label"].unique():
        for proto in ("seed", "correct"):
            g = main[(main["label"] == label) & (main["protocol"] == proto)]
            hi = g[g["p_base"] >= high]
            rows.append({"label": label, "protocol": proto,
                         "corr": np.corrcoef(g["p_post"], g["p_base"])[0, 1], "sessions": len(g),
                         "R": g["R"].mean(), "high": high, "sessions_high": len(hi),
                         "R_high": hi["R"].mean()})
    return pd.DataFrame(rows)


def full_frame(res: pd.DataFrame, p_nash: float) -> pd.DataFrame:
    """Every intervention and protocol of the main population: :func:`row_stats` per row."""
    main = res[res["population"] == "main"]
    rows = []
    for (label, proto), g in main.groupby(["label", "protocol"], sort=False):
        first = g.iloc[0]
        rows.append({"label": label, "protocol": proto,
                     "description": _describe(first["intervention"], first["sweep_value"]),
                     "intervention": first["intervention"], "k": first["sweep_value"],
                     "above_of_changed": _above_of_changed(g), **row_stats(g, p_nash)})
    return pd.DataFrame(rows)


def _above_of_changed(g: pd.DataFrame) -> float:
    """Of the sessions not back on their old level, the share that ended above it."""
    changed = np.abs(g["p_post"] - g["p_base"]) >= 1e-9
    return float((g["p_post"] > g["p_base"])[changed].mean()) if changed.any() else float("nan")


def _wide_by_k(frame: pd.DataFrame, values: list[str]) -> pd.DataFrame:
    """One row per k, the columns ``<intervention>_<value>`` side by side."""
    wide = frame.pivot(index="k", columns="intervention", values=values)
    wide.columns = [f"{name}_{value}" for value, name in wide.columns]
    return wide.reset_index()


def sweep_frame(full: pd.DataFrame) -> pd.DataFrame:
    """The duration sweeps (correct protocol) side by side by k: R, its CI, the unchanged share."""
    sweep = full[(full["protocol"] == "correct") & full["k"].notna()]
    return _wide_by_k(sweep, ["R", "R_lo", "R_hi", "unchanged", "above_of_changed", "periods"])


def transitory_frame(paths: pd.DataFrame, full: pd.DataFrame) -> pd.DataFrame:
    """Mean price over the 20 recorded periods before and the first 10 / 100 after (correct protocol)."""
    from marketsai.interventions.measures import combine_paths
    c = combine_paths(paths[(paths["population"] == "main") & (paths["protocol"] == "correct")], ["label"])
    rows = []
    for label, g in c.groupby("label", sort=False):
        before, after = g[g["phase"] == "before"], g[g["phase"] == "after"].sort_values("t")
        rows.append({"label": label, "before": before["price_mean"].mean(),
                     "after_10": after["price_mean"].iloc[:10].mean(), "after_100": after["price_mean"].mean()})
    frame = pd.DataFrame(rows).merge(full.loc[full["protocol"] == "correct", ["label", "intervention", "k"]])
    return _wide_by_k(frame[frame["k"].notna()], ["before", "after_10", "after_100"])


def grid_frame(res: pd.DataFrame, base: pd.DataFrame, p_nash: float) -> pd.DataFrame:
    """The (alpha, beta) grid: the cell's baseline Delta, its mean periods to convergence and R
    with its CI per intervention."""
    grid = res[res["population"] != "main"]
    rows = []
    for (a, b), g in grid.groupby(["alpha", "beta"], sort=True):
        bb = base[(base["population"] != "main") & (base["alpha"] == a) & (base["beta"] == b)]
        row = {"alpha": a, "beta": b, "sessions": len(bb), "delta": bb["delta"].mean(), "delta_sd": bb["delta"].std(),
               "periods_mean": bb["t"].mean()}
        for label, gl in g.groupby("label", sort=False):
            s = row_stats(gl, p_nash)
            row |= {f"{_slug(label)}_R": s["R"], f"{_slug(label)}_R_lo": s["R_lo"],
                    f"{_slug(label)}_R_hi": s["R_hi"]}
        rows.append(row)
    return pd.DataFrame(rows)


def results_frames(res, base, paths, p_nash) -> dict[str, pd.DataFrame]:
    """The tables docs/interventions.md quotes, by file name (``results/<name>.csv``)."""
    full = full_frame(res, p_nash)
    return {"baseline": baseline_frame(base), "seed_table": seed_frame(res, p_nash),
            "regression": regression_frame(res), "interventions": full, "sweep": sweep_frame(full),
            "transitory": transitory_frame(paths, full), "grid": grid_frame(res, base, p_nash)}


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    """Floats to 4 significant digits for the printed tables (the CSVs keep every digit)."""
    return frame.apply(lambda c: c.map(lambda v: f"{v:.4g}") if c.dtype.kind == "f" else c)


def write_results(frames: dict[str, pd.DataFrame], folder: Path, run: Path, seed, command: str) -> None:
    """Each table as ``folder/<name>.csv`` (its first line the command) with its sidecar."""
    from marketsai.runner.provenance import write_table
    for name, frame in frames.items():
        write_table(frame, folder / f"{name}.csv", command=command, seed=seed, runs=[run])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--figures", type=Path, default=None, help="copy figures here")
    ap.add_argument("--tables", type=Path, default=None, help="write the markdown tables here")
    ap.add_argument("--results", type=Path, default=None,
                    help="write the committed result CSVs here (experiments/interventions/results)")
    args = ap.parse_args(argv)
    res = pd.read_parquet(args.run / "results.parquet")
    base = pd.read_parquet(args.run / "baselines.parquet")
    paths = pd.read_parquet(args.run / "paths.parquet")
    summary = json.loads((args.run / "summary.json").read_text())
    pn = summary["p_nash"]
    frames = results_frames(res, base, paths, pn)
    text = "\n".join(f"## {name}\n\n{markdown_table(_shown(frame))}\n" for name, frame in frames.items())
    print(text)
    if args.tables:
        args.tables.write_text(text)
    if args.results:
        command = shlex.join(["python", "experiments/interventions/make_figures.py",
                              *(sys.argv[1:] if argv is None else argv)])
        seed = yaml.safe_load((args.run / "config.yaml").read_text()).get("seed")
        write_results(frames, args.results, args.run, seed, command)
    if args.figures:
        args.figures.mkdir(parents=True, exist_ok=True)
        table = intervention_table(res, pn, n_boot=summary.get("bootstrap", 2000)
                                   if isinstance(summary.get("bootstrap"), int) else 2000)
        figs = figures.study_figures({"results": res, "paths": paths, "baselines": base},
                                     {**summary, "interventions": table.to_dict("records")})
        for name, fig in figs.items():
            fig.savefig(args.figures / f"{name}.png", dpi=110)
        for extra in sorted((args.run / "figures").glob("*.png")):
            if not (args.figures / extra.name).exists():
                shutil.copy(extra, args.figures / extra.name)


if __name__ == "__main__":
    main()
