"""Experiment files -> run folders (the names ``marketsai`` exports; the machinery lives in
:mod:`marketsai.runner`, one concept per module)."""

from marketsai.runner import (
    Experiment,
    ExperimentKind,
    RunFolder,
    Unit,
    experiment_kinds,
    load_experiment,
    report,
    run_experiment,
    summary_text,
)

__all__ = ["Experiment", "ExperimentKind", "RunFolder", "Unit", "experiment_kinds",
           "load_experiment", "report", "run_experiment", "summary_text"]
