"""Experiment files -> run folders: validation, chunks, resume, sweeps, Ray.

Public API::

    import marketsai as mai
    run = mai.run_experiment("experiments/calvano2020/baseline.yaml",
                             out="runs/baseline", overrides={"sessions": 200})
    report(run)                 # redraw summary.json and figures/ from the tables
    print(summary_text(run))    # the summary beside published values

Modules: :mod:`~.schema` (nested schemas, YAML, dotted keys), :mod:`~.kinds` (the
experiment-kind interface and registry), :mod:`~.config` (files -> resolved
experiments, sweeps), :mod:`~.store` (run folder, atomic chunks), :mod:`~.execute`
(local / Ray execution, progress), :mod:`~.run` (``run_experiment``, ``report``) and
:mod:`~.tabular` (the ``tabular`` kind); the ``interventions`` kind is in
:mod:`marketsai.interventions`, the ``rllib`` kind in :mod:`marketsai.rl.train`. See
docs/experiments.md.
"""

from marketsai.runner.config import Experiment, load_experiment, sweep_values
from marketsai.runner.kinds import (
    ExperimentKind,
    Unit,
    UnitContext,
    experiment_kinds,
    get_kind,
)
from marketsai.runner.run import report, run_experiment, summary_text
from marketsai.runner.store import RunFolder

__all__ = ["Experiment", "ExperimentKind", "RunFolder", "Unit",
           "experiment_kinds", "get_kind", "load_experiment", "report", "run_experiment",
           "UnitContext", "summary_text", "sweep_values"]
