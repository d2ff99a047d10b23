"""The dimension study: tabular Q-learning, DP on the grid, PPO and SAC on the d-sector planner.

Every method is scored against the exact policy ``k_j' = beta alpha_j y`` by
:func:`marketsai.analysis.sector_accuracy.sector_report` (relative error of ``k_j'`` on the
exact policy's ergodic set and on a box of states, Euler errors, welfare loss), at
``alphas = [0.36 / d] * d`` so that aggregate dynamics are the same at every ``d``.

* ``tabular`` -- ``economies/sectors_2_grid.yaml`` with ``G`` points per stock (``--points``,
  default 5): the finite model is tabulated (``econ.finite_model()``; refused with a
  SpecError where the table exceeds ``marketsai.tabulate.TABLE_BUDGET``, and the refusal is
  a row of the results), value iteration on it gives the grid's floor (``dp``), and one
  session of tabular Q-learning (the numba engine, one thread) learns a greedy table with
  the settings of :data:`TABULAR`, its exploration scaled to the table (:func:`tabular_config`);
* ``ppo``, ``sac`` -- the ``kind: learn`` files ``experiments/dimension/{ppo,sac}.yaml`` run
  by the runner (:func:`marketsai.runner.run_experiment`, in this process; one seed, the same
  training time at every ``d``: ``--seconds``) on ``economies/sectors_2.yaml`` with ``d``
  shares in ``[0.035 / d, 0.95 / d]`` (:func:`share_overrides`), scored by their ``sectors``
  evaluation (the same ``sector_report``).

Resumable: each finished run leaves ``OUT/<method>_d<d>/row.json`` (and a run folder for
the deep learners) and is not run again; the tables and the figure are rewritten from all
rows every time, atomically. Usage::

    python experiments/dimension/run.py --out runs/dimension                       # everything
    python experiments/dimension/run.py --out runs/dimension --only tabular
    python experiments/dimension/run.py --out runs/dimension --only ppo --d 1 2 --seconds 30

Writes ``experiments/dimension/results/dimension.csv``, ``.md`` and ``.png`` (``--results``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GRID = ROOT / "economies" / "sectors_2_grid.yaml"
SHARES = ROOT / "economies" / "sectors_2.yaml"
S = 0.36  # sum of the capital shares, the same at every d

METHODS = ("tabular", "ppo", "sac")
DIMS = {"tabular": (1, 2, 3, 4, 5), "ppo": (1, 2, 3, 4, 6, 8), "sac": (1, 2)}
LABELS = {"dp": "DP on the grid (floor)", "tabular": "tabular Q-learning", "ppo": "PPO", "sac": "SAC"}

#: tabular Q-learning: constant step alpha, exp-decay exploration eps_t = exp(-beta t) with
#: beta = 1 / (visits * n_exo * G^(2d)) (about `visits` exploring visits per state-action
#: pair, whatever the table's size) unless that would not decay within the budget: then
#: beta = 5 / max_periods (as many visits as max_periods afford, eps 0.7% at the end).
#: Converged when greedy actions are unchanged for max(1e6, 0.5 / beta) periods; capped at
#: 5 / beta periods, but at least min_periods and at most max_periods.
TABULAR = {"alpha": 0.01, "q0": "zeros", "visits": 4000, "min_periods": 200_000_000,
           "max_periods": 1_200_000_000, "seed": 0}

COLUMNS = ("method", "d", "status", "G", "table", "steps", "train_s", "wall_s",
           "err_max", "err_mean", "box_err_max", "box_err_mean", "euler_mean", "euler_max",
           "box_euler_mean", "box_euler_max", "welfare_loss_pct", "note")


# ------------------------------------------------------------------ economies
def alphas(d: int) -> list[float]:
    return [S / d] * d


def grid_economy(d: int, points: int):
    import marketsai as mai
    from marketsai.yamlio import read_yaml

    data = read_yaml(GRID)
    agent = data["agents"][0]
    agent["params"]["alphas"] = alphas(d)
    agent["state"]["k"]["points"] = int(points)
    return mai.Economy.from_dict(data)


def share_bounds(d: int) -> tuple[float, float]:
    """``(low, high)`` of each share at ``d``: the optimum ``0.342 / d`` sits at the same point
    of the normalised action space at every ``d``; ``d * high = total = 0.95``."""
    return 0.035 / d, 0.95 / d


#: each stock's state block (that of economies/sectors_2.yaml's template ``k``)
STOCK = {"initial": "uniform", "low": 0.5, "high": 1.5, "scale": "steady_state"}


def share_overrides(d: int) -> dict:
    """Economy overrides for ``d`` sectors. The state block is set whole, one block per stock:
    the runner expands the file's template ``k`` into ``k1, k2`` *before* applying overrides,
    so changing ``alphas`` alone leaves a stale ``k2`` at ``d = 1`` (refused) and gives the
    stocks beyond the second the default block (``initial: 1.0``) at ``d >= 3``."""
    low, high = share_bounds(d)
    return {"economy.agents[0].params.alphas": alphas(d),
            "economy.agents[0].state": {f"k{j + 1}": dict(STOCK) for j in range(d)},
            "economy.agents[0].action.low": low, "economy.agents[0].action.high": high}


def share_economy(d: int):
    import marketsai as mai
    from marketsai.yamlio import read_yaml

    data = read_yaml(SHARES)
    agent = data["agents"][0]
    agent["params"]["alphas"] = alphas(d)
    agent["action"]["low"], agent["action"]["high"] = share_bounds(d)
    return mai.Economy.from_dict(data)


# ------------------------------------------------------------------ rows on disk
def _write_atomic(path: Path, text: str | bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(text if isinstance(text, bytes) else text.encode())
    os.replace(tmp, path)


def save_rows(folder: Path, rows: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomic(folder / "row.json", json.dumps(rows, indent=1, default=float))


def load_rows(folder: Path):
    f = folder / "row.json"
    return json.loads(f.read_text()) if f.is_file() else None


# ------------------------------------------------------------------ tabular
def tabular_config(fm):
    """The :data:`TABULAR` learner for a finite model (exploration scaled to its table)."""
    from marketsai.tabular import QLearningConfig

    pairs = fm.n_states * fm.n_joint
    beta = max(1.0 / (TABULAR["visits"] * pairs), 5.0 / TABULAR["max_periods"])
    return QLearningConfig(alpha=TABULAR["alpha"], beta=beta, q0=TABULAR["q0"],
                           stable_periods=int(max(1e6, 0.5 / beta)),
                           max_periods=int(min(max(5.0 / beta, TABULAR["min_periods"]), TABULAR["max_periods"])))


def run_tabular(d: int, points: int, out: Path) -> list[dict]:
    from marketsai.analysis.sector_accuracy import grid_policy, sector_report
    from marketsai.errors import SpecError
    from marketsai.solvers.dp import value_iteration
    from marketsai.solvers.sectors import sector_model
    from marketsai.tabular import advance, init_sessions

    folder = out / f"tabular_d{d}"
    done = load_rows(folder)
    if done is not None:
        return done
    base = {"d": d, "G": points, "table": f"{5 * points ** (2 * d):,}"}
    econ = grid_economy(d, points)
    started = time.time()
    try:
        fm = econ.finite_model()
    except SpecError as err:  # the table does not fit: the study's tabular boundary
        rows = [{**base, "method": m, "status": "refused", "note": str(err).replace("\n", " ")}
                for m in ("dp", "tabular")]
        save_rows(folder, rows)
        return rows
    tab_s = time.time() - started
    model = sector_model(econ)
    rows = []
    _warm_up()
    t0 = time.time()
    dp = value_iteration(fm)
    dp_s = time.time() - t0
    rows.append({**base, "method": "dp", "status": "ok", "steps": None, "train_s": dp_s,
                 "wall_s": tab_s + dp_s, **sector_report(model, grid_policy(fm, dp.policy)),
                 "note": f"value iteration; tabulation {tab_s:.1f} s"})
    cfg = tabular_config(fm)
    states = init_sessions(fm, cfg, seed=TABULAR["seed"], sessions=range(1), threads=1)
    t0 = time.time()
    advance(fm, cfg, states, threads=1)
    q_s = time.time() - t0
    greedy = states.strategy[0, 0]
    conv = bool(states.converged[0])
    agree = float(np.mean(greedy == np.asarray(dp.policy)))
    rows.append({**base, "method": "tabular", "status": "ok" if conv else "not converged",
                 "steps": int(states.t[0]), "train_s": q_s, "wall_s": tab_s + q_s,
                 **sector_report(model, grid_policy(fm, greedy)),
                 "note": f"alpha {cfg.alpha}, beta {cfg.beta:.3g}, eps at end "
                         f"{np.exp(-cfg.beta * float(states.t[0])):.2g}; DP action in {100 * agree:.0f}% of states"})
    save_rows(folder, rows)
    return rows


_WARM = []


def _warm_up():
    """Compile the numba kernels on a tiny model once, so that no timing includes it."""
    if _WARM:
        return
    from marketsai.solvers.dp import value_iteration
    from marketsai.tabular import QLearningConfig, advance, init_sessions

    fm = grid_economy(1, 3).finite_model()
    value_iteration(fm)
    cfg = QLearningConfig(alpha=0.1, beta=1e-3, q0="zeros", stable_periods=100, max_periods=10_000)
    advance(fm, cfg, init_sessions(fm, cfg, seed=0, sessions=range(1), threads=1), threads=1)
    _WARM.append(True)


# ------------------------------------------------------------------ deep learners
def run_deep(method: str, d: int, seconds: float, out: Path, extra: dict) -> list[dict]:
    import pandas as pd

    from marketsai.analysis.sector_accuracy import KEYS
    from marketsai.runner import run_experiment

    folder = out / f"{method}_d{d}"
    done = load_rows(folder)
    if done is not None:
        return done
    base = {"method": method, "d": d, "table": ""}
    started = time.time()
    try:  # the kind: learn file, trained and scored by the sectors evaluation in the runner
        run_experiment(HERE / f"{method}.yaml", out=folder, progress=False,
                       overrides={"learner.settings.stop.time_total_s": seconds, **share_overrides(d), **extra})
    except Exception as exc:  # a dimension that fails is a row of the table, not the end of the study
        rows = [{**base, "status": "error", "wall_s": time.time() - started, "note": str(exc).splitlines()[-1]}]
        save_rows(folder, rows)
        return rows
    t = pd.read_parquet(folder / "results.parquet").iloc[0]
    rows = [{**base, "status": "ok", "steps": int(t["env_steps"]), "train_s": float(t["time_total_s"]),
             "wall_s": time.time() - started, **{k: t[k] for k in KEYS},
             "note": f"{int(t['iterations'])} iterations"}]
    save_rows(folder, rows)
    return rows


# ------------------------------------------------------------------ tables and figure
def table(rows):
    import pandas as pd

    frame = pd.DataFrame(rows)
    for c in COLUMNS:
        if c not in frame:
            frame[c] = None
    order = {m: i for i, m in enumerate(("dp", "tabular", "ppo", "sac"))}
    frame = frame.assign(_o=frame["method"].map(order)).sort_values(["_o", "d"]).drop(columns="_o")
    return frame[list(COLUMNS)].reset_index(drop=True)


def markdown(frame) -> str:
    from marketsai.analysis.tables import markdown_table

    md = frame.copy()
    md["method"] = [LABELS.get(m, m) for m in md["method"]]

    def fmt(v, f):
        return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) or v != v else f(v)
    for c in ("err_max", "err_mean", "box_err_max", "box_err_mean"):
        md[c] = [fmt(v, lambda x: f"{100 * x:.2f}%") for v in md[c]]
    for c in ("euler_mean", "euler_max", "box_euler_mean", "box_euler_max"):
        md[c] = [fmt(v, lambda x: f"{x:.2f}") for v in md[c]]
    md["welfare_loss_pct"] = [fmt(v, lambda x: f"{x:.4f}") for v in md["welfare_loss_pct"]]
    md["steps"] = [fmt(v, lambda x: f"{int(x):,}") for v in md["steps"]]
    for c in ("train_s", "wall_s"):
        md[c] = [fmt(v, lambda x: f"{x:.1f}") for v in md[c]]
    md["G"] = [fmt(v, lambda x: str(int(x))) for v in md["G"]]
    md = md.fillna("")
    return markdown_table(md)


def figure(frame, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(19, 4.6))
    style = {"dp": ("k", "s", "--"), "tabular": ("C0", "o", "-"), "ppo": ("C1", "^", "-"), "sac": ("C2", "D", "-")}
    panels = (("err_mean", "mean |k_j'/(beta alpha_j y) - 1| (ergodic set)", True),
              ("box_euler_mean", "log10 mean Euler error (box 0.8-1.2 k_ss)", False),
              ("wall_s", "wall time, s (1 core; tabular: tabulation + learning)", True),
              ("steps", "periods simulated (tabular) / env steps (deep)", True))
    for ax, (col, title, logy) in zip(axes, panels, strict=True):
        for m, (color, marker, ls) in style.items():
            f = frame[(frame["method"] == m) & frame["status"].isin(["ok", "not converged"])]
            f = f[np.isfinite(f[col].astype(float))]
            if f.empty:
                continue
            y = f[col].astype(float).to_numpy()
            ax.plot(f["d"], y, color=color, marker=marker, ls=ls, label=LABELS[m])
            nc = f[f["status"] == "not converged"]
            if len(nc):
                ax.scatter(nc["d"], nc[col].astype(float), s=140, facecolors="none", edgecolors=color,
                           label=f"{LABELS[m]}: not converged")
        ref = frame[(frame["method"] == "tabular") & (frame["status"] == "refused")]
        for d, note in zip(ref["d"], ref["note"], strict=True):
            need = re.search(r"needs ([0-9.]+ \w+)", str(note))
            ax.axvline(d, color="C3", ls=":", lw=1.5)
            ax.text(d, 0.5, f" tabular: table\n refused\n ({need.group(1) if need else '?'}\n > 2 GiB)",
                    color="C3", transform=ax.get_xaxis_transform(), fontsize=8, va="center")
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel("d (number of capital stocks)")
        ax.set_title(title, fontsize=10)
        ax.set_xticks(sorted(set(frame["d"].astype(int))))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("d-sector growth planner: accuracy and time against the dimension (alphas = [0.36/d]*d)",
                 fontsize=11)
    fig.tight_layout()
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def write_results(rows, res: Path):
    res.mkdir(parents=True, exist_ok=True)
    frame = table(rows)
    _write_atomic(res / "dimension.csv", frame.to_csv(index=False))
    _write_atomic(res / "dimension.md", markdown(frame) + "\n")
    figure(frame, res / "dimension.png")
    return frame


def collect(out: Path):
    rows = []
    if out.is_dir():
        for f in sorted(out.glob("*_d*/row.json")):
            rows += json.loads(f.read_text())
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "runs" / "dimension"), help="run folders")
    parser.add_argument("--only", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--d", nargs="+", type=int, default=None, help="dimensions (default: each method's)")
    parser.add_argument("--points", type=int, default=5, help="grid points per stock (tabular)")
    parser.add_argument("--seconds", type=float, default=120.0, help="training time per deep run")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="override for the deep experiment files (learner.settings.lr=0.001)")
    parser.add_argument("--results", default=str(HERE / "results"))
    parser.add_argument("--report-only", action="store_true", help="only rewrite the tables and figure")
    args = parser.parse_args(argv)

    out = Path(args.out).resolve()
    extra = {k: yaml.safe_load(v) for k, _, v in (o.partition("=") for o in args.overrides)}
    if not args.report_only:
        for method in args.only:
            for d in (args.d or DIMS[method]):
                t0 = time.time()
                if method == "tabular":
                    run_tabular(d, args.points, out)
                else:
                    run_deep(method, d, args.seconds, out, extra)
                print(f"{method} d={d}: {time.time() - t0:.0f} s", flush=True)
                write_results(collect(out), Path(args.results))
    frame = write_results(collect(out), Path(args.results))
    print(markdown(frame))
    return frame


if __name__ == "__main__":
    main()
