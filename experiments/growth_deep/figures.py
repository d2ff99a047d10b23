"""Figures of the deep growth learners from their run folders (docs/growth.md, "Deep learners").

Why: the ablation table says how far each learned savings rule is off over the ergodic
set, not where; these figures show it along ``k`` for the lowest, middle and highest TFP
state, seed by seed, and how each seed's training went. Nothing is trained: each run
folder's final checkpoint is read (:func:`marketsai.rl.export.load_module`), the rule is
read through the economy (:func:`marketsai.analysis.growth_policy.policy_savings`) and
scored by the ``growth`` evaluation's own code
(:func:`marketsai.analysis.growth_figures.growth_curves`: ``k'`` and log10 Euler errors on
40 points of the reference's ergodic range of ``k``, times every TFP state). Where the
folder kept the evaluation's ``growth_curves`` table, the script checks that the
checkpoint reproduces it and stops if it does not.

Per economy (``<econ>`` the economy's name in the run's config) it writes into ``--out``:

* ``growth_deep_share_<econ>.png`` -- the savings share ``k'/y`` against the reference's
  (alpha beta for Brock--Mirman, EGM otherwise), with a +-1 % band (Brock--Mirman's goal);
* ``growth_deep_euler_<econ>.png`` -- log10 Euler errors along ``k`` (a dip is where the
  error changes sign);
* ``growth_deep_learning_<econ>.png`` -- per seed, from the trial's ``progress.csv``: the
  mean episode return and the policy's standard deviation in share units (from the logged
  entropy of the diagonal Gaussian: the geometric mean over the batch's states) against
  planner-periods.

Usage (a run folder, optionally ``LABEL=`` before it; the label defaults to the
experiment's name)::

    python experiments/growth_deep/figures.py ppo_stacked=runs/ppo_stacked ppo_crn=runs/ppo_crn \\
        ppo_crn=runs/ppo_crn_seed1 ... rbc_ppo_crn=runs/rbc_ppo_crn [--out docs/figures]
"""

from __future__ import annotations

import argparse
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
#: the TFP states drawn (indices into the chain: lowest, middle, highest)
PANELS = ("lowest TFP", "middle TFP", "highest TFP")
#: the goal of issue 22 for Brock--Mirman: share within 1 % of the reference
GOAL = 0.01
DPI = 100


@dataclass
class Run:
    """One run folder read for the figures."""

    label: str
    seed: int
    economy: str
    curves: pd.DataFrame  # growth_curves plus ``share`` and ``share_exact``
    progress: pd.DataFrame  # periods, return, std


def parse_target(text: str) -> tuple[str | None, Path]:
    label, sep, folder = text.partition("=")
    return (label, Path(folder)) if sep else (None, Path(text))


def checkpoint_of(folder: Path, relative: str) -> Path:
    """The results table's checkpoint path, relative to the folder or to one of its units."""
    found = [p for p in (folder / relative, *folder.glob(f"units/*/{relative}")) if p.is_dir()]
    if not found:
        raise SystemExit(f"{folder}: checkpoint {relative!r} not found in the folder or its units/")
    return found[0]


def progress_of(folder: Path, periods_per_step: float, share_half_width: float) -> pd.DataFrame:
    """The trial's learning curve: planner-periods, mean episode return, policy std (share units)."""
    files = sorted(folder.glob("units/*/*/tune/*/progress.csv"))
    if len(files) != 1:
        raise SystemExit(f"{folder}: expected one trial progress.csv under units/, found {len(files)}")
    p = pd.read_csv(files[0])
    # entropy of a 1-d Gaussian on RLlib's normalised scale: log std + log(2 pi e) / 2
    log_std = p["learners/default_policy/entropy"] - 0.5 * math.log(2 * math.pi * math.e)
    return pd.DataFrame({"periods": p["num_env_steps_sampled_lifetime"] * periods_per_step,
                         "time_s": p["time_total_s"], "return": p["env_runners/episode_return_mean"],
                         "std": np.exp(log_std) * share_half_width})


