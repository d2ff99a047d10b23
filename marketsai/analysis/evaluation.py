"""The evaluation contract and its registry (entries: :mod:`marketsai.analysis.evaluations`).

Why separate from the entries: each entry module subclasses :class:`Evaluation` and
registers itself in :data:`evaluations`; :mod:`marketsai.analysis.evaluations` imports
them all, so the import graph stays one-way (entries -> this module).
"""

from __future__ import annotations

import pandas as pd

from marketsai.params import Param, int_range, one_of, validate_mapping
from marketsai.policies import Policy
from marketsai.registry import Registry

#: settings every evaluation takes
COMMON = {"untrained": Param(False, one_of(True, False),
                             "also evaluate the policy the learner starts from (its untrained network)")}


def simulation_settings(periods: int, burn: int, lo: int = 10, hi: int = 10_000_000) -> dict[str, Param]:
    """``periods`` and ``burn`` of an evaluation that simulates a policy (the same two
    settings, with each evaluation's own defaults)."""
    return {"periods": Param(periods, int_range(lo, hi), "simulated periods kept (after the burn-in)"),
            "burn": Param(burn, int_range(0, hi), "periods simulated and dropped first")}


def column_means(results: pd.DataFrame, columns=None) -> dict[str, float]:
    """The mean of each numeric column of ``results`` (of ``columns`` where given), under
    its own name: the summary of an evaluation whose rows are seeds. A learner's own
    columns that are not numbers (a checkpoint path) are skipped."""
    frame = results if columns is None else results[list(columns)]
    return {c: float(v) for c, v in frame.select_dtypes("number").mean().items()}


class Evaluation:
    """Base class of evaluations (the contract: :mod:`marketsai.analysis.evaluations`)."""

    #: declared settings (besides :data:`COMMON`)
    settings: dict[str, Param] = {}
    #: the ``results`` table's columns -> what they mean (``<i>``: one per agent)
    columns: dict[str, str] = {}
    #: the results columns a learning curve of this evaluation draws (a learn run's
    #: ``curve:``); empty: its first four numeric columns
    headline: tuple[str, ...] = ()

    @classmethod
    def declared(cls) -> dict[str, Param]:
        """Every setting this evaluation takes (what ``marketsai validate`` shows)."""
        return {**COMMON, **cls.settings}

    @classmethod
    def resolve(cls, data: dict | None, path: str = "evaluate") -> dict:
        """Validated settings with every default filled in (unknown keys are errors)."""
        return validate_mapping(data, cls.declared(), path, "evaluation settings")

    def check(self, economy) -> None:
        """Raise :class:`~marketsai.errors.SpecError` when this evaluation cannot read ``economy``."""

    def evaluate(self, economy, policy: Policy, settings: dict, seed: int = 0) -> dict[str, pd.DataFrame]:
        raise NotImplementedError

    def economy_tables(self, economy, settings: dict) -> dict[str, pd.DataFrame]:
        """Tables that depend on the economy only, not on the policy (the calvano
        evaluation's per-firm ``benchmarks``): made once per run, and passed to
        ``summarise`` and ``figures`` next to ``evaluate``'s tables."""
        return {}

    def summarise(self, tables: dict[str, pd.DataFrame], settings: dict) -> dict:
        return {"rows": int(len(tables["results"]))}

    def figures(self, tables: dict[str, pd.DataFrame], economy, settings: dict) -> dict:
        return {}


evaluations: Registry[Evaluation] = Registry("evaluations", Evaluation)
