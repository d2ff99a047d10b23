"""The dimension study's table and figure (docs/dimension.md), read from its run folders.

Why a script: the study is ``kind: learn`` files (``tabular.yaml``, ``ppo.yaml``,
``sac.yaml`` here, and ``ppo_stacked.yaml``, PPO on the stacked population; each sweeping ``d`` by cases), and its table puts their rows side by side
with the grid's DP floor (the tabular run's ``floor_*`` columns) and marks where tabulation
is refused. This only reads the finished run folders (:func:`marketsai.run_folder.load_run`)
-- nothing is trained or scored -- except the refusal, which is what the runner says when
asked to validate the tabular file with one more stock (nothing is tabulated: the size is
refused first). A missing run folder is skipped; with ``--study`` its method keeps the rows of
the committed ``study_runs.csv`` (each method's runs are hours, made on different days).

With ``--study`` it reads the seeded study instead (``study_{tabular,ppo,sac,dqn}.yaml``:
three seeds per ``d``, per-run time stops) and writes one row per run and seed
(``RESULTS/study_runs.csv``) and the seeds' summary per method and ``d`` (``study.{csv,md,png}``:
mean, smallest and largest mean share error, seeds within the 1 % goal, wall time), with the
runner's refusals: tabular one stock past its largest ``d``, DQN at ``d = 2``.

Usage::

    python experiments/dimension/make_report.py [--runs runs] [--results experiments/dimension/results] [--study]

reads ``RUNS/dimension_{tabular,ppo,sac,ppo_stacked}`` and writes ``RESULTS/dimension.{csv,md,png}``
(``--study``: ``RUNS/dimension_study_{tabular,ppo,sac,dqn}``, ``RESULTS/study*``).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from report import cell_seconds, write_table  # noqa: E402  experiments/report.py

from marketsai.analysis.sector_accuracy import KEYS  # noqa: E402
from marketsai.errors import SpecError  # noqa: E402
from marketsai.run_folder import load_run  # noqa: E402

RUNS = {"tabular": "dimension_tabular", "ppo": "dimension_ppo", "sac": "dimension_sac",
        "ppo_stacked": "dimension_ppo_stacked"}
#: the seeded study (``--study``)
STUDY_RUNS = {"tabular": "dimension_study_tabular", "ppo_crn": "dimension_study_ppo", "sac": "dimension_study_sac",
              "sac_batched": "dimension_study_sac_batched", "dqn": "dimension_study_dqn"}
LABELS = {"dp": "DP on the grid (floor)", "tabular": "tabular Q-learning", "ppo": "PPO", "sac": "SAC",
          "ppo_stacked": "PPO, stacked population",
          "ppo_crn": "PPO, stacked, common shocks + block baseline", "dqn": "DQN",
          "sac_batched": "SAC, seeds batched, expected targets + annealed rates"}
COLUMNS = ("method", "d", "seed", "status", "G", "table", "steps", "train_s", "wall_s", *KEYS, "note")
#: the study's goal: mean share error at most 1 %
GOAL = 0.01
STATE = "economy.agents[0].state"


def tabular_rows(run) -> list[dict]:
    """The DP floor's and Q-learning's rows of each ``d`` of the tabular run."""
    cases = run.config["sweep"]["d"]["cases"]
    settings = run.config["learner"]["settings"]
    seconds = unit_seconds(run.path)
    rows, floors = [], set()
    for r in run.results.to_dict("records"):
        case = cases[r["d"]]
        points = case[STATE]["k1"]["points"]
        beta = case.get("learner.settings.beta", settings["beta"])
        base = {"d": r["d"], "G": points, "table": f"{5 * points ** (2 * r['d']):,}"}
        if r["d"] not in floors:  # the floor does not depend on the learner's seed
            floors.add(r["d"])
            rows.append({**base, "method": "dp", "status": "ok", **{k: r[f"floor_{k}"] for k in KEYS},
                         "note": "value iteration"})
        rows.append({**base, "method": "tabular", "seed": r.get("seed"),
                     "status": "ok" if r["converged"] else "not converged",
                     "steps": r["periods"], "wall_s": seconds.get((r["cell"], r.get("seed")), seconds.get(r["cell"])),
                     **{k: r[k] for k in KEYS},
                     "note": f"{step_rule(settings)}, beta {beta:.3g}, eps at end "
                             f"{np.exp(-beta * r['periods']):.2g}; DP action in "
                             f"{100 * r['dp_agreement']:.0f}% of states"})
    return rows


def step_rule(settings) -> str:
    """The tabular learner's step and target, in words."""
    if settings.get("step_size", "constant") == "constant":
        rule = f"alpha {settings['alpha']}"
    else:
        rule = f"alpha_n = {settings['step_a']:g} / ({settings['step_b']:g} + n)^{settings['step_omega']:g}"
    return f"{rule}, {settings.get('target', 'sampled')} targets"


