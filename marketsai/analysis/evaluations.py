"""Evaluations: registered measures of a policy in an economy.

Why a registry: a tabular Q-table, a PPO network and a closed-form rule are all
:class:`~marketsai.policies.Policy` objects, so one evaluation reads any of them and a
tabular run and a deep run of the same economy give the same columns. Adding a measure
is a registered class, as for markets; third-party evaluations are reachable by import
path (``mypkg.evals:MyEvaluation``) or the entry-point group ``marketsai.evaluations``.

Contract
--------
An :class:`Evaluation` declares its ``settings`` with :class:`~marketsai.params.Param`
(every default visible, unknown keys refused) and implements

* ``evaluate(economy, policy, settings, seed) -> {table name: DataFrame}``: at least a
  ``results`` table (one row per episode or per policy), whose columns the class
  documents in ``columns``;
* ``summarise(tables, settings) -> dict``: JSON-ready numbers, read from the tables only;
* ``figures(tables, economy, settings) -> {name: Figure}``: drawn from the tables only,
  so any figure can be remade from a run folder.

Every evaluation also takes ``untrained`` (:data:`COMMON`): the evaluation is run a
second time on the policy the learner would have started from (:func:`initial_policy`),
the scale against which a trained policy is read; its tables come back as
``<name>_untrained`` and its summary under ``untrained``.

Examples
--------
>>> sorted(evaluations.names())
['best_response', 'calvano', 'growth', 'klein', 'krusell_smith', 'market', 'sectors']
>>> evaluations.get("calvano").settings["episodes"].default
100
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# the entries register themselves on import
from marketsai.analysis import (  # noqa: F401
    best_response_check,
    calvano,
    growth_policy,
    klein,
    krusell_smith,
    market,
    sector_accuracy,
)
from marketsai.analysis.evaluation import COMMON, Evaluation, evaluations
from marketsai.errors import SpecError
from marketsai.policies import Policy

__all__ = ["COMMON", "Evaluated", "Evaluation", "evaluations", "initial_policy", "run_evaluation"]


@dataclass
class Evaluated:
    """What :func:`run_evaluation` gives back: tables, summary and figures."""

    tables: dict[str, pd.DataFrame]
    summary: dict
    figures: dict = field(default_factory=dict)
    #: names of the tables that depend on the economy only (``Evaluation.economy_tables``)
    economy_tables: tuple[str, ...] = ()


def initial_policy(policy: Policy, economy, seed: int = 0, learner=None, learner_settings=None) -> Policy:
    """The policy a learner starts from, for the ``untrained`` baseline.

    Asked, in order, of the policy (``policy.initial_policy(economy, seed)``) and of the
    learner (``learner.initial_policy(economy, learner_settings, seed)``); a learner that
    offers neither has no untrained baseline, which is a :class:`SpecError`.
    """
    make = getattr(policy, "initial_policy", None)
    if callable(make):
        return make(economy, seed)
    make = getattr(learner, "initial_policy", None)
    if callable(make):
        return make(economy, learner_settings or {}, seed)
    raise SpecError("this policy's learner does not say what it starts from (no initial_policy)",
                    path="evaluate.untrained", value=True, allowed="false for this learner")


def run_evaluation(name: str, economy, policy: Policy, settings: dict | None = None, seed: int = 0, *,
                   learner=None, learner_settings=None, figures: bool = False,
                   path: str = "evaluate") -> Evaluated:
    """Run the registered evaluation ``name`` on ``policy`` (and, with ``untrained``, on
    the learner's starting policy); tables, summary and, with ``figures``, figures.

    >>> from marketsai.economy import load_economy
    >>> from marketsai.policies import ConstantPolicy
    >>> econ = load_economy("economies/bertrand_duopoly.yaml")
    >>> out = run_evaluation("calvano", econ, ConstantPolicy({"firm_0": 7, "firm_1": 7}),
    ...                      {"episodes": 2, "impulse_response": []})
    >>> out.tables["results"]["cycle_length"].tolist()
    [1, 1]
    """
    ev = evaluations.get(name, path=path)()
    settings = ev.resolve(settings, path)
    ev.check(economy)
    start = initial_policy(policy, economy, seed, learner, learner_settings) if settings["untrained"] else None
    fixed = ev.economy_tables(economy, settings)
    tables = ev.evaluate(economy, policy, settings, seed) | fixed
    summary = ev.summarise(tables, settings)
    figs = ev.figures(tables, economy, settings) if figures else {}
    if start is not None:
        base = ev.evaluate(economy, start, settings, seed)
        summary["untrained"] = ev.summarise(base | fixed, settings)
        tables |= {f"{key}_untrained": frame for key, frame in base.items()}
    return Evaluated(tables, summary, figs, tuple(fixed))
