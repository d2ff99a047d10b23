"""The growth study's tuning table (docs/growth.md) from the tuning runs' folders.

Why a script: the page's tuning table was typed in and its runs' folders were not kept;
the tuning is now two experiment files (``tuning_brock_mirman.yaml``,
``tuning_rbc_grid.yaml``: a cases axis ``setting`` sets the learner keys of each row), and
this reads their finished run folders (:func:`marketsai.run_folder.load_run`; nothing is
learned again) and writes one row per setting: the learner settings, how many sessions
converged, the periods (median, min, max) and the median measures over the sessions, the cell's wall
time, and whether the row's learner is the one the study's file (``brock_mirman.yaml`` /
``rbc_grid.yaml``) uses.

Usage::

    marketsai run experiments/growth/tuning_brock_mirman.yaml --out runs/growth/tuning_brock_mirman
    marketsai run experiments/growth/tuning_rbc_grid.yaml --out runs/growth/tuning_rbc_grid
    python experiments/growth/tuning_table.py [RUN ...]   # default: the two folders above

writes ``results/tuning.csv`` and its ``.source.json``.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pandas as pd
import yaml

from marketsai.run_folder import load_run
from marketsai.runner.provenance import write_table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
from report import cell_seconds  # noqa: E402  experiments/report.py

OUT = HERE / "results" / "tuning.csv"
RUNS = [ROOT / "runs" / "growth" / "tuning_brock_mirman", ROOT / "runs" / "growth" / "tuning_rbc_grid"]
#: the study's file of each economy (its learner is the tuning's outcome)
STUDY = {"brock_mirman": HERE / "brock_mirman.yaml", "rbc_grid": HERE / "rbc_grid.yaml"}
SETTINGS = ("alpha", "beta", "q0", "stable_periods", "max_periods")
MEASURES = ("policy_err_mean", "policy_err_max", "euler_mean", "euler_ergodic_mean", "welfare_loss_pct",
            "dp_agreement")


def learner_of(config: dict, case: dict) -> dict:
    """The learner settings a case runs with: the file's learner with the case's keys set."""
    learner = dict(config["learner"])
    learner.update({key.removeprefix("learner."): v for key, v in case.items() if key.startswith("learner.")})
    return {k: learner[k] for k in SETTINGS}


def rows(folder: Path) -> list[dict]:
    """One row per case of a tuning run: its settings, convergence and median measures."""
    run = load_run(folder)
    economy = run.config["economy"]["name"]
    cases = run.config["sweep"]["setting"]["cases"]
    study = yaml.safe_load(STUDY[economy].read_text())["learner"]
    seconds = cell_seconds(folder)
    out = []
    for setting, r in run.results.groupby("setting", sort=False):
        learner = learner_of(run.config, cases[setting])
        out.append({"economy": economy, "setting": setting, **learner,
                    "study_learner": "yes" if all(learner[k] == study[k] for k in ("alpha", "beta", "q0")) else "no",
                    "sessions": len(r), "converged": int(r["converged"].sum()),
                    "periods_median": float(r["periods"].median()), "periods_min": float(r["periods"].min()),
                    "periods_max": float(r["periods"].max()),
                    **{m: float(r[m].median()) for m in MEASURES},
                    "wall_s": sum(seconds.get(c, 0.0) for c in r["cell"].unique())})
    return out


def main(folders) -> None:
    table = pd.DataFrame([row for folder in folders for row in rows(Path(folder))])
    seeds = sorted({load_run(f).config["seed"] for f in folders})
    write_table(table, OUT, command=shlex.join(["python", "experiments/growth/tuning_table.py", *sys.argv[1:]]),
                seed=seeds[0] if len(seeds) == 1 else seeds, runs=[str(f) for f in folders],
                notes=("medians over each setting's sessions; study_learner: alpha, beta and q0 are "
                       "those of the study's file",))
    print(table.to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1:] or RUNS)