def chunk_seconds(folder) -> dict:
    """``{(cell, first seed, last seed): s}``: each chunk's ``done in`` seconds in the run's log
    (its last run's, when it was resumed)."""
    log = (Path(folder) / "log").read_text()
    return {(int(m.group(1)), int(m.group(2)), int(m.group(3))): float(m.group(4))
            for m in re.finditer(r"chunk c(\d+)\.s(\d+)-(\d+) done in ([0-9.]+)s", log)}


def unit_seconds(folder) -> dict:
    """Wall seconds of each run unit, ``{(cell, seed): s}`` (a chunk of several seeds: each
    seed gets the chunk's seconds over its seeds), and ``{cell: s}`` summed over the cell's
    chunks, from the run's log (:func:`cell_seconds` for the sums)."""
    out: dict = dict(cell_seconds(folder))
    for (cell, first, last), sec in chunk_seconds(folder).items():
        for seed in range(first, last + 1):
            out[(cell, seed)] = sec / (last - first + 1)
    return out


def refused_rows(run, methods=("dp", "tabular")) -> list[dict]:
    """The runner's answer to the run's file with one stock more than its largest ``d``
    (tabular: the table's memory; DQN: a second grid decision)."""
    from marketsai.runner import load_experiment

    cases = run.config["sweep"]["d"]["cases"]
    d = max(cases) + 1
    case = copy.deepcopy(cases[max(cases)])
    case["economy.agents[0].params.alphas"] = [0.36 / d] * d
    case[STATE] = {f"k{j + 1}": case[STATE]["k1"] for j in range(d)}
    raw = copy.deepcopy(run.config)
    raw["sweep"] = {"d": {"cases": {d: case}}}
    points = case[STATE]["k1"].get("points")
    try:
        load_experiment(raw)
    except SpecError as err:
        size = {} if points is None else {"G": points, "table": f"{5 * points ** (2 * d):,}"}
        note = (f"{d} stocks of {points} grid points: " if points else f"{d} stocks: ") + err.reason.replace("\n", " ")
        return [{"method": m, "d": d, "status": "refused", **size, "note": note} for m in methods]
    return []


def deep_rows(run, method: str) -> list[dict]:
    seconds = unit_seconds(run.path)
    # planner-periods: a stacked run's env steps are sub-environment steps of a block of sessions
    return [{"method": method, "d": r["d"], "seed": r.get("seed"), "status": "ok", "table": "",
             "steps": r["agent_steps"], "train_s": r["time_total_s"],
             "wall_s": seconds.get((r["cell"], r.get("seed")), seconds.get(r["cell"])), **{k: r[k] for k in KEYS},
             "note": f"{int(r['iterations'])} iterations"} for r in run.results.to_dict("records")]


def resumed_seconds(folder) -> dict:
    """``{(cell, seed): (train_s, wall_s)}`` of a seed-batched run whose units kept a training
    journal (``units/<chunk>/segments.json``), each seed a share of its unit's seconds:
    ``train_s`` every training segment's, ``wall_s`` those plus the last run's scoring (its
    ``done in`` seconds less its last segment). Why: a unit resumed after an interruption logs
    ``done in`` for its last run only, which would undercount its training."""
    import json

    out = {}
    for (cell, first, last), sec in chunk_seconds(folder).items():
        journal = Path(folder) / "units" / f"c{cell}.s{first}-{last}" / "segments.json"
        if not journal.is_file():
            continue
        segments = json.loads(journal.read_text())["segments"]
        train = sum(x["seconds"] for x in segments)
        wall = train + max(0.0, sec - segments[-1]["seconds"])
        for seed in range(first, last + 1):
            out[(cell, seed)] = (train / (last - first + 1), wall / (last - first + 1))
    return out


def batched_rows(run, method: str) -> list[dict]:
    """A seed-batched learner's rows (``sac_batched``): its planner-periods and updates; the
    training and wall seconds are its unit's over its seeds (every training segment's when
    the unit was resumed, :func:`resumed_seconds`)."""
    seconds, journals = unit_seconds(run.path), resumed_seconds(run.path)
    rows = []
    for r in run.results.to_dict("records"):
        train, wall = journals.get((r["cell"], r.get("seed")),
                                   (None, seconds.get((r["cell"], r.get("seed")), seconds.get(r["cell"]))))
        rows.append({"method": method, "d": r["d"], "seed": r.get("seed"), "status": "ok", "table": "",
                     "steps": r["periods"], "train_s": train, "wall_s": wall, **{k: r[k] for k in KEYS},
                     "note": f"{int(r['updates']):,} updates, seeds batched"})
    return rows