def read_run(label: str | None, folder: Path) -> Run:
    import marketsai as mai
    from marketsai.analysis.growth import growth_model_of, reference_savings
    from marketsai.analysis.growth_figures import ergodic_range, growth_curves
    from marketsai.analysis.growth_policy import policy_savings
    from marketsai.rl.export import load_module
    from marketsai.rl.policy import module_actor
    from marketsai.run_folder import load_run

    run = load_run(folder)
    cfg, res = run.config, run.results
    econ = mai.Economy.from_dict(cfg["economy"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        act = module_actor(load_module(checkpoint_of(folder, res["checkpoint"].iloc[0])))
    model = growth_model_of(econ)
    ref, _ = reference_savings(model)
    curves = growth_curves(model, policy_savings(econ, act), ref, ergodic_range(model, ref))
    stored = run.tables.get("growth_curves")
    if stored is not None:
        worst = float(np.abs(stored["kp"].to_numpy() / curves["kp"].to_numpy() - 1).max())
        if worst > 1e-9:
            raise SystemExit(f"{folder}: the checkpoint's rule differs from the run's growth_curves by {worst:.2e}")
        print(f"{folder}: reproduces the run's growth_curves (largest relative difference in k' {worst:.1e})")
    y = model.cash_on_hand(curves["k"].to_numpy(), curves["z"].to_numpy())
    curves = curves.assign(share=curves["kp"] / y, share_exact=curves["kp_exact"] / y)
    dec = econ.decisions[0]
    per_step = float(res["agent_steps"].iloc[0] / res["env_steps"].iloc[0])
    return Run(label or cfg["name"], int(res["seed"].iloc[0]), econ.spec.name, curves,
               progress_of(folder, per_step, (dec.high - dec.low) / 2))


def _styles(runs: list[Run]) -> list[dict]:
    """A colour per run, a line style per label."""
    labels = list(dict.fromkeys(r.label for r in runs))
    return [{"color": f"C{i % 10}", "ls": ("-", "--", ":", "-.")[labels.index(r.label) % 4],
             "label": f"{r.label}, seed {r.seed}"} for i, r in enumerate(runs)]


def _panels(runs: list[Run], column: str, exact: str | None, ylabel: str, title: str, band: bool):
    from matplotlib.figure import Figure

    states = sorted(runs[0].curves["iz"].unique())
    panels = [states[0], states[len(states) // 2], states[-1]]
    fig = Figure(figsize=(12, 3.8))
    axes = fig.subplots(1, 3, sharey=True)
    for ax, iz, name in zip(axes, panels, PANELS, strict=True):
        for run, style in zip(runs, _styles(runs), strict=True):
            g = run.curves[run.curves["iz"] == iz]
            ax.plot(g["k"], g[column], lw=1.3, **style)
        g = runs[0].curves[runs[0].curves["iz"] == iz]
        if exact is not None:
            ax.plot(g["k"], g[exact], color="k", lw=1.5, ls="--", label="exact")
        if band:
            ax.fill_between(g["k"], g[exact] * (1 - GOAL), g[exact] * (1 + GOAL), color="0.85",
                            label="exact +-1 %")
        ax.set_title(f"{name} (z = {g['z'].iloc[0]:.3f})")
        ax.set_xlabel("capital k (the reference's ergodic range)")
    axes[0].set_ylabel(ylabel)
    axes[-1].legend(fontsize=7, loc="best")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _learning(runs: list[Run], title: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.8))
    left, right = fig.subplots(1, 2)
    for run, style in zip(runs, _styles(runs), strict=True):
        p = run.progress
        left.plot(p["periods"] / 1e6, p["return"], lw=1.2, **style)
        right.plot(p["periods"] / 1e6, p["std"], lw=1.2, **style)
    late = pd.concat([r.progress["return"].iloc[len(r.progress) // 10:] for r in runs])
    pad = 0.1 * (late.max() - late.min()) + 1e-9
    left.set_ylim(late.min() - pad, late.max() + pad)  # the first iterations' returns are far below
    left.set_ylabel("mean episode return (200 periods)")
    right.set_yscale("log")
    right.set_ylabel("policy std, share units (from the entropy)")
    for ax in (left, right):
        ax.set_xlabel("planner-periods sampled (M)")
    right.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def draw(runs: list[Run], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for econ in dict.fromkeys(r.economy for r in runs):
        group = [r for r in runs if r.economy == econ]
        figures = {
            "share": _panels(group, "share", "share_exact", "savings share k'/y",
                             f"{econ}: learned savings share against the exact one", band=True),
            "euler": _panels(group, "euler", None, "log10 Euler error",
                             f"{econ}: log10 Euler errors of the learned rules", band=False),
            "learning": _learning(group, f"{econ}: training, by seed"),
        }
        for name, fig in figures.items():
            path = out / f"growth_deep_{name}_{econ}.png"
            fig.savefig(path, dpi=DPI)
            written.append(path)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="run folders, each optionally LABEL=FOLDER")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "figures")
    args = ap.parse_args(argv)
    runs = [read_run(*parse_target(t)) for t in args.runs]
    for path in draw(runs, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