#: the methods whose rows a study run gives (its own, and the tabular run's DP floor too)
ROWS_OF = {"tabular": ("dp", "tabular")}


def committed_rows(path: Path, missing) -> pd.DataFrame:
    """The rows of ``path`` (a committed ``study_runs.csv``) given by the study runs in
    ``missing`` -- methods whose run folder is not here. Why: each method's runs take hours
    and are made on different machines and days; rereporting one method must not drop the
    others' measured rows."""
    if not path.is_file():
        return pd.DataFrame(columns=list(COLUMNS))
    methods = {m for run in missing for m in ROWS_OF.get(run, (run,))}
    old = pd.read_csv(path, dtype={"table": str, "note": str}, keep_default_na=False, na_values=[""])
    return old[old["method"].isin(methods)]


def table(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for c in COLUMNS:
        if c not in frame:
            frame[c] = None
    order = {m: i for i, m in enumerate(LABELS)}
    frame = frame.assign(_o=frame["method"].map(order)).sort_values(["_o", "d"], kind="stable")
    return frame.drop(columns="_o")[list(COLUMNS)].reset_index(drop=True)


#: how the markdown shows each number column
FORMATS = {**dict.fromkeys(("err_max", "err_mean", "box_err_max", "box_err_mean"), "{:.2%}"),
           **dict.fromkeys(("euler_mean", "euler_max", "box_euler_mean", "box_euler_max"), "{:.2f}"),
           "welfare_loss_pct": "{:.4f}", "steps": "{:,.0f}", "train_s": "{:.1f}", "wall_s": "{:.1f}", "G": "{:.0f}",
           "seed": "{:.0f}"}


def markdown(frame) -> str:
    from marketsai.analysis.tables import markdown_table

    md = frame.assign(method=[LABELS.get(m, m) for m in frame["method"]])
    for c, f in ((c, f) for c, f in FORMATS.items() if c in md):
        md[c] = ["" if v is None or v != v or not np.isfinite(float(v)) else f.format(float(v)) for v in md[c]]
    return markdown_table(md.astype(object).fillna(""))


def figure(frame):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(19, 4.6))
    axes = fig.subplots(1, 4)
    style = {"dp": ("k", "s", "--"), "tabular": ("C0", "o", "-"), "ppo": ("C1", "^", "-"), "sac": ("C2", "D", "-"),
             "ppo_stacked": ("C4", "v", "-")}
    panels = (("err_mean", "mean |k_j'/(beta alpha_j y) - 1| (ergodic set)", True),
              ("box_euler_mean", "log10 mean Euler error (box 0.8-1.2 k_ss)", False),
              ("wall_s", "wall time of a run's unit, s (learning + scoring)", True),
              ("steps", "periods simulated (tabular) / planner-periods (deep)", True))
    for ax, (col, title, logy) in zip(axes, panels, strict=True):
        for m, (color, marker, ls) in style.items():
            f = frame[(frame["method"] == m) & frame["status"].isin(["ok", "not converged"])]
            f = f[np.isfinite(f[col].astype(float))]
            if f.empty:
                continue
            ax.plot(f["d"], f[col].astype(float), color=color, marker=marker, ls=ls, label=LABELS[m])
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
    return fig


def seed_summary(frame) -> pd.DataFrame:
    """Per method and ``d``: the seeds' mean, smallest and largest mean share error, their
    mean largest error, Euler error and welfare loss, how many seeds are within :data:`GOAL`,
    and the mean steps and wall time; refused cells keep their note."""
    out = []
    for (method, d), f in frame.groupby(["method", "d"], sort=False):
        done = f[f["status"].isin(["ok", "not converged"])]
        err = done["err_mean"].astype(float)
        row = {"method": method, "d": d, "seeds": len(done), "status": ", ".join(sorted(set(f["status"])))}
        if len(done):
            row |= {"err_mean": err.mean(), "err_mean_min": err.min(), "err_mean_max": err.max(),
                    "within_goal": f"{int((err <= GOAL).sum())}/{len(done)}",
                    **{k: done[k].astype(float).mean() for k in ("err_max", "box_euler_mean", "welfare_loss_pct",
                                                                  "steps", "wall_s")}}
        else:
            row["note"] = f["note"].iloc[0]
        out.append(row)
    cols = ["method", "d", "seeds", "status", "err_mean", "err_mean_min", "err_mean_max", "within_goal",
            "err_max", "box_euler_mean", "welfare_loss_pct", "steps", "wall_s", "note"]
    return pd.DataFrame(out).reindex(columns=cols)


def summary_markdown(summary) -> str:
    from marketsai.analysis.tables import markdown_table

    fmt = {**dict.fromkeys(("err_mean", "err_mean_min", "err_mean_max", "err_max"), "{:.2%}"),
           "box_euler_mean": "{:.2f}", "welfare_loss_pct": "{:.4f}", "steps": "{:,.0f}", "wall_s": "{:.0f}"}
    md = summary.assign(method=[LABELS.get(m, m) for m in summary["method"]])
    for c, f in fmt.items():
        md[c] = ["" if v is None or v != v else f.format(float(v)) for v in md[c]]
    md = md.rename(columns={"err_mean": "mean share err (seeds' mean)", "err_mean_min": "best seed",
                            "err_mean_max": "worst seed", "within_goal": "seeds <= 1 %",
                            "err_max": "max share err (mean)", "box_euler_mean": "Euler mean (box)",
                            "welfare_loss_pct": "welfare loss %", "wall_s": "wall s (mean)"})
    return markdown_table(md.astype(object).fillna(""))


def study_figure(frame, summary):
    """Mean share error (seeds' mean, bars from the best to the worst seed) and wall time against ``d``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.6))
    axes = fig.subplots(1, 2)
    for i, m in enumerate(summary["method"].unique()):
        f = summary[(summary["method"] == m) & (summary["seeds"] > 0)]
        if f.empty:
            continue
        err = f["err_mean"].astype(float)
        axes[0].errorbar(f["d"], err, yerr=[err - f["err_mean_min"].astype(float), f["err_mean_max"].astype(float) - err],
                         marker="o", capsize=3, color=f"C{i}", label=LABELS.get(m, m))
        axes[1].plot(f["d"], f["wall_s"].astype(float), marker="o", color=f"C{i}", label=LABELS.get(m, m))
    axes[0].axhline(GOAL, color="k", ls=":", lw=1)
    refused = summary[(summary["status"] == "refused") & (summary["method"] != "dp")]  # dp: as tabular
    for ax, title in zip(axes, ("mean |k_j'/(beta alpha_j y) - 1| (ergodic set); bars: best to worst seed",
                                "wall time of a run unit, s (learning + scoring)"), strict=True):
        for d, m in zip(refused["d"], refused["method"], strict=True):
            ax.axvline(d, color="C3", ls=":", lw=1)
            ax.text(d, 0.9, f" {LABELS.get(m, m)}\n refused", color="C3", fontsize=7,
                    transform=ax.get_xaxis_transform())
        ax.set_xticks(sorted(set(frame["d"].astype(int))))
        ax.set_yscale("log")
        ax.set_xlabel("d (number of capital stocks)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs", help="folder holding the study's run folders")
    parser.add_argument("--results", default=str(HERE / "results"), help="where dimension.* are written")
    parser.add_argument("--study", action="store_true", help="the seeded study: study_*.yaml's run folders")
    args = parser.parse_args(argv)
    rows, missing = [], []
    for method, name in (STUDY_RUNS if args.study else RUNS).items():
        folder = Path(args.runs) / name
        if not (folder / "summary.json").is_file():
            print(f"skipped: {folder} (no finished run)")
            missing.append(method)
            continue
        run = load_run(folder)
        if method == "tabular":
            rows += tabular_rows(run) + refused_rows(run)
        elif method == "sac_batched":
            rows += batched_rows(run, method)
        else:
            rows += deep_rows(run, method) + (refused_rows(run, ("dqn",)) if method == "dqn" else [])
    frame = table(rows)
    if not args.study:
        frame = frame.drop(columns="seed")  # one seed each: dimension.csv's columns
        md = markdown(frame)
        write_table(Path(args.results) / "dimension", frame, md, figure(frame))
        print(md)
        return frame
    kept = committed_rows(Path(args.results) / "study_runs.csv", missing)
    if len(kept):
        print(f"kept from the committed table: {', '.join(sorted(set(kept['method'])))}")
        frame = table(pd.concat([frame, kept], ignore_index=True).to_dict("records"))
    write_table(Path(args.results) / "study_runs", frame, markdown(frame))
    summary = seed_summary(frame)
    md = summary_markdown(summary)
    write_table(Path(args.results) / "study", summary, md, study_figure(frame, summary))
    print(md)
    return summary


if __name__ == "__main__":
    main()
